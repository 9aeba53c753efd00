"""The v1 submission contract as a Pydantic model: the same fields, limits and problem texts as the Rust intake's
`intake::submission`, so both stacks refuse the same bodies with the same status."""

import math
import re
from datetime import datetime
from typing import Annotated, Optional, Union
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StringConstraints
from pydantic import ValidationError, field_validator

MAX_BODY_BYTES = 256 * 1024
MAX_ID_CHARS = 64
MAX_ANSWERS = 200
MAX_TEXT_CHARS = 2_000
MAX_CHOICES = 50

Id = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_CHARS, pattern=r"^[A-Za-z0-9._:-]+$")]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT_CHARS)]
Number = Union[StrictInt, StrictFloat]
Answer = Union[StrictBool, Number, Text, Annotated[list[Text], Field(max_length=MAX_CHOICES)]]

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
UUID_36 = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _text_problem(text):
    if CONTROL.search(text):
        return "must not contain control characters other than tab and line breaks"
    if "\ufffe" in text or "\uffff" in text:
        return "must not contain the noncharacters U+FFFE or U+FFFF"
    if "\ufffd" in text:
        return "must be valid UTF-8 (it holds U+FFFD, the mark of bytes that were not)"
    return None


def _canonical(value):
    """An integral float a 64-bit integer holds is that integer (DynamoDB keeps no such difference)."""
    if isinstance(value, float) and value.is_integer() and -(2**63) <= value < 2**64:
        return int(value)
    return value


class Submission(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    submissionId: str
    trialId: Id
    patientId: Id
    surveyId: Id
    surveyVersion: Optional[Id] = None
    timepoint: Id
    completedAt: str
    answers: Annotated[dict[Id, Answer], Field(min_length=1, max_length=MAX_ANSWERS)]

    @field_validator("submissionId")
    @classmethod
    def canonical_uuid(cls, value):
        if not UUID_36.match(value):
            raise ValueError("must be a UUID in its 36-character form (8-4-4-4-12 hex digits)")
        if UUID(value).int == 0:
            raise ValueError("must not be the nil UUID")
        return value

    @field_validator("completedAt")
    @classmethod
    def rfc3339(cls, value):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        fraction = value.split(".", 1)[1] if "." in value else ""
        digits = len(fraction) - len(fraction.lstrip("0123456789"))
        if (
            parsed is None
            or parsed.tzinfo is None
            or len(value) < 20
            or value[10] != "T"
            or "z" in value
            or digits > 9
            or abs(parsed.utcoffset().total_seconds()) > 14 * 3600
        ):
            raise ValueError("must be an RFC 3339 date-time as FHIR writes it, such as 2026-11-22T08:00:03Z")
        return value

    @field_validator("answers")
    @classmethod
    def answer_values(cls, answers):
        for key, value in answers.items():
            values = value if isinstance(value, list) else [value]
            for item in values:
                if isinstance(item, str) and (problem := _text_problem(item)):
                    raise ValueError(f"answers.{key}: {problem}")
                if isinstance(item, float) and item != 0 and not (1e-130 <= abs(item) < 1e126 and math.isfinite(item)):
                    raise ValueError(f"answers.{key}: must be 0 or have a magnitude from 1e-130 up to 1e126")
        return {key: [_canonical(v) for v in value] if isinstance(value, list) else _canonical(value)
                for key, value in sorted(answers.items())}


def field_problems(error: ValidationError):
    """Pydantic's errors as the v1 contract's `fields`: a JSON path and a text that never quotes the value."""
    problems = []
    for detail in error.errors(include_url=False, include_input=False):
        location = [str(part) for part in detail["loc"] if not str(part).startswith(("list[", "function-", "str", "int", "float", "bool", "constrained"))]
        field = ".".join(location) or "body"
        message = detail["msg"].removeprefix("Value error, ")
        if ": " in message and message.startswith("answers."):
            field, message = message.split(": ", 1)
        if detail["type"] == "missing":
            message = "is required"
        elif detail["type"] == "extra_forbidden":
            message = "is not a field of a v1 submission"
        problems.append({"field": field, "problem": message})
    return problems
