"""What the token API emulators share: the command line (--port-file,
--log, --bind, --port), a loopback-only threading HTTP server with room for
the tests' bursts of parallel connections, the port written atomically to
the port file, a clean stop on SIGTERM or SIGINT, and a bounded request
body reader."""
import argparse
import ipaddress
import os
import signal
import socket
import threading
from http.server import ThreadingHTTPServer


def arguments(doc, more=None):
    """Parse the common options (and those more(ap) adds); refuse to bind
    anything but a loopback address.  args.addr is the parsed address."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--port-file", required=True, help="write the bound port here")
    ap.add_argument("--log", help="append one line per request here")
    ap.add_argument("--bind", default="127.0.0.1", help="loopback address only")
    ap.add_argument("--port", type=int, default=0, help="0 = ephemeral")
    if more:
        more(ap)
    args = ap.parse_args()
    try:
        args.addr = ipaddress.ip_address(args.bind)
    except ValueError:
        ap.error("--bind must be a literal IP address")
    if not args.addr.is_loopback:
        ap.error(f"refusing to bind non-loopback address {args.bind}")
    return args


def read_body(handler, max_body):
    """handler's request body, chunked or not: bytes, 413 when larger
    than max_body, or None when malformed."""
    if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
        body = bytearray()
        while True:
            try:
                size = int(handler.rfile.readline(100).split(b";")[0].strip(), 16)
            except ValueError:
                return None
            if size == 0:
                while handler.rfile.readline(8192).strip():
                    pass
                return bytes(body)
            if size < 0:
                return None
            if len(body) + size > max_body:
                return 413
            body += handler.rfile.read(size)
            handler.rfile.readline(100)
    try:
        length = int(handler.headers.get("Content-Length") or 0)
    except ValueError:
        return None
    if length < 0:
        return None
    return 413 if length > max_body else handler.rfile.read(length)


def server(args, handler):
    """A bound server for handler; .log_file and .log_lock set."""
    class Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6 if args.addr.version == 6 else socket.AF_INET
        request_queue_size = 128          # 20+ simultaneous connects in the tests
        daemon_threads = True

    s = Server((args.bind, args.port), handler)
    s.log_file, s.log_lock = args.log, threading.Lock()
    return s


def base_url(args, s):
    """http://host:port of the bound server."""
    host = f"[{args.bind}]" if args.addr.version == 6 else args.bind
    return f"http://{host}:{s.server_address[1]}"


def run(s, port_file):
    """Write the port (atomically), then serve until SIGTERM or SIGINT."""
    with open(port_file + ".tmp", "w") as f:
        f.write(f"{s.server_address[1]}\n")
    os.replace(port_file + ".tmp", port_file)

    def stop(signum, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        s.serve_forever()
    finally:
        s.server_close()
    return 0
