#!/bin/sh
# t-credentials.sh -- credentials that survive a reboot on a headless
# server. A systemd credential secret.ACCOUNT ($CREDENTIALS_DIRECTORY, as
# LoadCredentialEncrypted= gives it to the unit) supplies the client secret
# and wins over the keyring: a daemon started with an empty keyring and
# only the credential fetches a client-credentials token and delivers, no
# person needed. The credential is read defensively (no symlink, size cap,
# one trailing newline stripped, never printed).
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
done_testing
