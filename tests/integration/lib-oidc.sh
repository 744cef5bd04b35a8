# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# lib-oidc.sh -- oidc-provider (tests/integration/oidc/server.mjs, the npm
# package, a real OAuth 2.0 / OpenID Connect server) for the t-*oidc*.sh
# tests. Source after lib.sh.
#
# start_oidc [SERVER-ARGS...]  installs oidc-provider if needed (npm ci into
#     the build tree; skip_all when node/npm are missing or the install
#     fails), starts server.mjs over HTTPS with the test certificate and
#     waits for it (bail when it does not start). Sets OIDC_DIR and U (the
#     issuer, https://127.0.0.1:PORT); state in $T/oidc (oidc.log, stderr).
# ctl CURL-ARGS...       curl with the test CA and a time limit
# introspect TOKEN       "true"/"false": active at the provider (RFC 7662,
#     as conf-client)
# grants                 grant_success count at the provider
# browse CURL-ARGS...    a browser step: cookies kept in $JAR ($T/cookies),
#     redirects not followed, the page in $T/page.html; prints "CODE URL"
#     (the redirect target, if any)
# follow URL [CURL-ARGS...]   browse, following redirects within the
#     provider; prints the last "CODE URL"
# form_action            the action of the form on $T/page.html

start_oidc() {
	OIDC_DIR=$IT/oidc
	command -v node >/dev/null 2>&1 || skip_all "node is not installed"
	if [ ! -d "$OIDC_DIR/node_modules/oidc-provider" ]; then
		# Install into the build tree: the source tree may be read-only
		# (make distcheck) and a tarball has no node_modules.
		command -v npm >/dev/null 2>&1 || skip_all "npm is not installed"
		B_OIDC=$top_builddir/tests/integration/oidc
		mkdir -p "$B_OIDC" &&
		    cp "$OIDC_DIR/package.json" "$OIDC_DIR/package-lock.json" \
		    "$OIDC_DIR/server.mjs" "$B_OIDC/" || bail "cannot copy $OIDC_DIR"
		OIDC_DIR=$B_OIDC
		if [ ! -d "$OIDC_DIR/node_modules/oidc-provider" ]; then
			timeout 180 npm ci --prefix "$OIDC_DIR" --no-audit --no-fund \
			    --ignore-scripts >"$T/npm.log" 2>&1 ||
			    skip_all "npm ci of oidc-provider failed: $(tail -n 1 "$T/npm.log")"
		fi
	fi
	mkdir -p "$T/oidc"
	rm -f "$T/oidc/port"
	node "$OIDC_DIR/server.mjs" --cert "$CERTS/server.pem" --key "$CERTS/server.key" \
	    --port-file "$T/oidc/port" --log "$T/oidc/oidc.log" \
	    --parent-pid $$ "$@" >"$T/oidc/stderr" 2>&1 &
	_lib_pids="$_lib_pids $!"
	wait_file "$T/oidc/port" 20 || bail "oidc-provider did not start: $(tail -n 5 "$T/oidc/stderr")"
	U=https://127.0.0.1:$(cat "$T/oidc/port")
}

ctl() { curl -sS --max-time 20 --cacert "$CERTS/ca.pem" "$@"; }

introspect() {
	ctl -u conf-client:conf-secret --data-urlencode "token=$1" "$U/token/introspection" |
	    json_get active
}

grants() { ctl "$U/_control/stats" | json_get counts.grant_success || echo 0; }

JAR=$T/cookies
browse() {
	ctl -b "$JAR" -c "$JAR" -o "$T/page.html" \
	    -w '%{http_code} %{redirect_url}\n' "$@"
}

follow() {
	_r=$(browse "$@") || return 1
	while :; do
		case $_r in
		30[1237]" $U/"*) _r=$(browse "${_r#* }") || return 1 ;;
		*) printf '%s\n' "$_r"; return 0 ;;
		esac
	done
}

form_action() { sed -n 's/.*<form method="post" action="\([^"]*\)".*/\1/p' "$T/page.html"; }
