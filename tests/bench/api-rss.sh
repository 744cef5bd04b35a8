#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# api-rss.sh -- peak memory of a delivery over the HTTPS mail APIs: the
# queue run (oauthmail -q) that sends one message of each size through
# the fake Graph (base64 streamed through libcurl's read callback) and
# the fake Gmail API (raw bytes streamed), measured with /usr/bin/time
# -f %M (maximum resident set, KiB). Flat across sizes means the body is
# streamed, never held in memory.
# usage: from a build directory, sh ../tests/bench/api-rss.sh
# (needs the kernel keyring; reuses tests/integration/lib.sh's servers)
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
start_oauth || bail "OAuth server"
start_kernel_keyring || bail "no kernel keyring"
GS=https://graph.microsoft.com/Mail.Send
ACCOUNT=$(unique_account)
seed_token "$ACCOUNT" alice@example.test \
    "scope=https://outlook.office.com/SMTP.Send%20offline_access%20$GS%20https://mail.google.com/" ||
    bail "seed"
mkmsg() {	# mkmsg BYTES FILE
	{ printf 'Subject: rss %s\nTo: bob@example.test\n\n' "$1"
	  head -c "$1" /dev/urandom | base64 -w 76; } >"$2"
}
measure() {	# measure KIND SIZE
	"$OAUTHMAIL" -odq bob@example.test <"$T/m" || bail "enqueue"
	/usr/bin/time -f %M -o "$T/rss" "$OAUTHMAIL" -q || bail "queue run"
	printf '%-6s %10s bytes  %6s KiB\n' "$1" "$(wc -c <"$T/m" | tr -d ' ')" "$(cat "$T/rss")"
}
echo "# $(date -u +%Y-%m-%d) $(uname -m), $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
start_api graph || bail "fake Graph"
write_config "$ACCOUNT" "transport graph" "graph_endpoint $API_URL/v1.0" "api_scope $GS"
for n in 1000 100000 1000000 2200000; do mkmsg $n "$T/m"; measure graph $n; done
[ "$(api_msg_count)" = 4 ] || bail "Graph took $(api_msg_count) of 4"
start_api gmail || bail "fake Gmail API"
write_config "$ACCOUNT" "provider google" "token_endpoint $OAUTH_URL/token" \
    "transport gmail-api" "gmail_endpoint $API_URL"
for n in 1000 1000000 10000000 22000000; do mkmsg $n "$T/m"; measure gmail $n; done
[ "$(api_msg_count)" = 4 ] || bail "Gmail took $(api_msg_count) of 4"
