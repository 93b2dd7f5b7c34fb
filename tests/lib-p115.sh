# The 115 emulator (tests/emulators/p115.py) and accounts for it.
#
#   start_p115                 starts it; sets P115_URL
#   p115_control PATH          GET /_control/PATH (PATH may carry a query)
#   p115_post PATH <JSON       POST stdin to /_control/PATH
#   p115_counter NAME          one of /_control/counters
#   p115_config NAME VALUE     set one switch (VALUE is JSON)
#   p115_active USER FIELD     refresh_token or access_token of USER's newest
#                              active grant
#   p115_wait_counter NAME N   waits (bounded) until counter NAME >= N
#   p115_newest_uid            the uid of the newest device code
#   p115_account NAME [KEY=VALUE...]   writes the account's config group,
#                              with token_url, passport_url and qrcode_url
#                              all pointing at the emulator
#   p115_replay <RT            POST refresh_token=RT (from stdin) straight to
#                              the emulator; prints the answer
#   p115_record NAME           the account's keyring record without
#                              last_error (which a failed refresh sets), as
#                              sorted JSON: tokens, expiries, last_refresh

start_p115 () {
	python3 "$TEST_DIRECTORY/emulators/p115.py" \
		--port-file "$TRASH/p115.port" --log "$TRASH/p115.log" \
		2>"$TRASH/p115.err" &
	echo $! >"$TRASH/p115.pid"
	test_atexit 'kill $(cat "$TRASH/p115.pid") 2>/dev/null'
	i=0
	while [ ! -s "$TRASH/p115.port" ]; do
		i=$((i + 1))
		[ $i -lt 200 ] || { cat "$TRASH/p115.err" >&2; return 1; }
		sleep 0.05
	done
	P115_URL=http://127.0.0.1:$(cat "$TRASH/p115.port")
	export P115_URL
}

p115_control () {
	python3 - "$P115_URL/_control/$1" <<-\PY
	import sys, urllib.request
	print(urllib.request.urlopen(sys.argv[1]).read().decode())
	PY
}

# The JSON body comes on stdin (test secrets stay out of argv too).
p115_post () {
	python3 -c '
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=sys.stdin.buffer.read(),
                             headers={"Content-Type": "application/json"})
print(urllib.request.urlopen(req).read().decode())
' "$P115_URL/_control/$1"
}

p115_counter () {
	p115_control counters |
	python3 -c "import json, sys; print(json.load(sys.stdin)['$1'])"
}

p115_wait_counter () {
	i=0
	while [ "$(p115_counter "$1")" -lt "$2" ]; do
		i=$((i + 1))
		[ $i -lt 300 ] || return 1
		sleep 0.1
	done
}

p115_newest_uid () {
	p115_control devices |
	python3 -c "import json, sys; print(json.load(sys.stdin)[-1]['uid'])"
}

p115_config () {
	printf '{"%s": %s}\n' "$1" "$2" | p115_post config >/dev/null
}

p115_active () {
	p115_control "active?user=$1" |
	python3 -c "import json, sys; print(json.load(sys.stdin)['$2'])"
}

p115_account () {
	name=$1
	shift
	mkdir -p "$XDG_CONFIG_HOME/tokenring" &&
	{
		printf '[%s]\nprovider = 115\nurl = %s\n' "$name" "$P115_URL"
		printf 'token_url = %s/open/refreshToken\n' "$P115_URL"
		printf 'passport_url = %s\nqrcode_url = %s\n' "$P115_URL" "$P115_URL"
		for kv in "$@"; do
			printf '%s\n' "$kv"
		done
	} >>"$XDG_CONFIG_HOME/tokenring/config"
}

p115_replay () {
	python3 -c '
import sys, urllib.parse, urllib.request
body = urllib.parse.urlencode({"refresh_token": sys.stdin.read().strip()})
req = urllib.request.Request(sys.argv[1], data=body.encode(), headers={
    "Content-Type": "application/x-www-form-urlencoded"})
print(urllib.request.urlopen(req).read().decode())
' "$P115_URL/open/refreshToken"
}

p115_record () {
	secret-tool lookup xdg:schema org.tokenring.Account account "$1" |
	python3 -c '
import json, sys
r = json.load(sys.stdin)
r.pop("last_error", None)
print(json.dumps(r, sort_keys=True))'
}
