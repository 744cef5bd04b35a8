#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-token-refresh.sh -- the token lifecycle on the send path, for both
# keyring backends: an expired access token is refreshed once, the rotated
# refresh token is saved in the keyring (the old one is dead at the
# server), a fresh token is used as is, the refresh margin is honoured, a
# 535 for a cached token causes one refresh and one AUTH retry, and
# `oauthmail token` prints a token the SMTP server accepts.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
start_oauth || bail "OAuth server did not start"
start_smtpd || bail "SMTP server did not start"

# lifecycle BACKEND: the whole sequence against the keyring now selected.
lifecycle() {
	_b=$1
	write_config "${ACCOUNT_BASE}$_b" "timeout 10" "refresh_margin 0"
	at_exit "KEYRING=$KEYRING keyring_del $ACCOUNT token"
	oauth_ctl POST /_control/reset_stats >/dev/null

	# 1. Fresh token: used as is, no request to the token endpoint.
	seed_token "$ACCOUNT" || bail "seed"
	old_rec=$(token_record "$ACCOUNT")
	n=$(msg_count)
	send_msg bob@example.test
	is "$RC" 0 "$_b: send with a fresh token exits 0"
	is "$(msg_count)" "$((n + 1))" "$_b: delivered"
	is "$(oauth_stat counts.token_requests)" 0 "$_b: fresh token: no token request"
	is "$(token_record "$ACCOUNT" access_token)" "$SEED_ACCESS" "$_b: access token unchanged"

	# 2. Expired: one refresh, rotated refresh token saved, old one dead.
	seed_token "$ACCOUNT" "" "expires_in=-1" || bail "seed"
	old_rt=$SEED_REFRESH old_at=$SEED_ACCESS
	n=$(msg_count)
	send_msg bob@example.test
	is "$RC" 0 "$_b: send with an expired token exits 0"
	is "$(msg_count)" "$((n + 1))" "$_b: delivered after the refresh"
	is "$(oauth_stat counts.refresh_ok)" 1 "$_b: exactly one refresh at the server"
	new_rt=$(token_record "$ACCOUNT" refresh_token)
	new_at=$(token_record "$ACCOUNT" access_token)
	isnt "$new_rt" "$old_rt" "$_b: the rotated refresh token is in the keyring"
	like "$new_rt" "^rt-" "$_b: and it is a refresh token of the server"
	isnt "$new_at" "$old_at" "$_b: a new access token is in the keyring"
	exp=$(token_record "$ACCOUNT" expires_at)
	now=$(date +%s)
	if [ "$exp" -gt $((now + 3000)) ]; then pass "$_b: expires_at is in the future ($((exp - now)) s)"
	else fail "$_b: expires_at is in the future" "expires_at $exp now $now"; fi
	is "$(token_record "$ACCOUNT" needs_login)" false "$_b: needs_login false"
	ri=$(token_record "$ACCOUNT" refresh_issued)
	if [ "$ri" -ge $((now - 30)) ]; then pass "$_b: refresh_issued updated"
	else fail "$_b: refresh_issued updated" "refresh_issued $ri now $now"; fi
	# The old refresh token is now refused by the server.
	code=$(curl -sS -o "$T/rt.json" -w '%{http_code}' --cacert "$CERTS/ca.pem" \
	    -d grant_type=refresh_token -d client_id=demo-client \
	    --data-urlencode "refresh_token=$old_rt" "$OAUTH_TOKEN_URL")
	is "$code" 400 "$_b: the old refresh token is refused by the server"
	file_contains "$T/rt.json" invalid_grant "$_b: with invalid_grant"
	is "$(msg_field auth_user)" "alice@example.test" "$_b: authenticated as the user"

	# 3. The new token is fresh: the next send does not refresh.
	send_msg bob@example.test
	is "$RC" 0 "$_b: next send exits 0"
	is "$(oauth_stat counts.refresh_ok)" 1 "$_b: no second refresh while fresh"

	# 4. Refresh margin: a token valid for 60 s more is refreshed with
	#    refresh_margin 120, not with refresh_margin 30.
	write_config "$ACCOUNT" "timeout 10" "refresh_margin 30"
	seed_token "$ACCOUNT" "" "expires_in=60" || bail "seed"
	send_msg bob@example.test
	is "$RC" 0 "$_b: margin 30, 60 s left: sent"
	is "$(oauth_stat counts.refresh_ok)" 1 "$_b: margin 30, 60 s left: no refresh"
	is "$(token_record "$ACCOUNT" access_token)" "$SEED_ACCESS" "$_b: margin 30: token unchanged"
	write_config "$ACCOUNT" "timeout 10" "refresh_margin 120"
	send_msg bob@example.test
	is "$RC" 0 "$_b: margin 120, 60 s left: sent"
	is "$(oauth_stat counts.refresh_ok)" 2 "$_b: margin 120, 60 s left: refreshed ahead of expiry"
	isnt "$(token_record "$ACCOUNT" access_token)" "$SEED_ACCESS" "$_b: margin 120: token replaced"

	# 5. 535 for a cached token the record thinks valid: one refresh, one
	#    AUTH retry, delivered.
	write_config "$ACCOUNT" "timeout 10" "refresh_margin 0"
	seed_token "$ACCOUNT" || bail "seed"
	oauth_ctl POST "/_control/expire_access" >/dev/null
	a0=$(smtp_stat auth_failures)
	r0=$(oauth_stat counts.refresh_ok)
	n=$(msg_count)
	send_msg bob@example.test
	is "$RC" 0 "$_b: 535 with a cached token: exit 0"
	is "$(msg_count)" "$((n + 1))" "$_b: 535 with a cached token: delivered"
	is "$(oauth_stat counts.refresh_ok)" "$((r0 + 1))" "$_b: 535: exactly one refresh"
	isnt "$(token_record "$ACCOUNT" access_token)" "$SEED_ACCESS" "$_b: 535: new token saved"
	log_contains "refused the cached token" "$_b: 535: the retry is logged"

	# 6. `oauthmail token`: prints a valid token, refreshes when due.
	seed_token "$ACCOUNT" || bail "seed"
	run_ok "$_b: token prints a token" om token "$ACCOUNT"
	tok=$(cat "$T/out")
	is "$tok" "$SEED_ACCESS" "$_b: token prints the cached access token"
	r0=$(oauth_stat counts.refresh_ok)
	seed_token "$ACCOUNT" "" "expires_in=-1" || bail "seed"
	run_ok "$_b: token refreshes an expired token" om token "$ACCOUNT"
	tok=$(cat "$T/out")
	isnt "$tok" "$SEED_ACCESS" "$_b: a new token, not the expired one"
	is "$(oauth_stat counts.refresh_ok)" "$((r0 + 1))" "$_b: token: one refresh"
	is "$tok" "$(token_record "$ACCOUNT" access_token)" "$_b: the printed token is the stored one"
	n=$(msg_count)
	run_ok "$_b: the SMTP server accepts the printed token" \
	    smtp_client --mech XOAUTH2 --user alice@example.test --token "$tok" \
	    --to bob@example.test
	is "$(msg_count)" "$((n + 1))" "$_b: smtp_client delivered with it"
	if [ -n "$tok" ] && ! grep -qF -- "$tok" "$T/oauthmail.log" 2>/dev/null; then
		pass "$_b: the token is not in the log"
	else
		fail "$_b: the token is not in the log" "token '${tok:+(set)}'"
	fi
}

ACCOUNT_BASE=tok$$
if start_kernel_keyring; then
	lifecycle kernel
else
	skip "no kernel keyring" 36
fi
if start_keyring; then
	lifecycle ss
else
	skip "no Secret Service (gnome-keyring)" 36
fi
done_testing
