#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-token-identity.sh -- token records and client secrets are keyed by the
# identity they belong to (client_id, token endpoint, tenant, user), not
# by the account's name:
#  - a record stored under the name (earlier versions) moves to its
#    identity's key at its first use, and is used without a new request;
#  - an account derived from another one that only sets "from" uses the
#    other's token and client secret;
#  - with another client_id the stored token is not used: the send is
#    held, check and status say the client_id changed and to sign in;
#    with the old client_id back, the held mail goes with the old token;
#  - two configuration files with an account of the same name and other
#    users each use their own token.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
start_kernel_keyring || skip_all "no kernel keyring"
start_oauth || bail "OAuth server did not start"
start_smtpd || bail "SMTP server did not start"
write_config "id$$" "timeout 10"
A=$ACCOUNT
CONFIG_A=$CONFIG
ID_A="client_id=demo-client token_endpoint=$OAUTH_TOKEN_URL user=alice@example.test"
Q=$XDG_STATE_HOME/oauthmail/queue
nq() { ls "$Q/$1" 2>/dev/null | grep -c '\.env$'; }
kfind() { keyctl search "$KR_PERSIST" user "$1" 2>/dev/null; }
kread() { _k=$(kfind "$1") && keyctl pipe "$_k" 2>/dev/null; }
kdel() {
	_k=$(kfind "$1") || return 0
	keyctl unlink "$_k" "$KR_PERSIST" >/dev/null 2>&1
	keyctl invalidate "$_k" >/dev/null 2>&1 || :
}
for _n in "id$$" "cc$$" "other$$" "ccd$$"; do
	at_exit "KEYRING=kernel keyring_del $_n client_secret; KEYRING=kernel keyring_del $_n token"
done

# --- a record keyed by name moves to its identity's key ---------------------
seed_token "$A" || bail "seed"
kfind "oauthmail:$A:token" >/dev/null; ok $? "migration: the seeded record is keyed by name"
oauth_ctl POST /_control/reset_stats >/dev/null
send_msg bob@example.test
is "$RC" 0 "migration: the send exits 0"
is "$(msg_count)" 1 "migration: delivered"
is "$(oauth_stat counts.token_requests)" 0 "migration: the stored token was used, no request"
kfind "oauthmail:$A:token" >/dev/null
isnt "$?" 0 "migration: nothing is left under the name"
is "$(kread "oauthmail:token $ID_A" | json_get refresh_token)" "$SEED_REFRESH" \
    "migration: the record is under 'oauthmail:token $ID_A'"
is "$(kread "oauthmail:$A:identity")" "$ID_A" "migration: the name's identity is recorded"

# --- a derived account shares the token --------------------------------------
write_config "$A" "timeout 10" "account other$$ : $A" "from carol@example.test"
send_msg -a other$$ bob@example.test
is "$RC" 0 "derived: a send through 'account other$$ : $A' exits 0"
is "$(msg_count)" 2 "derived: delivered"
is "$(msg_field auth_user)" alice@example.test "derived: as $A's user"
is "$(oauth_stat counts.token_requests)" 0 "derived: with $A's token, no request"

# --- ... and the client secret -----------------------------------------------
CC=cc$$
write_config "$CC" "timeout 10" "client_id conf-client" "flow client_credentials" \
    "scope https://outlook.office365.com/.default" \
    "account ccd$$ : $CC" "from carol@example.test"
printf 'conf-secret\n' | om secret "$CC" >/dev/null 2>&1
kfind "oauthmail:client_secret client_id=conf-client token_endpoint=$OAUTH_TOKEN_URL" >/dev/null
ok $? "secret: 'oauthmail secret' stores it under the application's identity"
n=$(msg_count)
send_msg -a ccd$$ bob@example.test
is "$RC" 0 "secret: a send through 'account ccd$$ : $CC' exits 0"
is "$(msg_count)" "$((n + 1))" "secret: delivered"
is "$(oauth_stat counts.client_credentials_ok)" 1 "secret: with $CC's client secret"

# --- another client_id: the token is not used ---------------------------------
write_config "$A" "timeout 10" "client_id new-client"
n=$(msg_count)
a0=$(smtp_stat auth_attempts)
send_msg bob@example.test
is "$RC" 0 "client_id changed: the send is accepted (exit 0)"
is "$(msg_count)" "$n" "client_id changed: nothing delivered"
is "$(nq hold)" 1 "client_id changed: the message is held"
is "$(smtp_stat auth_attempts)" "$a0" "client_id changed: the old token was not offered"
is "$(oauth_stat counts.token_requests)" 1 "client_id changed: no token request"
log_contains "client_id of account $A changed" "client_id changed: the log says so"
run_rc 77 "client_id changed: check exits 77" om check "$A"
like "$(cat "$T/err")" "sign in again: the client_id of account $A changed.*oauthmail login $A" \
    "client_id changed: check says to sign in again"
run_rc 77 "client_id changed: status exits 77" om status "$A"
like "$(cat "$T/out")" "client_id of account $A changed" "client_id changed: status says so"
is "$(kread "oauthmail:token $ID_A" | json_get refresh_token)" "$SEED_REFRESH" \
    "client_id changed: the old identity's record is kept"
# Back to the old client_id: its token sends the held mail.
write_config "$A" "timeout 10"
run_ok "client_id back: -q" "$OAUTHMAIL" -q
is "$(msg_count)" "$((n + 1))" "client_id back: the held message is delivered"
is "$(nq hold)" 0 "client_id back: nothing held"

# --- two files, one account name, two users -----------------------------------
CONFIG_B=$T/config-b
sed 's/^user alice@example.test$/user bob@example.test/' "$CONFIG_A" >"$CONFIG_B"
chmod 600 "$CONFIG_B"
ID_B="client_id=demo-client token_endpoint=$OAUTH_TOKEN_URL user=bob@example.test"
at_exit "kdel 'oauthmail:token $ID_B'; kdel 'oauthmail:token $ID_A'"
sj=$(oauth_ctl POST "/_control/seed?user=bob@example.test")
rec_b=$(printf '%s' "$sj" | $PY -c '
import json, sys
s = json.load(sys.stdin)
print(json.dumps({"access_token": s["access_token"], "expires_at": s["expires_at"],
                  "refresh_token": s["refresh_token"]}))')
printf '%s' "$rec_b" | keyctl padd user "oauthmail:token $ID_B" "$KR_PERSIST" >/dev/null
n=$(msg_count)
test_message | "$OAUTHMAIL" -C "$CONFIG_B" bob@example.test >"$T/out" 2>"$T/err"
is "$?" 0 "two files: the send of the second file exits 0"
is "$(msg_count)" "$((n + 1))" "two files: delivered"
is "$(msg_field auth_user)" bob@example.test "two files: as the second file's user"
test_message | "$OAUTHMAIL" -C "$CONFIG_A" bob@example.test >"$T/out" 2>"$T/err"
is "$?" 0 "two files: the send of the first file exits 0"
is "$(msg_count)" "$((n + 2))" "two files: delivered"
is "$(msg_field auth_user)" alice@example.test "two files: as the first file's user"
is "$(oauth_stat counts.token_requests)" 1 "two files: each with its own stored token"

# --- migration with the Secret Service ----------------------------------------
if start_keyring; then
	write_config "ss$$" "timeout 10"
	at_exit "KEYRING=secret-service keyring_del ss$$ token"
	seed_token "ss$$" || bail "seed"
	n=$(msg_count)
	send_msg bob@example.test
	is "$RC" 0 "ss migration: the send exits 0"
	is "$(msg_count)" "$((n + 1))" "ss migration: delivered"
	v=$(timeout 10 secret-tool lookup service oauthmail account "ss$$" kind token 2>/dev/null)
	is "$v" "" "ss migration: nothing is left under the name"
	v=$(timeout 10 secret-tool lookup service oauthmail kind token client_id demo-client \
	    token_endpoint "$OAUTH_TOKEN_URL" tenant "" user alice@example.test 2>/dev/null)
	is "$(printf '%s' "$v" | json_get refresh_token)" "$SEED_REFRESH" \
	    "ss migration: the record is under the identity's attributes"
else
	skip "no Secret Service (gnome-keyring)" 4
fi
done_testing
