# A local git smart-HTTP server requiring Basic auth
# (tests/emulators/git-http-server.py), for real clones and fetches.
#
#   start_git_server [API]     serves $TRASH/srv; sets GIT_SERVER_URL; with
#                              API (an emulator's base URL) it proxies /api/
#                              there and accepts exactly the tokens the
#                              emulator calls valid, instead of the auth file
#   git_server_accept U P      (re)writes the one user:password it accepts;
#                              P is read from stdin when it is "-"
#   make_bare_repo NAME        a bare repository with one commit

start_git_server () {
	mkdir -p "$TRASH/srv" &&
	: >"$TRASH/srv.auth" &&
	if [ -n "$1" ]; then
		set -- --check-url "$1/_control/valid" --api-upstream "$1"
	else
		set -- --auth-file "$TRASH/srv.auth"
	fi &&
	python3 "$TEST_DIRECTORY/emulators/git-http-server.py" \
		--root "$TRASH/srv" --port-file "$TRASH/srv.port" \
		--log "$TRASH/srv.log" "$@" 2>"$TRASH/srv.err" &
	echo $! >"$TRASH/srv.pid"
	test_atexit "kill $!"
	i=0
	while [ ! -s "$TRASH/srv.port" ]; do
		i=$((i + 1))
		[ $i -lt 200 ] || { cat "$TRASH/srv.err" >&2; return 1; }
		sleep 0.05
	done
	GIT_SERVER_URL=http://127.0.0.1:$(cat "$TRASH/srv.port")
	export GIT_SERVER_URL
}

# printf is a shell builtin: the password never appears in any argv.
git_server_accept () {
	if [ "$2" = - ]; then
		IFS= read -r pw_
	else
		pw_=$2
	fi
	printf '%s:%s\n' "$1" "$pw_" >"$TRASH/srv.auth+" &&
	mv "$TRASH/srv.auth+" "$TRASH/srv.auth"
}

make_bare_repo () {
	git init -q --bare "$TRASH/srv/$1.git" &&
	git init -q "$TRASH/seed-$1" &&
	echo "hello from $1" >"$TRASH/seed-$1/README" &&
	git -C "$TRASH/seed-$1" add README &&
	git -C "$TRASH/seed-$1" commit -q -m "first commit" &&
	git -C "$TRASH/seed-$1" push -q "$TRASH/srv/$1.git" HEAD:refs/heads/main &&
	git -C "$TRASH/srv/$1.git" symbolic-ref HEAD refs/heads/main
}
