#!/bin/sh
test_description='the refresh engine: single flight, crash safety, laziness, git accounts'
. "${TOKENRING_SOURCE_DIR:-$(dirname "$0")/..}/tests/test-lib.sh"
. "$TEST_DIRECTORY/lib-ekuaibao.sh"
. "$TEST_DIRECTORY/lib-protocol.sh"

start_keyring || test_skip_all "cannot start a private keyring"
start_ekuaibao || test_skip_all "cannot start the Ekuaibao emulator"

live_access () {
	ekb_control tokens | python3 -c '
import json, sys
print([t for t in json.load(sys.stdin) if t["state"] == "live"][-1]["accessToken"])'
}

# Log account $1 in with a token that has only a few minutes left (the
# emulator's licence cap), so that a "get" asking for 10 minutes refreshes
# once and the refreshed token (32 days) satisfies everybody after.
short_login () {
	now_ms=$(python3 -c "import time; print(int(time.time() * 1000))") &&
	ekb_config licence_expiry_ms $((now_ms + 300000)) &&
	printf "app_key=AK-engine\napp_security=SECCANARY-engine\n" |
	tokenring login "$1" >/dev/null &&
	ekb_config licence_expiry_ms null
}

test_expect_success 'setup' '
	ekb_post app <<-\EOF &&
	{"appKey": "AK-engine", "appSecurity": "SECCANARY-engine"}
	EOF
	ekb_account conc min_valid=600 &&
	short_login conc
'

test_expect_success '20 parallel callers: one refresh, one token for all' '
	ekb_config refresh_delay_ms 1000 &&
	test_when_finished "ekb_config refresh_delay_ms 0" &&
	ekb_post reset_counters </dev/null &&
	for i in $(seq 1 20); do
		tokenring token conc >out.$i 2>err.$i &
	done &&
	wait &&
	test "$(ekb_counter refreshToken)" = 1 &&
	test "$(ekb_counter reuse_rejected)" = 0 &&
	live_access >expect &&
	for i in $(seq 1 20); do
		test_cmp expect out.$i || return 1
	done
'

test_expect_success 'git, and the CLI, share the lock: mixed callers' '
	short_login conc &&
	ekb_post reset_counters </dev/null &&
	port=$(cat "$TRASH/ekb.port") &&
	printf "protocol=http\nhost=127.0.0.1:%s\n" "$port" >request &&
	ekb_config refresh_delay_ms 500 &&
	test_when_finished "ekb_config refresh_delay_ms 0" &&
	for i in $(seq 1 5); do
		tokenring token conc >cli.$i &
		git-credential-tokenring get <request >git.$i &
	done &&
	wait &&
	test "$(ekb_counter refreshToken)" = 1 &&
	live_access >expect &&
	for i in $(seq 1 5); do
		test_cmp expect cli.$i &&
		sed -n "s/^password=//p" git.$i >pw &&
		test_cmp expect pw || return 1
	done
'

test_expect_success 'a caller killed while holding the lock does not wedge the next' '
	short_login conc &&
	ekb_config refresh_delay_ms 4000 &&
	ekb_post reset_counters </dev/null &&
	{ tokenring token conc >killed.out 2>&1 & } &&
	victim=$! &&
	i=0 &&
	while [ "$(ekb_counter refreshToken)" = 0 ]; do
		i=$((i + 1)) && [ $i -lt 100 ] && sleep 0.05 || return 1
	done &&
	kill -9 $victim &&
	ekb_config refresh_delay_ms 0 &&
	TOKENRING_LOCK_TIMEOUT=30 timeout 20 tokenring token conc >after &&
	live_access >expect &&
	test_cmp expect after &&
	test_must_be_empty killed.out
'

test_expect_success 'SIGTERM during a refresh waits until the new pair is stored' '
	short_login conc &&
	ekb_config refresh_delay_ms 2000 &&
	ekb_post reset_counters </dev/null &&
	{ tokenring token conc >sig.out 2>sig.err & } &&
	victim=$! &&
	i=0 &&
	while [ "$(ekb_counter refreshToken)" = 0 ]; do
		i=$((i + 1)) && [ $i -lt 100 ] && sleep 0.05 || return 1
	done &&
	kill -TERM $victim &&
	{ wait $victim; test $? = 143; } &&
	ekb_config refresh_delay_ms 0 &&
	test_must_be_empty sig.out &&
	tokenring token conc >after &&
	test "$(ekb_counter refreshToken)" = 1 &&
	live_access >expect &&
	test_cmp expect after
'

test_expect_success 'a cache hit loads neither libcurl nor a provider module' '
	tokenring token conc >/dev/null &&
	LD_DEBUG=files tokenring token conc 2>ld.log >/dev/null &&
	grep -q "calling init" ld.log &&
	! grep -E "libcurl|tokenring-http|ekuaibao\.so" ld.log &&
	printf "protocol=http\nhost=127.0.0.1:%s\n" "$(cat "$TRASH/ekb.port")" >request &&
	LD_DEBUG=files git-credential-tokenring get <request 2>ld.log >out &&
	grep "^password=" out &&
	! grep -E "libcurl|tokenring-http|ekuaibao\.so" ld.log
'

test_expect_success 'a refresh does load them (the check above can fail)' '
	LD_DEBUG=files tokenring token conc --min-valid 31536000 2>ld.log >/dev/null &&
	grep -E "libcurl" ld.log &&
	grep -E "ekuaibao\.so" ld.log
'

test_expect_success 'no program links libcurl' '
	for p in tokenring git-credential-tokenring; do
		readelf -d "$BUILD_DIR/.libs/$p" 2>/dev/null >dyn ||
		readelf -d "$BUILD_DIR/$p" >dyn || return 1
		grep NEEDED dyn && ! grep libcurl dyn || return 1
	done
'

test_expect_success 'git get for an account: exactly username, password, expiry' '
	tokenring token conc >token &&
	printf "protocol=http\nhost=127.0.0.1:%s\n" "$(cat "$TRASH/ekb.port")" >request &&
	git-credential-tokenring get <request >out 2>err &&
	test_must_be_empty err &&
	test_line_count = 3 out &&
	grep "^username=conc$" out &&
	echo "password=$(cat token)" >expect && grep -F -x -f expect out &&
	grep "^password_expiry_utc=[0-9]*$" out &&
	! grep -i refresh out
'

test_expect_success 'git store of the token is a no-op; a stranger'"'"'s too' '
	cp out store-request &&
	sed -i "1i protocol=http\nhost=127.0.0.1:$(cat "$TRASH/ekb.port")" store-request &&
	git-credential-tokenring store <store-request &&
	printf "protocol=http\nhost=127.0.0.1:%s\nusername=conc\npassword=PWCANARY-other\n" \
		"$(cat "$TRASH/ekb.port")" | git-credential-tokenring store &&
	keyring_public >public &&
	! grep "^schema = org.git.Password" public &&
	git-credential-tokenring get <request >again &&
	test_cmp out again
'

test_expect_success 'git erase of another password changes nothing' '
	ekb_post reset_counters </dev/null &&
	printf "protocol=http\nhost=127.0.0.1:%s\nusername=conc\npassword=stale\n" \
		"$(cat "$TRASH/ekb.port")" | git-credential-tokenring erase &&
	git-credential-tokenring get <request >again &&
	test_cmp out again &&
	test "$(ekb_counter requests)" = 0
'

test_expect_success 'git erase of the token: the next get refreshes, the record stays' '
	sed -n "s/^password=//p" out >token &&
	printf "protocol=http\nhost=127.0.0.1:%s\nusername=conc\npassword=%s\n" \
		"$(cat "$TRASH/ekb.port")" "$(cat token)" | git-credential-tokenring erase &&
	tokenring status conc >status &&
	grep "^state: *rejected" status &&
	git-credential-tokenring get <request >new &&
	test "$(ekb_counter refreshToken)" = 1 &&
	! test_cmp out new &&
	live_access >expect &&
	sed -n "s/^password=//p" new >pw &&
	test_cmp expect pw
'

test_expect_success 'a missing provider module fails its account, nothing else' '
	printf "[nosuch]\nprovider = nosuch\nurl = https://nosuch.test\n" \
		>>"$XDG_CONFIG_HOME/tokenring/config" &&
	printf "x=1\n" >input &&
	{ tokenring login nosuch <input 2>err; test $? = 1; } &&
	grep "provider .nosuch. is not installed" err
'

test_expect_success 'a module with the wrong ABI is refused' '
	mkdir -p badmods/providers &&
	cat >bad.c <<-\EOF &&
	struct vt { unsigned abi; const char *name; } const tkr_provider_v1 = { 99, "badabi" };
	EOF
	cc -shared -fPIC -o badmods/providers/badabi.so bad.c &&
	printf "[badabi]\nprovider = badabi\nurl = https://bad.test\n" >>"$XDG_CONFIG_HOME/tokenring/config" &&
	{ TOKENRING_PROVIDER_PATH=$TRASH/badmods:$TOKENRING_PROVIDER_PATH \
		tokenring login badabi <input 2>err; test $? = 1; } &&
	grep "not a tokenring provider of ABI 1" err
'

test_expect_success 'an unsafe runtime directory is refused' '
	mkdir -m 777 openrun &&
	{ XDG_RUNTIME_DIR=$TRASH/openrun tokenring token conc --min-valid 31536000 \
		>out 2>err; test $? = 1; } &&
	test_must_be_empty out &&
	grep "refusing" err &&
	mkdir -m 700 linkrun linkrun/tokenring &&
	ln -s "$TRASH/target" linkrun/tokenring/conc.lock &&
	{ XDG_RUNTIME_DIR=$TRASH/linkrun tokenring token conc --min-valid 31536000 \
		>out 2>err; test $? = 1; } &&
	grep "refusing lock file" err &&
	! test -e target
'

test_expect_success 'without XDG_RUNTIME_DIR: a private fallback, with a warning' '
	(unset XDG_RUNTIME_DIR && tokenring token conc --min-valid 31536000 >out 2>err) &&
	grep "XDG_RUNTIME_DIR is not set" err &&
	test "$(stat -c %a /tmp/tokenring-$(id -u))" = 700
'

test_done
