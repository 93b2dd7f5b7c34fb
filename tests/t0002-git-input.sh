#!/bin/sh
test_description='git-credential-tokenring refuses malformed and hostile input'
. "${TOKENRING_SOURCE_DIR:-$(dirname "$0")/..}/tests/test-lib.sh"
. "$TEST_DIRECTORY/lib-protocol.sh"

start_keyring || test_skip_all "cannot start a private keyring"

test_expect_success 'setup: a stored credential' '
	check store <<-\EOF &&
	protocol=https
	host=a.test
	username=alice
	password=PWCANARY-a
	--
	--
	EOF
	check store <<-\EOF
	protocol=https
	host=victim.example.com
	username=user
	password=PWCANARY-to-be-stolen
	--
	--
	EOF
'

printf 'username=alice\npassword=PWCANARY-a\n' >expect-alice

test_expect_success 'input ending at EOF without a newline' '
	helper_raw get "protocol=https\nhost=a.test" &&
	test_cmp "$TRASH/expect-alice" stdout &&
	test_must_be_empty stderr
'

test_expect_success 'CRLF line ends are accepted' '
	helper_raw get "protocol=https\r\nhost=a.test\r\n" &&
	test_cmp "$TRASH/expect-alice" stdout
'

test_expect_success 'lines after a blank line are not part of the request' '
	helper_raw get "protocol=https\nhost=evil.test\n\nhost=a.test\n" &&
	test_must_be_empty stdout &&
	helper_raw get "protocol=https\nhost=a.test\n\nusername=bob\n" &&
	test_cmp "$TRASH/expect-alice" stdout
'

test_expect_success 'unknown keys are ignored and never echoed' '
	helper_raw get "capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=a.test\nwwwauth[]=Basic realm=x\nstate[]=other:1\nfuture=yes\n" &&
	test_cmp "$TRASH/expect-alice" stdout &&
	test_must_be_empty stderr
'

test_expect_success 'a repeated key: the last one wins' '
	helper_raw get "protocol=https\nhost=evil.test\nhost=a.test\n" &&
	test_cmp "$TRASH/expect-alice" stdout
'

test_expect_success 'a line without = refuses the whole request' '
	helper_raw get "protocol=https\nhost=a.test\ngarbage\n" &&
	test_must_be_empty stdout &&
	test_must_be_empty stderr
'

test_expect_success 'a CR inside a value refuses the request' '
	helper_raw get "protocol=https\nhost=evil.test\rhost=a.test\n" &&
	test_must_be_empty stdout &&
	helper_raw get "protocol=https\nhost=a.test\r\r\n" &&
	test_must_be_empty stdout
'

test_expect_success 'a NUL byte refuses the request' '
	helper_raw get "protocol=https\nhost=a.test\0evil\n" &&
	test_must_be_empty stdout &&
	test_must_be_empty stderr
'

test_expect_success 'a CR in a stored value refuses the store' '
	helper_raw store "protocol=https\nhost=cr.test\nusername=u\npassword=a\rb\n" &&
	helper_raw get "protocol=https\nhost=cr.test\n" &&
	test_must_be_empty stdout
'

test_expect_success 'a long wwwauth[] line does not smuggle in a host' '
	pad=$(head -c 1001 /dev/zero | tr "\0" a) &&
	helper_raw get "protocol=https\nhost=badguy.example.com\nwwwauth[]=basic realm=${pad}host=victim.example.com\n" &&
	test_must_be_empty stdout &&
	test_must_be_empty stderr
'

test_expect_success 'a line of 65535 bytes is read whole; 65536 is refused' '
	pad=$(head -c 65524 /dev/zero | tr "\0" a) &&
	printf "protocol=https\nwwwauth[]=%s\nhost=a.test\n" "$pad" >req &&
	test $(sed -n 2p req | wc -c) = 65535 &&
	git-credential-tokenring get <req >stdout &&
	test_cmp "$TRASH/expect-alice" stdout &&
	printf "protocol=https\nwwwauth[]=a%s\nhost=a.test\n" "$pad" >req &&
	test $(sed -n 2p req | wc -c) = 65536 &&
	git-credential-tokenring get <req >stdout &&
	test_must_be_empty stdout
'

test_expect_success 'an oversized request is refused' '
	{
		echo protocol=https && echo host=a.test &&
		head -c 2000000 /dev/zero | tr "\0" "x"
	} >big &&
	git-credential-tokenring get <big >stdout 2>stderr &&
	test_must_be_empty stdout
'

# With the bus pointing nowhere, any keyring search would fail loudly:
# silence proves the request never reached the keyring.
test_expect_success 'under-specified requests never reach the keyring' '
	for req in "host=a.test\n" "protocol=https\n" "protocol=https\nhost=\n" \
		   "protocol=https\nhost=a.test:notaport\n" "protocol=cert\n" \
		   "protocol=https\nhost=[::1\n" "username=alice\n" ""; do
		printf "$req" |
		DBUS_SESSION_BUS_ADDRESS=unix:path=$TRASH/nowhere \
		git-credential-tokenring get >stdout 2>stderr || return 1
		test_must_be_empty stdout && test_must_be_empty stderr || return 1
	done &&
	printf "protocol=https\nhost=a.test\n" |
	DBUS_SESSION_BUS_ADDRESS=unix:path=$TRASH/nowhere \
	git-credential-tokenring get >stdout 2>stderr
	test $? = 4 &&
	test_must_be_empty stdout &&
	test_line_count = 1 stderr
'

test_expect_success 'invalid UTF-8 in a host or user: no answer, no hang' '
	printf "protocol=https\nhost=b\377.test\n" >req &&
	timeout 10 git-credential-tokenring get <req >stdout &&
	test_must_be_empty stdout &&
	printf "protocol=https\nhost=a.test\nusername=\377\npassword=p\n" >req &&
	timeout 10 git-credential-tokenring store <req
'

test_expect_success 'suffixes, subdomains and trailing dots do not match' '
	for host in a.test.evil.test xa.test a.test. sub.a.test A.test.; do
		helper_raw get "protocol=https\nhost=$host\n" &&
		test_must_be_empty stdout || return 1
	done
'

test_expect_success 'a foreign item with a CR in its secret is unusable' '
	printf "bad\rsecret" |
	secret-tool store --label=foreign xdg:schema org.git.Password \
		protocol https server foreign.test user f &&
	helper_raw get "protocol=https\nhost=foreign.test\n" &&
	test_must_be_empty stdout
'

test_expect_success 'items of other schemas are never returned' '
	printf "PWCANARY-other" |
	secret-tool store --label=other protocol https server other.test user o &&
	helper_raw get "protocol=https\nhost=other.test\n" &&
	test_must_be_empty stdout
'

test_expect_success 'a new-layout item written by another program is read' '
	printf "PWCANARY-newest\npassword_expiry_utc=9999999999\noauth_refresh_token=RTCANARY-n" |
	secret-tool store --label="Git: https://newest.test/" \
		xdg:schema org.git.Password protocol https server newest.test \
		user n &&
	helper_raw get "protocol=https\nhost=newest.test\n" &&
	cat >expect <<-\EOF &&
	username=n
	password=PWCANARY-newest
	password_expiry_utc=9999999999
	oauth_refresh_token=RTCANARY-n
	EOF
	test_cmp expect stdout
'

test_done
