# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# Under sudo's mailer and similar callers the environment says HOME=/ (or
# the HOME of another user): the per-user configuration and queue must
# still be the user's own, found through the password database, never
# under "/".
. "$top_srcdir/tests/integration/lib.sh"

need_oauthmail
[ "$(id -u)" = 0 ] || skip_all "needs root (creates a user)"
for c in useradd userdel setpriv; do
	command -v $c >/dev/null 2>&1 || skip_all "no $c"
done

U=oms$$
S=$(mktemp -d /tmp/om-sudo.XXXXXX) || bail "mktemp"
chmod 755 "$S"
at_exit "userdel $U >/dev/null 2>&1; rm -rf '$S'"
useradd -M -d "$S/home" -s /usr/sbin/nologin $U || bail "useradd $U"
mkdir -p "$S/home/.config/oauthmail" "$S/bin"
cat >"$S/home/.config/oauthmail/config" <<EOC
account local
host 127.0.0.1
port 9
tls off
auth off
from $U@example.test
aliases ~/aliases
EOC
printf 'root: admin@example.test\n' >"$S/home/aliases"
chown -R $U "$S/home"
chmod 700 "$S/home"
chmod 600 "$S/home/.config/oauthmail/config"
cp "$OAUTHMAIL" "$S/bin/oauthmail"
chmod 755 "$S/bin" "$S/bin/oauthmail"

# sudo runs its mailer with exactly this environment.
as_user() {
	setpriv --reuid=$U --regid="$(id -g $U)" --clear-groups \
	    env -i HOME=/ PATH=/usr/bin:/bin:/usr/sbin:/sbin LOGNAME=root \
	    USER=root "$@"
}

printf 'Subject: sudo incident\n\nthree incorrect password attempts\n' >"$S/msg"
chmod 644 "$S/msg"
run_ok "HOME=/: the message is accepted" \
    sh -c 'as() { setpriv --reuid="$1" --regid="$(id -g "$1")" --clear-groups env -i HOME=/ PATH=/usr/bin:/bin:/usr/sbin:/sbin LOGNAME=root USER=root "$2" -odq root <"$3"; }; as "$@"' - $U "$S/bin/oauthmail" "$S/msg"
is "$(find "$S/home/.local/state/oauthmail/queue/q" -name '*.env' 2>/dev/null | wc -l)" 1 \
    "queued in the user's own queue (from the password database)"
like "$(cat "$S"/home/.local/state/oauthmail/queue/q/*.env)" "admin@example\.test" \
    "~/aliases found in the user's home: root mapped"
if [ -e /.local/state/oauthmail ] || [ -e /.config/oauthmail ]; then
	fail "nothing written under /"
else
	pass "nothing written under /"
fi
as_user "$S/bin/oauthmail" status >"$T/out" 2>"$T/err"
like "$(cat "$T/out" "$T/err")" "local" "status reads the user's own config"

# HOME pointing at a directory of another user: the same.
mkdir -p "$S/other" && chmod 755 "$S/other"
run_ok "HOME of another user: accepted" \
    sh -c 'setpriv --reuid="$1" --regid="$(id -g "$1")" --clear-groups env -i HOME="$4" PATH=/usr/bin:/bin "$2" -odq root <"$3"' - $U "$S/bin/oauthmail" "$S/msg" "$S/other"
is "$(find "$S/home/.local/state/oauthmail/queue/q" -name '*.env' | wc -l)" 2 \
    "queued in the user's own queue again"
is "$(find "$S/other" -mindepth 1 | wc -l)" 0 "nothing written in the other HOME"
done_testing
