#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# serve.sh -- start the test OAuth server and the Postfix + Dovecot tier by
# hand (for debugging or a demo), print how to reach them, and wait until
# Ctrl-C; everything stops and is removed then (KEEP=1 keeps the files).
# As root, from a build directory:
#   top_srcdir=SRCDIR sh SRCDIR/tests/integration/postfix/serve.sh
# Then seed a token and send, e.g.:
#   curl --cacert tests/integration/certs/ca.pem -X POST \
#       "$OAUTH_URL/_control/seed?user=alice@example.test"
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/lib-postfix.sh"
PF_AUTH_DEBUG=${PF_AUTH_DEBUG:-yes}
start_oauth || bail "OAuth server did not start"
start_postfix_tier || bail "$PF_WHY"
cat <<MSG
OAuth server    $OAUTH_URL (introspection: $OAUTH_URL/introspect)
submission      127.0.0.1:$PF_SUBMISSION_PORT (STARTTLS required)
smtps           127.0.0.1:$PF_SMTPS_PORT (implicit TLS)
test CA         $CERTS/ca.pem
Maildir         $PF_MAILDIR
logs            $PF_LOG $PF_DOVECOT_LOG
Ctrl-C stops everything.
MSG
while :; do sleep 60; done
