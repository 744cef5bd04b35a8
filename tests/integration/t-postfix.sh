# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# oauthmail against a real mail server: Postfix submission (STARTTLS) and
# smtps (implicit TLS), with Dovecot as its SASL service checking XOAUTH2
# and OAUTHBEARER tokens at the OAuth server's introspection endpoint; the
# delivered mail is read back from Postfix's Maildir. Also: a revoked token
# holds the mail until a new sign-in, an expiring token is refreshed, and
# the caller scenarios of the other tests (-t with Bcc, cron) hold here too.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-postfix.sh"

need_oauthmail
start_oauth || bail "OAuth server did not start"
start_kernel_keyring || skip_all "no kernel keyring"
start_postfix_tier || skip_all "Postfix/Dovecot tier: $PF_WHY"
Q=$XDG_STATE_HOME/oauthmail/queue
nq() { ls "$Q/$1" 2>/dev/null | grep -c '\.env$'; }
# The Received header Postfix adds for this submission.
received() { pf_msg_header Received "${1:-}" | head -n 1; }
# A delivered copy without the lines Postfix prepends (Return-Path,
# X-Original-To, Delivered-To, its Received): what oauthmail submitted.
submitted() {
	awk 'p { print; next }
	    /^(Return-Path|X-Original-To|Delivered-To|Received):/ || /^[ \t]/ { next }
	    { p = 1; print }' "$1"
}

# 1. Submission port, STARTTLS, XOAUTH2.
pf_use submission
printf 'root: admin@example.test\n' >"$T/aliases"
write_config "" "timeout 20"
seed_token "$ACCOUNT" || bail "seed"
printf 'From: Alice <alice@example.test>\nTo: Bob <bob@example.test>\nCc: carol@example.test\nSubject: via postfix %s\n\nline one\n..two dots\n' "$$" >"$T/m1"
run_ok "STARTTLS + XOAUTH2: send exits 0" sh -c '"$OAUTHMAIL" -i bob@example.test carol@example.test <"$1"' - "$T/m1"
is "$(cat "$T/err")" "" "nothing on stderr"
pf_wait_msgs 2 || diag "$(pf_mailq)"
is "$(pf_msg_count)" 2 "Postfix delivered one copy per recipient"
is "$(pf_rcpts)" "bob@example.test carol@example.test " "to both envelope recipients"
is "$(pf_msg_header Return-Path 1)" "<alice@example.test>" "envelope sender is the account"
is "$(pf_msg_header Subject 1)" "via postfix $$" "Subject intact"
is "$(pf_msg_header To 1)" "Bob <bob@example.test>" "To intact"
is "$(pf_msg_header Cc 1)" "carol@example.test" "Cc intact"
like "$(pf_msg_header Message-ID 1)" '^<[0-9a-f.]+@example\.test>$' "oauthmail's Message-ID, not Postfix's"
like "$(received 1)" "\(Authenticated sender: alice@example\.test\)" "Postfix says Dovecot authenticated alice"
like "$(received 1)" "with ESMTPSA " "ESMTP with TLS and authentication"
like "$(received 1)" "using TLSv1\.[23]" "over TLS 1.2+"
is "$(pf_msg_body 1 | tr -d '\r')" "line one
..two dots" "body intact (with -i, dots are data)"
pf_log_contains "sasl_method=XOAUTH2, sasl_username=alice@example\.test" "Postfix logged SASL method XOAUTH2"
is "$(oauth_stat counts.introspect_active)" 1 "the token was introspected once"

# 2. Submission port, OAUTHBEARER.
write_config "$ACCOUNT" "timeout 20" "auth oauthbearer"
n=$(pf_msg_count)
run_ok "STARTTLS + OAUTHBEARER" sh -c 'printf "Subject: ob\n\nhi\n" | "$OAUTHMAIL" bob@example.test'
pf_wait_msgs $((n + 1))
is "$(pf_msg_count)" $((n + 1)) "delivered"
pf_log_contains "sasl_method=OAUTHBEARER, sasl_username=alice@example\.test" "Postfix logged SASL method OAUTHBEARER"

# 3. smtps (implicit TLS), both mechanisms.
pf_use smtps
for mech in xoauth2 oauthbearer; do
	write_config "$ACCOUNT" "timeout 20" "auth $mech"
	n=$(pf_msg_count)
	run_ok "implicit TLS + $mech" sh -c 'printf "Subject: smtps %s\n\nhi\n" "$1" | "$OAUTHMAIL" dave@example.test' - "$mech"
	pf_wait_msgs $((n + 1))
	is "$(pf_msg_header Subject)" "smtps $mech" "delivered over implicit TLS with $mech"
	like "$(received)" "Authenticated sender: alice@example\.test" "authenticated"
done
pf_log_contains "postfix/smtps/smtpd.*sasl_method=OAUTHBEARER" "the smtps listener took OAUTHBEARER"
is "$(nq q)" 0 "nothing left in the queue"

# 4. The token is revoked at the server (and so is the refresh token): the
#    real server refuses it, the mail is held, exit 0; after a new sign-in
#    (seed) -q delivers it exactly once.
pf_use submission
write_config "$ACCOUNT" "timeout 20"
oauth_ctl POST /_control/revoke_all >/dev/null
n=$(pf_msg_count)
run_ok "revoked token: accepted and held (exit 0)" sh -c 'printf "Subject: held %s\n\nx\n" "$$" | "$OAUTHMAIL" held@example.test'
is "$(nq hold)" 1 "the message is held"
is "$(pf_msg_count)" "$n" "nothing delivered"
pf_log_contains "authentication failed" "Postfix refused the revoked token"
is "$(token_record "$ACCOUNT" needs_login)" "true" "the account is marked as needing a sign-in"
seed_token "$ACCOUNT" || bail "re-seed"
run_ok "-q after a new sign-in" "$OAUTHMAIL" -q
pf_wait_msgs $((n + 1))
is "$(nq hold)" 0 "hold/ is empty"
is "$(pf_rcpts $((n + 1)))" "held@example.test " "the held message arrived"
run_ok "-q again" "$OAUTHMAIL" -q
sleep 0.5
is "$(pf_msg_count)" $((n + 1)) "delivered exactly once"

# 5. The access token expires during the run: refreshed, then Postfix takes
#    the new one.
seed_token "$ACCOUNT" alice@example.test "expires_in=-1" || bail "seed short"
old=$SEED_ACCESS
r0=$(oauth_stat counts.refresh_ok)
n=$(pf_msg_count)
run_ok "expired access token: refreshed and sent" sh -c 'printf "Subject: refreshed\n\nx\n" | "$OAUTHMAIL" fresh@example.test'
pf_wait_msgs $((n + 1))
is "$(pf_msg_header Subject)" "refreshed" "delivered through Postfix"
is "$(oauth_stat counts.refresh_ok)" $((r0 + 1)) "one refresh at the token endpoint"
isnt "$(token_record "$ACCOUNT" access_token)" "$old" "a new access token is stored"

# 6. A valid token issued to another user: Dovecot compares the
#    introspected username with the SASL user and refuses; held, then sent
#    after the right sign-in.
seed_token "$ACCOUNT" mallory@example.test || bail "seed mallory"
n=$(pf_msg_count)
run_ok "another user's token: held (exit 0)" sh -c 'printf "Subject: wrong user\n\nx\n" | "$OAUTHMAIL" wrong@example.test'
is "$(nq hold)" 1 "held"
pf_log_contains "Username 'alice@example\.test' did not match 'mallory@example\.test'" "Dovecot refused the username mismatch"
seed_token "$ACCOUNT" || bail "seed alice"
run_ok "-q with alice's token" "$OAUTHMAIL" -q
pf_wait_msgs $((n + 1))
is "$(pf_rcpts $((n + 1)))" "wrong@example.test " "delivered after the right sign-in"

# 7. Postfix lets alice send only as alice (reject_sender_login_mismatch):
#    a foreign -f is replaced by the account's address, so mail still goes.
smtp_client --mech XOAUTH2 --token "$SEED_ACCESS" --user alice@example.test \
    --from mallory@evil.test --to bob@example.test >"$T/sc.out" 2>&1
like "$(cat "$T/sc.out")" "553 5\.7\.1 .*not owned by user alice@example\.test" "Postfix refuses a sender the user does not own"
n=$(pf_msg_count)
run_ok "-f foreign sender" sh -c 'printf "Subject: f\n\nx\n" | "$OAUTHMAIL" -f mallory@evil.test bob@example.test'
pf_wait_msgs $((n + 1))
is "$(pf_msg_header Return-Path)" "<alice@example.test>" "sent with the account's address as envelope sender"

# 8. The callers of the other tests, against the real server.
# -t with To/Cc/Bcc and an argv recipient: every recipient gets it, Bcc is
# not in the message Postfix delivered.
cat >"$T/m-t" <<'M'
From: Alice <alice@example.test>
To: "Doe, John" <john@example.test>
Cc: kim@example.test
Bcc: secret@example.test
Subject: -t via postfix

body
M
n=$(pf_msg_count)
run_ok "-t -i with Bcc" sh -c '"$OAUTHMAIL" -t -i extra@example.test <"$1"' - "$T/m-t"
pf_wait_msgs $((n + 4))
is "$(pf_rcpts $((n + 1)))" "extra@example.test john@example.test kim@example.test secret@example.test " "To, Cc, Bcc and argv recipients"
leak=0
for f in $(pf_msg_list | sed -n "$((n + 1)),\$p"); do
	submitted "$f" | grep -qi -e "secret@" -e "^Bcc:" && leak=1
done
is "$leak" 0 "no Bcc header or Bcc address in any delivered copy"

# cron's exact command line: root mapped through the aliases, 8-bit body.
cat >"$T/cron" <<'M'
From: root (Cron Daemon)
To: root
Subject: Cron <root@host> run-parts /etc/cron.daily
Content-Type: text/plain; charset=UTF-8

output — with UTF-8
M
n=$(pf_msg_count)
run_ok "cron's command line" sh -c '"$OAUTHMAIL" -FCronDaemon -i -B8BITMIME -oem root <"$1"' - "$T/cron"
pf_wait_msgs $((n + 1))
is "$(pf_rcpts $((n + 1)))" "admin@example.test " "root mapped through the aliases in the envelope"
is "$(pf_msg_header To)" "admin@example.test" "root mapped in the To header"
like "$(pf_msg_header From)" '^"?Cron Daemon"? <alice@example\.test>$' "From rewritten to the account"
file_contains "$(pf_msg_file)" "output — with UTF-8" "8-bit body delivered unchanged"

is "$(nq q)$(nq hold)" "00" "queue and hold empty at the end"
done_testing
