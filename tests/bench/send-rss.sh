#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# send-rss.sh -- peak memory (/usr/bin/time -f %M, KiB) of a 1 KB
# foreground send, by keyring: the kernel keyring; the Secret Service
# (gnome-keyring: libsecret, GLib and GIO are loaded) without the kernel
# copy of the access token (token_cache off), on a first send that makes
# the copy, and with the copy; the refresh of an expired token with each
# keyring (libcurl on top; token_cache off: the path of earlier
# versions); and msmtp sending the same message to the same server with
# XOAUTH2, its token from passwordeval: printed, or fetched with the
# refresh token by a python3 helper (msmtp cannot refresh); or, with no
# passwordeval, from the same Secret Service (msmtp's libsecret lookup).
# Then most of these again with the system's CA bundle as trust file.
# The peak is the largest process's (msmtp's or its helper's), as wait4
# reports it. Median of RUNS (default 5) each.
# usage: from a build directory, sh ../tests/bench/send-rss.sh
# (needs the kernel keyring, gnome-keyring and msmtp; reuses
# tests/integration/lib.sh's servers)
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
OAUTHMAIL=${OAUTHMAIL:-$PWD/src/oauthmail}
. "$top_srcdir/tests/integration/lib.sh"
RUNS=${RUNS:-5}
command -v msmtp >/dev/null || bail "msmtp is not installed"
start_oauth || bail "OAuth server"
start_smtpd || bail "SMTP server"
start_kernel_keyring || bail "no kernel keyring"
start_keyring || bail "no Secret Service"
{ printf 'From: alice@example.test\nTo: bob@example.test\nSubject: rss\n\n'
  head -c 700 /dev/urandom | base64 -w 76; } >"$T/m"

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# rss NAME CMD...: the median peak RSS of CMD <$T/m over RUNS runs ($PRE,
# if set, is run before each)
rss() {
	_n=$1; shift
	_i=0
	: >"$T/rss.all"
	while [ $_i -lt "$RUNS" ]; do
		[ -z "${PRE:-}" ] || eval "$PRE" || bail "$_n: $PRE failed"
		/usr/bin/time -f %M -o "$T/rss" "$@" <"$T/m" >/dev/null 2>"$T/rss.err" ||
		    bail "$_n: $(cat "$T/rss.err")"
		cat "$T/rss" >>"$T/rss.all"
		_i=$((_i + 1))
	done
	printf '%-52s %6s KiB\n' "$_n" "$(median <"$T/rss.all")"
}
# msmtprc PASSWORDEVAL: an msmtp configuration for the test servers (no
# passwordeval when empty: msmtp asks the Secret Service)
msmtprc() {
	(
		umask 077
		printf 'account default\nhost 127.0.0.1\nport %s\ntls on\n' "$SMTP_PORT"
		printf 'tls_starttls on\ntls_trust_file %s\nauth xoauth2\n' "$TRUST"
		printf 'user alice@example.test\nfrom alice@example.test\n'
		[ -z "$1" ] || printf 'passwordeval %s\n' "$1"
	) >"$T/msmtprc"
}
TRUST=$CERTS/ca.pem
# The system's CAs as users have them (Debian's bundle, which OpenSSL and
# libcurl load by default), with the test CA added so that the test
# servers verify.
cat /etc/ssl/certs/ca-certificates.crt "$CERTS/ca.pem" >"$T/system-cas.pem" ||
    bail "no /etc/ssl/certs/ca-certificates.crt"
# What msmtp's users run for a refresh: POST the refresh token, print the
# access token.
cat >"$T/refresh.py" <<'EOF'
import json, ssl, sys, urllib.parse, urllib.request
url, ca, rtfile = sys.argv[1:4]
body = urllib.parse.urlencode({"grant_type": "refresh_token",
    "client_id": "demo-client",
    "refresh_token": open(rtfile).read().strip()}).encode()
ctx = ssl.create_default_context(cafile=ca)
with urllib.request.urlopen(url, body, context=ctx, timeout=20) as r:
    print(json.load(r)["access_token"])
EOF

echo "# $(date -u +%Y-%m-%d) $(uname -m), $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
n0=$(msg_count)
KEYRING=kernel write_config "rssk$$"
at_exit "KEYRING=kernel keyring_del rssk$$ token"
KEYRING=kernel seed_token "rssk$$" || bail "seed"
rss "oauthmail, keyring kernel" "$OAUTHMAIL" -C "$CONFIG" bob@example.test
PRE='KEYRING=kernel seed_token "rssk$$" "" "expires_in=-1"' \
    rss "oauthmail, keyring kernel, refresh" "$OAUTHMAIL" -C "$CONFIG" bob@example.test
KEYRING=secret-service write_config "rsss$$" "token_cache off"
at_exit "KEYRING=secret-service keyring_del rsss$$ token"
KEYRING=secret-service seed_token "rsss$$" || bail "seed"
rss "oauthmail, secret-service, token_cache off" "$OAUTHMAIL" -C "$CONFIG" bob@example.test
PRE='KEYRING=secret-service seed_token "rsss$$" "" "expires_in=-1"' \
    rss "oauthmail, secret-service, token_cache off, refresh" "$OAUTHMAIL" -C "$CONFIG" bob@example.test
KEYRING=secret-service write_config "rsss$$"
PRE=token_cache_drop \
    rss "oauthmail, secret-service, first send (copy made)" "$OAUTHMAIL" -C "$CONFIG" bob@example.test
[ -n "$(token_cache_keys)" ] || bail "no kernel copy of the token was made"
rss "oauthmail, secret-service, with the copy" "$OAUTHMAIL" -C "$CONFIG" bob@example.test
PRE='KEYRING=secret-service seed_token "rsss$$" "" "expires_in=-1"' \
    rss "oauthmail, secret-service, refresh" "$OAUTHMAIL" -C "$CONFIG" bob@example.test
SEED_ACCESS=$(oauth_ctl POST "/_control/seed?user=alice@example.test" |
    json_get access_token) || bail "seed"
msmtprc "printf %s $SEED_ACCESS"
v=$(msmtp --version | sed -n '1s/.* //p')
rss "msmtp $v" msmtp -C "$T/msmtprc" bob@example.test
# msmtp built with libsecret looks up an account without password or
# passwordeval in the Secret Service: host, service smtp, user.
printf '%s' "$SEED_ACCESS" | timeout 10 secret-tool store --label=msmtp \
    host 127.0.0.1 service smtp user alice@example.test || bail "secret-tool store"
msmtprc ""
rss "msmtp $v, token from the Secret Service" msmtp -C "$T/msmtprc" bob@example.test
msmtprc "$PY $T/refresh.py $OAUTH_TOKEN_URL $CERTS/ca.pem $T/rt"
PRE='oauth_ctl POST "/_control/seed?user=alice@example.test" | json_get refresh_token >"$T/rt"' \
    rss "msmtp $v + python3 refresher" msmtp -C "$T/msmtprc" bob@example.test

# The same with the system's CAs (tls_trust_file: the bundle above).
KEYRING=kernel write_config "rssk$$" "tls_trust_file $T/system-cas.pem"
KEYRING=kernel seed_token "rssk$$" || bail "seed"
rss "oauthmail, keyring kernel, system CAs" "$OAUTHMAIL" -C "$CONFIG" bob@example.test
PRE='KEYRING=kernel seed_token "rssk$$" "" "expires_in=-1"' \
    rss "oauthmail, keyring kernel, system CAs, refresh" "$OAUTHMAIL" -C "$CONFIG" bob@example.test
KEYRING=secret-service write_config "rsss$$" "tls_trust_file $T/system-cas.pem"
KEYRING=secret-service seed_token "rsss$$" || bail "seed"
PRE=token_cache_drop \
    rss "oauthmail, secret-service, system CAs, first send" "$OAUTHMAIL" -C "$CONFIG" bob@example.test
rss "oauthmail, secret-service, system CAs, with the copy" "$OAUTHMAIL" -C "$CONFIG" bob@example.test
PRE='KEYRING=secret-service seed_token "rsss$$" "" "expires_in=-1"' \
    rss "oauthmail, secret-service, system CAs, refresh" "$OAUTHMAIL" -C "$CONFIG" bob@example.test
TRUST=$T/system-cas.pem
SEED_ACCESS=$(oauth_ctl POST "/_control/seed?user=alice@example.test" |
    json_get access_token) || bail "seed"
msmtprc "printf %s $SEED_ACCESS"
rss "msmtp $v, system CAs" msmtp -C "$T/msmtprc" bob@example.test
printf '%s' "$SEED_ACCESS" | timeout 10 secret-tool store --label=msmtp \
    host 127.0.0.1 service smtp user alice@example.test || bail "secret-tool store"
msmtprc ""
rss "msmtp $v, Secret Service, system CAs" msmtp -C "$T/msmtprc" bob@example.test
msmtprc "$PY $T/refresh.py $OAUTH_TOKEN_URL $TRUST $T/rt"
PRE='oauth_ctl POST "/_control/seed?user=alice@example.test" | json_get refresh_token >"$T/rt"' \
    rss "msmtp $v + python3 refresher, system CAs" msmtp -C "$T/msmtprc" bob@example.test
[ "$(($(msg_count) - n0))" = $((18 * RUNS)) ] ||
    bail "$(($(msg_count) - n0)) of $((18 * RUNS)) messages arrived"
