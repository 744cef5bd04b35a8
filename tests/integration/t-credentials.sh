#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-credentials.sh -- credentials that survive a reboot on a headless
# server. A systemd credential secret.ACCOUNT ($CREDENTIALS_DIRECTORY, as
# LoadCredentialEncrypted= gives it to the unit) supplies the client secret
# (password.ACCOUNT a password) and wins over the keyring: a daemon
# started with an empty keyring and only the credential fetches a
# client-credentials token and delivers, no person needed. The credential is read defensively (no symlink, size cap,
# one trailing newline stripped, never printed).
# With the credential token-key (32 random bytes) the token record is
# also kept sealed (AES-256-GCM) in the queue directory: after a
# "reboot" (a fresh user namespace, whose kernel keyring is empty) the
# next send and the daemon restore it from there, refresh the rotating
# refresh token and deliver without a new sign-in; an altered copy or
# another key is refused; a logout removes the copy.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
start_kernel_keyring || skip_all "no kernel keyring"
start_oauth || bail "OAuth server did not start"
start_smtpd || bail "SMTP server did not start"
Q=$XDG_STATE_HOME/oauthmail/queue
nq() { ls "$Q/$1" 2>/dev/null | grep -c '\.env$'; }

# ---------------------------------------------------- client secret ----
write_config "cc$$" "timeout 10" "client_id conf-client" \
    "flow client_credentials" "scope https://outlook.office365.com/.default"
at_exit "keyring_del $ACCOUNT token; keyring_del $ACCOUNT client_secret"
CRED=$T/credentials
mkdir -m 700 "$CRED"
# What systemd-creds decrypts from a secret typed on a terminal: a newline.
printf 'conf-secret\n' >"$CRED/secret.$ACCOUNT"
chmod 400 "$CRED/secret.$ACCOUNT"

run_rc 78 "no credential, no keyring secret: token exits 78" om token "$ACCOUNT"
like "$(cat "$T/err")" "--systemd-credential" "the error names --systemd-credential"
run_ok "with CREDENTIALS_DIRECTORY: token exits 0" \
    env CREDENTIALS_DIRECTORY="$CRED" "$OAUTHMAIL" token -C "$CONFIG" "$ACCOUNT"
is "$(oauth_stat counts.client_credentials_ok)" 1 "one client_credentials grant with the credential's secret"
isnt "$(token_record "$ACCOUNT" access_token)" "" "the access token is in the keyring"
keyring_get "$ACCOUNT" client_secret >/dev/null
is "$?" 1 "the credential is not copied into the keyring"

# The credential wins over the keyring.
keyring_put "$ACCOUNT" client_secret wrong-secret || bail "keyring_put"
keyring_del "$ACCOUNT" token
run_rc 78 "a wrong secret in the keyring alone: invalid_client, exit 78" \
    om token "$ACCOUNT"
run_ok "the credential wins over the keyring's wrong secret" \
    env CREDENTIALS_DIRECTORY="$CRED" "$OAUTHMAIL" token -C "$CONFIG" "$ACCOUNT"
run_ok "status with the credential" \
    env CREDENTIALS_DIRECTORY="$CRED" "$OAUTHMAIL" status -C "$CONFIG" "$ACCOUNT"
like "$(cat "$T/out")" "client secret +systemd credential secret.$ACCOUNT" \
    "status says the credential supplies the client secret"
keyring_del "$ACCOUNT" client_secret

# ---- the daemon: empty keyring, only the credential, mail waiting.
keyring_del "$ACCOUNT" token
oauth_ctl POST /_control/reset_stats >/dev/null
n0=$(msg_count)
for i in 1 2 3; do
	printf 'To: bob@example.test\nSubject: cred-daemon-%s\n\nbody\n' "$i" |
	    "$OAUTHMAIL" -C "$CONFIG" -odq bob@example.test || fail "queueing $i"
done
is "$(nq q)" 3 "three messages wait in the queue"
CREDENTIALS_DIRECTORY=$CRED "$OAUTHMAIL" -C "$CONFIG" -q1h >"$T/daemon.out" 2>&1 &
DPID=$!
_lib_pids="$_lib_pids $DPID"
_all_sent() { [ "$(msg_count)" -ge $((n0 + 3)) ]; }
wait_for 20 _all_sent
is "$(msg_count)" "$((n0 + 3))" "the daemon delivered all three with no one signed in"
is "$(oauth_stat counts.client_credentials_ok)" 1 "with one client_credentials grant"
is "$(msg_field auth_user)" "alice@example.test" "authenticated as the account's user"
is "$(nq q)" 0 "the queue is empty"
kill -TERM "$DPID" 2>/dev/null
wait "$DPID" 2>/dev/null
if grep -l "conf-secret" "$T/daemon.out" "$T/oauthmail.log" "$T/out" "$T/err" \
    >"$T/leak" 2>/dev/null; then
	fail "the secret is in no log or output" "$(cat "$T/leak")"
else
	pass "the secret is in no log or output"
fi

# ---- defensive reading: each bad credential is refused with one line.
bad_cred() {	# bad_cred DESC SETUP
	rm -rf "$T/bad"
	mkdir -m 700 "$T/bad"
	(cd "$T/bad" && eval "$2")
	keyring_del "$ACCOUNT" token
	run_rc 78 "$1: refused (exit 78)" \
	    env CREDENTIALS_DIRECTORY="$T/bad" "$OAUTHMAIL" token -C "$CONFIG" "$ACCOUNT"
	is "$(wc -l <"$T/err" | tr -d ' ')" 1 "$1: one line on stderr"
	unlike "$(cat "$T/err")" "conf-secret" "$1: the secret is not shown"
}
bad_cred "a symlink" "printf 'conf-secret' >real; ln -s real secret.$ACCOUNT"
like "$(cat "$T/err")" "symbolic link" "a symlink: the message says so"
bad_cred "an empty file" ": >secret.$ACCOUNT"
like "$(cat "$T/err")" "empty" "an empty file: the message says so"
bad_cred "17 KiB" "head -c 17000 /dev/zero | tr '\\0' x >secret.$ACCOUNT"
like "$(cat "$T/err")" "larger than" "17 KiB: the message says so"
bad_cred "a directory" "mkdir secret.$ACCOUNT"
bad_cred "writable by others" "printf 'conf-secret' >secret.$ACCOUNT; chmod 666 secret.$ACCOUNT"
if command -v mkfifo >/dev/null; then
	bad_cred "a FIFO (no hang)" "mkfifo secret.$ACCOUNT"
fi
# Only one newline is stripped: "secret\n\n" is not "secret".
rm -f "$T/bad/secret.$ACCOUNT"
printf 'conf-secret\n\n' >"$T/bad/secret.$ACCOUNT"
run_rc 78 "two trailing newlines: only one is stripped (the server refuses)" \
    env CREDENTIALS_DIRECTORY="$T/bad" "$OAUTHMAIL" token -C "$CONFIG" "$ACCOUNT"
printf 'conf-secret\r\n' >"$T/bad/secret.$ACCOUNT"
run_ok "a CRLF line end is stripped" \
    env CREDENTIALS_DIRECTORY="$T/bad" "$OAUTHMAIL" token -C "$CONFIG" "$ACCOUNT"
# No CREDENTIALS_DIRECTORY entry for the account: the keyring is used.
keyring_put "$ACCOUNT" client_secret conf-secret || bail "keyring_put"
keyring_del "$ACCOUNT" token
run_ok "a credentials directory without secret.ACCOUNT: the keyring's secret" \
    env CREDENTIALS_DIRECTORY="$T/run" "$OAUTHMAIL" token -C "$CONFIG" "$ACCOUNT"
keyring_del "$ACCOUNT" client_secret

# ---- password.ACCOUNT supplies a PLAIN/LOGIN account's password.
PWACCT=pw$$
write_config "$PWACCT" "auth plain" "timeout 10"
sed -i '/^provider\|^client_id\|^token_endpoint/d' "$CONFIG"
at_exit "keyring_del $PWACCT password"
printf 'testpass\n' >"$CRED/password.$PWACCT"
chmod 400 "$CRED/password.$PWACCT"
n0=$(msg_count)
printf 'To: bob@example.test\nSubject: pw-cred\n\nbody\n' >"$T/msg"
run_ok "a password account with only the credential sends" sh -c \
    'CREDENTIALS_DIRECTORY="$1" "$OAUTHMAIL" -odi bob@example.test <"$2"' \
    - "$CRED" "$T/msg"
is "$(msg_count)" "$((n0 + 1))" "delivered with the credential's password"
is "$(msg_field auth_mech)" "PLAIN" "authenticated with PLAIN"
keyring_get "$PWACCT" password >/dev/null
is "$?" 1 "the password is not copied into the keyring"
write_config "cc$$" "timeout 10" "client_id conf-client" \
    "flow client_credentials" "scope https://outlook.office365.com/.default"

# ---- oauthmail secret ACCOUNT --systemd-credential prints the recipe.
run_ok "secret --systemd-credential exits 0" om secret "$ACCOUNT" --systemd-credential
file_contains "$T/out" "^systemd-creds encrypt --name=secret\\.$ACCOUNT - /etc/credstore\\.encrypted/secret\\.$ACCOUNT\$" \
    "it prints the systemd-creds command"
file_contains "$T/out" "^LoadCredentialEncrypted=secret\\.$ACCOUNT:/etc/credstore\\.encrypted/secret\\.$ACCOUNT\$" \
    "and the LoadCredentialEncrypted= line"
file_contains "$T/out" "^\\[Service\\]\$" "in a [Service] drop-in"
run_rc 78 "--systemd-credential for an unknown account exits 78" \
    om secret nosuch --systemd-credential
run_rc 64 "--systemd-credential with another command is a usage error" \
    om token "$ACCOUNT" --systemd-credential

# With systemd-creds and a host key already there, the recipe round-trips.
if command -v systemd-creds >/dev/null 2>&1 &&
    [ -r /var/lib/systemd/credential.secret ]; then
	printf 'conf-secret\n' | systemd-creds encrypt --name="secret.$ACCOUNT" - \
	    "$T/secret.cred" 2>"$T/sc.err"
	mkdir -m 700 "$T/dec"
	systemd-creds decrypt --name="secret.$ACCOUNT" "$T/secret.cred" \
	    "$T/dec/secret.$ACCOUNT" 2>>"$T/sc.err"
	keyring_del "$ACCOUNT" token
	run_ok "a secret sealed and unsealed by systemd-creds works" \
	    env CREDENTIALS_DIRECTORY="$T/dec" "$OAUTHMAIL" token -C "$CONFIG" "$ACCOUNT"
else
	skip "no systemd-creds with a host key" 1
fi

# ------------------------------------------------- sealed token copy ----
# fresh_boot CMD...: CMD in a new user namespace with its own (empty)
# kernel keyrings, as after a reboot; files and network are the same.
fresh_boot() {
	unshare --user --map-root-user sh -c '
		exec 3>&2 2>/dev/null	# keyctl says "Joined session keyring"
		exec keyctl session - sh -c "exec 2>&3 3>&-; exec \"\$@\"" sh "$@"
	' sh "$@"
}
if ! fresh_boot true || ! fresh_boot sh -c \
    'p=$(keyctl get_persistent @s) && [ -z "$(keyctl rlist "$p")" ]'; then
	skip "no user namespace with a fresh kernel keyring" 32
	done_testing
fi
SEALACCT=seal$$
write_config "$SEALACCT" "timeout 10" "refresh_margin 0"
at_exit "keyring_del $SEALACCT token"
KEYDIR=$T/sealcred
mkdir -m 700 "$KEYDIR"
head -c 32 /dev/urandom >"$KEYDIR/token-key"
chmod 400 "$KEYDIR/token-key"
SEALED=$Q/token-$SEALACCT.sealed
omk() { CREDENTIALS_DIRECTORY=$KEYDIR "$@"; }
sendk() {	# sendk SUBJECT [fresh_boot]: a send with the key
	printf 'To: bob@example.test\nSubject: %s\n\nbody\n' "$1" >"$T/msg"
	${2:+fresh_boot} env CREDENTIALS_DIRECTORY="$KEYDIR" \
	    "$OAUTHMAIL" -C "$CONFIG" -odi bob@example.test <"$T/msg" \
	    >"$T/out" 2>"$T/err"
	RC=$?
}
arrived() { msg_list >/dev/null; grep -l "^Subject: $1[[:space:]]*\$" "$SMTP_MAILDIR"/new/*.eml 2>/dev/null | wc -l | tr -d ' '; }

# A sign-in made without the key (the keyring only), then an expired
# access token: the send refreshes and seals the record.
oauth_config "access_ttl=3" >/dev/null
seed_token "$SEALACCT" "" "expires_in=1" || bail "seed"
sleep 2
r0=$(oauth_stat counts.refresh_ok)
sendk seal-1
is "$RC" 0 "sealed: a send with the key exits 0"
is "$(arrived seal-1)" 1 "sealed: delivered"
is "$(oauth_stat counts.refresh_ok)" "$((r0 + 1))" "sealed: one refresh"
if [ -f "$SEALED" ]; then pass "sealed: the copy is in the queue directory"
else fail "sealed: the copy is in the queue directory" "$(ls -la "$Q")"; fi
is "$(stat -c %a "$SEALED" 2>/dev/null)" 600 "sealed: mode 0600"
is "$(stat -c %u "$SEALED" 2>/dev/null)" "$(id -u)" "sealed: owned by the user"
rt=$(token_record "$SEALACCT" refresh_token)
if [ -n "$rt" ] && ! grep -qaF "$rt" "$SEALED" && ! grep -qa refresh_token "$SEALED"; then
	pass "sealed: no refresh token in clear in the file"
else
	fail "sealed: no refresh token in clear in the file"
fi
run_ok "status shows the sealed copy" omk "$OAUTHMAIL" status -C "$CONFIG" "$SEALACCT"
like "$(cat "$T/out")" "sealed copy +kept" "status says the copy is kept"
run_ok "status without the key" om status "$SEALACCT"
like "$(cat "$T/out")" "sealed copy +present, but no token-key credential here" \
    "status without the key says a copy is there"
like "$(cat "$T/out")" "sealed written +.* min ago" "and when it was written"

# Reboot 1: the keyring is empty; the send restores the record, refreshes
# the (expired) access token with the sealed refresh token and delivers.
sleep 4
before=$(od -An -tx1 "$SEALED" | tr -d ' \n')
r0=$(oauth_stat counts.refresh_ok)
sendk seal-2 fresh_boot
is "$RC" 0 "after a reboot: the send exits 0"
[ "$RC" = 0 ] || diag "$(cat "$T/err")"
is "$(arrived seal-2)" 1 "after a reboot: delivered without a new sign-in"
is "$(oauth_stat counts.refresh_ok)" "$((r0 + 1))" "after a reboot: refreshed with the sealed refresh token"
after=$(od -An -tx1 "$SEALED" | tr -d ' \n')
isnt "$after" "$before" "after a reboot: the rotated refresh token is sealed again"
log_contains "restored from the sealed copy" "the restore is logged"

# Reboot 2: the daemon, with mail waiting, comes back by itself.
sleep 4
printf 'To: bob@example.test\nSubject: seal-3\n\nbody\n' |
    "$OAUTHMAIL" -C "$CONFIG" -odq bob@example.test
r0=$(oauth_stat counts.refresh_ok)
# unshare and keyctl exec the daemon: $! is its pid.
unshare --user --map-root-user keyctl session - env CREDENTIALS_DIRECTORY="$KEYDIR" \
    "$OAUTHMAIL" -C "$CONFIG" -q1h >"$T/daemon2.out" 2>&1 &
DPID=$!
_lib_pids="$_lib_pids $DPID"
_seal3() { [ "$(arrived seal-3)" -ge 1 ]; }
wait_for 20 _seal3
is "$(arrived seal-3)" 1 "after a reboot: the daemon delivered queued mail by itself"
is "$(oauth_stat counts.refresh_ok)" "$((r0 + 1))" "after a reboot: the daemon refreshed once"
is "$(cat "$Q/daemon.pid" 2>/dev/null)" "$DPID" "the daemon is the process started"
kill -TERM "$DPID" 2>/dev/null
wait "$DPID" 2>/dev/null

# Without the key, a reboot loses the sign-in (what the copy is for).
run_fails "after a reboot without the key: no token" fresh_boot \
    "$OAUTHMAIL" token -C "$CONFIG" "$SEALACCT"
like "$(cat "$T/err")" "oauthmail login" "... and it says to sign in"

# Another key, or an altered file: refused with one line, nothing sent.
head -c 32 /dev/urandom >"$T/otherkey"
mkdir -m 700 "$T/other"
cp "$T/otherkey" "$T/other/token-key"
run_rc 77 "another key: refused (exit 77, sign-in needed)" fresh_boot \
    env CREDENTIALS_DIRECTORY="$T/other" "$OAUTHMAIL" token -C "$CONFIG" "$SEALACCT"
like "$(cat "$T/err")" "does not open with this key" "another key: the message says so"
cp "$SEALED" "$T/sealed.bak"
$PY -c 'import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[30] ^= 1
open(p, "wb").write(b)' "$SEALED"
run_rc 77 "an altered copy: refused (exit 77)" fresh_boot \
    env CREDENTIALS_DIRECTORY="$KEYDIR" "$OAUTHMAIL" token -C "$CONFIG" "$SEALACCT"
is "$(wc -l <"$T/err" | tr -d ' ')" 1 "an altered copy: one line on stderr"
cp "$T/sealed.bak" "$SEALED"
run_ok "the intact copy opens again" fresh_boot \
    env CREDENTIALS_DIRECTORY="$KEYDIR" "$OAUTHMAIL" token -C "$CONFIG" "$SEALACCT"

# A malformed key is a configuration error that names the fix.
printf 'too short' >"$T/other/k"
rm -f "$T/other/token-key"
mv "$T/other/k" "$T/other/token-key"
run_rc 78 "a malformed token-key: exit 78" \
    env CREDENTIALS_DIRECTORY="$T/other" "$OAUTHMAIL" token -C "$CONFIG" "$SEALACCT"
like "$(cat "$T/err")" "--seal-key" "it names oauthmail secret --seal-key"

# A logout, even without the key, removes the sealed copy for good.
run_ok "logout" om logout "$SEALACCT"
if [ ! -e "$SEALED" ]; then pass "logout removed the sealed copy"
else fail "logout removed the sealed copy"; fi
run_fails "after logout and a reboot: no token" fresh_boot \
    env CREDENTIALS_DIRECTORY="$KEYDIR" "$OAUTHMAIL" token -C "$CONFIG" "$SEALACCT"

# oauthmail secret --seal-key prints the recipe.
run_ok "secret --seal-key exits 0" om secret --seal-key
file_contains "$T/out" "^head -c 32 /dev/urandom \\| systemd-creds encrypt --name=token-key - /etc/credstore\\.encrypted/token-key\$" \
    "it prints the key's systemd-creds command"
file_contains "$T/out" "^LoadCredentialEncrypted=token-key:/etc/credstore\\.encrypted/token-key\$" \
    "and the LoadCredentialEncrypted= line"
done_testing
