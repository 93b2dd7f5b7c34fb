# tokenring's shell test library: git's test style (test_expect_success
# with &&-chained bodies), TAP output, one fresh trash directory per script.
# Our own code, POSIX sh.
#
# A script sets test_description, sources this file, runs tests and ends
# with test_done.  Variables it can use:
#   TEST_DIRECTORY  the source tests/ directory
#   BUILD_DIR       the build tree (binaries at its top)
#   TRASH           this script's scratch directory (also the cwd)

: "${TOKENRING_SOURCE_DIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${TOKENRING_BUILD_DIR:=$TOKENRING_SOURCE_DIR/_build}"
TEST_DIRECTORY=$TOKENRING_SOURCE_DIR/tests
BUILD_DIR=$TOKENRING_BUILD_DIR
test_name=$(basename "$0" .sh)
TRASH=$BUILD_DIR/tests/trash.$test_name

rm -rf "$TRASH" && mkdir -p "$TRASH" || {
	echo "Bail out! cannot create $TRASH"
	exit 1
}
cd "$TRASH" || exit 1

# A private world: nothing here may touch the user's home, config or
# keyring.  lib-keyring.sh provides the private bus.
HOME=$TRASH/home
XDG_CONFIG_HOME=$TRASH/config
XDG_DATA_HOME=$TRASH/data
XDG_CACHE_HOME=$TRASH/cache
XDG_RUNTIME_DIR=$TRASH/run
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" &&
mkdir -m 700 "$XDG_RUNTIME_DIR" || exit 1
export HOME XDG_CONFIG_HOME XDG_DATA_HOME XDG_CACHE_HOME XDG_RUNTIME_DIR
unset DISPLAY WAYLAND_DISPLAY SECRET_BACKEND SECRET_FILE_TEST_PATH
unset TOKENRING_CONFIG TOKENRING_TRACE TOKENRING_TRACE_KEYRING
unset GIT_ASKPASS SSH_ASKPASS GIT_CONFIG_PARAMETERS GIT_DIR
GIT_CONFIG_NOSYSTEM=1
GIT_TERMINAL_PROMPT=0
GIT_AUTHOR_NAME='A U Thor' GIT_AUTHOR_EMAIL=author@example.com
GIT_COMMITTER_NAME='C O Mitter' GIT_COMMITTER_EMAIL=committer@example.com
export GIT_CONFIG_NOSYSTEM GIT_TERMINAL_PROMPT GIT_AUTHOR_NAME \
	GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL
PATH=$BUILD_DIR:$PATH
export PATH
LC_ALL=C
export LC_ALL

test_count=0
test_failures=0
test_prereqs=" "

say () {
	printf '# %s\n' "$*"
}

# Show a file as TAP comments (for failure diagnostics).
test_show_ () {
	[ -s "$1" ] && sed -e 's/^/#   /' "$1"
	return 0
}

test_set_prereq () {
	test_prereqs="$test_prereqs$1 "
}

test_have_prereq () {
	for p in $(echo "$1" | tr , ' '); do
		case "$test_prereqs" in
		*" $p "*) ;;
		*) return 1 ;;
		esac
	done
}

# The body runs in a subshell, so cleanups travel through a file.
test_when_finished () {
	{ printf '%s && ' "$1"; cat "$TRASH/.cleanup"; } >"$TRASH/.cleanup+" &&
	mv "$TRASH/.cleanup+" "$TRASH/.cleanup"
}

# Run one test body in this shell (so it can set variables), with its
# output kept aside and shown only when it fails.
test_run_ () {
	echo : >"$TRASH/.cleanup"
	(eval "$1") >"$TRASH/.out" 2>&1 </dev/null
	test_status_=$?
	(eval "$(cat "$TRASH/.cleanup")") >>"$TRASH/.out" 2>&1 ||
		test_status_=1
	# A body's cd must not leak into the next test.
	cd "$TRASH" || exit 1
	return $test_status_
}

test_expect_ () {
	want=$1
	shift
	prereq=
	if [ $# = 3 ]; then
		prereq=$1
		shift
	fi
	test_count=$((test_count + 1))
	if [ -n "$prereq" ] && ! test_have_prereq "$prereq"; then
		echo "ok $test_count # skip $1 (missing $prereq)"
		return 0
	fi
	if test_run_ "$2"; then
		result=success
	else
		result=failure
	fi
	if [ "$want" = "$result" ]; then
		[ "$want" = success ] && echo "ok $test_count - $1" ||
			echo "not ok $test_count - $1 # TODO known breakage"
	elif [ "$want" = failure ]; then
		echo "ok $test_count - $1 # TODO known breakage vanished"
	else
		test_failures=$((test_failures + 1))
		echo "not ok $test_count - $1"
		printf '%s\n' "$2" | sed -e 's/^/#	/'
		test_show_ "$TRASH/.out"
	fi
}

# The body runs in a subshell: variables it sets do not survive it.  Use
# files to pass state between tests, as git's tests mostly do.
test_expect_success () {
	test_expect_ success "$@"
}

test_expect_failure () {
	test_expect_ failure "$@"
}

test_must_fail () {
	"$@"
	status=$?
	if [ $status = 0 ]; then
		echo >&2 "test_must_fail: command succeeded: $*"
		return 1
	elif [ $status -gt 128 ]; then
		echo >&2 "test_must_fail: died by signal $((status - 128)): $*"
		return 1
	fi
	return 0
}

test_cmp () {
	diff -u "$1" "$2"
}

# Fail unless the file is empty, showing what it holds.
test_must_be_empty () {
	if [ -s "$1" ]; then
		echo >&2 "'$1' is not empty:"
		cat >&2 "$1"
		return 1
	fi
}

test_line_count () {
	n=$(wc -l <"$2")
	if [ "$n" -ne "$1" ]; then
		echo >&2 "'$2' has $n lines, not $1:"
		cat >&2 "$2"
		return 1
	fi
}

# Fail if the given fixed string occurs in any of the files.
test_no_leak () {
	needle=$1
	shift
	if grep -F -l -- "$needle" "$@" 2>/dev/null; then
		echo >&2 "secret leaked into the files above"
		return 1
	fi
	return 0
}

# Scripts register process cleanups here; run when the script exits.  A
# file, not a variable: test bodies run in subshells and register too.
: >"$TRASH/.atexit"
test_atexit () {
	{ printf '%s\n' "$1"; cat "$TRASH/.atexit"; } >"$TRASH/.atexit+" &&
	mv "$TRASH/.atexit+" "$TRASH/.atexit"
}
test_run_atexit_ () {
	[ -f "$TRASH/.atexit" ] || return 0
	# Each line on its own: one failed cleanup must not stop the rest.
	while IFS= read -r cmd_; do
		eval "$cmd_" 2>/dev/null
	done <"$TRASH/.atexit"
	: >"$TRASH/.atexit"
}
trap 'test_run_atexit_' EXIT
trap 'exit 130' INT TERM HUP PIPE

test_skip_all () {
	echo "1..0 # SKIP $*"
	exit 0
}

test_done () {
	echo "1..$test_count"
	test_run_atexit_
	if [ $test_failures = 0 ]; then
		[ -n "$TOKENRING_KEEP_TRASH" ] || { cd / && rm -rf "$TRASH"; }
		exit 0
	fi
	say "failed $test_failures among $test_count test(s)"
	exit 1
}

. "$TEST_DIRECTORY/lib-keyring.sh"
