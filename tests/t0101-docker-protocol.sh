#!/bin/sh
test_description='docker-credential-tokenring, driven the way the docker CLI does'
. "${TOKENRING_SOURCE_DIR:-$(dirname "$0")/..}/tests/test-lib.sh"
. "$TEST_DIRECTORY/lib-protocol.sh"
. "$TEST_DIRECTORY/lib-docker.sh"

start_keyring || test_skip_all "cannot start a private keyring"

test_expect_success 'get of an unknown server: the exact not-found text, exit 1' '
	dcheck get 1 <<-\EOF
	registry.example.com
	--
	credentials not found in native keychain
	EOF
'

test_expect_success 'store, then get with and without a trailing newline' '
	dcheck store 0 <<-\EOF &&
	{"ServerURL":"registry.example.com","Username":"alice","Secret":"PWCANARY-d1"}
	--
	EOF
	dcheck get 0 <<-\EOF &&
	registry.example.com
	--
	{"ServerURL":"registry.example.com","Username":"alice","Secret":"PWCANARY-d1"}
	EOF
	printf "registry.example.com\n" | docker-credential-tokenring get >out &&
	test_cmp expect-stdout out &&
	printf "  registry.example.com \n" | docker-credential-tokenring get >out &&
	test_cmp expect-stdout out
'

test_expect_success 'empty or blank input: no credentials server URL' '
	dcheck get 1 <<-\EOF &&
	--
	no credentials server URL
	EOF
	{ printf "  \n" | docker-credential-tokenring erase >out; test $? = 1; } &&
	echo "no credentials server URL" >expect &&
	test_cmp expect out
'

test_expect_success 'store without a ServerURL or a Username: the exact texts' '
	dcheck store 1 <<-\EOF &&
	{"ServerURL":"","Username":"a","Secret":"s"}
	--
	no credentials server URL
	EOF
	dcheck store 1 <<-\EOF
	{"ServerURL":"x.test","Username":"","Secret":"s"}
	--
	no credentials username
	EOF
'

test_expect_success 'Go JSON: any case of field names, unknown fields, \u escapes' '
	dcheck store 0 <<-\EOF &&
	{"serverurl":"go.test","USERNAME":"b\u00f6b","secret":"PWCANARY-\u003cgo\u003e","Extra":1}
	--
	EOF
	printf "go.test" | docker-credential-tokenring get >out &&
	python3 -c "
import json
j = json.load(open(\"out\"))
assert j == {\"ServerURL\": \"go.test\", \"Username\": \"b\u00f6b\", \"Secret\": \"PWCANARY-<go>\"}, j
"
'

test_expect_success 'malformed store input is refused, nothing stored' '
	for body in "{\"ServerURL\":\"bad.test\",\"Username\":\"u\",\"Secret\":\"s\"} x" \
		    "[1]" "{\"ServerURL\":\"bad.test\",\"Username\":\"u\",\"Secret\":1}" \
		    "{\"ServerURL\":\"bad.test\",\"Username\":\"u\",\"Secret\":\"s\",\"secret\":\"t\"}" \
		    "{\"ServerURL\":\"bad.test\",\"Username\":\"u\",\"Secret\":\"a\\nb\"}" \
		    "{\"ServerURL\":\"bad.test\",\"Username\":\"u\",\"Secret\":\"a\\u0000b\"}" \
		    "{\"ServerURL\":\"bad.test\",\"Username\":\"u\",\"Secret\":\"s\""; do
		printf "%s" "$body" | docker-credential-tokenring store >out &&
		return 1
		test -s out || return 1
	done &&
	dcheck get 1 <<-\EOF
	bad.test
	--
	credentials not found in native keychain
	EOF
'

test_expect_success 'invalid UTF-8 in a key or username: refused, promptly' '
	{ printf "{\"ServerURL\":\"b\377.test\",\"Username\":\"u\",\"Secret\":\"s\"}" |
	  timeout 10 docker-credential-tokenring store >out; test $? = 1; } &&
	grep "UTF-8" out &&
	{ printf "{\"ServerURL\":\"ok.test\",\"Username\":\"\377\",\"Secret\":\"s\"}" |
	  timeout 10 docker-credential-tokenring store >out; test $? = 1; } &&
	{ printf "b\377.test" | timeout 10 docker-credential-tokenring get >out
	  test $? = 1; }
'

test_expect_success 'a bare key matches an http account only on its own port' '
	mkdir -p "$XDG_CONFIG_HOME/tokenring" &&
	printf "[local]\nprovider = ekuaibao\nurl = http://localhost\n" \
		>"$XDG_CONFIG_HOME/tokenring/config" &&
	test_when_finished "rm -f \"$XDG_CONFIG_HOME/tokenring/config\"" &&
	{ printf "localhost:443" | docker-credential-tokenring get >out
	  test $? = 1; } &&
	grep "credentials not found" out &&
	{ printf "localhost" | docker-credential-tokenring get >out
	  test $? = 1; } &&
	grep "not logged in" out
'

test_expect_success 'multi-line or NUL get input matches nothing' '
	{ printf "registry.example.com\nevil.test" |
	  docker-credential-tokenring get >out; test $? = 1; } &&
	! grep PWCANARY out &&
	{ printf "registry.example.com\0x" |
	  docker-credential-tokenring get >out; test $? = 1; } &&
	! grep PWCANARY out
'

test_expect_success 'the <token> identity-token username round-trips' '
	dcheck store 0 <<-\EOF &&
	{"ServerURL":"https://id.test","Username":"<token>","Secret":"RTCANARY-id"}
	--
	EOF
	printf "https://id.test" | docker-credential-tokenring get >out &&
	python3 -c "
import json
j = json.load(open(\"out\"))
assert j[\"Username\"] == \"<token>\" and j[\"Secret\"] == \"RTCANARY-id\", j
"
'

test_expect_success 'server key spellings: scheme, trailing slash, default port, case' '
	for key in https://registry.example.com registry.example.com/ \
		   https://registry.example.com:443/ REGISTRY.example.com; do
		printf "%s" "$key" | docker-credential-tokenring get >out ||
		return 1
		grep -F "\"Secret\":\"PWCANARY-d1\"" out || return 1
		grep -F "\"ServerURL\":\"registry.example.com\"" out || return 1
	done
'

test_expect_success 'other hosts, ports and suffixes do not match' '
	for key in registry.example.com.evil.test xregistry.example.com \
		   registry.example.com:5000 http://registry.example.com \
		   registry.example.com. user@registry.example.com \
		   registry.example.com/v2; do
		{ printf "%s" "$key" | docker-credential-tokenring get >out
		  test $? = 1; } || return 1
		echo "credentials not found in native keychain" >expect &&
		test_cmp expect out || return 1
	done
'

test_expect_success 'Docker Hub aliases are one key, stored as the CLI spells it' '
	dcheck store 0 <<-\EOF &&
	{"ServerURL":"docker.io","Username":"hubuser","Secret":"PWCANARY-hub"}
	--
	EOF
	for key in https://index.docker.io/v1/ index.docker.io docker.io \
		   registry-1.docker.io; do
		printf "%s" "$key" | docker-credential-tokenring get >out ||
		return 1
		grep -F "\"Secret\":\"PWCANARY-hub\"" out || return 1
	done &&
	docker-credential-tokenring list >list &&
	grep -F "\"https://index.docker.io/v1/\":\"hubuser\"" list &&
	{ printf "https://index.docker.io/v1/access-token" |
	  docker-credential-tokenring get >out; test $? = 1; }
'

test_expect_success 're-store with a new username replaces: one item per key' '
	dcheck store 0 <<-\EOF &&
	{"ServerURL":"registry.example.com","Username":"bob","Secret":"PWCANARY-d2"}
	--
	EOF
	dcheck get 0 <<-\EOF &&
	registry.example.com
	--
	{"ServerURL":"registry.example.com","Username":"bob","Secret":"PWCANARY-d2"}
	EOF
	keyring_items >/dev/null &&
	secret-tool search --all docker_cli 1 2>&1 | grep -c "^attribute.server = registry.example.com$" >n &&
	test "$(cat n)" = 1
'

test_expect_success 'list: the real ServerURLs and usernames, no secrets' '
	docker-credential-tokenring list >list &&
	python3 -c "
import json
j = json.load(open(\"list\"))
assert j[\"registry.example.com\"] == \"bob\", j
assert j[\"go.test\"] == \"b\u00f6b\", j
assert j[\"https://id.test\"] == \"<token>\", j
" &&
	! grep -e PWCANARY -e RTCANARY list
'

test_expect_success 'erase, then not found; erasing a missing key succeeds' '
	printf "https://registry.example.com/" | docker-credential-tokenring erase &&
	dcheck get 1 <<-\EOF &&
	registry.example.com
	--
	credentials not found in native keychain
	EOF
	printf "never.stored" | docker-credential-tokenring erase
'

test_expect_success 'version, --help, usage and unknown actions' '
	docker-credential-tokenring version >out &&
	test_line_count = 1 out &&
	grep "^docker-credential-tokenring" out &&
	docker-credential-tokenring --help >out &&
	{ docker-credential-tokenring >out; test $? = 1; } &&
	grep "^Usage:" out &&
	{ docker-credential-tokenring frob >out; test $? = 1; } &&
	grep "unknown action: frob" out
'

test_expect_success 'labels and attributes hold no secret' '
	secret-tool search --all docker_cli 1 >items 2>&1 &&
	grep -v "^secret = " items | grep -v "^[A-Za-z]*CANARY" >public &&
	grep "^label = " public &&
	! grep CANARY public
'

test_expect_success 'a locked keyring: a message on stdout, exit 1, never not-found' '
	lock_keyring &&
	{ printf "registry.example.com" |
	  docker-credential-tokenring get >out 2>err; test $? = 1; } &&
	grep "locked" out &&
	! grep "credentials not found" out &&
	{ printf "{\"ServerURL\":\"l.test\",\"Username\":\"u\",\"Secret\":\"s\"}" |
	  docker-credential-tokenring store >out; test $? = 1; } &&
	grep "locked" out
'

test_done
