#!/usr/bin/env python3
"""The OpenAPI contract test: schemathesis generates requests from openapi.yaml and checks every answer of the
deployed API against it (status documented, body and headers as described, valid data accepted, invalid refused,
never a 5xx). Reads the stack outputs written by `make local-up`; run through `make contract`.
"""

import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
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


# Where the staff routes live: run with a staff token, the patient routes with a patient's.
STAFF_PATHS = "^/v1/(trials|alerts)/"
# The calendar routes and the exclusion route: their answers must conform (status, schema, headers, never a 5xx),
# but a schema-valid request is rightly refused there by state the schema cannot state (a patient enrolled once,
# withdrawn once, a schedule's anchors, a stored submission of that patient), so positive_data_acceptance is left to
# the end-to-end tests (tests/tests/schedules.rs, tests/tests/records.rs), which drive each route through its
# accepted paths on the same stack.
CALENDAR_STAFF_PATHS = "^/v1/trials/[^/]+/(enrolments|compliance|submissions)"
CALENDAR_PATIENT_PATHS = "^/v1/patients/me/"
CALENDAR_CHECKS = ",".join(check for check in CHECKS.split(",") if check != "positive_data_acceptance")
# The alert id namespace of intake::alert::alert_id, to know the id of the alert a fixture submission raises.
ALERT_NAMESPACE = uuid.UUID("5d1f3c7a-8b2e-4f60-9a41-c0dea1e70001")


def call(url, body=None, token=None, method=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def open_alert(outputs, patient_token, staff_token):
    """Submits a PHQ-9 whose item 9 raises an urgent alert, and waits until the staff API lists it."""
    fixtures = json.loads((ROOT / ".local" / "contract-fixtures.json").read_text())
    # A timepoint of its own: a second report at one timepoint is a repeat, which shares the first one's alert.
    submission_id = uuid.uuid4()
    submission = {**fixtures["urgentSubmission"], "submissionId": str(submission_id),
                  "timepoint": f"contract-alert-{submission_id.hex[:8]}", "trialId": TRIAL, "patientId": PATIENT}
    call(outputs["ApiUrl"] + "/v1/submissions", submission, patient_token)
    alert_id = uuid.uuid5(ALERT_NAMESPACE, f"{submission['submissionId']}/phq9-item9-self-harm")
    for _ in range(120):
        page = call(f"{outputs['ApiUrl']}/v1/trials/{TRIAL}/alerts?status=open&limit=200", token=staff_token)
        if any(alert["alertId"] == str(alert_id) for alert in page["alerts"]):
            return str(alert_id)
        time.sleep(1)
    sys.exit("the fixture alert never appeared")


def main():
    outputs = json.loads(Path(os.environ.get("STACK_OUTPUTS", ROOT / ".local" / "stack-outputs.json")).read_text())
    patient = call(outputs["TokenEndpoint"], {"patient_id": PATIENT, "trial_id": TRIAL})["access_token"]
    staff = call(outputs["TokenEndpoint"], {"staff_id": "S-CONTRACT-1", "trial_id": TRIAL,
                                            "scope": "epro/alerts.read epro/alerts.acknowledge epro/flags.read "
                                                     "epro/enrolment.write epro/enrolment.read epro/data.correct "
                                                     "epro/audit.read"})["access_token"]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "hooks", "CONTRACT_PATIENT_ID": PATIENT, "CONTRACT_TRIAL_ID": TRIAL,
           "CONTRACT_FIXTURES": str(ROOT / ".local" / "contract-fixtures.json"),
           "CONTRACT_ALERT_ID": open_alert(outputs, patient, staff),
           "PYTHONPATH": str(Path(__file__).parent)}
    status = 0
    # The staff routes skip the stateful phase: it fills path parameters without the hooks, so it would only ever
    # ask about trials the token does not name.
    staff_phases = ["--phases", "examples,coverage,fuzzing"]
    passes = (
        (patient, ["--exclude-path-regex", f"{STAFF_PATHS}|{CALENDAR_PATIENT_PATHS}"], CHECKS),
        (staff, ["--include-path-regex", STAFF_PATHS, "--exclude-path-regex", CALENDAR_STAFF_PATHS, *staff_phases],
         CHECKS),
        (staff, ["--include-path-regex", CALENDAR_STAFF_PATHS, *staff_phases], CALENDAR_CHECKS),
        (patient, ["--include-path-regex", CALENDAR_PATIENT_PATHS], CALENDAR_CHECKS),
    )
    for token, paths, checks in passes:
        argv = [
            str(Path(sys.executable).parent / "schemathesis"),
            "--config-file", str(Path(__file__).parent / "schemathesis.toml"),
            "run", str(ROOT / "openapi.yaml"),
            "--url", outputs["ApiUrl"],
            "--header", f"Authorization: Bearer {token}",
            *paths,
            "--checks", checks,
            "--max-examples", os.environ.get("CONTRACT_MAX_EXAMPLES", "100"),
            "--generation-codec", "utf-8",
            "--seed", os.environ.get("CONTRACT_SEED", "20261122"),
            "--workers", "1",
            "--request-timeout", "30",
            "--suppress-health-check", "too_slow",
            *sys.argv[1:],
        ]
        status = subprocess.run(argv, env=env).returncode or status
    sys.exit(status)


if __name__ == "__main__":
    main()
