# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# Options and account features of the submit path: DSN flags, SMTPUTF8,
# -F, -a and -C, password accounts (PLAIN/LOGIN) with the password from the
# keyring, the Secret Service backend, configuration refusals.
. "$top_srcdir/tests/integration/lib.sh"

start_oauth || bail "OAuth server"
start_smtpd || bail "SMTP server"
start_kernel_keyring || skip_all "no kernel keyring"
write_config
seed_token "$ACCOUNT" || bail "seed"

# DSN: -N, -R, -V become NOTIFY, RET and ENVID.
run_ok "DSN flags" sh -c 'printf "Subject: dsn\n\nx\n" | "$OAUTHMAIL" -N success,delay -R hdrs -V env42 -- bob@example.test'
like "$(msg_field mail_options | tr '\n' ' ')" "RET=HDRS" "RET=HDRS sent"
like "$(msg_field mail_options | tr '\n' ' ')" "ENVID=env42" "ENVID sent"
like "$(msg_field rcpt_options | tr '\n' ' ')" "NOTIFY=SUCCESS,DELAY" "NOTIFY sent"

# A UTF-8 recipient needs SMTPUTF8.
run_ok "UTF-8 recipient" sh -c 'printf "Subject: u\n\nx\n" | "$OAUTHMAIL" "jörg@example.test"'
like "$(msg_field mail_options | tr '\n' ' ')" "SMTPUTF8" "SMTPUTF8 requested"
is "$(msg_field rcpt_tos)" "jörg@example.test" "delivered to the UTF-8 address"

# -F gives the added From: its name.
run_ok "-F full name" sh -c 'printf "Subject: f\n\nx\n" | "$OAUTHMAIL" -F "Backup Robot" bob@example.test'
like "$(msg_header From)" '^"?Backup Robot"? <alice@example\.test>$' "-F names the added From"

# -C and -a pick the file and the account. The kernel keyring is the
# user's (and shared by every test run): the accounts' names are this
# run's own.
SEC=second$$ PWA=pw$$
cp "$CONFIG" "$T/other.conf"
cat >>"$T/other.conf" <<C
account $SEC
host 127.0.0.1
port $SMTP_PORT
tls_trust_file $CERTS/ca.pem
from second@example.test
user alice@example.test
provider custom
client_id demo-client
token_endpoint $OAUTH_URL/token
keyring kernel
C
chmod 600 "$T/other.conf"
at_exit "keyring_del $SEC token"
keyring_put "$SEC" token "$(token_record "$ACCOUNT")"
run_ok "-C FILE -a ACCOUNT" sh -c 'printf "Subject: a\n\nx\n" | OAUTHMAIL_CONFIG=/nonexistent "$OAUTHMAIL" -C "$1" -a "$2" bob@example.test' - "$T/other.conf" "$SEC"
is "$(msg_field mail_from)" "second@example.test" "the named account's address is the sender"
run_ok "account chosen by -f" sh -c 'printf "Subject: a\n\nx\n" | "$OAUTHMAIL" -C "$1" -f second@example.test bob@example.test' - "$T/other.conf"
is "$(msg_field mail_from)" "second@example.test" "-f selects the account whose from matches"
run_rc 78 "unknown account" sh -c 'printf "Subject: a\n\nx\n" | "$OAUTHMAIL" -a nosuch bob@example.test'
like "$(cat "$T/err")" "nosuch" "the error names the account"

# Configuration refusals, each one line with the fix.
printf 'account x\nhost h\nfrom a@b.test\npassword hunter2\n' >"$T/bad1"; chmod 600 "$T/bad1"
run_rc 78 "password in the config refused" "$OAUTHMAIL" -C "$T/bad1" -bp
like "$(cat "$T/err")" "oauthmail password" "names the command that stores it"
is "$(wc -l <"$T/err")" 1 "one line"
cp "$CONFIG" "$T/bad2"; chmod 666 "$T/bad2"
run_rc 78 "world-writable config refused" "$OAUTHMAIL" -C "$T/bad2" -bp
like "$(cat "$T/err")" "chmod" "says how to fix the permissions"
printf 'account x\nhost h\nfrom a@b.test\ntls_certcheck off\n' >"$T/bad3"; chmod 600 "$T/bad3"
run_rc 78 "tls_certcheck off refused" "$OAUTHMAIL" -C "$T/bad3" -bp
run_rc 64 "unknown option" "$OAUTHMAIL" -Z bob@example.test
like "$(cat "$T/err")" "usage" "usage printed"
run_rc 64 "-n refused" "$OAUTHMAIL" -n bob@example.test

# Password account: PLAIN with the password from the keyring, never the file.
write_config "$PWA" "auth plain"
sed -i '/^provider\|^client_id\|^token_endpoint/d' "$CONFIG"
run_rc 0 "a message for a password account without a password is queued" sh -c 'printf "Subject: p\n\nx\n" | "$OAUTHMAIL" bob@example.test'
like "$(cat "$T/oauthmail.log")" "oauthmail password $PWA" "the log says how to store the password"
at_exit "keyring_del $PWA password"
run_ok "oauthmail password reads stdin" sh -c 'printf "testpass\n" | "$OAUTHMAIL" password "$1"' - "$PWA"
is "$(keyring_get "$PWA" password)" "testpass" "password stored in the keyring"
if grep -rq testpass "$T/home" "$CONFIG"; then fail "the password reached a file"; else pass "the password is in no file"; fi
if needs_fake_server "the Postfix tier's Dovecot takes OAuth tokens only, no passwords" 5; then
	n=$(msg_count)
	run_ok "-q sends with AUTH PLAIN" "$OAUTHMAIL" -q
	is "$(msg_count)" "$((n + 1))" "delivered"
	is "$(msg_field auth_mech)" "PLAIN" "authenticated with PLAIN"
	write_config "$PWA" "auth login"
	sed -i '/^provider\|^client_id\|^token_endpoint/d' "$CONFIG"
	run_ok "AUTH LOGIN" sh -c 'printf "Subject: l\n\nx\n" | "$OAUTHMAIL" bob@example.test'
	is "$(msg_field auth_mech)" "LOGIN" "authenticated with LOGIN"
fi
keyring_del "$PWA" password

# The Secret Service backend (gnome-keyring on a private D-Bus session).
if start_keyring; then
	write_config ssacct "keyring secret-service"
	seed_token ssacct || bail "seed into the Secret Service"
	run_ok "send with the token in the Secret Service" sh -c 'printf "Subject: ss\n\nx\n" | "$OAUTHMAIL" bob@example.test'
	is "$(msg_field auth_mech)" "XOAUTH2" "authenticated"
	run_ok "status" "$OAUTHMAIL" status ssacct
	like "$(cat "$T/out")" "secret-service|Secret Service" "status names the backend"
else
	skip "no Secret Service here" 3
fi
done_testing
