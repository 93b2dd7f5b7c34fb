# The Ekuaibao emulator (tests/emulators/ekuaibao.py) and an account for it.
#
#   start_ekuaibao            starts it; sets EKB_URL
#   ekb_control PATH          GET /_control/PATH
#   ekb_post PATH <JSON       POST stdin to /_control/PATH
#   ekb_counter NAME          one of /_control/counters
#   ekb_config NAME VALUE     set one switch (VALUE is JSON)
#   ekb_account NAME [KEY=VALUE...]   writes the account's config group

start_ekuaibao () {
	python3 "$TEST_DIRECTORY/emulators/ekuaibao.py" \
		--port-file "$TRASH/ekb.port" --log "$TRASH/ekb.log" \
		2>"$TRASH/ekb.err" &
	echo $! >"$TRASH/ekb.pid"
	test_atexit "kill $!"
	i=0
	while [ ! -s "$TRASH/ekb.port" ]; do
		i=$((i + 1))
		[ $i -lt 200 ] || { cat "$TRASH/ekb.err" >&2; return 1; }
		sleep 0.05
	done
	EKB_URL=http://127.0.0.1:$(cat "$TRASH/ekb.port")
	export EKB_URL
}

ekb_control () {
	python3 - "$EKB_URL/_control/$1" <<-\PY
	import sys, urllib.request
	print(urllib.request.urlopen(sys.argv[1]).read().decode())
	PY
}

# The JSON body comes on stdin (test secrets stay out of argv too).
ekb_post () {
	python3 -c '
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=sys.stdin.buffer.read(),
                             headers={"Content-Type": "application/json"})
print(urllib.request.urlopen(req).read().decode())
' "$EKB_URL/_control/$1"
}

ekb_counter () {
	ekb_control counters |
	python3 -c "import json, sys; print(json.load(sys.stdin)['$1'])"
}

ekb_account () {
	name=$1
	shift
	mkdir -p "$XDG_CONFIG_HOME/tokenring" &&
	{
		printf '[%s]\nprovider = ekuaibao\nurl = %s\n' "$name" "$EKB_URL"
		for kv in "$@"; do
			printf '%s\n' "$kv"
		done
	} >>"$XDG_CONFIG_HOME/tokenring/config"
}

# Set one emulator switch: ekb_config NAME JSON-VALUE.
ekb_config () {
	printf '{"%s": %s}\n' "$1" "$2" | ekb_post config >/dev/null
}
