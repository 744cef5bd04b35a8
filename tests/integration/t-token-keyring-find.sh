#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-token-keyring-find.sh -- `keyring auto` finds the token wherever it is:
#  - from cron (env -i: no DBUS_SESSION_BUS_ADDRESS, no XDG_RUNTIME_DIR)
#    the user's session bus at /run/user/UID/bus, and with XDG_RUNTIME_DIR
#    the one at $XDG_RUNTIME_DIR/bus: a token stored in the Secret Service
#    sends;
#  - a token in the kernel keyring while the Secret Service is there is
#    used, and its refresh is written back to the kernel keyring;
#  - with the collection locked and the token in neither keyring, the
#    send waits in the queue saying the keyring is locked and how to
#    unlock it, not "no token".
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
command -v gnome-keyring-daemon >/dev/null && command -v dbus-daemon >/dev/null &&
    command -v secret-tool >/dev/null || skip_all "gnome-keyring, dbus-daemon or secret-tool missing"
start_oauth || bail "OAuth server did not start"
start_smtpd || bail "SMTP server did not start"
start_kernel_keyring || skip_all "no kernel keyring"

# The user's session bus as systemd --user makes it: a socket named bus
# in a runtime directory, gnome-keyring on it.
U=$T/xdg
mkdir -p "$U" && chmod 700 "$U"
dbus-daemon --session --fork --nopidfile --address="unix:path=$U/bus" \
    --print-pid=4 4>"$U/pid" 2>"$U/dbus.err" || bail "dbus-daemon: $(cat "$U/dbus.err")"
wait_file "$U/pid" 5 || bail "dbus-daemon did not start"
_lib_pids="$_lib_pids $(cat "$U/pid")"
DBUS_SESSION_BUS_ADDRESS=unix:path=$U/bus
export DBUS_SESSION_BUS_ADDRESS
mkdir -p "$T/gk"
printf 'oauthmail-test' | XDG_DATA_HOME="$T/gk" gnome-keyring-daemon --foreground \
    --unlock --components=secrets >"$T/gk.out" 2>"$T/gk.err" &
_lib_pids="$_lib_pids $!"
wait_for 10 _keyring_up || bail "gnome-keyring did not come up: $(cat "$T/gk.err")"
printf x | timeout 10 secret-tool store --label=probe service oauthmail-probe probe 1 ||
    bail "the login collection is not usable"

KEYRING=auto write_config "" "timeout 10"
at_exit "KEYRING=kernel keyring_del $ACCOUNT token; KEYRING=secret-service keyring_del $ACCOUNT token"
ss_rec() {
	timeout 10 secret-tool lookup service oauthmail kind token client_id demo-client \
	    token_endpoint "$OAUTH_TOKEN_URL" tenant "" user alice@example.test 2>/dev/null
}
# cron CMD...: run CMD as cron would, with an empty environment.
cron() {
	env -i HOME="$HOME" PATH="$PATH" LOGNAME="$(id -un)" SHELL=/bin/sh "$@"
}

# --- cron, XDG_RUNTIME_DIR set: $XDG_RUNTIME_DIR/bus -------------------------
KEYRING=secret-service seed_token "$ACCOUNT" || bail "seed"
oauth_ctl POST /_control/reset_stats >/dev/null
test_message | cron XDG_RUNTIME_DIR="$U" "$OAUTHMAIL" -C "$CONFIG" bob@example.test \
    >"$T/out" 2>"$T/err"
is "$?" 0 "XDG_RUNTIME_DIR/bus: the send from cron exits 0"
is "$(msg_count)" 1 "XDG_RUNTIME_DIR/bus: delivered"
is "$(oauth_stat counts.token_requests)" 0 "XDG_RUNTIME_DIR/bus: with the Secret Service's token"

# --- cron, no XDG_RUNTIME_DIR: /run/user/UID/bus --------------------------------
if [ "$(id -u)" = 0 ] && unshare --mount --propagation private true 2>/dev/null; then
	uid=$(id -u)
	test_message | cron U="$U" UID_="$uid" unshare --mount --propagation private sh -c '
		mkdir -p /run/user || exit 99
		mount -t tmpfs -o mode=755 om-test-run /run/user || exit 99
		mkdir -m 700 "/run/user/$UID_" && ln -s "$U/bus" "/run/user/$UID_/bus" || exit 98
		unset U UID_
		exec "$@"' sh "$OAUTHMAIL" -C "$CONFIG" bob@example.test >"$T/out" 2>"$T/err"
	is "$?" 0 "/run/user/UID/bus: the send from cron exits 0"
	is "$(msg_count)" 2 "/run/user/UID/bus: delivered"
	is "$(oauth_stat counts.token_requests)" 0 "/run/user/UID/bus: with the Secret Service's token"
else
	skip "needs root and unshare --mount for a private /run/user" 3
fi

# --- the token in the kernel keyring, the Secret Service there ------------------
KEYRING=secret-service keyring_del "$ACCOUNT" token
KEYRING=kernel seed_token "$ACCOUNT" "" "expires_in=-1" || bail "seed"
old_rt=$SEED_REFRESH
oauth_ctl POST /_control/reset_stats >/dev/null
send_msg bob@example.test
is "$RC" 0 "kernel keyring: the send exits 0"
is "$(msg_count)" 3 "kernel keyring: delivered"
is "$(oauth_stat counts.refresh_ok)" 1 "kernel keyring: its expired token was refreshed"
new_rt=$(KEYRING=kernel token_record "$ACCOUNT" refresh_token)
if [ -n "$new_rt" ] && [ "$new_rt" != "$old_rt" ]; then
	pass "kernel keyring: the rotated refresh token is written back there"
else
	fail "kernel keyring: the rotated refresh token is written back there" "got '$new_rt'"
fi
is "$(ss_rec)" "" "kernel keyring: nothing was put in the Secret Service"
run_ok "kernel keyring: status" om status "$ACCOUNT"
like "$(cat "$T/out")" "keyring +kernel" "kernel keyring: status says where the token is"

# --- a locked collection, no token anywhere -------------------------------------
KEYRING=kernel keyring_del "$ACCOUNT" token
dbus-send --session --print-reply --dest=org.freedesktop.secrets \
    /org/freedesktop/secrets org.freedesktop.Secret.Service.Lock \
    array:objpath:/org/freedesktop/secrets/collection/login >"$T/lock.out" 2>&1
Q=$XDG_STATE_HOME/oauthmail/queue
n=$(msg_count)
send_msg bob@example.test
is "$RC" 0 "locked: the send is accepted (exit 0)"
is "$(msg_count)" "$n" "locked: nothing delivered"
is "$(ls "$Q/q" 2>/dev/null | grep -c '\.env$')" 1 "locked: the message waits in the queue, not held"
run_ok "locked: mailq" "$OAUTHMAIL" -bp
like "$(cat "$T/out")" "keyring is locked: unlock it \(log in to the desktop, or run 'oauthmail login $ACCOUNT' there\)" \
    "locked: mailq says to unlock the keyring"
unlike "$(cat "$T/out")" "no token" "locked: not 'no token'"
run_rc 75 "locked: token exits 75" om token "$ACCOUNT"
like "$(cat "$T/err")" "keyring is locked" "locked: token says so"
done_testing
