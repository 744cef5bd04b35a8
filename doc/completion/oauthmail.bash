# bash completion for oauthmail(8): commands, account names read from the
# configuration file, and options. Installed by "make install" as
# DATADIR/bash-completion/completions/oauthmail (also sendmail, mailq).

_oauthmail_config() {
	local i
	for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
		case ${COMP_WORDS[i]} in
		-C) echo "${COMP_WORDS[i + 1]}"; return ;;
		-C?*) echo "${COMP_WORDS[i]#-C}"; return ;;
		esac
	done
	if [ -n "${OAUTHMAIL_CONFIG:-}" ]; then
		echo "$OAUTHMAIL_CONFIG"
	elif [ -r "${XDG_CONFIG_HOME:-$HOME/.config}/oauthmail/config" ]; then
		echo "${XDG_CONFIG_HOME:-$HOME/.config}/oauthmail/config"
	else
		echo /etc/oauthmail.conf
	fi
}

# Account names: the words after "account" (not "default").
_oauthmail_accounts() {
	local f
	f=$(_oauthmail_config)
	[ -r "$f" ] || return
	sed -n 's/^[[:space:]]*account[[:space:]]\{1,\}\([A-Za-z0-9._-]\{1,\}\).*/\1/p' \
	    "$f" 2>/dev/null | grep -vx default
}

_oauthmail() {
	local cur prev cmd i
	local commands="login logout status check token secret password queue flush import-msmtprc setup"
	local sendmail_opts="-t -i -oi -f -r -F -a -C -B -N -R -V -O -odi -odb -odq -v -bm -bp -bs -bd -bi -I -q --"
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}

	case $prev in
	-C|--key) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	-a) COMPREPLY=($(compgen -W "$(_oauthmail_accounts)" -- "$cur")); return ;;
	-B) COMPREPLY=($(compgen -W "7BIT 8BITMIME" -- "$cur")); return ;;
	-R) COMPREPLY=($(compgen -W "hdrs full" -- "$cur")); return ;;
	-N) COMPREPLY=($(compgen -W "never success failure delay success,failure failure,delay success,failure,delay" -- "$cur")); return ;;
	-f|-r|-F|-V|-O) return ;;
	-w|-c) [ "${COMP_WORDS[1]}" = check ] && return ;;
	esac

	# The command word, if one was given (options may come before it).
	cmd=
	if [ "${COMP_WORDS[0]##*/}" = oauthmail ]; then
		for ((i = 1; i < COMP_CWORD; i++)); do
			case ${COMP_WORDS[i]} in
			-C|-a) ((i++)) ;;
			-*) ;;
			*) case " $commands " in *" ${COMP_WORDS[i]} "*) cmd=${COMP_WORDS[i]} ;; esac
			   break ;;
			esac
		done
	fi

	case $cmd in
	"")
		if [ "${COMP_WORDS[0]##*/}" = oauthmail ] && [[ $cur != -* ]]; then
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		elif [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$sendmail_opts --help --version" -- "$cur"))
		fi
		;;
	login)
		COMPREPLY=($(compgen -W "--device --browser --paste -C -v $(_oauthmail_accounts)" -- "$cur")) ;;
	status)
		COMPREPLY=($(compgen -W "--json --prometheus -C -v $(_oauthmail_accounts)" -- "$cur")) ;;
	check)
		COMPREPLY=($(compgen -W "--nagios --offline -w -c -C -v $(_oauthmail_accounts)" -- "$cur")) ;;
	secret)
		COMPREPLY=($(compgen -W "--key --systemd-credential --seal-key -C -v $(_oauthmail_accounts)" -- "$cur")) ;;
	logout|token|password)
		COMPREPLY=($(compgen -W "-C -v $(_oauthmail_accounts)" -- "$cur")) ;;
	setup)
		COMPREPLY=($(compgen -W "--dry-run -C" -- "$cur")) ;;
	import-msmtprc)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "-o --force" -- "$cur"))
		else
			COMPREPLY=($(compgen -f -- "$cur"))
		fi ;;
	queue)
		COMPREPLY=($(compgen -W "--json -C -v" -- "$cur")) ;;
	flush)
		COMPREPLY=($(compgen -W "-C -v" -- "$cur")) ;;
	esac
}
complete -F _oauthmail oauthmail sendmail mailq
