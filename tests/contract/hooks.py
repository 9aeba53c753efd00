"""Schemathesis hooks: make generated requests belong to the signed-in test patient, and fit an instrument.

The API refuses (403) a submission for anyone but the token's patient and outside the token's trial, and judges
answers against the instrument version they name: rules a schema of the generic contract cannot state.
Without these hooks no generated submission could ever be accepted, and the positive_data_acceptance check would
test nothing. Only schema-valid (positive) cases are completed with valid values, so negative cases stay negative.
The instrument answers come from the catalogue itself (`contract-fixtures`, written by `make contract`).
"""

import copy
import json
import os
import random
import re
import uuid

import schemathesis
from schemathesis.generation.modes import GenerationMode

PATIENT = os.environ["CONTRACT_PATIENT_ID"]
TRIAL = os.environ["CONTRACT_TRIAL_ID"]
ALERT = os.environ["CONTRACT_ALERT_ID"]
FIXTURES = json.loads(open(os.environ["CONTRACT_FIXTURES"]).read())
ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
CHOOSE = random.Random(20261122)


def _positive(case):
    meta = getattr(case, "meta", None)
    return meta is not None and meta.generation.mode == GenerationMode.POSITIVE


def _submission(body, positive):
    if isinstance(body.get("patientId"), str) and ID.match(body["patientId"]):
        body["patientId"] = PATIENT
    if isinstance(body.get("trialId"), str) and ID.match(body["trialId"]):
        body["trialId"] = TRIAL
    if positive:
        answers = CHOOSE.choice(FIXTURES["answerSets"])
        body.update(copy.deepcopy(answers))


def _response(body):
    """A schema-valid response becomes a valid response of an instrument, keeping its own identifier."""
    valid = copy.deepcopy(CHOOSE.choice(FIXTURES["responses"]))
    valid["identifier"]["value"] = f"urn:uuid:{uuid.uuid4()}"
    valid["subject"] = {"reference": f"Patient/{PATIENT}"}
    body.clear()
    body.update(valid)


def _questionnaire(case):
    """A schema-valid read names a published instrument (and version): any other id is rightly not found."""
    parameters = case.path_parameters or {}
    if "id" in parameters:
        parameters["id"] = CHOOSE.choice(FIXTURES["answerSets"])["surveyId"]
        if "version" in parameters:
            parameters["version"] = "1"


def _schedule(case):
    """A schema-valid read names a published schedule (and version)."""
    parameters = case.path_parameters or {}
    if "id" in parameters:
        parameters["id"] = CHOOSE.choice(["postop-followup", "burst-drill"])
        if "version" in parameters:
            parameters["version"] = "1"


def _staff(case):
    """A schema-valid staff request names the staff member's trial and a real alert of it."""
    parameters = case.path_parameters or {}
    if "trialId" in parameters and _positive(case):
        parameters["trialId"] = TRIAL
    if "alertId" in parameters and _positive(case):
        parameters["alertId"] = ALERT
    cursor = (case.query or {}).get("cursor")
    if cursor is not None and _positive(case):
        del case.query["cursor"]  # a cursor is only ever one this API handed out


@schemathesis.hook
def map_case(context, case):
    if case.operation.path.startswith(("/v1/trials/", "/v1/alerts/")):
        _staff(case)
        return case
    if case.operation.path.startswith("/v1/fhir/Questionnaire/") and _positive(case):
        _questionnaire(case)
        return case
    if case.operation.path.startswith("/v1/fhir/PlanDefinition/") and _positive(case):
        _schedule(case)
        return case
    body = case.body
    if not isinstance(body, dict):
        return case
    path = case.operation.path
    if path == "/v1/submissions":
        _submission(body, _positive(case))
    elif path == "/v1/fhir/QuestionnaireResponse" and _positive(case):
        _response(body)
    return case
