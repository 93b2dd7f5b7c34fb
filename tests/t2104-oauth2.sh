#!/bin/sh
test_description='the oauth2 provider against its emulator'
. "${TOKENRING_SOURCE_DIR:-$(dirname "$0")/..}/tests/test-lib.sh"
. "$TEST_DIRECTORY/lib-oauth2.sh"

start_keyring || test_skip_all "cannot start a private keyring"
start_oauth2 || test_skip_all "cannot start the OAuth 2.0 emulator"

# The newest valid access token of a grant.
live_at () {
	oa_control state | python3 -c '
import json, sys
ats = [a for a in json.load(sys.stdin)["access_tokens"]
       if a["grant"] == sys.argv[1] and a["valid"]]
print(ats[-1]["access_token"])' "$1"
}

# Mark account $1's access token bad the way git's reject does, so that
# no valid token is left to fall back on.
git_reject () {
	tok=$(tokenring token "$1") &&
	printf "protocol=http\nhost=127.0.0.1:%s\npath=acct/%s\nusername=%s\npassword=%s\n" \
		"$(cat "$TRASH/oa.port")" "$1" "$1" "$tok" |
	git-credential-tokenring erase &&
	tokenring status "$1" >reject.status &&
	grep "^state: *rejected" reject.status
}

# What the keyring holds for account $1, without the relative expires_in.
record_of () {
	tokenring token "$1" --format env
}

# The last token-endpoint request the emulator saw, as JSON.
last_request () {
	oa_control requests | python3 -c '
import json, sys
print(json.dumps([r for r in json.load(sys.stdin) if r["path"] != "/resource"][-1]))'
}

test_expect_success 'setup: clients, grants and accounts' '
	oa_post client <<-\EOF &&
	{"client_id": "forge-app", "client_secret": "s3:cr%t+SECCANARY x"}
	EOF
	oa_post client <<-\EOF &&
	{"client_id": "pub-app"}
	EOF
	oa_post client <<-\EOF &&
	{"client_id": "body-app", "client_secret": "BODYCANARY-sec"}
	EOF
	oa_post grant >grant.forge <<-\EOF &&
	{"client_id": "forge-app", "scope": "read write admin",
	 "refresh_token": "RTCANARY-forge-1"}
	EOF
	test "$(json_field grant <grant.forge)" = g1 &&
	oa_account forge client_id=forge-app &&
	cat >creds.forge <<-\EOF
	refresh_token=RTCANARY-forge-1
	client_secret=s3:cr%t+SECCANARY x
	EOF
'

test_expect_success 'login with a refresh token and a client secret: one refresh' '
	oa_config_str require_client_auth basic &&
	tokenring login forge <creds.forge >out 2>err &&
	grep "^logged in .forge.: token valid until" out &&
	test "$(oa_counter token_requests)" = 1 &&
	test "$(oa_counter refreshes)" = 1 &&
	tokenring token forge >token &&
	live_at g1 >expect &&
	test_cmp expect token &&
	test "$(oa_probe <token)" = 200
'

test_expect_success 'the request: form body, Basic header with encoded parts, no query' '
	last_request >req &&
	python3 - <<-\PY
	import base64, json, urllib.parse
	r = json.load(open("req"))
	assert r["method"] == "POST" and r["path"] == "/token", r
	assert r["query"] == "", r["query"]
	assert r["content_type"] == "application/x-www-form-urlencoded", r
	h = {k.lower(): v for k, v in r["headers"]}
	assert h["accept"] == "application/json", h
	scheme, value = h["authorization"].split(" ", 1)
	assert scheme == "Basic"
	raw = base64.b64decode(value).decode()
	# RFC 6749 2.3.1: each part form-encoded before the colon.
	assert raw == "forge-app:s3%3Acr%25t%2BSECCANARY%20x", raw
	body = urllib.parse.parse_qs(r["body"], strict_parsing=True)
	assert body == {"grant_type": ["refresh_token"],
	                "refresh_token": ["RTCANARY-forge-1"]}, body
	assert r["client_auth"] == {"method": "basic", "client_id": "forge-app",
	                            "ok": True}, r["client_auth"]
	PY
'

test_expect_success 'token --format header and json' '
	tokenring token forge --format header >header &&
	echo "Authorization: Bearer $(cat token)" >expect &&
	test_cmp expect header &&
	tokenring token forge --format json >json &&
	python3 -c "
import json, time
j = json.load(open(\"json\"))
assert j[\"token_type\"] == \"Bearer\", j
assert 3600 - 60 < j[\"expires_in\"] <= 3600, j
assert j[\"provider\"] == \"oauth2\" and j[\"account\"] == \"forge\", j
"
'

test_expect_success 'rotation: each new refresh token is stored and used once' '
	oa_post reset_counters </dev/null &&
	tokenring refresh --force forge >out1 &&
	grep "^refreshed" out1 &&
	tokenring refresh --force forge >out2 &&
	grep "^refreshed" out2 &&
	test "$(oa_counter refreshes)" = 2 &&
	test "$(oa_counter reuse_detected)" = 0 &&
	test "$(oa_counter family_revocations)" = 0 &&
	oa_control state >state &&
	python3 - <<-\PY &&
	import json
	g = json.load(open("state"))["grants"][0]
	assert g["revoked"] is False, g
	assert g["rotated"][0] == "RTCANARY-forge-1" and len(g["rotated"]) == 3, g
	# every rotated-out token was presented exactly once: no replay
	assert all(g["rt_uses"][rt] == 1 for rt in g["rotated"]), g["rt_uses"]
	assert g["rt_uses"][g["active_rt"]] == 0, g
	PY
	tokenring token forge >token &&
	live_at g1 >expect &&
	test_cmp expect token
'

test_expect_success 'return_refresh_token=never: the old refresh token is kept and works' '
	oa_grant_field active_rt g1 >rt.before &&
	oa_config_str return_refresh_token never &&
	test_when_finished "oa_config_str return_refresh_token always" &&
	oa_post reset_counters </dev/null &&
	tokenring refresh --force forge &&
	tokenring refresh --force forge &&
	test "$(oa_counter refreshes)" = 2 &&
	oa_grant_field active_rt g1 >rt.after &&
	test_cmp rt.before rt.after &&
	oa_grant_field rt_uses g1 >uses &&
	python3 -c "
import json
u = json.load(open(\"uses\"))
assert u[open(\"rt.after\").read().strip()] == 2, u
" &&
	last_request >req &&
	tokenring token forge >token &&
	live_at g1 >expect &&
	test_cmp expect token
'

test_expect_success 'after never, rotation resumes from the kept token' '
	oa_grant_field active_rt g1 >rt.before &&
	tokenring refresh --force forge &&
	oa_grant_field active_rt g1 >rt.after &&
	! test_cmp rt.before rt.after &&
	oa_config_str return_refresh_token same &&
	tokenring refresh --force forge &&
	oa_config_str return_refresh_token always &&
	tokenring refresh --force forge &&
	test "$(oa_counter reuse_detected)" = 0 &&
	test "$(oa_grant_field revoked g1)" = false
'

test_expect_success 'client_auth=body: id and secret in the form, no header' '
	oa_config_str require_client_auth body &&
	test_when_finished "oa_config_str require_client_auth none" &&
	oa_post grant >grant.body <<-\EOF &&
	{"client_id": "body-app", "refresh_token": "RTCANARY-body-1"}
	EOF
	oa_account bodyacct client_id=body-app client_auth=body &&
	printf "refresh_token=RTCANARY-body-1\nclient_secret=BODYCANARY-sec\n" |
	tokenring login bodyacct &&
	last_request >req &&
	python3 - <<-\PY &&
	import json, urllib.parse
	r = json.load(open("req"))
	h = {k.lower(): v for k, v in r["headers"]}
	assert "authorization" not in h, h
	body = urllib.parse.parse_qs(r["body"], strict_parsing=True)
	assert body == {"grant_type": ["refresh_token"],
	                "refresh_token": ["RTCANARY-body-1"],
	                "client_id": ["body-app"],
	                "client_secret": ["BODYCANARY-sec"]}, body
	assert r["client_auth"]["ok"] and r["client_auth"]["method"] == "body"
	PY
	tokenring refresh --force bodyacct &&
	test "$(oa_counter invalid_client)" = 0
'

test_expect_success 'client_auth=basic needs a client secret at login' '
	oa_account basicnosecret client_id=forge-app client_auth=basic &&
	printf "refresh_token=whatever\n" >input &&
	{ tokenring login basicnosecret <input >out 2>err; test $? = 2; } &&
	grep "client_secret" err &&
	tokenring status basicnosecret >status &&
	grep "not logged in" status
'

test_expect_success 'a public client sends its client_id only' '
	oa_post grant >grant.pub <<-\EOF &&
	{"client_id": "pub-app", "refresh_token": "RTCANARY-pub-1&grant_type=password&x= +%"}
	EOF
	oa_account pubacct client_id=pub-app &&
	printf "refresh_token=RTCANARY-pub-1&grant_type=password&x= +%%\n" |
	tokenring login pubacct &&
	last_request >req &&
	python3 - <<-\PY
	import json, urllib.parse
	r = json.load(open("req"))
	h = {k.lower(): v for k, v in r["headers"]}
	assert "authorization" not in h, h
	body = urllib.parse.parse_qs(r["body"], strict_parsing=True)
	assert body == {"grant_type": ["refresh_token"],
	                "refresh_token": ["RTCANARY-pub-1&grant_type=password&x= +%"],
	                "client_id": ["pub-app"]}, body
	assert r["client_auth"] == {"method": "none", "client_id": "pub-app", "ok": True}
	PY
'

test_expect_success 'scope is sent when configured; a wider one is refused (exit 1)' '
	oa_post grant >grant.scope <<-\EOF &&
	{"client_id": "pub-app", "scope": "read write admin",
	 "refresh_token": "RTCANARY-scope-1"}
	EOF
	oa_account scoped client_id=pub-app "scope = read write" &&
	printf "refresh_token=RTCANARY-scope-1\n" | tokenring login scoped &&
	last_request >req &&
	python3 -c "
import json, urllib.parse
r = json.load(open(\"req\"))
assert urllib.parse.parse_qs(r[\"body\"])[\"scope\"] == [\"read write\"], r[\"body\"]
" &&
	oa_post grant >grant.wide <<-\EOF &&
	{"client_id": "pub-app", "scope": "read", "refresh_token": "RTCANARY-wide-1"}
	EOF
	oa_account wide client_id=pub-app "scope = read delete" &&
	printf "refresh_token=RTCANARY-wide-1\n" >input &&
	{ tokenring login wide <input >out 2>err; test $? = 1; } &&
	grep "invalid_scope" err &&
	tokenring status wide >status &&
	grep "not logged in" status
'

test_expect_success 'login with an access token and expires_in sends nothing' '
	oa_post grant >grant.given <<-\EOF &&
	{"client_id": "pub-app", "refresh_token": "RTCANARY-given-1",
	 "access_token": "ATCANARY-given-1"}
	EOF
	oa_account given client_id=pub-app &&
	oa_post reset_counters </dev/null &&
	printf "refresh_token=RTCANARY-given-1\naccess_token=ATCANARY-given-1\nexpires_in=1800\n" |
	tokenring login given &&
	test "$(oa_counter requests)" = 0 &&
	tokenring token given >token &&
	echo ATCANARY-given-1 >expect &&
	test_cmp expect token &&
	tokenring token given --format json >json &&
	python3 -c "
import json
j = json.load(open(\"json\"))
assert 1800 - 60 < j[\"expires_in\"] <= 1800 and j[\"token_type\"] == \"Bearer\", j
"
'

test_expect_success 'an access token without expires_in: one refresh at login' '
	oa_post grant >grant.noexp <<-\EOF &&
	{"client_id": "pub-app", "refresh_token": "RTCANARY-noexp-1",
	 "access_token": "ATCANARY-noexp-1"}
	EOF
	oa_account noexp client_id=pub-app &&
	oa_post reset_counters </dev/null &&
	printf "refresh_token=RTCANARY-noexp-1\naccess_token=ATCANARY-noexp-1\n" |
	tokenring login noexp &&
	test "$(oa_counter refreshes)" = 1 &&
	tokenring token noexp >token &&
	! grep ATCANARY token &&
	printf "refresh_token=RTCANARY-noexp-1\naccess_token=A\nexpires_in=12x\n" >input &&
	{ tokenring login noexp <input 2>err; test $? = 2; } &&
	grep "expires_in" err
'

test_expect_success 'a rejected refresh token at login: exit 3, nothing stored' '
	oa_account unknownrt client_id=pub-app &&
	printf "refresh_token=RTCANARY-never-issued\n" >input &&
	{ tokenring login unknownrt <input >out 2>err; test $? = 3; } &&
	grep "invalid_grant" err &&
	tokenring status unknownrt >status &&
	grep "not logged in" status
'

test_expect_success 'invalid_grant: exit 3 with the login hint, record unchanged' '
	oa_post grant >grant.dead <<-\EOF &&
	{"client_id": "pub-app", "refresh_token": "RTCANARY-dead-1"}
	EOF
	oa_account dead client_id=pub-app &&
	printf "refresh_token=RTCANARY-dead-1\n" | tokenring login dead &&
	record_of dead >before &&
	oa_post revoke <grant.dead &&
	oa_post reset_counters </dev/null &&
	{ tokenring token dead --min-valid 31536000 >out 2>err; test $? = 3; } &&
	test_must_be_empty out &&
	grep "invalid_grant" err &&
	grep "run .tokenring login dead." err &&
	test "$(oa_counter token_requests)" = 1 &&
	record_of dead >after &&
	test_cmp before after &&
	tokenring status dead >status &&
	grep "^last error: .*invalid_grant" status
'

test_expect_success 'invalid_client and the other configuration errors: exit 1, no retry' '
	record_of forge >before &&
	oa_post client <<-\EOF &&
	{"client_id": "forge-app", "client_secret": "another secret"}
	EOF
	oa_post reset_counters </dev/null &&
	{ tokenring refresh --force forge >out 2>err; test $? = 1; } &&
	grep "HTTP 401 invalid_client" err &&
	test "$(oa_counter token_requests)" = 1 &&
	oa_post client <<-\EOF &&
	{"client_id": "forge-app", "client_secret": "s3:cr%t+SECCANARY x"}
	EOF
	test_when_finished "oa_config fail_next []" &&
	for code in unauthorized_client unsupported_grant_type invalid_request invalid_scope; do
		echo "[{\"status\": 400, \"error\": \"$code\"}]" | oa_fail_next &&
		{ tokenring refresh --force forge >out 2>err; test $? = 1; } &&
		grep "HTTP 400 $code" err || return 1
	done &&
	test "$(oa_counter token_requests)" = 5 &&
	record_of forge >after &&
	test_cmp before after
'

test_expect_success '429 with Retry-After: the valid token is served, else exit 5' '
	oa_post grant >grant.rl <<-\EOF &&
	{"client_id": "pub-app", "refresh_token": "RTCANARY-rl-1"}
	EOF
	oa_account rl client_id=pub-app &&
	printf "refresh_token=RTCANARY-rl-1\n" | tokenring login rl &&
	tokenring token rl >before &&
	oa_config min_refresh_interval 3600 &&
	test_when_finished "oa_config min_refresh_interval 0" &&
	oa_post reset_counters </dev/null &&
	{ tokenring refresh --force rl >out 2>err; test $? = 5; } &&
	grep "HTTP 429 slow_down: .*; Retry-After: [0-9][0-9]*$" err &&
	test "$(oa_counter rate_limited)" = 1 &&
	tokenring token rl --min-valid 31536000 >during &&
	test_cmp before during &&
	git_reject rl &&
	{ tokenring token rl >out 2>err; test $? = 5; } &&
	test_must_be_empty out &&
	tokenring status rl >status &&
	grep "^last error: .*HTTP 429 .*Retry-After: [0-9]" status &&
	test "$(oa_counter refreshes)" = 0
'

test_expect_success '503 with Retry-After: the same' '
	oa_post grant >grant.rl503 <<-\EOF &&
	{"client_id": "pub-app", "refresh_token": "RTCANARY-rl503-1"}
	EOF
	oa_account rl503 client_id=pub-app &&
	printf "refresh_token=RTCANARY-rl503-1\n" | tokenring login rl503 &&
	tokenring token rl503 >before &&
	oa_post reset_counters </dev/null &&
	oa_fail_next <<-\EOF &&
	[{"status": 503, "retry_after": "7"}, {"status": 503}]
	EOF
	test_when_finished "oa_config fail_next []" &&
	tokenring token rl503 --min-valid 31536000 >during &&
	test_cmp before during &&
	test "$(oa_counter token_requests)" = 1 &&
	tokenring status rl503 >status &&
	grep "^last error: .*HTTP 503 temporarily_unavailable; Retry-After: 7$" status &&
	git_reject rl503 &&
	{ tokenring token rl503 >out 2>err; test $? = 5; } &&
	test_must_be_empty out &&
	test "$(oa_counter refreshes)" = 0
'

test_expect_success '5xx: never retried in the run; exit 5 without a valid token' '
	tokenring token forge >before &&
	record_of forge >record.before &&
	oa_post reset_counters </dev/null &&
	oa_fail_next <<-\EOF &&
	[{"status": 500, "body": "{\"access_token\":\"ATCANARY-500\",\"token_type\":\"Bearer\",\"expires_in\":3600}"},
	 {"status": 502, "content_type": "text/html", "body": "<html>Bad Gateway</html>"}]
	EOF
	test_when_finished "oa_config fail_next []" &&
	{ tokenring refresh --force forge >out 2>err; test $? = 5; } &&
	grep "HTTP 500$" err &&
	tokenring token forge --min-valid 31536000 >during &&
	test_cmp before during &&
	test "$(oa_counter token_requests)" = 2 &&
	record_of forge >record.after &&
	test_cmp record.before record.after &&
	git_reject forge &&
	oa_fail_next <<-\EOF &&
	[504]
	EOF
	{ tokenring token forge >out 2>err; test $? = 5; } &&
	test_must_be_empty out &&
	grep "HTTP 504 server_error" err &&
	test "$(oa_counter token_requests)" = 3 &&
	tokenring token forge >token &&
	live_at g1 >expect &&
	test_cmp expect token
'

test_expect_success 'token-shaped bodies with 401 or 302 are no success' '
	record_of forge >before &&
	oa_post reset_counters </dev/null &&
	test_when_finished "oa_config fail_next []" &&
	oa_fail_next <<-\EOF &&
	[{"status": 401, "body": "{\"access_token\":\"ATCANARY-401\",\"token_type\":\"Bearer\"}"},
	 {"status": 302, "body": "{\"access_token\":\"ATCANARY-302\",\"token_type\":\"Bearer\"}"}]
	EOF
	{ tokenring refresh --force forge >out 2>err; test $? = 1; } &&
	grep "HTTP 401" err &&
	{ tokenring refresh --force forge >out 2>err; test $? = 5; } &&
	test "$(oa_counter token_requests)" = 2 &&
	record_of forge >after &&
	test_cmp before after &&
	! grep ATCANARY after
'

test_expect_success 'malformed success bodies are refused, the record unchanged' '
	python3 >cases <<-\PY &&
	import json
	ok = {"access_token": "ATCANARY-bad", "token_type": "Bearer",
	      "expires_in": 3600}
	def case(pattern, body=None, **change):
	    if body is None:
	        doc = dict(ok)
	        for k, v in change.items():
	            if v is KeyError:
	                doc.pop(k)
	            else:
	                doc[k] = v
	        body = json.dumps(doc)
	    item = {"status": 200, "body": body}
	    if "ctype" in change:
	        item = {"status": 200, "body": json.dumps(ok),
	                "content_type": change["ctype"]}
	    print(json.dumps({"item": item, "pattern": pattern}))
	case("refresh_token", refresh_token="")                       # TJ-04
	case("refresh_token", refresh_token=7)
	case("access_token", access_token=KeyError)                   # TJ-05
	for v in ("", 5, None, {}, ["x"]):
	    case("access_token", access_token=v)
	for v in ("a\nb", "a\rb", "a\u0000b", "\u00e9t\u00e9", "x" * 9000):  # TJ-06
	    case("access_token", access_token=v)
	case("access_token|invalid JSON",
	     body="{\"access_token\":\"\\ud800\",\"token_type\":\"Bearer\"}")
	case("token_type", token_type=KeyError)                       # TJ-07
	for v in ("mac", "DPoP", "Bearer ", ""):
	    case("unsupported token type", token_type=v)
	case("token_type", token_type=None)
	for v in (0, -5, "36x", 3.9, 2**63 - 1, True, None, "", " 3600",
	          "+3600", 100000001):                                # TJ-08
	    case("expires_in", expires_in=v)
	case("invalid JSON", body="{\"access_token\":\"A\",\"token_type\":\"Bearer\",\"expires_in\":1e999}")
	case("error answer: invalid_grant", body="{\"error\":\"invalid_grant\"}")  # TJ-17
	case("error answer", body=json.dumps(dict(ok, error="server_error")))
	case("invalid JSON", body=json.dumps(ok) + " x")              # TJ-10
	case("invalid JSON", body=json.dumps(ok) + json.dumps(ok))
	case("invalid JSON", body="{\u0027access_token\u0027:\u0027A\u0027}")
	case("invalid JSON", body="{\"access_token\":\"A\",\"token_type\":\"Bearer\",}")
	case("invalid JSON", body="{\"access_token\":\"A\",\"token_type\":\"Bearer\",\"expires_in\":NaN}")
	case("access_token", body="[1]")                              # TJ-13
	case("access_token", body="\"ATCANARY-bad\"")
	case("invalid JSON", body="")                                 # TJ-15
	case("invalid JSON", body="\ufeff" + json.dumps(ok))
	case("invalid JSON", body="[" * 10000)                        # TJ-12
	case("content type", ctype="text/html")                       # TJ-22
	PY
	record_of forge >before &&
	oa_post reset_counters </dev/null &&
	test_when_finished "oa_config fail_next []" &&
	n=0 &&
	while read -r line; do
		n=$((n + 1)) &&
		printf "%s\n" "$line" | python3 -c "
import json, sys
print(json.dumps([json.load(sys.stdin)[\"item\"]]))" | oa_fail_next &&
		pattern=$(printf "%s\n" "$line" | json_field pattern) &&
		{ tokenring refresh --force forge >out 2>err; rc=$?; } &&
		if test $rc != 1 || ! grep -E -q "$pattern" err; then
			echo "case $n: exit $rc, wanted /$pattern/: $line" >&2
			cat err >&2
			return 1
		fi
	done <cases &&
	test $n -gt 40 &&
	test "$(oa_counter token_requests)" = $n &&
	test "$(oa_counter refreshes)" = 0 &&
	record_of forge >after &&
	test_cmp before after &&
	! grep ATCANARY after
'

test_expect_success 'lenient where RFC 6749 allows: bearer, "3600", no expires_in, extra fields' '
	oa_config_str token_type_case lower &&
	tokenring refresh --force forge &&
	tokenring token forge --format header >header &&
	grep "^Authorization: Bearer " header &&
	oa_config_str token_type_case upper &&
	oa_config expires_in_as_string true &&
	tokenring refresh --force forge &&
	oa_config_str token_type_case canonical &&
	oa_config expires_in_as_string false &&
	oa_config access_ttl 7200 &&
	tokenring refresh --force forge &&
	tokenring token forge --format json >json &&
	python3 -c "
import json
j = json.load(open(\"json\"))
assert 7200 - 60 < j[\"expires_in\"] <= 7200, j
" &&
	oa_config omit_expires_in true &&
	printf "{\"extra_fields\": {\"id_token\": \"IDCANARY\", \"unknown\": [1, {}]}}" |
	oa_post config >/dev/null &&
	tokenring refresh --force forge &&
	oa_config omit_expires_in false &&
	oa_config access_ttl 3600 &&
	printf "{\"extra_fields\": {}}" | oa_post config >/dev/null &&
	tokenring token forge --format json >json &&
	python3 -c "
import json
j = json.load(open(\"json\"))
assert 3600 - 60 < j[\"expires_in\"] <= 3600, j   # the documented default
" &&
	tokenring token forge >token &&
	live_at g1 >expect &&
	test_cmp expect token &&
	test "$(oa_counter reuse_detected)" = 0
'

test_expect_success 'refresh_expires_in (Keycloak) becomes the refresh token expiry' '
	oa_config refresh_ttl 86400 &&
	oa_config refresh_expires_in true &&
	test_when_finished "oa_config refresh_ttl null && oa_config refresh_expires_in false" &&
	tokenring refresh --force forge &&
	tokenring status forge --json >status.json &&
	python3 -c "
import json, time
j = json.load(open(\"status.json\"))
j = j[0] if isinstance(j, list) else j
assert 86400 - 60 < j[\"refresh_expires_at\"] - time.time() <= 86400 + 5, j
"
'

test_expect_success '20 concurrent callers on an expiring token: one refresh, no reuse' '
	oa_post grant >grant.conc <<-\EOF &&
	{"client_id": "pub-app", "refresh_token": "RTCANARY-conc-1"}
	EOF
	gid=$(json_field grant <grant.conc) &&
	oa_account conc client_id=pub-app min_valid=600 &&
	oa_config access_ttl 300 &&
	printf "refresh_token=RTCANARY-conc-1\n" | tokenring login conc &&
	oa_config access_ttl 3600 &&
	oa_config refresh_delay_ms 1000 &&
	test_when_finished "oa_config refresh_delay_ms 0" &&
	oa_post reset_counters </dev/null &&
	for i in $(seq 1 20); do
		timeout 60 tokenring token conc >out.$i 2>err.$i &
	done &&
	wait &&
	test "$(oa_counter token_requests)" = 1 &&
	test "$(oa_counter refreshes)" = 1 &&
	test "$(oa_counter reuse_detected)" = 0 &&
	test "$(oa_counter family_revocations)" = 0 &&
	live_at $gid >expect &&
	for i in $(seq 1 20); do
		test_cmp expect out.$i || return 1
	done &&
	tokenring refresh --force conc &&
	test "$(oa_grant_field revoked $gid)" = false
'

test_expect_success 'a lost reply is never replayed in the run; strict rotation then logs out' '
	oa_post grant >grant.lost <<-\EOF &&
	{"client_id": "pub-app", "refresh_token": "RTCANARY-lost-1"}
	EOF
	gid=$(json_field grant <grant.lost) &&
	oa_account lost client_id=pub-app &&
	printf "refresh_token=RTCANARY-lost-1\n" | tokenring login lost &&
	oa_config drop_after_commit 1 &&
	oa_post reset_counters </dev/null &&
	{ tokenring refresh --force lost >out 2>err; test $? = 5; } &&
	test "$(oa_counter token_requests)" = 1 &&
	{ tokenring refresh --force lost >out 2>err; test $? = 3; } &&
	grep "invalid_grant" err &&
	test "$(oa_counter reuse_detected)" = 1 &&
	test "$(oa_counter family_revocations)" = 1 &&
	test "$(oa_grant_field revoked $gid)" = true
'

test_expect_success 'with a grace period the retry gets the same successor pair' '
	oa_post grant >grant.grace <<-\EOF &&
	{"client_id": "pub-app", "refresh_token": "RTCANARY-grace-1"}
	EOF
	gid=$(json_field grant <grant.grace) &&
	oa_account grace client_id=pub-app &&
	printf "refresh_token=RTCANARY-grace-1\n" | tokenring login grace &&
	oa_config grace_period_s 60 &&
	test_when_finished "oa_config grace_period_s 0" &&
	oa_config drop_after_commit 1 &&
	oa_post reset_counters </dev/null &&
	{ tokenring refresh --force grace >out 2>err; test $? = 5; } &&
	tokenring refresh --force grace &&
	test "$(oa_counter grace_replays)" = 1 &&
	tokenring token grace >token &&
	live_at $gid >expect &&
	test_cmp expect token &&
	tokenring refresh --force grace &&
	test "$(oa_counter reuse_detected)" = 0 &&
	test "$(oa_grant_field revoked $gid)" = false
'

test_expect_success 'no answer: the request times out once and is never re-sent' '
	oa_post grant >grant.hang <<-\EOF &&
	{"client_id": "pub-app", "refresh_token": "RTCANARY-hang-1"}
	EOF
	oa_account hang client_id=pub-app timeout=2 &&
	printf "refresh_token=RTCANARY-hang-1\n" | tokenring login hang &&
	record_of hang >before &&
	oa_config hang_ms 4000 &&
	oa_config hang_next 1 &&
	test_when_finished "oa_config hang_next 0" &&
	oa_post reset_counters </dev/null &&
	{ timeout 30 tokenring refresh --force hang >out 2>err; test $? = 5; } &&
	test_must_be_empty out &&
	test "$(oa_counter token_requests)" = 1 &&
	record_of hang >after &&
	test_cmp before after &&
	tokenring refresh --force hang &&
	test "$(oa_counter refreshes)" = 1
'

test_expect_success 'git: a covering account refreshes an expired plain credential (no extras)' '
	oa_post grant >grant.plain <<-\EOF &&
	{"client_id": "pub-app", "refresh_token": "RTCANARY-plain-1"}
	EOF
	gid=$(json_field grant <grant.plain) &&
	oa_account plain client_id=pub-app &&
	port=$(cat "$TRASH/oa.port") &&
	printf "protocol=http\nhost=127.0.0.1:%s\npath=acct/plain\nusername=plain\n" "$port" >request &&
	{
		cat request &&
		printf "password=stale\npassword_expiry_utc=1000\n" &&
		printf "oauth_refresh_token=RTCANARY-plain-1\n"
	} | git-credential-tokenring store &&
	oa_post reset_counters </dev/null &&
	git-credential-tokenring get <request >out &&
	test "$(oa_counter refreshes)" = 1 &&
	live_at $gid >expect &&
	sed -n "s/^password=//p" out >pw &&
	test_cmp expect pw &&
	last_request >req &&
	python3 - <<-\PY &&
	import json, urllib.parse
	r = json.load(open("req"))
	assert "authorization" not in {k.lower() for k, _ in r["headers"]}, r
	body = urllib.parse.parse_qs(r["body"], strict_parsing=True)
	assert body == {"grant_type": ["refresh_token"],
	                "refresh_token": ["RTCANARY-plain-1"],
	                "client_id": ["pub-app"]}, body
	PY
	git-credential-tokenring get <request >again &&
	test_cmp out again &&
	test "$(oa_counter token_requests)" = 1
'

test_expect_success 'git: a refresh token from an earlier helper, nothing stored, no password' '
	oa_post grant >grant.handed <<-\EOF &&
	{"client_id": "pub-app", "refresh_token": "RTCANARY-handed-1"}
	EOF
	gid=$(json_field grant <grant.handed) &&
	port=$(cat "$TRASH/oa.port") &&
	oa_post reset_counters </dev/null &&
	printf "protocol=http\nhost=127.0.0.1:%s\npath=acct/plain/other\nusername=plain\noauth_refresh_token=RTCANARY-handed-1\n" \
		"$port" | git-credential-tokenring get >out &&
	test "$(oa_counter refreshes)" = 1 &&
	live_at $gid >expect &&
	sed -n "s/^password=//p" out >pw &&
	test_cmp expect pw
'

test_expect_success 'error_description: escaped and cut, never raw on stderr' '
	oa_fail_next <<-\EOF &&
	[{"status": 400, "error": "invalid_request\u001b[2J",
	  "error_description": "\u001b[31mRED\u001b[0m\r\nhost=evil.example.com\u0007 padding padding padding padding padding padding padding padding padding padding padding padding padding padding DESCCANARY"}]
	EOF
	test_when_finished "oa_config fail_next []" &&
	{ tokenring refresh --force forge >out 2>err; test $? = 1; } &&
	test_line_count = 1 err &&
	grep "HTTP 400 invalid_request" err &&
	grep -F "\\x1b[31mRED" err &&
	! grep "$(printf "\033")" err &&
	! grep "$(printf "\007")" err &&
	! grep "$(printf "\r")" err &&
	! grep DESCCANARY err &&
	tokenring status forge >status &&
	! grep "$(printf "\033")" status &&
	! grep DESCCANARY status
'

test_expect_success 'Longbridge OAuth mode: an oauth2 account at {base}/oauth2/token' '
	oa_post client <<-\EOF &&
	{"client_id": "lb-app"}
	EOF
	oa_post grant >grant.lb <<-\EOF &&
	{"client_id": "lb-app", "refresh_token": "RTCANARY-lb-1"}
	EOF
	mkdir -p "$XDG_CONFIG_HOME/tokenring" &&
	printf "[lb]\nprovider = oauth2\nurl = %s/acct/lb\ntoken_url = %s/oauth2/token\nclient_id = lb-app\n" \
		"$OA_URL" "$OA_URL" >>"$XDG_CONFIG_HOME/tokenring/config" &&
	oa_config access_ttl 2592000 &&
	test_when_finished "oa_config access_ttl 3600" &&
	printf "refresh_token=RTCANARY-lb-1\n" | tokenring login lb &&
	last_request >req &&
	grep "\"path\": \"/oauth2/token\"" req &&
	tokenring token lb --format json >json &&
	python3 -c "
import json
j = json.load(open(\"json\"))
assert 2592000 - 60 < j[\"expires_in\"] <= 2592000, j
"
'

test_expect_success 'bad configuration fails before any request, naming the key' '
	tokenring providers >providers &&
	grep "^oauth2 *generic OAuth 2.0 refresh" providers &&
	oa_post reset_counters </dev/null &&
	printf "refresh_token=RTCANARY-x\n" >input &&
	while read -r key line; do
		printf "[bad]\nprovider = oauth2\nurl = %s/acct/bad\n%s\n" \
			"$OA_URL" "$line" | sed "s/\\\\n/\\n/g" \
			>"$TRASH/bad.config" &&
		{ TOKENRING_CONFIG=$TRASH/bad.config tokenring login bad \
			<input >out 2>err; test $? = 1; } &&
		grep "$key" err || { echo "case: $line" >&2; return 1; }
	done <<-EOF &&
	token_url client_id = pub-app
	token_url token_url = http://example.com/token\nclient_id = pub-app
	token_url token_url = ftp://127.0.0.1/token\nclient_id = pub-app
	token_url token_url = https://user:pw@example.com/token\nclient_id = pub-app
	token_url token_url = https://example.com/token?tenant=1\nclient_id = pub-app
	token_url token_url = https://example.com/token#x\nclient_id = pub-app
	token_url token_url = http://localhost.evil.test/token\nclient_id = pub-app
	token_url token_url = http://128.0.0.1/token\nclient_id = pub-app
	client_id token_url = $OA_URL/token
	client_auth token_url = $OA_URL/token\nclient_id = pub-app\nclient_auth = jwt
	scope token_url = $OA_URL/token\nclient_id = pub-app\nscope = read  write
	scope token_url = $OA_URL/token\nclient_id = pub-app\nscope = "read"
	EOF
	test "$(oa_counter requests)" = 0
'

test_expect_success 'no token or secret in status, traces, config or emulator log' '
	oa_grant_field active_rt g1 >rt.old &&
	TOKENRING_TRACE=$TRASH/trace.log TOKENRING_TRACE_HTTP=1 \
	TOKENRING_TRACE_PROVIDER=1 TOKENRING_TRACE_KEYRING=1 \
		tokenring token forge --min-valid 31536000 >/dev/null 2>trace.err &&
	test -s trace.log &&
	cat trace.log trace.err | grep "oauth2: refresh (client_auth basic)" &&
	tokenring status >status.txt &&
	tokenring status --json >status.json &&
	at=$(live_at g1) &&
	rt=$(oa_grant_field active_rt g1) &&
	basic=$(printf "forge-app:s3%%3Acr%%25t%%2BSECCANARY%%20x" | base64 -w0) &&
	files="trace.log trace.err status.txt status.json oa.log oa.err $XDG_CONFIG_HOME/tokenring/config" &&
	for needle in "$at" "$rt" "$(cat rt.old)" "$basic" SECCANARY BODYCANARY \
		RTCANARY ATCANARY IDCANARY; do
		test_no_leak "$needle" $files || return 1
	done &&
	keyring_public >public &&
	test_no_leak "$at" public && test_no_leak "$rt" public &&
	test_no_leak SECCANARY public && test_no_leak RTCANARY public
'

test_done
