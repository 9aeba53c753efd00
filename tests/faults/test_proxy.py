"""The fault proxy refuses what it does not understand: a misspelt fault must never silently inject nothing.

Run by `make test` (`python -m unittest tests/faults/test_proxy.py`); needs no AWS.
"""

import json
import threading
import unittest
import urllib.error
import urllib.parse
import urllib.request
from http.server import ThreadingHTTPServer
from pathlib import Path
import sys

sys.path.insert(0, str(Path(__file__).parent))
import proxy  # noqa: E402


class FaultControlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        handler = proxy.make_handler(proxy.State(), urllib.parse.urlparse("http://127.0.0.1:9"), 0.1)
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.control = f"http://127.0.0.1:{cls.server.server_address[1]}/_faults"

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()

    def post(self, document):
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        request = urllib.request.Request(self.control, data=body, method="POST")
        try:
            with urllib.request.urlopen(request) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    def current(self):
        with urllib.request.urlopen(self.control) as response:
            return json.load(response)["faults"]

    def test_known_faults_are_set(self):
        faults = {"dynamodb": {"throttle": 0.15, "lost_response": 0.05}, "sqs": {"unavailable": 1.0}}
        self.assertEqual(self.post(faults), (200, {"faults": faults}))
        self.assertEqual(self.current(), faults)
        self.assertEqual(self.post({})[0], 200)

    def test_anything_misspelt_is_refused_and_changes_nothing(self):
        self.post({"sqs": {"error": 0.5}})
        for wrong, named in [
            ({"dynamodb": {"throtle": 0.2}}, "throtle"),
            ({"dynamo": {"throttle": 0.2}}, "dynamo"),
            ({"sqs": {"error": 1.5}}, "sqs.error"),
            ({"sqs": {"error": "0.5"}}, "sqs.error"),
            ({"sqs": {"error": 0.6, "timeout": 0.6}}, "more than 1"),
            ({"sqs": 0.5}, "sqs"),
            (["sqs"], "object"),
            (b"{not json", "Expecting"),
        ]:
            status, body = self.post(wrong)
            self.assertEqual(status, 400, wrong)
            self.assertIn(named, body["error"])
        self.assertEqual(self.current(), {"sqs": {"error": 0.5}}, "a refused request leaves the faults as they were")


if __name__ == "__main__":
    unittest.main()
