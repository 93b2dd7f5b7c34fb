#!/bin/sh
test_description='the real docker client with credsStore tokenring, and a registry account'
. "${TOKENRING_SOURCE_DIR:-$(dirname "$0")/..}/tests/test-lib.sh"
. "$TEST_DIRECTORY/lib-protocol.sh"
. "$TEST_DIRECTORY/lib-docker.sh"
. "$TEST_DIRECTORY/lib-ekuaibao.sh"

command -v docker >/dev/null && docker --version >/dev/null 2>&1 &&
	test_set_prereq DOCKER

start_keyring || test_skip_all "cannot start a private keyring"
start_registry || test_skip_all "cannot start the registry stub"

mkdir -p docker &&
echo '{"credsStore": "tokenring"}' >docker/config.json
DOCKER_CONFIG=$TRASH/docker
export DOCKER_CONFIG
unset DOCKER_HOST DOCKER_CONTEXT DOCKER_AUTH_CONFIG

test_expect_success DOCKER 'docker login --password-stdin stores through the helper' '
	registry_accept alice PWCANARY-reg &&
	printf "PWCANARY-reg" |
	timeout 60 docker login "$REGISTRY" -u alice --password-stdin >out 2>err &&
	grep "Login Succeeded" out &&
	docker-credential-tokenring list >list &&
	grep -F "\"$REGISTRY\":\"alice\"" list &&
	test_no_leak PWCANARY-reg docker/config.json
'

# With no engine, "docker login HOST" without credentials needs one: the
# stub stands in (GET /_ping, POST /v1.x/auth), checking what get gave.
test_expect_success DOCKER 'a second docker login with no credentials uses get' '
	DOCKER_HOST=tcp://$REGISTRY timeout 60 docker login "$REGISTRY" \
		</dev/null >out 2>err &&
	grep "Login Succeeded" out &&
	grep "^POST /v1\.[0-9]*/auth 200 alice$" registry.log
'

test_expect_success DOCKER 'docker logout erases' '
	timeout 60 docker logout "$REGISTRY" >out 2>err &&
	docker-credential-tokenring list >list &&
	! grep -F "$REGISTRY" list &&
	{ printf "%s" "$REGISTRY" | docker-credential-tokenring get >out
	  test $? = 1; } &&
	grep "credentials not found in native keychain" out
'

# From here on the registry is also an Ekuaibao API (one origin), so that
# an account url covers it.
start_ekuaibao || test_skip_all "cannot start the Ekuaibao emulator"
kill $(cat registry.pid) && rm -f registry.port &&
start_registry "$EKB_URL" || test_skip_all "cannot restart the registry stub"

test_expect_success 'setup: the registry account' '
	echo "{\"appKey\": \"AK-dk\", \"appSecurity\": \"SECCANARY-dk\"}" | ekb_post app &&
	mkdir -p "$XDG_CONFIG_HOME/tokenring" &&
	printf "[reg]\nprovider = ekuaibao\nurl = http://%s\nusername = x-token\n" \
		"$REGISTRY" >"$XDG_CONFIG_HOME/tokenring/config" &&
	printf "app_key=AK-dk\napp_security=SECCANARY-dk\n" | tokenring login reg
'

test_expect_success 'get for the account returns a fresh token, refreshed when due' '
	tokenring token reg >first &&
	printf "%s" "$REGISTRY" | docker-credential-tokenring get >out &&
	python3 -c "
import json
j = json.load(open(\"out\"))
assert j[\"Username\"] == \"x-token\" and j[\"Secret\"] == open(\"first\").read().strip(), j
" &&
	ekb_post reset_counters </dev/null &&
	tokenring logout reg && echo "{}" | ekb_post expire >/dev/null &&
	now_ms=$(python3 -c "import time; print(int(time.time() * 1000))") &&
	ekb_config licence_expiry_ms $((now_ms + 30000)) &&
	printf "app_key=AK-dk\napp_security=SECCANARY-dk\n" | tokenring login reg &&
	ekb_config licence_expiry_ms null &&
	tokenring token reg --min-valid 5 >short &&
	ekb_post reset_counters </dev/null &&
	printf "%s" "$REGISTRY" | docker-credential-tokenring get >out &&
	test "$(ekb_counter refreshToken)" = 1 &&
	python3 -c "
import json
j = json.load(open(\"out\"))
assert j[\"Secret\"] != open(\"short\").read().strip(), j
" &&
	tokenring token reg >now &&
	python3 -c "
import json
assert json.load(open(\"out\"))[\"Secret\"] == open(\"now\").read().strip()
"
'

test_expect_success 'docker store and erase leave the account alone; list never refreshes' '
	ekb_post reset_counters </dev/null &&
	printf "{\"ServerURL\":\"%s\",\"Username\":\"x\",\"Secret\":\"PWCANARY-x\"}" "$REGISTRY" |
	docker-credential-tokenring store &&
	printf "%s" "$REGISTRY" | docker-credential-tokenring erase &&
	docker-credential-tokenring list >list &&
	test "$(ekb_counter requests)" = 0 &&
	printf "%s" "$REGISTRY" | docker-credential-tokenring get >out &&
	tokenring token reg >now &&
	grep -F "\"Secret\":\"$(cat now)\"" out
'

test_expect_success DOCKER 'docker login with the account token, through get' '
	DOCKER_HOST=tcp://$REGISTRY timeout 60 docker login "$REGISTRY" \
		</dev/null >out 2>err &&
	grep "Login Succeeded" out &&
	grep "^POST /v1\.[0-9]*/auth 200 x-token$" registry.log
'

test_done
