# The generic OAuth 2.0 emulator (tests/emulators/oauth2.py) and accounts
# for it.
#
#   start_oauth2              starts it; sets OA_URL
#   oa_control PATH           GET /_control/PATH
#   oa_post PATH <JSON        POST stdin to /_control/PATH
#   oa_counter NAME           one of /_control/counters
#   oa_config NAME VALUE      set one switch (VALUE is JSON)
#   oa_config_str NAME STRING set one switch to a JSON string
#   oa_fail_next <JSON-LIST   set fail_next from stdin (bodies may hold
#                             canaries, which stay out of argv)
#   oa_account NAME [KEY=VALUE...]   writes the account's config group: url
#                             $OA_URL/acct/NAME, token_url $OA_URL/token
#   oa_grant_field FIELD GRANT        a field of one grant of /_control/state
#   oa_probe <TOKEN           GET /resource with the token from stdin;
#                             prints the status
#   json_field FIELD <JSON    one member of a JSON object on stdin

start_oauth2 () {
	python3 "$TEST_DIRECTORY/emulators/oauth2.py" \
		--port-file "$TRASH/oa.port" --log "$TRASH/oa.log" \
		2>"$TRASH/oa.err" &
	echo $! >"$TRASH/oa.pid"
	test_atexit 'kill $(cat "$TRASH/oa.pid") 2>/dev/null'
	i=0
	while [ ! -s "$TRASH/oa.port" ]; do
		i=$((i + 1))
		[ $i -lt 200 ] || { cat "$TRASH/oa.err" >&2; return 1; }
		sleep 0.05
	done
	OA_URL=http://127.0.0.1:$(cat "$TRASH/oa.port")
	export OA_URL
}

oa_control () {
	python3 - "$OA_URL/_control/$1" <<-\PY
	import sys, urllib.request
	print(urllib.request.urlopen(sys.argv[1]).read().decode())
	PY
}

# The JSON body comes on stdin (test secrets stay out of argv too).
oa_post () {
	python3 -c '
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=sys.stdin.buffer.read(),
                             headers={"Content-Type": "application/json"})
print(urllib.request.urlopen(req).read().decode())
' "$OA_URL/_control/$1"
}

oa_counter () {
	oa_control counters |
	python3 -c "import json, sys; print(json.load(sys.stdin)['$1'])"
}

oa_config () {
	printf '{"%s": %s}\n' "$1" "$2" | oa_post config >/dev/null
}

oa_config_str () {
	oa_config "$1" "\"$2\""
}

oa_fail_next () {
	python3 -c '
import json, sys
print(json.dumps({"fail_next": json.load(sys.stdin)}))' | oa_post config >/dev/null
}

json_field () {
	python3 -c '
import json, sys
v = json.load(sys.stdin)[sys.argv[1]]
print(v if isinstance(v, str) else json.dumps(v))' "$1"
}

oa_grant_field () {
	oa_control state | python3 -c '
import json, sys
g = [g for g in json.load(sys.stdin)["grants"] if g["grant"] == sys.argv[2]][0]
v = g[sys.argv[1]]
print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2"
}

oa_probe () {
	python3 -c '
import sys, urllib.error, urllib.request
tok = sys.stdin.readline().strip()
req = urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer " + tok})
try:
    print(urllib.request.urlopen(req).status)
except urllib.error.HTTPError as e:
    print(e.code)' "$OA_URL/resource"
}

oa_account () {
	name=$1
	shift
	mkdir -p "$XDG_CONFIG_HOME/tokenring" &&
	{
		printf '[%s]\nprovider = oauth2\nurl = %s/acct/%s\n' \
			"$name" "$OA_URL" "$name"
		printf 'token_url = %s/token\n' "$OA_URL"
		for kv in "$@"; do
			printf '%s\n' "$kv"
		done
	} >>"$XDG_CONFIG_HOME/tokenring/config"
}
