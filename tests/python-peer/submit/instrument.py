"""Answers judged against the exact Questionnaire version filled in, and its scores: the same rules as the Rust
intake's `intake::instrument` (items, types, options, required, enableWhen, min/max, repeats; sum scores with bands),
read from the same FHIR Questionnaire files, bundled beside this module."""

import json
import operator
from pathlib import Path

MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
SCORE_PATH = "/StructureDefinition/score"
QUESTIONS = {"boolean", "decimal", "integer", "string", "text", "choice"}
COMPARE = {"=": operator.eq, "!=": operator.ne, ">": operator.gt, "<": operator.lt, ">=": operator.ge, "<=": operator.le}


def _extension(element, url):
    return next((e for e in element.get("extension", []) if e["url"] == url), None)


def _number(extension):
    if extension is None:
        return None
    return next((extension[k] for k in ("valueInteger", "valueDecimal") if k in extension), None)


class Instrument:
    def __init__(self, questionnaire):
        self.questionnaire = questionnaire
        self.items = {}

        def index(items):
            for item in items:
                self.items[item["linkId"]] = item
                index(item.get("item", []))

        index(questionnaire.get("item", []))
        base = questionnaire["url"].removesuffix(f"/Questionnaire/{questionnaire['id']}")
        self.scores = [self._score(e) for e in questionnaire.get("extension", []) if e["url"] == base + SCORE_PATH]

    @property
    def version(self):
        return self.questionnaire["version"]

    @staticmethod
    def _score(extension):
        parts = extension["extension"]
        bands = []
        for band in (p for p in parts if p["url"] == "band"):
            sub = {e["url"]: e for e in band["extension"]}
            label = sub["label"]
            bands.append((_number(sub["from"]), _number(sub["to"]), label.get("valueCode", label.get("valueString"))))
        return {
            "name": next(p["valueCode"] for p in parts if p["url"] == "name"),
            "items": [p["valueString"] for p in parts if p["url"] == "item"],
            "bands": bands,
        }

    def option(self, item, code):
        return next((o for o in item.get("answerOption", []) if o.get("valueCoding", {}).get("code") == code), None)

    # ------------------------------------------------------------------ enableWhen
    def _holds(self, condition, answer):
        if answer is None:
            return condition["operator"] == "exists" and condition.get("answerBoolean") is False
        if condition["operator"] == "exists":
            return condition.get("answerBoolean") is True
        values = answer if isinstance(answer, list) else [answer]
        return any(self._compare(condition, value) for value in values)

    def _compare(self, condition, value):
        op = condition["operator"]
        if isinstance(value, bool):
            wanted = condition.get("answerBoolean")
        elif isinstance(value, (int, float)):
            wanted = condition.get("answerDecimal", condition.get("answerInteger"))
        elif "answerCoding" in condition:
            coding = condition["answerCoding"]
            option = self.option(self.items.get(condition["question"], {}), value)
            system = option["valueCoding"].get("system") if option else None
            equal = coding["code"] == value and (not coding.get("system") or system == coding["system"])
            return {"=": equal, "!=": not equal}.get(op, False)
        else:
            wanted = condition.get("answerString")
        if wanted is None or isinstance(wanted, bool) != isinstance(value, bool):
            return False
        return COMPARE.get(op, lambda a, b: False)(value, wanted)

    def _enabled(self, item, answers):
        conditions = item.get("enableWhen", [])
        if not conditions:
            return True
        results = (self._holds(c, answers.get(c["question"])) for c in conditions)
        return any(results) if item.get("enableBehavior") == "any" else all(results)

    # ------------------------------------------------------------------ answers
    def problems(self, answers):
        found = []
        self._walk(self.questionnaire.get("item", []), True, answers, found)
        q = self.questionnaire
        for key in answers:
            item = self.items.get(key)
            if item is None:
                found.append((key, f"is not an item of {q['id']} version {q['version']}"))
            elif item["type"] not in QUESTIONS:
                found.append((key, f"is a {item['type']} item and takes no answer"))
        return [{"field": f"answers.{key}", "problem": problem} for key, problem in found]

    def _walk(self, items, shown, answers, found):
        for item in items:
            enabled = shown and self._enabled(item, answers)
            if item["type"] in QUESTIONS:
                answer = answers.get(item["linkId"])
                if answer is not None and not enabled:
                    found.append((item["linkId"], "must not be answered: it is not shown for these answers"))
                elif answer is None and enabled and item.get("required"):
                    found.append((item["linkId"], "is required"))
                elif answer is not None:
                    found.extend((item["linkId"], p) for p in self._answer_problems(item, answer))
            self._walk(item.get("item", []), enabled, answers, found)

    def _answer_problems(self, item, answer):
        if isinstance(answer, list):
            if not item.get("repeats"):
                return ["takes one answer, not several"]
            if not answer:
                return ["must hold at least one answer (leave the item out when it is not answered)"]
            problems = [p for value in answer if (p := self._text_problem(item, value))]
            if item["type"] == "choice" and len(set(answer)) != len(answer):
                problems.append("gives the same answer twice")
            exclusive = [code for code in answer if self._exclusive(item, code)]
            if exclusive and len(set(answer)) > 1:
                problems.append(f"{exclusive[0]} excludes every other answer")
            return problems
        if item.get("repeats"):
            return ["must be a list of answers (the item allows several)"]
        problem = self._scalar_problem(item, answer)
        return [problem] if problem else []

    def _scalar_problem(self, item, answer):
        kind = item["type"]
        if kind == "boolean":
            return None if isinstance(answer, bool) else "must be true or false"
        if kind == "integer":
            return self._range(item, answer) if type(answer) is int else "must be a whole number"
        if kind == "decimal":
            number = isinstance(answer, (int, float)) and not isinstance(answer, bool)
            return self._range(item, answer) if number else "must be a number"
        if isinstance(answer, str):
            return self._text_problem(item, answer)
        return self._options_text(item) if kind == "choice" else "must be text"

    def _exclusive(self, item, code):
        """SDC optionExclusive: choosing the option excludes every other answer."""
        option = self.option(item, code) or {}
        return any(
            e.get("url") == "http://hl7.org/fhir/StructureDefinition/questionnaire-optionExclusive" and e.get("valueBoolean")
            for e in option.get("extension", [])
        )

    def _text_problem(self, item, text):
        if item["type"] == "choice":
            return None if self.option(item, text) else self._options_text(item)
        if not text.strip():
            return "must hold a non-whitespace character (leave the item out when it is not answered)"
        limit = item.get("maxLength")
        return f"must be at most {limit} characters" if limit and len(text) > limit else None

    def _options_text(self, item):
        codes = [o["valueCoding"]["code"] for o in item.get("answerOption", []) if "valueCoding" in o]
        return f"must be one of the item's options: {', '.join(codes)}"

    def _range(self, item, value):
        low, high = _number(_extension(item, MIN_VALUE)), _number(_extension(item, MAX_VALUE))
        if (low is not None and value < low) or (high is not None and value > high):
            if low is not None and high is not None:
                return f"must be from {low} to {high}"
            return f"must be at least {low}" if low is not None else f"must be at most {high}"
        return None

    # ------------------------------------------------------------------ scores
    def compute_scores(self, answers):
        scores = {}
        for score in self.scores:
            total = 0.0
            for link_id in score["items"]:
                answer, item = answers.get(link_id), self.items.get(link_id)
                if isinstance(answer, (int, float)) and not isinstance(answer, bool):
                    total += answer
                elif isinstance(answer, str) and item and (option := self.option(item, answer)):
                    ordinal = _number(_extension(option, ORDINAL_VALUE))
                    if ordinal is None:
                        break
                    total += ordinal
                else:
                    break
            else:
                band = next((label for low, high, label in score["bands"] if low <= total <= high), None)
                value = int(total) if total.is_integer() else total
                scores[score["name"]] = {"value": value, **({"band": band} if band else {})}
        return scores


class Catalogue:
    """Every Questionnaire file under `root/<id>/<version>.json`."""

    def __init__(self, root):
        self.versions = {}
        for path in sorted(Path(root).glob("*/*.json"), key=lambda p: (p.parent.name, int(p.stem))):
            instrument = Instrument(json.loads(path.read_text()))
            self.versions.setdefault(instrument.questionnaire["id"], []).append(instrument)

    def judge(self, submission):
        """(problems, instrument): the instrument version the answers were checked against, or the problems."""
        versions = self.versions.get(submission["surveyId"])
        if not versions:
            ids = ", ".join(sorted(self.versions))
            return [{"field": "surveyId", "problem": f"is not an instrument of the catalogue ({ids})"}], None
        wanted = submission.get("surveyVersion")
        if wanted is None:
            instrument = next((i for i in reversed(versions) if i.questionnaire["status"] == "active"), None)
        else:
            instrument = next((i for i in versions if i.version == wanted), None)
        if instrument is None:
            listed = ", ".join(i.version for i in versions)
            return [{"field": "surveyVersion", "problem": f"is not a published version of {submission['surveyId']} ({listed})"}], None
        return instrument.problems(submission["answers"]), instrument
