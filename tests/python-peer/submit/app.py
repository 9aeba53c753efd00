"""submit, the way Powertools documents it: the HTTP API event handler, the v1 contract as a Pydantic model, the
instrument check, one SQS SendMessage, `202` only once the queue has acknowledged. Same routes, rules and status
codes as the Rust `functions/submit` (the v1 JSON form; the FHIR form is the Rust intake's alone)."""

import json
import os
from datetime import datetime, timezone
from pathlib import Path

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from contract import MAX_BODY_BYTES, Submission, field_problems
from instrument import Catalogue

logger = Logger()
app = APIGatewayHttpResolver()
# Built once per container, as Powertools and AWS recommend.
sqs = boto3.client("sqs")
catalogue = Catalogue(Path(__file__).parent / "questionnaires")
QUEUE_URL = os.environ["QUEUE_URL"]
PATIENT_CLAIM = os.environ.get("PATIENT_CLAIM", "patient_id")
TRIAL_CLAIM = os.environ.get("TRIAL_CLAIM", "trial_id")


def refuse(status, code, message, fields=None):
    body = {"error": code, "message": message, **({"fields": fields} if fields else {})}
    headers = {"Retry-After": "1"} if status == 503 else None
    return Response(status_code=status, content_type="application/json", body=json.dumps(body), headers=headers)


def no_repeated_keys(pairs):
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("an object repeats a key")
    return dict(pairs)


def no_constants(name):
    raise ValueError(f"{name} is not JSON")


def trials_of(value):
    """API Gateway renders a list claim as `[a b c]`."""
    return value.strip("[]").split() if value else []


@app.post("/v1/submissions")
def submit():
    event = app.current_event
    claims = event.request_context.authorizer.jwt_claim or {}
    patient, trials = claims.get(PATIENT_CLAIM), trials_of(claims.get(TRIAL_CLAIM))
    if not patient or not trials:
        return refuse(401, "unauthenticated", "no verified patient token")
    media = (event.headers.get("content-type") or "").split(";")[0].strip().lower()
    if media != "application/json":
        return refuse(415, "unsupported_media_type", "the body must be application/json")
    body = event.decoded_body or ""
    if len(body.encode()) > MAX_BODY_BYTES:
        return refuse(413, "payload_too_large", f"the body must be at most {MAX_BODY_BYTES} bytes")
    try:
        raw = json.loads(body, object_pairs_hook=no_repeated_keys, parse_constant=no_constants)
    except ValueError:
        return refuse(400, "malformed_json", "the body is not valid JSON")
    if not isinstance(raw, dict):
        return refuse(400, "invalid_submission", "the body breaks the v1 contract", [{"field": "body", "problem": "must be a JSON object"}])
    try:
        submission = Submission.model_validate(raw)
    except ValidationError as error:
        return refuse(400, "invalid_submission", "the body breaks the v1 contract", field_problems(error))
    if submission.patientId != patient:
        return refuse(403, "forbidden", "a patient may submit only their own surveys")
    if submission.trialId not in trials:
        return refuse(403, "forbidden", "a patient may submit only to a trial their token names")
    record = submission.model_dump(exclude_none=True)
    problems, instrument = catalogue.judge(record)
    if problems:
        return refuse(400, "invalid_submission", "the answers do not fit the instrument", problems)
    record["surveyVersion"] = instrument.version
    received_at = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    envelope = {
        "schemaVersion": 2,
        "requestId": event.request_context.request_id,
        "receivedAt": received_at,
        "receivedAs": "json",
        "submission": record,
        **({"scores": scores} if (scores := instrument.compute_scores(record["answers"])) else {}),
    }
    try:
        sqs.send_message(QueueUrl=QUEUE_URL, MessageBody=json.dumps(envelope, separators=(",", ":")))
    except (BotoCoreError, ClientError):
        logger.exception("the queue refused the submission", extra={"submission_id": submission.submissionId})
        return refuse(503, "unavailable", "the submission could not be queued; retry with the same submissionId")
    logger.info("accepted", extra={"submission_id": submission.submissionId})
    body = {"submissionId": submission.submissionId, "status": "accepted", "receivedAt": received_at}
    return Response(status_code=202, content_type="application/json", body=json.dumps(body))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event, context):
    return app.resolve(event, context)
