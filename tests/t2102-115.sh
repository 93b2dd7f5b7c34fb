#!/bin/sh
test_description='the 115 provider against its emulator'
. "${TOKENRING_SOURCE_DIR:-$(dirname "$0")/..}/tests/test-lib.sh"
. "$TEST_DIRECTORY/lib-p115.sh"

start_keyring || test_skip_all "cannot start a private keyring"
start_p115 || test_skip_all "cannot start the 115 emulator"

# One field of the account's keyring record.
stored () {
	p115_record "$1" |
	python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}

# "tokenring token NAME --format json" without expires_in, which ticks.
token_json () {
	tokenring token "$1" --format json |
	python3 -c '
import json, sys
j = json.load(sys.stdin)
j.pop("expires_in")
print(json.dumps(j, sort_keys=True))'
}

# GET the resource probe with the "Authorization: ..." line on stdin.
probe () {
	python3 -c '
import sys, urllib.request
name, _, value = sys.stdin.read().strip().partition(": ")
req = urllib.request.Request(sys.argv[1], headers={name: value})
print(urllib.request.urlopen(req).read().decode())' "$P115_URL/open/user/info"
}

# Wait (bounded) until the stored access token of NAME has expired.
wait_expired () {
	i=0
	while tokenring status "$1" --json | python3 -c '
import json, sys
sys.exit(0 if json.load(sys.stdin)[0]["expires_in"] > 0 else 1)'
	do
		i=$((i + 1))
		[ $i -lt 100 ] || return 1
		sleep 0.1
	done
}

test_expect_success 'setup: no throttle yet, a grant, an account' '
	p115_config min_refresh_interval 0 &&
	p115_post grant >grant.json <<-\EOF &&
	{"user": "pan", "refresh_token": "RTCANARY-pan-0", "access_token": "ATCANARY-pan-0"}
	EOF
	grep "\"grant\":1," grant.json &&
	p115_account pan
'

test_expect_success 'login with a refresh token: exactly one refresh' '
	printf "refresh_token=RTCANARY-pan-0\n" | tokenring login pan >out 2>err &&
	grep "^logged in .pan.: token valid until" out &&
	test "$(p115_counter requests)" = 1 &&
	test "$(p115_counter rotations)" = 1 &&
	p115_active pan access_token >expect &&
	tokenring token pan >token &&
	test_cmp expect token &&
	p115_active pan refresh_token >expect &&
	stored pan refresh_token >actual &&
	test_cmp expect actual &&
	test "$(p115_counter requests)" = 1
'

test_expect_success 'the refresh is a form POST with no Authorization header' '
	p115_control requests >requests &&
	python3 <<-\PY
	import json
	reqs = json.load(open("requests"))
	assert len(reqs) == 1, reqs
	r = reqs[0]
	assert r["method"] == "POST" and r["path"] == "/open/refreshToken", r
	assert r["query"] == "", r
	assert r["content_type"] == "application/x-www-form-urlencoded", r
	assert r["body"] == "refresh_token=RTCANARY-pan-0", r["body"]
	assert not [h for h, v in r["headers"] if h.lower() == "authorization"], r
	PY
'

test_expect_success 'token: Bearer, 7200 s; status: the grant ends in a year' '
	tokenring token pan --format json >json &&
	tokenring token pan --format header >header &&
	tokenring status pan --json >status.json &&
	python3 <<-\PY &&
	import json, time
	j = json.load(open("json"))
	assert j["token_type"] == "Bearer" and j["provider"] == "115", j
	assert 7200 - 60 < j["expires_at"] - time.time() <= 7200 + 5, j
	assert open("header").read() == "Authorization: Bearer %s\n" % j["access_token"]
	s = json.load(open("status.json"))[0]
	left = s["refresh_expires_at"] - time.time()
	assert 365 * 86400 - 120 < left <= 365 * 86400 + 5, s
	PY
	tokenring status pan >status &&
	grep "^refresh until: .*(in 36[45]d" status
'

test_expect_success 'the resource probe takes the token as a Bearer' '
	tokenring token pan --format header | probe >answer &&
	grep "^{\"state\":true,\"code\":0," answer &&
	grep "\"user_name\":\"pan\"" answer
'

test_expect_success 'login with access_token and expires_in: no request at all' '
	p115_post grant >/dev/null <<-\EOF &&
	{"user": "given", "refresh_token": "RTCANARY-given-0", "access_token": "ATCANARY-given-0"}
	EOF
	p115_account given &&
	p115_post reset_counters </dev/null >/dev/null &&
	printf "refresh_token=RTCANARY-given-0\naccess_token=ATCANARY-given-0\nexpires_in=5000\n" |
	tokenring login given >out &&
	test "$(p115_counter requests)" = 0 &&
	tokenring token given --format json >json &&
	tokenring status given --json >status.json &&
	python3 <<-\PY &&
	import json, time
	j = json.load(open("json"))
	assert j["access_token"] == "ATCANARY-given-0", "not the given token"
	assert 5000 - 60 < j["expires_at"] - time.time() <= 5000 + 5, j
	s = json.load(open("status.json"))[0]
	assert 365 * 86400 - 120 < s["refresh_expires_at"] - time.time(), s
	PY
	test "$(stored given refresh_token)" = RTCANARY-given-0
'

test_expect_success 'login with an access_token alone assumes 7200 s' '
	p115_post grant >/dev/null <<-\EOF &&
	{"user": "given2", "refresh_token": "RTCANARY-given2-0", "access_token": "ATCANARY-given2-0"}
	EOF
	p115_account given2 &&
	printf "refresh_token=RTCANARY-given2-0\naccess_token=ATCANARY-given2-0\n" |
	tokenring login given2 >out &&
	test "$(p115_counter requests)" = 0 &&
	tokenring token given2 --format json >json &&
	python3 <<-\PY
	import json, time
	j = json.load(open("json"))
	assert j["access_token"] == "ATCANARY-given2-0", "not the given token"
	assert 7200 - 60 < j["expires_at"] - time.time() <= 7200 + 5, j
	PY
'

test_expect_success 'near expiry: both tokens rotate, the new refresh token is stored' '
	p115_active pan refresh_token >old.rt &&
	p115_active pan access_token >old.at &&
	stored pan refresh_expires_at >grant.end &&
	p115_post reset_counters </dev/null >/dev/null &&
	tokenring token pan --min-valid 31536000 >token &&
	test "$(p115_counter rotations)" = 1 &&
	p115_active pan access_token >expect &&
	test_cmp expect token &&
	! cmp -s old.at token &&
	p115_active pan refresh_token >new.rt &&
	! cmp -s old.rt new.rt &&
	stored pan refresh_token >actual &&
	test_cmp new.rt actual &&
	stored pan refresh_expires_at >actual &&
	test_cmp grant.end actual
'

test_expect_success 'what is stored is what 115 expects next: two more refreshes' '
	tokenring refresh --force pan >out &&
	grep "^refreshed" out &&
	tokenring refresh --force pan &&
	test "$(p115_counter rotations)" = 3 &&
	test "$(p115_counter reuse_rejected)" = 0 &&
	p115_active pan refresh_token >expect &&
	stored pan refresh_token >actual &&
	test_cmp expect actual
'

test_expect_success 'the rotated-out refresh token is refused with 40140120' '
	p115_replay <old.rt >answer &&
	grep "\"code\":40140120" answer &&
	test "$(p115_counter reuse_rejected)" = 1
'

test_expect_success 'rate limited (40140117): nothing changes, the valid token is served' '
	p115_config min_refresh_interval 3600 &&
	test_when_finished "p115_config min_refresh_interval 0" &&
	p115_record pan >record.before &&
	token_json pan >json.before &&
	tokenring token pan >token.before &&
	p115_active pan refresh_token >rt.before &&
	p115_post reset_counters </dev/null >/dev/null &&
	tokenring token pan --min-valid 31536000 >served 2>err &&
	test_cmp token.before served &&
	test "$(p115_counter refresh)" = 1 &&
	test "$(p115_counter throttled)" = 1 &&
	test "$(p115_counter rotations)" = 0 &&
	p115_record pan >record.after &&
	test_cmp record.before record.after &&
	token_json pan >json.after &&
	test_cmp json.before json.after &&
	p115_active pan refresh_token >rt.after &&
	test_cmp rt.before rt.after &&
	tokenring status pan >status &&
	grep "^last error: *refreshing too often (115 rate limit); try again in a minute$" status &&
	p115_record pan >record.after &&
	test_cmp record.before record.after
'

test_expect_success 'after a rate limit the engine waits: no request, exit 5 if asked' '
	{ tokenring refresh --force pan >out 2>err; test $? = 5; } &&
	test_must_be_empty out &&
	grep "rate limited" err &&
	tokenring token pan --min-valid 31536000 >served &&
	test_cmp token.before served &&
	test "$(p115_counter refresh)" = 1 &&
	p115_record pan >record.after &&
	test_cmp record.before record.after
'

test_expect_success 'rate limited with no valid token left: exit 5, nothing changes' '
	p115_config min_refresh_interval 3600 &&
	test_when_finished "p115_config min_refresh_interval 0" &&
	p115_post grant >/dev/null <<-\EOF &&
	{"user": "short", "refresh_token": "RTCANARY-short-0", "access_token": "ATCANARY-short-0", "refreshed_ago": 0}
	EOF
	p115_account short &&
	printf "refresh_token=RTCANARY-short-0\naccess_token=ATCANARY-short-0\nexpires_in=2\n" |
	tokenring login short &&
	wait_expired short &&
	p115_record short >before &&
	p115_post reset_counters </dev/null >/dev/null &&
	{ tokenring token short >out 2>err; test $? = 5; } &&
	test_must_be_empty out &&
	grep "refreshing too often (115 rate limit)" err &&
	test "$(p115_counter refresh)" = 1 &&
	test "$(p115_counter throttled)" = 1 &&
	p115_record short >after &&
	test_cmp before after &&
	test "$(p115_active short refresh_token)" = RTCANARY-short-0
'

test_expect_success 'revoked in device management (40140116): exit 3, nothing erased' '
	p115_post grant >/dev/null <<-\EOF &&
	{"user": "rev", "refresh_token": "RTCANARY-rev-0", "access_token": "ATCANARY-rev-0"}
	EOF
	p115_account rev &&
	printf "refresh_token=RTCANARY-rev-0\n" | tokenring login rev &&
	p115_record rev >before &&
	p115_post revoke >/dev/null <<-\EOF &&
	{"user": "rev"}
	EOF
	{ tokenring token rev --min-valid 31536000 >out 2>err; test $? = 3; } &&
	test_must_be_empty out &&
	grep "revoked (115 device management) or evicted" err &&
	grep "40140116" err &&
	grep "run .tokenring login rev." err &&
	p115_record rev >after &&
	test_cmp before after &&
	tokenring status rev >status &&
	grep "^state: *ok" status &&
	grep "^last error: .*40140116" status
'

test_expect_success 'evicted by newer grants (max_grants 2): exit 3' '
	p115_post grant >/dev/null <<-\EOF &&
	{"user": "evict", "refresh_token": "RTCANARY-evict-0", "access_token": "ATCANARY-evict-0"}
	EOF
	p115_account evict &&
	printf "refresh_token=RTCANARY-evict-0\n" | tokenring login evict &&
	echo "{\"user\": \"evict\"}" | p115_post grant >/dev/null &&
	echo "{\"user\": \"evict\"}" | p115_post grant >third &&
	python3 -c "import json; assert json.load(open(\"third\"))[\"evicted\"], 0" &&
	p115_record evict >before &&
	{ tokenring refresh --force evict >out 2>err; test $? = 3; } &&
	grep "40140116" err &&
	grep "run .tokenring login evict." err &&
	p115_record evict >after &&
	test_cmp before after
'

test_expect_success 'a year after the authorisation (40140119): exit 3' '
	p115_post grant >/dev/null <<-\EOF &&
	{"user": "year", "refresh_token": "RTCANARY-year-0", "access_token": "ATCANARY-year-0"}
	EOF
	p115_account year &&
	printf "refresh_token=RTCANARY-year-0\n" | tokenring login year &&
	p115_config clock_offset 31622400 &&
	test_when_finished "p115_config clock_offset 0" &&
	{ tokenring refresh --force year >out 2>err; test $? = 3; } &&
	grep "expired, a year after its authorisation (115 code 40140119" err &&
	grep "run .tokenring login year." err
'

test_expect_success '40140121: one request, the valid token is served' '
	tokenring token given >before &&
	p115_record given >record.before &&
	p115_post reset_counters </dev/null >/dev/null &&
	p115_config fail_next "[40140121]" &&
	tokenring token given --min-valid 31536000 >during 2>err &&
	test_cmp before during &&
	test "$(p115_counter refresh)" = 1 &&
	tokenring status given >status &&
	grep "^last error: .*115 code 40140121" status &&
	p115_record given >record.after &&
	test_cmp record.before record.after
'

test_expect_success '40110000 when forced: exit 5 after one request' '
	p115_post reset_counters </dev/null >/dev/null &&
	p115_config fail_next "[40110000]" &&
	{ tokenring refresh --force given >out 2>err; test $? = 5; } &&
	test_must_be_empty out &&
	grep "115 code 40110000" err &&
	test "$(p115_counter refresh)" = 1 &&
	p115_record given >record.after &&
	test_cmp record.before record.after
'

test_expect_success 'HTTP statuses and other codes: the right exit status' '
	p115_config fail_next "[503]" &&
	{ tokenring refresh --force given >out 2>err; test $? = 5; } &&
	grep "HTTP 503" err &&
	p115_config fail_next "[{\"status\": 401, \"code\": 40140116}]" &&
	{ tokenring refresh --force given >out 2>err; test $? = 1; } &&
	grep "HTTP 401: no auth" err &&
	p115_config fail_next "[40140118]" &&
	{ tokenring refresh --force given >out 2>err; test $? = 1; } &&
	grep "developer certification of the 115 app has expired" err &&
	p115_config fail_next "[40100000]" &&
	{ tokenring refresh --force given >out 2>err; test $? = 1; } &&
	grep "115 code 40100000" err &&
	p115_config fail_next "[{\"code\": 40149999, \"message\": \"odd\\u001b[31m\"}]" &&
	{ tokenring refresh --force given >out 2>err; test $? = 1; } &&
	grep "115 refused the refresh (115 code 40149999: odd" err &&
	! grep "$(printf "\033")" err &&
	p115_record given >record.after &&
	test_cmp record.before record.after
'

test_expect_success 'legacy_error_only: success parses; a number-less error is an error' '
	p115_config legacy_error_only true &&
	test_when_finished "p115_config legacy_error_only false" &&
	p115_post reset_counters </dev/null >/dev/null &&
	tokenring refresh --force given >out &&
	grep "^refreshed" out &&
	test "$(p115_counter rotations)" = 1 &&
	p115_control requests >requests &&
	p115_active given refresh_token >expect &&
	stored given refresh_token >actual &&
	test_cmp expect actual &&
	p115_config min_refresh_interval 3600 &&
	test_when_finished "p115_config min_refresh_interval 0" &&
	p115_record given >before &&
	tokenring token given >token.before &&
	{ tokenring refresh --force given >out 2>err; test $? = 1; } &&
	grep "115 refused the refresh (115 says: refresh frequently)" err &&
	test "$(p115_counter throttled)" = 1 &&
	tokenring token given --min-valid 31536000 >served &&
	test_cmp token.before served &&
	p115_record given >after &&
	test_cmp before after
'

test_expect_success 'state_bool: true succeeds, false fails with its code' '
	p115_config state_bool true &&
	test_when_finished "p115_config state_bool false" &&
	p115_post reset_counters </dev/null >/dev/null &&
	tokenring refresh --force given >out &&
	test "$(p115_counter rotations)" = 1 &&
	p115_active given refresh_token >expect &&
	stored given refresh_token >actual &&
	test_cmp expect actual &&
	p115_record given >before &&
	p115_config fail_next "[40140121]" &&
	{ tokenring refresh --force given >out 2>err; test $? = 5; } &&
	grep "115 code 40140121: access_token refresh failed" err &&
	p115_record given >after &&
	test_cmp before after
'

test_expect_success 'expires_in as a string of digits is accepted' '
	p115_config expires_in_as_string true &&
	test_when_finished "p115_config expires_in_as_string false" &&
	tokenring refresh --force given >out &&
	tokenring token given --format json >json &&
	python3 -c "
import json, time
j = json.load(open(\"json\"))
assert 7200 - 60 < j[\"expires_at\"] - time.time() <= 7200 + 5, j
"
'

test_expect_success 'malformed answers are rejected and change nothing' '
	cat >bodies <<-\EOF &&
	{"body": "{\"state\":1,\"code\":0,\"message\":\"\",\"data\":{\"refresh_token\":\"RTCANARY-bad-1\",\"expires_in\":7200}}"}
	{"body": "{\"state\":1,\"code\":0,\"message\":\"\",\"data\":{\"access_token\":\"ATCANARY-bad-2\",\"refresh_token\":\"RTCANARY-bad-2\",\"expires_in\":\"36x\"}}"}
	{"body": "{\"state\":1,\"code\":0,\"message\":\"\",\"data\":{\"access_token\":\"ATCANARY-bad-3\\nhost=evil\",\"refresh_token\":\"RTCANARY-bad-3\",\"expires_in\":7200}}"}
	{"body": "{\"state\":1,\"code\":0,\"message\":\"\",\"data\":{\"access_token\":12345,\"refresh_token\":\"RTCANARY-bad-4\",\"expires_in\":7200}}"}
	{"body": "{\"state\":1,\"code\":0,\"message\":\"\",\"data\":{\"access_token\":\"ATCANARY-bad-5\",\"expires_in\":7200}}"}
	{"body": "{\"state\":1,\"code\":0,\"message\":\"\",\"data\":{\"access_token\":\"ATCANARY-bad-6\",\"refresh_token\":\"RTCANARY-bad-6\",\"expires_in\":0}}"}
	{"body": "{\"state\":1,\"code\":0,\"message\":\"\",\"data\":{\"access_token\":\"ATCANARY-bad-7\",\"refresh_token\":\"RTCANARY-bad-7\",\"expires_in\":3.9}}"}
	{"body": "{\"state\":1,\"code\":0,\"message\":\"\",\"data\":{\"access_token\":\"ATCANARY-bad-8\",\"refresh_token\":\"RTCANARY-bad-8\",\"expires_in\":9223372036854775807}}"}
	{"body": "{\"state\":1,\"code\":0,\"message\":\"\",\"data\":{\"access_token\":\"ATCANARY-bad-9\",\"refresh_token\":\"RTCANARY-bad-9\",\"expires_in\":true}}"}
	{"body": "{\"state\":0,\"code\":0,\"message\":\"\",\"data\":{\"access_token\":\"ATCANARY-bad-10\",\"refresh_token\":\"RTCANARY-bad-10\",\"expires_in\":7200}}"}
	{"body": "{\"state\":\"0\",\"code\":0,\"message\":\"\",\"data\":{\"access_token\":\"ATCANARY-bad-11\",\"refresh_token\":\"RTCANARY-bad-11\",\"expires_in\":7200}}"}
	{"body": "{\"state\":false,\"code\":0,\"message\":\"\",\"data\":{\"access_token\":\"ATCANARY-bad-12\",\"refresh_token\":\"RTCANARY-bad-12\",\"expires_in\":7200}}"}
	{"body": "{\"state\":null,\"data\":{\"access_token\":\"ATCANARY-bad-13\",\"refresh_token\":\"RTCANARY-bad-13\",\"expires_in\":7200}}"}
	{"body": "{\"state\":1,\"code\":40149999,\"message\":\"\",\"data\":{\"access_token\":\"ATCANARY-bad-14\",\"refresh_token\":\"RTCANARY-bad-14\",\"expires_in\":7200}}"}
	{"body": "{\"state\":1,\"code\":0,\"error\":\"oops\",\"data\":{\"access_token\":\"ATCANARY-bad-15\",\"refresh_token\":\"RTCANARY-bad-15\",\"expires_in\":7200}}"}
	{"body": "{\"state\":1,\"state\":0,\"code\":0,\"data\":{\"access_token\":\"ATCANARY-bad-16\",\"refresh_token\":\"RTCANARY-bad-16\",\"expires_in\":7200}}"}
	{"body": "{\"state\":1,\"code\":\"x\",\"data\":{\"access_token\":\"ATCANARY-bad-17\",\"refresh_token\":\"RTCANARY-bad-17\",\"expires_in\":7200}}"}
	{"body": "{\"state\":1,\"code\":0,\"data\":{\"access_token\":\"ATCANARY-bad-18\",\"refresh_token\":\"RTCANARY-bad-18\",\"expires_in\":7200}} x"}
	{"body": "[{\"state\":1,\"code\":0,\"data\":{\"access_token\":\"ATCANARY-bad-19\",\"refresh_token\":\"RTCANARY-bad-19\",\"expires_in\":7200}}]"}
	{"body": "{\"state\":1,\"code\":0}"}
	{"body": "{\"state\":1,\"code\":0,\"data\":[]}"}
	{"body": ""}
	{"body": "<html>ok</html>", "content_type": "text/html"}
	{"body": "{\"state\":1,\"code\":0,\"data\":{\"access_token\":\"\",\"refresh_token\":\"RTCANARY-bad-23\",\"expires_in\":7200}}"}
	{"body": "{\"state\":1,\"code\":0,\"data\":{\"access_token\":\"ATCANARY-bad-24\",\"refresh_token\":\"RTCANARY-bad-24\",\"expires_in\":-5}}"}
	{"body": "{\"st\\u0061te\":0,\"code\":0,\"data\":{\"access_token\":\"ATCANARY-bad-25\",\"refresh_token\":\"RTCANARY-bad-25\",\"expires_in\":7200}}"}
	{"body": "{ \"state\" : false , \"code\":0,\"data\":{\"access_token\":\"ATCANARY-bad-26\",\"refresh_token\":\"RTCANARY-bad-26\",\"expires_in\":7200}}"}
	{"body": "{\"state\":1,\"code\":0,\"errno\":\"\",\"data\":{\"access_token\":\"ATCANARY-bad-27\",\"refresh_token\":\"RTCANARY-bad-27\",\"expires_in\":7200}}"}
	EOF
	p115_record given >before &&
	p115_post reset_counters </dev/null >/dev/null &&
	n=0 &&
	while read -r item; do
		n=$((n + 1)) &&
		printf "{\"fail_next\": [%s]}\n" "$item" | p115_post config >/dev/null &&
		{ tokenring refresh --force given >out.$n 2>err.$n; test $? = 1; } &&
		test_must_be_empty out.$n &&
		p115_record given >after &&
		test_cmp before after &&
		test_no_leak CANARY-bad err.$n || { echo "failed on line $n"; return 1; }
	done <bodies &&
	test "$(p115_counter refresh)" = $n &&
	test "$(p115_counter rotations)" = 0 &&
	grep "access_token" err.1 &&
	grep "expires_in" err.2 &&
	grep "not a token" err.3 &&
	grep "115 refused the refresh (no code, no message)" err.13 &&
	grep "115 refused the refresh (no code, no message)" err.10 &&
	grep "115 code 40149999" err.14 &&
	grep "115 says: oops" err.15 &&
	grep "malformed .code." err.17 &&
	grep "not a JSON object" err.19 &&
	grep "115 refused the refresh (no code, no message)" err.26 &&
	grep "115 refused the refresh (no code, no message)" err.27 &&
	grep "malformed .errno." err.28
'

test_expect_success 'unusual but valid successes are accepted' '
	p115_account odd &&
	printf "refresh_token=RTCANARY-odd-0\naccess_token=ATCANARY-odd-0\n" |
	tokenring login odd &&
	cat >bodies <<-\EOF &&
	3600 {"body": "{\"state\":\"1\",\"code\":\"0\",\"message\":\"\",\"data\":{\"access_token\":\"ATCANARY-odd-1\",\"refresh_token\":\"RTCANARY-odd-1\",\"expires_in\":\"3600\"}}"}
	7200 {"body": "{ \"state\" : true , \"code\" : 0 , \"errno\" : null , \"error\" : null , \"data\" : { \"access_token\" : \"ATCANARY-odd-2\" , \"refresh_token\" : \"RTCANARY-odd-2\" , \"expires_in\" : 7200 } }\n"}
	100 {"body": "{\"code\":0,\"data\":{\"access_token\":\"ATCANARY-odd-3\",\"refresh_token\":\"RTCANARY-odd-3\",\"expires_in\":100}}"}
	5000 {"body": "{\"st\\u0061te\":1,\"code\":0,\"error\":\"\",\"data\":{\"access_token\":\"ATCANARY-odd-4\",\"refresh_token\":\"RTCANARY-odd-4\",\"expires_in\":5000}}"}
	EOF
	n=0 &&
	while read -r life item; do
		n=$((n + 1)) &&
		printf "{\"fail_next\": [%s]}\n" "$item" | p115_post config >/dev/null &&
		tokenring refresh --force odd >out &&
		test "$(stored odd access_token)" = ATCANARY-odd-$n &&
		test "$(stored odd refresh_token)" = RTCANARY-odd-$n &&
		left=$(($(stored odd expires_at) - $(date +%s))) &&
		test $left -gt $((life - 60)) && test $left -le $((life + 5)) ||
		{ echo "failed on line $n"; return 1; }
	done <bodies &&
	test $n = 4
'

test_expect_success 'HTTP 429 is a rate limit too' '
	p115_post grant >/dev/null <<-\EOF &&
	{"user": "lim", "refresh_token": "RTCANARY-lim-0", "access_token": "ATCANARY-lim-0"}
	EOF
	p115_account lim &&
	printf "refresh_token=RTCANARY-lim-0\naccess_token=ATCANARY-lim-0\n" |
	tokenring login lim &&
	p115_record lim >before &&
	p115_config fail_next "[429]" &&
	{ tokenring refresh --force lim >out 2>err; test $? = 5; } &&
	grep "HTTP 429" err &&
	p115_record lim >after &&
	test_cmp before after
'

test_expect_success 'a lost answer after the rotation: exit 5, then 40140120 and exit 3' '
	p115_post grant >/dev/null <<-\EOF &&
	{"user": "drop", "refresh_token": "RTCANARY-drop-0", "access_token": "ATCANARY-drop-0"}
	EOF
	p115_account drop &&
	printf "refresh_token=RTCANARY-drop-0\n" | tokenring login drop &&
	p115_record drop >before &&
	p115_post reset_counters </dev/null >/dev/null &&
	p115_config drop_after_commit 1 &&
	{ tokenring refresh --force drop >out 2>err; test $? = 5; } &&
	test "$(p115_counter dropped)" = 1 &&
	p115_record drop >after &&
	test_cmp before after &&
	{ tokenring refresh --force drop >out 2>err; test $? = 3; } &&
	grep "already rotated out" err &&
	grep "run .tokenring login drop." err &&
	test "$(p115_counter reuse_rejected)" = 1 &&
	test "$(p115_counter refresh)" = 2 &&
	p115_record drop >after &&
	test_cmp before after
'

test_expect_success '20 callers on an expiring token: one refresh, one token for all' '
	p115_post grant >/dev/null <<-\EOF &&
	{"user": "conc", "refresh_token": "RTCANARY-conc-0", "access_token": "ATCANARY-conc-0"}
	EOF
	p115_account conc min_valid=600 &&
	printf "refresh_token=RTCANARY-conc-0\naccess_token=ATCANARY-conc-0\nexpires_in=300\n" |
	tokenring login conc &&
	p115_config min_refresh_interval 60 &&
	test_when_finished "p115_config min_refresh_interval 0" &&
	p115_config refresh_delay_ms 1000 &&
	test_when_finished "p115_config refresh_delay_ms 0" &&
	p115_post reset_counters </dev/null >/dev/null &&
	for i in $(seq 1 20); do
		tokenring token conc >out.$i 2>err.$i &
	done &&
	wait &&
	test "$(p115_counter refresh)" = 1 &&
	test "$(p115_counter rotations)" = 1 &&
	test "$(p115_counter reuse_rejected)" = 0 &&
	test "$(p115_counter throttled)" = 0 &&
	p115_active conc access_token >expect &&
	for i in $(seq 1 20); do
		test_cmp expect out.$i || return 1
	done
'

test_expect_success 'token_url: https, or http to a loopback host only' '
	printf "refresh_token=RTCANARY-x\n" >input &&
	for u in http://example.com/open/refreshToken ftp://127.0.0.1/x \
		https://user:pw@passportapi.115.com/open/refreshToken \
		"https:///open/refreshToken" not-a-url; do
		printf "[badurl]\nprovider = 115\nurl = https://proapi.115.com\ntoken_url = %s\n" "$u" \
			>"$TRASH/badurl.conf" &&
		{ TOKENRING_CONFIG=$TRASH/badurl.conf tokenring login badurl <input \
			>out 2>err; test $? = 1; } &&
		grep "token_url" err || { echo "accepted $u"; return 1; }
	done &&
	p115_post grant >/dev/null <<-\EOF &&
	{"user": "local", "refresh_token": "RTCANARY-local-0", "access_token": "ATCANARY-local-0"}
	EOF
	printf "[local]\nprovider = 115\nurl = %s\ntoken_url = http://localhost:%s/open/refreshToken\n" \
		"$P115_URL" "$(cat "$TRASH/p115.port")" >>"$XDG_CONFIG_HOME/tokenring/config" &&
	printf "refresh_token=RTCANARY-local-0\n" | tokenring login local &&
	p115_active local access_token >expect &&
	tokenring token local >actual &&
	test_cmp expect actual
'

test_expect_success 'login input: usage errors, and a refused token stores nothing' '
	p115_account fresh &&
	printf "access_token=ATCANARY-x\n" >input &&
	{ tokenring login fresh <input 2>err; test $? = 2; } &&
	grep "login needs .refresh_token." err &&
	printf "refresh_token=RTCANARY-x\naccess_token=ATCANARY-x\nexpires_in=36x\n" >input &&
	{ tokenring login fresh <input 2>err; test $? = 2; } &&
	grep "expires_in wants seconds" err &&
	printf "refresh_token=RTCANARY-x\nexpires_in=60\n" >input &&
	{ tokenring login fresh <input 2>err; test $? = 2; } &&
	grep "expires_in goes with access_token" err &&
	p115_post reset_counters </dev/null >/dev/null &&
	printf "refresh_token=rt0123456789012345678901234567890123456789\n" >input &&
	{ tokenring login fresh <input 2>err; test $? = 3; } &&
	grep "signature check (115 code 40140115" err &&
	printf "refresh_token=RTCANARY-unknown\n" >input &&
	{ tokenring login fresh <input 2>err; test $? = 3; } &&
	grep "malformed (115 code 40140114" err &&
	test "$(p115_counter refresh)" = 2 &&
	tokenring status fresh >status &&
	grep "^state: *not logged in" status
'

test_expect_success 'the probe refuses expired and malformed tokens' '
	tokenring token given2 --format header >header &&
	probe <header >answer &&
	grep "^{\"state\":true," answer &&
	p115_post expire </dev/null >/dev/null &&
	probe <header >answer &&
	grep "^{\"state\":false,\"code\":40140125," answer &&
	echo "Authorization: Bearer not-a-token" | probe >answer &&
	grep "^{\"state\":false,\"code\":40140123," answer
'

test_expect_success 'no token in status, traces or logs' '
	TOKENRING_TRACE=$TRASH/trace.log TOKENRING_TRACE_HTTP=1 \
	TOKENRING_TRACE_PROVIDER=1 TOKENRING_TRACE_KEYRING=1 \
		tokenring refresh --force conc >/dev/null 2>trace.err &&
	grep "115: refreshToken" trace.err &&
	grep "POST http://.*/open/refreshToken" trace.err &&
	grep "refresh_token=<redacted>" trace.err &&
	grep "locked account .conc." trace.log &&
	tokenring status >status.txt &&
	tokenring status --json >status.json &&
	keyring_public >public &&
	p115_control tokens | python3 -c "
import json, sys
t = json.load(sys.stdin)
for r in t[\"refresh_tokens\"] + t[\"access_tokens\"]:
    print(r[\"token\"])
" >all-tokens &&
	test $(wc -l <all-tokens) -gt 20 &&
	while read -r t; do
		test_no_leak "$t" trace.log trace.err status.txt status.json \
			public p115.log p115.err || return 1
	done <all-tokens &&
	test_no_leak CANARY trace.log trace.err status.txt status.json public \
		p115.log p115.err "$XDG_CONFIG_HOME/tokenring/config"
'

# ---- the device-code login (PROVIDERS.md 2.2) -----------------------

# The verifier and challenge of the newest device login, from the
# emulator's request log, checked as a PKCE pair; the verifier goes to
# the file "verifier" (for the leak checks).
pkce_pair () {
	p115_control requests >requests &&
	p115_control devices >devices &&
	python3 <<-\PY
	import base64, hashlib, json, re, urllib.parse
	reqs = json.load(open("requests"))
	dev = json.load(open("devices"))[-1]
	def form(r):
	    assert r["method"] == "POST", r
	    assert r["content_type"] == "application/x-www-form-urlencoded", r
	    return {k: v[-1] for k, v in urllib.parse.parse_qs(r["body"]).items()}
	code = [form(r) for r in reqs if r["path"] == "/open/authDeviceCode"][-1]
	tok = [form(r) for r in reqs if r["path"] == "/open/deviceCodeToToken"][-1]
	assert sorted(code) == ["client_id", "code_challenge", "code_challenge_method"], code
	assert code["client_id"] == "100195123", code
	assert code["code_challenge_method"] == "sha256", code
	assert sorted(tok) == ["code_verifier", "uid"], sorted(tok)
	assert tok["uid"] == dev["uid"], "not the uid of the device code"
	v = tok["code_verifier"]
	assert re.fullmatch(r"[A-Za-z0-9._~-]{43,128}", v), len(v)
	want = base64.b64encode(hashlib.sha256(v.encode()).digest()).decode()
	assert code["code_challenge"] == want, "challenge is not base64(sha256(verifier))"
	polls = [r for r in reqs if r["path"] == "/get/status/"]
	assert polls, "no status poll"
	for r in polls:
	    assert r["method"] == "GET" and r["body"] == "", r
	    q = {k: v[-1] for k, v in urllib.parse.parse_qs(r["query"]).items()}
	    assert q == {"uid": dev["uid"], "time": str(dev["time"]),
	                 "sign": dev["sign"]}, q
	open("verifier", "w").write(v + "\n")
	PY
}

# Start "tokenring login NAME" with client_id=100195123 in the background;
# its exit status lands in NAME.rc, its output in NAME.out and NAME.err.
device_login_bg () {
	rm -f "$1.rc" &&
	{
		printf "client_id=100195123\n" |
		timeout 120 tokenring login "$1" >"$1.out" 2>"$1.err"
		echo $? >"$1.rc"
	} &
}

wait_rc () {
	i=0
	while [ ! -s "$1.rc" ]; do
		i=$((i + 1))
		[ $i -lt 600 ] || return 1
		sleep 0.1
	done
}

grant_count () {
	p115_control tokens |
	python3 -c "import json, sys; print(len(json.load(sys.stdin)['grants']))"
}

test_expect_success 'device login: the QR line, one confirmation, the minted tokens' '
	p115_post app >/dev/null <<-\EOF &&
	{"client_id": "100195123", "user": "dev"}
	EOF
	p115_account pan2 &&
	p115_config auto_confirm_after_polls 3 &&
	test_when_finished "p115_config auto_confirm_after_polls 0" &&
	p115_post reset_counters </dev/null >/dev/null &&
	printf "client_id=100195123\n" |
	timeout 120 tokenring login pan2 >out 2>err &&
	grep "^logged in .pan2.: token valid until" out &&
	grep "^Scan this QR code with the 115 app (or open it): https://115.com/scan/dg-[0-9a-f]\{32\}$" err &&
	grep "^waiting for confirmation" err &&
	test "$(grep -c "^scanned; confirm in the app$" err)" = 1 &&
	test "$(p115_counter device_codes)" = 1 &&
	test "$(p115_counter status_polls)" = 4 &&
	test "$(p115_counter device_tokens)" = 1 &&
	test "$(p115_counter refresh)" = 0 &&
	p115_active dev access_token >expect &&
	tokenring token pan2 >actual &&
	test_cmp expect actual &&
	p115_active dev refresh_token >expect &&
	stored pan2 refresh_token >actual &&
	test_cmp expect actual &&
	cp err device.err
'

test_expect_success 'device login: a PKCE pair, the status polls carry uid, time, sign' '
	pkce_pair &&
	test $(wc -c <verifier) = 65
'

test_expect_success 'device login: Bearer, 7200 s, the grant ends in a year' '
	tokenring token pan2 --format json >json &&
	tokenring status pan2 --json >status.json &&
	python3 <<-\PY &&
	import json, time
	j = json.load(open("json"))
	assert j["token_type"] == "Bearer" and j["provider"] == "115", j
	assert 7200 - 60 < j["expires_at"] - time.time() <= 7200 + 5, j
	s = json.load(open("status.json"))[0]
	left = s["refresh_expires_at"] - time.time()
	assert 365 * 86400 - 120 < left <= 365 * 86400 + 5, s
	PY
	tokenring status pan2 >status &&
	grep "^refresh until: .*(in 36[45]d" status &&
	tokenring token pan2 --format header | probe >answer &&
	grep "\"user_name\":\"dev\"" answer
'

test_expect_success 'device login: the tokens refresh like imported ones' '
	p115_active dev refresh_token >old.rt &&
	tokenring refresh --force pan2 >out &&
	grep "^refreshed" out &&
	p115_active dev refresh_token >new.rt &&
	! cmp -s old.rt new.rt &&
	stored pan2 refresh_token >actual &&
	test_cmp new.rt actual
'

test_expect_success 'the QR code expires: exit 1, nothing stored' '
	p115_account pan3 &&
	p115_post reset_counters </dev/null >/dev/null &&
	grant_count >grants.before &&
	device_login_bg pan3 &&
	p115_wait_counter status_polls 1 &&
	uid=$(p115_newest_uid) &&
	printf "{\"uid\": \"%s\", \"status\": \"expired\"}\n" "$uid" |
	p115_post device >/dev/null &&
	wait_rc pan3 &&
	test "$(cat pan3.rc)" = 1 &&
	test_must_be_empty pan3.out &&
	grep "^Scan this QR code" pan3.err &&
	grep "the QR code expired (115 says: qrcode expired); run .tokenring login pan3. again" pan3.err &&
	test "$(p115_counter device_tokens)" = 0 &&
	grant_count >grants.after &&
	test_cmp grants.before grants.after &&
	tokenring status pan3 >status &&
	grep "^state: *not logged in" status
'

test_expect_success 'cancelled in the app: exit 1, nothing stored' '
	p115_account pan7 &&
	p115_post reset_counters </dev/null >/dev/null &&
	device_login_bg pan7 &&
	p115_wait_counter device_codes 1 &&
	uid=$(p115_newest_uid) &&
	printf "{\"uid\": \"%s\", \"status\": \"cancelled\"}\n" "$uid" |
	p115_post device >/dev/null &&
	wait_rc pan7 &&
	test "$(cat pan7.rc)" = 1 &&
	grep "the login was cancelled in the 115 app; run .tokenring login pan7. again" pan7.err &&
	test "$(p115_counter device_tokens)" = 0 &&
	tokenring status pan7 >status &&
	grep "^state: *not logged in" status
'

test_expect_success 'confirmed from outside after a scan: one scanned line, logged in' '
	p115_account pan5 &&
	p115_post reset_counters </dev/null >/dev/null &&
	device_login_bg pan5 &&
	p115_wait_counter status_polls 1 &&
	uid=$(p115_newest_uid) &&
	printf "{\"uid\": \"%s\", \"status\": \"scanned\"}\n" "$uid" |
	p115_post device >/dev/null &&
	p115_wait_counter status_polls 3 &&
	printf "{\"uid\": \"%s\", \"status\": \"confirmed\", \"user\": \"dev5\"}\n" "$uid" |
	p115_post device >/dev/null &&
	wait_rc pan5 &&
	test "$(cat pan5.rc)" = 0 &&
	test "$(grep -c "^scanned; confirm in the app$" pan5.err)" = 1 &&
	p115_active dev5 access_token >expect &&
	tokenring token pan5 >actual &&
	test_cmp expect actual
'

test_expect_success 'failed status polls are polled again; three quick ones: exit 5' '
	p115_account pan8 &&
	p115_config auto_confirm_after_polls 1 &&
	test_when_finished "p115_config auto_confirm_after_polls 0" &&
	p115_config status_fail_next "[503, {\"status\": 502, \"body\": \"\"}]" &&
	p115_post reset_counters </dev/null >/dev/null &&
	printf "client_id=100195123\n" |
	timeout 120 tokenring login pan8 >out 2>err &&
	grep "^logged in .pan8." out &&
	test "$(p115_counter status_polls)" = 4 &&
	test "$(p115_counter device_tokens)" = 1 &&
	p115_account pan9 &&
	p115_config status_fail_next "[503, 503, 503]" &&
	p115_post reset_counters </dev/null >/dev/null &&
	grant_count >grants.before &&
	{ printf "client_id=100195123\n" |
	  timeout 120 tokenring login pan9 >out 2>err; test $? = 5; } &&
	grep "status poll: HTTP 503" err &&
	test "$(p115_counter status_polls)" = 3 &&
	test "$(p115_counter device_tokens)" = 0 &&
	grant_count >grants.after &&
	test_cmp grants.before grants.after &&
	tokenring status pan9 >status &&
	grep "^state: *not logged in" status
'

test_expect_success 'nobody confirms within login_timeout: exit 1, nothing stored' '
	p115_account pan4 login_timeout=10 &&
	p115_post reset_counters </dev/null >/dev/null &&
	grant_count >grants.before &&
	{ printf "client_id=100195123\n" |
	  timeout 120 tokenring login pan4 >out 2>err; test $? = 1; } &&
	test_must_be_empty out &&
	grep "^Scan this QR code" err &&
	grep "no confirmation in the 115 app within 10 s (login_timeout); run .tokenring login pan4. again" err &&
	test "$(p115_counter device_codes)" = 1 &&
	test "$(p115_counter status_polls)" -ge 2 &&
	test "$(p115_counter device_tokens)" = 0 &&
	grant_count >grants.after &&
	test_cmp grants.before grants.after &&
	tokenring status pan4 >status &&
	grep "^state: *not logged in" status
'

test_expect_success 'an unknown or disabled client_id: exit 1, no status poll' '
	p115_post reset_counters </dev/null >/dev/null &&
	{ printf "client_id=999\n" | tokenring login pan4 >out 2>err; test $? = 1; } &&
	grep "bad client_id: 115 does not accept this AppID for a QR code login (115 code 40140106" err &&
	! grep "^Scan this QR code" err &&
	p115_post app >/dev/null <<-\EOF &&
	{"client_id": "100200300", "disabled": true}
	EOF
	{ printf "client_id=100200300\n" | tokenring login pan4 >out 2>err; test $? = 1; } &&
	grep "bad client_id.*(115 code 40140107" err &&
	test "$(p115_counter device_codes)" = 2 &&
	test "$(p115_counter status_polls)" = 0 &&
	{ printf "client_id=100 195\n" | tokenring login pan4 >out 2>err; test $? = 2; } &&
	grep "client_id wants the AppID of a 115 app" err &&
	test "$(p115_counter device_codes)" = 2 &&
	tokenring status pan4 >status &&
	grep "^state: *not logged in" status
'

test_expect_success 'the emulator checks the pair: a wrong verifier gets 40140113' '
	python3 - "$P115_URL" <<-\PY
	import base64, hashlib, json, sys, urllib.parse, urllib.request
	base = sys.argv[1]
	def call(path, fields=None, control=None):
	    if control is not None:
	        req = urllib.request.Request(base + "/_control/" + path,
	            data=json.dumps(control).encode(),
	            headers={"Content-Type": "application/json"})
	    elif fields is None:
	        req = urllib.request.Request(base + path)
	    else:
	        req = urllib.request.Request(base + path,
	            data=urllib.parse.urlencode(fields).encode(),
	            headers={"Content-Type": "application/x-www-form-urlencoded"})
	    return json.load(urllib.request.urlopen(req))
	v = "V" * 43
	ch = base64.b64encode(hashlib.sha256(v.encode()).digest()).decode()
	bad = call("/open/authDeviceCode", {"client_id": "100195123",
	    "code_challenge": ch[:-4], "code_challenge_method": "sha256"})
	assert bad["code"] == 40140112, bad
	bad = call("/open/authDeviceCode", {"client_id": "100195123",
	    "code_challenge": ch, "code_challenge_method": "plain"})
	assert bad["code"] == 40140112, bad
	d = call("/open/authDeviceCode", {"client_id": "100195123",
	    "code_challenge": ch, "code_challenge_method": "sha256"})["data"]
	early = call("/open/deviceCodeToToken", {"uid": d["uid"], "code_verifier": v})
	assert early["code"] == 40140110, early
	call("device", control={"uid": d["uid"], "status": "confirmed"})
	q = urllib.parse.urlencode({"uid": d["uid"], "time": d["time"], "sign": d["sign"]})
	st = call("/get/status/?" + q)
	assert st["state"] == 1 and st["data"]["status"] == 2, st
	short = call("/open/deviceCodeToToken", {"uid": d["uid"], "code_verifier": "V" * 42})
	assert short["code"] == 40140112, short
	wrong = call("/open/deviceCodeToToken", {"uid": d["uid"], "code_verifier": "W" * 43})
	assert wrong["code"] == 40140113, wrong
	ok = call("/open/deviceCodeToToken", {"uid": d["uid"], "code_verifier": v})
	assert ok["state"] == 1 and ok["data"]["refresh_token"], "no tokens"
	again = call("/open/deviceCodeToToken", {"uid": d["uid"], "code_verifier": v})
	assert again["code"] == 40140111, again
	st = call("/get/status/?" + q)
	assert st["state"] == 0, st
	PY
'

test_expect_success 'passport_url, qrcode_url and login_timeout are checked' '
	printf "client_id=100195123\n" >input &&
	for kv in passport_url=http://example.com qrcode_url=ftp://127.0.0.1/x \
		passport_url=https://user:pw@passportapi.115.com \
		qrcode_url=not-a-url login_timeout=9 login_timeout=1801 \
		login_timeout=60s; do
		printf "[badkey]\nprovider = 115\nurl = https://proapi.115.com\n%s\n" "$kv" \
			>"$TRASH/badkey.conf" &&
		{ TOKENRING_CONFIG=$TRASH/badkey.conf tokenring login badkey <input \
			>out 2>err; test $? = 1; } &&
		grep "bad value for .${kv%%=*}." err || { echo "accepted $kv"; return 1; }
	done
'

test_expect_success 'the code_verifier never shows: stderr, HTTP trace, emulator log' '
	p115_account pan6 &&
	p115_config auto_confirm_after_polls 1 &&
	test_when_finished "p115_config auto_confirm_after_polls 0" &&
	p115_post reset_counters </dev/null >/dev/null &&
	printf "client_id=100195123\n" |
	TOKENRING_TRACE=$TRASH/trace6.log TOKENRING_TRACE_HTTP=1 \
	TOKENRING_TRACE_PROVIDER=1 \
		timeout 120 tokenring login pan6 >out6 2>err6 &&
	grep "115: authDeviceCode" err6 &&
	grep "115: status poll 2: confirmed" err6 &&
	grep "115: deviceCodeToToken" err6 &&
	grep "POST http://.*/open/deviceCodeToToken" err6 &&
	grep "code_verifier=<redacted>" err6 &&
	cp verifier verifier.first &&
	pkce_pair &&
	! cmp -s verifier verifier.first &&
	for v in $(cat verifier verifier.first); do
		test_no_leak "$v" out6 err6 trace6.log device.err pan3.err \
			pan5.err pan7.err p115.log p115.err || return 1
	done &&
	p115_active dev refresh_token >rt &&
	test_no_leak "$(cat rt)" err6 trace6.log p115.log p115.err
'

test_done
