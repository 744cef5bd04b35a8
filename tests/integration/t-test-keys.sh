#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-test-keys.sh -- a test leaves the user's kernel keyrings as it found
# them: a test script (run here as a child) that seeds a token, sends over
# Microsoft Graph (oauthmail stores an API token under its identity) and
# signs in by client credentials in the kernel keyring, then ends
# without removing anything itself, leaves no key behind; lib.sh's cleanup
# removes what the test and oauthmail made, and fails a test that cannot.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
command -v keyctl >/dev/null || skip_all "keyctl missing"
[ -r /proc/keys ] || skip_all "no /proc/keys"
start_kernel_keyring || skip_all "no kernel keyring"

# keys_of PID PORT: the user's kernel keys named after the account t<PID>
# or keyed by an identity with the token endpoint on PORT.
cat >"$T/keys.sh" <<'EOF'
keys_of() {
	awk -v pid="$1" -v port="$2" -v uid="$(id -u)" '
	$8 == "user" && $6 == uid && $2 !~ /[RDi]/ {
		d = $9
		for (i = 10; i <= NF; i++)
			d = d " " $i
		sub(/: [0-9]+$/, "", d)
		if (d ~ ("^oauthmail:[a-z]*" pid "[:#]") ||
		    index(d, "token_endpoint=https://127.0.0.1:" port "/"))
			print d
	}' /proc/keys
}
EOF
. "$T/keys.sh"

cat >"$T/child.sh" <<'EOF'
. "$top_srcdir/tests/integration/lib.sh"
. "$CHILD_DIR/keys.sh"
start_oauth || bail "OAuth server did not start"
start_smtpd || bail "SMTP server did not start"
start_kernel_keyring || bail "no kernel keyring"
start_api graph || bail "fake Graph did not start"
echo "$$ $OAUTH_PORT" >"$CHILD_DIR/ids"
GRAPH_SCOPE=https://graph.microsoft.com/Mail.Send
write_config "t$$" "transport graph" "graph_endpoint $API_URL/v1.0" \
    "api_scope $GRAPH_SCOPE"
seed_token "t$$" alice@example.test \
    "scope=https://outlook.office.com/SMTP.Send%20offline_access%20$GRAPH_SCOPE" ||
    bail "seed"
send_msg bob@example.test
is "$RC" 0 "send over Graph"
is "$(api_msg_count)" 1 "Graph took it"
write_config "cc$$" "client_id conf-client" "flow client_credentials" \
    "scope https://outlook.office365.com/.default"
printf '%s' conf-secret | keyctl padd user "oauthmail:cc$$:client_secret" \
    "$KR_PERSIST" >/dev/null || bail "keyctl padd"
run_ok "client credentials: login" om login "cc$$"
keys_of $$ "$OAUTH_PORT" >"$CHILD_DIR/made"
done_testing
EOF

CHILD_DIR=$T OAUTHMAIL_TEST_TIMEOUT=120 sh "$T/child.sh" >"$T/child.out" 2>&1
rc=$?
is "$rc" 0 "the child test passes" ||
    diag "$(cat "$T/child.out")"
read -r cpid cport <"$T/ids" || bail "the child wrote no ids"
made=$(cat "$T/made")
like "$made" "oauthmail:api_token " "the child made an API token record"
like "$made" "oauthmail:token " "and a token record under its identity"
like "$made" "oauthmail:cc$cpid:" \
    "and a record by name only the test knows of"
is "$(keys_of "$cpid" "$cport")" "" "no key of the child is left"
done_testing
