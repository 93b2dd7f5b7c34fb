#!/usr/bin/env python3
"""Smart-HTTP git server with Basic authentication, for tokenring's tests and demo.

Serves the bare repositories under --root (like GIT_PROJECT_ROOT) by running
`git http-backend` as a CGI, so real `git clone`/`fetch`/`push` work over HTTP.
Every request must carry `Authorization: Basic ...` matching one entry of the
auth file; anything else gets 401 with `WWW-Authenticate: Basic realm="tokenring-test"`.

Auth file format (--auth-file), re-read on every request so a test can rotate
a token by rewriting it (write a temp file and rename it over the old one):

    # comments and blank lines are ignored; surrounding whitespace is stripped
    alice:s3cret            <- username:password, split at the first ':'

With --api-upstream, requests under /api/ are passed unauthenticated to
that base URL (a token API emulator), so that one origin serves both git
and the token API, as one tokenring account url covers both.

With --check-url instead, a request is accepted when that URL (a token API
emulator's /_control/valid) says its password is a currently valid access
token: the server then accepts exactly what the real API would.

A missing or empty auth file means nobody is accepted.  Secrets are never
taken on the command line and never logged: the --log file gets one line per
request with time, client, method, path, status and the authenticated user
(or '-').  Only loopback addresses may be bound.  Standard library only.
"""
import argparse, base64, hmac, ipaddress, os, signal, socket, subprocess
import sys, threading, time, urllib.parse

import apiproxy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REALM = "tokenring-test"


def load_users(path):
    """Return [(user, password)] from the auth file; [] if it is missing."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    users = []
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#") and ":" in line:
            user, password = line.split(":", 1)
            users.append((user, password))
    return users


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tokenring-git-http/1"
    timeout = 120                     # drop idle keep-alive connections
    user = "-"

    def authenticate(self):
        """Return the user name if the Basic credentials match, else None."""
        kind, _, blob = (self.headers.get("Authorization") or "").partition(" ")
        if kind.lower() != "basic":
            return None
        try:
            user, sep, password = base64.b64decode(blob.strip(), validate=True) \
                .decode("utf-8").partition(":")
        except ValueError:                 # bad base64 or bad UTF-8
            return None
        if self.server.check_url and sep:
            return user if apiproxy.token_valid(self.server.check_url,
                                                password) else None
        ok = False
        for u, p in load_users(self.server.auth_file):
            ok |= bool(sep) and u == user and hmac.compare_digest(
                p.encode("utf-8"), password.encode("utf-8"))
        return user if ok else None

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline().strip():   # skip trailers
                        pass
                    return bytes(body)
                body += self.rfile.read(size)
                self.rfile.readline()                        # CRLF after chunk
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def reply(self, code, headers, body, close=False):
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def proxy(self):
        """Pass an /api/ request to --api-upstream, unauthenticated."""
        body = self.read_body() if self.command == "POST" else None
        code, ctype, out = apiproxy.forward(self, self.server.upstream, body)
        self.reply(code, [("Content-Type", ctype or "text/plain")], out)

    def handle_git(self):
        if self.server.upstream and self.path.startswith("/api/"):
            return self.proxy()
        user = self.authenticate()
        if user is None:            # body left unread, so close the connection
            return self.reply(401, [("WWW-Authenticate", f'Basic realm="{REALM}"'),
                                    ("Content-Type", "text/plain")],
                              b"Authentication required\n", close=True)
        self.user = user
        path, _, query = self.path.partition("?")
        path = urllib.parse.unquote(path)
        if ".." in path.split("/"):
            return self.reply(403, [("Content-Type", "text/plain")], b"Forbidden\n",
                              close=True)
        try:
            body = self.read_body()
        except ValueError:
            return self.reply(400, [], b"Bad request body\n", close=True)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("GIT_", "HTTP_"))}   # never HTTP_AUTHORIZATION
        env.update(GIT_PROJECT_ROOT=self.server.root, GIT_HTTP_EXPORT_ALL="1",
                   GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="http.receivepack",
                   GIT_CONFIG_VALUE_0="true", GATEWAY_INTERFACE="CGI/1.1",
                   REQUEST_METHOD=self.command, PATH_INFO=path, QUERY_STRING=query,
                   CONTENT_TYPE=self.headers.get("Content-Type", ""),
                   CONTENT_LENGTH=str(len(body)), REMOTE_USER=user,
                   REMOTE_ADDR=self.client_address[0])
        for header in ("Content-Encoding", "Git-Protocol"):
            if header in self.headers:
                env["HTTP_" + header.upper().replace("-", "_")] = self.headers[header]
        proc = subprocess.run(["git", "http-backend"], input=body, env=env,
                              stdout=subprocess.PIPE)
        head, sep, out = proc.stdout.partition(b"\r\n\r\n")
        if not sep:
            head, sep, out = proc.stdout.partition(b"\n\n")
        if not sep:
            return self.reply(500, [], b"git http-backend failed\n")
        code, headers = 200, []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.strip().lower() == "status":
                code = int(value.split()[0])
            elif name.strip().lower() != "content-length":
                headers.append((name.strip(), value.strip()))
        self.reply(code, headers, out)

    do_GET = do_POST = do_HEAD = handle_git

    def log_request(self, code="-", size="-"):
        path = (getattr(self, "path", None) or "-").replace(" ", "%20")
        if path.startswith("/api/"):     # token APIs carry tokens in queries
            path = path.partition("?")[0]
        line = "%s %s %s %s %s %s\n" % (
            time.strftime("%Y-%m-%dT%H:%M:%S"), self.client_address[0],
            self.command or "-", path, getattr(code, "value", code), self.user)
        with self.server.log_lock, open(self.server.log_file, "a") as f:
            f.write(line)

    def log_message(self, fmt, *args):    # keep stderr quiet
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", required=True, help="directory of bare repositories")
    ap.add_argument("--auth-file", help="username:password lines")
    ap.add_argument("--check-url", help="instead of the auth file: accept any "
                    "user whose password this URL calls valid (GET URL?token=…"
                    " answering {\"valid\": true}), e.g. an emulator's "
                    "/_control/valid")
    ap.add_argument("--port-file", help="write the bound port here (atomically)")
    ap.add_argument("--log", default=os.devnull, help="append request log here")
    ap.add_argument("--api-upstream", help="proxy requests under /api/ to this "
                    "base URL, so one origin serves git and a token API")
    ap.add_argument("--bind", default="127.0.0.1", help="loopback address only")
    ap.add_argument("--port", type=int, default=0, help="0 = ephemeral")
    args = ap.parse_args()
    try:
        addr = ipaddress.ip_address(args.bind)
    except ValueError:
        ap.error("--bind must be a literal IP address")
    if not addr.is_loopback:
        ap.error(f"refusing to bind non-loopback address {args.bind}")

    class Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6 if addr.version == 6 else socket.AF_INET

    server = Server((args.bind, args.port), Handler)
    server.root = os.path.abspath(args.root)
    if not args.auth_file and not args.check_url:
        ap.error("one of --auth-file and --check-url is required")
    server.auth_file, server.log_file = args.auth_file or os.devnull, args.log
    server.check_url = args.check_url
    server.upstream = (args.api_upstream or "").rstrip("/")
    server.log_lock = threading.Lock()
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(f"{server.server_address[1]}\n")
        os.replace(args.port_file + ".tmp", args.port_file)

    def stop(signum, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
