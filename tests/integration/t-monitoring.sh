# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# Monitoring: status --json and queue --json against a queue with known
# contents (one deferred message, one held by a server that refuses SMTP
# AUTH), check --nagios's exit code in each state, status --prometheus
# checked line by line against the exposition format, none of them
# opening a connection; and the log's line per recipient and attempt.
. "$top_srcdir/tests/integration/lib.sh"

need_oauthmail
[ "$(om_server)" = smtpd ] || skip_all "needs the fake server's faults"
start_oauth || bail "OAuth server"
start_smtpd || bail "SMTP server"
start_kernel_keyring || skip_all "no kernel keyring"
write_config "" "timeout 10"
at_exit "keyring_del $ACCOUNT token"
seed_token "$ACCOUNT" || bail "seed"
Q=$XDG_STATE_HOME/oauthmail/queue
sendto() { # sendto RCPT: a small message, delivered at once
	printf 'Subject: monitoring\n\nbody\n' | "$OAUTHMAIL" "$1"
}
# jq-like checks with python: pyj FILE EXPR prints EXPR over d = the JSON.
pyj() {
	$PY -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2"
}
# The log lines of one recipient: rcptlog ADDR.
rcptlog() { grep -F "to=<$1>" "$T/oauthmail.log"; }
nagios() { # nagios WANT DESC ARGS...: check --nagios's exit code
	_want=$1 _desc=$2; shift 2
	"$OAUTHMAIL" check --nagios "$@" >"$T/nagios" 2>"$T/nagios.err"
	is "$?" "$_want" "$_desc"
	like "$(cat "$T/nagios")" \
	    '^OAUTHMAIL (OK|WARNING|CRITICAL|UNKNOWN) - [^|]*( \| queued=[0-9]+ deferred=[0-9]+ held=[0-9]+ failed=[0-9]+ oldest=[0-9]+s;[0-9]+;[0-9]+;0)?$' \
	    "$_desc: one plugin line with performance data"
	is "$(wc -l <"$T/nagios" | tr -d ' ')" 1 "$_desc: exactly one line"
}
# The exposition format, line by line: HELP/TYPE comments and samples.
prom_check() {
	$PY - "$1" <<'EOF'
import re, sys
name = r'oauthmail_[a-z_]+'
label = r'[a-z_]+="(?:[^"\\\n]|\\["\\n])*"'
sample = re.compile(r'^(%s)(\{%s(,%s)*\})? -?[0-9]+$' % (name, label, label))
help_ = re.compile(r'^# HELP (%s) \S.*$' % name)
type_ = re.compile(r'^# TYPE (%s) (gauge|counter)$' % name)
typed = {}
for n, line in enumerate(open(sys.argv[1]), 1):
    line = line.rstrip("\n")
    m = help_.match(line) or type_.match(line)
    if m:
        if line.startswith("# TYPE"):
            typed[m.group(1)] = m.group(2)
        continue
    m = sample.match(line)
    if not m:
        sys.exit("line %d is not in the exposition format: %r" % (n, line))
    if m.group(1) not in typed:
        sys.exit("line %d: %s has no TYPE line before it" % (n, m.group(1)))
    if typed[m.group(1)] == "counter" and not m.group(1).endswith("_total"):
        sys.exit("line %d: counter %s lacks _total" % (n, m.group(1)))
EOF
}
prom_value() { # prom_value FILE SAMPLE-WITHOUT-VALUE
	awk -v s="$2" 'substr($0, 1, length(s) + 1) == s " " { print $NF }' "$1"
}

# ---- an account that can send, an empty queue.
c0=$(smtp_stat connections)
run_ok "status --json" "$OAUTHMAIL" status --json
cp "$T/out" "$T/s0.json"
is "$(pyj "$T/s0.json" 'd["schema_version"]')" 1 "schema_version 1"
is "$(pyj "$T/s0.json" 'd["accounts"][0]["name"]')" "$ACCOUNT" "the account's name"
is "$(pyj "$T/s0.json" 'd["accounts"][0]["state"]')" ok "state ok"
is "$(pyj "$T/s0.json" 'd["accounts"][0]["transport"]')" smtp "transport smtp"
is "$(pyj "$T/s0.json" 'd["accounts"][0]["token_expires"]')" "$SEED_EXPIRES_AT" \
    "token_expires is the seeded token's expiry"
like "$(pyj "$T/s0.json" 'd["accounts"][0]["token_expires_iso"]')" \
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' "token_expires_iso is ISO 8601 UTC"
is "$(pyj "$T/s0.json" '[d["accounts"][0][k] for k in ("queued", "deferred", "held", "failed", "oldest_age_seconds")]')" \
    "[0, 0, 0, 0, 0]" "every count 0, oldest 0"
is "$(pyj "$T/s0.json" 'd["accounts"][0]["last_success"]')" None "last_success null: never signed in to the server"
nagios 0 "nothing wrong: OK"
like "$(cat "$T/nagios")" "^OAUTHMAIL OK - 1 account can send, 0 messages waiting \| queued=0 deferred=0 held=0 failed=0 oldest=0s;3600;86400;0" \
    "OK with the default thresholds (1h, 1d)"
run_ok "status --prometheus" "$OAUTHMAIL" status --prometheus
cp "$T/out" "$T/p0.prom"
prom_check "$T/p0.prom" && pass "every line is in the exposition format" ||
    fail "the metrics are not in the exposition format"
is "$(prom_value "$T/p0.prom" "oauthmail_account_state{account=\"$ACCOUNT\",state=\"ok\"}")" 1 \
    "oauthmail_account_state ok = 1"
is "$(prom_value "$T/p0.prom" "oauthmail_token_expiry_timestamp_seconds{account=\"$ACCOUNT\"}")" \
    "$SEED_EXPIRES_AT" "oauthmail_token_expiry_timestamp_seconds"
is "$(smtp_stat connections)" "$c0" "status --json, --prometheus and check --nagios connect to nothing"

# ---- the log: one line per recipient and attempt.
printf 'Subject: log\n\nbody\n' | "$OAUTHMAIL" root ok@example.test || fail "submit to two"
is "$(rcptlog ok@example.test | wc -l | tr -d ' ')" 1 "one log line for the recipient"
relay="relay=127\.0\.0\.1\[127\.0\.0\.1\]:$SMTP_PORT tls=TLSv1\.[23] auth=XOAUTH2"
like "$(rcptlog ok@example.test)" \
    "[0-9a-f]{32}: to=<ok@example\.test> account=$ACCOUNT from=<alice@example\.test> $relay delay=[0-9]+\.[0-9] attempts=1 size=[0-9]+ dsn=2\.0\.0 transport=smtp status=sent \(250 .*\)\$" \
    "the sent recipient's line: relay, TLS, delay, dsn, status and the reply"
like "$(rcptlog alice@example.test)" "to=<alice@example\.test> orig_to=<root> account=$ACCOUNT .* status=sent \(250 " \
    "an aliased recipient's line names the original address"

# ---- one deferred message (the server answers 451 for its recipient).
sendto tempfail@example.test || fail "submit tempfail"
like "$(rcptlog tempfail@example.test)" \
    "to=<tempfail@example\.test> .*$relay .*attempts=1 .*dsn=4\.2\.0 transport=smtp status=deferred \(451 4\.2\.0 " \
    "the deferred recipient's line: dsn 4.2.0, status deferred, the 451"
nagios 1 "a deferred message: WARNING"
like "$(cat "$T/nagios")" "deferred=1 " "the performance data count it"
like "$(cat "$T/nagios")" "account $ACCOUNT: 1 deferred" "the line names the account"
_aged() { "$OAUTHMAIL" status --json >"$T/aged.json" &&
    [ "$(pyj "$T/aged.json" 'd["accounts"][0]["oldest_age_seconds"]')" -ge 1 ]; }
wait_for 5 _aged
nagios 2 "older than -c 1s: CRITICAL" -w 1s -c 1s
like "$(cat "$T/nagios")" "oldest=[0-9]+s;1;1;0" "the thresholds in the performance data"
nagios 1 "older than -w 1s only: WARNING" -w 1s -c 1d

# ---- one held message: the server refuses SMTP AUTH for the tenant.
smtpd_faults auth_disabled_tenant
sendto held@example.test
smtpd_faults
run_ok "status --json with held mail" "$OAUTHMAIL" status --json
cp "$T/out" "$T/s1.json"
is "$(pyj "$T/s1.json" 'd["accounts"][0]["state"]')" smtp-auth-disabled "state smtp-auth-disabled"
like "$(pyj "$T/s1.json" 'd["accounts"][0]["detail"]')" "Set-CASMailbox" "detail says the fix"
is "$(pyj "$T/s1.json" '[d["accounts"][0][k] for k in ("queued", "deferred", "held", "failed")]')" \
    "[0, 1, 1, 0]" "counts: 1 deferred, 1 held"
now=$(date +%s)
ls=$(pyj "$T/s1.json" 'd["accounts"][0]["last_success"]')
ok "$([ "$ls" -ge $((now - 60)) ] && [ "$ls" -le "$now" ]; echo $?)" \
    "last_success: the accepted sign-in before the 451"
run_ok "queue --json" "$OAUTHMAIL" queue --json
cp "$T/out" "$T/q1.json"
is "$(pyj "$T/q1.json" 'd["schema_version"]')" 1 "queue: schema_version 1"
is "$(pyj "$T/q1.json" 'sorted(m["state"] for m in d["messages"])')" "['deferred', 'held']" \
    "queue: one deferred and one held message"
deferred='[m for m in d["messages"] if m["state"] == "deferred"][0]'
held='[m for m in d["messages"] if m["state"] == "held"][0]'
is "$(pyj "$T/q1.json" "[(r['address'], r['state']) for r in $deferred['recipients']]")" \
    "[('tempfail@example.test', 'deferred')]" "queue: the deferred recipient and its state"
like "$(pyj "$T/q1.json" "$deferred['recipients'][0]['reply']")" "^451 4\.2\.0" "queue: its last reply"
like "$(pyj "$T/q1.json" "$held['last_error']")" "5\.7\.139" "queue: the held message's last error"
is "$(pyj "$T/q1.json" "($deferred['account'], $deferred['sender'], $deferred['attempts'])")" \
    "('$ACCOUNT', 'alice@example.test', 1)" "queue: account, sender, attempts"
id=$(pyj "$T/q1.json" "$deferred['id']")
ok "$([ -f "$Q/q/$id.env" ]; echo $?)" "queue: the id is the spool entry's"
is "$(pyj "$T/q1.json" "$deferred['size']")" "$(sed -n 's/^size: //p' "$Q/q/$id.env")" "queue: size"
is "$(pyj "$T/q1.json" "$deferred['next_try']")" "$(sed -n 's/^next-try: //p' "$Q/q/$id.env")" "queue: next_try"
is "$(pyj "$T/q1.json" "$deferred['age_seconds'] >= 0 and $deferred['created'] <= d['generated']")" True \
    "queue: created and age"
nagios 2 "held mail (SMTP AUTH disabled): CRITICAL"
like "$(cat "$T/nagios")" "account $ACCOUNT smtp-auth-disabled: " "the line says why"
like "$(rcptlog held@example.test)" \
    "to=<held@example\.test> .*$relay .*dsn=4\.7\.139 transport=smtp status=held \(AUTH XOAUTH2 refused .*535 5\.7\.139 " \
    "the held recipient's line: status held and the refusal"
like "$(cat "$T/nagios")" "queued=0 deferred=1 held=1 failed=0" "the performance data"
run_ok "status --prometheus with held mail" "$OAUTHMAIL" status --prometheus
cp "$T/out" "$T/p1.prom"
prom_check "$T/p1.prom" && pass "held: every line is in the exposition format" ||
    fail "held: the metrics are not in the exposition format"
for s in queued:0 deferred:1 held:1 failed:0; do
	is "$(prom_value "$T/p1.prom" "oauthmail_messages{account=\"$ACCOUNT\",state=\"${s%:*}\"}")" \
	    "${s#*:}" "oauthmail_messages ${s%:*} = ${s#*:}"
done
is "$(prom_value "$T/p1.prom" "oauthmail_account_state{account=\"$ACCOUNT\",state=\"smtp-auth-disabled\"}")" 1 \
    "oauthmail_account_state smtp-auth-disabled = 1"
is "$(prom_value "$T/p1.prom" "oauthmail_account_state{account=\"$ACCOUNT\",state=\"ok\"}")" 0 \
    "oauthmail_account_state ok = 0"
like "$(prom_value "$T/p1.prom" "oauthmail_oldest_message_age_seconds{account=\"$ACCOUNT\"}")" '^[1-9][0-9]*$' \
    "oauthmail_oldest_message_age_seconds > 0"

# ---- an account without a token: sign-in needed.
# (another mailbox: token records are kept by identity, not by name)
sed -e "s/^account $ACCOUNT\$/account nosign/" -e "s/^account default : .*/account default : nosign/" \
    -e "s/^user .*/user nosign@example.test/" "$CONFIG" >"$T/nosign.conf"
chmod 600 "$T/nosign.conf"
nagios 2 "no token: CRITICAL" -C "$T/nosign.conf"
like "$(cat "$T/nagios")" "account nosign signin-needed: no token: run 'oauthmail login nosign'" \
    "the line says how to sign in"
run_ok "status --json exits 0 whatever the state" "$OAUTHMAIL" status --json -C "$T/nosign.conf"
is "$(pyj "$T/out" 'd["accounts"][0]["state"]')" signin-needed "state signin-needed"

# ---- a password account whose password the server refuses: held, and
# the fix is a new password, not a sign-in.
PW=pw$$
sed -e "s/^account $ACCOUNT\$/account $PW/" -e "s/^account default : .*/account default : $PW/" \
    -e "s/^auth .*/auth plain/" -e "/^provider /d" -e "/^client_id /d" -e "/^token_endpoint /d" \
    "$CONFIG" >"$T/pw.conf"
chmod 600 "$T/pw.conf"
at_exit "keyring_del $PW password"
keyring_put "$PW" password not-the-password || bail "keyring_put"
printf 'Subject: pw\n\nbody\n' | "$OAUTHMAIL" -C "$T/pw.conf" pw@example.test
nagios 2 "a refused password: CRITICAL" -C "$T/pw.conf"
like "$(cat "$T/nagios")" "account $PW signin-needed: the server refused the sign-in \\(.*535.*\\): .*'oauthmail password $PW'" \
    "the line says to store the password again"

# ---- a keyring that cannot be reached: mail waits, WARNING.
sed "s/^keyring .*/keyring secret-service/" "$T/nosign.conf" >"$T/nobus.conf"
chmod 600 "$T/nobus.conf"
_bus=${DBUS_SESSION_BUS_ADDRESS-}
DBUS_SESSION_BUS_ADDRESS=unix:path=$T/no-bus
export DBUS_SESSION_BUS_ADDRESS
nagios 1 "keyring unreachable: WARNING" -C "$T/nobus.conf"
if [ -n "$_bus" ]; then DBUS_SESSION_BUS_ADDRESS=$_bus; else unset DBUS_SESSION_BUS_ADDRESS; fi
like "$(cat "$T/nagios")" "account nosign keyring-unreachable: " "the line says the keyring cannot be reached"

# ---- UNKNOWN: the configuration cannot be read, or the plugin's options.
nagios 3 "unreadable configuration: UNKNOWN" -C "$T/absent.conf"
nagios 3 "a bad threshold: UNKNOWN" -w soon
nagios 3 "an unknown account: UNKNOWN" nosuch
# A queue this user may not read (here: others may write to it) is no
# empty queue: the reports fail rather than count nothing.
chmod 770 "$Q"
nagios 3 "a queue that cannot be read: UNKNOWN"
like "$(cat "$T/nagios")" "cannot report on the queue: .*$Q" "the line names the queue"
run_rc 78 "status --json: the queue cannot be read" "$OAUTHMAIL" status --json
is "$(wc -l <"$T/err" | tr -d ' '):$(wc -c <"$T/out" | tr -d ' ')" "1:0" "one line on stderr, nothing on stdout"
run_rc 78 "status --prometheus: the same" "$OAUTHMAIL" status --prometheus
is "$(wc -c <"$T/out" | tr -d ' ')" 0 "no metrics written"
chmod 700 "$Q"
# Another user's queue (the daemon's, in system mode): the line says whose.
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	mkdir -m 700 "$T/otherq" && chown nobody "$T/otherq"
	sed "s|^account default : |queue_dir $T/otherq\\naccount default : |" "$CONFIG" >"$T/otherq.conf"
	chmod 600 "$T/otherq.conf"
	nagios 3 "another user's queue: UNKNOWN" -C "$T/otherq.conf"
	like "$(cat "$T/nagios")" "the queue $T/otherq belongs to nobody: run the report as that user \\(e\\.g\\. sudo -u nobody " \
	    "the line says whose queue it is and how to run the check"
else
	skip "needs root and the user nobody to give a queue away" 4
fi
# The transport is the account's.
sed "s|^account default : |transport graph\\ngraph_endpoint https://127.0.0.1:9/v1.0\\napi_scope Mail.Send\\naccount default : |" \
    "$CONFIG" >"$T/graph.conf"
chmod 600 "$T/graph.conf"
run_ok "status --json of a Graph account" "$OAUTHMAIL" status --json -C "$T/graph.conf"
is "$(pyj "$T/out" 'd["accounts"][0]["transport"]')" graph "transport graph"
run_ok "status --prometheus of a Graph account" "$OAUTHMAIL" status --prometheus -C "$T/graph.conf"
like "$(cat "$T/out")" "^oauthmail_account_info\\{account=\"$ACCOUNT\",transport=\"graph\"," \
    "oauthmail_account_info has transport graph"
run_rc 64 "--nagios with status: a usage error" "$OAUTHMAIL" status --nagios
run_rc 64 "--prometheus with queue: a usage error" "$OAUTHMAIL" queue --prometheus

# ---- no connection at all: the line has no relay or TLS fields.
sed "s/^port .*/port 1/" "$CONFIG" >"$T/closed.conf"
chmod 600 "$T/closed.conf"
printf 'Subject: closed\n\nbody\n' | "$OAUTHMAIL" -C "$T/closed.conf" closed@example.test ||
    fail "submit with the server down"
like "$(rcptlog closed@example.test)" \
    "to=<closed@example\.test> account=$ACCOUNT from=<alice@example\.test> delay=[0-9.]+ attempts=1 size=[0-9]+ dsn=4\.[0-9.]+ transport=smtp status=deferred \(.*127\.0\.0\.1.*\)\$" \
    "a connection never made: no relay, tls or auth field"

# ---- a run refused at the greeting: the line has that refusal, and the
# recipient keeps the last reply the server gave about it.
smtpd_faults greet421
run_ok "-q refused at the greeting" "$OAUTHMAIL" -q
smtpd_faults
like "$(rcptlog tempfail@example.test | tail -n 1)" "attempts=2 .*status=deferred \\(.*421 4\\.3\\.2" \
    "the second attempt's line has the 421"
run_ok "queue --json after it" "$OAUTHMAIL" queue --json
like "$(pyj "$T/out" "[r['reply'] for m in d['messages'] for r in m['recipients'] if r['address'] == 'tempfail@example.test'][0]")" \
    "^451 4\\.2\\.0" "the recipient's last reply is still the 451"
done_testing
