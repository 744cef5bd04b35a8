#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-token-commands.sh -- client credentials on the send path (secret from
# stdin into the keyring, never into a file), `oauthmail status` (backend,
# expiry, refresh-token age, sign-in state) and `oauthmail logout` (record
# removed, refresh token revoked at the server when revoke_endpoint is set).
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
start_oauth || bail "OAuth server did not start"
start_smtpd || bail "SMTP server did not start"
start_kernel_keyring || start_keyring || skip_all "no keyring available"

# --- client credentials ---------------------------------------------------
write_config "cc$$" "timeout 10" "client_id conf-client" \
    "flow client_credentials" "scope https://outlook.office365.com/.default"
at_exit "keyring_del $ACCOUNT token; keyring_del $ACCOUNT client_secret"
send_msg bob@example.test
is "$RC" 0 "client credentials without a secret: accepted (queued)"
is "$(msg_count)" 0 "nothing delivered without a secret"
log_contains "oauthmail secret $ACCOUNT" "the log says to run 'oauthmail secret'"
run_ok "secret from stdin (not a tty)" sh -c 'printf conf-secret | "$OAUTHMAIL" secret -C "$1" "$2"' - "$CONFIG" "$ACCOUNT"
is "$(keyring_get "$ACCOUNT" client_secret)" "conf-secret" "the client secret is in the keyring"
run_ok "-q with the secret stored" "$OAUTHMAIL" -q
is "$(oauth_stat counts.client_credentials_ok)" 1 "one client_credentials grant"
is "$(msg_count)" 1 "the queued message is delivered"
send_msg bob@example.test
is "$RC" 0 "a send with client credentials exits 0"
is "$(msg_count)" 2 "delivered"
is "$(oauth_stat counts.client_credentials_ok)" 1 "the cached app token is reused"
isnt "$(token_record "$ACCOUNT" access_token)" "" "the app token is in the keyring"
is "$(token_record "$ACCOUNT" refresh_token)" "" "no refresh token for client credentials"
# Expired app token: a new client_credentials grant, not a refresh.
oauth_ctl POST /_control/expire_access >/dev/null
send_msg bob@example.test
is "$RC" 0 "after the server expired the app token: exit 0"
is "$(msg_count)" 3 "delivered after a new grant"
is "$(oauth_stat counts.client_credentials_ok)" 2 "a second client_credentials grant"
is "$(oauth_stat counts.refresh_ok)" 0 "no refresh grant"
# The secret never reaches a file we wrote (the test OAuth server's own
# request log is outside: it is the server).
hits=$(grep -rl "conf-secret" "$HOME" "$XDG_RUNTIME_DIR" "$T/config" \
    "$T/oauthmail.log" "$T/smtpd" /tmp/oauthmail-"$(id -u)" 2>/dev/null)
is "$hits" "" "the client secret is in no file"
unlike "$(cat "$T/out" "$T/err")" "conf-secret" "nor printed"

# --- status and logout (refresh-token account) ---------------------------
write_config "st$$" "timeout 10" "revoke_endpoint $OAUTH_REVOKE_URL"
at_exit "keyring_del $ACCOUNT token"
run_rc 77 "status without a token exits 77" om status "$ACCOUNT"
like "$(cat "$T/out")" "no token: run 'oauthmail login $ACCOUNT'" "status: no token, with the command"
seed_token "$ACCOUNT" || bail "seed"
run_ok "status" om status "$ACCOUNT"
st=$(cat "$T/out")
like "$st" "keyring +$KEYRING" "status names the keyring backend ($KEYRING)"
like "$st" "state +signed in" "status: signed in"
like "$st" "access expires .*\(in (59|60) min\)" "status: access token expiry"
like "$st" "refresh issued .*\(0 min ago\)" "status: refresh-token age"
like "$st" "last success +never" "status: last success never"
send_msg bob@example.test
run_ok "status after a send" om status "$ACCOUNT"
like "$(cat "$T/out")" "last success .*\(0 min ago\)" "status: last success recorded"
unlike "$(cat "$T/out")" "$SEED_ACCESS|$SEED_REFRESH" "status prints no token"

rt=$(token_record "$ACCOUNT" refresh_token)
v0=$(oauth_stat refresh_tokens_valid)
run_ok "logout" om logout "$ACCOUNT"
is "$(oauth_stat counts.revocations)" 1 "logout called the revoke endpoint"
is "$(oauth_stat refresh_tokens_valid)" "$((v0 - 1))" "the refresh token is revoked at the server"
if keyring_get "$ACCOUNT" token >/dev/null; then fail "the record is removed from the keyring"
else pass "the record is removed from the keyring"; fi
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$CERTS/ca.pem" \
    -d grant_type=refresh_token -d client_id=demo-client \
    --data-urlencode "refresh_token=$rt" "$OAUTH_TOKEN_URL")
is "$code" 400 "the old refresh token no longer works"
run_rc 77 "status after logout exits 77" om status "$ACCOUNT"
like "$(cat "$T/out")" "no token" "status: no token after logout"
run_rc 77 "token after logout exits 77" om token "$ACCOUNT"
like "$(cat "$T/err")" "oauthmail login $ACCOUNT" "and names the login command"
run_ok "logout again is fine" om logout "$ACCOUNT"

# Without revoke_endpoint: forgotten locally, nothing asked of the server.
write_config "st$$" "timeout 10"
seed_token "$ACCOUNT" || bail "seed"
run_ok "logout without revoke_endpoint" om logout "$ACCOUNT"
is "$(oauth_stat counts.revocations)" 1 "no revocation request"
if keyring_get "$ACCOUNT" token >/dev/null; then fail "the record is removed"
else pass "the record is removed"; fi
done_testing
