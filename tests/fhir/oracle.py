#!/usr/bin/env python3
"""The FHIR oracle's independent half: for every QuestionnaireResponse the intake accepted (202) and the one it
renders back from what it stored, both must be valid to fhir.resources (R4B, identical to R4 for this resource), and
they must say the same thing: the same identifier, subject, questionnaire, completion instant, trial and timepoint,
and, item by item, the same answers.

    oracle.py PAIRS.ndjson

Each line: {"case": N, "seed": S, "sent": {…}, "stored": {…}, "questionnaire": {the version it answers}}. Exits 1 naming every case that fails (with the seed,
to run it again), and 2 when the file holds no case (a check that checked nothing).
"""

import json
import re
import sys
from collections import Counter
from datetime import datetime
from decimal import Decimal

from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse


def valid(resource):
    try:
        QuestionnaireResponse.model_validate(resource)
    except Exception as error:  # pydantic's ValidationError, every problem listed
        return " / ".join(line.strip() for line in str(error).splitlines()[:3])
    return None


INSTANT = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def instant(text):
    """An RFC 3339 instant as (whole seconds since the epoch, the fraction as a decimal): nanoseconds survive."""
    match = INSTANT.match(text)
    if not match:
        raise ValueError(f"not an instant: {text!r}")
    whole, fraction, offset = match.groups()
    seconds = datetime.fromisoformat(whole + ("+00:00" if offset == "Z" else offset)).timestamp()
    return int(seconds), Decimal(fraction or "0")


def extensions(resource):
    return {e["url"]: e.get("valueString") for e in resource.get("extension", [])}


def answers(items, systems, found=None):
    """linkId -> the multiset of its answers, whatever group they sit in. A coding sent as a code alone (FHIR allows
    it; the item's options make it unambiguous) takes the system its option declares, from `systems`."""
    found = {} if found is None else found
    for item in items or []:
        values = Counter()
        for answer in item.get("answer", []):
            for key, value in answer.items():
                if key == "valueCoding":
                    system = value.get("system") or systems.get((item["linkId"], value.get("code")))
                    values[("coding", system, value.get("code"))] += 1
                elif key in ("valueInteger", "valueDecimal"):
                    values[("number", Decimal(str(value)))] += 1
                elif key.startswith("value"):
                    values[(key, value)] += 1
        if values:
            found[item["linkId"]] = values
        answers(item.get("item"), systems, found)
    return found


def option_systems(questionnaire_items, found=None):
    """(linkId, code) -> the system of that option, from the Questionnaire the response answers."""
    found = {} if found is None else found
    for item in questionnaire_items or []:
        for option in item.get("answerOption", []):
            coding = option.get("valueCoding", {})
            found[(item["linkId"], coding.get("code"))] = coding.get("system")
        option_systems(item.get("item"), found)
    return found


def same(sent, stored, questionnaire):
    if sent["identifier"]["value"].lower() != stored["identifier"]["value"].lower():
        return "another identifier"
    if sent["subject"]["reference"] != stored["subject"]["reference"]:
        return "another subject"
    if sent["questionnaire"].split("|")[0] != stored["questionnaire"].split("|")[0]:
        return "another questionnaire"
    if "|" in sent["questionnaire"] and sent["questionnaire"] != stored["questionnaire"]:
        return "another questionnaire version"
    if sent["authored"] != stored["authored"] and instant(sent["authored"]) != instant(stored["authored"]):
        return "another completion instant"
    if extensions(sent) != extensions(stored):
        return "another trial or timepoint"
    systems = option_systems(questionnaire.get("item"))
    a, b = answers(sent.get("item"), systems), answers(stored.get("item"), {})
    if a != b:
        differ = sorted(set(a) ^ set(b)) or sorted(k for k in a if a[k] != b.get(k))
        return f"other answers at {differ}"
    return None


def main():
    lines = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    if not lines:
        sys.exit("no accepted case to check")
    failures = []
    for case in lines:
        for side in ("sent", "stored"):
            problem = valid(case[side])
            if problem:
                failures.append(f"case {case['case']} ({case.get('mutation')}, seed {case['seed']}): the {side} resource is not valid FHIR: {problem}")
        try:
            problem = same(case["sent"], case["stored"], case["questionnaire"])
        except Exception as error:  # a resource the comparison cannot read is a finding too
            problem = f"something unreadable ({error})"
        if problem:
            failures.append(f"case {case['case']} ({case.get('mutation')}, seed {case['seed']}): what was stored says {problem}")
    for failure in failures:
        print(failure, file=sys.stderr)
    print(f"{len(lines) - len({f.split(' ')[1] for f in failures})} of {len(lines)} accepted responses valid and equivalent when rendered back")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
