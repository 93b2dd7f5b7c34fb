#!/usr/bin/env python3
"""Generic OAuth 2.0 token-endpoint emulator, for tokenring's tests.

Reproduces the refresh grant of RFC 6749 section 6 with RFC 9700's rotation
and reuse detection, as PROVIDERS.md section 4.6 asks: client
authentication (Basic with form-encoded parts, or in the body), refresh
token rotation with family revocation and an optional grace period, scope
checks, rate limits, malformed answers and network faults.  Loopback only,
plain HTTP, standard library only.

Command line (no secret is ever taken from it):

    oauth2.py --port-file FILE [--log FILE] [--bind 127.0.0.1] [--port 0]

  --port-file  after binding, the port + "\\n" is written to FILE.tmp, then
               renamed over FILE (poll for FILE to appear).
  --log        one line per request: time, method, path without the query,
               status.  Never a token or a secret.
  --bind       a loopback address only (127.0.0.0/8 or ::1); else exit 2.
  --port       0 = ephemeral.
  SIGTERM and SIGINT end the server with status 0.

API endpoints:

  POST /token, /oauth2/token, /oauth/token, /login/oauth/access_token
       the token endpoint (the paths of generic servers, Longbridge's OAuth
       mode, Gitea and GitHub); form body only.
  GET  /resource   the protected resource: "Authorization: Bearer AT" ->
       200 {"ok": true, "client": ..., "scope": ...}, else 401 with
       WWW-Authenticate: Bearer error="invalid_token".

Token endpoint, in this order (every answer is JSON):
  1. fail_next, then hang_next: answered without touching state.
  2. method other than POST -> 405; a query string, a Content-Type other
     than application/x-www-form-urlencoded, a body that is not a form, or
     a parameter given twice -> 400 invalid_request.
  3. missing grant_type or refresh_token -> 400 invalid_request; another
     grant_type -> 400 unsupported_grant_type.
  4. client authentication: a Basic header is base64("id:secret") with each
     part form-decoded (RFC 6749 2.3.1); both a header and a body
     client_secret -> 400 invalid_request.  Unknown client, wrong secret,
     no client_id at all, or a method that require_client_auth forbids ->
     invalid_client: 401 with WWW-Authenticate: Basic realm="emulator" when
     the header was used, else 400.  Presented credentials are always
     checked, whatever require_client_auth says.
  5. min_refresh_interval: less than that many seconds after the last
     successful refresh -> 429 {"error":"slow_down"} with Retry-After.
  6. the refresh token: unknown, expired, revoked, or another client's ->
     400 invalid_grant.  A rotated-out one within grace_period_s of its
     rotation -> the same successor pair again (counter grace_replays);
     otherwise 400 invalid_grant and, unless reuse_detection is off,
     reuse_detected+1; with revoke_family the grant's active refresh token
     and all its access tokens are revoked too (family_revocations+1).
  7. scope wider than the grant's -> 400 invalid_scope.
  8. success: 200, Cache-Control: no-store, Pragma: no-cache,
     {"access_token","token_type","expires_in","refresh_token"?,"scope"?}.
     The pair rotates when rotate is on and return_refresh_token is
     "always": the old refresh token becomes "rotated".  "same" returns the
     old refresh token unchanged, "never" leaves it out (neither rotates).

Switches (POST /_control/config {name: value, ...}; unknown names -> 400):
  rotate                 true
  reuse_detection        "revoke_family" | "reject_only" | "off"
  grace_period_s         0       rotated-out RT replays within this get the
                                 same successor pair (Hydra, FAPI 2.0)
  access_ttl             3600    seconds
  refresh_ttl            null    seconds, or null for no expiry
  refresh_expires_in     false   add Keycloak's refresh_expires_in (with
                                 refresh_ttl) to successes
  require_client_auth    "none" | "basic" | "body" | "either"
  min_refresh_interval   0       seconds -> 429 + Retry-After
  return_refresh_token   "always" | "never" | "same"
  expires_in_as_string   false   "3600" instead of 3600
  omit_expires_in        false
  token_type_case        "canonical" ("Bearer") | "lower" | "upper"
  token_type             null    a literal token_type instead ("mac", "DPoP")
  extra_fields           {}      merged into success bodies (id_token, ...)
  fail_next              []      consumed one per token request.  Items: a
                                 status (int) -> {"error": CODE} with CODE
                                 slow_down for 429, temporarily_unavailable
                                 for 503, server_error for other 5xx and
                                 invalid_request for the rest; or
                                 {"status", "error"?, "error_description"?,
                                 "retry_after"?, "www_authenticate"?,
                                 "body"?, "content_type"?}: "body" is sent
                                 verbatim (a malformed "success" with 200)
  hang_next              0       the next N token requests get no answer:
                                 held hang_ms, then the connection closes
  hang_ms                5000
  drop_after_commit      0       the next N successful refreshes commit,
                                 then close the connection (a lost reply)
  refresh_delay_ms       0       a refresh commits, sleeps, then answers
                                 (the pause after the commit)
  header_pause_ms        0       pause between the headers and the body
  drip_ms                0       send bodies one byte per drip_ms (slow drip)

Control channel (same port, never counted or logged in /_control/requests;
JSON in, JSON out; errors are {"error": "..."} with 400/404):
  GET  /_control/config          -> full config
  POST /_control/config          {switch: value, ...} -> full config
  POST /_control/client          {"client_id", "client_secret"? (null: a
                                  public client)} registers or replaces
                                  -> {"client_id", "confidential"}
  POST /_control/grant           {"client_id", "scope"? ("read write"),
                                  "refresh_token"?, "access_token"?,
                                  "access_ttl"?, "refresh_ttl"?} mints a
                                  family (explicit canary tokens allowed)
                                  -> {"grant","refresh_token","access_token",
                                  "expires_in"}
  POST /_control/expire          {"access_token"} | {"refresh_token"} |
                                  {"grant"}: expiry set to now -> {"expired"}
  POST /_control/revoke          {"grant"} | {"refresh_token"}: the family
                                  -> {"revoked": grant}
  GET  /_control/state           -> {"grants": [{grant, client, scope,
                                  active_rt, rotated [rt...], revoked,
                                  refreshes, reuse_detected, rt_uses
                                  {rt: n}}], "access_tokens": [{access_token,
                                  grant, expires_at, revoked, valid}]}
  GET  /_control/counters        -> {token_requests, refreshes,
                                  reuse_detected, family_revocations,
                                  grace_replays, invalid_grant,
                                  invalid_client, invalid_request,
                                  invalid_scope, rate_limited, faults,
                                  probes, requests}
  POST /_control/reset_counters  zeroes the counters AND clears the log
  GET  /_control/requests        -> [{seq, method, path (raw), query (raw),
                                  content_type, headers [[name, value]],
                                  body, status, client_auth}] every API
                                  request verbatim (status null while in
                                  flight, "drop"/"hang" when unanswered);
                                  the only place request contents show,
                                  deliberately (last 10000).  client_auth
                                  is what step 4 saw: {"method": "basic" |
                                  "body" | "none", "client_id", "ok"}
  POST /_control/reset           back to the start state

Tokens and secrets never go to the --log file or stderr.
"""
import base64, binascii, hmac, json, math, secrets
import socket, sys, threading, time, urllib.parse
from http.server import BaseHTTPRequestHandler

import emulator

MAX_BODY = 1 << 20
MAX_LOG_ENTRIES = 10000
JSON_TYPE = "application/json;charset=UTF-8"
FORM_TYPE = "application/x-www-form-urlencoded"
TOKEN_PATHS = ("/token", "/oauth2/token", "/oauth/token",
               "/login/oauth/access_token")

DEFAULT_CONFIG = {
    "rotate": True,
    "reuse_detection": "revoke_family",
    "grace_period_s": 0,
    "access_ttl": 3600,
    "refresh_ttl": None,
    "refresh_expires_in": False,
    "require_client_auth": "none",
    "min_refresh_interval": 0,
    "return_refresh_token": "always",
    "expires_in_as_string": False,
    "omit_expires_in": False,
    "token_type_case": "canonical",
    "token_type": None,
    "extra_fields": {},
    "fail_next": [],
    "hang_next": 0,
    "hang_ms": 5000,
    "drop_after_commit": 0,
    "refresh_delay_ms": 0,
    "header_pause_ms": 0,
    "drip_ms": 0,
}
CHOICES = {
    "reuse_detection": ("revoke_family", "reject_only", "off"),
    "require_client_auth": ("none", "basic", "body", "either"),
    "return_refresh_token": ("always", "never", "same"),
    "token_type_case": ("canonical", "lower", "upper"),
}
BOOLEANS = ("rotate", "refresh_expires_in", "expires_in_as_string",
            "omit_expires_in")
DEFAULT_ERRORS = {429: "slow_down", 503: "temporarily_unavailable"}
COUNTER_NAMES = ("token_requests", "refreshes", "reuse_detected",
                 "family_revocations", "grace_replays", "invalid_grant",
                 "invalid_client", "invalid_request", "invalid_scope",
                 "rate_limited", "faults", "probes", "requests")


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
        if key not in ("status", "error", "error_description", "retry_after",
                       "www_authenticate", "body", "content_type"):
            raise BadInput(f"fail_next item: unknown key {key!r}")
        if key != "status" and not isinstance(item[key], str):
            raise BadInput(f"fail_next item: {key} must be a string")
    return item


def check_switch(name, value):
    """Return the validated value of one switch, or raise BadInput."""
    if name not in DEFAULT_CONFIG:
        raise BadInput(f"unknown switch {name!r}")
    if name in BOOLEANS:
        if not isinstance(value, bool):
            raise BadInput(f"{name} must be true or false")
    elif name in CHOICES:
        if value not in CHOICES[name]:
            raise BadInput(f"{name} must be one of " + ", ".join(CHOICES[name]))
    elif name == "token_type":
        if value is not None and not isinstance(value, str):
            raise BadInput("token_type must be a string or null")
    elif name == "extra_fields":
        if not isinstance(value, dict):
            raise BadInput("extra_fields must be an object")
    elif name == "fail_next":
        if not isinstance(value, list):
            raise BadInput("fail_next must be a list")
        value = [check_fail_item(i) for i in value]
    elif name == "refresh_ttl":
        if value is not None and (not is_int(value) or value < 1):
            raise BadInput("refresh_ttl must be a positive integer or null")
    elif name == "access_ttl":
        if not is_int(value) or value < 1:
            raise BadInput("access_ttl must be a positive integer")
    else:
        if not is_int(value) or value < 0:
            raise BadInput(f"{name} must be a non-negative integer")
    return value


def new_token(kind):
    return f"oa2{kind}_" + secrets.token_urlsafe(24)


def dumps(obj):
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


class Response:
    def __init__(self, status, body=b"", ctype=JSON_TYPE, headers=(),
                 delay_ms=0, drop=False, hang_ms=0):
        self.status, self.body, self.ctype = status, body, ctype
        self.headers, self.delay_ms, self.drop = list(headers), delay_ms, drop
        self.hang_ms = hang_ms
        self.pause_ms = self.drip_ms = 0  # set under the lock, see handle_any


def oauth_error(status, code, description=None, headers=()):
    doc = {"error": code}
    if description:
        doc["error_description"] = description
    return Response(status, dumps(doc), headers=headers)


class Emulator:
    """All mutable state; every access goes through self.lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset_all()

    def reset_all(self):
        self.config = json.loads(json.dumps(DEFAULT_CONFIG))
        self.clients = {}        # client_id -> secret or None (public)
        self.grants = {}         # grant id -> grant record
        self.rts = {}            # refresh token -> {grant, state, exp, ...}
        self.ats = {}            # access token -> {grant, exp, revoked}
        self.last_refresh = None
        self.next_grant = 1
        self.reset_counters()

    def reset_counters(self):
        self.counters = {k: 0 for k in COUNTER_NAMES}
        self.reqlog = []
        self.seq = 0

    @staticmethod
    def now():
        return time.time()

    # --- tokens -------------------------------------------------------------
    def mint_at(self, gid, ttl, value=None):
        at = value or new_token("at")
        self.ats[at] = {"grant": gid, "exp": self.now() + ttl, "revoked": False}
        return at

    def mint_rt(self, gid, ttl, value=None):
        rt = value or new_token("rt")
        self.rts[rt] = {"grant": gid, "state": "active", "uses": 0,
                        "exp": None if ttl is None else self.now() + ttl,
                        "rotated_at": None, "successor": None}
        return rt

    def revoke_family(self, gid):
        g = self.grants[gid]
        g["revoked"] = True
        for rec in self.rts.values():
            if rec["grant"] == gid:
                rec["state"] = "revoked" if rec["state"] == "active" else rec["state"]
        for rec in self.ats.values():
            if rec["grant"] == gid:
                rec["revoked"] = True

    def at_valid(self, at):
        rec = self.ats.get(at)
        return bool(rec) and not rec["revoked"] and self.now() < rec["exp"] \
            and not self.grants[rec["grant"]]["revoked"]

    # --- answers ------------------------------------------------------------
    def token_type(self):
        if self.config["token_type"] is not None:
            return self.config["token_type"]
        case = self.config["token_type_case"]
        return {"canonical": "Bearer", "lower": "bearer", "upper": "BEARER"}[case]

    def success(self, at, rt, scope, drop=False):
        c = self.config
        doc = {"access_token": at, "token_type": self.token_type()}
        if not c["omit_expires_in"]:
            left = max(1, math.ceil(self.ats[at]["exp"] - self.now()))
            doc["expires_in"] = str(left) if c["expires_in_as_string"] else left
        if rt is not None:
            doc["refresh_token"] = rt
            exp = self.rts[rt]["exp"]
            if c["refresh_expires_in"] and exp is not None:
                doc["refresh_expires_in"] = max(1, math.ceil(exp - self.now()))
        if scope is not None:
            doc["scope"] = scope
        doc.update(c["extra_fields"])
        return Response(200, dumps(doc), drop=drop,
                        headers=[("Cache-Control", "no-store"),
                                 ("Pragma", "no-cache")],
                        delay_ms=c["refresh_delay_ms"])

    def fault(self, item):
        self.counters["faults"] += 1
        status = item["status"]
        headers = []
        if "retry_after" in item:
            headers.append(("Retry-After", item["retry_after"]))
        if "www_authenticate" in item:
            headers.append(("WWW-Authenticate", item["www_authenticate"]))
        if "body" in item:
            body = item["body"].encode("utf-8")
        else:
            code = item.get("error") or DEFAULT_ERRORS.get(
                status, "server_error" if status >= 500 else "invalid_request")
            doc = {"error": code}
            if "error_description" in item:
                doc["error_description"] = item["error_description"]
            body = dumps(doc)
        return Response(status, body, ctype=item.get("content_type", JSON_TYPE),
                        headers=headers)

    # --- the token endpoint (caller holds the lock) ---------------------------
    def client_auth(self, headers, params, entry):
        """(client_id, None) when authenticated, or (None, Response)."""
        authz = headers.get("Authorization")
        basic = None
        if authz is not None:
            scheme, _, value = authz.strip().partition(" ")
            try:
                if scheme.lower() != "basic":
                    raise ValueError
                raw = base64.b64decode(value.strip(), validate=True).decode("utf-8")
                cid, sep, secret = raw.partition(":")
                if not sep:
                    raise ValueError
                basic = (urllib.parse.unquote_plus(cid),
                         urllib.parse.unquote_plus(secret))
            except (ValueError, binascii.Error, UnicodeDecodeError):
                basic = ("", None)
        body_id = params.get("client_id")
        body_secret = params.get("client_secret")
        if basic is not None and body_secret is not None:
            self.counters["invalid_request"] += 1
            return None, oauth_error(400, "invalid_request",
                                     "more than one client authentication method")
        method = "basic" if basic else "body" if body_secret is not None else "none"
        cid = basic[0] if basic else body_id
        secret = basic[1] if basic else body_secret
        known = cid in self.clients
        want = self.config["require_client_auth"]
        good = bool(cid) and known
        if good and method != "none":
            stored = self.clients[cid]
            good = stored is not None and secret is not None and \
                hmac.compare_digest(secret.encode(), stored.encode())
        if good and basic and body_id is not None and body_id != cid:
            good = False
        if good and (want == "basic" and method != "basic" or
                     want == "body" and method != "body" or
                     want == "either" and method == "none"):
            good = False
        entry["client_auth"] = {"method": method, "client_id": cid, "ok": good}
        if good:
            return cid, None
        self.counters["invalid_client"] += 1
        if basic:
            return None, oauth_error(401, "invalid_client",
                                     "client authentication failed",
                                     headers=[("WWW-Authenticate",
                                               'Basic realm="emulator"')])
        return None, oauth_error(400, "invalid_client",
                                 "client authentication failed")

    def invalid_grant(self, why):
        self.counters["invalid_grant"] += 1
        return oauth_error(400, "invalid_grant", why)

    def token(self, method, query, headers, body, entry):
        c = self.config
        self.counters["token_requests"] += 1
        if c["fail_next"]:
            return self.fault(c["fail_next"].pop(0))
        if c["hang_next"] > 0:
            c["hang_next"] -= 1
            self.counters["faults"] += 1
            return Response(0, hang_ms=c["hang_ms"])
        if method != "POST":
            return Response(405, dumps({"error": "invalid_request"}),
                            headers=[("Allow", "POST")])
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        bad = None
        if query:
            bad = "no query string on the token endpoint"
        elif ctype != FORM_TYPE:
            bad = "the body must be " + FORM_TYPE
        else:
            try:
                pairs = urllib.parse.parse_qsl(body.decode("utf-8"),
                                               keep_blank_values=True,
                                               strict_parsing=bool(body))
            except (ValueError, UnicodeDecodeError):
                pairs, bad = [], "the body is not a form"
            names = [k for k, _ in pairs]
            if bad is None and len(names) != len(set(names)):
                bad = "a parameter was given twice"
        if bad is None:
            params = dict(pairs)
            if "grant_type" not in params or (
                    params["grant_type"] == "refresh_token"
                    and not params.get("refresh_token")):
                bad = "grant_type and refresh_token are required"
        if bad is not None:
            self.counters["invalid_request"] += 1
            return oauth_error(400, "invalid_request", bad)
        if params["grant_type"] != "refresh_token":
            return oauth_error(400, "unsupported_grant_type")
        cid, failure = self.client_auth(headers, params, entry)
        if failure:
            return failure
        now = self.now()
        wait = c["min_refresh_interval"]
        if wait and self.last_refresh is not None and now - self.last_refresh < wait:
            self.counters["rate_limited"] += 1
            left = max(1, math.ceil(wait - (now - self.last_refresh)))
            return oauth_error(429, "slow_down", "too many refresh requests",
                               headers=[("Retry-After", str(left))])
        rt = params["refresh_token"]
        rec = self.rts.get(rt)
        if rec is None:
            return self.invalid_grant("unknown refresh token")
        rec["uses"] += 1
        gid = rec["grant"]
        grant = self.grants[gid]
        if grant["client"] != cid:
            return self.invalid_grant("refresh token of another client")
        if grant["revoked"] or rec["state"] == "revoked":
            return self.invalid_grant("refresh token revoked")
        if rec["exp"] is not None and now >= rec["exp"]:
            return self.invalid_grant("refresh token expired")
        if rec["state"] == "rotated":
            if rec["successor"] and now - rec["rotated_at"] <= c["grace_period_s"] \
                    and self.at_valid(rec["successor"][0]):
                self.counters["grace_replays"] += 1
                at, new_rt, scope = rec["successor"]
                return self.success(at, new_rt, scope)
            if c["reuse_detection"] != "off":
                self.counters["reuse_detected"] += 1
                grant["reuse_detected"] += 1
                if c["reuse_detection"] == "revoke_family":
                    self.counters["family_revocations"] += 1
                    self.revoke_family(gid)
            return self.invalid_grant("refresh token already used")
        scope = params.get("scope")
        if scope is not None:
            wanted = set(scope.split(" "))
            if not scope or "" in wanted or not wanted <= set(grant["scope"].split()):
                self.counters["invalid_scope"] += 1
                return oauth_error(400, "invalid_scope",
                                   "scope exceeds the grant")
        at = self.mint_at(gid, c["access_ttl"])
        back = c["return_refresh_token"]
        if c["rotate"] and back == "always":
            new_rt = self.mint_rt(gid, c["refresh_ttl"])
            rec["state"], rec["rotated_at"] = "rotated", now
            rec["successor"] = (at, new_rt, scope)
            grant["active_rt"] = new_rt
            grant["rotated"].append(rt)
            answer_rt = new_rt
        else:
            answer_rt = None if back == "never" else rt
        grant["refreshes"] += 1
        self.counters["refreshes"] += 1
        self.last_refresh = now
        drop = c["drop_after_commit"] > 0
        if drop:
            c["drop_after_commit"] -= 1
        return self.success(at, answer_rt, scope, drop=drop)

    def resource(self, headers):
        self.counters["probes"] += 1
        scheme, _, at = (headers.get("Authorization") or "").strip().partition(" ")
        if scheme.lower() == "bearer" and self.at_valid(at.strip()):
            g = self.grants[self.ats[at.strip()]["grant"]]
            return Response(200, dumps({"ok": True, "client": g["client"],
                                        "scope": g["scope"]}))
        return Response(401, dumps({"error": "invalid_token"}), headers=[
            ("WWW-Authenticate", 'Bearer realm="emulator", error="invalid_token"')])

    def api(self, method, path, query, headers, body, entry):
        self.counters["requests"] += 1
        if path in TOKEN_PATHS:
            return self.token(method, query, headers, body, entry)
        if path == "/resource":
            if method != "GET":
                return Response(405, dumps({"error": "method not allowed"}),
                                headers=[("Allow", "GET")])
            return self.resource(headers)
        return Response(404, dumps({"error": "not found"}))

    # --- control channel (caller holds the lock) ----------------------------
    def state(self):
        now = self.now()
        grants = []
        for gid, g in self.grants.items():
            grants.append({
                "grant": gid, "client": g["client"], "scope": g["scope"],
                "active_rt": None if g["revoked"] else g["active_rt"],
                "rotated": list(g["rotated"]), "revoked": g["revoked"],
                "refreshes": g["refreshes"],
                "reuse_detected": g["reuse_detected"],
                "rt_uses": {rt: r["uses"] for rt, r in self.rts.items()
                            if r["grant"] == gid}})
        ats = [{"access_token": at, "grant": r["grant"],
                "expires_at": int(r["exp"]), "revoked": r["revoked"],
                "valid": self.at_valid(at)} for at, r in self.ats.items()]
        return {"grants": grants, "access_tokens": ats, "now": int(now)}

    def find_grant(self, doc):
        if "grant" in doc:
            if doc["grant"] not in self.grants:
                raise LookupError("no such grant")
            return doc["grant"]
        if "refresh_token" in doc:
            if doc["refresh_token"] not in self.rts:
                raise LookupError("no such refresh_token")
            return self.rts[doc["refresh_token"]]["grant"]
        raise BadInput("name a grant or a refresh_token")

    def control(self, method, path, doc):
        name = path[len("/_control/"):]
        get_ok = name in ("config", "counters", "state", "requests")
        if method not in ("GET", "POST") or (method == "GET" and not get_ok):
            raise BadInput(f"{method} /_control/{name} is not supported")
        if method == "POST" and not isinstance(doc, dict):
            raise BadInput("the body must be a JSON object")
        now = self.now()
        if name == "config":
            if method == "POST":
                self.config.update({k: check_switch(k, v) for k, v in doc.items()})
            return self.config
        if name == "client":
            cid, secret = doc.get("client_id"), doc.get("client_secret")
            if not isinstance(cid, str) or not cid:
                raise BadInput("client_id must be a non-empty string")
            if secret is not None and (not isinstance(secret, str) or not secret):
                raise BadInput("client_secret must be a non-empty string or null")
            self.clients[cid] = secret
            return {"client_id": cid, "confidential": secret is not None}
        if name == "grant":
            cid = doc.get("client_id")
            scope = doc.get("scope", "read write")
            at_ttl = doc.get("access_ttl", self.config["access_ttl"])
            rt_ttl = doc.get("refresh_ttl", self.config["refresh_ttl"])
            if cid not in self.clients:
                raise BadInput("register the client first")
            if not isinstance(scope, str) or not scope.split():
                raise BadInput("scope must be a non-empty string")
            if not is_int(at_ttl) or (rt_ttl is not None and not is_int(rt_ttl)):
                raise BadInput("access_ttl/refresh_ttl must be integers")
            for key in ("refresh_token", "access_token"):
                v = doc.get(key)
                if v is not None and (not isinstance(v, str) or not v):
                    raise BadInput(f"{key} must be a non-empty string")
            if doc.get("refresh_token") in self.rts or doc.get("access_token") in self.ats:
                raise BadInput("that token already exists")
            gid = f"g{self.next_grant}"
            self.next_grant += 1
            self.grants[gid] = {"client": cid, "scope": scope, "active_rt": None,
                                "rotated": [], "revoked": False,
                                "refreshes": 0, "reuse_detected": 0}
            rt = self.mint_rt(gid, rt_ttl, doc.get("refresh_token"))
            at = self.mint_at(gid, at_ttl, doc.get("access_token"))
            self.grants[gid]["active_rt"] = rt
            return {"grant": gid, "refresh_token": rt, "access_token": at,
                    "expires_in": at_ttl}
        if name == "expire":
            n = 0
            if "access_token" in doc:
                if doc["access_token"] not in self.ats:
                    raise LookupError("no such access_token")
                self.ats[doc["access_token"]]["exp"] = now
                n = 1
            elif "refresh_token" in doc:
                if doc["refresh_token"] not in self.rts:
                    raise LookupError("no such refresh_token")
                self.rts[doc["refresh_token"]]["exp"] = now
                n = 1
            else:
                gid = self.find_grant(doc)
                for table in (self.ats, self.rts):
                    for r in table.values():
                        if r["grant"] == gid:
                            r["exp"] = now
                            n += 1
            return {"expired": n}
        if name == "revoke":
            gid = self.find_grant(doc)
            self.revoke_family(gid)
            return {"revoked": gid}
        if name == "state":
            return self.state()
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


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tokenring-oauth2/1"
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
        if resp.pause_ms:
            self.wfile.flush()
            time.sleep(resp.pause_ms / 1000)
        if resp.drip_ms:
            for i in range(len(resp.body)):
                self.wfile.write(resp.body[i:i + 1])
                self.wfile.flush()
                time.sleep(resp.drip_ms / 1000)
        else:
            self.wfile.write(resp.body)

    def close_now(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def handle_any(self):
        emu = self.server.emu
        path_raw, _, query = self.path.partition("?")
        path = urllib.parse.unquote(path_raw)
        body = self.read_body()
        if not isinstance(body, bytes):
            self.close_connection = True
            return self.send(Response(body or 400, dumps({"error": "bad request"})))
        if path.startswith("/_control/"):
            return self.handle_control(emu, path, body)
        entry = {"method": self.command, "path": path_raw, "query": query,
                 "content_type": self.headers.get("Content-Type"),
                 "headers": [[k, v] for k, v in self.headers.items()],
                 "body": body.decode("utf-8", "replace"), "status": None,
                 "client_auth": None}
        with emu.lock:
            emu.seq += 1
            entry["seq"] = emu.seq
            emu.reqlog.append(entry)
            del emu.reqlog[:-MAX_LOG_ENTRIES]
            resp = emu.api(self.command, path, query, self.headers, body, entry)
            resp.pause_ms = emu.config["header_pause_ms"]
            resp.drip_ms = emu.config["drip_ms"]
            if resp.hang_ms:
                entry["status"] = "hang"
            elif resp.drop:
                entry["status"] = "drop"
            else:
                entry["status"] = resp.status
        if resp.hang_ms:
            time.sleep(resp.hang_ms / 1000)
            self.log_request("hang")
            return self.close_now()
        if resp.delay_ms:
            time.sleep(resp.delay_ms / 1000)
        if resp.drop:
            self.log_request("drop")
            return self.close_now()
        self.send(resp)

    def handle_control(self, emu, path, body):
        try:
            doc = json.loads(body.decode("utf-8")) if body.strip() else {}
        except ValueError:
            doc = None
        try:
            with emu.lock:
                data = dumps(emu.control(self.command, path, doc))
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
            sys.stderr.write(f"oauth2 emulator: internal error {type(e).__name__}\n")
            self.close_connection = True
            try:
                self.send(Response(500, dumps({"error": "server_error"})))
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

    def log_message(self, fmt, *args):   # the default would print to stderr
        pass


def main():
    args = emulator.arguments(__doc__)
    server = emulator.server(args, Handler)
    server.emu = Emulator()
    return emulator.run(server, args.port_file)


if __name__ == "__main__":
    sys.exit(main())
