#!/usr/bin/env bash
# What `make test` and `make demo` need from the machine, checked in the first seconds, before any build.
# As root with apt-get (a CI runner, a fresh container), missing system packages are installed; otherwise each
# missing one is named on one line with its install command, and the run stops.
#
# Usage: infra/prerequisites.sh test|demo
set -uo pipefail
purpose=${1:-test}
missing=()   # "what: how to install it"
packages=()  # Debian packages root can install

need_package() { # command, package, what it is for
    command -v "$1" >/dev/null 2>&1 && return
    missing+=("$1 ($3): apt-get install $2")
    packages+=("$2")
}

need_package make make "the build"
need_package cc gcc "a C compiler for aws-lc and ring"
if ! command -v python3 >/dev/null 2>&1; then
    missing+=("python3 >= 3.11 with venv (MiniStack, cargo-lambda, SAM CLI run in venvs): apt-get install python3 python3-venv")
    packages+=(python3 python3-venv)
elif ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    missing+=("python3 >= 3.11 (have $(python3 -V 2>&1)): install a newer Python, or put one first on PATH")
elif ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    missing+=("python3 venv (the venvs under .local/): apt-get install python3-venv")
    packages+=(python3-venv)
fi
if [ "$purpose" = test ]; then
    # Debian's package; on Ubuntu it is chromium-browser (a snap).
    need_package chromium chromium "the burst report's render check"
fi

# Rust comes from rustup, never apt: the AWS SDKs need a newer rustc than distributions ship.
rust_problem=""
if ! command -v cargo >/dev/null 2>&1; then
    rust_problem="Rust (cargo): install rustup from the Rust project's site, then: rustup toolchain install stable"
elif ! rustc --version | awk '{split($2, v, "."); exit !(v[1] > 1 || (v[1] == 1 && (v[2] > 94 || (v[2] == 94 && v[3] >= 1))))}'; then
    rust_problem="Rust >= 1.94.1 (have $(rustc --version | cut -d' ' -f2)): rustup update stable"
fi

if [ ${#packages[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
    && [ -z "${PREREQUISITES_INSTALLED:-}" ]; then
    echo "Installing ${packages[*]} (apt-get, as root)…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
    # Check again from the start: what the packages brought, and what they did not.
    PREREQUISITES_INSTALLED=1 exec bash "$0" "$purpose"
fi
[ -n "$rust_problem" ] && missing+=("$rust_problem")
if [ ${#missing[@]} -gt 0 ]; then
    echo "make $purpose needs, before anything is built:" >&2
    printf '  missing %s\n' "${missing[@]}" >&2
    exit 2
fi
# clippy and rustfmt come with rustup's default profile; a minimal profile lacks them.
if ! { cargo clippy --version && cargo fmt --version; } >/dev/null 2>&1; then
    rustup component add clippy rustfmt || {
        echo "make $purpose needs clippy and rustfmt: rustup component add clippy rustfmt" >&2
        exit 2
    }
fi
