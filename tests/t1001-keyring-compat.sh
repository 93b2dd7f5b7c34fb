#!/bin/sh
test_description='items written by git-credential-libsecret are read, and ours by it'
. "${TOKENRING_SOURCE_DIR:-$(dirname "$0")/..}/tests/test-lib.sh"
. "$TEST_DIRECTORY/lib-protocol.sh"

# Debian ships git-credential-libsecret only as source, under git's contrib
# documentation (the old org.gnome.keyring.NetworkPassword layout, git 2.39).
# Build it here, as users do.
contrib=/usr/share/doc/git/contrib/credential/libsecret
if [ -f "$contrib/git-credential-libsecret.c" ] &&
   cc -o git-credential-libsecret "$contrib/git-credential-libsecret.c" \
	$(pkg-config --cflags --libs libsecret-1 glib-2.0) 2>build.log; then
	test_set_prereq OLDHELPER
fi

start_keyring || test_skip_all "cannot start a private keyring"

# (The old helper echoes its input back, so a miss still prints username=.)
old_helper () {
	"$TRASH/git-credential-libsecret" "$@"
}

test_expect_success OLDHELPER 'an item stored by Debian'"'"'s git-credential-libsecret is returned' '
	printf "protocol=https\nhost=old.example.com\nusername=olduser\npassword=PWCANARY-old\n" |
	old_helper store &&
	keyring_public >public &&
	grep "^schema = org.gnome.keyring.NetworkPassword$" public &&
	check get <<-\EOF
	protocol=https
	host=old.example.com
	--
	username=olduser
	password=PWCANARY-old
	--
	EOF
'

test_expect_success OLDHELPER 'old-layout items with a port and a path' '
	printf "protocol=https\nhost=old.example.com:8443\npath=r.git\nusername=p\npassword=PWCANARY-oldport\n" |
	old_helper store &&
	check get <<-\EOF &&
	protocol=https
	host=old.example.com:8443
	path=r.git
	--
	username=p
	password=PWCANARY-oldport
	--
	EOF
	check get <<-\EOF
	protocol=https
	host=old.example.com
	username=p
	--
	--
	EOF
'

test_expect_success OLDHELPER 'through real git, with the old helper removed' '
	cat >request <<-\EOF &&
	protocol=https
	host=old.example.com
	EOF
	git -c credential.helper=tokenring credential fill <request >stdout &&
	grep "^password=PWCANARY-old$" stdout
'

test_expect_success OLDHELPER 'our store leaves the old item alone, and get prefers ours' '
	check store <<-\EOF &&
	protocol=https
	host=old.example.com
	username=olduser
	password=PWCANARY-new
	--
	--
	EOF
	keyring_public >public &&
	grep "^schema = org.gnome.keyring.NetworkPassword$" public &&
	check get <<-\EOF
	protocol=https
	host=old.example.com
	--
	username=olduser
	password=PWCANARY-new
	--
	EOF
'

test_expect_success OLDHELPER 'erase removes matching items of both layouts' '
	check erase <<-\EOF &&
	protocol=https
	host=old.example.com
	username=olduser
	--
	--
	EOF
	check get <<-\EOF &&
	protocol=https
	host=old.example.com
	username=olduser
	--
	--
	EOF
	printf "protocol=https\nhost=old.example.com\nusername=olduser\n" |
	old_helper get >out &&
	! grep "^password=" out
'

test_expect_success OLDHELPER 'erase with a distinct password keeps an old-layout item' '
	printf "protocol=https\nhost=keep.example.com\nusername=k\npassword=PWCANARY-keep\n" |
	old_helper store &&
	check erase <<-\EOF &&
	protocol=https
	host=keep.example.com
	username=k
	password=wrong
	--
	--
	EOF
	printf "protocol=https\nhost=keep.example.com\n" | old_helper get >out &&
	grep "^password=PWCANARY-keep$" out
'

test_expect_success OLDHELPER 'the old helper cannot see new-layout items (documented)' '
	check store <<-\EOF &&
	protocol=https
	host=newonly.example.com
	username=n
	password=PWCANARY-newonly
	--
	--
	EOF
	printf "protocol=https\nhost=newonly.example.com\n" | old_helper get >out &&
	test_must_be_empty out
'

test_expect_success 'our items have exactly the newest helper'"'"'s attributes and secret' '
	check store <<-\EOF &&
	protocol=https
	host=layout.example.com:444
	path=group/repo.git
	username=lay
	password=PWCANARY-layout
	password_expiry_utc=9999999999
	oauth_refresh_token=RTCANARY-layout
	--
	--
	EOF
	secret-tool search --all xdg:schema org.git.Password server layout.example.com >item 2>&1 &&
	sed -n -e "/^label/p" -e "/^attribute/p" -e "/^schema/p" item | sort >actual &&
	cat >expect <<-\EOF &&
	attribute.object = group/repo.git
	attribute.port = 444
	attribute.protocol = https
	attribute.server = layout.example.com
	attribute.user = lay
	label = Git: https://layout.example.com:444/group/repo.git
	schema = org.git.Password
	EOF
	test_cmp expect actual &&
	secret-tool lookup xdg:schema org.git.Password server layout.example.com >secret &&
	printf "PWCANARY-layout\npassword_expiry_utc=9999999999\noauth_refresh_token=RTCANARY-layout" >expect &&
	test_cmp expect secret
'

test_done
