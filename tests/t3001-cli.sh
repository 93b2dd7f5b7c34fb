#!/bin/sh
test_description='the tokenring command line: usage, config writing, formats, exit codes'
. "${TOKENRING_SOURCE_DIR:-$(dirname "$0")/..}/tests/test-lib.sh"
. "$TEST_DIRECTORY/lib-ekuaibao.sh"

start_keyring || test_skip_all "cannot start a private keyring"
start_ekuaibao || test_skip_all "cannot start the Ekuaibao emulator"

exit_code () {
	"$@" >stdout 2>stderr
	echo $? >status
}

test_expect_success '--help, --version, help COMMAND' '
	tokenring --help >out &&
	grep "^  token " out && grep "^  login " out && grep "Exit codes" out &&
	tokenring --version >out &&
	grep "^tokenring [0-9]" out &&
	tokenring help token >out &&
	grep -e "--min-valid" out && grep -e "--format" out
'

test_expect_success 'usage errors exit 2' '
	exit_code tokenring && test "$(cat status)" = 2 &&
	exit_code tokenring frobnicate && test "$(cat status)" = 2 &&
	grep "not a command" stderr &&
	exit_code tokenring token && test "$(cat status)" = 2 &&
	exit_code tokenring token a b && test "$(cat status)" = 2 &&
	exit_code tokenring token x --format && test "$(cat status)" = 2 &&
	exit_code tokenring token x --min-valid -5 && test "$(cat status)" = 2 &&
	exit_code tokenring login x --provider ekuaibao && test "$(cat status)" = 2
'

test_expect_success 'no option takes a secret' '
	for c in token login status refresh logout list providers; do
		tokenring help $c >>help.txt 2>&1 || return 1
	done &&
	! grep -i -E -- "--[a-z-]*(secret|password|token|security|code)" help.txt
'

test_expect_success 'an unknown account is a configuration error (exit 1)' '
	exit_code tokenring token nobody &&
	test "$(cat status)" = 1 &&
	grep "no account .nobody." stderr &&
	test_must_be_empty stdout
'

test_expect_success 'login --provider --url --set writes the account group' '
	echo "{\"appKey\": \"AK-cli\", \"appSecurity\": \"SECCANARY-cli\"}" | ekb_post app &&
	printf "app_key=AK-cli\napp_security=SECCANARY-cli\n" |
	tokenring login ekb --provider ekuaibao --url "$EKB_URL" \
		--set power_code=219904 --set min_valid=120 >out &&
	grep "^logged in .ekb." out &&
	cfg="$XDG_CONFIG_HOME/tokenring/config" &&
	grep "^\[ekb\]$" "$cfg" && grep "^provider=ekuaibao$" "$cfg" &&
	grep "^power_code=219904$" "$cfg" && grep "^min_valid=120$" "$cfg" &&
	! grep SECCANARY "$cfg" &&
	tokenring list >list &&
	grep "^ekb	ekuaibao	$EKB_URL$" list
'

test_expect_success '--set refuses keys that look like secrets' '
	exit_code tokenring login other --provider ekuaibao --url "$EKB_URL" \
		--set app_security=SECCANARY-argv &&
	test "$(cat status)" = 2 &&
	grep "looks like a secret" stderr &&
	! grep SECCANARY-argv "$XDG_CONFIG_HOME/tokenring/config"
'

test_expect_success 'plain http to a non-loopback host is refused' '
	exit_code tokenring login evil --provider ekuaibao --url http://example.com &&
	test "$(cat status)" = 1 &&
	grep "https is required" stderr
'

test_expect_success 'login input: CRLF handled, a NUL or a line without = refused' '
	printf "app_key=AK-cli\r\napp_security=SECCANARY-cli\r\n" |
	tokenring login ekb >out &&
	printf "app_key=AK-cli\napp_security=SEC\0CANARY\n" >nul &&
	exit_code tokenring login ekb <nul &&
	test "$(cat status)" = 2 &&
	printf "app_key AK-cli\n" >noeq &&
	exit_code tokenring login ekb <noeq &&
	test "$(cat status)" = 2
'

test_expect_success 'formats: plain, json, env; header refused for query-token APIs' '
	tokenring token ekb >plain &&
	test_line_count = 1 plain &&
	tokenring token ekb --format json >json &&
	python3 -c "
import json, time
j = json.load(open(\"json\"))
assert set(j) == {\"access_token\", \"expires_at\", \"expires_in\", \"token_type\", \"account\", \"provider\"}, j
assert j[\"access_token\"] == open(\"plain\").read().strip()
assert abs(j[\"expires_at\"] - time.time() - j[\"expires_in\"]) < 5
" &&
	tokenring token ekb --format env >env &&
	(. ./env && test "$TOKENRING_TOKEN" = "$(cat plain)" &&
	 test "$TOKENRING_EXPIRES_AT" -gt 0) &&
	exit_code tokenring token ekb --format header &&
	test "$(cat status)" = 2 &&
	grep "Authorization header" stderr &&
	test_must_be_empty stdout &&
	exit_code tokenring token ekb --format yaml &&
	test "$(cat status)" = 2
'

test_expect_success 'status: a table, one account in detail, valid JSON, no secrets' '
	tokenring status >table &&
	head -n 1 table | grep "^ACCOUNT" &&
	grep "^ekb  *ekuaibao  *ok " table &&
	tokenring status ekb >detail &&
	grep "^token expires: .*(in " detail &&
	grep "^last refresh:" detail &&
	tokenring status --json >json &&
	python3 -c "
import json
a = json.load(open(\"json\"))
assert a[0][\"account\"] == \"ekb\" and a[0][\"logged_in\"] is True
assert a[0][\"state\"] == \"ok\"
" &&
	test_no_leak "$(cat plain)" table detail json &&
	test_no_leak SECCANARY table detail json
'

test_expect_success 'logout removes the record; token then says login (exit 3)' '
	tokenring logout ekb >out &&
	grep "logged out of .ekb." out &&
	exit_code tokenring token ekb &&
	test "$(cat status)" = 3 &&
	grep "run .tokenring login ekb." stderr &&
	tokenring logout ekb >out &&
	grep "was not logged in" out
'

test_expect_success 'a locked keyring: exit 4, and login does not overwrite' '
	printf "app_key=AK-cli\napp_security=SECCANARY-cli\n" | tokenring login ekb &&
	lock_keyring &&
	exit_code tokenring token ekb &&
	test "$(cat status)" = 4 && grep "locked" stderr &&
	printf "app_key=AK-cli\napp_security=SECCANARY-cli\n" >creds &&
	exit_code tokenring login ekb <creds &&
	test "$(cat status)" = 4 &&
	exit_code tokenring status &&
	test "$(cat status)" = 4 &&
	grep "^ekb  *ekuaibao  *locked" stdout
'

test_expect_success 'providers lists the ekuaibao module and its login fields' '
	tokenring providers >out &&
	grep "^ekuaibao " out &&
	grep "login field app_security (secret)" out
'

test_done
