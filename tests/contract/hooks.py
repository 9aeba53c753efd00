"""Schemathesis hooks: make generated submissions belong to the signed-in test patient.

The API refuses (403) a submission for anyone but the token's patient, and refuses (400) a completedAt in the
future, rules a schema cannot state. Without these hooks no generated submission could ever be accepted, and the
positive_data_acceptance check would test nothing. Only values that are valid are replaced, and only with other
valid values, so negative cases stay negative.
"""

import os
import re
from datetime import datetime, timezone

import schemathesis

PATIENT = os.environ["CONTRACT_PATIENT_ID"]
ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def _future(text):
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")) > datetime.now(timezone.utc)
    except (TypeError, ValueError):
        return False


@schemathesis.hook
def map_body(context, body):
    if isinstance(body, dict):
        if isinstance(body.get("patientId"), str) and ID.match(body["patientId"]):
            body["patientId"] = PATIENT
        if isinstance(body.get("completedAt"), str) and _future(body["completedAt"]):
            body["completedAt"] = datetime.now(timezone.utc).isoformat()
    return body
