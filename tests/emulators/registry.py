#!/usr/bin/env python3
"""A container registry stub and a stand-in docker engine, for tokenring's
docker tests.  Python 3 standard library only; loopback only.

Registry: GET/HEAD /v2/ answers 401 with `WWW-Authenticate: Basic
realm="tokenring-test"` unless the request carries Basic credentials that
match one line `username:password` of --auth-file (re-read on every
request), then 200 `{}`.

Engine: the docker CLI, pointed at this server with DOCKER_HOST=tcp://…,
asks GET/HEAD /_ping and POST /v<api>/auth with JSON {"username",
"password", "serveraddress"}; the stub checks those credentials against
the same auth file and answers {"Status": "Login Succeeded"} or 401.  With
--check-url, a password is instead accepted when that URL (a token API
emulator's /_control/valid) calls it valid; with --api-upstream, requests
under /api/ go to that token API emulator (apiproxy.py), so one origin is
both the registry and the API, as one tokenring account url covers both.

--log gets one line per request: method, path, status, user; never a
password.
"""
import argparse, base64, hmac, ipaddress, json, os, signal, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import apiproxy


def load_users(path):
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    return [tuple(l.strip().split(":", 1)) for l in lines
            if ":" in l and not l.strip().startswith("#")]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tokenring-registry/1"
    user = "-"

    def valid(self, user, password):
        if self.server.check_url:
            return apiproxy.token_valid(self.server.check_url, password)
        ok = False
        for u, p in load_users(self.server.auth_file):
            ok |= u == user and hmac.compare_digest(p.encode(), password.encode())
        return ok

    def reply(self, code, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def registry(self):
        kind, _, blob = (self.headers.get("Authorization") or "").partition(" ")
        if kind.lower() == "basic":
            try:
                user, _, pw = base64.b64decode(blob, validate=True).decode() \
                    .partition(":")
            except ValueError:
                user = pw = ""
            if self.valid(user, pw):
                self.user = user
                return self.reply(200, {})
        self.reply(401, {"errors": [{"code": "UNAUTHORIZED"}]},
                   [("WWW-Authenticate", 'Basic realm="tokenring-test"')])

    def engine_auth(self):
        n = int(self.headers.get("Content-Length") or 0)
        try:
            req = json.loads(self.rfile.read(n) or b"{}")
        except ValueError:
            return self.reply(400, {"message": "bad request"})
        user, pw = req.get("username") or "", req.get("password") or ""
        if self.valid(user, pw):
            self.user = user
            return self.reply(200, {"Status": "Login Succeeded",
                                    "IdentityToken": ""})
        self.reply(401, {"message": "login attempt failed: unauthorized"})

    def proxy(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if self.command == "POST" else None
        code, ctype, out = apiproxy.forward(self, self.server.upstream, body)
        self.send_response(code)
        self.send_header("Content-Type", ctype or "text/plain")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def do_GET(self):
        path = self.path.split("?")[0]
        if self.server.upstream and path.startswith("/api/"):
            return self.proxy()
        if path in ("/_ping", "/v1.41/_ping") or path.endswith("/_ping"):
            self.send_response(200)
            self.send_header("Api-Version", "1.41")
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "2")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(b"OK")
            return
        if path.startswith("/v2"):
            return self.registry()
        self.reply(404, {"message": "not found"})

    do_HEAD = do_GET

    def do_POST(self):
        if self.server.upstream and self.path.startswith("/api/"):
            return self.proxy()
        if self.path.split("?")[0].endswith("/auth"):
            return self.engine_auth()
        self.reply(404, {"message": "not found"})

    def log_request(self, code="-", size="-"):
        with self.server.lock, open(self.server.log_file, "a") as f:
            f.write("%s %s %s %s\n" % (self.command, self.path.split("?")[0],
                                       getattr(code, "value", code), self.user))

    def log_message(self, fmt, *args):
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--auth-file", default=os.devnull)
    ap.add_argument("--check-url")
    ap.add_argument("--api-upstream", help="proxy /api/ to this base URL")
    ap.add_argument("--log", default=os.devnull)
    ap.add_argument("--bind", default="127.0.0.1")
    args = ap.parse_args()
    if not ipaddress.ip_address(args.bind).is_loopback:
        ap.error("loopback addresses only")
    server = ThreadingHTTPServer((args.bind, 0), Handler)
    server.auth_file, server.check_url = args.auth_file, args.check_url
    server.upstream = (args.api_upstream or "").rstrip("/")
    server.log_file, server.lock = args.log, threading.Lock()
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.replace(args.port_file + ".tmp", args.port_file)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
