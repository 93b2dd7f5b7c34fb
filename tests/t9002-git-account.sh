#!/bin/sh
test_description='git clone and fetch with an Ekuaibao account whose token expires'
. "${TOKENRING_SOURCE_DIR:-$(dirname "$0")/..}/tests/test-lib.sh"
. "$TEST_DIRECTORY/lib-ekuaibao.sh"
. "$TEST_DIRECTORY/lib-git-http.sh"

start_keyring || test_skip_all "cannot start a private keyring"
start_ekuaibao || test_skip_all "cannot start the Ekuaibao emulator"

# One origin serves git and the token API (the git server proxies /api/ to
# the emulator) and accepts exactly the emulator's currently valid tokens,
# so the account's url covers both.
test_expect_success 'setup: git server, an account covering it, login' '
	start_git_server "$EKB_URL" &&
	echo "$GIT_SERVER_URL" >git-url &&
	make_bare_repo demo &&
	echo "{\"appKey\": \"AK-git\", \"appSecurity\": \"SECCANARY-git\"}" |
	ekb_post app &&
	mkdir -p "$XDG_CONFIG_HOME/tokenring" &&
	printf "[repo]\nprovider = ekuaibao\nurl = %s\nusername = x-token\nmin_valid = 10\n" \
		"$GIT_SERVER_URL" >"$XDG_CONFIG_HOME/tokenring/config" &&
	git config --global credential.helper tokenring &&
	now_ms=$(python3 -c "import time; print(int(time.time() * 1000))") &&
	ekb_config licence_expiry_ms $((now_ms + 15000)) &&
	printf "app_key=AK-git\napp_security=SECCANARY-git\n" |
	tokenring login repo >out &&
	ekb_config licence_expiry_ms null
'

test_expect_success 'git clone works with the account token' '
	git clone -q "$(cat git-url)/demo.git" clone &&
	test "$(cat clone/README)" = "hello from demo" &&
	grep " 200 x-token$" "$TRASH/srv.log" &&
	tokenring token repo >first &&
	test "$(ekb_counter refreshToken)" = 1
'

test_expect_success 'the token nears its end: fetch still works, via one refresh' '
	sleep 6 &&
	echo more >seed-demo/more && git -C seed-demo add more &&
	git -C seed-demo commit -q -m more &&
	git -C seed-demo push -q "$TRASH/srv/demo.git" HEAD:main &&
	git -C clone fetch -q &&
	git -C clone log --oneline origin/main >log &&
	test_line_count = 2 log &&
	test "$(ekb_counter refreshToken)" = 2 &&
	tokenring token repo >second &&
	! test_cmp first second
'

test_expect_success 'the old token is dead at the server; git never stored it' '
	ekb_control "valid?token=$(cat first | python3 -c "import sys, urllib.parse; print(urllib.parse.quote(sys.stdin.read().strip()))")" >valid &&
	grep "\"valid\": *false" valid &&
	keyring_public >public &&
	! grep "org.git.Password" public
'

test_done
