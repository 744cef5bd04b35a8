#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-token-keyring-auto.sh -- `keyring auto`: the Secret Service when a
# session bus and an unlocked collection exist; the kernel keyring without
# DBUS_SESSION_BUS_ADDRESS; with a LOCKED collection, auto falls back to
# the kernel keyring and `keyring secret-service` fails fast saying what to
# unlock -- never a hang (each command is bounded by timeout 20).
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
command -v gnome-keyring-daemon >/dev/null && command -v dbus-daemon >/dev/null ||
    skip_all "gnome-keyring-daemon or dbus-daemon missing"
start_oauth || bail "OAuth server did not start"
start_smtpd || bail "SMTP server did not start"
start_kernel_keyring || skip_all "no kernel keyring"
start_keyring || skip_all "no Secret Service"
KEYRING=auto write_config "" "timeout 10"
at_exit "KEYRING=kernel keyring_del $ACCOUNT token"

# 1. Session bus + unlocked keyring: the Secret Service.
KEYRING=secret-service
seed_token "$ACCOUNT" || bail "seed"
run_ok "status with a session bus" timeout 20 "$OAUTHMAIL" status -C "$CONFIG" "$ACCOUNT"
like "$(cat "$T/out")" "keyring +secret-service" "auto picks the Secret Service"
send_msg bob@example.test
is "$RC" 0 "send via the Secret Service"
is "$(msg_count)" 1 "delivered with the token from the Secret Service"

# 2. No session bus: the kernel keyring.
KEYRING=kernel
seed_token "$ACCOUNT" || bail "seed"
ss_bus=$DBUS_SESSION_BUS_ADDRESS
run_ok "status without a session bus" env -u DBUS_SESSION_BUS_ADDRESS \
    timeout 20 "$OAUTHMAIL" status -C "$CONFIG" "$ACCOUNT"
like "$(cat "$T/out")" "keyring +kernel" "auto picks the kernel keyring"
run_ok "send without a session bus" env -u DBUS_SESSION_BUS_ADDRESS sh -c \
    'printf "Subject: k\n\nbody\n" | timeout 20 "$OAUTHMAIL" bob@example.test'
is "$(msg_count)" 2 "delivered with the token from the kernel keyring"

# 3. A locked collection: lock the login collection over D-Bus
#    (Secret Service Lock needs no prompt; unlocking would).
dbus-send --session --print-reply --dest=org.freedesktop.secrets \
    /org/freedesktop/secrets org.freedesktop.Secret.Service.Lock \
    array:objpath:/org/freedesktop/secrets/collection/login >"$T/lock.out" 2>&1
locked=$(dbus-send --session --print-reply \
    --dest=org.freedesktop.secrets /org/freedesktop/secrets/collection/login \
    org.freedesktop.DBus.Properties.Get string:org.freedesktop.Secret.Collection \
    string:Locked 2>/dev/null | grep -o 'boolean [a-z]*')
is "$locked" "boolean true" "the login collection is locked"
t0=$(date +%s)
run_ok "auto with a locked collection: status" timeout 20 "$OAUTHMAIL" status -C "$CONFIG" "$ACCOUNT"
like "$(cat "$T/out")" "keyring +kernel" "auto falls back to the kernel keyring"
run_ok "auto with a locked collection: token" timeout 20 "$OAUTHMAIL" token -C "$CONFIG" "$ACCOUNT"
is "$(cat "$T/out")" "$SEED_ACCESS" "the token comes from the kernel keyring"
KEYRING=secret-service write_config "$ACCOUNT" "timeout 10"
run_rc 75 "keyring secret-service, locked: token exits 75" \
    timeout 20 "$OAUTHMAIL" token -C "$CONFIG" "$ACCOUNT"
like "$(cat "$T/err")" "locked; unlock it" "and says what to unlock"
n=$(msg_count)
send_msg bob@example.test
is "$RC" 0 "keyring secret-service, locked: send is queued (exit 0)"
is "$(msg_count)" "$n" "nothing sent with a locked keyring"
run_ok "mailq" "$OAUTHMAIL" -bp
like "$(cat "$T/out")" "locked" "mailq says the keyring is locked"
t1=$(date +%s)
if [ $((t1 - t0)) -lt 30 ]; then pass "no hang with a locked collection ($((t1 - t0)) s)"
else fail "no hang with a locked collection" "$((t1 - t0)) s"; fi
done_testing
