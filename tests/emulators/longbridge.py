#!/usr/bin/env python3
"""Longbridge / LongPort OpenAPI token emulator, for tokenring's tests.

Reproduces PROVIDERS.md section 3.4 items 1-4 and 6 on loopback, over plain
HTTP, with switches for the open questions of section 5.  (Item 5, OAuth
mode, is the generic OAuth emulator's job.)  Standard library only.

State: apps {app_key: {app_secret, aaid, member_id}}; tokens {token,
app_key, aaid, expired_at (epoch ms), issued_at, status in active,
superseded, revoked}; the set of (token, X-Timestamp, signature) triples
seen.

Command line (no secret is ever taken from it):

    longbridge.py --port-file FILE [--log FILE] [--bind 127.0.0.1] [--port 0]

  --port-file  after binding, the port + "\\n" is written to FILE.tmp, then
               renamed over FILE (poll for FILE to appear).
  --log        one line per request: time, method, path WITHOUT the query,
               status, Longbridge code.  Never a header, token or secret.
  --bind       a loopback address only (127.0.0.0/8 or ::1); else exit 2.
  --port       0 = ephemeral.
  SIGTERM and SIGINT end the server with status 0.

API endpoints (answers are "application/json; charset=utf-8" with an
x-trace-id header, except the plain 429 of ratelimit_body=plain):

  GET  /v1/token/refresh?expired_at=<RFC 3339>   the current refresh
  POST /v1/openapi/token/refresh                 the 2022 draft: JSON body
                                                 {expired_at, aaid} and an
                                                 Account-Channel header
  GET  /v1/asset/account, GET /v1/test           the probe: {code 0} while
                                                 the token is usable

  Success: {"code":0,"message":"","data":{"token","expired_at","issued_at",
  "account_info":{"member_id","aaid","account_channel"}}}; the new token's
  expired_at is the requested time capped by max_lifetime_s; the old token
  becomes "superseded" at once.  Errors: {"code":N,"message":"...",
  "data":null} ("msg" instead with msg_field), with the HTTP status of
  PROVIDERS.md 3.1.

  Order of checks on every API call: unknown path 404 (404001), method 405
  (405001), then on the refresh endpoints fail_next; then ratelimit_ip
  (429/429001), ratelimit_api (429/429002); then the legacy headers:
    - no Authorization -> 401/401004;
    - no X-Api-Key -> 403/403203 (unless require_signature is false and
      none of X-Api-Key, X-Timestamp, X-Api-Signature is present: then the
      request is "unsigned" and goes on without signature checks);
    - no X-Timestamp or X-Api-Signature, or a malformed one -> 403/403201;
    - unknown app key -> 403/403203;
    - signature recomputed over the method, the raw path, the RAW query as
      received (not decoded), the three header lines and, for a non-empty
      body, its SHA-1; a mismatch -> 403/403201;
    - X-Timestamp more than timestamp_window_s from the emulator's clock ->
      403/timestamp_error;
    - a (token, timestamp, signature) triple seen before, or replay_next
      left -> 403/403202;
  then the token: unknown or revoked -> 401/401004; superseded ->
  401/superseded_code; expired -> 401/401003; another app's token ->
  401/401004; then the parameters: a missing, zone-less, unparseable or
  past expired_at -> 400/400000; draft: a body that is not
  {expired_at, aaid} strings, an aaid not the token's, or an
  Account-Channel not lb or pspl_sg -> 400/400000; a Content-Type that is
  not application/json -> 400/400000.

Switches (POST /_control/config {name: value, ...}; unknown names -> 400):
  clock_offset_ms      0          ms added to the real clock (expiry, window)
  timestamp_window_s   300        accepted |X-Timestamp - now|
  timestamp_error      403201     or 403202: the code for a stale timestamp
  superseded_code      401004     or 401003: what a superseded token gets
  max_lifetime_s       null       caps the lifetime a refresh grants
  msg_field            "message"  or "msg": the name of the error text
  expired_at_format    "utc_ms"   2026-04-14T12:13:57.859Z;
                       "zoneless" 2026-04-14T12:13:57.859 (meaning UTC);
                       "offset"   2026-04-14T20:13:57.859+08:00;
                       "absent"   no expired_at in the answer
  ratelimit_ip         0          the next N API calls -> 429/429001
  ratelimit_api        0          the next N API calls -> 429/429002
  ratelimit_body       "json"     or "plain": a text/plain 429 body
  ratelimit_retry_after null      a Retry-After value (string) for 429s
  replay_next          0          the next N signed calls that pass the
                                  signature check -> 403/403202
  require_signature    true       false: unsigned requests are accepted
  draft_enabled        true       false: the draft endpoint answers 404
  refresh_delay_ms     0          a refresh commits, sleeps, then answers
  fail_next            []         consumed one per refresh-endpoint call,
                                  answered without touching state.  Items:
                                  a status (int; code = status * 1000) or
                                  {"status", "code", "message", "body",
                                  "content_type", "retry_after"}

Control channel (same port, never counted or logged; JSON in, JSON out;
errors are {"error": "..."} with 400/404):
  GET  /_control/config          -> full config
  POST /_control/config          {switch: value, ...} -> full config
  POST /_control/app             {"app_key", "app_secret", "aaid"? ("13"),
                                  "member_id"? (123)} -> {"app_key"}
  POST /_control/token           {"lifetime_s"? (7776000), "issued_ago_s"? (0),
                                  "token"?, "app_key"? (the last app), "aaid"?}
                                 mints an active token -> {"token",
                                 "expired_at" (RFC 3339, ms, Z), "expired_at_ms",
                                 "issued_at_ms", "app_key", "aaid"}
  POST /_control/expire          {"token"} or {} (every active token):
                                 expired_at = now -> {"expired": n}
  POST /_control/revoke          {"token"} -> {"revoked": 1}
  POST /_control/valid           {"token"} -> {"valid": bool, "status": ...}
  GET  /_control/counters        -> {"requests", "refresh", "refresh_draft",
                                  "probe", "signed", "unsigned",
                                  "signature_rejected", "replay_rejected",
                                  "apikey_rejected", "token_rejected",
                                  "ratelimited", "bad_request"}
  POST /_control/reset_counters  zeroes the counters AND clears the log
  GET  /_control/tokens          -> [{token, status, app_key, aaid,
                                  expired_at_ms, issued_at_ms, expired,
                                  origin, refreshes, probes}], oldest first
  GET  /_control/requests        -> [{seq, method, path (raw), query (raw),
                                  headers [[name, value]], body, status,
                                  code}]: every API request verbatim, the
                                  only place request contents are visible
                                  (last 10000)
  POST /_control/reset           back to the start state

Tokens and app secrets never go to the --log file or stderr.
"""
import base64, datetime, hashlib, hmac, http, json, re
import secrets, sys, threading, time, urllib.parse
from http.server import BaseHTTPRequestHandler

import emulator

DAY_MS = 86400 * 1000
SITE_LIFETIME_S = 90 * 86400
MAX_BODY = 1 << 20
MAX_LOG_ENTRIES = 10000
JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
SIGNED_HEADERS = "authorization;x-api-key;x-timestamp"
SIG_RE = re.compile(r"HMAC-SHA256 SignedHeaders=([a-z;-]+), Signature=([0-9a-f]{64})\Z")
TS_RE = re.compile(r"[0-9]{1,12}(\.[0-9]{1,6})?\Z")
TIME_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
                     r"(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})\Z")
CHANNELS = ("lb", "pspl_sg")
REFRESH_ENDPOINTS = ("refresh", "refresh_draft")

MESSAGES = {
    400000: "invalid params",
    401003: "token expired",
    401004: "token invalid",
    403201: "signature invalid",
    403202: "duplicate request",
    403203: "apikey illegal",
    403205: "ip is not allowed",
    404001: "not found",
    405001: "method not allowed",
    429001: "ip request ratelimit",
    429002: "api request is limited",
    500000: "internal error",
}

DEFAULT_CONFIG = {
    "clock_offset_ms": 0,
    "timestamp_window_s": 300,
    "timestamp_error": 403201,
    "superseded_code": 401004,
    "max_lifetime_s": None,
    "msg_field": "message",
    "expired_at_format": "utc_ms",
    "ratelimit_ip": 0,
    "ratelimit_api": 0,
    "ratelimit_body": "json",
    "ratelimit_retry_after": None,
    "replay_next": 0,
    "require_signature": True,
    "draft_enabled": True,
    "refresh_delay_ms": 0,
    "fail_next": [],
}
COUNTER_NAMES = ("requests", "refresh", "refresh_draft", "probe", "signed",
                 "unsigned", "signature_rejected", "replay_rejected",
                 "apikey_rejected", "token_rejected", "ratelimited",
                 "bad_request")


class BadInput(Exception):
    """A control request the emulator refuses (answered 400)."""


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_fail_item(item):
    if is_int(item):
        item = {"status": item}
    if not isinstance(item, dict) or not is_int(item.get("status")) \
            or not 100 <= item["status"] <= 599:
        raise BadInput("fail_next items: a status 100..599 or {\"status\": ...}")
    for key, value in item.items():
        if key not in ("status", "code", "message", "retry_after", "body",
                       "content_type"):
            raise BadInput(f"fail_next item: unknown key {key!r}")
        if key == "code" and not is_int(value):
            raise BadInput("fail_next item: code must be an integer")
        if key not in ("status", "code") and not isinstance(value, str):
            raise BadInput(f"fail_next item: {key} must be a string")
    return item


def check_switch(name, value):
    """Return the validated value of one switch, or raise BadInput."""
    if name not in DEFAULT_CONFIG:
        raise BadInput(f"unknown switch {name!r}")
    choices = {
        "timestamp_error": (403201, 403202),
        "superseded_code": (401004, 401003),
        "msg_field": ("message", "msg"),
        "expired_at_format": ("utc_ms", "zoneless", "offset", "absent"),
        "ratelimit_body": ("json", "plain"),
    }
    if name in choices:
        if value not in choices[name] or isinstance(value, bool):
            raise BadInput(f"{name} must be one of {choices[name]}")
    elif name in ("require_signature", "draft_enabled"):
        if not isinstance(value, bool):
            raise BadInput(f"{name} must be true or false")
    elif name == "max_lifetime_s":
        if value is not None and (not is_int(value) or value < 1):
            raise BadInput("max_lifetime_s must be a positive integer or null")
    elif name == "ratelimit_retry_after":
        if value is not None and not isinstance(value, str):
            raise BadInput("ratelimit_retry_after must be a string or null")
    elif name == "fail_next":
        if not isinstance(value, list):
            raise BadInput("fail_next must be a list")
        value = [check_fail_item(i) for i in value]
    elif name == "clock_offset_ms":
        if not is_int(value):
            raise BadInput("clock_offset_ms must be an integer")
    else:
        if not is_int(value) or value < 0:
            raise BadInput(f"{name} must be a non-negative integer")
    return value


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def new_token(app_key, iat_ms, exp_ms):
    """A JWT-shaped token (real ones are JWTs); the signature is random."""
    head = b64url(b'{"alg":"HS256","typ":"JWT"}')
    body = b64url(json.dumps({"iss": "emulator", "sub": app_key,
                              "iat": iat_ms // 1000, "exp": exp_ms // 1000,
                              "jti": secrets.token_hex(8)},
                             separators=(",", ":")).encode())
    return f"{head}.{body}.{b64url(secrets.token_bytes(32))}"


def format_time(ms, style="utc_ms"):
    dt = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    frac = ".%03d" % (ms % 1000)
    if style == "offset":
        dt = dt.astimezone(datetime.timezone(datetime.timedelta(hours=8)))
        return dt.strftime("%Y-%m-%dT%H:%M:%S") + frac + "+08:00"
    text = dt.strftime("%Y-%m-%dT%H:%M:%S") + frac
    return text if style == "zoneless" else text + "Z"


def parse_time(text):
    """Epoch ms of an RFC 3339 time with a zone, or None."""
    m = TIME_RE.match(text) if isinstance(text, str) else None
    if not m:
        return None
    try:
        dt = datetime.datetime(*(int(m.group(i)) for i in range(1, 7)),
                               tzinfo=datetime.timezone.utc)
    except ValueError:
        return None
    ms = int(dt.timestamp()) * 1000
    if m.group(7):
        ms += int((m.group(7)[1:] + "000")[:3])
    zone = m.group(8)
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        ms -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60) * 1000
    return ms


def signature(method, path, query, token, app_key, ts, body, secret):
    """PROVIDERS.md 3.0, over exactly what was received."""
    canonical = (f"{method}|{path}|{query}|authorization:{token}\n"
                 f"x-api-key:{app_key}\nx-timestamp:{ts}\n|{SIGNED_HEADERS}|")
    if body:
        canonical += hashlib.sha1(body).hexdigest()
    to_sign = "HMAC-SHA256|" + hashlib.sha1(canonical.encode()).hexdigest()
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Response:
    def __init__(self, status, body=b"", ctype=JSON_TYPE, headers=(),
                 delay_ms=0, code=None):
        self.status, self.body, self.ctype = status, body, ctype
        self.headers, self.delay_ms, self.code = list(headers), delay_ms, code


class Emulator:
    """All mutable state; every access goes through self.lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset_all()

    def reset_all(self):
        self.config = json.loads(json.dumps(DEFAULT_CONFIG))
        self.apps = {}                 # app_key -> {app_secret, aaid, member_id}
        self.last_app = None
        self.tokens = {}               # token -> record, oldest first
        self.seen = set()              # (token, ts, signature)
        self.reset_counters()

    def reset_counters(self):
        self.counters = {k: 0 for k in COUNTER_NAMES}
        self.reqlog = []
        self.seq = 0

    def now(self):
        return int(time.time() * 1000) + self.config["clock_offset_ms"]

    def mint(self, now, exp_ms, app_key, aaid, origin, token=None, issued=None):
        issued = now if issued is None else issued
        while token is None or token in self.tokens:
            token = new_token(app_key or "-", issued, exp_ms)
        rec = {"token": token, "status": "active", "app_key": app_key,
               "aaid": aaid, "expired_at_ms": exp_ms, "issued_at_ms": issued,
               "origin": origin, "refreshes": 0, "probes": 0}
        self.tokens[token] = rec
        return rec

    # --- answers ------------------------------------------------------------
    def error(self, status, code, message=None, headers=()):
        body = {"code": code, self.config["msg_field"]:
                MESSAGES.get(code, "error") if message is None else message,
                "data": None}
        return Response(status, dumps(body), JSON_TYPE, headers, code=code)

    def ok(self, data, delay_ms=0):
        body = {"code": 0, "message": "", "data": data}
        return Response(200, dumps(body), delay_ms=delay_ms, code=0)

    def injected(self, item):
        status = item["status"]
        headers = []
        if "retry_after" in item:
            headers.append(("Retry-After", item["retry_after"]))
        if "body" in item:
            return Response(status, item["body"].encode("utf-8"),
                            item.get("content_type", JSON_TYPE), headers)
        code = item.get("code", status * 1000)
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = "error"
        resp = self.error(status, code, item.get("message",
                                                 MESSAGES.get(code, phrase)),
                          headers)
        resp.ctype = item.get("content_type", JSON_TYPE)
        return resp

    def ratelimited(self, code):
        self.counters["ratelimited"] += 1
        headers = []
        if self.config["ratelimit_retry_after"] is not None:
            headers.append(("Retry-After", self.config["ratelimit_retry_after"]))
        if self.config["ratelimit_body"] == "plain":
            return Response(429, b"Too Many Requests", TEXT_TYPE, headers)
        return self.error(429, code, headers=headers)

    # --- API (caller holds the lock) ----------------------------------------
    def api(self, method, path, query, headers, body):
        self.counters["requests"] += 1
        if path == "/v1/token/refresh":
            ep, want = "refresh", "GET"
        elif path == "/v1/openapi/token/refresh" and self.config["draft_enabled"]:
            ep, want = "refresh_draft", "POST"
        elif path in ("/v1/asset/account", "/v1/test"):
            ep, want = "probe", "GET"
        else:
            return self.error(404, 404001)
        self.counters[ep] += 1
        if method != want:
            return self.error(405, 405001, headers=[("Allow", want)])
        if ep in REFRESH_ENDPOINTS and self.config["fail_next"]:
            return self.injected(self.config["fail_next"].pop(0))
        for switch, code in (("ratelimit_ip", 429001), ("ratelimit_api", 429002)):
            if self.config[switch] > 0:
                self.config[switch] -= 1
                return self.ratelimited(code)
        now = self.now()
        token = headers.get("Authorization")
        if not token:
            self.counters["token_rejected"] += 1
            return self.error(401, 401004)
        app_key = headers.get("X-Api-Key")
        ts = headers.get("X-Timestamp")
        sig = headers.get("X-Api-Signature")
        if app_key is None and ts is None and sig is None \
                and not self.config["require_signature"]:
            self.counters["unsigned"] += 1
        else:
            resp = self.check_signature(method, path, query, token, app_key,
                                        ts, sig, body, now)
            if resp:
                return resp
            self.counters["signed"] += 1
        rec = self.tokens.get(token)
        if rec is not None:
            if ep == "probe":
                rec["probes"] += 1
            else:
                rec["refreshes"] += 1
        resp = self.check_token(rec, app_key, now)
        if resp:
            self.counters["token_rejected"] += 1
            return resp
        if ep == "probe":
            app = self.apps.get(rec["app_key"], {})
            return self.ok({"list": [{"currency": "HKD", "total_cash": "0"}],
                            "member_id": app.get("member_id", 123)})
        if "application/json" not in headers.get("Content-Type", ""):
            return self.bad_request("content type")
        if ep == "refresh":
            params = urllib.parse.parse_qs(query, keep_blank_values=True)
            values = params.get("expired_at", [])
            requested = parse_time(values[0]) if len(values) == 1 else None
            channel = None
        else:
            try:
                doc = json.loads(body.decode("utf-8"))
            except ValueError:
                doc = None
            if not isinstance(doc, dict) or not isinstance(doc.get("expired_at"), str) \
                    or not isinstance(doc.get("aaid"), str):
                return self.bad_request("body")
            if doc["aaid"] != str(rec["aaid"]):
                return self.bad_request("aaid")
            channel = headers.get("Account-Channel")
            if channel not in CHANNELS:
                return self.bad_request("account channel")
            requested = parse_time(doc["expired_at"])
        if requested is None or requested <= now:
            return self.bad_request("expired_at")
        return self.refresh(now, rec, requested, channel or "lb")

    def bad_request(self, what):
        self.counters["bad_request"] += 1
        return self.error(400, 400000, "invalid params: " + what)

    def check_signature(self, method, path, query, token, app_key, ts, sig,
                        body, now):
        if app_key is None:
            self.counters["apikey_rejected"] += 1
            return self.error(403, 403203)
        m = SIG_RE.match(sig or "")
        if ts is None or not TS_RE.match(ts) or not m or m.group(1) != SIGNED_HEADERS:
            self.counters["signature_rejected"] += 1
            return self.error(403, 403201)
        app = self.apps.get(app_key)
        if app is None:
            self.counters["apikey_rejected"] += 1
            return self.error(403, 403203)
        want = signature(method, path, query, token, app_key, ts, body,
                         app["app_secret"])
        if not hmac.compare_digest(want, m.group(2)):
            self.counters["signature_rejected"] += 1
            return self.error(403, 403201)
        if abs(float(ts) * 1000 - now) > self.config["timestamp_window_s"] * 1000:
            code = self.config["timestamp_error"]
            self.counters["signature_rejected" if code == 403201
                          else "replay_rejected"] += 1
            return self.error(403, code)
        triple = (token, ts, m.group(2))
        if triple in self.seen or self.config["replay_next"] > 0:
            if triple not in self.seen:
                self.config["replay_next"] -= 1
            self.seen.add(triple)
            self.counters["replay_rejected"] += 1
            return self.error(403, 403202)
        self.seen.add(triple)
        return None

    def check_token(self, rec, app_key, now):
        if rec is None or rec["status"] == "revoked":
            return self.error(401, 401004)
        if rec["status"] == "superseded":
            return self.error(401, self.config["superseded_code"])
        if now >= rec["expired_at_ms"]:
            return self.error(401, 401003)
        if app_key is not None and rec["app_key"] not in (None, app_key):
            return self.error(401, 401004)
        return None

    def refresh(self, now, rec, requested, channel):
        cap = self.config["max_lifetime_s"]
        exp = requested if cap is None else min(requested, now + cap * 1000)
        rec["status"] = "superseded"
        new = self.mint(now, exp, rec["app_key"], rec["aaid"], "refresh")
        app = self.apps.get(rec["app_key"], {})
        data = {"token": new["token"], "issued_at": format_time(now),
                "account_info": {"member_id": app.get("member_id", 123),
                                 "aaid": rec["aaid"],
                                 "account_channel": channel}}
        style = self.config["expired_at_format"]
        if style != "absent":
            data["expired_at"] = format_time(exp, style)
        return self.ok(data, delay_ms=self.config["refresh_delay_ms"])

    # --- control channel (caller holds the lock) ----------------------------
    def control(self, method, path, doc):
        name = path[len("/_control/"):]
        get_ok = name in ("config", "counters", "tokens", "requests")
        if method not in ("GET", "POST") or (method == "GET" and not get_ok):
            raise BadInput(f"{method} /_control/{name} is not supported")
        if method == "POST" and not isinstance(doc, dict):
            raise BadInput("the body must be a JSON object")
        now = self.now()
        if name == "config":
            if method == "POST":
                self.config.update({k: check_switch(k, v) for k, v in doc.items()})
            return self.config
        if name == "app":
            key, sec = doc.get("app_key"), doc.get("app_secret")
            aaid, member = doc.get("aaid", "13"), doc.get("member_id", 123)
            for v in (key, sec):
                if not isinstance(v, str) or not re.fullmatch(r"[!-~]{1,1024}", v):
                    raise BadInput("app_key and app_secret must be visible ASCII")
            if not isinstance(aaid, str) or not is_int(member):
                raise BadInput("aaid must be a string, member_id an integer")
            self.apps[key] = {"app_secret": sec, "aaid": aaid, "member_id": member}
            self.last_app = key
            return {"app_key": key}
        if name == "token":
            life = doc.get("lifetime_s", SITE_LIFETIME_S)
            ago = doc.get("issued_ago_s", 0)
            token = doc.get("token")
            app_key = doc.get("app_key", self.last_app)
            if not is_int(life) or not is_int(ago):
                raise BadInput("lifetime_s and issued_ago_s must be integers")
            if token is not None and (not isinstance(token, str) or
                                      not re.fullmatch(r"[!-~]{1,8192}", token)):
                raise BadInput("token must be visible ASCII")
            if token is not None and token in self.tokens:
                raise BadInput("that token already exists")
            if app_key is not None and app_key not in self.apps:
                raise BadInput("no such app_key")
            aaid = doc.get("aaid", self.apps.get(app_key, {}).get("aaid", "13"))
            issued = now - ago * 1000
            rec = self.mint(now, issued + life * 1000, app_key, aaid, "control",
                            token, issued)
            return {"token": rec["token"], "expired_at": format_time(rec["expired_at_ms"]),
                    "expired_at_ms": rec["expired_at_ms"],
                    "issued_at_ms": rec["issued_at_ms"], "app_key": app_key,
                    "aaid": aaid}
        if name in ("expire", "revoke", "valid"):
            token = doc.get("token")
            if token is not None and token not in self.tokens:
                raise LookupError("no such token")
            if name == "valid":
                rec = self.tokens.get(token)
                if rec is None:
                    raise BadInput("valid needs a token")
                return {"valid": self.check_token(rec, None, now) is None,
                        "status": rec["status"]}
            if name == "revoke":
                if token is None:
                    raise BadInput("revoke needs a token")
                self.tokens[token]["status"] = "revoked"
                return {"revoked": 1}
            targets = [self.tokens[token]] if token is not None else \
                [r for r in self.tokens.values()
                 if r["status"] == "active" and r["expired_at_ms"] > now]
            for r in targets:
                r["expired_at_ms"] = now
            return {"expired": len(targets)}
        if name == "counters":
            return dict(self.counters)
        if name == "reset_counters":
            self.reset_counters()
            return dict(self.counters)
        if name == "reset":
            self.reset_all()
            return self.config
        if name == "tokens":
            return [dict(r, expired=now >= r["expired_at_ms"])
                    for r in self.tokens.values()]
        if name == "requests":
            return self.reqlog
        raise LookupError(f"no control endpoint {name!r}")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tokenring-longbridge/1"
    timeout = 120

    def read_body(self):
        """The request body; 413 when too large, None when malformed."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return None                    # the clients under test never chunk
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        if length < 0:
            return None
        return 413 if length > MAX_BODY else self.rfile.read(length)

    def send(self, resp):
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.ctype)
        self.send_header("x-trace-id", secrets.token_hex(16))
        for name, value in resp.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        self.wfile.write(resp.body)
        self.log_line(resp.status, resp.code)

    def handle_any(self):
        emu = self.server.emu
        path, _, query = self.path.partition("?")
        body = self.read_body()
        if not isinstance(body, bytes):    # too large (413) or malformed (400)
            self.close_connection = True
            with emu.lock:
                resp = emu.error(body or 400, 400000)
            return self.send(resp)
        if path.startswith("/_control/"):
            return self.handle_control(emu, path, body)
        entry = {"method": self.command, "path": path, "query": query,
                 "headers": [[k, v] for k, v in self.headers.items()],
                 "body": body.decode("utf-8", "replace"), "status": None,
                 "code": None}
        with emu.lock:
            emu.seq += 1
            entry["seq"] = emu.seq
            emu.reqlog.append(entry)
            del emu.reqlog[:-MAX_LOG_ENTRIES]
            resp = emu.api(self.command, path, query, self.headers, body)
            entry["status"], entry["code"] = resp.status, resp.code
        if resp.delay_ms:
            time.sleep(resp.delay_ms / 1000)
        self.send(resp)

    def handle_control(self, emu, path, body):
        try:
            doc = json.loads(body.decode("utf-8")) if body.strip() else {}
        except ValueError:
            doc = None
        try:
            with emu.lock:
                data = dumps(emu.control(self.command, path, doc))
            resp = Response(200, data)
        except BadInput as e:
            resp = Response(400, dumps({"error": str(e)}))
        except LookupError as e:
            resp = Response(404, dumps({"error": str(e)}))
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.ctype)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        self.wfile.write(resp.body)

    def dispatch(self):
        try:
            self.handle_any()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:             # never echo the message: it may hold a token
            sys.stderr.write(f"longbridge emulator: internal error {type(e).__name__}\n")
            self.close_connection = True
            try:
                self.send(Response(500, dumps({"code": 500000,
                                               "message": "internal error",
                                               "data": None}), code=500000))
            except OSError:
                pass

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = dispatch

    def log_line(self, status, code):
        log_file = self.server.log_file
        path = (getattr(self, "path", None) or "-").split("?", 1)[0]
        if not log_file or path.startswith("/_control/"):
            return
        line = "%s %s %s %s %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"),
                                     self.command or "-",
                                     path.replace(" ", "%20"), status,
                                     "-" if code is None else code)
        with self.server.log_lock, open(log_file, "a", encoding="utf-8") as f:
            f.write(line)

    def log_request(self, code="-", size="-"):
        pass

    def log_message(self, fmt, *args):   # the default prints the query to stderr
        pass


def main():
    args = emulator.arguments(__doc__)
    server = emulator.server(args, Handler)
    server.emu = Emulator()
    return emulator.run(server, args.port_file)


if __name__ == "__main__":
    sys.exit(main())
