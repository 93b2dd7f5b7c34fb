#!/usr/bin/env python3
"""115 open platform token-API emulator, for tokenring's tests.

Reproduces the passport refresh endpoint, the device-code login with PKCE
(the passport and the qrcodeapi endpoints, all on the one port) and a
resource probe of PROVIDERS.md section 2.5 on loopback, over plain HTTP,
with switches for the open questions of section 5.  Standard library only.
The authorisation-code endpoints are not emulated: such grants are minted
through the control channel instead.

Command line (no secret is ever taken from it):

    p115.py --port-file FILE [--log FILE] [--bind 127.0.0.1] [--port 0]

  --port-file  after binding, the port + "\\n" is written to FILE.tmp, then
               renamed over FILE (poll for FILE to appear).
  --log        one line per request: time, method, path WITHOUT the query,
               status ("drop" for a dropped answer).  Never a token.
  --bind       a loopback address only (127.0.0.0/8 or ::1); else exit 2.
  --port       0 = ephemeral.
  SIGTERM and SIGINT end the server with status 0.

State: grants {id, user, client_id, issued, grant_expiry = issued + 365 d,
status active|revoked}; refresh tokens {grant, status active|rotated|
revoked}; access tokens {grant, exp, status active|rotated|revoked}.  A user
holds at most max_grants active grants per client_id: minting another
revokes the oldest (its refresh token then gets 40140116).  Tokens look like
"rt" or "at" + 40 base62 characters, unless the control channel chose them.
Apps {client_id, user (who scans its QR codes), disabled}, registered
through the control channel.  Device codes {uid, time, sign, client_id,
method, challenge, status pending|scanned|confirmed|cancelled|expired|used,
polls, user}.

API endpoints (passport paths always answer HTTP 200, application/json,
unless fail_next or status_fail_next says otherwise):

  POST /open/refreshToken   form body refresh_token=RT
                            (application/x-www-form-urlencoded; any other
                            content type counts as a missing field)
    Checked in this order, after fail_next:
      no refresh_token                        -> 40100000
      unknown and not token-shaped            -> 40140114
      unknown but token-shaped                -> 40140115
      rotated out                             -> 40140120 (reuse_rejected)
      revoked (device management, eviction)   -> 40140116
      now >= grant_expiry                     -> 40140119
      a success less than min_refresh_interval
      ago for the same grant and source IP    -> 40140117 (throttled), no
                                                 rotation
    Otherwise the old refresh token becomes "rotated" (and the old access
    tokens too unless old_access_valid_after_refresh), a new pair is minted,
    grant_expiry stays, and the answer is
      {"state":1,"code":0,"message":"","data":{"access_token","refresh_token",
       "expires_in"}}
  POST /open/authDeviceCode form client_id, code_challenge,
                            code_challenge_method; checked in this order:
      client_id, code_challenge or code_challenge_method missing
                                              -> 40100000
      client_id not registered               -> 40140106
      the app is disabled                     -> 40140107
      method not sha256, sha1 or md5, or the challenge not the base64
      (standard or URL-safe, padding optional) of a digest of that method's
      length                                  -> 40140112
    Otherwise a device code: {"state":1,"code":0,"message":"","data":{"uid",
    "time","qrcode","sign"}}, qrcode = "https://115.com/scan/dg-" + uid.
  GET  /get/status/?uid=&time=&sign=   (the qrcodeapi long poll)
      status_fail_next not empty              -> its first item, consumed
      uid, time or sign missing               -> 40100000
      unknown uid, or time/sign not its own   -> {"state":0,"code":0,
                                                 "message":"qrcode invalid"}
    Each poll counts for the uid (auto_confirm_after_polls N > 0: its Nth
    poll makes a pending code scanned, a later one confirmed).  Then by its
    status: pending -> {"state":1,"code":0,"message":"","data":{}} after
    status_hold_ms; scanned -> data {"msg","status":1,"version"};
    confirmed -> status 2; cancelled -> status -2; expired or used ->
    {"state":0,"code":0,"message":"qrcode expired","data":{}}.
  POST /open/deviceCodeToToken form uid, code_verifier; checked in order:
      uid or code_verifier missing            -> 40100000
      unknown uid, or expired, cancelled, used -> 40140111 (emulator's)
      not confirmed yet                       -> 40140110 (emulator's)
      verifier not 43..128 of [A-Za-z0-9-._~] -> 40140112
      hash(verifier) != the challenge         -> 40140113
    Otherwise the code is used and a grant is minted for the code's user
    as /_control/grant does (counting against max_grants), answered like a
    refresh: data {"access_token","refresh_token","expires_in"}.
  GET  /open/user/info      Authorization: Bearer AT (the resource probe,
                            boolean "state" as on proapi.115.com)
      missing or not token-shaped -> 40140123; unknown -> 40140124;
      expired or revoked (or rotated, without old_access_valid_after_refresh)
      -> 40140125; else {"state":true,"code":0,"message":"",
      "data":{"user_id","user_name"}}
  anything else             -> 404 (unknown path) or 405 (wrong method)

Error envelopes (switches legacy_error_only and state_bool):
  default            {"state":0,"code":N,"errno":N,"message":M,"error":M,"data":{}}
  legacy_error_only  {"state":0,"error":M,"errno":0}  (a success then is
                     {"state":1,"error":"","errno":0,"data":{...}})
  state_bool         "state" is true/false instead of 1/0

Switches (POST /_control/config {name: value, ...}; unknown names -> 400):
  clock_offset                  0      seconds added to the clock (grant expiry,
                                       token expiry, throttle)
  access_lifetime               7200   expires_in of new access tokens (s)
  grant_lifetime                31536000  seconds from a grant's issue to its end
  max_grants                    2      active grants per user and client_id
  min_refresh_interval          60     seconds; 0 turns the throttle off
  old_access_valid_after_refresh true
  legacy_error_only             false
  state_bool                    false
  expires_in_as_string          false  success answers "expires_in":"7200"
  refresh_delay_ms              0      a refresh commits, sleeps, then answers
  drop_after_commit             0      the next N successful refreshes commit,
                                       then close the connection unanswered
  status_hold_ms                200    how long a pending status poll is held
  auto_confirm_after_polls      0      N > 0: a device code's Nth status poll
                                       scans it, the next confirms it (for a
                                       foreground "tokenring login")
  status_fail_next              []     as fail_next, consumed one per status poll
  fail_next                     []     consumed one per refresh call, answered
                                       without touching any state.  Items:
                                       a 115 code (int >= 1000) -> its error
                                       envelope with HTTP 200; an HTTP status
                                       (100..599) -> that status with an HTML
                                       body; or {"status": int (200),
                                       "code": int, "message": str,
                                       "body": str, "content_type": str}
                                       ("body" replaces the envelope)

Control channel (same port, never counted, logged or put in the request
log; JSON in, JSON out; errors are {"error": "..."} with 400/404):
  GET  /_control/config          -> the switches
  POST /_control/config          {switch: value, ...} -> the switches
  POST /_control/grant           {"user"? ("user1"), "client_id"? ("100195123"),
                                  "refresh_token"?, "access_token"?,
                                  "access_lifetime"? (s), "issued_ago"? (s, 0),
                                  "refreshed_ago"? (s: as if the grant had been
                                  refreshed that long ago from "ip"?
                                  ("127.0.0.1"), for the throttle)}
                                 mints a grant like an authorisation would
                                 (evicting beyond max_grants)
                                 -> {"grant","refresh_token","access_token",
                                     "expires_in","grant_expiry","evicted"}
  POST /_control/revoke          {"grant"} | {"user"} | {"refresh_token"}:
                                 revoke in device management -> {"revoked": n}
  POST /_control/expire          {"access_token"} or {} (all): exp = now
                                 -> {"expired": n}
  POST /_control/app            {"client_id", "user"? ("user1"), "disabled"?
                                 (false)} registers (or replaces) an app
  GET  /_control/devices         -> [{uid, time, sign, client_id, method,
                                 challenge, status, polls, user}], oldest first
  POST /_control/device          {"uid", "status": "scanned" | "confirmed" |
                                 "cancelled" | "expired", "user"?} -> the code
  GET  /_control/active?user=U   -> {"grant","refresh_token","access_token"} of
                                 U's newest active grant (404 if none)
  GET  /_control/tokens          -> {"grants": [...], "refresh_tokens":
                                 [{token, grant, status}], "access_tokens":
                                 [{token, grant, status, exp, expired}]}
  GET  /_control/valid?token=AT  -> {"valid": bool} (what the probe would say)
  GET  /_control/counters        -> {"refresh", "rotations", "throttled",
                                 "reuse_rejected", "failed", "dropped", "probe",
                                 "device_codes", "status_polls",
                                 "device_tokens", "requests"}: refresh =
                                 refresh calls received, failed = refresh
                                 calls answered with an error of any kind;
                                 device_codes, status_polls, device_tokens =
                                 calls of the three device endpoints received
  POST /_control/reset_counters  zeroes the counters AND clears the request log
  GET  /_control/requests        -> [{seq, method, path, query, content_type,
                                 headers [[name, value]], body, client, status}]
                                 every API request verbatim (status null while
                                 in flight, "drop" when dropped): the only place
                                 request contents are visible (last 10000)
  POST /_control/reset           back to the start state

Tokens and code verifiers never go to the --log file or stderr.
"""
import base64, hashlib, hmac, json, re, secrets
import socket
import string, sys, threading, time, urllib.parse
from http.server import BaseHTTPRequestHandler

import emulator

DAY = 86400
MAX_BODY = 1 << 20
MAX_LOG_ENTRIES = 10000
JSON_TYPE = "application/json; charset=utf-8"
FORM_TYPE = "application/x-www-form-urlencoded"
BASE62 = string.ascii_letters + string.digits
RT_RE = re.compile(r"rt[A-Za-z0-9]{40}\Z")
AT_RE = re.compile(r"at[A-Za-z0-9]{40}\Z")
DEFAULT_USER = "user1"
DEFAULT_CLIENT = "100195123"
VERIFIER_RE = re.compile(r"[A-Za-z0-9._~-]{43,128}\Z")
DIGESTS = {"sha256": hashlib.sha256, "sha1": hashlib.sha1, "md5": hashlib.md5}
DEVICE_STATUSES = ("scanned", "confirmed", "cancelled", "expired")

MESSAGES = {
    40100000: "parameter missing",
    40140106: "client_id error",
    40140107: "app disabled",
    40140110: "authorization pending",
    40140111: "uid invalid",
    40140112: "code_challenge or code_verifier error",
    40140113: "code_verifier error",
    40110000: "request error, please retry",
    40140114: "refresh_token format error",
    40140115: "refresh_token sign error",
    40140116: "no auth",
    40140117: "refresh frequently",
    40140118: "developer certification expired",
    40140119: "refresh_token expired",
    40140120: "refresh token error",
    40140121: "access_token refresh failed",
    40140123: "access_token format error",
    40140124: "access_token sign error",
    40140125: "access_token expired",
}

DEFAULT_CONFIG = {
    "clock_offset": 0,
    "access_lifetime": 7200,
    "grant_lifetime": 365 * DAY,
    "max_grants": 2,
    "min_refresh_interval": 60,
    "old_access_valid_after_refresh": True,
    "legacy_error_only": False,
    "state_bool": False,
    "expires_in_as_string": False,
    "refresh_delay_ms": 0,
    "drop_after_commit": 0,
    "status_hold_ms": 200,
    "auto_confirm_after_polls": 0,
    "status_fail_next": [],
    "fail_next": [],
}
BOOL_SWITCHES = ("old_access_valid_after_refresh", "legacy_error_only",
                 "state_bool", "expires_in_as_string")
COUNTER_NAMES = ("refresh", "rotations", "throttled", "reuse_rejected",
                 "failed", "dropped", "probe", "device_codes", "status_polls",
                 "device_tokens", "requests")


class BadInput(Exception):
    """A control request the emulator refuses (answered 400)."""


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_fail_item(item):
    if is_int(item):
        if 100 <= item <= 599 or item >= 1000:
            return item
        raise BadInput("fail_next items: a status 100..599, a code >= 1000 "
                       "or an object")
    if not isinstance(item, dict):
        raise BadInput("fail_next items: a status, a code or an object")
    for key, value in item.items():
        if key in ("status", "code"):
            if not is_int(value):
                raise BadInput(f"fail_next item: {key} must be an integer")
        elif key in ("message", "body", "content_type"):
            if not isinstance(value, str):
                raise BadInput(f"fail_next item: {key} must be a string")
        else:
            raise BadInput(f"fail_next item: unknown key {key!r}")
    if not 100 <= item.get("status", 200) <= 599:
        raise BadInput("fail_next item: status must be 100..599")
    return item


def check_switch(name, value):
    """Return the validated value of one switch, or raise BadInput."""
    if name not in DEFAULT_CONFIG:
        raise BadInput(f"unknown switch {name!r}")
    if name in BOOL_SWITCHES:
        if not isinstance(value, bool):
            raise BadInput(f"{name} must be true or false")
    elif name in ("fail_next", "status_fail_next"):
        if not isinstance(value, list):
            raise BadInput(f"{name} must be a list")
        value = [check_fail_item(i) for i in value]
    elif name == "clock_offset":
        if not is_int(value):
            raise BadInput("clock_offset must be an integer")
    elif name in ("access_lifetime", "grant_lifetime", "max_grants"):
        if not is_int(value) or value < 1:
            raise BadInput(f"{name} must be a positive integer")
    else:
        if not is_int(value) or value < 0:
            raise BadInput(f"{name} must be a non-negative integer")
    return value


def b64_digest(text, size):
    """The bytes of base64 text (either alphabet, padding optional) if
    they are size long, else None."""
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9+/_-]+={0,2}", text):
        return None
    if "-" in text or "_" in text:
        if "+" in text or "/" in text:
            return None
        text = text.replace("-", "+").replace("_", "/")
    text = text.rstrip("=")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except ValueError:
        return None
    return raw if len(raw) == size else None


def form(headers, body):
    """The last value of each field of a form body; {} for another type."""
    ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if ctype != FORM_TYPE:
        return {}
    params = urllib.parse.parse_qs(body.decode("utf-8", "replace"),
                                   keep_blank_values=True)
    return {k: v[-1] for k, v in params.items()}


def new_token(prefix):
    return prefix + "".join(secrets.choice(BASE62) for _ in range(40))


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def same(a, b):
    return hmac.compare_digest(a.encode(), b.encode())


class Response:
    def __init__(self, status, body=b"", ctype=JSON_TYPE, delay_ms=0,
                 drop=False, ok=False):
        self.status, self.body, self.ctype = status, body, ctype
        self.delay_ms, self.drop, self.ok = delay_ms, drop, ok


class Emulator:
    """All mutable state; every access goes through self.lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset_all()

    def reset_all(self):
        self.config = json.loads(json.dumps(DEFAULT_CONFIG))
        self.grants = {}           # id -> grant, oldest first
        self.rts = {}              # refresh token -> record
        self.ats = {}              # access token -> record
        self.next_grant = 1
        self.apps = {}             # client_id -> {user, disabled}
        self.devices = {}          # uid -> device code, oldest first
        self.reset_counters()

    def reset_counters(self):
        self.counters = {k: 0 for k in COUNTER_NAMES}
        self.reqlog = []
        self.seq = 0

    def now(self):
        return time.time() + self.config["clock_offset"]

    # --- envelopes ----------------------------------------------------------
    def state(self, ok):
        if self.config["state_bool"]:
            return bool(ok)
        return 1 if ok else 0

    def success(self, data):
        if self.config["legacy_error_only"]:
            doc = {"state": self.state(True), "error": "", "errno": 0,
                   "data": data}
        else:
            doc = {"state": self.state(True), "code": 0, "message": "",
                   "data": data}
        return Response(200, dumps(doc))

    def failure(self, code, message=None):
        message = MESSAGES.get(code, "error") if message is None else message
        if self.config["legacy_error_only"]:
            doc = {"state": self.state(False), "error": message, "errno": 0}
        else:
            doc = {"state": self.state(False), "code": code, "message": message,
                   "data": {}, "error": message, "errno": code}
        return Response(200, dumps(doc))

    def fault(self, item):
        if is_int(item) and item >= 1000:
            return self.failure(item)
        if is_int(item):
            body = f"<html><body><h1>{item}</h1></body></html>"
            return Response(item, body.encode(), "text/html")
        status = item.get("status", 200)
        if "body" in item:
            return Response(status, item["body"].encode("utf-8"),
                            item.get("content_type", JSON_TYPE))
        resp = self.failure(item.get("code", 40110000), item.get("message"))
        resp.status = status
        return resp

    # --- grants and tokens (caller holds the lock) --------------------------
    def mint_pair(self, grant, now, lifetime=None, rt=None, at=None):
        rt = rt or new_token("rt")
        at = at or new_token("at")
        lifetime = self.config["access_lifetime"] if lifetime is None else lifetime
        self.rts[rt] = {"grant": grant["id"], "status": "active"}
        self.ats[at] = {"grant": grant["id"], "status": "active",
                        "exp": int(now) + lifetime}
        return rt, at, lifetime

    def revoke(self, grant):
        grant["status"] = "revoked"
        for table in (self.rts, self.ats):
            for rec in table.values():
                if rec["grant"] == grant["id"] and rec["status"] != "rotated":
                    rec["status"] = "revoked"

    def issue(self, now, user, client, issued_ago=0, **kw):
        evicted = []
        mine = [g for g in self.grants.values() if g["user"] == user
                and g["client_id"] == client and g["status"] == "active"]
        while len(mine) >= self.config["max_grants"]:
            oldest = mine.pop(0)
            self.revoke(oldest)
            evicted.append(oldest["id"])
        issued = int(now) - issued_ago
        grant = {"id": self.next_grant, "user": user, "client_id": client,
                 "issued": issued,
                 "grant_expiry": issued + self.config["grant_lifetime"],
                 "status": "active", "last_refresh": {}}
        self.next_grant += 1
        self.grants[grant["id"]] = grant
        rt, at, life = self.mint_pair(grant, now, **kw)
        return grant, rt, at, life, evicted

    # --- API (caller holds the lock) ----------------------------------------
    def api(self, method, path, query, headers, body, client):
        self.counters["requests"] += 1
        if path == "/open/refreshToken":
            if method != "POST":
                return Response(405, dumps({"error": "method not allowed"}))
            self.counters["refresh"] += 1
            resp = self.refresh(headers, body, client)
            if not resp.ok:
                self.counters["failed"] += 1
            return resp
        if path == "/open/user/info":
            if method != "GET":
                return Response(405, dumps({"error": "method not allowed"}))
            self.counters["probe"] += 1
            return self.probe(headers.get("Authorization", ""))
        if path == "/open/authDeviceCode":
            if method != "POST":
                return Response(405, dumps({"error": "method not allowed"}))
            self.counters["device_codes"] += 1
            return self.auth_device_code(form(headers, body))
        if path in ("/get/status/", "/get/status"):
            if method != "GET":
                return Response(405, dumps({"error": "method not allowed"}))
            self.counters["status_polls"] += 1
            return self.device_status(query)
        if path == "/open/deviceCodeToToken":
            if method != "POST":
                return Response(405, dumps({"error": "method not allowed"}))
            self.counters["device_tokens"] += 1
            return self.device_token(form(headers, body))
        return Response(404, dumps({"error": "not found"}))

    # --- the device-code flow (caller holds the lock) -----------------------
    def auth_device_code(self, params):
        client = params.get("client_id", "")
        challenge = params.get("code_challenge", "")
        method = params.get("code_challenge_method", "")
        if not client or not challenge or not method:
            return self.failure(40100000)
        app = self.apps.get(client)
        if app is None:
            return self.failure(40140106)
        if app["disabled"]:
            return self.failure(40140107)
        if method not in DIGESTS or \
                b64_digest(challenge, DIGESTS[method]().digest_size) is None:
            return self.failure(40140112)
        uid = secrets.token_hex(16)
        now = int(self.now())
        sign = hashlib.sha1(f"{uid}:{now}:{secrets.token_hex(8)}".encode()).hexdigest()
        self.devices[uid] = {"uid": uid, "time": now, "sign": sign,
                             "client_id": client, "method": method,
                             "challenge": challenge, "status": "pending",
                             "polls": 0, "user": app["user"]}
        return self.success({"uid": uid, "time": now, "sign": sign,
                             "qrcode": "https://115.com/scan/dg-" + uid})

    def qr_dead(self, message):
        return Response(200, dumps({"state": self.state(False), "code": 0,
                                    "message": message, "data": {}}))

    def device_status(self, query):
        params = {k: v[-1] for k, v in
                  urllib.parse.parse_qs(query, keep_blank_values=True).items()}
        if self.config["status_fail_next"]:
            return self.fault(self.config["status_fail_next"].pop(0))
        uid, t, sign = (params.get(k, "") for k in ("uid", "time", "sign"))
        if not uid or not t or not sign:
            return self.failure(40100000)
        dev = self.devices.get(uid)
        if dev is None or not same(str(dev["time"]), t) or not same(dev["sign"], sign):
            return self.qr_dead("qrcode invalid")
        dev["polls"] += 1
        n = self.config["auto_confirm_after_polls"]
        if n and dev["status"] in ("pending", "scanned"):
            if dev["polls"] == n:
                dev["status"] = "scanned"
            elif dev["polls"] > n:
                dev["status"] = "confirmed"
        status = dev["status"]
        if status == "pending":
            resp = self.success({})
            resp.delay_ms = self.config["status_hold_ms"]
            return resp
        if status in ("scanned", "confirmed", "cancelled"):
            code = {"scanned": 1, "confirmed": 2, "cancelled": -2}[status]
            return self.success({"msg": status, "status": code,
                                 "version": "1.0"})
        return self.qr_dead("qrcode expired")

    def device_token(self, params):
        uid, verifier = params.get("uid", ""), params.get("code_verifier", "")
        if not uid or not verifier:
            return self.failure(40100000)
        dev = self.devices.get(uid)
        if dev is None or dev["status"] in ("expired", "cancelled", "used"):
            return self.failure(40140111)
        if dev["status"] != "confirmed":
            return self.failure(40140110)
        if not VERIFIER_RE.match(verifier):
            return self.failure(40140112)
        digest = DIGESTS[dev["method"]](verifier.encode()).digest()
        want = b64_digest(dev["challenge"], len(digest))
        if want is None or not hmac.compare_digest(digest, want):
            return self.failure(40140113)
        dev["status"] = "used"
        now = self.now()
        _, rt, at, life, _ = self.issue(now, dev["user"], dev["client_id"])
        return self.success({
            "access_token": at, "refresh_token": rt,
            "expires_in": str(life) if self.config["expires_in_as_string"] else life})

    def refresh(self, headers, body, client):
        now = self.now()
        if self.config["fail_next"]:
            return self.fault(self.config["fail_next"].pop(0))
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        params = {}
        if ctype == FORM_TYPE:
            params = urllib.parse.parse_qs(body.decode("utf-8", "replace"),
                                           keep_blank_values=True)
        values = params.get("refresh_token", [])
        rt = values[-1] if values else ""
        if not rt:
            return self.failure(40100000)
        rec = None
        for known in self.rts:
            if same(known, rt):
                rec = self.rts[known]
        if rec is None:
            return self.failure(40140115 if RT_RE.match(rt) else 40140114)
        grant = self.grants[rec["grant"]]
        if rec["status"] == "rotated":
            self.counters["reuse_rejected"] += 1
            return self.failure(40140120)
        if rec["status"] == "revoked" or grant["status"] != "active":
            return self.failure(40140116)
        if now >= grant["grant_expiry"]:
            return self.failure(40140119)
        last = grant["last_refresh"].get(client)
        if last is not None and now - last < self.config["min_refresh_interval"]:
            self.counters["throttled"] += 1
            return self.failure(40140117)
        rec["status"] = "rotated"
        if not self.config["old_access_valid_after_refresh"]:
            for a in self.ats.values():
                if a["grant"] == grant["id"] and a["status"] == "active":
                    a["status"] = "rotated"
        new_rt, new_at, life = self.mint_pair(grant, now)
        grant["last_refresh"][client] = now
        self.counters["rotations"] += 1
        drop = self.config["drop_after_commit"] > 0
        if drop:
            self.config["drop_after_commit"] -= 1
            self.counters["dropped"] += 1
        resp = self.success({
            "access_token": new_at, "refresh_token": new_rt,
            "expires_in": str(life) if self.config["expires_in_as_string"] else life})
        resp.delay_ms, resp.drop = self.config["refresh_delay_ms"], drop
        resp.ok = True
        return resp

    def access_state(self, at):
        """None if usable, else the 115 code a resource call would get."""
        if not AT_RE.match(at) and at not in self.ats:
            return 40140123
        rec = self.ats.get(at)
        if rec is None:
            return 40140124
        if rec["status"] == "revoked" or self.now() >= rec["exp"]:
            return 40140125
        if rec["status"] == "rotated" and \
                not self.config["old_access_valid_after_refresh"]:
            return 40140125
        return None

    def probe(self, auth):
        scheme, _, at = auth.partition(" ")
        code = 40140123 if scheme != "Bearer" or not at else self.access_state(at)
        if code:
            doc = {"state": False, "code": code, "message": MESSAGES[code],
                   "data": {}}
        else:
            grant = self.grants[self.ats[at]["grant"]]
            doc = {"state": True, "code": 0, "message": "",
                   "data": {"user_id": str(1000 + grant["id"]),
                            "user_name": grant["user"]}}
        return Response(200, dumps(doc))

    # --- control channel (caller holds the lock) ----------------------------
    def control(self, method, path, params, doc):
        name = path[len("/_control/"):]
        get_ok = name in ("config", "counters", "tokens", "valid", "requests",
                          "active", "devices")
        if method not in ("GET", "POST") or (method == "GET" and not get_ok):
            raise BadInput(f"{method} /_control/{name} is not supported")
        if method == "POST" and not isinstance(doc, dict):
            raise BadInput("the body must be a JSON object")
        now = self.now()
        if name == "config":
            if method == "POST":
                self.config.update({k: check_switch(k, v) for k, v in doc.items()})
            return self.config
        if name == "grant":
            return self.control_grant(now, doc)
        if name == "app":
            client, user = doc.get("client_id"), doc.get("user", DEFAULT_USER)
            disabled = doc.get("disabled", False)
            for key, v in (("client_id", client), ("user", user)):
                if not isinstance(v, str) or not v:
                    raise BadInput(f"{key} must be a non-empty string")
            if not isinstance(disabled, bool):
                raise BadInput("disabled must be true or false")
            self.apps[client] = {"user": user, "disabled": disabled}
            return dict(self.apps[client], client_id=client)
        if name == "devices":
            return list(self.devices.values())
        if name == "device":
            dev = self.devices.get(doc.get("uid"))
            if dev is None:
                raise LookupError("no such uid")
            if doc.get("status") not in DEVICE_STATUSES:
                raise BadInput("status must be one of " + ", ".join(DEVICE_STATUSES))
            if "user" in doc:
                if not isinstance(doc["user"], str) or not doc["user"]:
                    raise BadInput("user must be a non-empty string")
                dev["user"] = doc["user"]
            dev["status"] = doc["status"]
            return dev
        if name == "revoke":
            targets = []
            if "grant" in doc:
                targets = [g for g in self.grants.values() if g["id"] == doc["grant"]]
            elif "user" in doc:
                targets = [g for g in self.grants.values() if g["user"] == doc["user"]]
            elif isinstance(doc.get("refresh_token"), str):
                rec = self.rts.get(doc["refresh_token"])
                targets = [self.grants[rec["grant"]]] if rec else []
            else:
                raise BadInput("revoke wants grant, user or refresh_token")
            targets = [g for g in targets if g["status"] == "active"]
            for g in targets:
                self.revoke(g)
            return {"revoked": len(targets)}
        if name == "expire":
            at = doc.get("access_token")
            if at is not None and at not in self.ats:
                raise LookupError("no such access_token")
            targets = [self.ats[at]] if at is not None else \
                [a for a in self.ats.values() if a["exp"] > now]
            for a in targets:
                a["exp"] = int(now)
            return {"expired": len(targets)}
        if name == "active":
            user = params.get("user", DEFAULT_USER)
            live = [g for g in self.grants.values()
                    if g["user"] == user and g["status"] == "active"]
            if not live:
                raise LookupError(f"no active grant for {user!r}")
            gid = live[-1]["id"]
            rts = [t for t, r in self.rts.items()
                   if r["grant"] == gid and r["status"] == "active"]
            ats = [t for t, r in self.ats.items()
                   if r["grant"] == gid and r["status"] == "active"]
            return {"grant": gid, "refresh_token": rts[-1],
                    "access_token": ats[-1]}
        if name == "tokens":
            grants = [{k: v for k, v in g.items() if k != "last_refresh"}
                      for g in self.grants.values()]
            return {"grants": grants,
                    "refresh_tokens": [dict(r, token=t) for t, r in self.rts.items()],
                    "access_tokens": [dict(r, token=t, expired=now >= r["exp"])
                                      for t, r in self.ats.items()]}
        if name == "valid":
            return {"valid": self.access_state(params.get("token", "")) is None}
        if name == "counters":
            return dict(self.counters)
        if name == "reset_counters":
            self.reset_counters()
            return dict(self.counters)
        if name == "requests":
            return self.reqlog
        if name == "reset":
            self.reset_all()
            return self.config
        raise LookupError(f"no control endpoint {name!r}")

    def control_grant(self, now, doc):
        user = doc.get("user", DEFAULT_USER)
        client = doc.get("client_id", DEFAULT_CLIENT)
        rt, at = doc.get("refresh_token"), doc.get("access_token")
        life = doc.get("access_lifetime")
        ago = doc.get("issued_ago", 0)
        refreshed_ago = doc.get("refreshed_ago")
        ip = doc.get("ip", "127.0.0.1")
        for key, v in (("user", user), ("client_id", client), ("ip", ip)):
            if not isinstance(v, str) or not v:
                raise BadInput(f"{key} must be a non-empty string")
        for key, t in (("refresh_token", rt), ("access_token", at)):
            if t is not None and (not isinstance(t, str) or not t):
                raise BadInput(f"{key} must be a non-empty string")
        if (rt is not None and rt in self.rts) or (at is not None and at in self.ats):
            raise BadInput("that token already exists")
        if life is not None and not is_int(life):
            raise BadInput("access_lifetime must be an integer")
        if not is_int(ago) or (refreshed_ago is not None and not is_int(refreshed_ago)):
            raise BadInput("issued_ago and refreshed_ago must be integers")
        grant, rt, at, life, evicted = self.issue(now, user, client, ago,
                                                  lifetime=life, rt=rt, at=at)
        if refreshed_ago is not None:
            grant["last_refresh"][ip] = now - refreshed_ago
        return {"grant": grant["id"], "refresh_token": rt, "access_token": at,
                "expires_in": life, "grant_expiry": grant["grant_expiry"],
                "evicted": evicted}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tokenring-115/1"
    timeout = 120

    def read_body(self):
        """The request body; 413 when too large, None when malformed."""
        return emulator.read_body(self, MAX_BODY)

    def send(self, resp):
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.ctype)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        self.wfile.write(resp.body)

    def handle_any(self):
        emu = self.server.emu
        path_raw, _, query = self.path.partition("?")
        path = urllib.parse.unquote(path_raw)
        body = self.read_body()
        if not isinstance(body, bytes):    # too large (413) or malformed (400)
            self.close_connection = True
            return self.send(Response(body or 400, dumps({"error": "bad request"})))
        if path.startswith("/_control/"):
            params = {k: v[0] for k, v in
                      urllib.parse.parse_qs(query, keep_blank_values=True).items()}
            return self.handle_control(emu, path, params, body)
        entry = {"method": self.command, "path": path_raw, "query": query,
                 "content_type": self.headers.get("Content-Type"),
                 "headers": [[k, v] for k, v in self.headers.items()],
                 "body": body.decode("utf-8", "replace"),
                 "client": self.client_address[0], "status": None}
        with emu.lock:
            emu.seq += 1
            entry["seq"] = emu.seq
            emu.reqlog.append(entry)
            del emu.reqlog[:-MAX_LOG_ENTRIES]
            resp = emu.api(self.command, path, query, self.headers, body,
                           self.client_address[0])
            if not resp.drop:
                entry["status"] = resp.status
        if resp.delay_ms:
            time.sleep(resp.delay_ms / 1000)
        if resp.drop:
            with emu.lock:
                entry["status"] = "drop"
            self.log_request("drop")
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send(resp)

    def handle_control(self, emu, path, params, body):
        try:
            doc = json.loads(body.decode("utf-8")) if body.strip() else {}
        except ValueError:
            doc = None
        try:
            with emu.lock:
                data = dumps(emu.control(self.command, path, params, doc))
            self.send(Response(200, data))
        except BadInput as e:
            self.send(Response(400, dumps({"error": str(e)})))
        except LookupError as e:
            self.send(Response(404, dumps({"error": str(e)})))

    def dispatch(self):
        try:
            self.handle_any()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:             # never echo the message: it may hold a token
            sys.stderr.write(f"115 emulator: internal error {type(e).__name__}\n")
            self.close_connection = True
            try:
                self.send(Response(500, dumps({"state": 0, "code": 500,
                                               "message": "internal error"})))
            except OSError:
                pass

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = dispatch

    def log_request(self, code="-", size="-"):
        log_file = self.server.log_file
        if not log_file:
            return
        path = (getattr(self, "path", None) or "-").split("?", 1)[0]
        line = "%s %s %s %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"),
                                  getattr(self, "command", None) or "-",
                                  path.replace(" ", "%20"),
                                  getattr(code, "value", code))
        with self.server.log_lock, open(log_file, "a", encoding="utf-8") as f:
            f.write(line)

    def log_message(self, fmt, *args):   # the default prints to stderr
        pass


def main():
    args = emulator.arguments(__doc__)
    server = emulator.server(args, Handler)
    server.emu = Emulator()
    return emulator.run(server, args.port_file)


if __name__ == "__main__":
    sys.exit(main())
