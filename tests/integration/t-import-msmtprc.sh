#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-import-msmtprc.sh -- oauthmail import-msmtprc: realistic msmtprc files
# (Microsoft 365 through a passwordeval token helper, Gmail, defaults and
# inheritance, a plain-password account, methods that do not map) become
# a configuration that loads (check --offline), sends through the test
# server where it can, never copies a secret and leaves the msmtprc as it
# was; the default file lookup, -o / --force, and the exit statuses 65
# and 66.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail

start_smtpd || bail "SMTP server did not start"

RC1=$T/msmtprc
cat >"$RC1" <<EOF
# msmtp configuration of a laptop
defaults
auth on
tls on
tls_trust_file $CERTS/ca.pem
logfile $T/msmtp.log
dsn_notify failure

# Work mailbox: Microsoft 365, token from an OAuth helper script
account work
host smtp.office365.com
port 587
tls_starttls on
user jane.doe@contoso.example
from jane.doe@contoso.example
auth xoauth2
passwordeval "mutt_oauth2.py --token-file ~/.config/msmtp/work.tokens"

# Gmail over implicit TLS
account gmail
host smtp.gmail.com
port 465
tls_starttls off
from jane@gmail.com
user jane@gmail.com
auth oauthbearer
passwordeval oama access jane@gmail.com

# The ISP, plain password (inherits the defaults)
account isp
host 127.0.0.1
port $SMTP_PORT
from alice@example.test
user alice@example.test
auth plain
password Very-Secret-Pa55
tls_fingerprint AB:CD:EF

# Same server, another sender: inherits from isp
account isp-alt : isp
from alice.alt@example.test

# An old Exchange account that still used a password
account legacy
host smtp.office365.com
port 587
auth login
user old@contoso.example
from old@contoso.example
passwordeval "pass show mail/legacy"

# Methods and settings oauthmail has no equivalent for
account cram
host mail.example.org
auth cram-md5
from x@example.org
user x

account default : work
EOF
chmod 600 "$RC1"
sum0=$(sha256sum "$RC1")
ls0=$(ls -l --time-style=full-iso "$RC1")

run_ok "import-msmtprc exits 0" "$OAUTHMAIL" import-msmtprc "$RC1"
cp "$T/out" "$T/imported.conf"
cp "$T/err" "$T/steps"
is "$(sha256sum "$RC1")" "$sum0" "the msmtprc is unchanged (checksum)"
is "$(ls -l --time-style=full-iso "$RC1")" "$ls0" "and so are its mode and times"

# The written configuration loads, and holds what maps.
chmod 600 "$T/imported.conf"
run_ok "the written configuration loads (check --offline)" \
    "$OAUTHMAIL" -C "$T/imported.conf" check --offline
file_contains "$T/out" "^  work: smtp\\.office365\\.com:587 STARTTLS, OAuth provider microsoft, from jane\\.doe@contoso\\.example \\(default\\)" \
    "the M365 account: provider microsoft, port 587, the default"
file_contains "$T/out" "^  gmail: smtp\\.gmail\\.com:465 TLS, OAuth provider google" \
    "the Gmail account: provider google, implicit TLS on 465"
file_contains "$T/out" "^  isp: 127\\.0\\.0\\.1:$SMTP_PORT STARTTLS, auth with a password, from alice@example\\.test" \
    "the password account keeps host, port and STARTTLS"
file_contains "$T/out" "^  isp-alt: 127\\.0\\.0\\.1:$SMTP_PORT STARTTLS, auth with a password, from alice\\.alt@example\\.test" \
    "inheritance: isp-alt has isp's server and its own from"
file_contains "$T/out" "^  legacy: smtp\\.office365\\.com:587 STARTTLS, OAuth provider microsoft" \
    "a Microsoft password account becomes an OAuth account"
file_contains "$T/out" "valid, 5 accounts" "five accounts are usable"
file_lacks "$T/out" "cram" "the cram-md5 account is not active"

C=$T/imported.conf
file_contains "$C" "^account work\$" "work is written"
file_contains "$C" "^tenant contoso\\.example" "M365: the tenant from the mailbox's domain"
file_contains "$C" "^client_id 0{8}-0{4}-0{4}-0{4}-0{12}[[:space:]]+# placeholder" \
    "M365: a placeholder client id, marked as such"
file_contains "$C" "^auth oauthbearer\$" "auth oauthbearer carries over"
file_contains "$C" "^tls_trust_file $CERTS/ca\\.pem\$" "tls_trust_file from defaults is written out"
file_contains "$C" "^logfile $T/msmtp\\.log\$" "logfile from defaults is written out"
file_contains "$C" "^account default : work\$" "account default : work"
file_contains "$C" "^# account cram: auth cram-md5 is not supported" \
    "cram-md5: commented out, with the reason"
file_contains "$C" "^#account cram\$" "the cram account's lines are kept as comments"
file_contains "$C" "^#   line 17: passwordeval: not needed; oauthmail signs in" \
    "the passwordeval helper is listed as not needed"
file_contains "$C" "^#   line [0-9]+: tls_fingerprint: " "tls_fingerprint: listed with why"
file_contains "$C" "^#   line 7: dsn_notify: use sendmail's -N option" "dsn_notify: listed with why"
file_contains "$C" "^#   account legacy: auth login: now OAuth; this account needs an OAuth app registration" \
    "the password account at Microsoft: needs an app registration"
file_lacks "$C" "Very-Secret|mutt_oauth2|oama|pass show" "no password and no passwordeval command in the output"
file_lacks "$T/steps" "Very-Secret|mutt_oauth2|oama|pass show" "nor in the next steps"
file_lacks "$C" "^(password|passwordeval|dsn_notify|tls_fingerprint) " "no msmtp-only key is written"

# The next steps, printed and in the file.
file_contains "$T/steps" "^  work: .*then run 'oauthmail login work'" "next step: oauthmail login work"
file_contains "$T/steps" "^  gmail: .*'oauthmail secret gmail', then run 'oauthmail login gmail'" \
    "next step for Gmail: its client secret, then login"
file_contains "$T/steps" "^  isp: store the password in the keyring: 'oauthmail password isp'" \
    "next step: oauthmail password isp"
file_contains "$T/steps" "5 accounts imported, 1 written commented out" "a summary line"
file_contains "$C" "^#  work: .*oauthmail login work" "the next steps are in the file too"

# The imported password account sends through the server, with the
# password given as the systemd credential (the keyring is not needed).
mkdir -p "$T/cred"
printf 'testpass\n' >"$T/cred/password.isp"
chmod 400 "$T/cred/password.isp"
printf 'To: bob@example.test\nSubject: imported\n\nbody\n' >"$T/msg"
n0=$(msg_count)
run_ok "a message through the imported isp account" sh -c \
    'CREDENTIALS_DIRECTORY="$1" "$OAUTHMAIL" -C "$2" -a isp -odi bob@example.test <"$3"' \
    - "$T/cred" "$C" "$T/msg"
is "$(msg_count)" "$((n0 + 1))" "it arrived"
is "$(msg_field auth_mech)" "PLAIN" "authenticated with PLAIN, as the msmtprc said"

# -o: a new file, mode 0600; never replaced without --force.
run_ok "-o writes the file" "$OAUTHMAIL" import-msmtprc "$RC1" -o "$T/new.conf"
is "$(stat -c %a "$T/new.conf")" 600 "mode 0600"
file_contains "$T/out" "^  work: .*oauthmail login work" "with -o, the next steps go to stdout"
cmp -s "$T/new.conf" "$C" && pass "the same text as on stdout" || fail "-o differs from stdout"
echo "mine" >"$T/new.conf"
run_rc 73 "an existing -o file: exit 73" "$OAUTHMAIL" import-msmtprc "$RC1" -o "$T/new.conf"
file_contains "$T/err" "exists; choose another name, or add --force" "the line says to use --force"
is "$(cat "$T/new.conf")" "mine" "the existing file is untouched"
run_ok "--force replaces it" "$OAUTHMAIL" import-msmtprc "$RC1" -o "$T/new.conf" --force
cmp -s "$T/new.conf" "$C" && pass "replaced by the configuration" || fail "--force did not replace"
is "$(stat -c %a "$T/new.conf")" 600 "still mode 0600"
ln -s "$T/elsewhere" "$T/link.conf"
run_rc 73 "-o onto a symbolic link: refused" "$OAUTHMAIL" import-msmtprc "$RC1" -o "$T/link.conf"
[ -e "$T/elsewhere" ] && fail "the link was followed" || pass "the link was not followed"

# The default files: ~/.msmtprc, then $XDG_CONFIG_HOME/msmtp/config.
run_rc 66 "no msmtprc anywhere: exit 66" "$OAUTHMAIL" import-msmtprc
file_contains "$T/err" "no msmtprc found .*give its path" "the line says where it looked and what to do"
mkdir -p "$XDG_CONFIG_HOME/msmtp"
printf 'account xdg\nhost smtp.gmail.com\nauth xoauth2\nfrom x@gmail.com\n' \
    >"$XDG_CONFIG_HOME/msmtp/config"
run_ok "the XDG msmtp config is found" "$OAUTHMAIL" import-msmtprc
file_contains "$T/out" "^account xdg\$" "its account is imported"
printf 'account home\nhost smtp.office365.com\nauth xoauth2\nfrom h@contoso.example\n' \
    >"$HOME/.msmtprc"
run_ok "~/.msmtprc comes first" "$OAUTHMAIL" import-msmtprc
file_contains "$T/out" "^account home\$" "~/.msmtprc's account is imported"
run_rc 66 "a missing FILE: exit 66" "$OAUTHMAIL" import-msmtprc "$T/nosuch"
file_contains "$T/err" "nosuch: No such file" "the line names the file"

# Syntax msmtp cannot read: 65, with the line.
printf 'account a\nhost h\nfrom "a@b.example\n' >"$T/bad1"
run_rc 65 "an unterminated quote: exit 65" "$OAUTHMAIL" import-msmtprc "$T/bad1"
file_contains "$T/err" "bad1:3: from: missing closing '\"'" "file and line named"
printf 'defaults\nport 25\naccount b : nosuch\nport 99999\n' >"$T/bad2"
run_rc 65 "inheriting from an undefined account: exit 65" "$OAUTHMAIL" import-msmtprc "$T/bad2"
file_contains "$T/err" "bad2:3: account b inherits from 'nosuch'" "the first error, warned"
file_contains "$T/err" "bad2:4: port: invalid port '99999'" "and the last one: every error of the file"
printf 'account a\naccount a\n' >"$T/bad3"
run_rc 65 "a duplicate account: exit 65" "$OAUTHMAIL" import-msmtprc "$T/bad3"
printf 'account a\nhost h\0x\n' >"$T/bad4"
run_rc 65 "a NUL byte: exit 65" "$OAUTHMAIL" import-msmtprc "$T/bad4"

# No account oauthmail can use: nothing is written (it would not load).
printf '# empty\n' >"$T/none"
run_rc 65 "an msmtprc without accounts: exit 65" "$OAUTHMAIL" import-msmtprc "$T/none" -o "$T/none.conf"
file_contains "$T/err" "none: no account to import" "the line says so"
[ -e "$T/none.conf" ] && fail "a file was written" || pass "no file is written"
printf 'account c\nhost mail.example.org\nauth gssapi\nfrom c@example.org\n' >"$T/gss"
run_rc 65 "only an account that cannot work: exit 65" "$OAUTHMAIL" import-msmtprc "$T/gss"
file_contains "$T/err" "auth gssapi is not supported" "the reason is printed"
file_contains "$T/err" "gss: no account to import; fix what the lines above say" "and what to do"

# msmtp's old forms: keys before any account make the account "default".
printf 'host 127.0.0.1\nport %s\ntls on\ntls_trust_file %s\nfrom a@example.test\nauth off\n' \
    "$SMTP_PORT" "$CERTS/ca.pem" >"$T/old"
run_ok "keys before any account" "$OAUTHMAIL" import-msmtprc "$T/old" -o "$T/old.conf"
run_ok "load as the account 'default'" "$OAUTHMAIL" -C "$T/old.conf" check --offline default

# check --offline itself: a broken file is 78 with the line, and it
# touches neither the keyring nor the network nor the log file.
printf 'account z\nhost smtp.example.test\nfrom z@example.test\nauth xoauth3\nlogfile %s\n' \
    "$T/never.log" >"$T/broken.conf"
chmod 600 "$T/broken.conf"
run_rc 78 "check --offline: an invalid file exits 78" "$OAUTHMAIL" -C "$T/broken.conf" check --offline
file_contains "$T/err" "broken\\.conf:4: auth: unsupported method 'xoauth3'" "with the file and line"
sed -i 's/xoauth3/off/' "$T/broken.conf"
run_ok "check --offline: valid" "$OAUTHMAIL" -C "$T/broken.conf" check --offline z
[ -e "$T/never.log" ] && fail "check --offline opened the log file" ||
    pass "check --offline opens no log file"
run_rc 78 "check --offline ACCOUNT: an unknown account exits 78" \
    "$OAUTHMAIL" -C "$T/broken.conf" check --offline nosuch
run_rc 64 "--offline is only for check" "$OAUTHMAIL" -C "$T/broken.conf" status --offline
done_testing
