# A private Secret Service for integration tests (docs/SECURITY.md section
# 7): our own dbus-daemon session bus on a socket in the trash directory,
# and a real gnome-keyring-daemon on it, unlocked with a known password.
# Both are stopped by pid when the script exits.  The user's bus and
# keyring are never touched.
#
#   start_bus [SERVICE_DIR]  private bus only (no Secret Service)
#   start_keyring            private bus plus gnome-keyring-daemon
#   stop_keyring_daemon, start_keyring_daemon   restart the daemon alone
#   lock_keyring             lock the login collection (D-Bus Lock method)
#   keyring_items            list git items as secret-tool shows them
#   keyring_public           only their labels, schemas and attributes

# The caller's bus, remembered to refuse ever running against it.
caller_bus_=${DBUS_SESSION_BUS_ADDRESS:-}
unset DBUS_SESSION_BUS_ADDRESS
keyring_password_=tokenring-test-keyring

start_bus () {
	kdir=$TRASH/.bus
	mkdir -p "$kdir/services" || return 1
	[ -n "$1" ] && kdir_services=$1 || kdir_services=$kdir/services
	cat >"$kdir/bus.conf" <<-CONF
	<!DOCTYPE busconfig PUBLIC
	 "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
	 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
	<busconfig>
	  <type>session</type>
	  <listen>unix:path=$kdir/socket</listen>
	  <auth>EXTERNAL</auth>
	  <servicedir>$kdir_services</servicedir>
	  <limit name="service_start_timeout">120000</limit>
	  <policy context="default">
	    <allow send_destination="*" eavesdrop="true"/>
	    <allow eavesdrop="true"/>
	    <allow own="*"/>
	  </policy>
	</busconfig>
	CONF
	dbus-daemon --config-file="$kdir/bus.conf" --nofork \
		--print-address=3 3>"$kdir/address" 2>"$kdir/bus.log" &
	echo $! >"$kdir/bus.pid"
	test_atexit "kill $!"
	i=0
	while [ ! -s "$kdir/address" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo >&2 "dbus-daemon did not start"; return 1; }
		sleep 0.05
	done
	DBUS_SESSION_BUS_ADDRESS=$(head -n 1 "$kdir/address")
	if [ -n "$caller_bus_" ] &&
	   [ "$DBUS_SESSION_BUS_ADDRESS" = "$caller_bus_" ]; then
		echo "Bail out! private bus equals the caller's bus"
		exit 1
	fi
	export DBUS_SESSION_BUS_ADDRESS
}

bus_has_owner_ () {
	dbus-send --session --print-reply --dest=org.freedesktop.DBus \
		/org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner \
		"string:$1" 2>/dev/null | grep -q 'boolean true'
}

start_keyring () {
	start_bus && start_keyring_daemon
}

# gnome-keyring-daemon on the already running private bus (again, after
# stop_keyring_daemon: the same keyring files, unlocked afresh).
start_keyring_daemon () {
	printf '%s' "$keyring_password_" |
	gnome-keyring-daemon --foreground --unlock --components=secrets \
		>"$TRASH/.bus/keyring.log" 2>&1 &
	echo $! >"$TRASH/.bus/keyring.pid"
	test_atexit "kill $!"
	i=0
	until bus_has_owner_ org.freedesktop.secrets; do
		i=$((i + 1))
		[ $i -lt 200 ] || {
			echo >&2 "gnome-keyring-daemon did not start"
			cat >&2 "$TRASH/.bus/keyring.log"
			return 1
		}
		sleep 0.05
	done
}

stop_keyring_daemon () {
	pid=$(cat "$TRASH/.bus/keyring.pid") &&
	kill "$pid" &&
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done &&
	while bus_has_owner_ org.freedesktop.secrets; do sleep 0.05; done
}

lock_keyring () {
	dbus-send --session --print-reply --dest=org.freedesktop.secrets \
		/org/freedesktop/secrets org.freedesktop.Secret.Service.Lock \
		array:objpath:/org/freedesktop/secrets/collection/login \
		>/dev/null
}

# "label|attr=value,…" for every item in the login collection, sorted:
# enough to check layouts and that no secret sits in a label or attribute.
keyring_items () {
	secret-tool search --all --unlock xdg:schema org.git.Password 2>&1
	secret-tool search --all --unlock \
		xdg:schema org.gnome.keyring.NetworkPassword 2>&1
}

# Only the public part of every item: labels and attributes.
keyring_public () {
	keyring_items | grep -e "^label = " -e "^attribute\." -e "^schema = "
	return 0
}
