# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# lib-box.sh -- a Debian 12 machine with systemd as PID 1, for the server
# tests (tests/server/run). Sourced (POSIX sh) after tests/integration/lib.sh.
#
# The machine is a systemd-nspawn container booted from a copy of a cached
# root (debootstrap minbase + systemd, cron, php-cli and oauthmail's
# run-time libraries). It shares the host's network namespace (127.0.0.1
# in the box is the host's loopback, so it reaches the test servers), runs
# in its own user namespace (so its kernel keyrings are its own and a
# reboot empties them, as on a real server) with the unified cgroup
# hierarchy, and keeps its disk across reboots.
#
#   box_can_run             0 when this host can boot a box; else sets
#                           BOX_WHY to the reason
#   box_prepare             build the cached root unless it is current
#                           (BOX_CACHE, default /var/cache/oauthmail-test);
#                           sets BOX_PREPARE_SECS
#   box_boot NAME           copy the root, boot it, wait for systemd
#   box_exec CMD...         run CMD in the box as root (stdin/stdout/stderr
#                           pass through; exit status of CMD)
#   box_sh SCRIPT           box_exec sh -c SCRIPT
#   box_as USER SCRIPT      run SCRIPT with sh as USER (runuser -u)
#   box_put HOSTFILE PATH [MODE]   copy a file into the running box
#   box_reboot              systemctl reboot inside, wait until it is up
#   box_destroy             halt it and remove its disk (at_exit does that)
#
# Needs root, systemd-nspawn (systemd-container), nsenter, flock and, for
# a cold cache, debootstrap and the Debian mirror.

BOX_CACHE=${BOX_CACHE:-/var/cache/oauthmail-test}
BOX_SUITE=bookworm
# The mirror this host's apt already uses (deb822 .sources or the classic
# sources.list), so the box needs no network the host lacks.
box_host_mirror() {
	for _f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$_f" ] || continue
		awk '/^URIs:/ { u = $2 } /^Suites:/ { if ($0 ~ /[[:space:]]bookworm([[:space:]]|$)/ && u != "") { print u; exit } }' "$_f"
	done | head -n 1 | grep . && return 0
	sed -n 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*\)[[:space:]]\{1,\}bookworm[[:space:]].*/\2/p' \
	    /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n 1
}
BOX_MIRROR=${BOX_MIRROR:-$(box_host_mirror)}
BOX_PATH=/usr/sbin:/usr/bin:/sbin:/bin
# What the cached root holds on top of minbase. No MTA: the test installs
# oauthmail, and bsd-mailx (which needs one) beside it from /opt/om-debs.
BOX_PKGS="systemd systemd-sysv dbus libpam-systemd libnss-systemd keyutils
ca-certificates procps sudo cron php-cli adduser libcurl4 libsecret-1-0
libjansson4 libkeyutils1 libssl3 libbsd0 liblockfile1"
BOX_CG=oauthmail-test

box_can_run() {
	BOX_WHY=
	if [ "$(id -u)" != 0 ]; then
		BOX_WHY="needs root (boots a container)"
	elif ! command -v systemd-nspawn >/dev/null 2>&1; then
		BOX_WHY="systemd-nspawn is not installed (apt-get install systemd-container)"
	elif ! command -v nsenter >/dev/null 2>&1 || ! command -v flock >/dev/null 2>&1; then
		BOX_WHY="nsenter or flock is missing (util-linux)"
	elif [ -z "$(_box_cg_roots)" ]; then
		BOX_WHY="no cgroup2 hierarchy at /sys/fs/cgroup or /sys/fs/cgroup/unified"
	elif [ "$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo 0)" -lt 100 ]; then
		BOX_WHY="user namespaces are disabled (user.max_user_namespaces)"
	elif [ ! -f "$(_box_root_dir)/.stamp" ] ||
	    [ "$(cat "$(_box_root_dir)/.stamp")" != "$(_box_stamp)" ]; then
		if ! command -v debootstrap >/dev/null 2>&1; then
			BOX_WHY="no cached root and debootstrap is not installed"
		elif [ -z "$BOX_MIRROR" ]; then
			BOX_WHY="no cached root and no bookworm mirror in /etc/apt (set BOX_MIRROR)"
		elif ! _box_mirror_up; then
			BOX_WHY="no cached root and the Debian mirror $BOX_MIRROR cannot be reached"
		fi
	fi
	[ -z "$BOX_WHY" ]
}

_box_arch() { dpkg --print-architecture 2>/dev/null || echo amd64; }
_box_root_dir() { echo "$BOX_CACHE/$BOX_SUITE-$(_box_arch)"; }
# The cache is rebuilt when the package list changes.
_box_stamp() { echo "v1 $BOX_SUITE $(echo $BOX_PKGS)"; }

_box_mirror_up() {
	command -v curl >/dev/null 2>&1 || return 0
	curl -fsS --max-time 15 -o /dev/null \
	    "$BOX_MIRROR/dists/$BOX_SUITE/Release" 2>/dev/null
}

# Where systemd keeps its cgroups: the unified hierarchy (and, on a
# hybrid host, the named systemd hierarchy beside it).
_box_cg_roots() {
	if [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then
		echo /sys/fs/cgroup
		return 0
	fi
	[ "$(stat -fc %T /sys/fs/cgroup/systemd 2>/dev/null)" = cgroupfs ] &&
	    echo /sys/fs/cgroup/systemd
	[ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] &&
	    echo /sys/fs/cgroup/unified
	return 0
}

# _box_cg_join CGROUP: move this shell into CGROUP (under oauthmail-test/).
# nspawn runs with --keep-unit (no systemd on the host to ask for a
# scope) and puts the container below the cgroup it was started in.
_box_cg_join() {
	for _r in $(_box_cg_roots); do
		mkdir -p "$_r/$BOX_CG/$1" || return 1
		sh -c 'echo $PPID' >"$_r/$BOX_CG/$1/cgroup.procs" || return 1
	done
}

_box_cg_prune() {
	for _r in $(_box_cg_roots); do
		[ -d "$_r/$BOX_CG/$1" ] || continue
		find "$_r/$BOX_CG/$1" -depth -type d -exec rmdir {} \; 2>/dev/null
		rmdir "$_r/$BOX_CG" 2>/dev/null
	done
	return 0
}

# _box_nspawn ROOT CMD...: run CMD in ROOT as in a chroot (for building).
_box_nspawn() {
	_nr=$1; shift
	(
		_box_cg_join "prepare-$$" || exit 1
		exec systemd-nspawn --quiet --register=no --keep-unit \
		    --link-journal=no -M "om-prepare-$$" -D "$_nr" --pipe \
		    --setenv=DEBIAN_FRONTEND=noninteractive --setenv=LANG=C.UTF-8 \
		    ${http_proxy:+--setenv=http_proxy=$http_proxy} -- "$@"
	)
	_rc=$?
	_box_cg_prune "prepare-$$"
	return $_rc
}

box_prepare() {
	_bd=$(_box_root_dir)
	mkdir -p "$BOX_CACHE" || return 1
	exec 8>"$BOX_CACHE/.lock"
	flock -x 8 || return 1
	if [ -f "$_bd/.stamp" ] && [ "$(cat "$_bd/.stamp")" = "$(_box_stamp)" ]; then
		BOX_PREPARE_SECS=0
		flock -u 8
		return 0
	fi
	_t0=$(date +%s)
	_st=$BOX_CACHE/.stage.$$
	rm -rf "$_st"
	mkdir -p "$_st"
	_log=$BOX_CACHE/prepare.log
	{
		echo "== debootstrap $(date -u +%FT%TZ)"
		debootstrap --variant=minbase "$BOX_SUITE" "$_st/root" "$BOX_MIRROR" &&
		echo "== apt-get install" &&
		_box_nspawn "$_st/root" /bin/sh -ec "
			apt-get update -q
			apt-get install -y -q --no-install-recommends $(echo $BOX_PKGS)
			mkdir -p /opt/om-debs
			cd /opt/om-debs && apt-get download bsd-mailx
			apt-get clean"
	} >"$_log" 2>&1 || {
		diag "preparing the box root failed; last lines of $_log:" \
		    "$(tail -n 15 "$_log")"
		rm -rf "$_st"
		flock -u 8
		return 1
	}
	# A machine never booted: empty machine-id (each boot writes its
	# own), no resolv.conf of the build host (nspawn provides one).
	: >"$_st/root/etc/machine-id"
	rm -f "$_st/root/etc/resolv.conf"
	: >"$_st/root/etc/resolv.conf"
	_box_stamp >"$_st/root/.stamp"
	rm -rf "$_bd.old"
	[ -d "$_bd" ] && mv "$_bd" "$_bd.old"
	mv "$_st/root" "$_bd"
	rm -rf "$_st" "$_bd.old"
	BOX_PREPARE_SECS=$(( $(date +%s) - _t0 ))
	flock -u 8
	return 0
}

# ----------------------------------------------------------- one box ------
BOX_NAME= BOX_DIR= BOX_SUP=

box_boot() {
	BOX_NAME=$1
	BOX_DIR=$(mktemp -d "${BOX_TMP:-/var/tmp}/om-box.XXXXXX") || return 1
	at_exit box_destroy
	(
		exec 8>"$BOX_CACHE/.lock"
		flock -s 8
		cp -a "$(_box_root_dir)" "$BOX_DIR/root"
	) || { diag "copying the box root failed"; return 1; }
	rm -f "$BOX_DIR/root/.stamp"
	echo "$BOX_NAME" >"$BOX_DIR/root/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n' "$BOX_NAME" >"$BOX_DIR/root/etc/hosts"
	_box_start
}

# The supervisor: runs nspawn again when the box reboots (exit 133).
_box_supervise() {
	trap '[ -n "$_np" ] && kill -TERM "$_np" 2>/dev/null' TERM
	_np=
	_box_cg_join "$BOX_NAME" || exit 1
	while :; do
		echo "== boot $(date -u +%FT%TZ)"
		SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn --boot \
		    -D "$BOX_DIR/root" -M "$BOX_NAME" --register=no --keep-unit \
		    --link-journal=no --console=read-only \
		    --private-users=pick --private-users-ownership=map \
		    --system-call-filter=@keyring </dev/null &
		_np=$!
		echo "$_np" >"$BOX_DIR/nspawn.pid"
		while :; do
			wait "$_np"
			_rc=$?
			kill -0 "$_np" 2>/dev/null || break
		done
		echo "== nspawn exited $_rc $(date -u +%FT%TZ)"
		rm -f "$BOX_DIR/nspawn.pid"
		[ "$_rc" = 133 ] && [ ! -e "$BOX_DIR/stop" ] || break
	done
	exit 0
}

_box_start() {
	rm -f "$BOX_DIR/stop"
	( _box_supervise ) >>"$BOX_DIR/console.log" 2>&1 &
	BOX_SUP=$!
	_box_wait_up "" 120
}

# The container's PID 1 as the host sees it: nspawn's child whose last
# NSpid is 1.
box_leader() {
	_n=$(cat "$BOX_DIR/nspawn.pid" 2>/dev/null) || return 1
	for _c in $(cat /proc/"$_n"/task/*/children 2>/dev/null); do
		_ns=$(sed -n 's/^NSpid:[[:space:]]*//p' "/proc/$_c/status" 2>/dev/null)
		case $_ns in
		*[[:space:]]1) echo "$_c"; return 0 ;;
		esac
	done
	return 1
}

# _box_wait_up OLD_LEADER SECONDS: until a new PID 1 says running/degraded.
_box_wait_up() {
	_end=$(( $(date +%s) + $2 ))
	while [ "$(date +%s)" -lt "$_end" ]; do
		kill -0 "$BOX_SUP" 2>/dev/null || {
			diag "the box exited:" "$(tail -n 20 "$BOX_DIR/console.log")"
			return 1
		}
		_l=$(box_leader) || _l=
		if [ -n "$_l" ] && [ "$_l" != "$1" ]; then
			BOX_LEADER=$_l
			case $(box_exec systemctl is-system-running 2>/dev/null </dev/null) in
			running|degraded) return 0 ;;
			esac
		fi
		sleep 0.3
	done
	diag "the box did not come up in $2 s:" "$(tail -n 20 "$BOX_DIR/console.log")"
	return 1
}

box_exec() {
	(
		for _r in $(_box_cg_roots); do
			[ -d "$_r/$BOX_CG/$BOX_NAME/payload" ] &&
			    sh -c 'echo $PPID' >"$_r/$BOX_CG/$BOX_NAME/payload/cgroup.procs" 2>/dev/null
		done
		exec nsenter -t "$BOX_LEADER" -a -r -w -- /usr/bin/env -i -C /root \
		    PATH="$BOX_PATH" HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 "$@"
	)
}

box_sh() {
	box_exec /bin/sh -c "$1"
}

box_as() {
	box_exec runuser -u "$1" -- /bin/sh -c "$2"
}

box_put() {
	cat "$1" | box_exec sh -c 'cat >"$1" && chmod "$2" "$1"' - "$2" "${3:-644}"
}

box_reboot() {
	_old=$BOX_LEADER
	box_exec systemctl reboot </dev/null >/dev/null 2>&1
	_box_wait_up "$_old" 120
}

box_destroy() {
	[ -n "$BOX_DIR" ] && [ -d "$BOX_DIR" ] || return 0
	: >"$BOX_DIR/stop"
	_np=$(cat "$BOX_DIR/nspawn.pid" 2>/dev/null)
	[ -n "$_np" ] && kill -TERM "$_np" 2>/dev/null
	_i=0
	while kill -0 "$BOX_SUP" 2>/dev/null && [ $_i -lt 300 ]; do
		sleep 0.2; _i=$((_i + 1))
	done
	if kill -0 "$BOX_SUP" 2>/dev/null; then
		_l=$(box_leader) && kill -KILL "$_l" 2>/dev/null
		sleep 1
	fi
	_box_cg_prune "$BOX_NAME"
	if [ "${KEEP:-0}" = 1 ]; then
		diag "kept the box's disk in $BOX_DIR"
	else
		rm -rf --one-file-system "$BOX_DIR"
	fi
	BOX_DIR=
}
