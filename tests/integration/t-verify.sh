# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# sendmail -bv ADDR...: where each address goes after the aliases, through
# which account and relay; nothing is queued or sent.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail

mkdir -p "$XDG_CONFIG_HOME/oauthmail"
printf 'root: admin@example.test, ops\nops: ops@example.test\npostmaster: root\n' \
    >"$T/aliases"
cat >"$XDG_CONFIG_HOME/oauthmail/config" <<EOC
account work
host smtp.example.test
port 587
from alice@example.test
aliases $T/aliases
account other
host smtp.other.test
from bob@other.test
account default : work
EOC
chmod 600 "$XDG_CONFIG_HOME/oauthmail/config"

run_ok "-bv root exits 0" "$OAUTHMAIL" -bv root
is "$(cat "$T/out")" "root... deliverable: relay smtp.example.test:587 (account work) to admin@example.test, ops@example.test" \
    "root is shown with its aliases expanded, recursively"
run_ok "-bv postmaster and a remote address" "$OAUTHMAIL" -bv postmaster carol@example.net
like "$(sed -n 1p "$T/out")" "^postmaster\.\.\. deliverable: .* to admin@example\.test, ops@example\.test$" "postmaster -> root -> both"
like "$(sed -n 2p "$T/out")" "^carol@example\.net\.\.\. deliverable: relay smtp\.example\.test:587 \(account work\) to carol@example\.net$" "a remote address goes as it is"
run_ok "-bv -a other" "$OAUTHMAIL" -bv -a other dave@example.net
like "$(cat "$T/out")" "relay smtp\.other\.test:587 \(account other\)" "-a picks the account"
run_rc 67 "an unmapped local name exits 67" "$OAUTHMAIL" -bv nobody
like "$(cat "$T/out")" "^nobody\.\.\. not deliverable: .*nobody" "and says why"
is "$(find "$XDG_STATE_HOME" -name '*.env' 2>/dev/null | wc -l)" 0 "nothing was queued"
run_rc 64 "-bv without an address is a usage error" "$OAUTHMAIL" -bv
done_testing
