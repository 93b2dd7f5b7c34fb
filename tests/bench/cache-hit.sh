#!/bin/sh
# Benchmark, not a test: how long a cache-hit "get" takes, against a warm
# private gnome-keyring, for git-credential-tokenring (plain item and
# account), "tokenring token", and Debian's git-credential-libsecret built
# from git's contrib source (the reference).  Prints the mean per call.
#
#   tests/bench/cache-hit.sh [N]        (default N = 200; builds first)
#
# Nothing here asserts a time: timings are for people and notes.
set -e
N=${1:-200}
top=$(cd "$(dirname "$0")/../.." && pwd)
"$top/script/bootstrap" >/dev/null
TOKENRING_SOURCE_DIR=$top
TOKENRING_BUILD_DIR=$top/_build
TOKENRING_PROVIDER_PATH=$top/_build/providers/.libs:$top/_build/.libs
export TOKENRING_PROVIDER_PATH
. "$top/tests/test-lib.sh"
. "$top/tests/lib-ekuaibao.sh"

start_keyring
start_ekuaibao
echo '{"appKey": "bench", "appSecurity": "bench-secret"}' | ekb_post app >/dev/null
ekb_account bench
printf 'app_key=bench\napp_security=bench-secret\n' | tokenring login bench >/dev/null
printf 'protocol=https\nhost=bench.test\nusername=u\npassword=p\n' |
	git-credential-tokenring store
printf 'protocol=https\nhost=bench.test\n' >plain.req
printf 'protocol=http\nhost=127.0.0.1:%s\n' "$(cat ekb.port)" >account.req

contrib=/usr/share/doc/git/contrib/credential/libsecret/git-credential-libsecret.c
if [ -f "$contrib" ] && cc -O2 -o libsecret-helper "$contrib" \
	$(pkg-config --cflags --libs libsecret-1 glib-2.0) 2>/dev/null; then
	printf 'protocol=https\nhost=ref.test\nusername=u\npassword=p\n' |
		./libsecret-helper store >/dev/null
	printf 'protocol=https\nhost=ref.test\n' >ref.req
fi

# mean milliseconds of N runs of "$@" with stdin from $input
measure () {
	start=$(date +%s%N)
	i=0
	while [ $i -lt "$N" ]; do
		"$@" <"$input" >/dev/null
		i=$((i + 1))
	done
	end=$(date +%s%N)
	echo "scale=2; ($end - $start) / $N / 1000000" | bc
}

report () {
	printf '%-52s %6s ms\n' "$1" "$2"
}

input=plain.req
report "git-credential-tokenring get (plain item)" \
	"$(measure git-credential-tokenring get)"
input=account.req
report "git-credential-tokenring get (account, fresh token)" \
	"$(measure git-credential-tokenring get)"
input=/dev/null
report "tokenring token (fresh token)" "$(measure tokenring token bench)"
if [ -f ref.req ]; then
	input=ref.req
	report "git-credential-libsecret get (Debian 12, reference)" \
		"$(measure ./libsecret-helper get)"
fi
test_done >/dev/null
