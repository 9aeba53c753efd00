# ePRO burst intake. `make demo` runs a burst on a local AWS; `make test` runs every check. Both install what they need.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
LOCAL := .local
AWS_VENV := $(LOCAL)/aws
TOOLS_VENV := $(LOCAL)/tools
CONTRACT_VENV := $(LOCAL)/contract
FHIR_VENV := $(LOCAL)/fhir
SCAN_VENV := $(LOCAL)/scan
PEER := tests/python-peer
PEER_BUILD := $(LOCAL)/python-peer
PEER_VENV := $(LOCAL)/peer
LOCAL_STACK := $(AWS_VENV)/bin/python infra/local_stack.py

LOCAL_AWS_PORT ?= 4566
# What talks to the local AWS gets its root credentials, whatever the shell holds: a real key never reaches the
# emulator, and nothing meant for the emulator can reach AWS. (Only `make redrive/flags STACK=…` use your own.)
LOCAL_ENV = env -u AWS_PROFILE -u AWS_SESSION_TOKEN AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export SAM_CLI_TELEMETRY := 0
export PATH := $(CURDIR)/$(TOOLS_VENV)/bin:$(PATH)

FUNCTION_PACKAGES := --package submit --package process --package catalogue --package notify --package escalate --package alerts \
	--package timeline --package calendar --package reminders --package token
HOST_ARCH_NAME := $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x86-64)
HOST_ARCH := --$(HOST_ARCH_NAME)
SAM_ARCH := $(if $(filter arm64,$(HOST_ARCH_NAME)),arm64,x86_64)
E2E_ENV = $(LOCAL_ENV) AWS_ENDPOINT_URL=$${AWS_ENDPOINT_URL:-http://127.0.0.1:$(LOCAL_AWS_PORT)} STACK_OUTPUTS=$(CURDIR)/$(LOCAL)/stack-outputs.json

# `build` compiles everything in one cargo invocation first, so both cores link binaries side by side; `sam build`,
# one `cargo lambda build --bin` per function, then finds them built (it resolves the same features, see
# Cargo.toml's default-members) and packages what it would have built.
# Named apart from the functions: they share target/lambda, where two binaries of one name would overwrite each other
# (the timeline function and the tool that replays timelines). Built with `--bin` from the workspace root, as SAM
# builds each function, so both resolve the workspace's default members' features and share compiled dependencies.
OPS_TOOLS := flags export redrive replay-timeline capacity migrate
ARCHS ?= x86-64 arm64

.PHONY: help setup build deploy ops-tools stack-running check lint unit template-check fhir-check local-up local-down watch e2e contract test demo bench faults flags export timeline capacity redrive migrate report-check clean

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

$(AWS_VENV)/.installed: infra/requirements-local-aws.txt
	$(PYTHON) -m venv $(AWS_VENV)
	$(AWS_VENV)/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

$(CONTRACT_VENV)/.installed: tests/contract/requirements.txt
	$(PYTHON) -m venv $(CONTRACT_VENV)
	$(CONTRACT_VENV)/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

$(FHIR_VENV)/.installed: tests/fhir/requirements.txt
	$(PYTHON) -m venv $(FHIR_VENV)
	$(FHIR_VENV)/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

$(SCAN_VENV)/.installed: infra/requirements-scan.txt
	$(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

# The Python/Powertools peer `make bench` compares with: each function's folder with its pinned dependencies, built
# by the emulator's own interpreter (it runs Python functions under it), and a venv to run the handlers on this
# machine with Lambda's runtime interface client.
$(PEER_BUILD)/.built: $(PEER)/requirements.txt $(wildcard $(PEER)/*/*.py) $(wildcard shared/instruments/questionnaires/*/*.json) $(AWS_VENV)/.installed
	rm -rf $(PEER_BUILD) && mkdir -p $(PEER_BUILD)
	for function in submit process; do \
		cp -r $(PEER)/$$function $(PEER_BUILD)/$$function && \
		$(AWS_VENV)/bin/pip install --quiet --disable-pip-version-check --target $(PEER_BUILD)/$$function -r $<; \
	done
	cp -r shared/instruments/questionnaires $(PEER_BUILD)/submit/questionnaires
	touch $@

$(PEER_VENV)/.installed: $(PEER)/requirements-harness.txt $(PEER)/requirements.txt
	$(PYTHON) -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

$(TOOLS_VENV)/.installed: infra/requirements-tools.txt
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

setup: $(AWS_VENV)/.installed $(TOOLS_VENV)/.installed ## Install MiniStack, cargo-lambda and SAM CLI into .local/
	@{ cargo clippy --version && cargo fmt --version; } >/dev/null 2>&1 || rustup component add clippy rustfmt

build: setup ## Release-build the functions and operator tools for this machine, then sam build (.aws-sam/build, samconfig.toml's local environment)
	cargo lambda build --release $(HOST_ARCH) $(FUNCTION_PACKAGES) --package intake-ops
	sam build --config-env local --parameter-overrides Architecture=$(SAM_ARCH)

# The operator tools as static-enough binaries (glibc 2.17, through cargo-lambda's zig) for an on-call laptop or a
# bastion with no Rust toolchain: dist/linux-<arch>/<tool>. Each one's --help runs here as a check.
ops-tools: setup ## Release binaries of flags, export, redrive, replay-timeline, capacity, migrate for Linux x86-64 and arm64 in dist/ ([ARCHS=x86-64])
	for arch in $(ARCHS); do \
		cargo lambda build --release --$$arch $(addprefix --bin ,$(OPS_TOOLS)) --lambda-dir target/ops-tools/$$arch && \
		mkdir -p dist/linux-$$arch && \
		for tool in $(OPS_TOOLS); do cp target/ops-tools/$$arch/$$tool/bootstrap dist/linux-$$arch/$$tool || exit 1; done \
		|| exit 1; \
	done
	@if [ -d dist/linux-$(HOST_ARCH_NAME) ]; then \
		for tool in $(OPS_TOOLS); do dist/linux-$(HOST_ARCH_NAME)/$$tool --help >/dev/null || exit 1; done; \
		echo "each tool's --help runs (dist/linux-$(HOST_ARCH_NAME))"; fi
	@ls -l dist/linux-*/

lint: ## cargo fmt --check and clippy -D warnings
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

unit: $(PEER_BUILD)/.built $(PEER_VENV)/.installed ## Unit tests (no AWS needed)
	cargo test --workspace
	$(PYTHON) -m unittest tests/faults/test_proxy.py
	PEER_BUILD=$(PEER_BUILD) $(PEER_VENV)/bin/python tests/python-peer/test_peer.py

# The integration test binaries are built `--workspace`, as `make unit` built them: `--package intake-e2e` alone
# resolves dependency features over fewer crates, so it rebuilt the tests crate and a dozen dependencies (2 minutes).
template-check: setup $(SCAN_VENV)/.installed ## sam validate --lint, cfn-lint, checkov, and our own assertions on template.yaml
	sam validate --lint --template template.yaml
	cfn-lint template.yaml
	$(SCAN_VENV)/bin/checkov --file template.yaml --framework cloudformation --compact --quiet --skip-download
	cargo test --workspace --test template

fhir-check: $(FHIR_VENV)/.installed ## Every Questionnaire and schedule (PlanDefinition) served and every QuestionnaireResponse and OperationOutcome emitted, validated by fhir.resources
	rm -rf $(LOCAL)/fhir-examples
	cargo run --quiet --package intake-e2e --bin fhir-examples -- $(LOCAL)/fhir-examples
	$(FHIR_VENV)/bin/python tests/fhir/validate.py shared/instruments/questionnaires shared/instruments/schedules \
		$(LOCAL)/fhir-examples

report-check: ## The burst report's HTML page, rendered by headless Chromium (apt-get install chromium)
	@command -v chromium >/dev/null || { echo "report-check needs Chromium: apt-get install chromium"; exit 1; }
	cargo test --workspace --test report -- --ignored

# What the machine must have (a C compiler, Python with venv, Rust, Chromium for `test`), checked before any build.
prerequisites-%:
	@bash infra/prerequisites.sh $*

stack-running: setup
	@LOCAL_AWS_PORT=$(LOCAL_AWS_PORT) $(LOCAL_STACK) running

check: prerequisites-test lint unit template-check fhir-check report-check ## Everything that needs no local AWS

# A stack you start is yours, even where an interrupted `make test` left its marker (`make test` keeps it).
local-up: build ## Start MiniStack, sam deploy the build to it (samconfig.toml's local environment, the local OIDC issuer), write .local/stack-outputs.json
	$(if $(KEEP_TEST_MARKER),,rm -f $(TEST_MARKER))
	LOCAL_AWS_PORT=$(LOCAL_AWS_PORT) $(LOCAL_STACK) up

# To an AWS account, as CI deploys to the local one: `sam build` and `sam deploy` with an environment of
# samconfig.toml (copy `prod` and fill in your identity provider), using your AWS_PROFILE / AWS_REGION.
deploy: setup ## sam build and sam deploy to an AWS account (ENV=<environment of samconfig.toml>, e.g. prod; ENV=local is make local-up)
	@test -n "$(ENV)" || { echo "usage: make deploy ENV=<an environment of samconfig.toml, e.g. prod>"; exit 2; }
	@if [ "$(ENV)" = local ]; then $(MAKE) local-up; \
	else sam build --config-env $(ENV) && sam deploy --config-env $(ENV); fi

local-down: ## Stop the local AWS
	LOCAL_AWS_PORT=$(LOCAL_AWS_PORT) $(LOCAL_STACK) down

WATCH_PORT ?= 9000
STACK_OUTPUT = $$($(PYTHON) -c 'import json,sys; print(json.load(open("$(LOCAL)/stack-outputs.json"))[sys.argv[1]])' $(1))

watch: setup ## Serve both functions with `cargo lambda watch` against the local AWS (needs `make local-up`)
	@test -f $(LOCAL)/stack-outputs.json || { echo "No local stack: run make local-up first"; exit 1; }
	@echo "Invoke with: cargo lambda invoke submit --invoke-address 127.0.0.1 --invoke-port $(WATCH_PORT) --data-file functions/submit/events/submission.json"
	@echo "             cargo lambda invoke process --invoke-address 127.0.0.1 --invoke-port $(WATCH_PORT) --data-file functions/process/events/batch.json"
	$(E2E_ENV) cargo lambda watch \
		--invoke-address 127.0.0.1 --invoke-port $(WATCH_PORT) \
		--env-var QUEUE_URL=$(call STACK_OUTPUT,QueueUrl),TABLE_NAME=$(call STACK_OUTPUT,TableName)

E2E_TESTS := stack identity sign_in instruments fhir_oracle alerts real_apps schedules records operations hostile logs audit dead_letter redrive \
	migrate upgrade cargo_lambda

# The sign-in tests need the template as deployed by default, with its own Cognito user pool: the same build, a
# second stack beside the first (deployed here, not by local-up, so `make demo` and `make bench` run beside one).
e2e: setup $(FHIR_VENV)/.installed stack-running ## Integration tests against the deployed local stack ([TEST=<file of tests/tests>] for one): pipeline, instruments, the FHIR oracle, alerts, app paths, schedules, the record (exclusions, audit trail), export and metrics, JWT matrix, hostile corpus, logs, audit, poison, redrive, layout upgrade, cargo-lambda
	$(if $(filter sign_in,$(or $(TEST),$(E2E_TESTS))),LOCAL_AWS_PORT=$(LOCAL_AWS_PORT) $(LOCAL_STACK) up --stack cognito)
	$(E2E_ENV) cargo test --no-fail-fast --workspace $(addprefix --test ,$(or $(TEST),$(E2E_TESTS))) \
		-- --ignored --test-threads 4

contract: $(CONTRACT_VENV)/.installed stack-running ## The deployed API against openapi.yaml, with schemathesis (needs `make local-up`)
	cargo run --quiet --package intake-e2e --bin contract-fixtures > $(LOCAL)/contract-fixtures.json
	$(E2E_ENV) $(CONTRACT_VENV)/bin/python tests/contract/run.py

# A stack you started stays up (redeployed with this build); one `make test` started, even one an interrupted run
# left behind (its marker file), is stopped at the end, whatever failed.
TEST_MARKER := $(LOCAL)/stack-started-by-make-test
# The stack `make test` deploys, and the operator tools it leaves in dist/, are built without cross-crate LTO, in 16
# codegen units: the same code, features and `panic = "unwind"`, built cold in 6 minutes instead of 15 on 2 cores.
# The suite checks behaviour, which these two settings do not change. What ships (`make deploy`), what `make bench`
# measures, `make demo`, `make faults` and `make ops-tools` use Cargo.toml's release profile as written (cargo
# keeps each profile's build apart in target/, so only the first switch costs a full build).
test: export CARGO_PROFILE_RELEASE_LTO := off
test: export CARGO_PROFILE_RELEASE_CODEGEN_UNITS := 16
test: check ## Every check: lint, unit, template, then the stack up, integration and contract tests, the stack down
	@yours=0; \
	if LOCAL_AWS_PORT=$(LOCAL_AWS_PORT) $(LOCAL_STACK) running 2>/dev/null && [ ! -f $(TEST_MARKER) ]; then \
		yours=1; else mkdir -p $(LOCAL) && touch $(TEST_MARKER); fi; \
	status=0; { $(MAKE) local-up KEEP_TEST_MARKER=1 && $(MAKE) ops-tools ARCHS=$(HOST_ARCH_NAME) && $(MAKE) e2e contract; } || status=$$?; \
	if [ $$yours = 1 ]; then echo "The local stack you started stays up (redeployed with this build)."; \
	else $(MAKE) local-down; rm -f $(TEST_MARKER); fi; exit $$status

# The emulator serves ~8 function processes per core; more clients than that only queue up in it.
DEMO_ARGS ?= --concurrency 16
DRILL_ARGS ?= --concurrency 16

demo: prerequisites-demo local-up ## A burst of 10,000 submissions from 2,000 patients, then 2,000 patients driven by their schedule's reminders; each audited
	@echo "Building the load generator (the first time takes a few minutes)…"
	cargo build --package intake-e2e --bin burst --bin schedule-drill
	$(E2E_ENV) cargo run --quiet --package intake-e2e --bin burst -- $(DEMO_ARGS)
	@echo "Next: the schedule drill (about 11 minutes: its windows are minutes long, and open in three waves)…"
	$(E2E_ENV) cargo run --quiet --package intake-e2e --bin schedule-drill -- $(DRILL_ARGS)
	@echo "The local stack is still running (outputs in $(LOCAL)/stack-outputs.json). Stop it with: make local-down"

bench: local-up $(PEER_BUILD)/.built $(PEER_VENV)/.installed ## Benchmarks, beside the Python/Powertools peer: a table of figures, costs, also in bench-results.json (never part of `make test`)
	LOCAL_AWS_PORT=$(LOCAL_AWS_PORT) $(LOCAL_STACK) up --stack python-peer
	cargo lambda build --release $(HOST_ARCH) --package hello-lambda
	cargo lambda build --release --arm64 --output-format zip --lambda-dir target/lambda-arm64 $(FUNCTION_PACKAGES)
	cargo bench --package intake --bench intake --features testing
	$(E2E_ENV) cargo run --quiet --package intake-e2e --bin bench -- \
		--peer-outputs $(LOCAL)/python-peer-outputs.json --peer-build $(PEER_BUILD) --peer-python $(PEER_VENV)/bin/python $(BENCH_ARGS)

FAULT_PROXY_PORT ?= 4570

# The fault runs redeploy the local AWS behind a fault proxy: they need it to themselves, so they stop at once
# rather than tear down a stack you started (one an interrupted `make test` left behind is theirs to replace).
faults: setup ## Fault runs: DynamoDB throttling/5xx/timeouts, SQS outage, killed workers, DLQ redrive; each audited
	@if LOCAL_AWS_PORT=$(LOCAL_AWS_PORT) $(LOCAL_STACK) running >/dev/null 2>&1 && [ ! -f $(TEST_MARKER) ]; then \
		echo "make faults redeploys the local AWS behind a fault proxy and stops it after: stop yours first (make local-down)"; \
		exit 1; fi
	$(MAKE) build
	$(MAKE) local-down
	rm -f $(TEST_MARKER)
	FAULT_PROXY_PORT=$(FAULT_PROXY_PORT) LOCAL_AWS_PORT=$(LOCAL_AWS_PORT) $(LOCAL_STACK) up
	status=0; $(E2E_ENV) cargo test --workspace --test faults -- --ignored --test-threads 1 --nocapture \
		|| status=$$?; $(MAKE) local-down; exit $$status

# Against a deployed stack with STACK=<name> (your AWS environment: AWS_PROFILE, AWS_REGION…), else the local one.
OPS_ENV = $(if $(STACK),,$(E2E_ENV))
OPS_STACK = $(if $(STACK),--stack $(STACK))

flags: ## What a trial's data managers should look at: repeats, fast clocks, conflicts (TRIAL=<trialId> [STACK=<name>])
	@test -n "$(TRIAL)" || { echo "usage: make flags TRIAL=<trialId> [STACK=<deployed stack>]"; exit 2; }
	$(OPS_ENV) cargo run --quiet --package intake-ops --bin flags -- $(OPS_STACK) --trial $(TRIAL)

export: ## A trial's submissions as CSV per instrument version and FHIR NDJSON (TRIAL=<trialId> [STACK=<name>] [EXPORT_ARGS=--out DIR])
	@test -n "$(TRIAL)" || { echo "usage: make export TRIAL=<trialId> [STACK=<deployed stack>]"; exit 2; }
	$(OPS_ENV) cargo run --quiet --package intake-ops --bin export -- $(OPS_STACK) --trial $(TRIAL) $(EXPORT_ARGS)

timeline: ## Place a trial's reports on their timelines again, after TimelineFailureAlarm (TRIAL=<trialId> [STACK=<name>])
	@test -n "$(TRIAL)" || { echo "usage: make timeline TRIAL=<trialId> [STACK=<deployed stack>]"; exit 2; }
	$(OPS_ENV) cargo run --quiet --package intake-ops --bin replay-timeline -- $(OPS_STACK) --trial $(TRIAL)

# The busiest reminder wave ePRO platforms quote: 50,000 submissions a second at its peak. Durations ×10: the local
# emulator answers in about a millisecond where AWS's SQS and DynamoDB take several.
WAVE ?= --patients 1500000 --surveys-each 1 --window 60 --shape peaked --duration-factor 10
FORECAST_EXAMPLE := --enrolments infra/ops/capacity/enrolments-example.json --window 120 --duration-factor 10 --show 6
capacity: ## What AWS needs for a known reminder wave, and its cost (WAVE="--patients N --window S …"); the waves a schedule will cause (FORECAST="--enrolments FILE" or "--trial ID"; FORECAST=example)
	$(OPS_ENV) cargo run --quiet --package intake-ops --bin capacity -- \
		$(if $(filter example,$(FORECAST)),$(FORECAST_EXAMPLE),$(or $(FORECAST),$(WAVE)))

redrive: ## Move dead letters back after a fix ([STACK=<name>] [REDRIVE_ARGS=--dry-run to count only])
	$(OPS_ENV) cargo run --quiet --package intake-ops --bin redrive -- $(OPS_STACK) $(REDRIVE_ARGS)

migrate: ## Bring a table's stored items to the current layout after an upgrade: a dry run unless MIGRATE_ARGS=--apply ([STACK=<name>])
	$(OPS_ENV) cargo run --quiet --package intake-ops --bin migrate -- $(OPS_STACK) $(MIGRATE_ARGS)

clean: ## Stop the local AWS and remove build output and venvs
	if [ -x $(AWS_VENV)/bin/python ]; then LOCAL_AWS_PORT=$(LOCAL_AWS_PORT) $(LOCAL_STACK) down; fi
	cargo clean
	rm -rf $(LOCAL) .aws-sam dist
