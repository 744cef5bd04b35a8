#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-token-cache.sh -- the kernel copy of the access token in front of the
# Secret Service: the first send reads the Secret Service and makes the
# copy (a key with a timeout, no refresh token in it); the next send
# delivers with the Secret Service out of reach; a 535 drops the copy and
# refreshes once; an expired or malformed copy is not used; a blocked
# kernel keyring falls back to the Secret Service; logout removes the
# copy; token_cache off makes none; a sign-in makes it; check says which
# one served its token.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
command -v keyctl >/dev/null || skip_all "keyctl missing"
start_oauth || bail "OAuth server did not start"
start_smtpd || bail "SMTP server did not start"
start_kernel_keyring || skip_all "no kernel keyring"
start_keyring || skip_all "no Secret Service"
write_config "" "timeout 10"
at_exit "token_cache_drop"

copies() { token_cache_keys | wc -l | tr -d ' '; }
copy_id() { token_cache_keys | head -n 1; }
copy_field() { keyctl pipe "$(copy_id)" 2>/dev/null | json_get "$1"; }
nobus() {
	test_message | DBUS_SESSION_BUS_ADDRESS=unix:path=$T/no-bus \
	    "$OAUTHMAIL" -C "$CONFIG" "$@" >"$T/out" 2>"$T/err"
	RC=$?
}
# blocked CMD...: CMD with keyctl, add_key and request_key failing EPERM,
# as in a container whose seccomp profile refuses them.
cat >"$T/blocked.py" <<'EOF'
import ctypes, os, sys
s = ctypes.CDLL("libseccomp.so.2")
s.seccomp_init.restype = ctypes.c_void_p
s.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                               ctypes.c_uint]
s.seccomp_load.argtypes = [ctypes.c_void_p]
ctx = s.seccomp_init(0x7fff0000)                    # SCMP_ACT_ALLOW
for name in (b"keyctl", b"add_key", b"request_key"):
    nr = s.seccomp_syscall_resolve_name(name)
    if s.seccomp_rule_add(ctx, 0x00050000 | 1, nr, 0) != 0:  # ERRNO(EPERM)
        sys.exit("seccomp_rule_add failed")
if s.seccomp_load(ctx) != 0:
    sys.exit("seccomp_load failed")
os.execvp(sys.argv[1], sys.argv[1:])
EOF
blocked() { $PY "$T/blocked.py" "$@"; }

# 1. First send: the Secret Service, and the copy made.
seed_token "$ACCOUNT" || bail "seed"
is "$(copies)" 0 "no copy before the first send"
send_msg bob@example.test
is "$RC" 0 "first send: exit 0"
is "$(msg_count)" 1 "first send: delivered"
is "$(copies)" 1 "first send: one kernel copy"
is "$(copy_field access_token)" "$SEED_ACCESS" "the copy holds the access token"
keyctl pipe "$(copy_id)" >"$T/copy" 2>/dev/null
file_lacks "$T/copy" "refresh_token" "the copy holds no refresh token"
file_lacks "$T/copy" "$SEED_REFRESH" "nor the refresh token's value"
is "$(copy_field expires_at)" "$SEED_EXPIRES_AT" "the copy keeps the expiry"
hex=$(printf '%08x' "$(copy_id)")
ttl=$(awk -v k="$hex" '$1 == k { print $4 }' /proc/keys)
like "$ttl" '^[0-9]+[smhdw]$' "the key has a kernel timeout ($ttl)"
perm=$(awk -v k="$hex" '$1 == k { print $5 }' /proc/keys)
is "$perm" "3f010000" "the key is readable by its possessor only"

run_ok "status" "$OAUTHMAIL" -C "$CONFIG" status "$ACCOUNT"
like "$(cat "$T/out")" "kernel copy +.*\\(in [0-9]+ min\\)" \
    "status says when the copy expires"

# 2. The next send: no Secret Service at all.
t0=$(oauth_stat counts.token_requests)
nobus bob@example.test
is "$RC" 0 "second send, Secret Service out of reach: exit 0"
is "$(msg_count)" 2 "second send: delivered with the copy"
is "$(oauth_stat counts.token_requests)" "$t0" "second send: no token request"
test_message | LD_DEBUG=files "$OAUTHMAIL" -C "$CONFIG" bob@example.test \
    >"$T/out" 2>"$T/ld"
is "$?" 0 "a send with the copy: exit 0"
file_contains "$T/ld" 'libc\.so' "the loader's trace is there"
file_lacks "$T/ld" 'libsecret|libgio|libglib|libgcrypt|libcurl' \
    "a send with the copy loads neither libsecret, GLib nor libcurl"
run_ok "check with the copy" "$OAUTHMAIL" -C "$CONFIG" check "$ACCOUNT"
file_contains "$T/out" "^token: cached in the kernel copy \\(kernel keyring" \
    "check says its token came from the kernel copy"
file_lacks "$T/out" "cached in the keyring \\(" \
    "check does not say the Secret Service served it"
token_cache_drop
run_ok "check without the copy" "$OAUTHMAIL" -C "$CONFIG" check "$ACCOUNT"
file_contains "$T/out" "^token: cached in the keyring \\(secret-service\\)" \
    "check without the copy: the Secret Service's record"
is "$(copies)" 1 "check made the copy again"

# 3. A 535 for the copy's token: the copy goes, one refresh, delivered.
oauth_ctl POST "/_control/expire_access" >/dev/null
r0=$(oauth_stat counts.refresh_ok)
send_msg bob@example.test
is "$RC" 0 "535 on the copy's token: exit 0"
is "$(msg_count)" 4 "535 on the copy's token: delivered"
is "$(oauth_stat counts.refresh_ok)" "$((r0 + 1))" "535: exactly one refresh"
new=$(token_record "$ACCOUNT" access_token)
isnt "$new" "$SEED_ACCESS" "535: a new token in the Secret Service"
is "$(copy_field access_token)" "$new" "535: the copy holds the new token"

# 4. An expired copy, then a malformed one: not used.
k=$(copy_id)
printf '{"access_token":"stale","expires_at":%s,"needs_login":false}' \
    "$(($(date +%s) - 10))" | keyctl pupdate "$k"
a0=$(smtp_stat auth_failures)
send_msg bob@example.test
is "$RC" 0 "expired copy: exit 0"
is "$(msg_count)" 5 "expired copy: delivered"
is "$(smtp_stat auth_failures)" "$a0" "expired copy: its token never offered"
is "$(copy_field access_token)" "$new" "expired copy: replaced from the record"
printf 'not json' | keyctl pupdate "$(copy_id)"
send_msg bob@example.test
is "$RC" 0 "malformed copy: exit 0"
is "$(msg_count)" 6 "malformed copy: delivered"
is "$(smtp_stat auth_failures)" "$a0" "malformed copy: no failed AUTH"

# 5. The kernel keyring blocked (seccomp): the Secret Service serves.
if blocked true 2>"$T/blocked.err"; then
	test_message | blocked "$OAUTHMAIL" -C "$CONFIG" bob@example.test \
	    >"$T/out" 2>"$T/err"
	is "$?" 0 "kernel keyring blocked: exit 0"
	is "$(msg_count)" 7 "kernel keyring blocked: delivered"
	is "$(cat "$T/err")" "" "kernel keyring blocked: nothing said"
else
	skip "cannot load a seccomp filter: $(cat "$T/blocked.err")" 3
fi

# 6. logout: the copy goes; a send can no longer use it.
run_ok "logout" "$OAUTHMAIL" -C "$CONFIG" logout "$ACCOUNT"
is "$(copies)" 0 "logout removes the copy"
run_fails "status after logout" "$OAUTHMAIL" -C "$CONFIG" status "$ACCOUNT"
like "$(cat "$T/out")" "kernel copy +none" "status: no kernel copy"
n=$(msg_count)
nobus bob@example.test
is "$(msg_count)" "$n" "after logout: nothing sent without the keyring"

# 7. token_cache off: no copy is made.
"$OAUTHMAIL" -C "$CONFIG" -q >/dev/null 2>&1	# the held mail, if any
write_config "$ACCOUNT" "timeout 10" "token_cache off"
seed_token "$ACCOUNT" || bail "seed"
send_msg bob@example.test
is "$RC" 0 "token_cache off: exit 0"
is "$(copies)" 0 "token_cache off: no copy"

# 8. A sign-in makes the copy: the first send needs no Secret Service.
keyring_del "$ACCOUNT" token
write_config "cc$$" "timeout 10" "client_id conf-client" \
    "flow client_credentials" "scope https://outlook.office365.com/.default"
at_exit "keyring_del cc$$ token; keyring_del cc$$ client_secret"
keyring_put "cc$$" client_secret conf-secret || bail "keyring_put"
run_ok "client credentials: login" "$OAUTHMAIL" -C "$CONFIG" login "cc$$"
is "$(copies)" 1 "login made the copy"
keyctl pipe "$(copy_id)" >"$T/copy" 2>/dev/null
file_contains "$T/copy" "access_token" "the copy holds the access token"
file_lacks "$T/copy" "conf-secret" "the copy holds no client secret"
n=$(msg_count)
nobus bob@example.test
is "$RC" 0 "first send after the sign-in, no Secret Service: exit 0"
is "$(msg_count)" "$((n + 1))" "first send after the sign-in: delivered"
done_testing
