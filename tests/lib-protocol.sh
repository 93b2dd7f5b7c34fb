# Helpers to drive git-credential-tokenring directly, the way git does.
#
#   check OP <<-\EOF
#   protocol=https        <- the request on stdin
#   host=example.com
#   --
#   username=alice        <- the exact stdout expected
#   password=secret
#   --
#                         <- the exact stderr expected (empty here)
#   EOF

# Copy lines from stdin up to a line "--" (or EOF) into a file.
read_chunk_ () {
	while IFS= read -r line; do
		[ "$line" = "--" ] && break
		printf '%s\n' "$line"
	done
}

check () {
	{
		read_chunk_ >request &&
		read_chunk_ >expect-stdout &&
		read_chunk_ >expect-stderr
	} &&
	git-credential-tokenring "$1" <request >stdout 2>stderr
	status=$?
	test_cmp expect-stdout stdout &&
	test_cmp expect-stderr stderr || return 1
	if [ $status != 0 ]; then
		echo >&2 "git-credential-tokenring $1 exited $status"
		return 1
	fi
}

# Feed raw bytes (printf format) to an operation; output in stdout/stderr.
helper_raw () {
	op=$1
	shift
	printf "$@" | git-credential-tokenring "$op" >stdout 2>stderr
}
