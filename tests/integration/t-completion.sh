# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# Shell completion: the bash script offers the commands of oauthmail's own
# table, the account names of the configuration in use (-C, or the
# per-user file) and each command's options; the zsh script parses.
. "$top_srcdir/tests/integration/lib.sh"

BASHC=$top_srcdir/doc/completion/oauthmail.bash
ZSHC=$top_srcdir/doc/completion/_oauthmail
command -v bash >/dev/null 2>&1 || skip_all "no bash"

# complete WORDS...: what bash offers for the last word (may be "").
complete_words() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1));
	    _oauthmail; printf "%s\n" "${COMPREPLY[@]}" | sort' - "$BASHC" "$@"
}

mkdir -p "$XDG_CONFIG_HOME/oauthmail"
printf 'account work\nhost h.example\nfrom a@b.example\naccount  home  # mine\nhost h\nfrom c@d.example\naccount default : work\n' \
    >"$XDG_CONFIG_HOME/oauthmail/config"
printf 'account other\nhost h\nfrom e@f.example\n' >"$T/other.conf"

# The commands of src/args_cmd.c's table, in the completion and in the zsh list.
sed -n '/^} commands\[\] = {/,/^};/p' "$top_srcdir/src/args_cmd.c" |
    sed -n 's/^[[:space:]]*{ "\([a-z-]*\)",.*/\1/p' | sort >"$T/table"
is "$(complete_words oauthmail '' | tr '\n' ' ')" "$(tr '\n' ' ' <"$T/table")" \
    "bash offers exactly the commands of args_cmd.c's table"
missing=
for c in $(cat "$T/table"); do
	grep -q "'$c:" "$ZSHC" || missing="$missing $c"
done
is "$missing" "" "the zsh list has every command"

is "$(complete_words oauthmail login '' | grep -v '^-' | tr '\n' ' ')" "home work " \
    "account names from the per-user config (comment and 'default' ignored)"
is "$(complete_words oauthmail -C "$T/other.conf" status '' | grep -v '^-' | tr '\n' ' ')" \
    "other " "account names from the -C file"
is "$(complete_words oauthmail login w)" "work" "a partial account name"
like "$(complete_words oauthmail login --)" "--device" "login offers --device"
like "$(complete_words oauthmail login --)" "--paste" "login offers --paste"
like "$(complete_words oauthmail secret work --)" "--key" "secret offers --key"
is "$(complete_words oauthmail secret work --key "$T/oth")" "$T/other.conf" \
    "--key completes a file name"
is "$(complete_words oauthmail -a '' | tr '\n' ' ')" "home work " "-a offers accounts"
like "$(complete_words sendmail -o)" "-odq" "sendmail options"
is "$(complete_words sendmail st)" "" "under the sendmail name no command words"
like "$(complete_words oauthmail status -- | tr '\n' ' ')" "--json --prometheus" \
    "status offers --json and --prometheus"
like "$(complete_words oauthmail check -- | tr '\n' ' ')" "--nagios" "check offers --nagios"
like "$(complete_words oauthmail queue -- | tr '\n' ' ')" "--json" "queue offers --json"

if command -v zsh >/dev/null 2>&1; then
	run_ok "the zsh completion parses" zsh -n "$ZSHC"
else
	skip "zsh is not installed"
fi
done_testing
