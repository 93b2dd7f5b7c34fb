#!/bin/sh
test_description='no bus, no Secret Service, a hung service, a locked keyring'
. "${TOKENRING_SOURCE_DIR:-$(dirname "$0")/..}/tests/test-lib.sh"
. "$TEST_DIRECTORY/lib-protocol.sh"

# Each case: exit 4, one line on stderr, nothing on stdout, nothing
# erased (docs/SECURITY.md section 6).  "timeout N" guards against hangs;
# the bounds are correctness (no 25 s or 120 s waits), not speed goals.

printf 'protocol=https\nhost=a.test\n' >get-request
printf 'protocol=https\nhost=a.test\nusername=u\npassword=PWCANARY-x\n' >store-request

# Run an operation expecting keyring trouble: exit 4, one stderr line
# matching $2, empty stdout.
expect_trouble () {
	op=$1 pattern=$2 request=$3
	timeout 10 git-credential-tokenring "$op" <"$request" >stdout 2>stderr
	status=$?
	test $status = 4 || { echo >&2 "exit $status, not 4"; cat >&2 stderr; return 1; }
	test_must_be_empty stdout &&
	test_line_count = 1 stderr &&
	grep "^tokenring: $pattern" stderr
}

test_expect_success 'a dead bus socket fails fast with exit 4' '
	DBUS_SESSION_BUS_ADDRESS=unix:path=$TRASH/dead-socket &&
	export DBUS_SESSION_BUS_ADDRESS &&
	start=$(date +%s) &&
	expect_trouble get "no D-Bus session bus" get-request &&
	end=$(date +%s) &&
	test $((end - start)) -lt 5 &&
	expect_trouble store "no D-Bus session bus" store-request &&
	expect_trouble erase "no D-Bus session bus" get-request
'

test_expect_success 'no bus address and no display: no autolaunch hang' '
	unset DBUS_SESSION_BUS_ADDRESS DISPLAY &&
	expect_trouble get "no D-Bus session bus" get-request
'

test_expect_success 'setup: a private bus whose Secret Service never registers' '
	mkdir hang-services &&
	cat >hang-services/org.freedesktop.secrets.service <<-EOF &&
	[D-BUS Service]
	Name=org.freedesktop.secrets
	Exec=/bin/sleep 20
	EOF
	start_bus "$TRASH/hang-services" &&
	cp .bus/address hang-address
'

test_expect_success 'a hung Secret Service: our deadline, not the bus'"'"'s 120 s' '
	DBUS_SESSION_BUS_ADDRESS=$(cat hang-address) &&
	export DBUS_SESSION_BUS_ADDRESS &&
	TOKENRING_KEYRING_TIMEOUT=2 &&
	export TOKENRING_KEYRING_TIMEOUT &&
	expect_trouble get "the keyring did not answer within 2 s" get-request
'

test_expect_success 'setup: restart with a bus that has no Secret Service at all' '
	kill $(cat .bus/bus.pid) &&
	rm -rf .bus &&
	start_bus &&
	cp .bus/address empty-address
'

test_expect_success 'a bus without a Secret Service says so' '
	DBUS_SESSION_BUS_ADDRESS=$(cat empty-address) &&
	export DBUS_SESSION_BUS_ADDRESS &&
	expect_trouble get "no Secret Service on the session bus" get-request &&
	expect_trouble store "no Secret Service on the session bus" store-request
'

test_expect_success 'setup: a real keyring with an item, then locked' '
	DBUS_SESSION_BUS_ADDRESS=$(cat empty-address) &&
	export DBUS_SESSION_BUS_ADDRESS &&
	start_keyring_daemon &&
	check store <<-\EOF &&
	protocol=https
	host=a.test
	username=u
	password=PWCANARY-locked
	--
	--
	EOF
	lock_keyring
'

test_expect_success 'get from a locked keyring: exit 4, not a miss' '
	DBUS_SESSION_BUS_ADDRESS=$(cat empty-address) &&
	export DBUS_SESSION_BUS_ADDRESS &&
	expect_trouble get "the keyring is locked" get-request &&
	printf "protocol=https\nhost=unknown.test\n" >miss-request &&
	expect_trouble get "the keyring is locked" miss-request
'

test_expect_success 'store and erase on a locked keyring fail and change nothing' '
	DBUS_SESSION_BUS_ADDRESS=$(cat empty-address) &&
	export DBUS_SESSION_BUS_ADDRESS &&
	expect_trouble store "the keyring is locked" store-request &&
	expect_trouble erase "the keyring is locked" get-request &&
	stop_keyring_daemon &&
	start_keyring_daemon &&
	check get <<-\EOF
	protocol=https
	host=a.test
	--
	username=u
	password=PWCANARY-locked
	--
	EOF
'

test_expect_success 'no secret in any message' '
	! grep -r PWCANARY stderr
'

test_done
