#!/bin/sh
test_description='the ekuaibao provider against its emulator'
. "${TOKENRING_SOURCE_DIR:-$(dirname "$0")/..}/tests/test-lib.sh"
. "$TEST_DIRECTORY/lib-ekuaibao.sh"

start_keyring || test_skip_all "cannot start a private keyring"
start_ekuaibao || test_skip_all "cannot start the Ekuaibao emulator"

# The emulator's live pair, as "access refresh".
live_pair () {
	ekb_control tokens | python3 -c '
import json, sys
live = [t for t in json.load(sys.stdin) if t["state"] == "live"]
print(live[-1]["accessToken"], live[-1]["refreshToken"])'
}

test_expect_success 'setup: app credentials and an account' '
	ekb_post app <<-\EOF &&
	{"appKey": "AKCANARY-1", "appSecurity": "SECCANARY-app"}
	EOF
	ekb_account ekb
'

test_expect_success 'login by app key: getAccessToken, then one refresh' '
	printf "app_key=AKCANARY-1\napp_security=SECCANARY-app\n" |
	tokenring login ekb >out 2>err &&
	grep "^logged in .ekb.: token valid until" out &&
	test "$(ekb_counter getAccessToken)" = 1 &&
	test "$(ekb_counter refreshToken)" = 1
'

test_expect_success 'the app credentials went in the JSON body, never the query' '
	ekb_control requests >requests &&
	python3 -c "
import json, sys
reqs = json.load(open(\"requests\"))
get = [r for r in reqs if r[\"path\"].endswith(\"getAccessToken\")][0]
assert \"SECCANARY\" not in get[\"query\"], get[\"query\"]
assert json.loads(get[\"body\"]) == {\"appKey\": \"AKCANARY-1\", \"appSecurity\": \"SECCANARY-app\"}, get[\"body\"]
assert get[\"content_type\"].startswith(\"application/json\")
ref = [r for r in reqs if \"refreshToken\" in r[\"path\"]][0]
assert ref[\"method\"] == \"POST\" and not ref[\"body\"], ref
assert \"%3A\" in ref[\"query\"] and \":\" not in ref[\"query\"], ref[\"query\"]
assert \"powerCode=219904\" in ref[\"query\"], ref[\"query\"]
"
'

test_expect_success 'token prints the live access token, without a request' '
	ekb_post reset_counters </dev/null &&
	tokenring token ekb >token &&
	set -- $(live_pair) &&
	echo "$1" >expect &&
	test_cmp expect token &&
	test "$(ekb_counter requests)" = 0
'

test_expect_success 'a token about to expire is refreshed: one call, old pair dead' '
	set -- $(live_pair) && old_access=$1 old_refresh=$2 &&
	tokenring token ekb --min-valid 31536000 >token &&
	test "$(ekb_counter refreshToken)" = 1 &&
	set -- $(live_pair) &&
	echo "$1" >expect && test_cmp expect token &&
	test "$1" != "$old_access" && test "$2" != "$old_refresh" &&
	ekb_control tokens >tokens &&
	python3 -c "
import json
t = {r[\"accessToken\"]: r[\"state\"] for r in json.load(open(\"tokens\"))}
assert t[\"$old_access\"] == \"rotated\", t
"
'

test_expect_success 'the refreshed pair was stored before it was printed' '
	tokenring token ekb >again &&
	test_cmp token again &&
	test "$(ekb_counter refreshToken)" = 1
'

test_expect_success 'refresh --force refreshes; refresh alone does not' '
	tokenring refresh ekb >out &&
	grep "not refreshed" out &&
	test "$(ekb_counter refreshToken)" = 1 &&
	tokenring refresh ekb --force >out &&
	grep "^refreshed" out &&
	test "$(ekb_counter refreshToken)" = 2
'

test_expect_success 'refresh reports a failure even while the token is valid' '
	tokenring token ekb >before &&
	ekb_config fail_next "[503]" &&
	{ tokenring refresh --force ekb >out 2>err; test $? = 5; } &&
	grep "HTTP 503" err &&
	tokenring token ekb >after &&
	test_cmp before after
'

test_expect_success 'expire_days uses refreshToken/expireDate' '
	ekb_account ekbdays expire_days=1 &&
	printf "app_key=AKCANARY-1\napp_security=SECCANARY-app\n" |
	tokenring login ekbdays >out &&
	test "$(ekb_counter refreshTokenExpireDate)" = 1 &&
	tokenring token ekbdays --format json >json &&
	python3 -c "
import json, time
j = json.load(open(\"json\"))
assert 86400 - 120 < j[\"expires_at\"] - time.time() <= 86400 + 5, j
assert j[\"account\"] == \"ekbdays\" and j[\"provider\"] == \"ekuaibao\"
assert j[\"token_type\"] is None
"
'

test_expect_success 'a rejected refresh re-acquires with the stored app credentials' '
	ekb_post expire <<-\EOF &&
	{}
	EOF
	ekb_post reset_counters </dev/null &&
	tokenring token ekb --min-valid 31536000 >token &&
	test "$(ekb_counter getAccessToken)" = 1 &&
	set -- $(live_pair) &&
	echo "$1" >expect && test_cmp expect token
'

test_expect_success 'the 403 right after issue is retried, briefly' '
	ekb_config fresh_token_403_ms 1500 &&
	test_when_finished "ekb_config fresh_token_403_ms 0" &&
	ekb_post reset_counters </dev/null &&
	ekb_account ekbfresh &&
	printf "app_key=AKCANARY-1\napp_security=SECCANARY-app\n" |
	tokenring login ekbfresh &&
	test "$(ekb_counter getAccessToken)" = 1 &&
	test "$(ekb_counter refreshToken)" = 3 &&
	test "$(ekb_counter fresh_rejected)" = 2
'

test_expect_success 'a transient failure keeps the record and serves the valid token' '
	tokenring token ekb >before &&
	ekb_config fail_next "[503]" &&
	tokenring token ekb --min-valid 31536000 >during 2>err &&
	test_cmp before during &&
	tokenring token ekb >after &&
	test_cmp before after &&
	tokenring status ekb >status &&
	grep "^last error: .*HTTP 503" status
'

test_expect_success 'a rate limit: served meanwhile, and nobody asks again for a while' '
	tokenring token ekb >before &&
	ekb_config fail_next "[429]" &&
	ekb_post reset_counters </dev/null &&
	tokenring token ekb --min-valid 31536000 >during &&
	test_cmp before during &&
	test "$(ekb_counter requests)" = 1 &&
	tokenring token ekb --min-valid 31536000 >during &&
	test_cmp before during &&
	{ tokenring refresh --force ekb 2>err; test $? = 5; } &&
	grep "rate limited" err &&
	test "$(ekb_counter requests)" = 1 &&
	test -f "$XDG_RUNTIME_DIR/tokenring/ekb.notbefore" &&
	rm "$XDG_RUNTIME_DIR/tokenring/ekb.notbefore" &&
	tokenring refresh --force ekb &&
	test "$(ekb_counter requests)" = 2 &&
	! test -f "$XDG_RUNTIME_DIR/tokenring/ekb.notbefore"
'

test_expect_success 'without app credentials, an expired token means login (exit 3)' '
	ekb_post verify_code <<-\EOF &&
	{"code": "VC1code"}
	EOF
	ekb_account ekbcode &&
	printf "verify_code=VC1code\n" | tokenring login ekbcode &&
	test "$(ekb_counter verifyCode)" = 1 &&
	ekb_post reset_counters </dev/null &&
	tokenring refresh --force ekbcode &&
	ekb_control requests >requests &&
	grep "powerCode=219902" requests &&
	tokenring token ekbcode >/dev/null &&
	ekb_post expire <<-\EOF &&
	{}
	EOF
	{ tokenring token ekbcode --min-valid 31536000 >out 2>err; test $? = 3; } &&
	test_must_be_empty out &&
	grep "run .tokenring login ekbcode." err
'

test_expect_success 'a verify code is single use' '
	printf "verify_code=VC1code\n" >input &&
	test_must_fail tokenring login ekbcode <input 2>err &&
	grep "verify code rejected" err
'

test_expect_success 'wrong app credentials: login fails, nothing stored' '
	ekb_account ekbwrong &&
	printf "app_key=AKCANARY-1\napp_security=wrong\n" >input &&
	test_must_fail tokenring login ekbwrong <input 2>err &&
	grep "app key or app security rejected" err &&
	tokenring status ekbwrong >status &&
	grep "not logged in" status
'

test_expect_success 'bad and unknown config keys' '
	ekb_account ekbbad expire_days=99 &&
	printf "app_key=AKCANARY-1\napp_security=SECCANARY-app\n" >input &&
	{ tokenring login ekbbad <input 2>err; test $? = 1; } &&
	grep "expire_days" err &&
	ekb_account ekbodd color=blue &&
	printf "app_key=AKCANARY-1\napp_security=SECCANARY-app\n" |
	tokenring login ekbodd 2>err &&
	grep "unknown key .color. ignored" err
'

test_expect_success 'no token or app secret in status, traces or files' '
	set -- $(live_pair) &&
	TOKENRING_TRACE=$TRASH/trace.log TOKENRING_TRACE_HTTP=1 \
	TOKENRING_TRACE_PROVIDER=1 TOKENRING_TRACE_KEYRING=1 \
		tokenring token ekb --min-valid 31536000 >/dev/null 2>trace.err &&
	test -s trace.log &&
	tokenring status >status.txt &&
	tokenring status --json >status.json &&
	set -- $(live_pair) &&
	test_no_leak "$1" trace.log trace.err status.txt status.json &&
	test_no_leak "$2" trace.log trace.err status.txt status.json &&
	test_no_leak SECCANARY trace.log trace.err status.txt status.json \
		"$XDG_CONFIG_HOME/tokenring/config" ekb.log ekb.err &&
	keyring_public >public &&
	test_no_leak "$1" public && test_no_leak SECCANARY public
'

test_done
