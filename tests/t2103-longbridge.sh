#!/bin/sh
test_description='the longbridge provider against its emulator'
. "${TOKENRING_SOURCE_DIR:-$(dirname "$0")/..}/tests/test-lib.sh"
. "$TEST_DIRECTORY/lib-longbridge.sh"

start_keyring || test_skip_all "cannot start a private keyring"
start_longbridge || test_skip_all "cannot start the Longbridge emulator"

APP_KEY=AKCANARY-lb1
APP_SECRET=SECCANARY-lb-app-secret

# The emulator's newest active token.
active_token () {
	lb_control tokens | python3 -c '
import json, sys
print([t for t in json.load(sys.stdin) if t["status"] == "active"][-1]["token"])'
}

# Mint a token (JSON options on stdin) and log account $1 in with it, and
# with the app pair unless $2 is "noapp".  Keeps the minted answer in
# minted.$1 and the token in token.$1.
mint_login () {
	lb_post token >"minted.$1" &&
	lb_json token <"minted.$1" >"token.$1" &&
	if [ "$2" = noapp ]; then
		lb_login_input "input.$1" <"minted.$1"
	else
		lb_login_input "input.$1" "$APP_KEY" "$APP_SECRET" <"minted.$1"
	fi &&
	tokenring login "$1" <"input.$1" >"login.$1"
}

# The stored expiry of account $1 (epoch seconds), from --format json.
stored_expiry () {
	tokenring token "$1" --format json |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["expires_at"])'
}

test_expect_success 'setup: an app, the signature checker and the prober' '
	lb_post app <<-EOF &&
	{"app_key": "$APP_KEY", "app_secret": "$APP_SECRET", "aaid": "13"}
	EOF
	printf "%s\n" "$APP_SECRET" >app_secret &&
	# The signature, computed here from PROVIDERS.md 3.0 independently of
	# the module and the emulator, over a logged request: verify-sig.py
	# REQUEST.json SECRET-FILE.
	cat >verify-sig.py <<-\PY &&
	import hashlib, hmac, json, sys, urllib.parse
	req = json.load(open(sys.argv[1]))
	secret = open(sys.argv[2]).read().strip().encode()
	h = {k.lower(): v for k, v in req["headers"]}
	def sig(query):
	    c = "|".join([req["method"], req["path"], query,
	                  "authorization:%s\nx-api-key:%s\nx-timestamp:%s\n" % (
	                      h["authorization"], h["x-api-key"], h["x-timestamp"]),
	                  "authorization;x-api-key;x-timestamp", ""])
	    if req["body"]:
	        c += hashlib.sha1(req["body"].encode()).hexdigest()
	    s = "HMAC-SHA256|" + hashlib.sha1(c.encode()).hexdigest()
	    return hmac.new(secret, s.encode(), hashlib.sha256).hexdigest()
	want = ("HMAC-SHA256 SignedHeaders=authorization;x-api-key;x-timestamp, "
	        "Signature=" + sig(req["query"]))
	assert h["x-api-signature"] == want, "signature mismatch"
	raw = urllib.parse.unquote(req["query"])
	if raw != req["query"]:
	    # Signing the decoded query, the classic mistake, gives another one.
	    assert sig(raw) not in h["x-api-signature"]
	print("signature ok")
	PY
	# probe.py TOKEN-FILE: GET /v1/asset/account signed with the app pair;
	# prints "HTTP-status code".
	cat >probe.py <<-\PY &&
	import hashlib, hmac, json, os, sys, time, urllib.error, urllib.request
	token = open(sys.argv[1]).read().strip()
	secret = open("app_secret").read().strip().encode()
	key, ts = "'"$APP_KEY"'", str(int(time.time()))
	c = "GET|/v1/asset/account||authorization:%s\nx-api-key:%s\nx-timestamp:%s\n|authorization;x-api-key;x-timestamp|" % (token, key, ts)
	s = "HMAC-SHA256|" + hashlib.sha1(c.encode()).hexdigest()
	sig = hmac.new(secret, s.encode(), hashlib.sha256).hexdigest()
	req = urllib.request.Request(os.environ["LB_URL"] + "/v1/asset/account", headers={
	    "Authorization": token, "X-Api-Key": key, "X-Timestamp": ts,
	    "X-Api-Signature": "HMAC-SHA256 SignedHeaders=authorization;x-api-key;x-timestamp, Signature=" + sig})
	try:
	    r = urllib.request.urlopen(req)
	    status, body = r.status, r.read()
	except urllib.error.HTTPError as e:
	    status, body = e.code, e.read()
	print(status, json.loads(body)["code"])
	PY
	lb_account lb
'

test_expect_success 'login records token, expiry and app pair without a request' '
	lb_post token >minted.lb <<-\EOF &&
	{"token": "TOKCANARY-site-1", "lifetime_s": 7776000}
	EOF
	lb_login_input input.lb "$APP_KEY" "$APP_SECRET" <minted.lb &&
	tokenring login lb <input.lb >out &&
	grep "^logged in .lb.: token valid until" out &&
	test "$(lb_counter requests)" = 0 &&
	test "$(stored_expiry lb)" = "$(lb_json expired_at_ms <minted.lb | sed "s/...$//")"
'

test_expect_success 'token prints it with zero requests; no Bearer, no header format' '
	tokenring token lb >token &&
	echo TOKCANARY-site-1 >expect &&
	test_cmp expect token &&
	tokenring token lb --format json >json &&
	python3 -c "
import json
j = json.load(open(\"json\"))
assert j[\"token_type\"] is None and j[\"provider\"] == \"longbridge\", j
" &&
	{ tokenring token lb --format header >out 2>err; test $? = 2; } &&
	test_must_be_empty out &&
	grep -- "--format plain" err &&
	test "$(lb_counter requests)" = 0
'

test_expect_success 'near expiry: one signed refresh, the old token dies' '
	lb_account lbshort min_valid=600 &&
	mint_login lbshort <<-\EOF &&
	{"lifetime_s": 300}
	EOF
	lb_post reset_counters </dev/null &&
	tokenring token lbshort >token &&
	test "$(lb_counter refresh)" = 1 &&
	test "$(lb_counter signed)" = 1 &&
	test "$(lb_counter signature_rejected)" = 0 &&
	active_token >expect &&
	test_cmp expect token &&
	! test_cmp token.lbshort token &&
	lb_last_request >request.json &&
	python3 verify-sig.py request.json app_secret &&
	python3 -c "
import json, re, datetime
r = json.load(open(\"request.json\"))
h = {k.lower(): v for k, v in r[\"headers\"]}
assert r[\"method\"] == \"GET\" and r[\"path\"] == \"/v1/token/refresh\", r
assert not r[\"body\"], r
q = r[\"query\"]
m = re.fullmatch(r\"expired_at=(\d{4}-\d\d-\d\dT\d\d%3A\d\d%3A\d\d\.\d{3}Z)\", q)
assert m, q
assert h[\"authorization\"] == open(\"token.lbshort\").read().strip()
assert h[\"x-api-key\"] == \"$APP_KEY\"
assert re.fullmatch(r\"\d+\", h[\"x-timestamp\"]), h
assert h[\"content-type\"] == \"application/json; charset=utf-8\", h
t = datetime.datetime.strptime(m.group(1).replace(\"%3A\", \":\"),
                               \"%Y-%m-%dT%H:%M:%S.%fZ\")
t = t.replace(tzinfo=datetime.timezone.utc).timestamp()
assert abs(t - int(h[\"x-timestamp\"]) - 90 * 86400) < 5, t
" &&
	echo "401 401004" >expect &&
	python3 probe.py token.lbshort >probe.old &&
	test_cmp expect probe.old &&
	echo "200 0" >expect &&
	python3 probe.py token >probe.new &&
	test_cmp expect probe.new
'

test_expect_success 'the new token and its expiry were stored before printing' '
	tokenring token lbshort >again &&
	test_cmp token again &&
	test "$(lb_counter refresh)" = 1 &&
	lb_control tokens >tokens &&
	python3 -c "
import json
t = [r for r in json.load(open(\"tokens\")) if r[\"status\"] == \"active\"][-1]
print(t[\"expired_at_ms\"] // 1000)" >expect &&
	stored_expiry lbshort >actual &&
	test_cmp expect actual &&
	tokenring status lbshort >status &&
	grep "^last refresh:" status
'

test_expect_success 'the emulator refuses a replayed request (403202)' '
	python3 -c "
import json, os, urllib.error, urllib.request
r = json.load(open(\"request.json\"))
req = urllib.request.Request(os.environ[\"LB_URL\"] + r[\"path\"] + \"?\" + r[\"query\"],
                             headers=dict(r[\"headers\"]))
try:
    urllib.request.urlopen(req)
    raise SystemExit(\"accepted\")
except urllib.error.HTTPError as e:
    assert e.code == 403 and json.loads(e.read())[\"code\"] == 403202
" &&
	test "$(lb_counter replay_rejected)" = 1
'

test_expect_success '20 parallel callers: one refresh, one token for all' '
	lb_account lbconc min_valid=600 &&
	mint_login lbconc <<-\EOF &&
	{"lifetime_s": 300}
	EOF
	lb_config refresh_delay_ms 1000 &&
	test_when_finished "lb_config refresh_delay_ms 0" &&
	lb_post reset_counters </dev/null &&
	for i in $(seq 1 20); do
		tokenring token lbconc >out.$i 2>err.$i &
	done &&
	wait &&
	test "$(lb_counter refresh)" = 1 &&
	test "$(lb_counter token_rejected)" = 0 &&
	active_token >expect &&
	for i in $(seq 1 20); do
		test_cmp expect out.$i || return 1
	done
'

test_expect_success 'an expired token: exit 3 with the hint, no request' '
	lb_account lbexp &&
	mint_login lbexp <<-\EOF &&
	{"lifetime_s": 2}
	EOF
	exp=$(lb_json expired_at_ms <minted.lbexp) &&
	i=0 &&
	while [ $(($(date +%s) * 1000)) -le "$exp" ]; do
		i=$((i + 1)) && [ $i -lt 100 ] && sleep 0.1 || return 1
	done &&
	lb_post reset_counters </dev/null &&
	{ tokenring token lbexp >out 2>err; test $? = 3; } &&
	test_must_be_empty out &&
	grep "the token has expired; make a new one on the developer site" err &&
	grep "tokenring login lbexp" err &&
	test "$(lb_counter requests)" = 0
'

test_expect_success '401004 (a revoked token): exit 3, record kept' '
	lb_account lbrev &&
	mint_login lbrev <<-\EOF &&
	{}
	EOF
	lb_json token <minted.lbrev | sed "s/^/{\"token\": \"/; s/$/\"}/" |
	lb_post revoke >/dev/null &&
	{ tokenring token lbrev --min-valid 31536000 >out 2>err; test $? = 3; } &&
	test_must_be_empty out &&
	grep "code 401004 (token invalid); make a new token on the developer site" err &&
	grep "tokenring login lbrev" err &&
	tokenring token lbrev >after &&
	test_cmp token.lbrev after
'

test_expect_success '401003 (expired at the server) and msg for message: exit 3' '
	lb_account lbsrvexp &&
	mint_login lbsrvexp <<-\EOF &&
	{}
	EOF
	lb_json token <minted.lbsrvexp | sed "s/^/{\"token\": \"/; s/$/\"}/" |
	lb_post expire >/dev/null &&
	lb_config msg_field "\"msg\"" &&
	test_when_finished "lb_config msg_field \"\\\"message\\\"\"" &&
	{ tokenring refresh --force lbsrvexp >out 2>err; test $? = 3; } &&
	grep "code 401003 (token expired)" err
'

test_expect_success 'a superseded token answers 401003 with the switch' '
	lb_account lbsup &&
	mint_login lbsup <<-\EOF &&
	{}
	EOF
	lb_account lbsup2 &&
	lb_login_input input.lbsup2 "$APP_KEY" "$APP_SECRET" <minted.lbsup &&
	tokenring login lbsup2 <input.lbsup2 >/dev/null &&
	tokenring refresh --force lbsup >/dev/null &&
	lb_config superseded_code 401003 &&
	test_when_finished "lb_config superseded_code 401004" &&
	{ tokenring refresh --force lbsup2 >out 2>err; test $? = 3; } &&
	grep "code 401003" err
'

test_expect_success '403201 (wrong app secret stored): exit 1, record unchanged' '
	lb_account lbwrong &&
	lb_post token >minted.lbwrong <<-\EOF &&
	{}
	EOF
	lb_login_input input.lbwrong "$APP_KEY" SECCANARY-wrong <minted.lbwrong &&
	tokenring login lbwrong <input.lbwrong >/dev/null &&
	lb_post reset_counters </dev/null &&
	{ tokenring refresh --force lbwrong >out 2>err; test $? = 1; } &&
	grep "code 403201 (signature invalid); check the stored app_key and app_secret" err &&
	test "$(lb_counter requests)" = 1 &&
	test "$(lb_counter signature_rejected)" = 1 &&
	lb_json token <minted.lbwrong >expect &&
	tokenring token lbwrong --min-valid 31536000 >during 2>/dev/null &&
	test_cmp expect during &&
	tokenring token lbwrong >after &&
	test_cmp expect after &&
	lb_json token <minted.lbwrong | sed "s/^/{\"token\": \"/; s/$/\"}/" |
	lb_post valid >valid &&
	grep "\"valid\":true" valid &&
	tokenring status lbwrong >status &&
	grep "^last error: .*403201" status
'

test_expect_success '403202 once: one retry, signed again with a new timestamp' '
	lb_config replay_next 1 &&
	test_when_finished "lb_config replay_next 0" &&
	lb_post reset_counters </dev/null &&
	tokenring refresh --force lb >out &&
	grep "^refreshed" out &&
	test "$(lb_counter replay_rejected)" = 1 &&
	test "$(lb_counter refresh)" = 2 &&
	lb_control requests >requests &&
	python3 -c "
import json
a, b = json.load(open(\"requests\"))
ha = {k.lower(): v for k, v in a[\"headers\"]}
hb = {k.lower(): v for k, v in b[\"headers\"]}
assert (a[\"code\"], b[\"code\"]) == (403202, 0), (a[\"code\"], b[\"code\"])
assert int(hb[\"x-timestamp\"]) > int(ha[\"x-timestamp\"])
assert ha[\"x-api-signature\"] != hb[\"x-api-signature\"]
assert ha[\"authorization\"] == hb[\"authorization\"]
" &&
	tokenring token lb >token &&
	active_token >expect &&
	test_cmp expect token
'

test_expect_success '403202 twice: no loop, exit 1' '
	lb_config replay_next 5 &&
	test_when_finished "lb_config replay_next 0" &&
	lb_post reset_counters </dev/null &&
	tokenring token lb >before &&
	{ tokenring refresh --force lb >out 2>err; test $? = 1; } &&
	grep "403202" err &&
	test "$(lb_counter refresh)" = 2 &&
	tokenring token lb >after &&
	test_cmp before after
'

test_expect_success 'a skewed clock: 403201, or 403202 signed again once' '
	lb_config clock_offset_ms 3600000 &&
	test_when_finished "lb_config clock_offset_ms 0 && lb_config timestamp_error 403201" &&
	lb_post reset_counters </dev/null &&
	{ tokenring refresh --force lb >out 2>err; test $? = 1; } &&
	grep "403201.*system clock" err &&
	test "$(lb_counter refresh)" = 1 &&
	lb_config timestamp_error 403202 &&
	{ tokenring refresh --force lb >out 2>err; test $? = 1; } &&
	grep "403202.*system clock" err &&
	test "$(lb_counter refresh)" = 3
'

test_expect_success '429001: the valid token is served, later callers wait' '
	lb_account lbrl &&
	mint_login lbrl <<-\EOF &&
	{}
	EOF
	lb_config ratelimit_ip 3 &&
	test_when_finished "lb_config ratelimit_ip 0" &&
	lb_post reset_counters </dev/null &&
	tokenring token lbrl --min-valid 31536000 >during 2>err &&
	test_cmp token.lbrl during &&
	test "$(lb_counter ratelimited)" = 1 &&
	tokenring status lbrl >status &&
	grep "^last error: .*code 429001" status &&
	{ tokenring refresh --force lbrl >out 2>err; test $? = 5; } &&
	grep "rate limited" err &&
	test "$(lb_counter requests)" = 1
'

test_expect_success '429002 with the token marked bad by git: exit 5' '
	lb_account lb429 &&
	{
		printf "[lb429]\nprovider = longbridge\nurl = %s\n" "$LB_URL"
	} >one.conf &&
	mint_login lb429 <<-\EOF &&
	{}
	EOF
	printf "protocol=http\nhost=127.0.0.1:%s\npassword=%s\n" \
		"$(cat "$TRASH/lb.port")" "$(cat token.lb429)" >erase &&
	TOKENRING_CONFIG=$TRASH/one.conf git-credential-tokenring erase <erase &&
	tokenring status lb429 >status &&
	grep "rejected" status &&
	lb_config ratelimit_api 1 &&
	test_when_finished "lb_config ratelimit_api 0" &&
	lb_post reset_counters </dev/null &&
	{ tokenring token lb429 >out 2>err; test $? = 5; } &&
	test_must_be_empty out &&
	grep "code 429002 (api request is limited)" err &&
	test "$(lb_counter ratelimited)" = 1 &&
	lb_json token <minted.lb429 | sed "s/^/{\"token\": \"/; s/$/\"}/" |
	lb_post valid >valid &&
	grep "\"valid\":true" valid
'

test_expect_success 'a plain-text 429 is retried once, then exit 5' '
	lb_account lbplain &&
	mint_login lbplain <<-\EOF &&
	{}
	EOF
	lb_config ratelimit_body "\"plain\"" &&
	test_when_finished "lb_config ratelimit_body \"\\\"json\\\"\" && lb_config ratelimit_ip 0" &&
	lb_config ratelimit_ip 1 &&
	lb_post reset_counters </dev/null &&
	tokenring refresh --force lbplain >out &&
	grep "^refreshed" out &&
	test "$(lb_counter refresh)" = 2 &&
	lb_config ratelimit_ip 2 &&
	{ tokenring refresh --force lbplain >out 2>err; test $? = 5; } &&
	grep "HTTP 429$" err &&
	test "$(lb_counter refresh)" = 4
'

test_expect_success '500000 and other 5xx: exit 5, never re-sent' '
	test_when_finished "lb_config fail_next []" &&
	lb_post reset_counters </dev/null &&
	lb_config fail_next "[500, 502]" &&
	{ tokenring refresh --force lb >out 2>err; test $? = 5; } &&
	grep "code 500000" err &&
	{ tokenring refresh --force lb >out 2>err; test $? = 5; } &&
	grep "HTTP 502" err &&
	test "$(lb_counter refresh)" = 2
'

test_expect_success 'code != 0 with HTTP 200, and a 200 without an envelope: refused' '
	test_when_finished "lb_config fail_next []" &&
	tokenring token lb >before &&
	lb_config fail_next "[{\"status\": 200, \"code\": 403203}, {\"status\": 200, \"body\": \"{\\\"token\\\": \\\"TOKCANARY-bare\\\"}\"}]" &&
	{ tokenring refresh --force lb >out 2>err; test $? = 1; } &&
	grep "HTTP 200, code 403203 (apikey illegal); check the stored app_key" err &&
	{ tokenring refresh --force lb >out 2>err; test $? = 1; } &&
	grep "without a {code, message, data} answer" err &&
	tokenring token lb >after &&
	test_cmp before after
'

test_expect_success 'a zone-less expired_at is UTC; +08:00 is converted' '
	for style in zoneless offset; do
		lb_config expired_at_format "\"$style\"" &&
		tokenring refresh --force lb >/dev/null &&
		lb_control tokens >tokens &&
		python3 -c "
import json
t = [r for r in json.load(open(\"tokens\")) if r[\"status\"] == \"active\"][-1]
print(t[\"expired_at_ms\"] // 1000)" >expect &&
		stored_expiry lb >actual &&
		test_cmp expect actual || return 1
	done &&
	lb_config expired_at_format "\"utc_ms\""
'

test_expect_success 'no expired_at in the answer: the requested time is kept' '
	lb_config expired_at_format "\"absent\"" &&
	test_when_finished "lb_config expired_at_format \"\\\"utc_ms\\\"\"" &&
	lb_config max_lifetime_s 86400 &&
	test_when_finished "lb_config max_lifetime_s null" &&
	tokenring refresh --force lb >/dev/null &&
	lb_last_request >request.json &&
	python3 -c "
import calendar, json, time
q = json.load(open(\"request.json\"))[\"query\"].replace(\"%3A\", \":\")
print(calendar.timegm(time.strptime(q[len(\"expired_at=\"):-5], \"%Y-%m-%dT%H:%M:%S\")))
" >expect &&
	stored_expiry lb >actual &&
	test_cmp expect actual
'

test_expect_success 'max_lifetime caps the expiry the answer states' '
	lb_config max_lifetime_s 86400 &&
	test_when_finished "lb_config max_lifetime_s null" &&
	tokenring refresh --force lb >/dev/null &&
	lb_control tokens >tokens &&
	python3 -c "
import json
t = [r for r in json.load(open(\"tokens\")) if r[\"status\"] == \"active\"][-1]
print(t[\"expired_at_ms\"] // 1000)" >expect &&
	stored_expiry lb >actual &&
	test_cmp expect actual &&
	tokenring token lb --format json >json &&
	python3 -c "
import json
j = json.load(open(\"json\"))
assert 86400 - 120 < j[\"expires_in\"] <= 86400, j
"
'

test_expect_success 'draft2022: POST with aaid, Account-Channel and a signed body' '
	lb_account lbdraft api=draft2022 aaid=13 account_channel=pspl_sg &&
	mint_login lbdraft <<-\EOF &&
	{}
	EOF
	lb_post reset_counters </dev/null &&
	tokenring refresh --force lbdraft >out &&
	grep "^refreshed" out &&
	test "$(lb_counter refresh_draft)" = 1 &&
	tokenring token lbdraft >token &&
	active_token >expect &&
	test_cmp expect token &&
	lb_last_request >request.json &&
	python3 verify-sig.py request.json app_secret &&
	python3 -c "
import json, re
r = json.load(open(\"request.json\"))
h = {k.lower(): v for k, v in r[\"headers\"]}
assert r[\"method\"] == \"POST\" and r[\"path\"] == \"/v1/openapi/token/refresh\", r
assert r[\"query\"] == \"\", r
assert h[\"account-channel\"] == \"pspl_sg\", h
assert h[\"content-type\"] == \"application/json; charset=utf-8\", h
b = json.loads(r[\"body\"])
assert sorted(b) == [\"aaid\", \"expired_at\"] and b[\"aaid\"] == \"13\", b
assert re.fullmatch(r\"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\", b[\"expired_at\"]), b
" &&
	echo "401 401004" >expect &&
	python3 probe.py token.lbdraft >probe.old &&
	test_cmp expect probe.old
'

test_expect_success 'draft2022 config: aaid required, the channel defaults to lb' '
	lb_account lbnoaaid api=draft2022 &&
	lb_post token >minted <<-\EOF &&
	{}
	EOF
	lb_login_input input <minted &&
	{ tokenring login lbnoaaid <input >out 2>err; test $? = 1; } &&
	grep "aaid" err &&
	lb_account lbdraftlb api=draft2022 aaid=13 &&
	mint_login lbdraftlb <<-\EOF &&
	{}
	EOF
	tokenring refresh --force lbdraftlb >/dev/null &&
	lb_last_request >request.json &&
	python3 -c "
import json
h = {k.lower(): v for k, v in json.load(open(\"request.json\"))[\"headers\"]}
assert h[\"account-channel\"] == \"lb\", h
"
'

test_expect_success 'bad config values name the key' '
	lb_account lbbad1 lifetime_days=0 &&
	lb_account lbbad2 api=v3 &&
	lb_post token >minted <<-\EOF &&
	{}
	EOF
	lb_login_input input <minted &&
	{ tokenring login lbbad1 <input >out 2>err; test $? = 1; } &&
	grep "lifetime_days" err &&
	{ tokenring login lbbad2 <input >out 2>err; test $? = 1; } &&
	grep "'"'"'api'"'"'" err
'

test_expect_success 'lifetime_days sets the requested expired_at' '
	lb_account lbdays lifetime_days=7 &&
	mint_login lbdays <<-\EOF &&
	{}
	EOF
	tokenring refresh --force lbdays >/dev/null &&
	lb_last_request >request.json &&
	python3 -c "
import calendar, json, time
r = json.load(open(\"request.json\"))
h = {k.lower(): v for k, v in r[\"headers\"]}
q = r[\"query\"].replace(\"%3A\", \":\")
t = calendar.timegm(time.strptime(q[len(\"expired_at=\"):-5], \"%Y-%m-%dT%H:%M:%S\"))
assert abs(t - int(h[\"x-timestamp\"]) - 7 * 86400) < 5, t
"
'

test_expect_success 'without app credentials the token goes unsigned' '
	lb_account lbnoapp &&
	mint_login lbnoapp noapp <<-\EOF &&
	{}
	EOF
	lb_post reset_counters </dev/null &&
	{ tokenring refresh --force lbnoapp >out 2>err; test $? = 1; } &&
	grep "403203" err &&
	lb_config require_signature false &&
	test_when_finished "lb_config require_signature true" &&
	tokenring refresh --force lbnoapp >out &&
	test "$(lb_counter unsigned)" = 1 &&
	lb_last_request >request.json &&
	python3 -c "
import json
h = {k.lower(): v for k, v in json.load(open(\"request.json\"))[\"headers\"]}
assert not {\"x-api-key\", \"x-timestamp\", \"x-api-signature\"} & set(h), h
assert h[\"authorization\"] == open(\"token.lbnoapp\").read().strip()
"
'

test_expect_success 'login input: checks, and the 90-day default said in a trace' '
	lb_account lbin &&
	printf "token=Bearer abc\n" >input &&
	{ tokenring login lbin <input >out 2>err; test $? = 2; } &&
	grep "without .Bearer" err &&
	printf "token=TOKCANARY-x\nexpires_at=2001-01-01T00:00:00Z\n" >input &&
	{ tokenring login lbin <input >out 2>err; test $? = 2; } &&
	grep "expires_at.* in the past" err &&
	printf "token=TOKCANARY-x\nexpires_at=soon\n" >input &&
	{ tokenring login lbin <input >out 2>err; test $? = 2; } &&
	grep "ISO 8601" err &&
	printf "token=TOKCANARY-x\napp_secret=SECCANARY-lonely\n" >input &&
	{ tokenring login lbin <input >out 2>err; test $? = 2; } &&
	grep "app_secret. needs .app_key" err &&
	printf "token=TOKCANARY-x\napp_key=%s\n" "$APP_KEY" >input &&
	{ tokenring login lbin <input >out 2>err; test $? = 2; } &&
	grep "app_secret" err &&
	tokenring status lbin >status &&
	grep "not logged in" status &&
	printf "token=TOKCANARY-x\n" >input &&
	TOKENRING_TRACE_PROVIDER=1 tokenring login lbin <input >out 2>err &&
	grep "assuming 90 days" err &&
	tokenring token lbin --format json >json &&
	python3 -c "
import json, time
j = json.load(open(\"json\"))
assert abs(j[\"expires_in\"] - 90 * 86400) < 120, j
" &&
	printf "token=TOKCANARY-x\nexpires_at=2030-01-02 03:04:05\n" >input &&
	tokenring login lbin <input >/dev/null &&
	test "$(stored_expiry lbin)" = 1893553445
'

test_expect_success 'no token or app secret in status, traces or logs' '
	cp token.lbshort old-token &&
	tokenring token lbshort >cur-token &&
	TOKENRING_TRACE=$TRASH/trace.log TOKENRING_TRACE_HTTP=1 \
	TOKENRING_TRACE_PROVIDER=1 TOKENRING_TRACE_KEYRING=1 \
		tokenring refresh --force lbshort >/dev/null 2>trace.err &&
	test -s trace.log &&
	grep "> Authorization: <redacted>" trace.err &&
	grep "> X-Api-Signature: <redacted>" trace.err &&
	grep "longbridge: GET /v1/token/refresh (signed)" trace.err &&
	tokenring token lbshort >new-token &&
	tokenring status >status.txt &&
	tokenring status --json >status.json &&
	lb_last_request >request.json &&
	python3 -c "
import json
h = {k.lower(): v for k, v in json.load(open(\"request.json\"))[\"headers\"]}
print(h[\"x-api-signature\"].split(\"Signature=\")[1])" >sig &&
	for f in old-token cur-token new-token sig; do
		test_no_leak "$(cat $f)" trace.log trace.err status.txt \
			status.json lb.log lb.err || return 1
	done &&
	test_no_leak SECCANARY trace.log trace.err status.txt status.json \
		"$XDG_CONFIG_HOME/tokenring/config" lb.log lb.err &&
	test_no_leak TOKCANARY trace.log trace.err status.txt status.json \
		lb.log lb.err &&
	keyring_public >public &&
	test_no_leak "$(cat new-token)" public &&
	test_no_leak SECCANARY public && test_no_leak TOKCANARY public
'

test_done
