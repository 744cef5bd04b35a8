#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-login-progress.sh -- while the device and browser sign-ins wait, a
# terminal shows what they wait for and how long is left, one status line
# rewritten in place with \r (at most once a second); redirected to a
# file, stderr gets nothing of it. The terminal is a pty from script(1).
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
command -v curl >/dev/null || skip_all "curl missing"
command -v script >/dev/null || skip_all "script (util-linux) missing"
start_kernel_keyring || start_keyring || skip_all "no keyring available"
start_oauth || bail "oauth server did not start"
write_config "" "auth_endpoint $OAUTH_AUTH_URL" \
    "device_endpoint $OAUTH_DEVICE_URL"
at_exit "keyring_del $ACCOUNT token"
unset DISPLAY WAYLAND_DISPLAY
CR=$(printf '\r')

# Runs `oauthmail login ACCOUNT ARGS` on a pty; its output goes to $T/tty.
login_tty() {
	: >"$T/tty"
	script -qfec "'$OAUTHMAIL' login -C '$CONFIG' '$ACCOUNT' $*" /dev/null \
	    >"$T/tty" 2>&1 </dev/null &
	LOGIN_PID=$!
}

login_file() {
	: >"$T/login.err"
	om login "$ACCOUNT" "$@" >"$T/login.out" 2>"$T/login.err" </dev/null &
	LOGIN_PID=$!
}

wait_login() {
	wait_bg "$LOGIN_PID" "${1:-30}"
}

# How many times the status line WHAT was written.
updates() {
	tr '\r' '\n' <"$1" | grep -c "^$2: [0-9]*:[0-5][0-9] left"
}

# --- device flow on a terminal ------------------------------------------------
login_tty --device
wait_for 20 sh -c "tr '\r' '\n' <'$T/tty' | grep -c 'waiting for the sign-in: ' | grep -qv '^[01]$'"
n=$(updates "$T/tty" "waiting for the sign-in")
if [ "$n" -ge 2 ]; then pass "the device flow's status line is rewritten ($n times)"; else
	fail "the device flow's status line is rewritten" "$(cat -v "$T/tty")"; fi
like "$(tr '\r' '\n' <"$T/tty")" "waiting for the sign-in: 1[45]:[0-5][0-9] left" \
    "it says how long is left (15 minutes to begin with)"
oauth_ctl POST "/_control/device/approve" >/dev/null
wait_login 30
is "$RC" 0 "login on a terminal exits 0"
like "$(cat "$T/tty")" "signed in as" "and says who signed in"
# The line is erased before the next message: \r, erase to the end.
like "$(cat -v "$T/tty")" "\\^M\\^\\[\\[Koauthmail: signed in" \
    "the status line is erased before the result"
keyring_del "$ACCOUNT" token

# --- at most once a second ------------------------------------------------------
start=$(date +%s)
login_tty --device
sleep 3
oauth_ctl POST "/_control/device/approve" >/dev/null
wait_login 30
secs=$(( $(date +%s) - start + 1 ))
n=$(updates "$T/tty" "waiting for the sign-in")
if [ "$n" -le "$secs" ]; then pass "at most one update a second ($n in about $secs s)"; else
	fail "at most one update a second" "$n updates in $secs s"; fi
keyring_del "$ACCOUNT" token

# --- device flow, stderr to a file: nothing extra -------------------------------
login_file --device
wait_for 20 grep -q "waiting up to" "$T/login.err"
sleep 2
oauth_ctl POST "/_control/device/approve" >/dev/null
wait_login 30
is "$RC" 0 "login with stderr to a file exits 0"
unlike "$(cat "$T/login.err")" "left|$CR" "no status line and no carriage return in the file"
keyring_del "$ACCOUNT" token

# --- browser flow on a terminal ---------------------------------------------------
login_tty --browser
wait_for 20 sh -c "tr '\r' '\n' <'$T/tty' | grep -c 'waiting for the browser: ' | grep -qv '^[01]$'"
n=$(updates "$T/tty" "waiting for the browser")
if [ "$n" -ge 2 ]; then pass "the browser flow's status line is rewritten ($n times)"; else
	fail "the browser flow's status line is rewritten" "$(cat -v "$T/tty")"; fi
like "$(tr '\r' '\n' <"$T/tty")" "waiting for the browser: [45]:[0-5][0-9] left" \
    "it says how long is left (5 minutes to begin with)"
AUTH_URL=$(tr -d '\r' <"$T/tty" | grep "^    $OAUTH_AUTH_URL?" | head -n 1 | sed 's/^ *//')
LOC=$(curl -sS --max-time 20 --cacert "$CERTS/ca.pem" -o /dev/null -w '%{redirect_url}' "$AUTH_URL")
curl -sS --max-time 30 -o /dev/null "$LOC"
wait_login 30
is "$RC" 0 "the browser sign-in on a terminal exits 0"
keyring_del "$ACCOUNT" token

# --- browser flow, stderr to a file: nothing extra ------------------------------
login_file --browser
wait_for 20 grep -q "^Waiting up to" "$T/login.err"
sleep 2
AUTH_URL=$(grep "^    $OAUTH_AUTH_URL?" "$T/login.err" | head -n 1 | sed 's/^ *//')
LOC=$(curl -sS --max-time 20 --cacert "$CERTS/ca.pem" -o /dev/null -w '%{redirect_url}' "$AUTH_URL")
curl -sS --max-time 30 -o /dev/null "$LOC"
wait_login 30
is "$RC" 0 "the browser sign-in with stderr to a file exits 0"
unlike "$(cat "$T/login.err")" "left|$CR" "no status line and no carriage return in the file"

done_testing
