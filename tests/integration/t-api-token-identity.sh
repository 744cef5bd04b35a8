# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# The HTTPS API's access token is keyed by the account's identity
# (client_id, token_endpoint, tenant, user), as its own token record is:
# after a change of user or client_id the API token of the old identity is
# never sent; each identity keeps its own; a record of an earlier version
# (the name "ACCOUNT#api") moves to the identity's key when the identity
# is the one that signed in, and is removed unused when it is not.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail

start_oauth --client demo-client --client other-client \
    --client conf-client:conf-secret || bail "OAuth server did not start"
start_smtpd || bail "SMTP server did not start"
start_kernel_keyring || skip_all "no kernel keyring"
start_api graph || bail "fake Graph did not start"
GRAPH_SCOPE=https://graph.microsoft.com/Mail.Send
SCOPES="https://outlook.office.com/SMTP.Send%20offline_access%20$GRAPH_SCOPE"
ACCOUNT=$(unique_account)
graph_config() {	# USER CLIENT_ID
	write_config "$ACCOUNT" "transport graph" \
	    "graph_endpoint $API_URL/v1.0" "api_scope $GRAPH_SCOPE" \
	    "user $1" "from $1" "client_id $2"
}
ident() {	# USER CLIENT_ID: the identity text of the keys
	echo "client_id=$2 token_endpoint=$OAUTH_URL/token user=$1"
}
kdesc_id() { keyctl search "$KR_PERSIST" user "$1" 2>/dev/null; }
kdel() {
	_k=$(kdesc_id "$1") || return 0
	keyctl unlink "$_k" "$KR_PERSIST" >/dev/null 2>&1
	keyctl invalidate "$_k" >/dev/null 2>&1 || :
}
kget() { _k=$(kdesc_id "$1") && keyctl pipe "$_k"; }
kput() { printf '%s' "$2" | keyctl padd user "$1" "$KR_PERSIST" >/dev/null; }
KEYS=""
track() { KEYS="$KEYS|$1"; }
cleanup() {
	_ifs=$IFS; IFS='|'
	for _d in $KEYS; do [ -n "$_d" ] && kdel "$_d"; done
	IFS=$_ifs
}
at_exit cleanup
# A token record (JSON) seeded at the OAuth server: USER CLIENT_ID SCOPE.
seeded() {
	oauth_ctl POST "/_control/seed?user=$1&client_id=$2&scope=$3" |
	    $PY -c '
import json, sys, time
s = json.load(sys.stdin)
print(json.dumps({"access_token": s["access_token"], "expires_at": s["expires_at"],
                  "refresh_token": s["refresh_token"], "refresh_issued": int(time.time()),
                  "last_success": 0, "needs_login": False, "scope": s["scope"]}))'
}
# The account's own token record under the identity's key: USER CLIENT_ID.
seed_ident() {
	_d="oauthmail:token $(ident "$1" "$2")"
	kdel "$_d"
	track "$_d"
	kput "$_d" "$(seeded "$1" "$2" "$SCOPES")"
}
API_ALICE="oauthmail:api_token $(ident alice@example.test demo-client)"
LEGACY="oauthmail:$ACCOUNT#api:token"
track "$API_ALICE"
track "$LEGACY"
track "oauthmail:api_token $(ident bob@example.test demo-client)"
track "oauthmail:api_token $(ident alice@example.test other-client)"
track "oauthmail:$ACCOUNT:identity"
grants() { oauth_stat counts.grant:refresh_token; }

# 1. alice: the Graph token is fetched and kept under alice's identity,
#    not under the account's name.
graph_config alice@example.test demo-client
seed_ident alice@example.test demo-client || bail "seed"
run_ok "alice: send over Graph" send_msg bob@example.test
is "$(api_msg_field token_user)" "alice@example.test" "alice: sent with alice's Graph token"
kget "$API_ALICE" >/dev/null; ok $? "alice: the Graph token is kept under alice's identity"
kget "$LEGACY" >/dev/null; isnt $? 0 "alice: nothing kept under the account's name"

# 2. A record of an earlier version under the name, of the identity that
#    signed in: moved to the identity's key and used, no new token.
LEG_TOKEN=$(seeded alice@example.test demo-client "$GRAPH_SCOPE" | json_get access_token)
kdel "$API_ALICE"
kput "$LEGACY" "{\"access_token\": \"$LEG_TOKEN\", \"expires_at\": $(($(date +%s) + 3000)), \"scope\": \"$GRAPH_SCOPE\"}"
g0=$(grants)
run_ok "earlier record: send" send_msg bob@example.test
is "$(grants)" "$g0" "earlier record: used, no new token fetched"
is "$(kget "$API_ALICE" | json_get access_token)" "$LEG_TOKEN" "earlier record: moved to the identity's key"
kget "$LEGACY" >/dev/null; isnt $? 0 "earlier record: none left under the name"

# 3. The user changes to bob (signed in as bob): alice's Graph token is
#    not sent for bob; bob gets his own.
graph_config bob@example.test demo-client
seed_ident bob@example.test demo-client || bail "seed"
g0=$(grants)
run_ok "bob: send over Graph" send_msg bob@example.test
is "$(api_msg_field token_user)" "bob@example.test" "bob: sent with bob's token, not alice's"
is "$(api_msg_field path_user)" "bob@example.test" "bob: to /users/bob"
is "$(grants)" $((g0 + 1)) "bob: a Graph token fetched for bob"

# 4. The client_id changes: the Graph token of demo-client is not used.
graph_config alice@example.test other-client
seed_ident alice@example.test other-client || bail "seed"
run_ok "other-client: send over Graph" send_msg bob@example.test
is "$(api_msg_field token_client_id)" "other-client" "other-client: sent with a token of the new client_id"
is "$(api_msg_field token_user)" "alice@example.test" "other-client: for alice"

# 5. Back to alice with demo-client: her own Graph token is still there.
graph_config alice@example.test demo-client
g0=$(grants)
run_ok "alice again: send" send_msg bob@example.test
is "$(api_msg_field token_client_id)" "demo-client" "alice again: demo-client's token"
is "$(api_msg_field token_user)" "alice@example.test" "alice again: alice's token"
is "$(grants)" "$g0" "alice again: reused, no new token"

# 6. A record under the name from another identity (bob's Graph token,
#    while the name last signed in as bob) when the account is alice:
#    removed, never sent.
kdel "$API_ALICE"
kdel "oauthmail:api_token $(ident bob@example.test demo-client)"
graph_config bob@example.test demo-client
seed_ident bob@example.test demo-client || bail "seed"
run_ok "bob signs in again" send_msg bob@example.test
BOB_TOKEN=$(seeded bob@example.test demo-client "$GRAPH_SCOPE" | json_get access_token)
kput "$LEGACY" "{\"access_token\": \"$BOB_TOKEN\", \"expires_at\": $(($(date +%s) + 3000)), \"scope\": \"$GRAPH_SCOPE\"}"
graph_config alice@example.test demo-client
n=$(api_msg_count)
run_ok "another identity's earlier record: send" send_msg bob@example.test
is "$(api_msg_count)" $((n + 1)) "another identity's earlier record: sent"
is "$(api_msg_field token_user)" "alice@example.test" "another identity's earlier record: not bob's token"
kget "$LEGACY" >/dev/null; isnt $? 0 "another identity's earlier record: removed"
isnt "$(kget "$API_ALICE" | json_get access_token)" "$BOB_TOKEN" "another identity's earlier record: not moved"
is "$(msg_count)" 0 "nothing went over SMTP"

# 7. The Secret Service keeps it the same way: kind api_token with the
#    identity's attributes; a change of user does not reuse it.
if ! start_keyring; then
	skip 4 "no Secret Service (dbus-daemon, gnome-keyring-daemon)"
	done_testing
	exit 0
fi
ss_seed() {	# USER: the account's token record under USER's identity
	seeded "$1" demo-client "$SCOPES" | timeout 10 secret-tool store \
	    --label="oauthmail test" xdg:schema org.oauthmail.Token \
	    service oauthmail kind token client_id demo-client \
	    token_endpoint "$OAUTH_URL/token" tenant "" user "$1"
}
ss_api() {	# USER: that identity's API token record
	timeout 10 secret-tool lookup service oauthmail kind api_token \
	    client_id demo-client token_endpoint "$OAUTH_URL/token" tenant "" \
	    user "$1"
}
graph_config alice@example.test demo-client
ss_seed alice@example.test || bail "seed"
run_ok "Secret Service, alice: send" send_msg bob@example.test
like "$(ss_api alice@example.test | json_get scope)" "Mail.Send" \
    "Secret Service: the Graph token under kind api_token and alice's identity"
graph_config bob@example.test demo-client
ss_seed bob@example.test || bail "seed"
run_ok "Secret Service, bob: send" send_msg bob@example.test
is "$(api_msg_field token_user)" "bob@example.test" "Secret Service: bob's mail with bob's token"
done_testing
