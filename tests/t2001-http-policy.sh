#!/bin/sh
test_description='the HTTP module: URL policy, no redirects, limits, TLS, redacted trace'
. "${TOKENRING_SOURCE_DIR:-$(dirname "$0")/..}/tests/test-lib.sh"

# SECURITY.md sections 1 (S1-S5), 3 and 8.3 (NET rows), with timeouts
# scaled down to 2-3 s.  Every request goes through tests/http-driver,
# which dlopens the module the way the core does.

: "${TOKENRING_HTTP_MODULE:=$BUILD_DIR/.libs/tokenring-http.so}"
: "${TOKENRING_HTTP_DRIVER:=$BUILD_DIR/tests/http-driver}"
MODULE=$TOKENRING_HTTP_MODULE
DRIVER=$TOKENRING_HTTP_DRIVER
test -f "$MODULE" || test_skip_all "no HTTP module at $MODULE"
test -x "$DRIVER" || test_skip_all "no http-driver at $DRIVER"

# Nothing from the caller's environment may steer a request.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy \
	NO_PROXY no_proxy TOKENRING_TRACE_HTTP SSLKEYLOGFILE \
	SSL_CERT_FILE SSL_CERT_DIR CURL_CA_BUNDLE

# start_faults NAME [--tls CERT KEY]: an emulator whose port is in
# NAME.port and whose evil listener's port is in NAME.evil.
start_faults () {
	name_=$1
	shift
	python3 "$TEST_DIRECTORY/emulators/http-faults.py" \
		--port-file "$TRASH/$name_.port" \
		--evil-port-file "$TRASH/$name_.evil" "$@" \
		2>"$TRASH/$name_.log" &
	echo $! >"$TRASH/$name_.pid"
	test_atexit "kill \$(cat '$TRASH/$name_.pid') 2>/dev/null"
	i=0
	while [ ! -s "$TRASH/$name_.port" ]; do
		i=$((i + 1))
		[ $i -lt 200 ] || { cat "$TRASH/$name_.log" >&2; return 1; }
		sleep 0.05
	done
}

# request: run the driver on the key=value lines of stdin, stdout to
# "out", stderr to "err", the wall time in milliseconds to "elapsed".
# "timeout 20" only guards against a hang; times are asserted apart.
request () {
	start_=$(date +%s%N)
	timeout 20 "$DRIVER" "$MODULE" >out 2>err
	status_=$?
	end_=$(date +%s%N)
	echo $(((end_ - start_) / 1000000)) >elapsed
	return $status_
}

# expect_error CODE [TEXT]: the request failed with that code (and text).
expect_error () {
	if ! grep "^error=$1 " out >/dev/null ||
	   { [ -n "$2" ] && ! grep -F -- "$2" out >/dev/null; }; then
		echo >&2 "expected error $1 ${2:+($2)}, got:"
		cat >&2 out err
		return 1
	fi
}

# faster_than MS: the last request took less than MS milliseconds.
faster_than () {
	if [ "$(cat elapsed)" -ge "$1" ]; then
		echo >&2 "took $(cat elapsed) ms, the limit is $1 ms"
		return 1
	fi
}

# The body of the last successful request (printed last, raw, no newline).
body_of_out () {
	tail -c "$(sed -n "s/^body_len=//p" out)" out
}

# echo_field NAME: the string member NAME of the emulator's echo in "out".
echo_field () {
	printf "%s\n" "$(sed -n "s/.*\"$1\": \"\([^\"]*\)\".*/\1/p" out)"
}

# evil_connections [BASE [CA_FILE]]: what the evil listener counted.
evil_connections () {
	printf "url=%s/_control/evil\nca_file=%s\n" "${1:-$BASE}" "$2" |
	sed -e "/^ca_file=$/d" |
	"$DRIVER" "$MODULE" >evil.out &&
	printf "%s\n" "$(sed -n "s/^body=//p" evil.out)"
}

start_faults plain || test_skip_all "cannot start the fault emulator"
command -v strace >/dev/null && strace -f -qq -o /dev/null true 2>/dev/null &&
	test_set_prereq STRACE
unshare -rm true 2>/dev/null && test_set_prereq UNSHARE
PORT=$(cat "$TRASH/plain.port")
BASE=http://127.0.0.1:$PORT

test_expect_success 'the module exports tkr_http_v1 and nothing else' '
	nm -D --defined-only "$MODULE" >symbols &&
	sed -e "s/.* //" -e "s/@.*//" symbols | grep -v "^_" >actual &&
	echo tkr_http_v1 >expect &&
	test_cmp expect actual
'

test_expect_success 'GET reaches a loopback server' '
	request <<-EOF &&
	url=$BASE/ok?x=1&y=two
	EOF
	grep "^status=200$" out &&
	grep "^content_type=application/json$" out &&
	grep "\"method\": \"GET\"" out &&
	grep "\"query\": \"x=1&y=two\"" out
'

test_expect_success 'POST delivers the body byte for byte, with its type' '
	body="grant_type=refresh_token&x=a%20b+c \"q\" {j} é&=%" &&
	printf "%s" "$body" | sha256sum | cut -d" " -f1 >expect &&
	request <<-EOF &&
	method=POST
	url=$BASE/ok
	content_type=application/x-www-form-urlencoded; charset=utf-8
	body=$body
	EOF
	grep "^status=200$" out &&
	grep "\"method\": \"POST\"" out &&
	grep "\"content_type\": \"application/x-www-form-urlencoded; charset=utf-8\"" out &&
	echo_field body_sha256 >actual &&
	test_cmp expect actual &&
	! grep "\"Expect\"" out
'

test_expect_success 'POST carries bytes no line can: NUL, CR, LF, 0xff' '
	printf "\000\015\012A\377" | sha256sum | cut -d" " -f1 >expect &&
	request <<-EOF &&
	method=POST
	url=$BASE/ok
	content_type=application/octet-stream
	body_hex=000d0a41ff
	EOF
	grep "\"body_len\": 5" out &&
	echo_field body_sha256 >actual &&
	test_cmp expect actual
'

test_expect_success 'POST without a content type sends none' '
	request <<-EOF &&
	method=POST
	url=$BASE/ok
	body={}
	EOF
	grep "\"content_type\": null" out
'

test_expect_success 'request headers are sent as given' '
	request <<-EOF &&
	url=$BASE/ok
	header=X-Timestamp: 1539095200
	header=Accept: application/json
	EOF
	grep "\"X-Timestamp\": \"1539095200\"" out &&
	grep "\"Accept\": \"application/json\"" out
'

test_expect_success 'loopback hosts are accepted over plain http' '
	request <<-EOF &&
	url=http://localhost:$PORT/ok
	EOF
	grep "^status=200$" out &&
	request <<-EOF &&
	url=http://127.0.0.1:$PORT/ok
	EOF
	grep "^status=200$" out &&
	{ request <<-EOF || :; } &&
	url=http://[::1]:$PORT/ok
	EOF
	! grep "^error=3 " out
'

test_expect_success 'plain http to a host that is not loopback is refused at once' '
	for url in http://192.0.2.1/ http://localhost.evil.test/ \
		   http://127.0.0.1.nip.io/ http://localhost./ \
		   http://127.1/ http://0x7f000001/ http://[::ffff:127.0.0.1]/ \
		   "http://127.0.0.1%2eevil.test/" http://[2001:db8::1]/ \
		   http://10.0.0.1:$PORT/ok; do
		test_must_fail request <<-EOF &&
		url=$url
		EOF
		expect_error 3 "refusing" &&
		faster_than 1000 || return 1
	done
'

test_expect_success STRACE 'a refused url never opens a socket' '
	printf "url=http://192.0.2.1/ok\n" >req &&
	# (LeakSanitizer cannot run under ptrace.)
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" &&
	export ASAN_OPTIONS &&
	test_must_fail strace -f -qq -o strace.log -e trace=socket,connect \
		"$DRIVER" "$MODULE" <req >out &&
	expect_error 3 &&
	! grep -E "AF_INET|AF_INET6|connect\(" strace.log
'

test_expect_success 'schemes other than http and https are refused' '
	for url in file:///etc/passwd ftp://127.0.0.1/x ftps://127.0.0.1/x \
		   gopher://127.0.0.1/ dict://127.0.0.1/ ldap://127.0.0.1/ \
		   scp://127.0.0.1/x telnet://127.0.0.1/ ws://127.0.0.1/ \
		   "127.0.0.1:$PORT/ok" "//127.0.0.1:$PORT/ok"; do
		test_must_fail request <<-EOF &&
		url=$url
		EOF
		expect_error 3 "refusing" || return 1
	done
'

test_expect_success 'urls with userinfo are refused' '
	for url in http://user:pw@127.0.0.1:$PORT/ok \
		   http://user@127.0.0.1:$PORT/ok http://@127.0.0.1:$PORT/ok \
		   https://user:pw@example.com/ http://127.0.0.1:80@192.0.2.1/ \
		   "http://127.0.0.1\\@192.0.2.1/"; do
		test_must_fail request <<-EOF &&
		url=$url
		EOF
		expect_error 3 "refusing" || return 1
	done
'

test_expect_success 'urls that parsers could read differently are refused' '
	for url in "http:/127.0.0.1:$PORT/ok" "http:127.0.0.1:$PORT/ok" \
		   "http://192.0.2.1#@127.0.0.1/" "http://127.0.0.1 /ok" \
		   "https://exa mple.com/" "http://127.0.0.1;x/"; do
		test_must_fail request <<-EOF &&
		url=$url
		EOF
		expect_error 3 "refusing" || return 1
	done
'

test_expect_success 'methods other than GET and POST are refused' '
	test_must_fail request <<-EOF &&
	method=PUT
	url=$BASE/ok
	EOF
	expect_error 3 &&
	test_must_fail request <<-EOF &&
	url=$BASE/ok
	body=x
	EOF
	expect_error 3
'

test_expect_success 'no redirect is followed, and the evil listener sees nothing' '
	for code in 301 302 303 307 308; do
		test_must_fail request <<-EOF &&
		method=POST
		url=$BASE/redirect/$code
		content_type=application/x-www-form-urlencoded
		body=refresh_token=RTCANARY-redirect-$code
		EOF
		expect_error 7 "redirect (status $code); redirects are never followed" &&
		! grep RTCANARY out &&
		test_must_fail request <<-EOF &&
		url=$BASE/redirect/$code
		EOF
		expect_error 7 "redirect (status $code)" || return 1
	done &&
	echo "{\"connections\": 0}" >expect &&
	evil_connections >actual &&
	test_cmp expect actual
'

test_expect_success 'an endless chunked body is cut at the cap, quickly' '
	test_must_fail request <<-EOF &&
	url=$BASE/big-chunked
	timeout=10
	EOF
	expect_error 7 "response larger than 65536 bytes" &&
	faster_than 3000
'

test_expect_success 'a huge Content-Length is refused before the body' '
	test_must_fail request <<-EOF &&
	url=$BASE/big-length
	timeout=10
	EOF
	expect_error 7 "response larger than 65536 bytes" &&
	faster_than 3000
'

test_expect_success 'a small cap is honoured' '
	test_must_fail request <<-EOF &&
	url=$BASE/ok
	body_max=100
	EOF
	expect_error 7 "response larger than 100 bytes" &&
	request <<-EOF &&
	url=$BASE/status/200
	body_max=15
	EOF
	grep "^body_len=15$" out
'

test_expect_success 'a server that never answers meets the total timeout' '
	test_must_fail request <<-EOF &&
	method=POST
	url=$BASE/hang
	body=x
	timeout=2
	connect_timeout=1
	EOF
	expect_error 7 "timed out" &&
	faster_than 4000
'

test_expect_success 'a slow drip meets the total timeout' '
	test_must_fail request <<-EOF &&
	url=$BASE/slow
	timeout=3
	connect_timeout=2
	EOF
	expect_error 7 "timed out" &&
	faster_than 5000
'

test_expect_success 'a refused connection fails fast' '
	python3 -c "import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])" >closed.port &&
	test_must_fail request <<-EOF &&
	url=http://127.0.0.1:$(cat closed.port)/ok
	timeout=3
	EOF
	expect_error 7 "request to '\''http://127.0.0.1:" &&
	faster_than 2000
'

test_expect_success '5xx and 429 come back as statuses, with Retry-After' '
	request <<-EOF &&
	url=$BASE/status/500
	EOF
	grep "^status=500$" out &&
	grep "^retry_after=$" out &&
	grep "^body={\"status\": 500}$" out &&
	request <<-EOF &&
	method=POST
	url=$BASE/status/429
	body={}
	EOF
	grep "^status=429$" out &&
	grep "^retry_after=7$" out &&
	request <<-EOF &&
	url=$BASE/status/503
	EOF
	grep "^status=503$" out &&
	grep "^retry_after=7$" out &&
	request <<-EOF &&
	url=$BASE/status/401
	EOF
	grep "^status=401$" out
'

test_expect_success 'a truncated body is an error' '
	test_must_fail request <<-EOF &&
	url=$BASE/truncated
	EOF
	expect_error 7 "request to"
'

test_expect_success 'gzip is not decompressed' '
	request <<-EOF &&
	url=$BASE/gzip
	EOF
	grep "^status=200$" out &&
	body_of_out >body.gz &&
	test "$(wc -c <body.gz)" = "$(sed -n "s/^body_len=//p" out)" &&
	test "$(head -c 2 body.gz | od -An -tx1 | tr -d " ")" = 1f8b &&
	gzip -dc <body.gz >plain &&
	grep "\"hello\": \"world\"" plain
'

test_expect_success 'a trace shows the exchange but no secret' '
	TOKENRING_TRACE_HTTP=2 request <<-EOF &&
	method=POST
	url=$BASE/ok?accessToken=ATCANARY2-query&expired_at=x
	header=Authorization: Bearer ATCANARY1-header
	header=X-Api-Signature: HMAC-SHA256 Signature=SIGCANARY-5
	header=Cookie: sid=COOKIECANARY-6
	header=X-Set-Cookie: sid=SETCOOKIECANARY-7
	content_type=application/json
	body={"refresh_token":"RTCANARY3-body","client_secret":"CSCANARY-4","n":1}
	EOF
	grep "^status=200$" out &&
	for c in ATCANARY1 ATCANARY2 RTCANARY3 CSCANARY-4 SIGCANARY-5 COOKIECANARY-6; do
		grep "$c" out >/dev/null || return 1
	done &&
	pat="^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]\{6\} http-curl\.c:[0-9]* " &&
	grep "$pat" err >trace &&
	test_cmp err trace &&
	grep "> POST /ok?<redacted> HTTP/1.1$" trace &&
	grep "> Authorization: <redacted>$" trace &&
	grep "> X-Api-Signature: <redacted>$" trace &&
	grep "> Cookie: <redacted>$" trace &&
	grep "< Set-Cookie: <redacted>$" trace &&
	grep "< HTTP/1.1 200 OK$" trace &&
	grep -F "\"refresh_token\":\"<redacted>\"" trace &&
	grep -F "\"client_secret\":\"<redacted>\"" trace &&
	grep -F "\"n\":1" trace &&
	grep -F "< body (" trace &&
	for c in CANARY1 CANARY2 CANARY3 CANARY-4 CANARY-5 CANARY-6 CANARY-7; do
		test_no_leak "$c" err || return 1
	done
'

test_expect_success 'form bodies are redacted in a trace too' '
	TOKENRING_TRACE_HTTP=2 request <<-EOF &&
	method=POST
	url=$BASE/ok
	content_type=application/x-www-form-urlencoded
	body=grant_type=refresh_token&refresh_token=RTCANARY-form&code=CODECANARY&password=PWCANARY
	EOF
	grep "^status=200$" out &&
	grep -F "grant_type=refresh_token&refresh_token=<redacted>&code=<redacted>&password=<redacted>" err &&
	test_no_leak RTCANARY err &&
	test_no_leak CODECANARY err &&
	test_no_leak PWCANARY err
'

test_expect_success 'errors and their traces carry no query and no body' '
	test_must_fail env TOKENRING_TRACE_HTTP=2 \
		timeout 20 "$DRIVER" "$MODULE" >out 2>err <<-EOF &&
	method=POST
	url=$BASE/hang?accessToken=ATCANARY-error
	body=refresh_token=RTCANARY-error
	timeout=2
	connect_timeout=1
	EOF
	expect_error 7 "timed out" &&
	grep "http-curl.c" err &&
	test_no_leak CANARY-error out err &&
	test_must_fail request <<-EOF &&
	url=$BASE/truncated?token=ATCANARY-trunc
	EOF
	test_no_leak CANARY-trunc out err
'

# TLS: a throwaway CA, a server certificate for 127.0.0.1, one for another
# name, and a second CA that the servers do not use.
make_ca () {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -keyout "$1.key" -out "$1.pem" -days 2 \
		-subj "/CN=tokenring test $1" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

# make_cert NAME CA SAN
make_cert () {
	printf "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n" \
		"$3" >"$1.ext" &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null &&
	openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" \
		-CAcreateserial -days 2 -extfile "$1.ext" -out "$1.pem" \
		2>/dev/null
}

if make_ca ca && make_ca otherca && make_ca sysca &&
   make_cert good ca IP:127.0.0.1 &&
   make_cert wrongname ca DNS:wrong.example.test &&
   make_cert sysgood sysca IP:127.0.0.1 &&
   start_faults tls --tls good.pem good.key &&
   start_faults wrongname --tls wrongname.pem wrongname.key &&
   start_faults sys --tls sysgood.pem sysgood.key
then
	test_set_prereq TLS
	TLS_BASE=https://127.0.0.1:$(cat "$TRASH/tls.port")
	WRONG_BASE=https://127.0.0.1:$(cat "$TRASH/wrongname.port")
	SYS_BASE=https://127.0.0.1:$(cat "$TRASH/sys.port")
fi

test_expect_success TLS 'https with ca_file naming the test CA succeeds' '
	request <<-EOF &&
	method=POST
	url=$TLS_BASE/ok?x=1
	ca_file=$TRASH/ca.pem
	content_type=application/json
	body={"a":1}
	EOF
	grep "^status=200$" out &&
	grep "\"body\": \"{\\\\\"a\\\\\":1}\"" out
'

test_expect_success TLS 'https without ca_file fails verification' '
	test_must_fail request <<-EOF &&
	url=$TLS_BASE/ok
	EOF
	expect_error 7 "SSL certificate problem"
'

test_expect_success TLS 'no environment variable makes an unknown CA trusted' '
	mkdir -p certdir &&
	cp ca.pem "certdir/$(openssl x509 -hash -noout -in ca.pem).0" &&
	test_must_fail env SSL_CERT_FILE="$TRASH/ca.pem" \
		SSL_CERT_DIR="$TRASH/certdir" CURL_CA_BUNDLE="$TRASH/ca.pem" \
		GIT_SSL_NO_VERIFY=1 GIT_SSL_CAINFO="$TRASH/ca.pem" \
		timeout 20 "$DRIVER" "$MODULE" >out <<-EOF &&
	url=$TLS_BASE/ok
	EOF
	expect_error 7 "SSL certificate problem"
'

test_expect_success TLS 'SSLKEYLOGFILE is refused, and receives no keys' '
	test_must_fail env SSLKEYLOGFILE="$TRASH/keys.log" \
		timeout 20 "$DRIVER" "$MODULE" >out <<-EOF &&
	url=$TLS_BASE/ok
	ca_file=$TRASH/ca.pem
	EOF
	expect_error 3 "SSLKEYLOGFILE" &&
	! test -e keys.log
'

test_expect_success TLS 'a certificate for another name fails, and the server sees no request' '
	test_must_fail request <<-EOF &&
	method=POST
	url=$WRONG_BASE/ok
	ca_file=$TRASH/ca.pem
	body=refresh_token=RTCANARY-wrongname
	EOF
	expect_error 7 "request to" &&
	grep -i "certificate\|subject name\|SSL" out &&
	! grep "/ok" "$TRASH/wrongname.log"
'

test_expect_success TLS 'a ca_file of another CA does not help' '
	test_must_fail request <<-EOF &&
	url=$TLS_BASE/ok
	ca_file=$TRASH/otherca.pem
	EOF
	expect_error 7 "SSL certificate problem"
'

test_expect_success TLS 'a ca_file that is not PEM is a configuration error' '
	echo "not a certificate" >junk.pem &&
	test_must_fail request <<-EOF &&
	url=$TLS_BASE/ok
	ca_file=$TRASH/junk.pem
	EOF
	expect_error 3 "ca_file" &&
	test_must_fail request <<-EOF &&
	url=$TLS_BASE/ok
	ca_file=$TRASH/missing.pem
	EOF
	expect_error 3 "ca_file"
'

test_expect_success TLS 'no redirect is followed over https either' '
	test_must_fail request <<-EOF &&
	method=POST
	url=$TLS_BASE/redirect/307
	ca_file=$TRASH/ca.pem
	body=refresh_token=RTCANARY-tls-redirect
	EOF
	expect_error 7 "redirect (status 307)" &&
	echo "{\"connections\": 0}" >expect &&
	evil_connections "$TLS_BASE" "$TRASH/ca.pem" >actual &&
	test_cmp expect actual
'

test_expect_success TLS 'a trace over https shows no secret' '
	TOKENRING_TRACE_HTTP=2 request <<-EOF &&
	method=POST
	url=$TLS_BASE/ok?accessToken=ATCANARY-tls
	ca_file=$TRASH/ca.pem
	header=Authorization: Bearer ATCANARY-tls-header
	content_type=application/json
	body={"refresh_token":"RTCANARY-tls"}
	EOF
	grep "^status=200$" out &&
	grep "> POST /ok?<redacted> HTTP/1.1$" err &&
	test_no_leak CANARY-tls err
'

# The system bundle is swapped for one holding only sysca, in a private
# mount namespace: ca_file must add to it, not replace it.
test_expect_success TLS,UNSHARE 'ca_file adds to the system anchors' '
	cp sysca.pem bundle.pem &&
	cat >both.sh <<-EOF &&
	mount --bind "$TRASH/bundle.pem" /etc/ssl/certs/ca-certificates.crt &&
	printf "url=%s/ok\nca_file=%s\n" "$SYS_BASE" "$TRASH/ca.pem" |
	"$DRIVER" "$MODULE" >sys.out &&
	printf "url=%s/ok\nca_file=%s\n" "$TLS_BASE" "$TRASH/ca.pem" |
	"$DRIVER" "$MODULE" >extra.out
	EOF
	unshare -rm sh both.sh &&
	grep "^status=200$" sys.out &&
	grep "^status=200$" extra.out &&
	printf "url=%s/ok\nca_file=%s\n" "$SYS_BASE" "$TRASH/ca.pem" >req &&
	test_must_fail "$DRIVER" "$MODULE" <req >out &&
	expect_error 7 "SSL certificate problem"
'

test_done
