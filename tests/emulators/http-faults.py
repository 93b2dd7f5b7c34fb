#!/usr/bin/env python3
"""A loopback HTTP(S) server with network faults, for t2001-http-policy.sh.

The fault is chosen by the request path:

  /ok              200, JSON echoing the method, path, query, Content-Type,
                   headers and body received (the body as Latin-1 text, with
                   its length and SHA-256); a request header
                   `X-Set-Cookie: v` is answered with `Set-Cookie: v` (and
                   is not echoed)
  /redirect/<code> that 3xx with Location http://127.0.0.2:<evil>/stolen
  /big-chunked     200, an endless chunked body
  /big-length      200, Content-Length: 10737418240, then bytes until the
                   client leaves
  /slow            200 headers, then one byte every 2 s
  /hang            reads the request, never answers (until the client leaves)
  /status/<n>      status n with a small JSON body; 429 and 503 carry
                   `Retry-After: 7`
  /truncated       Content-Length: 500, 100 bytes, close
  /gzip            a gzip-encoded JSON body with Content-Encoding: gzip
  /_control/evil   {"connections": n}: connections the evil listener saw

The "evil" listener on 127.0.0.2 (the main port number when free, else an
ephemeral port, written to --evil-port-file) counts every connection and
answers "stolen"; no test request may ever reach it.

  --port-file FILE       where the main (127.0.0.1) port is written
  --evil-port-file FILE  where the evil port is written
  --tls CERT KEY         serve https with that certificate chain and key

Each request is logged on stderr as "<method> <path without query> <status>";
queries, headers and bodies are never logged.  Standard library only.
"""
import argparse, gzip, hashlib, json, os, select, socket, ssl, sys
import threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GZIP_PAYLOAD = json.dumps({"hello": "world", "padding": "z" * 200}).encode()

evil_lock = threading.Lock()
evil_connections = 0


def write_file(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.rename(tmp, path)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tokenring-http-faults/1"
    timeout = 60

    def setup(self):
        # TLS: the handshake happens here, in the request's thread, so a
        # client that never finishes it cannot block the accept loop.
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()
        super().setup()

    def log_message(self, fmt, *args):
        pass

    def log_request(self, code="-", size="-"):
        path = self.path.split("?", 1)[0]
        sys.stderr.write("%s %s %s\n" % (self.command, path, code))
        sys.stderr.flush()

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    return bytes(body)
                body += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def reply(self, code, body, ctype="application/json", headers=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def reply_json(self, code, obj, headers=()):
        self.reply(code, json.dumps(obj).encode(), headers=headers)

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def dispatch(self):
        path, sep, query = self.path.partition("?")
        body = self.read_body()
        try:
            if path == "/ok":
                self.ok(query if sep else None, body)
            elif path.startswith("/redirect/"):
                self.redirect(int(path[len("/redirect/"):]))
            elif path == "/big-chunked":
                self.big_chunked()
            elif path == "/big-length":
                self.big_length()
            elif path == "/slow":
                self.slow()
            elif path == "/hang":
                self.hang()
            elif path.startswith("/status/"):
                self.status(int(path[len("/status/"):]))
            elif path == "/truncated":
                self.truncated()
            elif path == "/gzip":
                self.gzip()
            elif path == "/_control/evil":
                with evil_lock:
                    n = evil_connections
                self.reply_json(200, {"connections": n})
            else:
                self.reply_json(404, {"error": "no such fault"})
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError,
                socket.timeout):
            self.close_connection = True

    def ok(self, query, body):
        headers = {}
        for name, value in self.headers.items():
            if name.lower() != "x-set-cookie":      # a control, not echoed
                headers[name] = value
        extra = []
        if self.headers.get("X-Set-Cookie"):
            extra.append(("Set-Cookie", self.headers["X-Set-Cookie"]))
        self.reply_json(200, {
            "method": self.command,
            "path": self.path.split("?", 1)[0],
            "query": query,
            "content_type": self.headers.get("Content-Type"),
            "headers": headers,
            "body": body.decode("latin-1"),
            "body_len": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
        }, headers=extra)

    def redirect(self, code):
        where = "http://127.0.0.2:%d/stolen" % self.server.evil_port
        self.reply(code, b'{"moved": true}', headers=[("Location", where)])

    def big_chunked(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"%x\r\n%s\r\n" % (16384, b"A" * 16384)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            self.wfile.write(chunk)
        self.close_connection = True

    def big_length(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "10737418240")
        self.end_headers()
        for _ in range(16 * 1024):          # at most 1 GiB, normally far less
            self.wfile.write(b"B" * 65536)
        self.close_connection = True

    def slow(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "100")
        self.end_headers()
        self.wfile.flush()
        for _ in range(100):
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(2)
        self.close_connection = True

    def hang(self):
        # Answer nothing; leave when the client does (or after 2 minutes).
        deadline = time.monotonic() + 120
        sock = self.connection
        while time.monotonic() < deadline:
            ready, _, _ = select.select([sock], [], [], 1)
            if ready:
                try:
                    if not sock.recv(1):
                        break
                except (OSError, ssl.SSLError):
                    break
        self.close_connection = True

    def status(self, code):
        headers = [("Retry-After", "7")] if code in (429, 503) else []
        if code in (204, 304) or code < 200:
            self.send_response(code)
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            return
        self.reply_json(code, {"status": code}, headers=headers)

    def truncated(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "500")
        self.end_headers()
        self.wfile.write(b"t" * 100)
        self.wfile.flush()
        self.close_connection = True

    def gzip(self):
        data = gzip.compress(GZIP_PAYLOAD, mtime=0)
        self.reply(200, data, headers=[("Content-Encoding", "gzip")])


class Server(ThreadingHTTPServer):
    daemon_threads = True
    tls = None

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.tls:
            sock = self.tls.wrap_socket(sock, server_side=True,
                                        do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        err = sys.exc_info()[1]
        sys.stderr.write("connection error: %s\n" % type(err).__name__)
        sys.stderr.flush()


def evil_listener(sock):
    global evil_connections
    while True:
        conn, _ = sock.accept()
        with evil_lock:
            evil_connections += 1
        sys.stderr.write("EVIL connection\n")
        sys.stderr.flush()
        try:
            conn.settimeout(2)
            try:
                conn.recv(65536)
            except OSError:
                pass
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n"
                         b"Connection: close\r\n\r\nstolen")
        except OSError:
            pass
        finally:
            conn.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--evil-port-file")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = ap.parse_args()

    server = Server(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls[0], args.tls[1])
        server.tls = ctx

    evil = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    evil.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        evil.bind(("127.0.0.2", port))
    except OSError:
        evil.bind(("127.0.0.2", 0))
    evil.listen(16)
    server.evil_port = evil.getsockname()[1]
    threading.Thread(target=evil_listener, args=(evil,), daemon=True).start()

    if args.evil_port_file:
        write_file(args.evil_port_file, "%d\n" % server.evil_port)
    write_file(args.port_file, "%d\n" % port)
    server.serve_forever()


if __name__ == "__main__":
    main()
