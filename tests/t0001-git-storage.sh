#!/bin/sh
test_description='git-credential-tokenring as a plain storage helper, fed directly'
. "${TOKENRING_SOURCE_DIR:-$(dirname "$0")/..}/tests/test-lib.sh"
. "$TEST_DIRECTORY/lib-protocol.sh"

start_keyring || test_skip_all "cannot start a private keyring"

test_expect_success 'a miss prints nothing at all' '
	check get <<-\EOF
	protocol=https
	host=example.com
	--
	--
	EOF
'

test_expect_success 'store then get round-trips' '
	check store <<-\EOF &&
	protocol=https
	host=example.com
	username=alice
	password=PWCANARY-alice
	--
	--
	EOF
	check get <<-\EOF
	protocol=https
	host=example.com
	--
	username=alice
	password=PWCANARY-alice
	--
	EOF
'

test_expect_success 'the stored item uses the org.git.Password layout' '
	keyring_items >items &&
	grep "^label = Git: https://example.com/$" items &&
	grep "^schema = org.git.Password$" items &&
	grep "^attribute.server = example.com$" items &&
	grep "^attribute.user = alice$" items &&
	grep "^attribute.protocol = https$" items &&
	! grep "^attribute.port" items &&
	! grep "^attribute.object" items
'

test_expect_success 'no secret in labels or attributes' '
	keyring_items >items &&
	grep "^secret = PWCANARY-alice$" items &&
	keyring_public >public &&
	grep "^label = " public &&
	! grep PWCANARY public
'

test_expect_success 'get requires the matching protocol, host and user' '
	check get <<-\EOF &&
	protocol=http
	host=example.com
	--
	--
	EOF
	check get <<-\EOF &&
	protocol=https
	host=other.tld
	--
	--
	EOF
	check get <<-\EOF
	protocol=https
	host=example.com
	username=bob
	--
	--
	EOF
'

test_expect_success 'the port is part of the identity' '
	check get <<-\EOF &&
	protocol=https
	host=example.com:8443
	--
	--
	EOF
	check store <<-\EOF &&
	protocol=https
	host=ported.test:8443
	username=p
	password=PWCANARY-port
	--
	--
	EOF
	check get <<-\EOF &&
	protocol=https
	host=ported.test
	--
	--
	EOF
	check get <<-\EOF
	protocol=https
	host=ported.test:8443
	--
	username=p
	password=PWCANARY-port
	--
	EOF
'

test_expect_success 'IPv6 literals with and without a port' '
	check store <<-\EOF &&
	protocol=http
	host=[::1]:8080
	username=v6
	password=PWCANARY-v6port
	--
	--
	EOF
	check store <<-\EOF &&
	protocol=http
	host=[::1]
	username=v6
	password=PWCANARY-v6
	--
	--
	EOF
	check get <<-\EOF &&
	protocol=http
	host=[::1]:8080
	--
	username=v6
	password=PWCANARY-v6port
	--
	EOF
	check get <<-\EOF &&
	protocol=http
	host=[::1]
	--
	username=v6
	password=PWCANARY-v6
	--
	EOF
	keyring_items >items &&
	grep "^attribute.server = \[::1\]$" items
'

test_expect_success 'a path must match the stored object' '
	check store <<-\EOF &&
	protocol=http
	host=path.tld
	path=foo.git
	username=user
	password=PWCANARY-path
	--
	--
	EOF
	check get <<-\EOF &&
	protocol=http
	host=path.tld
	path=bar.git
	--
	--
	EOF
	check get <<-\EOF &&
	protocol=http
	host=path.tld
	path=foo.git
	--
	username=user
	password=PWCANARY-path
	--
	EOF
	check get <<-\EOF
	protocol=http
	host=path.tld
	--
	username=user
	password=PWCANARY-path
	--
	EOF
'

test_expect_success 'store overwrites, with expiry and refresh token' '
	check store <<-\EOF &&
	protocol=https
	host=example.com
	username=user-expiry
	password=pass1
	password_expiry_utc=9999999998
	--
	--
	EOF
	check store <<-\EOF &&
	protocol=https
	host=example.com
	username=user-expiry
	password=pass2
	password_expiry_utc=9999999999
	oauth_refresh_token=RTCANARY-xyzzy
	--
	--
	EOF
	check get <<-\EOF &&
	protocol=https
	host=example.com
	username=user-expiry
	--
	username=user-expiry
	password=pass2
	password_expiry_utc=9999999999
	oauth_refresh_token=RTCANARY-xyzzy
	--
	EOF
	keyring_public >public &&
	grep "^attribute.user = user-expiry" public &&
	! grep -e RTCANARY -e 9999999999 public
'

test_expect_success 'erase with a distinct password keeps the item' '
	check erase <<-\EOF &&
	protocol=https
	host=example.com
	username=user-expiry
	password=pass1
	--
	--
	EOF
	check get <<-\EOF
	protocol=https
	host=example.com
	username=user-expiry
	--
	username=user-expiry
	password=pass2
	password_expiry_utc=9999999999
	oauth_refresh_token=RTCANARY-xyzzy
	--
	EOF
'

test_expect_success 'erase with the matching password removes it' '
	check erase <<-\EOF &&
	protocol=https
	host=example.com
	username=user-expiry
	password=pass2
	--
	--
	EOF
	check get <<-\EOF
	protocol=https
	host=example.com
	username=user-expiry
	--
	--
	EOF
'

test_expect_success 'empty username and password round-trip' '
	check store <<-\EOF &&
	protocol=https
	host=sso.tld
	username=
	password=
	--
	--
	EOF
	check get <<-\EOF
	protocol=https
	host=sso.tld
	--
	username=
	password=
	--
	EOF
'

test_expect_success 'without a username the most recently stored user wins' '
	check store <<-\EOF &&
	protocol=https
	host=multi.tld
	username=first
	password=one
	--
	--
	EOF
	sleep 1.1 &&
	check store <<-\EOF &&
	protocol=https
	host=multi.tld
	username=second
	password=two
	--
	--
	EOF
	check get <<-\EOF &&
	protocol=https
	host=multi.tld
	--
	username=second
	password=two
	--
	EOF
	check get <<-\EOF
	protocol=https
	host=multi.tld
	username=first
	--
	username=first
	password=one
	--
	EOF
'

test_expect_success 'erase without a password removes every user of the host' '
	check erase <<-\EOF &&
	protocol=https
	host=multi.tld
	--
	--
	EOF
	check get <<-\EOF
	protocol=https
	host=multi.tld
	--
	--
	EOF
'

test_expect_success 'an erase with an empty pattern deletes nothing' '
	check erase <<-\EOF &&
	username=alice
	--
	--
	EOF
	check erase <<-\EOF &&
	protocol=https
	--
	--
	EOF
	check get <<-\EOF
	protocol=https
	host=example.com
	username=alice
	--
	username=alice
	password=PWCANARY-alice
	--
	EOF
'

test_expect_success 'an expired credential without refresh token is not returned' '
	check store <<-\EOF &&
	protocol=https
	host=expired.tld
	username=old
	password=PWCANARY-dead
	password_expiry_utc=1000000000
	--
	--
	EOF
	check get <<-\EOF
	protocol=https
	host=expired.tld
	--
	--
	EOF
'

test_expect_success 'an expired credential with refresh token comes without password' '
	check store <<-\EOF &&
	protocol=https
	host=expired2.tld
	username=old
	password=PWCANARY-dead2
	password_expiry_utc=1000000000
	oauth_refresh_token=RTCANARY-renew
	--
	--
	EOF
	check get <<-\EOF
	protocol=https
	host=expired2.tld
	--
	username=old
	password_expiry_utc=1000000000
	oauth_refresh_token=RTCANARY-renew
	--
	EOF
'

test_expect_success 'garbage expiry values are ignored on store' '
	for v in 0 -1 abc 18446744073709551616; do
		printf "protocol=https\nhost=garbage.tld\nusername=g\npassword=p\npassword_expiry_utc=%s\n" "$v" |
		git-credential-tokenring store || return 1
		printf "protocol=https\nhost=garbage.tld\n" |
		git-credential-tokenring get >actual || return 1
		printf "username=g\npassword=p\n" >expect &&
		test_cmp expect actual || return 1
	done
'

test_expect_success 'ephemeral and authtype-only stores are not persisted' '
	check store <<-\EOF &&
	protocol=https
	host=ephemeral.tld
	username=e
	password=PWCANARY-eph
	ephemeral=1
	--
	--
	EOF
	check store <<-\EOF &&
	capability[]=authtype
	protocol=https
	host=ephemeral.tld
	authtype=Bearer
	credential=PWCANARY-bearer
	--
	--
	EOF
	check get <<-\EOF &&
	protocol=https
	host=ephemeral.tld
	--
	--
	EOF
	keyring_items >items &&
	! grep -e PWCANARY-eph -e PWCANARY-bearer items
'

test_expect_success 'protocol=cert is stored by path' '
	check store <<-\EOF &&
	protocol=cert
	path=/home/u/client.p12
	username=
	password=PWCANARY-cert
	--
	--
	EOF
	check get <<-\EOF &&
	protocol=cert
	path=/home/u/client.p12
	--
	username=
	password=PWCANARY-cert
	--
	EOF
	check get <<-\EOF
	protocol=cert
	path=/home/u/other.p12
	--
	--
	EOF
'

test_expect_success 'unknown operations and no operation are silent' '
	printf "protocol=https\nhost=example.com\n" >req &&
	git-credential-tokenring capability <req >stdout 2>stderr &&
	test_must_be_empty stdout && test_must_be_empty stderr &&
	git-credential-tokenring <req >stdout 2>stderr &&
	test_must_be_empty stdout && test_must_be_empty stderr
'

# Run as an unprivileged user when we are root, so that "same user" means
# something: a same-uid reader must not get at a non-dumpable process.
# (A variable, not a function: "$!" must be the program's own pid.)
as_user=
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
	test_set_prereq SAMEUID
elif [ "$(id -u)" != 0 ]; then
	test_set_prereq SAMEUID
fi

test_expect_success SAMEUID 'the helper is not dumpable and has no core limit' '
	mkfifo in && chmod 666 in &&
	{ $as_user git-credential-tokenring get <in >/dev/null 2>&1 & } &&
	helper=$! &&
	{ $as_user sleep 5 & } &&
	control=$! &&
	exec 9>in &&
	sleep 0.3 &&
	$as_user cat /proc/$control/environ >/dev/null &&
	test_must_fail $as_user cat /proc/$helper/environ >/dev/null &&
	grep "^Max core file size *0 *0 " /proc/$helper/limits &&
	exec 9>&- &&
	kill $control &&
	wait $helper
'

test_done
