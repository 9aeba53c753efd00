#!/usr/bin/env python3
"""A local OIDC issuer for the local stack: the stand-in for the trial's identity provider.

    oidc_issuer.py --port 4567 --audience epro-intake-local

Generates an RSA key at its first start (kept in --key-file, so a restarted issuer still matches the JWKS the API
has cached; `make local-down` deletes it) and serves, on 127.0.0.1 only:

    GET  /.well-known/openid-configuration   discovery; API Gateway's JWT authorizer reads jwks_uri from it
    GET  /.well-known/jwks.json              the public key
    POST /token                              mints a token: {"patient_id": "P-1"} and optionally
                                             "audience" (override), "expires_in" (seconds; negative = expired)

The token endpoint exists only here, for tests and the load generator; a real deployment points the template's
JwtIssuer at the trial's identity provider.
"""

import argparse
import hashlib
import json
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

MAX_TOKEN_REQUEST_BYTES = 4096


def load_or_create_key(path):
    if os.path.exists(path):
        with open(path, "rb") as file:
            return serialization.load_pem_private_key(file.read(), password=None)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    return key


def make_handler(issuer, audience, private_key):
    public_jwk = RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    key_id = hashlib.sha256(public_jwk["n"].encode()).hexdigest()[:16]  # stable for a key, new for a new one
    jwk = {**public_jwk, "kid": key_id, "use": "sig", "alg": "RS256"}
    documents = {
        "/.well-known/openid-configuration": {
            "issuer": issuer,
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "token_endpoint": f"{issuer}/token",
            "id_token_signing_alg_values_supported": ["RS256"],
        },
        "/.well-known/jwks.json": {"keys": [jwk]},
    }

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def reply(self, status, document):
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            document = documents.get(self.path)
            self.reply(200, document) if document else self.reply(404, {"error": "not_found"})

        def do_POST(self):
            if self.path != "/token":
                return self.reply(404, {"error": "not_found"})
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_TOKEN_REQUEST_BYTES:
                return self.reply(413, {"error": "too_large"})
            try:
                request = json.loads(self.rfile.read(length) or b"{}")
                patient_id = request["patient_id"]
                expires_in = int(request.get("expires_in", 3600))
                token_audience = request.get("audience", audience)
            except (ValueError, KeyError, TypeError):
                return self.reply(400, {"error": "expected {\"patient_id\": ..., \"expires_in\"?, \"audience\"?}"})
            now = int(time.time())
            claims = {
                "iss": issuer,
                "aud": token_audience,
                "sub": f"user-{patient_id}",
                "patient_id": patient_id,
                "iat": now if expires_in > 0 else now + expires_in - 3600,
                "exp": now + expires_in,
            }
            token = jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": key_id})
            self.reply(200, {"access_token": token, "token_type": "Bearer", "expires_in": expires_in})

        def log_message(self, *args):
            pass  # token requests name patients; keep them out of the log

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=4567)
    parser.add_argument("--audience", default="epro-intake-local")
    parser.add_argument("--key-file", default="oidc-key.pem")
    args = parser.parse_args()
    issuer = f"http://127.0.0.1:{args.port}"
    private_key = load_or_create_key(args.key_file)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(issuer, args.audience, private_key))
    server.daemon_threads = True
    print(f"issuer {issuer}, audience {args.audience}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
