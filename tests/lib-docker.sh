# Driving docker-credential-tokenring the way the docker CLI does, and a
# registry stub that doubles as a stand-in engine (emulators/registry.py).
#
#   dcheck ACTION EXIT <<-\EOF   stdin, "--", the exact stdout expected
#   start_registry [API]        sets REGISTRY (host:port); API: a token
#                               emulator's base URL, proxied under /api/,
#                               whose valid tokens are the only passwords
#   registry_accept U P         the one user:password it accepts

dcheck () {
	{
		read_chunk_ >request &&
		read_chunk_ >expect-stdout
	} || return 1
	# The CLI writes get/erase input without a newline: so do we.
	if [ "$1" = get ] || [ "$1" = erase ]; then
		printf '%s' "$(cat request)" >request.raw
	else
		cp request request.raw
	fi
	docker-credential-tokenring "$1" <request.raw >stdout 2>stderr
	status=$?
	test_cmp expect-stdout stdout || return 1
	if [ $status != "$2" ]; then
		echo >&2 "exit $status, not $2"
		return 1
	fi
}

start_registry () {
	: >"$TRASH/registry.auth"
	if [ -n "$1" ]; then
		set -- --check-url "$1/_control/valid" --api-upstream "$1"
	else
		set -- --auth-file "$TRASH/registry.auth"
	fi
	python3 "$TEST_DIRECTORY/emulators/registry.py" \
		--port-file "$TRASH/registry.port" --log "$TRASH/registry.log" \
		"$@" 2>"$TRASH/registry.err" &
	echo $! >"$TRASH/registry.pid"
	test_atexit "kill $!"
	i=0
	while [ ! -s "$TRASH/registry.port" ]; do
		i=$((i + 1))
		[ $i -lt 200 ] || { cat "$TRASH/registry.err" >&2; return 1; }
		sleep 0.05
	done
	REGISTRY=127.0.0.1:$(cat "$TRASH/registry.port")
	export REGISTRY
}

registry_accept () {
	printf '%s:%s\n' "$1" "$2" >"$TRASH/registry.auth+" &&
	mv "$TRASH/registry.auth+" "$TRASH/registry.auth"
}
