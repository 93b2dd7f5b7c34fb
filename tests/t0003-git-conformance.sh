#!/bin/sh
test_description='the behaviours of git'"'"'s external-helper battery, through real git'
. "${TOKENRING_SOURCE_DIR:-$(dirname "$0")/..}/tests/test-lib.sh"
. "$TEST_DIRECTORY/lib-protocol.sh"

# docs/PROTOCOLS.md section 5: real "git credential fill|approve|reject"
# with only our helper configured; stdout and stderr compared exactly.
# When no helper answers, git asks this askpass stand-in, which says on
# stderr what it was asked.
start_keyring || test_skip_all "cannot start a private keyring"

cat >askpass <<\EOF
#!/bin/sh
echo >&2 "askpass: $*"
case "$*" in
Username*) echo askpass-username ;;
*) echo askpass-password ;;
esac
EOF
chmod +x askpass
GIT_ASKPASS=$TRASH/askpass
export GIT_ASKPASS
git config --global credential.helper tokenring

# The suite's cleanup: erase every user it uses, with no password.
cleanup_battery () {
	for user in store-user user1 user2 user-expiry user-expiry-overwrite \
		    user4 user-distinct-pass user-overwrite user-erase1 \
		    user-erase2; do
		printf "protocol=https\nhost=example.com\nusername=%s\n" "$user" |
		git credential reject || return 1
	done &&
	printf "protocol=https\nhost=victim.example.com\nusername=user\n" |
	git credential reject &&
	printf "protocol=http\nhost=path.tld\nusername=user\n" |
	git credential reject &&
	printf "protocol=https\nhost=timeout.tld\nusername=user\n" |
	git credential reject &&
	printf "protocol=https\nhost=sso.tld\n" | git credential reject
}

test_expect_success 'cleanup requests succeed silently on an empty keyring' '
	cleanup_battery >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err
'

test_expect_success '1: helper has no existing data' '
	check_git fill <<-\EOF
	protocol=https
	host=example.com
	--
	protocol=https
	host=example.com
	username=askpass-username
	password=askpass-password
	--
	askpass: Username for '"'"'https://example.com'"'"': 
	askpass: Password for '"'"'https://askpass-username@example.com'"'"': 
	EOF
'

test_expect_success '2: helper stores password' '
	check_git approve <<-\EOF
	protocol=https
	host=example.com
	username=store-user
	password=store-pass
	--
	--
	EOF
'

test_expect_success '3: helper can retrieve password' '
	check_git fill <<-\EOF
	protocol=https
	host=example.com
	--
	protocol=https
	host=example.com
	username=store-user
	password=store-pass
	--
	EOF
'

test_expect_success '4: helper requires matching protocol' '
	check_git fill <<-\EOF
	protocol=http
	host=example.com
	--
	protocol=http
	host=example.com
	username=askpass-username
	password=askpass-password
	--
	askpass: Username for '"'"'http://example.com'"'"': 
	askpass: Password for '"'"'http://askpass-username@example.com'"'"': 
	EOF
'

test_expect_success '5: helper requires matching host' '
	check_git fill <<-\EOF
	protocol=https
	host=other.tld
	--
	protocol=https
	host=other.tld
	username=askpass-username
	password=askpass-password
	--
	askpass: Username for '"'"'https://other.tld'"'"': 
	askpass: Password for '"'"'https://askpass-username@other.tld'"'"': 
	EOF
'

test_expect_success '6: helper requires matching username' '
	check_git fill <<-\EOF
	protocol=https
	host=example.com
	username=other
	--
	protocol=https
	host=example.com
	username=other
	password=askpass-password
	--
	askpass: Password for '"'"'https://other@example.com'"'"': 
	EOF
'

test_expect_success '7: helper requires matching path' '
	test_config_path="-c credential.useHttpPath=true" &&
	printf "protocol=http\nhost=path.tld\npath=foo.git\nusername=user\npassword=pass\n" |
	git -c credential.useHttpPath=true credential approve &&
	cat >request <<-\EOF &&
	protocol=http
	host=path.tld
	path=bar.git
	EOF
	git -c credential.useHttpPath=true credential fill <request >stdout 2>stderr &&
	cat >expect <<-\EOF &&
	protocol=http
	host=path.tld
	path=bar.git
	username=askpass-username
	password=askpass-password
	EOF
	test_cmp expect stdout &&
	cat >expect <<-\EOF &&
	askpass: Username for '"'"'http://path.tld/bar.git'"'"': 
	askpass: Password for '"'"'http://askpass-username@path.tld/bar.git'"'"': 
	EOF
	test_cmp expect stderr
'

test_expect_success '8: helper overwrites on store' '
	check_git approve <<-\EOF &&
	protocol=https
	host=example.com
	username=user-overwrite
	password=overwrite-pass1
	--
	--
	EOF
	check_git approve <<-\EOF &&
	protocol=https
	host=example.com
	username=user-overwrite
	password=overwrite-pass2
	--
	--
	EOF
	check_git fill <<-\EOF &&
	protocol=https
	host=example.com
	username=user-overwrite
	--
	protocol=https
	host=example.com
	username=user-overwrite
	password=overwrite-pass2
	--
	EOF
	check_git reject <<-\EOF &&
	protocol=https
	host=example.com
	username=user-overwrite
	password=overwrite-pass2
	--
	--
	EOF
	check_git fill <<-\EOF
	protocol=https
	host=example.com
	username=user-overwrite
	--
	protocol=https
	host=example.com
	username=user-overwrite
	password=askpass-password
	--
	askpass: Password for '"'"'https://user-overwrite@example.com'"'"': 
	EOF
'

test_expect_success '9: helper can forget host' '
	check_git reject <<-\EOF &&
	protocol=https
	host=example.com
	--
	--
	EOF
	check_git fill <<-\EOF
	protocol=https
	host=example.com
	--
	protocol=https
	host=example.com
	username=askpass-username
	password=askpass-password
	--
	askpass: Username for '"'"'https://example.com'"'"': 
	askpass: Password for '"'"'https://askpass-username@example.com'"'"': 
	EOF
'

test_expect_success '10: helper can store multiple users' '
	check_git approve <<-\EOF &&
	protocol=https
	host=example.com
	username=user1
	password=pass1
	--
	--
	EOF
	check_git approve <<-\EOF &&
	protocol=https
	host=example.com
	username=user2
	password=pass2
	--
	--
	EOF
	check_git fill <<-\EOF &&
	protocol=https
	host=example.com
	username=user1
	--
	protocol=https
	host=example.com
	username=user1
	password=pass1
	--
	EOF
	check_git fill <<-\EOF
	protocol=https
	host=example.com
	username=user2
	--
	protocol=https
	host=example.com
	username=user2
	password=pass2
	--
	EOF
'

test_expect_success '11: helper does not erase a password distinct from input' '
	check_git approve <<-\EOF &&
	protocol=https
	host=example.com
	username=user-distinct-pass
	password=pass1
	--
	--
	EOF
	check_git reject <<-\EOF &&
	protocol=https
	host=example.com
	username=user-distinct-pass
	password=pass2
	--
	--
	EOF
	check_git fill <<-\EOF
	protocol=https
	host=example.com
	username=user-distinct-pass
	--
	protocol=https
	host=example.com
	username=user-distinct-pass
	password=pass1
	--
	EOF
'

test_expect_success '12: helper can forget user' '
	check_git reject <<-\EOF &&
	protocol=https
	host=example.com
	username=user1
	--
	--
	EOF
	check_git fill <<-\EOF
	protocol=https
	host=example.com
	username=user1
	--
	protocol=https
	host=example.com
	username=user1
	password=askpass-password
	--
	askpass: Password for '"'"'https://user1@example.com'"'"': 
	EOF
'

test_expect_success '13: helper remembers other user' '
	check_git fill <<-\EOF
	protocol=https
	host=example.com
	username=user2
	--
	protocol=https
	host=example.com
	username=user2
	password=pass2
	--
	EOF
'

test_expect_success '14: helper can store empty username' '
	check_git approve <<-\EOF &&
	protocol=https
	host=sso.tld
	username=
	password=
	--
	--
	EOF
	check_git fill <<-\EOF
	protocol=https
	host=sso.tld
	--
	protocol=https
	host=sso.tld
	username=
	password=
	--
	EOF
'

test_expect_success '15: helper erases all matching credentials' '
	check_git approve <<-\EOF &&
	protocol=https
	host=example.com
	username=user-erase1
	password=pass1
	--
	--
	EOF
	check_git approve <<-\EOF &&
	protocol=https
	host=example.com
	username=user-erase2
	password=pass1
	--
	--
	EOF
	check_git reject <<-\EOF &&
	protocol=https
	host=example.com
	--
	--
	EOF
	check_git fill <<-\EOF
	protocol=https
	host=example.com
	--
	protocol=https
	host=example.com
	username=askpass-username
	password=askpass-password
	--
	askpass: Username for '"'"'https://example.com'"'"': 
	askpass: Password for '"'"'https://askpass-username@example.com'"'"': 
	EOF
'

test_expect_success GIT_2_41 '16: helper not confused by long header' '
	check_git approve <<-\EOF &&
	protocol=https
	host=victim.example.com
	username=user
	password=to-be-stolen
	--
	--
	EOF
	pad=$(head -c 1001 /dev/zero | tr "\0" a) &&
	printf "protocol=https\nhost=badguy.example.com\nwwwauth[]=basic realm=%shost=victim.example.com\n" "$pad" >request &&
	git credential fill <request >stdout 2>stderr &&
	! grep to-be-stolen stdout &&
	grep "^password=askpass-password$" stdout
'

test_expect_success '17: helper stores password_expiry_utc' '
	check_git approve <<-\EOF
	protocol=https
	host=example.com
	username=user-expiry
	password=pass
	password_expiry_utc=9999999999
	--
	--
	EOF
'

test_expect_success GIT_2_40 '18: helper gets password_expiry_utc' '
	check_git fill <<-\EOF
	protocol=https
	host=example.com
	username=user-expiry
	--
	protocol=https
	host=example.com
	username=user-expiry
	password=pass
	password_expiry_utc=9999999999
	--
	EOF
'

test_expect_success GIT_2_40 '19: helper overwrites when password_expiry_utc changes' '
	check_git approve <<-\EOF &&
	protocol=https
	host=example.com
	username=user-expiry-overwrite
	password=pass1
	password_expiry_utc=9999999998
	--
	--
	EOF
	check_git approve <<-\EOF &&
	protocol=https
	host=example.com
	username=user-expiry-overwrite
	password=pass2
	password_expiry_utc=9999999999
	--
	--
	EOF
	check_git fill <<-\EOF &&
	protocol=https
	host=example.com
	username=user-expiry-overwrite
	--
	protocol=https
	host=example.com
	username=user-expiry-overwrite
	password=pass2
	password_expiry_utc=9999999999
	--
	EOF
	check_git reject <<-\EOF &&
	protocol=https
	host=example.com
	username=user-expiry-overwrite
	password=pass2
	--
	--
	EOF
	check_git fill <<-\EOF
	protocol=https
	host=example.com
	username=user-expiry-overwrite
	--
	protocol=https
	host=example.com
	username=user-expiry-overwrite
	password=askpass-password
	--
	askpass: Password for '"'"'https://user-expiry-overwrite@example.com'"'"': 
	EOF
'

test_expect_success '20: helper stores oauth_refresh_token' '
	check_git approve <<-\EOF
	protocol=https
	host=example.com
	username=user4
	password=pass
	oauth_refresh_token=xyzzy
	--
	--
	EOF
'

test_expect_success GIT_2_41 '21: helper gets oauth_refresh_token' '
	check_git fill <<-\EOF
	protocol=https
	host=example.com
	username=user4
	--
	protocol=https
	host=example.com
	username=user4
	password=pass
	oauth_refresh_token=xyzzy
	--
	EOF
'

test_expect_success 'the cleanup requests really delete, silently' '
	cleanup_battery >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	keyring_public >public &&
	! grep -e "^attribute.server = example.com" \
	       -e "^attribute.server = sso.tld" public
'

test_done
