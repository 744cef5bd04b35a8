#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-login-check.sh -- `oauthmail check ACCOUNT` against the test SMTP and
# OAuth servers: DNS, TLS, EHLO capabilities, token, AUTH, QUIT; sends
# nothing; never prints the token. Known failures come out as one line
# with the fix (Microsoft 535 5.7.3, 5.7.139; a revoked sign-in).
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
start_kernel_keyring || start_keyring || skip_all "no keyring available"
start_oauth || bail "oauth server did not start"
start_smtpd --auth-fail-style microsoft || bail "smtpd did not start"
write_config
at_exit "keyring_del $ACCOUNT token"
seed_token "$ACCOUNT" || bail "could not seed a token"

# --- all good ------------------------------------------------------------------
run_ok "check succeeds" om check "$ACCOUNT"
out=$(cat "$T/out")
like "$out" "dns: 127\.0\.0\.1 -> 127\.0\.0\.1" "the addresses are printed"
like "$out" "connect: ok, TLSv1\.[23]" "the TLS version is printed"
like "$out" "certificate subject: CN=localhost,O=oauthmail tests" "the certificate's subject is printed"
like "$out" "certificate issuer: CN=oauthmail test CA" "and its issuer"
like "$out" "certificate expires: 20[0-9-]+ [0-9:]+ UTC \(in [0-9]+ days\)" "and its expiry"
like "$out" "capabilities:.* AUTH\([^)]*XOAUTH2" "the capabilities with the AUTH mechanisms are printed"
like "$out" "PIPELINING" "PIPELINING is among them"
like "$out" "authenticated" "the account authenticated"
like "$out" "nothing was sent" "and it says nothing was sent"
is "$(msg_count)" 0 "no message reached the server"
is "$(smtp_stat mail)" 0 "no MAIL command was sent"
unlike "$(cat "$T/out" "$T/err")" "$SEED_ACCESS|$SEED_REFRESH" "no token in the output"

# --- SMTP AUTH disabled for the tenant -------------------------------------------
smtpd_faults auth_disabled
run_rc 77 "check fails with exit 77 when SMTP AUTH is disabled" om check "$ACCOUNT"
like "$(cat "$T/err")" "5\.7\.139.*Set-CASMailbox -Identity alice@example.test -SmtpClientAuthenticationDisabled" "the 5.7.139 reply is explained with the fix"

# --- token refused (535 5.7.3) ---------------------------------------------------
smtpd_faults auth_reject
run_rc 77 "check fails with exit 77 when the token is refused" om check "$ACCOUNT"
like "$(cat "$T/err")" "5\.7\.3.*outlook\.office\.com.*SmtpClientAuthenticationDisabled" \
    "the 535 5.7.3 reply is explained with the fixes"
like "$(cat "$T/out")" "refreshing the token and trying once more" \
    "a refused cached token is refreshed and tried once more"
smtpd_faults

# --- the sign-in was revoked -------------------------------------------------------
oauth_ctl POST /_control/revoke_all >/dev/null
run_rc 77 "check fails with exit 77 when the sign-in is gone" om check "$ACCOUNT"
like "$(cat "$T/err")" "oauthmail login $ACCOUNT" "and says to sign in again"

# --- DNS ---------------------------------------------------------------------------
write_config "" "host no-such-host.invalid"
run_rc 68 "an unresolvable host exits 68" om check "$ACCOUNT"
like "$(cat "$T/err")" "does not resolve" "and says so"

done_testing
