#!/bin/sh
test_description='items of docker-credential-secretservice are read, and ours by it'
. "${TOKENRING_SOURCE_DIR:-$(dirname "$0")/..}/tests/test-lib.sh"

command -v docker-credential-secretservice >/dev/null &&
	test_set_prereq SECRETSERVICE

start_keyring || test_skip_all "cannot start a private keyring"

test_expect_success SECRETSERVICE 'an item stored by docker-credential-secretservice is returned' '
	printf "{\"ServerURL\":\"legacy.example.com\",\"Username\":\"old\",\"Secret\":\"PWCANARY-ss\"}\n" |
	docker-credential-secretservice store &&
	printf "legacy.example.com" | docker-credential-tokenring get >out &&
	python3 -c "
import json
j = json.load(open(\"out\"))
assert j == {\"ServerURL\": \"legacy.example.com\", \"Username\": \"old\", \"Secret\": \"PWCANARY-ss\"}, j
"
'

test_expect_success SECRETSERVICE 'it also answers a canonically equal spelling' '
	printf "https://legacy.example.com/" | docker-credential-tokenring get >out &&
	grep -F "\"Secret\":\"PWCANARY-ss\"" out &&
	grep -F "\"ServerURL\":\"legacy.example.com\"" out
'

test_expect_success SECRETSERVICE 'our items are read by docker-credential-secretservice' '
	printf "{\"ServerURL\":\"ours.example.com\",\"Username\":\"new\",\"Secret\":\"PWCANARY-ours\"}" |
	docker-credential-tokenring store &&
	printf "ours.example.com" | docker-credential-secretservice get >out &&
	grep "PWCANARY-ours" out &&
	docker-credential-secretservice list >list &&
	grep -F "\"ours.example.com\":\"new\"" list
'

test_expect_success SECRETSERVICE 'a re-store replaces the other helper'"'"'s item too' '
	printf "{\"ServerURL\":\"legacy.example.com\",\"Username\":\"other\",\"Secret\":\"PWCANARY-ss2\"}" |
	docker-credential-tokenring store &&
	secret-tool search --all server legacy.example.com 2>&1 >/dev/null |
	grep -c "^attribute.username" >n &&
	test "$(cat n)" = 1 &&
	printf "legacy.example.com" | docker-credential-secretservice get >out &&
	grep "PWCANARY-ss2" out
'

test_expect_success SECRETSERVICE 'erase removes it for both helpers' '
	printf "legacy.example.com" | docker-credential-tokenring erase &&
	{ printf "legacy.example.com" | docker-credential-secretservice get >out
	  test $? = 1; } &&
	grep "credentials not found" out
'

test_done
