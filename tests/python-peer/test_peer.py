"""The peer refuses what the intake refuses and scores what it scores (run by `make unit`; `make bench` then sends
the hostile corpus to both deployed APIs and compares every status)."""

import json
import os
import sys
import unittest
from pathlib import Path

HERE = Path(__file__).parent
# The function as built for deployment (make .local/python-peer/.built): its pinned dependencies and questionnaires.
sys.path.insert(0, str(Path(os.environ.get("PEER_BUILD", HERE.parent.parent / ".local" / "python-peer")) / "submit"))
os.environ.update(QUEUE_URL="http://127.0.0.1:9/queue", AWS_DEFAULT_REGION="us-east-1",
                  AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", POWERTOOLS_SERVICE_NAME="submit")

import app  # noqa: E402  (after the environment it reads at import)

EVENT = json.loads((HERE.parent.parent / "functions" / "submit" / "events" / "submission.json").read_text())
VALID = json.loads(EVENT["body"])
PHQ9_ITEMS = ["44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3", "44260-8"]


class Context:
    function_name = "submit"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:submit"
    aws_request_id = "test"


class SubmitTest(unittest.TestCase):
    def setUp(self):
        self.sent = []
        app.sqs.send_message = lambda **message: self.sent.append(message) or {"MessageId": "m"}

    def submit(self, body, claims=None):
        event = json.loads(json.dumps(EVENT))
        event["body"] = body if isinstance(body, str) else json.dumps(body)
        if claims is not None:
            event["requestContext"]["authorizer"]["jwt"]["claims"] = claims
        reply = app.handler(event, Context())
        return reply["statusCode"], json.loads(reply["body"])

    def test_a_valid_survey_is_queued_then_accepted_with_its_resolved_version(self):
        status, body = self.submit(VALID)
        self.assertEqual((status, body["status"]), (202, "accepted"))
        envelope = json.loads(self.sent[0]["MessageBody"])
        self.assertEqual(envelope["submission"]["surveyVersion"], "2")

    def test_a_phq9_is_scored_from_its_ordinal_values_into_its_band(self):
        answers = {item: "LA6569-3" for item in PHQ9_ITEMS}  # "several days" = 1 each
        self.assertEqual(self.submit({**VALID, "surveyId": "phq-9", "answers": answers})[0], 202)
        self.assertEqual(json.loads(self.sent[0]["MessageBody"])["scores"], {"total": {"value": 9, "band": "mild"}})

    def test_each_broken_rule_is_refused_with_the_intakes_status_and_nothing_is_queued(self):
        cases = {
            "not JSON": ("{", 400),
            "a repeated key": ('{"a": 1, "a": 2}', 400),
            "NaN": ('{"answers": NaN}', 400),
            "an unknown field": ({**VALID, "extra": 1}, 400),
            "a short submissionId": ({**VALID, "submissionId": "0b9d6c1e"}, 400),
            "a space for the T": ({**VALID, "completedAt": "2026-11-22 08:00:03Z"}, 400),
            "an answer out of range": ({**VALID, "answers": {**VALID["answers"], "pain": 11}}, 400),
            "an unknown instrument": ({**VALID, "surveyId": "sf-36"}, 400),
            "another patient": ({**VALID, "patientId": "P-999999"}, 403),
            "another trial": ({**VALID, "trialId": "OTHER-TRIAL"}, 403),
        }
        for name, (body, expected) in cases.items():
            with self.subTest(name):
                self.assertEqual(self.submit(body)[0], expected)
        self.assertEqual(self.submit(VALID, claims={})[0], 401)
        self.assertEqual(self.sent, [])


if __name__ == "__main__":
    unittest.main()
