#!/usr/bin/env python3
"""A fault-injecting proxy between the functions and the local AWS.

    proxy.py --port 4570 --upstream http://127.0.0.1:4566

The fault stack starts MiniStack with AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_SQS pointing here, so the
SDK inside both functions talks to AWS through this proxy (the emulator's own event source does not). Each request
is forwarded unchanged unless a fault is drawn for it. Faults are set, and counted, over HTTP:

    POST /_faults  {"dynamodb": {"throttle": 0.2, "error": 0.1, "timeout": 0.05, "lost_response": 0.05},
                    "sqs": {"unavailable": 1.0}}
                   (an unknown service or fault name, or a rate outside 0..1, is refused with 400)
    GET  /_faults  the current faults, and how many of each were injected since the proxy started

Faults, each a probability per request:
    throttle       400 ProvisionedThroughputExceededException (DynamoDB) / RequestThrottled (SQS); not forwarded
    error          500 InternalServerError; not forwarded
    unavailable    503 ServiceUnavailable; not forwarded
    timeout        no answer for --stall seconds, then the connection closes; not forwarded
    lost_response  forwarded (the write happens), then no answer: the caller cannot know it succeeded
"""

import argparse
import http.client
import json
import random
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = ("throttle", "error", "unavailable", "timeout", "lost_response")
ERRORS = {
    ("dynamodb", "throttle"): (400, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"),
    ("dynamodb", "error"): (500, "com.amazonaws.dynamodb.v20120810#InternalServerError"),
    ("dynamodb", "unavailable"): (503, "com.amazonaws.dynamodb.v20120810#ServiceUnavailable"),
    ("sqs", "throttle"): (400, "com.amazonaws.sqs#RequestThrottled"),
    ("sqs", "error"): (500, "com.amazonaws.sqs#InternalError"),
    ("sqs", "unavailable"): (503, "com.amazonaws.sqs#ServiceUnavailable"),
}
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization"}


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.faults = {}
        self.injected = {}
        self.forwarded = 0

    def draw(self, service):
        with self.lock:
            rates = self.faults.get(service, {})
            roll = random.random()
            for fault in FAULTS:
                rate = float(rates.get(fault, 0))
                if roll < rate:
                    key = f"{service}.{fault}"
                    self.injected[key] = self.injected.get(key, 0) + 1
                    return fault
                roll -= rate
            return None

    def snapshot(self):
        with self.lock:
            return {"faults": self.faults, "injected": dict(self.injected), "forwarded": self.forwarded}


SERVICES = ("dynamodb", "sqs")


def validated(document):
    """The faults as posted, or ValueError naming what is wrong: an unknown service or fault name (a typo would
    otherwise inject nothing, silently), a rate that is not a probability, or rates that add up to more than 1."""
    if not isinstance(document, dict):
        raise ValueError("faults must be a JSON object of service to rates")
    for service, rates in document.items():
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}; known: {', '.join(SERVICES)}")
        if not isinstance(rates, dict):
            raise ValueError(f"{service}: rates must be an object of fault to probability")
        for fault, rate in rates.items():
            if fault not in FAULTS:
                raise ValueError(f"{service}: unknown fault {fault!r}; known: {', '.join(FAULTS)}")
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
                raise ValueError(f"{service}.{fault}: a rate is a number from 0 to 1")
        if sum(rates.values()) > 1:
            raise ValueError(f"{service}: the rates add up to more than 1")
    return document


def service_of(headers):
    target = headers.get("X-Amz-Target", "")
    if target.startswith("DynamoDB_"):
        return "dynamodb"
    if target.startswith("AmazonSQS."):
        return "sqs"
    scope = headers.get("Authorization", "")
    for service in ("dynamodb", "sqs"):
        if f"/{service}/aws4_request" in scope:
            return service
    return "other"


def make_handler(state, upstream, stall):
    host, port = upstream.hostname, upstream.port or 80

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status, document, content_type="application/x-amz-json-1.0"):
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/_faults":
                return self.reply(200, state.snapshot(), "application/json")
            self.forward(b"")

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/_faults":
                try:
                    faults = validated(json.loads(body or b"{}"))
                except ValueError as error:  # json.JSONDecodeError is a ValueError too
                    return self.reply(400, {"error": str(error)}, "application/json")
                with state.lock:
                    state.faults = faults
                return self.reply(200, {"faults": state.faults}, "application/json")
            self.forward(body)

        def stall_and_close(self):
            time.sleep(stall)
            self.close_connection = True

        def forward(self, body):
            service = service_of(self.headers)
            fault = state.draw(service) if service != "other" else None
            if fault == "timeout":
                return self.stall_and_close()
            if fault in ("throttle", "error", "unavailable"):
                status, kind = ERRORS[(service, fault)]
                return self.reply(status, {"__type": kind, "message": f"injected {fault}"})
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            connection = http.client.HTTPConnection(host, port, timeout=60)
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            finally:
                connection.close()
            with state.lock:
                state.forwarded += 1
            if fault == "lost_response":
                return self.stall_and_close()
            self.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=4570)
    parser.add_argument("--upstream", default="http://127.0.0.1:4566")
    parser.add_argument("--stall", type=float, default=4.0, help="seconds a timeout holds the connection (beyond the SDK attempt timeouts)")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port),
                                 make_handler(State(), urllib.parse.urlparse(args.upstream), args.stall))
    server.daemon_threads = True
    print(f"fault proxy on 127.0.0.1:{args.port} -> {args.upstream}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
