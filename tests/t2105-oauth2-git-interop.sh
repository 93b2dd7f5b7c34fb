#!/bin/sh
test_description='plain git credentials with oauth_refresh_token, refreshed by an oauth2 account'
. "${TOKENRING_SOURCE_DIR:-$(dirname "$0")/..}/tests/test-lib.sh"
. "$TEST_DIRECTORY/lib-protocol.sh"
. "$TEST_DIRECTORY/lib-oauth2.sh"

# DESIGN.md section 6, PROTOCOLS.md section 4 #40: an oauth2 account that
# is not logged in is the recipe (token url, client) for refreshing the
# plain credentials of its host that carry an oauth_refresh_token, as
# git-credential-oauth would store them through git >= 2.41.
start_keyring || test_skip_all "cannot start a private keyring"
start_oauth2 || test_skip_all "cannot start the OAuth 2.0 emulator"
host=127.0.0.1:$(cat oa.port)
echo "$host" >host

test_expect_success 'setup: a public client, a grant, and the recipe account' '
	oa_post client <<-\EOF &&
	{"client_id": "git-app"}
	EOF
	oa_post grant >grant <<-\EOF &&
	{"client_id": "git-app", "refresh_token": "RTCANARY-first",
	 "access_token": "ATCANARY-first"}
	EOF
	mkdir -p "$XDG_CONFIG_HOME/tokenring" &&
	printf "[forge]\nprovider = oauth2\nurl = %s\ntoken_url = %s/token\nclient_id = git-app\n" \
		"$OA_URL" "$OA_URL" >"$XDG_CONFIG_HOME/tokenring/config"
'

test_expect_success 'an expired stored credential comes back from get refreshed' '
	printf "protocol=http\nhost=%s\nusername=oauth2\npassword=ATCANARY-first\npassword_expiry_utc=1000000000\noauth_refresh_token=RTCANARY-first\n" \
		"$(cat host)" | git-credential-tokenring store &&
	oa_post reset_counters </dev/null &&
	printf "protocol=http\nhost=%s\n" "$(cat host)" >request &&
	git-credential-tokenring get <request >out 2>err &&
	test_must_be_empty err &&
	test "$(oa_counter refreshes)" = 1 &&
	grep "^username=oauth2$" out &&
	! grep -e "ATCANARY-first" -e "RTCANARY-first" out &&
	sed -n "s/^password=//p" out >at &&
	test -s at &&
	test "$(oa_probe <at)" = 200 &&
	sed -n "s/^password_expiry_utc=//p" out >exp &&
	test "$(cat exp)" -gt "$(date +%s)" &&
	sed -n "s/^oauth_refresh_token=//p" out >rt &&
	test -s rt
'

test_expect_success 'the rotated pair was stored: the next get asks nobody' '
	git-credential-tokenring get <request >again &&
	test_cmp out again &&
	test "$(oa_counter refreshes)" = 1 &&
	keyring_items >items &&
	grep -F "$(cat rt)" items &&
	! grep RTCANARY-first items
'

test_expect_success 'a rotated-out refresh token was never replayed' '
	test "$(oa_counter reuse_detected)" = 0 &&
	test "$(oa_grant_field active_rt "$(json_field grant <grant)")" = "$(cat rt)"
'

test_expect_success '20 parallel gets on an expired credential: one refresh' '
	oa_post expire <<-EOF &&
	{"access_token": "$(cat at)"}
	EOF
	rt=$(cat rt) &&
	printf "protocol=http\nhost=%s\nusername=oauth2\npassword=%s\npassword_expiry_utc=1000000001\noauth_refresh_token=%s\n" \
		"$(cat host)" "$(cat at)" "$rt" | git-credential-tokenring store &&
	oa_post reset_counters </dev/null &&
	for i in $(seq 1 20); do
		git-credential-tokenring get <request >par.$i &
	done &&
	wait &&
	test "$(oa_counter refreshes)" = 1 &&
	test "$(oa_counter reuse_detected)" = 0 &&
	for i in $(seq 2 20); do
		test_cmp par.1 par.$i || return 1
	done
'

test_expect_success 'git >= 2.41 hands over a refresh token: refreshed and kept' '
	printf "protocol=http\nhost=%s\n" "$(cat host)" |
	git-credential-tokenring erase &&
	sed -n "s/^oauth_refresh_token=//p" par.1 >rt &&
	printf "protocol=http\nhost=%s\nusername=oauth2\noauth_refresh_token=%s\n" \
		"$(cat host)" "$(cat rt)" >forwarded &&
	oa_post reset_counters </dev/null &&
	git-credential-tokenring get <forwarded >out &&
	test "$(oa_counter refreshes)" = 1 &&
	sed -n "s/^password=//p" out >at &&
	test "$(oa_probe <at)" = 200 &&
	git-credential-tokenring get <request >again &&
	test_cmp out again &&
	test "$(oa_counter refreshes)" = 1
'

test_expect_success 'a rejected refresh token: nothing printed, the item kept' '
	oa_post revoke <<-EOF &&
	{"grant": "$(json_field grant <grant)"}
	EOF
	oa_post expire <<-EOF &&
	{"access_token": "$(cat at)"}
	EOF
	sed -n "s/^oauth_refresh_token=//p" out >rt &&
	printf "protocol=http\nhost=%s\nusername=oauth2\npassword=%s\npassword_expiry_utc=1000000002\noauth_refresh_token=%s\n" \
		"$(cat host)" "$(cat at)" "$(cat rt)" | git-credential-tokenring store &&
	{ git-credential-tokenring get <request >out 2>err; test $? = 3; } &&
	test_must_be_empty out &&
	test_line_count = 1 err &&
	grep "invalid_grant" err &&
	keyring_items >items &&
	grep -F "$(cat rt)" items
'

test_expect_success 'once logged in, the account answers instead' '
	oa_post grant >grant2 <<-\EOF &&
	{"client_id": "git-app"}
	EOF
	json_field refresh_token <grant2 >rt2 &&
	printf "refresh_token=%s\n" "$(cat rt2)" | tokenring login forge &&
	git-credential-tokenring get <request >out &&
	tokenring token forge >token &&
	grep -F "password=$(cat token)" out &&
	! grep oauth_refresh_token out
'

test_done
