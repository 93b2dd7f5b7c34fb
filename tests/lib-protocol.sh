# Helpers to drive git-credential-tokenring directly, the way git does, or
# through real git.
#
#   check OP <<-\EOF          git-credential-tokenring OP
#   check_git OP <<-\EOF      git credential OP (fill, approve, reject)
#   protocol=https            <- the request on stdin
#   host=example.com
#   --
#   username=alice            <- the exact stdout expected
#   password=secret
#   --
#                             <- the exact stderr expected (empty here)
#   EOF

# Copy lines from stdin up to a line "--" (or EOF) into a file.
read_chunk_ () {
	while IFS= read -r line; do
		[ "$line" = "--" ] && break
		printf '%s\n' "$line"
	done
}

check_with_ () {
	{
		read_chunk_ >request &&
		read_chunk_ >expect-stdout &&
		read_chunk_ >expect-stderr
	} || return 1
	"$@" <request >stdout 2>stderr
	status=$?
	test_cmp expect-stdout stdout &&
	test_cmp expect-stderr stderr || return 1
	if [ $status != 0 ]; then
		echo >&2 "$* exited $status"
		return 1
	fi
}

check () {
	check_with_ git-credential-tokenring "$1"
}

check_git () {
	check_with_ git credential "$1"
}

# Feed raw bytes (a printf format and its arguments) to an operation;
# the answer lands in the files stdout and stderr, the status in $?.
helper_raw () {
	op=$1
	shift
	# shellcheck disable=SC2059
	printf "$@" | git-credential-tokenring "$op" >stdout 2>stderr
}

# Set prereqs by git version: GIT_2_40 (password_expiry_utc), GIT_2_41
# (oauth_refresh_token, wwwauth[]).
git_version_=$(git version | sed -n 's/^git version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
set -- $git_version_
if [ "${1:-0}" -gt 2 ] || { [ "${1:-0}" = 2 ] && [ "${2:-0}" -ge 40 ]; }; then
	test_set_prereq GIT_2_40
fi
if [ "${1:-0}" -gt 2 ] || { [ "${1:-0}" = 2 ] && [ "${2:-0}" -ge 41 ]; }; then
	test_set_prereq GIT_2_41
fi
set --
