#!/usr/bin/env python3
"""Validates FHIR JSON files with fhir.resources, an independent model of FHIR (R4B, identical to R4 for the
resources the intake uses): every file under the given folders must parse as the resource its resourceType names.

    validate.py DIR [DIR ...]

Exits 1 naming every file that does not validate, and 2 when no file was found (a check that checked nothing).
"""

import importlib
import json
import sys
from pathlib import Path

RESOURCES = {
    "Questionnaire": "questionnaire",
    "QuestionnaireResponse": "questionnaireresponse",
    "OperationOutcome": "operationoutcome",
    "Bundle": "bundle",
    "PlanDefinition": "plandefinition",
}


def validate(path):
    document = json.loads(path.read_text())
    kind = document.get("resourceType")
    if kind not in RESOURCES:
        return f"{path}: resourceType {kind!r} is not one this check knows"
    module = importlib.import_module(f"fhir.resources.R4B.{RESOURCES[kind]}")
    try:
        getattr(module, kind).model_validate(document)
    except Exception as error:  # pydantic's ValidationError, with every problem listed
        return f"{path}: {error}"
    return None


def main():
    files = sorted(p for folder in sys.argv[1:] for p in Path(folder).rglob("*.json"))
    if not files:
        sys.exit(f"no FHIR file under {sys.argv[1:]}")
    failures = [failure for failure in map(validate, files) if failure]
    for failure in failures:
        print(failure, file=sys.stderr)
    kinds = sorted({json.loads(p.read_text())["resourceType"] for p in files})
    print(f"{len(files) - len(failures)} of {len(files)} FHIR files valid ({', '.join(kinds)})")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
