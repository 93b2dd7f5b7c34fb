#!/bin/sh
test_description='a real git clone over HTTP with credentials from the keyring'
. "${TOKENRING_SOURCE_DIR:-$(dirname "$0")/..}/tests/test-lib.sh"
. "$TEST_DIRECTORY/lib-protocol.sh"
. "$TEST_DIRECTORY/lib-git-http.sh"

start_keyring || test_skip_all "cannot start a private keyring"

test_expect_success 'setup: a server that requires Basic auth' '
	start_git_server >/dev/null 2>&1 &&
	echo "$GIT_SERVER_URL" >url &&
	make_bare_repo demo &&
	git_server_accept alice PWCANARY-clone1 &&
	git config --global credential.helper tokenring
'

test_expect_success 'without a stored credential the clone is refused' '
	url=$(cat url) &&
	test_must_fail git clone -q "$url/demo.git" nocred 2>err &&
	grep -i "authentication\|terminal prompts disabled\|could not read" err
'

test_expect_success 'git credential approve stores it; clone uses it' '
	url=$(cat url) &&
	port=${url##*:} &&
	printf "url=%s\nusername=alice\npassword=PWCANARY-clone1\n" "$url" |
	git credential approve &&
	git clone -q "$url/demo.git" clone1 &&
	test "$(cat clone1/README)" = "hello from demo" &&
	grep " 200 alice" "$TRASH/srv.log" &&
	check get <<-EOF
	protocol=http
	host=127.0.0.1:$port
	--
	username=alice
	password=PWCANARY-clone1
	--
	EOF
'

test_expect_success 'git stores the working credential through the helper' '
	keyring_public >public &&
	grep "^label = Git: http://127.0.0.1:[0-9]*/$" public &&
	grep "^attribute.user = alice$" public &&
	! grep PWCANARY public
'

test_expect_success 'a rejected password is erased by git, and the next one works' '
	url=$(cat url) &&
	git_server_accept alice PWCANARY-clone2 &&
	test_must_fail git -C clone1 fetch -q 2>err &&
	printf "url=%s\n" "$url" >request &&
	test_must_fail git credential fill <request >out 2>&1 &&
	! grep PWCANARY-clone1 out &&
	printf "url=%s\nusername=alice\npassword=PWCANARY-clone2\n" "$url" |
	git credential approve &&
	git -C clone1 fetch -q
'

test_expect_success 'push works with the same credential' '
	echo more >clone1/more &&
	git -C clone1 add more &&
	git -C clone1 commit -q -m more &&
	git -C clone1 push -q origin HEAD:main &&
	git -C "$TRASH/srv/demo.git" log --oneline main >log &&
	test_line_count = 2 log
'

test_expect_success 'no secret in the server log or the repositories config' '
	test_no_leak PWCANARY "$TRASH/srv.log" clone1/.git/config "$HOME/.gitconfig"
'

test_done
