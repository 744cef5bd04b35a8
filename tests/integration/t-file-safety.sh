# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# Config and spool safety: a config or queue writable by others is
# refused (78, with the chmod that fixes it), no symlink in the spool is
# followed, and everything oauthmail creates is private (files 0600,
# directories 0700).
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail

start_oauth || bail "OAuth server"
start_smtpd || bail "SMTP server"
start_kernel_keyring || skip_all "no kernel keyring"
write_config "" "timeout 5"
seed_token "$ACCOUNT" || bail "seed"
Q=$XDG_STATE_HOME/oauthmail/queue
msg() { printf 'Subject: safety\n\nbody\n'; }
sendrc() { # sendrc WANT DESC RCPT...
	_w=$1 _d=$2; shift 2
	run_rc "$_w" "$_d" sh -c 'printf "Subject: s\n\nb\n" | "$OAUTHMAIL" "$@"' - "$@"
}

# Config permissions.
chmod 606 "$CONFIG"
sendrc 78 "a world-writable config: exit 78" bob@example.test
like "$(cat "$T/err")" "chmod 600" "the error gives the chmod that fixes it"
like "$(cat "$T/err")" "$CONFIG" "and names the file"
# Group-writable: refused unless the group is root (gid 0: only root's
# group, as for files under /etc; see oauthmail.conf(5)). Use a group
# that is not root.
chmod 660 "$CONFIG"
if [ "$(stat -c %g "$CONFIG")" = 0 ]; then
	chgrp 65534 "$CONFIG" 2>/dev/null || :
fi
if [ "$(stat -c %g "$CONFIG")" != 0 ]; then
	sendrc 78 "a group-writable config (group $(stat -c %G "$CONFIG")): exit 78" bob@example.test
	like "$(cat "$T/err")" "writable by others.*chmod 600" "the error gives the chmod"
else
	skip "cannot give the config a non-root group" 2
fi
chmod 644 "$CONFIG"
sendrc 0 "a world-readable (not writable) config is accepted" bob@example.test
chmod 600 "$CONFIG"
ln -s "$CONFIG" "$T/config-link"
run_rc 0 "a config reached through a symlink is read" sh -c \
    'printf "Subject: s\n\nb\n" | "$OAUTHMAIL" -C "$1" bob@example.test' - "$T/config-link"
n=$(msg_count)

# Modes of what oauthmail created.
mode() { stat -c %a "$1"; }
sendrc 0 "a send creates the queue" bob@example.test
bad=""
for d in "$Q" "$Q"/*; do
	[ -d "$d" ] && [ "$(mode "$d")" != 700 ] && bad="$bad $d:$(mode "$d")"
done
is "$bad" "" "every queue directory is 0700"
smtpd_faults greet421
sendrc 0 "a deferred message" queued@example.test
smtpd_faults
files=$(find "$XDG_STATE_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_DATA_HOME" \
    "$XDG_RUNTIME_DIR" -type f 2>/dev/null)
[ -n "$files" ] && pass "oauthmail wrote files ($(echo "$files" | wc -l | tr -d ' '))" ||
    fail "oauthmail wrote files"
bad=""
for f in $files; do
	m=$(mode "$f")
	case $m in 600|400) ;; *) bad="$bad $f:$m" ;; esac
done
is "$bad" "" "every file it wrote is 0600 (or 0400)"
bad=""
for d in $(find "$XDG_STATE_HOME/oauthmail" -type d); do
	[ "$(mode "$d")" = 700 ] || bad="$bad $d:$(mode "$d")"
done
is "$bad" "" "every directory under the state dir is 0700"
# Even with a permissive umask.
rm -rf "$Q"
run_ok "a send with umask 000" sh -c 'umask 000; printf "Subject: s\n\nb\n" | "$OAUTHMAIL" bob@example.test'
smtpd_faults greet421
run_ok "a deferred send with umask 000" sh -c 'umask 000; printf "Subject: s\n\nb\n" | "$OAUTHMAIL" q2@example.test'
smtpd_faults
is "$(mode "$Q")" 700 "the queue directory is 0700 under umask 000"
rm -f "$T/oauthmail.log"
run_ok "a send with umask 000 creates the log file" sh -c 'umask 000; printf "Subject: s\n\nb\n" | "$OAUTHMAIL" bob@example.test'
is "$(mode "$T/oauthmail.log")" 600 "the log file is 0600 under umask 000"
bad=""
for f in $(find "$Q" -type f); do
	[ "$(mode "$f")" = 600 ] || bad="$bad $f:$(mode "$f")"
done
is "$bad" "" "queue files are 0600 under umask 000"

# A queue writable by others is refused.
chmod 777 "$Q"
sendrc 78 "queue directory 0777: refused (78)" bob@example.test
like "$(cat "$T/err")" "writable by group or others.*chmod 700" "the error says why and how to fix it"
run_fails "-q refuses it too" "$OAUTHMAIL" -q
chmod 700 "$Q"
chmod 770 "$Q/q"
sendrc 78 "queue subdirectory q/ 0770: refused" bob@example.test
chmod 700 "$Q/q"
mv "$Q/hold" "$T/hold-real"
ln -s "$T/hold-real" "$Q/hold"
sendrc 78 "a queue subdirectory that is a symlink: refused" bob@example.test
like "$(cat "$T/err")" "symlink" "the error says it is a symlink"
rm "$Q/hold"
mv "$T/hold-real" "$Q/hold"
run_ok "-q with the queue fixed" "$OAUTHMAIL" -q

# A symlink in the spool is not followed: plant q/<id>.env and the
# message as symlinks to valid entries kept outside the queue.
smtpd_faults greet421
sendrc 0 "queue one message" planted@example.test
smtpd_faults
env=$(ls "$Q/q" | grep '\.env$' | head -n 1)
id=${env%.env}
[ -n "$id" ] || bail "no queued entry to plant"
mkdir -p "$T/outside"
for f in "$Q/q/$id".*; do
	mv "$f" "$T/outside/"
	ln -s "$T/outside/$(basename "$f")" "$f"
done
before=$(cat "$T/outside/$id.env")
n=$(msg_count)
run_ok "-q with a symlinked entry exits 0" "$OAUTHMAIL" -q
is "$(msg_count)" "$n" "the symlinked entry was not delivered"
is "$(cat "$T/outside/$id.env")" "$before" "its target was not modified"
[ -f "$T/outside/$id.env" ] && pass "its target still exists" || fail "its target still exists"
run_ok "mailq with a symlinked entry" "$OAUTHMAIL" -bp
unlike "$(cat "$T/out")" "planted@example.test" "mailq does not read through the symlink"
# A symlink in tmp/ pointing at a file of the user: never written to.
echo precious >"$T/precious"
for i in 1 2 3; do ln -s "$T/precious" "$Q/tmp/link$i"; done
sendrc 0 "a send with symlinks in tmp/" bob@example.test
is "$(cat "$T/precious")" precious "a file behind a symlink in tmp/ is untouched"
done_testing
