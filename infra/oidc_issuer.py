#!/usr/bin/env python3
"""A local OIDC issuer for the local stack: the stand-in for the trial's identity provider.

    oidc_issuer.py --port 4567 --audience epro-intake-local

Generates an RSA key at its first start (kept in --key-file, so a restarted issuer still matches the JWKS the API
has cached; `make local-down` deletes it) and serves, on 127.0.0.1 only:

    GET  /.well-known/openid-configuration   discovery; API Gateway's JWT authorizer reads jwks_uri from it
    GET  /.well-known/jwks.json              the public key
    POST /token                              mints a token (below)

POST /token takes {"patient_id": "P-1", "trial_id": "T-1"} (trial_id may also be a list) or, for study staff,
{"staff_id": "S-1", "trial_id": "T-1", "scope": "alerts:read alerts:acknowledge"}, and optionally, to make tokens
the API must refuse: "audience" (override), "expires_in" (seconds, default 900; negative = expired), "not_before"
(seconds from now), "issuer" (override), "omit" (claims to leave out), "sign" ("rs256", "none", "hs256-public-key",
"other-key").

The token endpoint exists only here, for tests and the load generator; a real deployment points the template's
JwtIssuer at the trial's identity provider.
"""

import argparse
import base64
import hashlib
import hmac
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


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unverifiable(claims, headers, sign, public_pem):
    """Tokens no verifier may accept: unsigned (alg none), or HMAC-signed with the public key as the secret
    (algorithm confusion). PyJWT refuses to make the second, rightly, so it is made by hand."""
    alg = "none" if sign == "none" else "HS256"
    header = _b64url(json.dumps({**headers, "alg": alg, "typ": "JWT"}).encode())
    payload = _b64url(json.dumps(claims).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = b"" if sign == "none" else hmac.new(public_pem, signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(signature)}"


def make_handler(issuer, audience, private_key):
    public_jwk = RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
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
                subject = request.get("patient_id") or request["staff_id"]
                expires_in = int(request.get("expires_in", 900))
                not_before = request.get("not_before")
                omit = set(request.get("omit", []))
                sign = request.get("sign", "rs256")
            except (ValueError, KeyError, TypeError):
                return self.reply(400, {"error": "expected {\"patient_id\" or \"staff_id\": ..., \"trial_id\": ..., ...}"})
            now = int(time.time())
            claims = {
                "iss": request.get("issuer", issuer),
                "aud": request.get("audience", audience),
                "sub": f"user-{subject}",
                "iat": now if expires_in > 0 else now + expires_in - 900,
                "exp": now + expires_in,
            }
            for claim in ("patient_id", "staff_id", "trial_id", "scope"):
                if claim in request:
                    claims[claim] = request[claim]
            if not_before is not None:
                claims["nbf"] = now + int(not_before)
            for claim in omit:
                claims.pop(claim, None)
            headers = {"kid": key_id}
            if sign in ("none", "hs256-public-key"):
                token = _unverifiable(claims, headers, sign, public_pem)
            else:
                key = other_key if sign == "other-key" else private_key
                token = jwt.encode(claims, key, algorithm="RS256", headers=headers)
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
