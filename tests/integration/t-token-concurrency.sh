#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-token-concurrency.sh -- 50 concurrent sends with an expired access
# token cause exactly ONE refresh at the token endpoint (the refresh is
# serialised by the lock; whoever waited re-reads the keyring), and all 50
# messages arrive. Run with the kernel keyring and with the Secret Service.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
start_oauth || bail "OAuth server did not start"
start_smtpd || bail "SMTP server did not start"
N=${OM_CONCURRENCY:-50}

burst() {
	_b=$1
	write_config "conc$$$_b" "timeout 30" "refresh_margin 0"
	at_exit "KEYRING=$KEYRING keyring_del $ACCOUNT token"
	seed_token "$ACCOUNT" "" "expires_in=-1" || bail "seed"
	old_rt=$SEED_REFRESH
	oauth_ctl POST /_control/reset_stats >/dev/null
	n0=$(msg_count)
	start=$(date +%s)
	concurrent_sends "$N" "$T/burst-$_b" "burst $_b"
	end=$(date +%s)
	is "$BAD" 0 "$_b: all $N concurrent sends exit 0"
	# Deferred ones (if any) would be flushed by later runs; flush now so
	# the count below is about loss, not timing.
	wait_msgs $((n0 + N)) 30
	arrived=$(($(msg_count) - n0))
	is "$arrived" "$N" "$_b: all $N messages arrived"
	refreshes=$(oauth_stat counts.refresh_ok)
	grants=$(oauth_stat "counts.grant:refresh_token")
	is "$refreshes" 1 "$_b: exactly one refresh at the server"
	is "$grants" 1 "$_b: exactly one refresh_token grant request"
	diag "$_b: $N sends in $((end - start)) s; refresh_ok=$refreshes grant:refresh_token=$grants token_requests=$(oauth_stat counts.token_requests)"
	new_rt=$(token_record "$ACCOUNT" refresh_token)
	isnt "$new_rt" "$old_rt" "$_b: the rotated refresh token is stored"
	# The stored refresh token still works at the server (nobody lost it
	# by overwriting it with a stale record).
	code=$(curl -sS -o "$T/rt.json" -w '%{http_code}' --cacert "$CERTS/ca.pem" \
	    -d grant_type=refresh_token -d client_id=demo-client \
	    --data-urlencode "refresh_token=$new_rt" "$OAUTH_TOKEN_URL")
	is "$code" 200 "$_b: the stored refresh token is the live one"
	# Put a valid pair back (the manual refresh above rotated it).
	seed_token "$ACCOUNT" >/dev/null || :
	uniq=$(grep -h "^Subject: burst $_b " "$SMTP_MAILDIR"/new/*.eml | sort -u | wc -l)
	if [ "$uniq" -ge "$N" ]; then pass "$_b: every recipient got its message"
	else fail "$_b: every recipient got its message" "only $uniq distinct recipients"; fi
}

if start_kernel_keyring; then
	burst kernel
else
	skip "no kernel keyring" 7
fi
if start_keyring; then
	burst ss
else
	skip "no Secret Service (gnome-keyring)" 7
fi
done_testing
