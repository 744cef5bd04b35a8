#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-token-short-lived.sh -- access tokens that live no longer than the
# refresh margin (Keycloak's 5 minutes against the default 300 s) are not
# "expiring" from their birth: the margin is capped at a third of the
# token's lifetime. 20 concurrent sends with the default margin, an
# expired token and a server issuing 12-second tokens make exactly ONE
# token request (whoever waited for the refresh lock re-reads the
# keyring and uses the fresh token), and all 20 messages arrive.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
start_oauth --access-ttl 12 || bail "OAuth server did not start"
start_smtpd || bail "SMTP server did not start"
N=20

storm() {
	_b=$1
	# No refresh_margin line: the default 300 s, more than the lifetime.
	write_config "short$$$_b" "timeout 30"
	at_exit "KEYRING=$KEYRING keyring_del $ACCOUNT token"
	seed_token "$ACCOUNT" "" "expires_in=-1" || bail "seed"
	# Move the seeded record to its identity's key first (t-token-identity
	# tests that), so that the 20 senders do not all migrate it at once.
	om status "$ACCOUNT" >/dev/null 2>&1
	oauth_ctl POST /_control/reset_stats >/dev/null
	n0=$(msg_count)
	concurrent_sends "$N" "$T/storm-$_b" "storm $_b"
	is "$BAD" 0 "$_b: all $N concurrent sends exit 0"
	wait_msgs $((n0 + N)) 30
	arrived=$(($(msg_count) - n0))
	is "$arrived" "$N" "$_b: all $N messages arrived"
	[ "$arrived" = "$N" ] || diag "$("$OAUTHMAIL" -C "$CONFIG" -bp 2>&1 | head -n 5)"
	is "$(oauth_stat counts.token_requests)" 1 \
	    "$_b: exactly one token request for $N sends"
	is "$(token_record "$ACCOUNT" expires_in)" 12 \
	    "$_b: the record keeps the token's lifetime"
	uniq=$(grep -h "^Subject: storm $_b " "$SMTP_MAILDIR"/new/*.eml | sort -u | wc -l)
	is "$uniq" "$N" "$_b: every recipient got its message"
}

if start_kernel_keyring; then
	storm kernel
else
	skip "no kernel keyring" 5
fi
if start_keyring; then
	storm ss
else
	skip "no Secret Service (gnome-keyring)" 5
fi
done_testing
