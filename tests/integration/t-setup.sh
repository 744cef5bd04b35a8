#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-setup.sh -- `oauthmail setup ADDRESS`: the provider recognised by the
# domain (Gmail, Outlook.com), by its MX (Google Workspace, Exchange
# Online; a test file stands in for DNS) or by its Microsoft Entra tenant
# (a fake OpenID discovery server stands in for
# login.microsoftonline.com and gives the tenant id); only the client id,
# the flow and an unknown provider are asked. --dry-run writes nothing; a
# new configuration is created mode 600 and parses; an existing one gets
# the account only after a yes, never twice, and one that does not parse
# is left alone. Then the sign-in setup starts (the device flow against
# the test OAuth server): the token lands in the keyring and sends. A
# set-user-id binary is refused; a set-group-id one gives the group up
# before setup runs and ignores the test overrides (a network namespace
# of its own keeps it off the real DNS and Microsoft).
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
D=$T/disc
mkdir -p "$D"
$PY - "$D" "$IT" $$ <<'EOF' >"$D/stderr" 2>&1 &
import http.server, json, signal, sys
d = sys.argv[1]
sys.path.insert(0, sys.argv[2])
import srvlife
TENANT = "11111111-2222-3333-4444-555555555555"
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        with open(d + "/requests", "a") as f:
            f.write(self.path + "\n")
    def do_GET(self):
        if self.path == "/contoso.example/v2.0/.well-known/openid-configuration":
            code, body = 200, {"issuer": "https://login.microsoftonline.com/%s/v2.0" % TENANT,
                               "token_endpoint": "https://login.microsoftonline.com/%s/oauth2/v2.0/token" % TENANT}
        else:
            code, body = 400, {"error": "invalid_tenant",
                               "error_description": "AADSTS90002: Tenant not found."}
        b = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
s = http.server.HTTPServer(("127.0.0.1", 0), H)
srvlife.exit_on(signal.SIGTERM)
srvlife.exit_with_parent(int(sys.argv[3]))
srvlife.write_port(d + "/port", s.server_address[1])
s.serve_forever()
EOF
_lib_pids="$_lib_pids $!"
wait_file "$D/port" 10 || bail "discovery server: $(cat "$D/stderr")"
OAUTHMAIL_DISCOVERY_URL=http://127.0.0.1:$(cat "$D/port")
printf 'acme.example aspmx.l.google.com.\nfabrikam.example fabrikam-example.mail.protection.outlook.com\n' >"$T/mx"
OAUTHMAIL_MX_FILE=$T/mx
export OAUTHMAIL_DISCOVERY_URL OAUTHMAIL_MX_FILE
N=$T/new/config
setup() {	# ANSWERS ARGS...: oauthmail setup with those lines on stdin
	_ans=$1; shift
	printf "$_ans" >"$T/answers"
	"$OAUTHMAIL" setup "$@" <"$T/answers" >"$T/out" 2>"$T/err"
	RC=$?
}
requests() { cat "$D/requests" 2>/dev/null | wc -l | tr -d ' '; }

setup 'goog.apps.googleusercontent.com\n' you@gmail.com --dry-run -C "$N"
is "$RC" 0 "gmail.com: exit 0"
like "$(cat "$T/out")" "provider google" "recognised as Google by the domain"
like "$(cat "$T/out")" "client_id goog.apps.googleusercontent.com" "with the client id answered"
like "$(cat "$T/err")" "Desktop app" "after the registration steps"
unlike "$(cat "$T/err")" "flow \(" "no flow is asked for Google"
is "$(requests)" 0 "no discovery request for a Gmail address"
[ -e "$N" ] && fail "--dry-run wrote $N" || pass "--dry-run writes nothing"

setup 'cid\n' bob@acme.example --dry-run -C "$N"
like "$(cat "$T/out")" "provider google" "acme.example: Google Workspace by its MX"
like "$(cat "$T/err")" "recognised by its MX \(Google Workspace\)" "saying how"

setup 'cid-ms\ndevice\n' you@contoso.example --dry-run -C "$N"
is "$RC" 0 "contoso.example: exit 0"
like "$(cat "$T/out")" "provider microsoft" "Microsoft 365 by its Entra tenant"
like "$(cat "$T/out")" "tenant 11111111-2222-3333-4444-555555555555" "with the tenant id discovered"
like "$(cat "$T/out")" "flow device" "and the flow answered"
like "$(cat "$T/out")" "account default : contoso" "a new file: the account is the default"
like "$(cat "$D/requests")" "/contoso.example/v2.0/.well-known/openid-configuration" \
    "the discovery document was asked for"

setup 'cid\n\n' it@fabrikam.example --dry-run -C "$N"
like "$(cat "$T/out")" "tenant fabrikam.example" "Exchange Online MX, no tenant found: the domain as tenant"
unlike "$(cat "$T/out")" "flow " "an empty flow answer keeps the provider's default"

setup 'cid\n\n' me@outlook.com --dry-run -C "$N"
like "$(cat "$T/out")" "provider outlook" "outlook.com: Outlook.com"

setup 'custom\n' a@unknown.example --dry-run -C "$N"
is "$RC" 64 "an unknown domain and provider custom: exit 64"
like "$(cat "$T/err")" "provider custom" "pointing at the manual page"
setup 'google\ncid\n' a@unknown.example --dry-run -C "$N"
like "$(cat "$T/out")" "provider google" "an unknown domain: the provider is asked"
setup '' you@contoso.example -C "$N"
is "$RC" 64 "no answer on stdin: exit 64"
like "$(cat "$T/err")" "no answer to \"client id: \"" "saying which answer is missing"
setup 'x\n' not-an-address -C "$N"
is "$RC" 64 "not an address: exit 64"

# Writing: a new file.
setup 'cid-app\nclient_credentials\n' robot@contoso.example -C "$N"
is "$RC" 0 "setup writes a new configuration"
is "$(stat -c %a "$N")" 600 "mode 600"
like "$(cat "$T/err")" "next: 'oauthmail secret contoso'" "client credentials: the next steps"
run_rc 78 "the account it wrote is there and parses (token wants the secret)" \
    "$OAUTHMAIL" token -C "$N" contoso
like "$(cat "$T/err")" "oauthmail secret contoso" "token names the missing secret"
sum=$(cksum <"$N")
setup 'cid\nn\n' bob@acme.example -C "$N"
is "$RC" 73 "an existing file and the answer no: exit 73"
is "$(cksum <"$N")" "$sum" "the file is unchanged"
setup 'cid\ny\n' bob@acme.example -C "$N"
is "$RC" 0 "the answer yes: the account is added"
like "$(cat "$N")" "account acme" "acme is in the file"
like "$(grep -c 'account default' "$N")" "^1$" "the default stays the first account"
run_ok "the file parses" "$OAUTHMAIL" check --offline -C "$N"
sum=$(cksum <"$N")
setup 'cid\ny\n' carol@acme.example -C "$N"
is "$RC" 73 "the same account name again: refused"
like "$(cat "$T/err")" "already has an account acme" "saying so"
is "$(cksum <"$N")" "$sum" "and the file is unchanged"
B=$T/broken/config
mkdir -p "$T/broken"
printf 'account x\n  nonsense_key 1\n' >"$B"
chmod 600 "$B"
sum=$(cksum <"$B")
setup 'cid\ny\n' bob@acme.example -C "$B"
is "$RC" 78 "an existing file that does not parse: exit 78"
like "$(cat "$T/err")" "nothing written" "saying nothing was written"
is "$(cksum <"$B")" "$sum" "and the file is unchanged"

# An unknown domain whose discovery fails: a warning, then the question.
OAUTHMAIL_DISCOVERY_URL=http://127.0.0.1:1 setup '' a@unknown.example -C "$T/none"
is "$RC" 64 "an unknown domain, no discovery and no answer: exit 64"
like "$(grep -c 'warning: http://127.0.0.1:1/unknown.example/' "$T/err")" "^1$" \
    "one warning line names the discovery that failed"
like "$(cat "$T/err")" "no answer to \"provider" "the provider was asked"
[ -e "$T/none" ] && fail "nothing written" || pass "nothing written"

# --- the sign-in ---------------------------------------------------------------
# An existing file (one account) whose defaults point the Microsoft
# account setup adds at the test servers; its name is the domain's first
# label, unique here.
if start_kernel_keyring || start_keyring; then
	start_oauth --device-interval 1 || bail "oauth server did not start"
	start_smtpd || bail "smtpd did not start"
	name=$(unique_account)
	at_exit "keyring_del $name token"
	at_exit "keyring_del ${name}b token"
	for d in "$name" "${name}b"; do
		printf '%s.example %s.mail.protection.outlook.com\n' "$d" "$d" >>"$T/mx"
	done
	S=$T/signin/config
	mkdir -p "$T/signin"
	cat >"$S" <<-EOF
	defaults
	host 127.0.0.1
	port $SMTP_PORT
	tls on
	tls_starttls on
	tls_trust_file $CERTS/ca.pem
	user alice@example.test
	token_endpoint $OAUTH_TOKEN_URL
	device_endpoint $OAUTH_DEVICE_URL
	keyring $KEYRING
	logfile $T/oauthmail.log
	account spare
	provider custom
	client_id demo-client
	from alice@example.test
	EOF
	chmod 600 "$S"
	printf 'demo-client\ndevice\ny\n' >"$T/answers"
	"$OAUTHMAIL" setup "you@$name.example" -C "$S" <"$T/answers" \
	    >"$T/out" 2>"$T/err" &
	pid=$!
	if wait_for 20 grep -Eq '[0-9]{4}-[0-9]{4}' "$T/err"; then
		pass "setup starts the device sign-in: the user code is shown"
	else
		fail "setup starts the device sign-in: the user code is shown" \
		    "$(cat "$T/err")"
	fi
	like "$(cat "$S")" "account $name" "the account was written before the sign-in"
	code=$(grep -Eo '[0-9]{4}-[0-9]{4}' "$T/err" | head -n 1)
	oauth_ctl POST "/_control/device/approve?user_code=$code" >/dev/null
	wait_bg "$pid" 30
	is "$RC" 0 "setup exits 0 once the sign-in is approved"
	like "$(cat "$T/err")" "signed in as .*token stored in" "saying who signed in"
	is "$(token_record "$name" needs_login)" false "the token record is in the keyring"
	isnt "$(token_record "$name" refresh_token)" "" "with its refresh token"
	file_contains "$S" "^  flow device$" "the config has the flow answered"
	file_contains "$S" "^  tenant $name.example$" "and the tenant"
	test_message | "$OAUTHMAIL" -C "$S" -f "you@$name.example" bob@example.test \
	    >"$T/out" 2>"$T/err"
	is "$?" 0 "a send with the new account works"
	is "$(msg_count)" 1 "the message arrived"
	is "$(msg_field auth_mech)" XOAUTH2 "signed in with the token setup got"

	# No flow answered and no display: the provider's default, which
	# without a browser is the device flow.
	printf 'demo-client\n\ny\n' >"$T/answers"
	"$OAUTHMAIL" setup "you@${name}b.example" -C "$S" <"$T/answers" \
	    >"$T/out" 2>"$T/err" &
	pid=$!
	wait_for 20 grep -Eq '[0-9]{4}-[0-9]{4}' "$T/err"
	code=$(grep -Eo '[0-9]{4}-[0-9]{4}' "$T/err" | head -n 1)
	isnt "$code" "" "an empty flow answer without a display: the device code is shown"
	oauth_ctl POST "/_control/device/approve?user_code=$code" >/dev/null
	wait_bg "$pid" 30
	is "$RC" 0 "setup exits 0 once it is approved"
	is "$(token_record "${name}b" needs_login)" false "its token is in the keyring"
	sed -n "/^account ${name}b\$/,\$p" "$S" >"$T/added"
	like "$(cat "$T/added")" "^account ${name}b" "the account was added"
	unlike "$(cat "$T/added")" "flow " \
	    "with no flow line: the provider's default"
else
	skip "no keyring" 16
fi

# --- set-id ----------------------------------------------------------------------
# A set-id process is not dumpable: LeakSanitizer cannot run in it.
if grep -q '__asan_init' "$OAUTHMAIL" 2>/dev/null; then
	skip "set-id runs cannot be checked under LeakSanitizer" 8
elif [ "$(id -u)" != 0 ] || ! getent passwd nobody >/dev/null ||
    ! getent group nogroup >/dev/null || ! unshare -n true 2>/dev/null; then
	skip "needs root, nobody, nogroup and unshare -n" 8
else
	mkdir -p "$T/suid" "$T/sgid"
	cp "$OAUTHMAIL" "$T/suid/oauthmail"
	chown nobody "$T/suid/oauthmail"
	chmod 4755 "$T/suid/oauthmail"
	"$T/suid/oauthmail" setup you@gmail.com -C "$T/suid/config" </dev/null \
	    >"$T/out" 2>"$T/err"
	is "$?" 78 "a set-user-id binary: exit 78"
	is "$(cat "$T/err")" "oauthmail: refusing to run set-user-id; remove the set-user-id bit from the binary (chmod u-s)" \
	    "one line saying what to do"
	[ -e "$T/suid/config" ] && fail "nothing written (set-user-id)" ||
	    pass "nothing written (set-user-id)"
	cp "$OAUTHMAIL" "$T/sgid/oauthmail"
	chgrp nogroup "$T/sgid/oauthmail"
	chmod 2755 "$T/sgid/oauthmail"
	rm -f "$T/in"
	mkfifo "$T/in"
	unshare -n "$T/sgid/oauthmail" setup bob@acme.example --dry-run \
	    -C "$T/sgid/config" <"$T/in" >"$T/out" 2>"$T/err" &
	pid=$!
	exec 7>"$T/in"
	wait_for 20 grep -q 'provider (' "$T/err"
	g=$(id -g)
	is "$(grep '^Gid:' "/proc/$pid/status" | tr -s ' \t' ' ')" "Gid: $g $g $g $g" \
	    "set-group-id: the group is given up for good before setup runs"
	printf 'google\ncid\n' >&7
	exec 7>&-
	wait_bg "$pid" 30
	is "$RC" 0 "set-group-id --dry-run: exit 0"
	like "$(cat "$T/err")" "was not recognised" \
	    "OAUTHMAIL_MX_FILE is ignored: the provider is asked"
	like "$(cat "$T/err")" "warning: https://login.microsoftonline.com/acme.example/" \
	    "OAUTHMAIL_DISCOVERY_URL is ignored: the real discovery is tried"
	[ -e "$T/sgid/config" ] && fail "--dry-run writes nothing (set-group-id)" ||
	    pass "--dry-run writes nothing (set-group-id)"
fi
done_testing
