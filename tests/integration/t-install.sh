#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# t-install.sh -- `make install DESTDIR=...` from the configured build tree
# installs the binary (0755, runs), the man pages, the example config and
# the systemd units (ExecStart naming the installed binary, the system unit
# the configured spool and configuration file); `make
# uninstall` removes everything again. The sendmail/mailq/newaliases links
# are opt-in: a default configure installs none, --enable-sendmail-links
# installs all three (pointing at $(bindir)/oauthmail, DESTDIR-safe) and
# uninstall removes them. A --without-libsecret build says so in --version,
# refuses keyring secret-service and delivers through the kernel keyring.
. "$top_srcdir/tests/integration/lib.sh"
need_oauthmail
[ -f "$top_builddir/Makefile" ] && [ -f "$top_builddir/config.status" ] ||
    skip_all "$top_builddir is not a configured build tree"
command -v make >/dev/null 2>&1 || skip_all "make is not installed"

# mk DIR ARGS...: make in DIR without its output (kept in $T/make.log).
mk() {
	_d=$1; shift
	make -C "$_d" "$@" >"$T/make.log" 2>&1
}
# dirs DIR: the installation directories that DIR's Makefile uses.
dirs() {
	make -s -C "$1" --no-print-directory --eval 'om-dirs: ; @echo \
bindir=$(bindir) sbindir=$(sbindir) mandir=$(mandir) docdir=$(docdir) \
sysunit=$(systemdsystemunitdir) userunit=$(systemduserunitdir) \
localstatedir=$(localstatedir) sysconfdir=$(sysconfdir)' om-dirs
}
mode_of() { stat -c %a "$1" 2>/dev/null; }

eval "$(dirs "$top_builddir")"
[ -n "$bindir" ] && [ -n "$mandir" ] && pass "the build tree's install directories: $bindir $mandir" ||
    bail "could not read the install directories of $top_builddir/Makefile"
D=$T/inst

# --- the configured build tree -------------------------------------------------
mk "$top_builddir" install DESTDIR="$D"
ok $? "make install DESTDIR=... succeeds" || diag "$(tail -n 20 "$T/make.log")"
bin=$D$bindir/oauthmail
is "$(mode_of "$bin")" 755 "the binary is installed mode 0755"
run_ok "the installed binary runs" "$bin" --version
like "$(cat "$T/out")" "^oauthmail [0-9]" "and prints its version"
is "$(mode_of "$D$mandir/man8/oauthmail.8")" 644 "oauthmail.8 is installed (0644)"
is "$(mode_of "$D$mandir/man5/oauthmail.conf.5")" 644 "oauthmail.conf.5 is installed (0644)"
cmp -s "$D$mandir/man8/oauthmail.8" "$top_srcdir/doc/oauthmail.8" &&
    pass "oauthmail.8 is the source's" || fail "oauthmail.8 differs from the source's"
is "$(mode_of "$D$docdir/oauthmail.conf.example")" 644 "the example config is installed in docdir"
is "$(mode_of "$D$docdir/README.md")" 644 "README.md is installed in docdir"
is "$(mode_of "$D$docdir/oauthmail.logrotate")" 644 "the logrotate rules are installed in docdir"
is "$(mode_of "$D$docdir/LICENSE")" 644 "LICENSE is installed in docdir"
if [ -n "$sysunit" ]; then
	u=$D$sysunit/oauthmail.service
	is "$(mode_of "$u")" 644 "oauthmail.service is installed in $sysunit"
	file_contains "$u" "^ExecStart=$bindir/oauthmail -bd\$" "its ExecStart names the installed binary"
	file_contains "$u" "^ReadWritePaths=-$localstatedir/spool/oauthmail\$" \
	    "it may write the configured spool (ProtectSystem=strict)"
	file_contains "$u" "^ConditionPathExists=$sysconfdir/oauthmail.conf\$" \
	    "it starts only with the configured system configuration"
	file_contains "$u" "^Type=notify\$" "it is Type=notify"
	file_contains "$u" "^ExecCondition=.* $sysconfdir/oauthmail.conf\$" \
	    "it is skipped while that configuration has no account"
else
	skip "configured without system units" 6
fi
if [ -n "$userunit" ]; then
	is "$(mode_of "$D$userunit/oauthmail-user.service")" 644 "oauthmail-user.service is installed in $userunit"
	is "$(mode_of "$D$userunit/oauthmail-user.timer")" 644 "oauthmail-user.timer is installed"
	file_contains "$D$userunit/oauthmail-user.service" "^ExecStart=$bindir/oauthmail -q\$" \
	    "the user unit's ExecStart names the installed binary"
else
	skip "configured without user units" 3
fi
if grep -q '^S\["SENDMAIL_LINKS_TRUE"\]=""' "$top_builddir/config.status"; then
	is "$(readlink "$D$sbindir/sendmail")" "$bindir/oauthmail" \
	    "(configured with --enable-sendmail-links) sendmail -> $bindir/oauthmail"
else
	[ ! -e "$D$sbindir/sendmail" ] && [ ! -L "$D$sbindir/sendmail" ] &&
	    pass "no sendmail link (configured without --enable-sendmail-links)" ||
	    fail "a sendmail link was installed without --enable-sendmail-links"
fi
mk "$top_builddir" uninstall DESTDIR="$D"
ok $? "make uninstall DESTDIR=... succeeds"
left=$(find "$D" ! -type d | head -n 5)
is "$left" "" "uninstall leaves no file behind"

# --- a default configure, and --enable-sendmail-links ----------------------------
# Configured afresh in $T; the binary is the one built, not rebuilt (-o).
for variant in default links; do
	B=$T/build-$variant D=$T/inst-$variant
	mkdir -p "$B/src"
	cp "$OAUTHMAIL" "$B/src/oauthmail"
	if [ "$variant" = links ]; then set -- --enable-sendmail-links; else set --; fi
	if ! (cd "$B" && "$top_srcdir/configure" -q "$@") >"$T/configure.log" 2>&1; then
		fail "configure $* succeeds" "$(tail -n 10 "$T/configure.log")"
		continue
	fi
	eval "$(dirs "$B")"
	mk "$B" -o src/oauthmail install-exec DESTDIR="$D"
	ok $? "($variant) make install-exec DESTDIR=... succeeds" ||
	    diag "$(tail -n 20 "$T/make.log")"
	is "$(mode_of "$D$bindir/oauthmail")" 755 "($variant) the binary is installed mode 0755"
	if [ "$variant" = default ]; then
		n=$(find "$D" -name sendmail -o -name mailq -o -name newaliases | wc -l)
		is "$(echo $n)" 0 "a default configure installs no sendmail, mailq or newaliases link"
	else
		for l in "$sbindir/sendmail" "$bindir/mailq" "$bindir/newaliases"; do
			is "$(readlink "$D$l")" "$bindir/oauthmail" \
			    "--enable-sendmail-links: $l -> $bindir/oauthmail"
		done
		mk "$B" -o src/oauthmail uninstall DESTDIR="$D"
		ok $? "(links) make uninstall succeeds"
		left=$(find "$D" ! -type d | head -n 5)
		is "$left" "" "uninstall removes the binary and the three links"
	fi
done

# --- configure --without-libsecret -----------------------------------------------
# Built afresh in $T without the Secret Service backend: --version says so,
# keyring secret-service is refused with one line naming keyring kernel,
# and keyring kernel and auto deliver through the kernel keyring.
B=$T/build-nosecret
mkdir -p "$B"
if ! (cd "$B" && "$top_srcdir/configure" -q --without-libsecret) >"$T/configure.log" 2>&1; then
	fail "configure --without-libsecret succeeds" "$(tail -n 10 "$T/configure.log")"
elif ! mk "$B" src/oauthmail; then
	fail "make --without-libsecret succeeds" "$(tail -n 20 "$T/make.log")"
else
	pass "configure --without-libsecret and make succeed"
	NB=$B/src/oauthmail
	run_ok "(no libsecret) --version runs" "$NB" --version
	like "$(cat "$T/out")" "libsecret: not built in" "(no libsecret) --version says libsecret is not built in"
	if start_oauth && start_smtpd && start_kernel_keyring; then
		write_config
		seed_token "$ACCOUNT" || bail "seed"
		run_ok "(no libsecret) a send with keyring kernel succeeds" \
		    sh -c 'printf "Subject: k\n\nhi\n" | "$1" bob@example.test' - "$NB"
		is "$(msg_count)" 1 "(no libsecret) the message arrived"
		write_config "$ACCOUNT" "keyring auto"
		run_ok "(no libsecret) keyring auto uses the kernel keyring" \
		    sh -c 'printf "Subject: a\n\nhi\n" | "$1" bob@example.test' - "$NB"
		is "$(msg_count)" 2 "(no libsecret) the second message arrived"
		write_config "$ACCOUNT" "keyring secret-service"
		run_rc 78 "(no libsecret) keyring secret-service: EX_CONFIG" \
		    "$NB" token "$ACCOUNT"
		like "$(cat "$T/err")" "built without libsecret \(--without-libsecret\): use keyring kernel" \
		    "(no libsecret) keyring secret-service says to use keyring kernel"
	else
		skip "no OAuth server, SMTP server or kernel keyring" 5
	fi
fi

done_testing
