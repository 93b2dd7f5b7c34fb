# The Longbridge emulator (tests/emulators/longbridge.py) and accounts for it.
#
#   start_longbridge          starts it; sets LB_URL
#   lb_control PATH           GET /_control/PATH
#   lb_post PATH <JSON        POST stdin to /_control/PATH
#   lb_counter NAME           one of /_control/counters
#   lb_config NAME VALUE      set one switch (VALUE is JSON)
#   lb_account NAME [KEY=VALUE...]   writes the account's config group
#   lb_json KEY <JSON         print one member of a JSON object
#   lb_login_input FILE [APP_KEY APP_SECRET] <MINTED
#                             write login input (token=, expires_at=, and
#                             the app pair when given) from the answer of
#                             /_control/token on stdin
#   lb_last_request >FILE     the newest API request of the log, as JSON
#
# Test secrets never go in argv: JSON goes to the control channel on stdin,
# and tokens are read from files or stdin.  (APP_KEY and APP_SECRET of
# lb_login_input are shell function arguments: no new process sees them.)

start_longbridge () {
	python3 "$TEST_DIRECTORY/emulators/longbridge.py" \
		--port-file "$TRASH/lb.port" --log "$TRASH/lb.log" \
		2>"$TRASH/lb.err" &
	echo $! >"$TRASH/lb.pid"
	test_atexit 'kill $(cat "$TRASH/lb.pid") 2>/dev/null'
	i=0
	while [ ! -s "$TRASH/lb.port" ]; do
		i=$((i + 1))
		[ $i -lt 200 ] || { cat "$TRASH/lb.err" >&2; return 1; }
		sleep 0.05
	done
	LB_URL=http://127.0.0.1:$(cat "$TRASH/lb.port")
	export LB_URL
}

lb_control () {
	python3 - "$LB_URL/_control/$1" <<-\PY
	import sys, urllib.request
	print(urllib.request.urlopen(sys.argv[1]).read().decode())
	PY
}

# The JSON body comes on stdin (test secrets stay out of argv too).
lb_post () {
	python3 -c '
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=sys.stdin.buffer.read(),
                             headers={"Content-Type": "application/json"})
print(urllib.request.urlopen(req).read().decode())
' "$LB_URL/_control/$1"
}

lb_counter () {
	lb_control counters |
	python3 -c "import json, sys; print(json.load(sys.stdin)['$1'])"
}

lb_account () {
	name=$1
	shift
	mkdir -p "$XDG_CONFIG_HOME/tokenring" &&
	{
		printf '[%s]\nprovider = longbridge\nurl = %s\n' "$name" "$LB_URL"
		for kv in "$@"; do
			printf '%s\n' "$kv"
		done
	} >>"$XDG_CONFIG_HOME/tokenring/config"
}

# Set one emulator switch: lb_config NAME JSON-VALUE.
lb_config () {
	printf '{"%s": %s}\n' "$1" "$2" | lb_post config >/dev/null
}

lb_json () {
	python3 -c '
import json, sys
v = json.load(sys.stdin)[sys.argv[1]]
print(v if not isinstance(v, (dict, list)) else json.dumps(v))' "$1"
}

lb_login_input () {
	python3 -c '
import json, sys
m = json.load(sys.stdin)
sys.stdout.write("token=%s\nexpires_at=%s\n" % (m["token"], m["expired_at"]))
' >"$1" &&
	if [ $# -ge 3 ]; then
		printf 'app_key=%s\napp_secret=%s\n' "$2" "$3" >>"$1"
	fi
}

lb_last_request () {
	lb_control requests |
	python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)[-1]))'
}
