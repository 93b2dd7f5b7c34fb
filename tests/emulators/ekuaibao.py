#!/usr/bin/env python3
"""Ekuaibao (合思) token-API emulator, for tokenring's tests and demo.

Reproduces the token endpoints of PROVIDERS.md section 1.8 on loopback, over
plain HTTP, with switches for every open question of section 5.  Standard
library only.  One tenant: one corpId, one app credential pair, token records
{accessToken, refreshToken, expireTime, issuedAt, state}.

Command line (no secret is ever taken from it):

    ekuaibao.py --port-file FILE [--log FILE] [--state FILE]
                [--bind 127.0.0.1] [--port 0]

  --port-file  after binding, the port + "\\n" is written to FILE.tmp, then
               renamed over FILE (poll for FILE to appear).
  --log        one line per request: time, method, path WITHOUT the query
               (verify codes in legacy paths shown as $***), status.
  --state      JSON file (mode 0600) loaded at start and rewritten after every
               state change: config, app pair, corpId, token records, codes.
  --bind       a loopback address only (127.0.0.0/8 or ::1); else exit 2.
  --port       0 = ephemeral.
  SIGTERM and SIGINT end the server with status 0.

API endpoints (all answers "application/json;charset=UTF-8" unless the
plain_text error body is chosen):

  POST /api/openapi/v1/auth/getAccessToken           JSON body {appKey, appSecurity}
  POST /api/openapi/v2/auth/refreshToken             query: accessToken, refreshToken, powerCode
  POST /api/openapi/v2/auth/refreshToken/expireDate  query: the same + expireDate (days)
  POST /api/openapi/v1/auth/$<code>?powerCode=219902              (legacy; $ or %24)
  POST /api/openapi/v1/auth/expireDate/$<code>?powerCode=219902&expireDate=<days>
  GET  /api/openapi/v2/location?corpId=<id>     -> {"value":"http://127.0.0.1:PORT/"}
  GET  /api/openapi/v1/corporations?accessToken= -> {"value":{"id":corpId,"name":"Emulated Corp"}}

  Success of the token endpoints:
    {"value":{"accessToken","refreshToken","expireTime"(epoch ms),"corporationId"}}
  Tokens look like ID01<12-16 base62>:<corpId> (the ':' travels as %3A; the
  query is decoded with urllib.parse.parse_qs, so a raw ':' works too).
  Lifetimes: getAccessToken 2 h; refresh 32 d or expireDate days (a string
  of digits, 1..365, else 400); legacy 32 d or expireDate days; all capped at
  licence_expiry_ms.  Verify codes are single-use and valid 2 h.
  Errors: 403 "密钥无效" (getAccessToken: wrong or missing body keys, keys
  only in the query), 403 "未授权" (everything token-related), 400 "参数错误"
  (bad expireDate, missing corpId), 404/405 for unknown paths/methods, 413
  for a body over 1 MiB.
  Refresh: the (accessToken, refreshToken) pair must be a "live" record with
  now < expireTime and powerCode in {219904, 219902, 110202}; success makes a
  new live record and marks the old one "rotated".  Records whose issuedAt is
  90 days old become "purged".  Record states: live, rotated, revoked (see
  issue_invalidates_previous), purged.  Order of checks on every API call:
  reject_prefix, unknown path (404), method (405), then on the token endpoints
  fail_next, throttle_ms, expireDate (400), powerCode/pair/state/expiry (403),
  fresh_token_403_ms (403), licence already over (403).

Error body shapes (switch error_body):
  generic        {"errorCode":403,"errorMessage":"未授权","errorDetails":null,"code":null,"data":null}
  value_wrapped  {"value":{"errorCode":403,"errorMessage":"未授权","errorDetail":null}}
  plain_text     未授权   (text/plain;charset=UTF-8)
errorCode is always the HTTP status.  fail_next answers always use generic.

Switches (POST /_control/config {name: value, ...}; unknown names -> 400):
  clock_offset_ms             0      ms added to the real clock (expiry, issuedAt, codes)
  fresh_token_403_ms          0      refresh/probe with a token younger than this -> 403
  issue_delay_ms              0      getAccessToken commits, sleeps this long, then answers
  refresh_delay_ms            0      refresh commits, sleeps this long, then answers
  licence_expiry_ms           null   epoch-ms cap of every lifetime; if already past,
                                     token endpoints answer 403
  reject_prefix               false  every API call -> 403 (like a wrong address prefix)
  error_body                  "generic" | "value_wrapped" | "plain_text"
  old_pair_valid_until_expiry false  true: a rotated pair still refreshes/probes until
                                     its own expiry (each use mints another live pair)
  issue_invalidates_previous  false  true: getAccessToken and verify codes mark every
                                     live/rotated record "revoked"
  strict_power_code           false  true: app-issued families refresh only with 219904,
                                     verify-code families only with 219902
  fail_next                   []     list, consumed one per token-endpoint call, answered
                                     without touching state.  Items: a status (int) ->
                                     generic envelope; or an object {"status": int,
                                     "message": str, "retry_after": str, "body": str,
                                     "content_type": str} (body replaces the envelope;
                                     status 200 + body gives a malformed "success")
  drop_after_commit           0      the next N successful refreshes commit, then close
                                     the connection without any answer
  throttle_ms                 0      a token-endpoint call less than this after the last
                                     unthrottled one -> throttle_status "请求太过频繁"
                                     (setting it restarts: the next call always passes)
  throttle_status             400
  location_value              null   overrides the location answer (default own base + "/")

Control channel (same port, never counted or logged in /_control/requests;
JSON in, JSON out; errors are {"error": "..."} with 400/404):
  GET  /_control/config            -> full config
  POST /_control/config            {switch: value, ...} -> full config
  POST /_control/app               {"appKey","appSecurity","corpId"?} -> {"corpId"}
  POST /_control/verify_code       {"code", "valid_ms"? (7200000)} -> {"code","expireAt"}
  POST /_control/token             {"lifetime_ms"? (7200000), "issued_ago_ms"? (0),
                                    "accessToken"?, "refreshToken"?, "powerCode"? ("219904")}
                                   mints a live pair: issuedAt = now - issued_ago_ms,
                                   expireTime = issuedAt + lifetime_ms
                                   -> {"accessToken","refreshToken","expireTime","issuedAt","corporationId"}
  POST /_control/expire            {"accessToken"} or {} (every unexpired record)
                                   sets expireTime = now -> {"expired": n}
  GET  /_control/counters          -> {"getAccessToken","refreshToken",
                                    "refreshTokenExpireDate","verifyCode","probe",
                                    "location","reuse_rejected","fresh_rejected",
                                    "requests"}: calls received (any outcome);
                                    reuse_rejected = refreshes refused because the
                                    pair was rotated and not yet expired;
                                    fresh_rejected = 403s from fresh_token_403_ms;
                                    requests = all API requests
  POST /_control/reset_counters    zeroes the counters AND clears the request log
  GET  /_control/tokens            -> [{accessToken, refreshToken, state, expireTime,
                                    issuedAt, expired, corporationId, origin, powerCode,
                                    refreshAttempts, probes}], oldest first;
                                    refreshAttempts/probes count calls naming
                                    that accessToken (per-token counters)
  GET  /_control/valid?token=AT    -> {"valid": bool} (live, or rotated with the
                                    switch, and unexpired; ignores fresh_token_403_ms)
  GET  /_control/requests          -> [{seq, method, path (raw), query (raw),
                                    content_type, headers [[name, value]], body, status}]
                                    every API request verbatim (status null while in
                                    flight, "drop" when dropped); the only place request
                                    contents are visible, deliberately (last 10000)
  POST /_control/reset             back to the start state (config, app, tokens, codes,
                                    counters, log)

Tokens and app secrets never go to the --log file or stderr.
"""
import hmac, http, json, os, re, secrets, socket
import string, sys, threading, time, urllib.parse
from http.server import BaseHTTPRequestHandler

import emulator

DEFAULT_CORP = "TsI3tt8KjF4S7M"
HOUR_MS = 3600 * 1000
DAY_MS = 24 * HOUR_MS
ISSUE_LIFETIME_MS = 2 * HOUR_MS
REFRESH_LIFETIME_MS = 32 * DAY_MS
CODE_LIFETIME_MS = 2 * HOUR_MS
PURGE_AGE_MS = 90 * DAY_MS
POWER_CODES = ("219904", "219902", "110202")
MAX_BODY = 1 << 20
MAX_LOG_ENTRIES = 10000
JSON_TYPE = "application/json;charset=UTF-8"
TEXT_TYPE = "text/plain;charset=UTF-8"
BASE62 = string.ascii_letters + string.digits
DAYS_RE = re.compile(r"[0-9]{1,9}\Z")
LEGACY_RE = re.compile(r"/api/openapi/v1/auth/(expireDate/)?\$([^/]+)\Z")
REDACT_RE = re.compile(r"(/auth/(?:expireDate/)?(?:\$|%24))[^/?#]*", re.I)

MSG_UNAUTH = "未授权"
MSG_BADKEY = "密钥无效"
MSG_PARAM = "参数错误"
MSG_THROTTLE = "请求太过频繁"

DEFAULT_CONFIG = {
    "clock_offset_ms": 0,
    "fresh_token_403_ms": 0,
    "issue_delay_ms": 0,
    "refresh_delay_ms": 0,
    "licence_expiry_ms": None,
    "reject_prefix": False,
    "error_body": "generic",
    "old_pair_valid_until_expiry": False,
    "issue_invalidates_previous": False,
    "strict_power_code": False,
    "fail_next": [],
    "drop_after_commit": 0,
    "throttle_ms": 0,
    "throttle_status": 400,
    "location_value": None,
}
COUNTER_NAMES = ("getAccessToken", "refreshToken", "refreshTokenExpireDate",
                 "verifyCode", "probe", "location", "reuse_rejected",
                 "fresh_rejected", "requests")
TOKEN_ENDPOINTS = ("getAccessToken", "refreshToken", "refreshTokenExpireDate",
                   "verifyCode")


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
    for key in item:
        if key not in ("status", "message", "retry_after", "body", "content_type"):
            raise BadInput(f"fail_next item: unknown key {key!r}")
        if key != "status" and not isinstance(item[key], str):
            raise BadInput(f"fail_next item: {key} must be a string")
    return item


def check_switch(name, value):
    """Return the validated value of one switch, or raise BadInput."""
    if name not in DEFAULT_CONFIG:
        raise BadInput(f"unknown switch {name!r}")
    if name in ("reject_prefix", "old_pair_valid_until_expiry",
                "issue_invalidates_previous", "strict_power_code"):
        if not isinstance(value, bool):
            raise BadInput(f"{name} must be true or false")
    elif name == "error_body":
        if value not in ("generic", "value_wrapped", "plain_text"):
            raise BadInput("error_body must be generic, value_wrapped or plain_text")
    elif name == "licence_expiry_ms":
        if value is not None and not is_int(value):
            raise BadInput("licence_expiry_ms must be an integer or null")
    elif name == "location_value":
        if value is not None and not isinstance(value, str):
            raise BadInput("location_value must be a string or null")
    elif name == "fail_next":
        if not isinstance(value, list):
            raise BadInput("fail_next must be a list")
        value = [check_fail_item(i) for i in value]
    elif name == "throttle_status":
        if not is_int(value) or not 100 <= value <= 599:
            raise BadInput("throttle_status must be a status 100..599")
    elif name == "clock_offset_ms":
        if not is_int(value):
            raise BadInput("clock_offset_ms must be an integer")
    else:
        if not is_int(value) or value < 0:
            raise BadInput(f"{name} must be a non-negative integer")
    return value


def new_token(corp):
    n = 12 + secrets.randbelow(5)
    return "ID01" + "".join(secrets.choice(BASE62) for _ in range(n)) + ":" + corp


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Response:
    def __init__(self, status, body=b"", ctype=JSON_TYPE, headers=(),
                 delay_ms=0, drop=False):
        self.status, self.body, self.ctype = status, body, ctype
        self.headers, self.delay_ms, self.drop = list(headers), delay_ms, drop


def ok(value, **kw):
    return Response(200, dumps({"value": value}), **kw)


class Emulator:
    """All mutable state; every access goes through self.lock."""

    def __init__(self, state_file=None):
        self.lock = threading.Lock()
        self.state_file = state_file
        self.base_url = None
        self.reset_all()
        if state_file and os.path.exists(state_file):
            self.load()

    # --- state --------------------------------------------------------------
    def reset_all(self):
        self.config = json.loads(json.dumps(DEFAULT_CONFIG))
        self.app = {"appKey": None, "appSecurity": None}
        self.corp = DEFAULT_CORP
        self.records = {}              # accessToken -> record, oldest first
        self.codes = {}                # verify code -> {"expireAt", "used"}
        self.last_token_call = None    # real monotonic ms, for throttle_ms
        self.reset_counters()

    def reset_counters(self):
        self.counters = {k: 0 for k in COUNTER_NAMES}
        self.reqlog = []
        self.seq = 0

    def load(self):
        with open(self.state_file, encoding="utf-8") as f:
            data = json.load(f)
        for k, v in data.get("config", {}).items():
            self.config[k] = check_switch(k, v)
        self.app.update(data.get("app", {}))
        self.corp = data.get("corpId", self.corp)
        self.records = {r["accessToken"]: r for r in data.get("records", [])}
        self.codes = data.get("codes", {})

    def save(self):
        """Write the state file atomically (caller holds the lock)."""
        if not self.state_file:
            return
        data = {"config": self.config, "app": self.app, "corpId": self.corp,
                "records": list(self.records.values()), "codes": self.codes}
        tmp = self.state_file + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, self.state_file)

    def now(self):
        return int(time.time() * 1000) + self.config["clock_offset_ms"]

    def purge(self, now):
        for rec in self.records.values():
            if rec["state"] != "purged" and now - rec["issuedAt"] >= PURGE_AGE_MS:
                rec["state"] = "purged"

    def cap(self, expire):
        lic = self.config["licence_expiry_ms"]
        return expire if lic is None else min(expire, lic)

    def licence_over(self, now):
        lic = self.config["licence_expiry_ms"]
        return lic is not None and lic <= now

    def mint(self, now, lifetime_ms, origin, power, at=None, rt=None, issued=None):
        corp = self.corp
        while True:
            at = at or new_token(corp)
            if at not in self.records:
                break
            at = None
        rec = {"accessToken": at, "refreshToken": rt or new_token(corp),
               "state": "live", "issuedAt": now if issued is None else issued,
               "expireTime": self.cap(now + lifetime_ms) if issued is None
               else issued + lifetime_ms,
               "corporationId": corp, "origin": origin, "powerCode": power,
               "refreshAttempts": 0, "probes": 0}
        self.records[at] = rec
        return rec

    def revoke_all(self):
        for rec in self.records.values():
            if rec["state"] in ("live", "rotated"):
                rec["state"] = "revoked"

    def usable(self, rec, now):
        """May this record's tokens be used (ignoring the fresh-token quirk)?"""
        if rec is None or now >= rec["expireTime"]:
            return False
        return rec["state"] == "live" or (
            rec["state"] == "rotated" and self.config["old_pair_valid_until_expiry"])

    @staticmethod
    def issued(rec):
        return {"accessToken": rec["accessToken"], "refreshToken": rec["refreshToken"],
                "expireTime": rec["expireTime"], "corporationId": rec["corporationId"]}

    # --- error bodies -------------------------------------------------------
    def error(self, status, msg, headers=()):
        style = self.config["error_body"]
        if style == "plain_text":
            return Response(status, msg.encode("utf-8"), TEXT_TYPE, headers)
        if style == "value_wrapped":
            body = {"value": {"errorCode": status, "errorMessage": msg,
                              "errorDetail": None}}
        else:
            body = {"errorCode": status, "errorMessage": msg, "errorDetails": None,
                    "code": None, "data": None}
        return Response(status, dumps(body), JSON_TYPE, headers)

    @staticmethod
    def injected(item):
        status = item["status"]
        headers = []
        if "retry_after" in item:
            headers.append(("Retry-After", item["retry_after"]))
        if "body" in item:
            return Response(status, item["body"].encode("utf-8"),
                            item.get("content_type", JSON_TYPE), headers)
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        body = {"errorCode": status, "errorMessage": item.get("message", phrase),
                "errorDetails": None, "code": None, "data": None}
        return Response(status, dumps(body), item.get("content_type", JSON_TYPE),
                        headers)

    # --- API (caller holds the lock) ----------------------------------------
    def api(self, method, path, params, body):
        self.counters["requests"] += 1
        m = LEGACY_RE.match(path)
        if path == "/api/openapi/v1/auth/getAccessToken":
            ep, want = "getAccessToken", "POST"
        elif path == "/api/openapi/v2/auth/refreshToken":
            ep, want = "refreshToken", "POST"
        elif path == "/api/openapi/v2/auth/refreshToken/expireDate":
            ep, want = "refreshTokenExpireDate", "POST"
        elif m:
            ep, want = "verifyCode", "POST"
        elif path == "/api/openapi/v2/location":
            ep, want = "location", "GET"
        elif path == "/api/openapi/v1/corporations":
            ep, want = "probe", "GET"
        else:
            ep = want = None
        if ep:
            self.counters[ep] += 1
        if self.config["reject_prefix"]:
            return self.error(403, MSG_BADKEY if ep == "getAccessToken" else MSG_UNAUTH)
        if ep is None:
            return self.error(404, "Not Found")
        if method != want:
            return self.error(405, f"Request method '{method}' not supported",
                              [("Allow", want)])
        now = self.now()
        self.purge(now)
        if ep in TOKEN_ENDPOINTS:
            if self.config["fail_next"]:
                return self.injected(self.config["fail_next"].pop(0))
            thr = self.config["throttle_ms"]
            mono = time.monotonic() * 1000
            if thr and self.last_token_call is not None \
                    and mono - self.last_token_call < thr:
                return self.error(self.config["throttle_status"], MSG_THROTTLE)
            self.last_token_call = mono
        if ep == "getAccessToken":
            return self.get_access_token(now, body)
        if ep == "verifyCode":
            return self.verify_code(now, params, m.group(2), bool(m.group(1)))
        if ep == "location":
            if not params.get("corpId"):
                return self.error(400, MSG_PARAM)
            value = self.config["location_value"]
            return ok(self.base_url + "/" if value is None else value)
        if ep == "probe":
            rec = self.records.get(params.get("accessToken", ""))
            if rec is not None:
                rec["probes"] += 1
            if not self.usable(rec, now):
                return self.error(403, MSG_UNAUTH)
            if now - rec["issuedAt"] < self.config["fresh_token_403_ms"]:
                self.counters["fresh_rejected"] += 1
                return self.error(403, MSG_UNAUTH)
            return ok({"id": rec["corporationId"], "name": "Emulated Corp"})
        return self.refresh(now, params, ep == "refreshTokenExpireDate")

    def days(self, params):
        """expireDate in ms, or None when missing, empty or out of 1..365."""
        raw = params.get("expireDate", "")
        if not DAYS_RE.match(raw) or not 1 <= int(raw) <= 365:
            return None
        return int(raw) * DAY_MS

    def get_access_token(self, now, body):
        try:
            doc = json.loads(body.decode("utf-8"))
        except ValueError:
            doc = None
        key = doc.get("appKey") if isinstance(doc, dict) else None
        sec = doc.get("appSecurity") if isinstance(doc, dict) else None
        good = isinstance(key, str) and isinstance(sec, str) \
            and self.app["appKey"] is not None and self.app["appSecurity"] is not None
        good = good and hmac.compare_digest(key.encode(), self.app["appKey"].encode())
        good = good and hmac.compare_digest(sec.encode(),
                                            self.app["appSecurity"].encode())
        if not good or self.licence_over(now):
            return self.error(403, MSG_BADKEY)
        if self.config["issue_invalidates_previous"]:
            self.revoke_all()
        rec = self.mint(now, ISSUE_LIFETIME_MS, "getAccessToken", "219904")
        self.save()
        return ok(self.issued(rec), delay_ms=self.config["issue_delay_ms"])

    def verify_code(self, now, params, code, with_days):
        lifetime = REFRESH_LIFETIME_MS
        if with_days:
            lifetime = self.days(params)
            if lifetime is None:
                return self.error(400, MSG_PARAM)
        if params.get("powerCode") not in POWER_CODES:
            return self.error(403, MSG_UNAUTH)
        entry = self.codes.get(code)
        if entry is None or entry["used"] or now >= entry["expireAt"] \
                or self.licence_over(now):
            return self.error(403, MSG_UNAUTH)
        entry["used"] = True
        if self.config["issue_invalidates_previous"]:
            self.revoke_all()
        rec = self.mint(now, lifetime, "verifyCode", "219902")
        self.save()
        return ok(self.issued(rec))

    def refresh(self, now, params, with_days):
        lifetime = REFRESH_LIFETIME_MS
        if with_days:
            lifetime = self.days(params)
            if lifetime is None:
                return self.error(400, MSG_PARAM)
        power = params.get("powerCode")
        rec = self.records.get(params.get("accessToken", ""))
        if rec is not None:
            rec["refreshAttempts"] += 1
        if power not in POWER_CODES or rec is None or not hmac.compare_digest(
                rec["refreshToken"].encode(), params.get("refreshToken", "").encode()):
            return self.error(403, MSG_UNAUTH)
        if self.config["strict_power_code"] and power != rec["powerCode"]:
            return self.error(403, MSG_UNAUTH)
        if not self.usable(rec, now):
            if rec["state"] == "rotated" and now < rec["expireTime"]:
                self.counters["reuse_rejected"] += 1
            return self.error(403, MSG_UNAUTH)
        if now - rec["issuedAt"] < self.config["fresh_token_403_ms"]:
            self.counters["fresh_rejected"] += 1
            return self.error(403, MSG_UNAUTH)
        if self.licence_over(now):
            return self.error(403, MSG_UNAUTH)
        rec["state"] = "rotated"
        new = self.mint(now, lifetime, "refresh", rec["powerCode"])
        drop = self.config["drop_after_commit"] > 0
        if drop:
            self.config["drop_after_commit"] -= 1
        self.save()
        return ok(self.issued(new), delay_ms=self.config["refresh_delay_ms"], drop=drop)

    # --- control channel (caller holds the lock) ----------------------------
    def control(self, method, path, params, doc):
        name = path[len("/_control/"):]
        get_ok = name in ("config", "counters", "tokens", "valid", "requests")
        if method not in ("GET", "POST") or (method == "GET" and not get_ok):
            raise BadInput(f"{method} /_control/{name} is not supported")
        if method == "POST" and not isinstance(doc, dict):
            raise BadInput("the body must be a JSON object")
        now = self.now()
        if name == "config":
            if method == "POST":
                new = {k: check_switch(k, v) for k, v in doc.items()}
                self.config.update(new)
                if "throttle_ms" in new:
                    self.last_token_call = None   # the next call opens a window
                self.save()
            return self.config
        if name == "app":
            key, sec = doc.get("appKey"), doc.get("appSecurity")
            corp = doc.get("corpId", self.corp)
            if not isinstance(key, str) or not isinstance(sec, str) or not key or not sec:
                raise BadInput("appKey and appSecurity must be non-empty strings")
            if not isinstance(corp, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", corp):
                raise BadInput("corpId must be 1..64 of [A-Za-z0-9_-]")
            self.app = {"appKey": key, "appSecurity": sec}
            self.corp = corp
            self.save()
            return {"corpId": corp}
        if name == "verify_code":
            code, valid = doc.get("code"), doc.get("valid_ms", CODE_LIFETIME_MS)
            if not isinstance(code, str) or not code or "/" in code:
                raise BadInput("code must be a non-empty string without '/'")
            if not is_int(valid):
                raise BadInput("valid_ms must be an integer")
            self.codes[code] = {"expireAt": now + valid, "used": False}
            self.save()
            return {"code": code, "expireAt": now + valid}
        if name == "token":
            life = doc.get("lifetime_ms", ISSUE_LIFETIME_MS)
            ago = doc.get("issued_ago_ms", 0)
            power = doc.get("powerCode", "219904")
            at, rt = doc.get("accessToken"), doc.get("refreshToken")
            if not is_int(life) or not is_int(ago):
                raise BadInput("lifetime_ms and issued_ago_ms must be integers")
            if power not in POWER_CODES:
                raise BadInput("powerCode must be one of " + ", ".join(POWER_CODES))
            for t in (at, rt):
                if t is not None and (not isinstance(t, str) or not t):
                    raise BadInput("accessToken/refreshToken must be non-empty strings")
            if at is not None and at in self.records:
                raise BadInput("that accessToken already exists")
            rec = self.mint(now, life, "control", power, at, rt, issued=now - ago)
            self.save()
            out = self.issued(rec)
            out["issuedAt"] = rec["issuedAt"]
            return out
        if name == "expire":
            at = doc.get("accessToken")
            if at is not None:
                if at not in self.records:
                    raise LookupError("no such accessToken")
                targets = [self.records[at]]
            else:
                targets = [r for r in self.records.values()
                           if r["state"] in ("live", "rotated") and r["expireTime"] > now]
            for r in targets:
                r["expireTime"] = now
            self.save()
            return {"expired": len(targets)}
        if name == "counters":
            return dict(self.counters)
        if name == "reset_counters":
            self.reset_counters()
            return dict(self.counters)
        if name == "reset":
            self.reset_all()
            self.save()
            return self.config
        if name == "tokens":
            self.purge(now)
            return [dict(r, expired=now >= r["expireTime"])
                    for r in self.records.values()]
        if name == "valid":
            return {"valid": self.usable(self.records.get(params.get("token", "")), now)}
        if name == "requests":
            return self.reqlog
        raise LookupError(f"no control endpoint {name!r}")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tokenring-ekuaibao/1"
    timeout = 120

    def read_body(self):
        """The request body; 413 when too large, None when malformed."""
        return emulator.read_body(self, MAX_BODY)

    def send(self, resp):
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.ctype)
        for name, value in resp.headers:
            self.send_header(name, value)
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
            with emu.lock:
                resp = emu.error(body or 400, "Request Entity Too Large" if body
                                 else "Bad Request")
            return self.send(resp)
        params = {k: v[0] for k, v in
                  urllib.parse.parse_qs(query, keep_blank_values=True).items()}
        if path.startswith("/_control/"):
            return self.handle_control(emu, path, params, body)
        entry = {"method": self.command, "path": path_raw, "query": query,
                 "content_type": self.headers.get("Content-Type"),
                 "headers": [[k, v] for k, v in self.headers.items()],
                 "body": body.decode("utf-8", "replace"), "status": None}
        with emu.lock:
            emu.seq += 1
            entry["seq"] = emu.seq
            emu.reqlog.append(entry)
            del emu.reqlog[:-MAX_LOG_ENTRIES]
            resp = emu.api(self.command, path, params, body)
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
                out = emu.control(self.command, path, params, doc)
                data = dumps(out)
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
            sys.stderr.write(f"ekuaibao emulator: internal error {type(e).__name__}\n")
            self.close_connection = True
            try:
                self.send(Response(500, dumps({
                    "errorCode": 500, "errorMessage": "Internal Server Error",
                    "errorDetails": None, "code": None, "data": None})))
            except OSError:
                pass

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = dispatch

    def log_request(self, code="-", size="-"):
        log_file = self.server.log_file
        if not log_file:
            return
        path = (getattr(self, "path", None) or "-").split("?", 1)[0]
        path = REDACT_RE.sub(r"\1***", path).replace(" ", "%20")
        line = "%s %s %s %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"),
                                  getattr(self, "command", None) or "-", path,
                                  getattr(code, "value", code))
        with self.server.log_lock, open(log_file, "a", encoding="utf-8") as f:
            f.write(line)

    def log_message(self, fmt, *args):   # the default prints the query to stderr
        pass


def main():
    args = emulator.arguments(__doc__, lambda ap: ap.add_argument(
        "--state", help="load/save state as JSON here"))
    try:
        emu = Emulator(args.state)
    except (OSError, ValueError, KeyError, BadInput) as e:
        sys.stderr.write(f"ekuaibao emulator: cannot load --state: {type(e).__name__}\n")
        return 1
    server = emulator.server(args, Handler)
    server.emu = emu
    emu.base_url = emulator.base_url(args, server)
    return emulator.run(server, args.port_file)


if __name__ == "__main__":
    sys.exit(main())
