#!/usr/bin/env python3
"""The OpenAPI contract test: schemathesis generates requests from openapi.yaml and checks every answer of the
deployed API against it (status documented, body and headers as described, valid data accepted, invalid refused,
never a 5xx). Reads the stack outputs written by `make local-up`; run through `make contract`.
"""

import json
import os
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PATIENT = "P-CONTRACT-1"
# The trial the contract fixtures are written for (`contract-fixtures`), and the token names.
TRIAL = "CONTRACT"
CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "positive_data_acceptance",
    "negative_data_rejection",
])


def main():
    outputs = json.loads(Path(os.environ.get("STACK_OUTPUTS", ROOT / ".local" / "stack-outputs.json")).read_text())
    request = urllib.request.Request(
        outputs["TokenEndpoint"],
        data=json.dumps({"patient_id": PATIENT, "trial_id": TRIAL}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        token = json.load(response)["access_token"]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "hooks", "CONTRACT_PATIENT_ID": PATIENT, "CONTRACT_TRIAL_ID": TRIAL,
           "CONTRACT_FIXTURES": str(ROOT / ".local" / "contract-fixtures.json"),
           "PYTHONPATH": str(Path(__file__).parent)}
    argv = [
        str(Path(sys.executable).parent / "schemathesis"), "run", str(ROOT / "openapi.yaml"),
        "--url", outputs["ApiUrl"],
        "--header", f"Authorization: Bearer {token}",
        "--checks", CHECKS,
        "--max-examples", os.environ.get("CONTRACT_MAX_EXAMPLES", "100"),
        "--generation-codec", "utf-8",
        "--seed", os.environ.get("CONTRACT_SEED", "20261122"),
        "--workers", "1",
        "--request-timeout", "30",
        "--suppress-health-check", "too_slow",
        *sys.argv[1:],
    ]
    os.execve(argv[0], argv, env)


if __name__ == "__main__":
    main()
