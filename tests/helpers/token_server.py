#!/usr/bin/python3
"""A Docker registry token server for tests (the bearer flow of the distribution spec).

docker-registry is configured with `auth: token:` pointing here; it answers clients with
`WWW-Authenticate: Bearer realm=...,service=...,scope=...`, the client fetches a token from this
server, and retries with `Authorization: Bearer <token>`. Tokens are RS256 JWTs whose x5c header
carries the certificate the registry trusts (its rootcertbundle); signing uses the openssl CLI.

Policy, like a public registry with private repositories:
  - correct Basic credentials get every action they ask for;
  - wrong credentials get 401;
  - anonymous clients get `pull` only, and nothing on repositories under `private/`.

Usage: token_server.py PORT_FILE KEY CERT ISSUER SERVICE USER PASSWORD
It listens on 127.0.0.1 on a free port and writes the port to PORT_FILE once it accepts.
"""

import base64
import http.server
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.parse


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main(port_file, key, cert, issuer, service, user, password):
    with open(cert, encoding="ascii") as fh:
        pem = fh.read()
    der_b64 = "".join(l for l in pem.splitlines() if l and not l.startswith("-----"))
    expected_auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def sign(claims):
        header = {"typ": "JWT", "alg": "RS256", "x5c": [der_b64]}
        signing_input = (b64url(json.dumps(header).encode()) + "." +
                         b64url(json.dumps(claims).encode())).encode()
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key],
                                   input=signing_input, capture_output=True, check=True).stdout
        return signing_input.decode() + "." + b64url(signature)

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):
            sys.stderr.write("token-server: " + (fmt % args) + "\n")

        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urllib.parse.urlparse(self.path)
            if url.path != "/token":
                return self.reply(404, {"errors": [{"code": "NOT_FOUND"}]})
            query = urllib.parse.parse_qs(url.query)
            auth = self.headers.get("Authorization")
            if auth is not None and auth != expected_auth:
                return self.reply(401, {"errors": [{"code": "UNAUTHORIZED",
                                                    "message": "wrong credentials"}]})
            subject = user if auth else ""
            access = []
            for scope in query.get("scope", []):
                kind, _, rest = scope.partition(":")
                name, _, actions = rest.rpartition(":")
                wanted = [a for a in actions.split(",") if a]
                if not auth:
                    wanted = [] if name.startswith("private/") else \
                        [a for a in wanted if a == "pull"]
                access.append({"type": kind, "name": name, "actions": wanted})
            now = int(time.time())
            token = sign({"iss": issuer, "sub": subject, "aud": query.get("service", [service])[0],
                          "exp": now + 300, "nbf": now - 10, "iat": now,
                          "jti": secrets.token_hex(8), "access": access})
            self.reply(200, {"token": token, "access_token": token, "expires_in": 300,
                             "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))})

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = f"{port_file}.tmp"
    with open(tmp, "w", encoding="ascii") as fh:
        fh.write(str(server.server_address[1]))
    os.rename(tmp, port_file)
    server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 8:
        sys.exit(__doc__)
    main(*sys.argv[1:])
