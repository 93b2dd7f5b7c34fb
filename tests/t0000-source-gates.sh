#!/bin/sh
test_description='boundaries the build must keep (STYLE.md sections 1 and 11, SECURITY.md SAN-3/SAN-4)'
. "${TOKENRING_SOURCE_DIR:-$(dirname "$0")/..}/tests/test-lib.sh"

src=$TOKENRING_SOURCE_DIR
sources () {
	find "$src/helper" "$src/keyring" "$src/providers" "$src/include" \
		-name '*.[ch]'
}

test_expect_success 'only helper/http-curl.c includes curl' '
	sources | xargs grep -l "include <curl/" >found &&
	echo "$src/helper/http-curl.c" >expect &&
	test_cmp expect found
'

test_expect_success 'only keyring/ includes libsecret' '
	sources | xargs grep -l "include <libsecret/" >found &&
	! grep -v "^$src/keyring/" found &&
	test -s found
'

test_expect_success 'providers include the ABI header, GLib and libc, nothing else' '
	find "$src/providers" -name "*.c" | xargs grep -h "^#include" >incs &&
	grep -q "<tokenring/provider.h>" incs &&
	! grep -E "<(curl|libsecret|json-c|gio)/|\"" incs
'

test_expect_success 'no dangerous libcurl settings, no secrets from the environment' '
	! sources | xargs grep -n -E "CURLOPT_COPYPOSTFIELDS|FOLLOWLOCATION, *1|SSL_VERIFYPEER, *0|SSL_VERIFYHOST, *0" &&
	! sources | xargs grep -n -E "getenv\\(\"[A-Z_]*(TOKEN|SECRET|PASSWORD)\"\\)" &&
	sources | xargs grep -l "CURLOPT_VERBOSE" >verbose &&
	echo "$src/helper/http-curl.c" >expect &&
	test_cmp expect verbose &&
	grep -q "CURLOPT_DEBUGFUNCTION" "$src/helper/http-curl.c"
'

test_expect_success 'no banned functions' '
	! sources | xargs grep -n -E "[^a-z_](strcpy|sprintf|strtok|atoi|gets)\\(" 
'

test_expect_success 'the programs do not link libcurl' '
	for p in tokenring git-credential-tokenring docker-credential-tokenring; do
		readelf -d "$BUILD_DIR/$p" >dyn || return 1
		grep -q NEEDED dyn && ! grep libcurl dyn || return 1
	done
'

test_expect_success 'each module exports exactly its one symbol' '
	for so in "$BUILD_DIR"/providers/.libs/*.so; do
		nm -D --defined-only "$so" | awk "{print \$3}" |
			grep -v "^_" >syms || return 1
		echo tkr_provider_v1 >expect &&
		test_cmp expect syms || return 1
	done &&
	nm -D --defined-only "$BUILD_DIR/.libs/tokenring-http.so" |
		awk "{print \$3}" | grep -v "^_" >syms &&
	echo tkr_http_v1 >expect &&
	test_cmp expect syms
'

test_done
