#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# send-rss.sh -- peak memory (/usr/bin/time -f %M, KiB) of a 1 KB
# foreground send with a valid token, by keyring: the kernel keyring, the
# Secret Service (gnome-keyring: libsecret, GLib and GIO are loaded), and
# msmtp sending the same message to the same server with XOAUTH2 (the
# token from passwordeval). Median of RUNS (default 5) each.
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
# rss NAME CMD...: the median peak RSS of CMD <$T/m over RUNS runs
rss() {
	_n=$1; shift
	_i=0
	: >"$T/rss.all"
	while [ $_i -lt "$RUNS" ]; do
		/usr/bin/time -f %M -o "$T/rss" "$@" <"$T/m" >/dev/null 2>"$T/rss.err" ||
		    bail "$_n: $(cat "$T/rss.err")"
		cat "$T/rss" >>"$T/rss.all"
		_i=$((_i + 1))
	done
	printf '%-32s %6s KiB\n' "$_n" "$(median <"$T/rss.all")"
}

echo "# $(date -u +%Y-%m-%d) $(uname -m), $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
n0=$(msg_count)
KEYRING=kernel write_config "rssk$$"
at_exit "KEYRING=kernel keyring_del rssk$$ token"
KEYRING=kernel seed_token "rssk$$" || bail "seed"
rss "oauthmail, keyring kernel" "$OAUTHMAIL" -C "$CONFIG" bob@example.test
KEYRING=secret-service write_config "rsss$$"
at_exit "KEYRING=secret-service keyring_del rsss$$ token"
KEYRING=secret-service seed_token "rsss$$" || bail "seed"
rss "oauthmail, keyring secret-service" "$OAUTHMAIL" -C "$CONFIG" bob@example.test
(
	umask 077
	printf 'account default\nhost 127.0.0.1\nport %s\ntls on\ntls_starttls on\n' "$SMTP_PORT"
	printf 'tls_trust_file %s\nauth xoauth2\nuser alice@example.test\n' "$CERTS/ca.pem"
	printf 'from alice@example.test\npasswordeval printf %%s %s\n' "$SEED_ACCESS"
) >"$T/msmtprc"
rss "msmtp $(msmtp --version | sed -n '1s/.* //p')" msmtp -C "$T/msmtprc" bob@example.test
[ "$(($(msg_count) - n0))" = $((3 * RUNS)) ] ||
    bail "$(($(msg_count) - n0)) of $((3 * RUNS)) messages arrived"
