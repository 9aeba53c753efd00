"""process, the way Powertools documents it: `BatchProcessor` with partial batch failures, and the idempotency
utility on DynamoDB keyed by the submission id, around a conditional put of the submission item. Writes the same
item layout as the Rust `functions/process` (the auditor reads both), without the alert rules, repeat flags and
conflict records that only the Rust intake has."""

import hashlib
import json
import os
from datetime import datetime, timezone
from decimal import Decimal
from uuid import UUID

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS)
persistence = DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE_NAME"])
# One submission id, one record: a redelivery or resend returns the first result; the same id with other answers
# fails validation (and so reaches the dead-letter queue), never overwrites.
config = IdempotencyConfig(
    event_key_jmespath="submission.submissionId",
    payload_validation_jmespath="submission",
    expires_after_seconds=7 * 24 * 3600,
)
table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def trial_shard(submission):
    """The by-trial index key, as the intake's layout draws it: one of 64 shards per trial, from the id."""
    return f"{submission['trialId']}#{UUID(submission['submissionId']).int % 64:02}"


def content_hash(submission):
    canonical = json.dumps(submission, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@idempotent_function(data_keyword_argument="envelope", config=config, persistence_store=persistence)
def store(envelope):
    submission = envelope["submission"]
    item = {
        "pk": f"TRIAL#{submission['trialId']}#PATIENT#{submission['patientId']}",
        "sk": f"SUBMISSION#{submission['submissionId']}",
        "recordType": "submission",
        "trialShard": trial_shard(submission),
        **submission,
        "receivedAt": envelope["receivedAt"],
        "storedAt": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "contentHash": content_hash(submission),
        "schemaVersion": envelope["schemaVersion"],
        "requestId": envelope["requestId"],
        "receivedAs": envelope.get("receivedAs", "json"),
        **({"scores": envelope["scores"]} if envelope.get("scores") else {}),
    }
    try:
        table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        pass  # stored by an earlier attempt whose idempotency record was not completed
    logger.info("stored", extra={"submission_id": submission["submissionId"]})
    return {"submissionId": submission["submissionId"]}


def record_handler(record: SQSRecord):
    # Decimal, as DynamoDB's resource API requires for numbers.
    store(envelope=json.loads(record.body, parse_float=Decimal))


@logger.inject_lambda_context
def handler(event, context):
    config.register_lambda_context(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
