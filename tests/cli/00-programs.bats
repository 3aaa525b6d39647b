#!/usr/bin/env bats
# 00-programs.bats -- every program: --help, --version, bad usage, man page, completions
#
# Written once for all six programs, so a program's usage, its getopt
# table, its man page and its completions cannot drift apart unnoticed.

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup() {
	VERSION=$(sed -n 's/^VERSION *:= *//p' "$KP_TOP/Makefile")
	[ -n "$VERSION" ] || fail "no VERSION in $KP_TOP/Makefile"
}

# render PAGE: the page as plain text, no overstrike, no line wrapping
render() {
	mandoc -Tascii -O width=1000 "$1" | sed "s/.$(printf '\b')//g"
}

# words: one token per line; brackets, braces and bars are only layout
words() {
	sed 's/[][|{}]/ /g' | tr -s ' \t\n' '\n\n\n' | sed '/^$/d'
}

page() { echo "$KP_TOP/man/man1/$1.1"; }

usage_words() {		# usage_words PROG: --help without "usage:"
	"$1" --help | sed '1s/^[[:space:]]*usage:[[:space:]]*//' | words
}

synopsis_words() {	# synopsis_words PROG: the page's SYNOPSIS section
	render "$(page "$1")" |
	    awk '/^SYNOPSIS/ { f = 1; next } /^[^[:space:]]/ { f = 0 } f' | words
}

# srcopts PROG: "long" lines for every long option and "-x" lines for
# every short option the code accepts (struct option tables and the
# getopt_long option string).
srcopts() {
	local src=("$KP_TOP"/cmd/"$1"/*.c)
	awk '/struct option[^;(]*(\[|=)/ { f = 1 } f { print } f && /};/ { f = 0 }' "${src[@]}" |
	    grep -oE '\{[[:space:]]*"[A-Za-z0-9][A-Za-z0-9-]*"' | grep -oE '[A-Za-z0-9-]+' |
	    sed 's/^/--/'
	awk '/struct option[^;(]*(\[|=)/ { f = 1 } f { print } f && /};/ { f = 0 }' "${src[@]}" |
	    grep -oE "'[A-Za-z0-9]'[[:space:]]*\}" | grep -oE '[A-Za-z0-9]' | sed 's/^/-/'
	grep -hoE 'getopt_long[[:space:]]*\([^"]*"[^"]*"' "${src[@]}" | sed 's/.*"\(.*\)"/\1/' |
	    tr -d '+:-' | grep -oE '[A-Za-z0-9]' | sed 's/^/-/'
}

check_help() {
	run --separate-stderr "$1" --help
	assert_success
	assert_line --index 0 --regexp "^usage: $1( |\$)"
	[ -z "$stderr" ] || fail "--help wrote to stderr: $stderr"
	run --separate-stderr "$1" -h
	assert_success
	assert_line --index 0 --regexp "^usage: $1( |\$)"
}

check_version() {
	run --separate-stderr "$1" --version
	assert_success
	assert_output "$1 $VERSION"
	run --separate-stderr "$1" -V
	assert_success
	assert_output "$1 $VERSION"
}

check_bad_option() {
	run --separate-stderr "$1" --no-such-option-xyzzy
	assert_equal "$status" 64
	assert_output ''
	[[ "$stderr" == "$1: "* ]] || fail "error not in 'prog: what' form: $stderr"
	grep -q "^usage: $1" <<<"$stderr" || fail "no usage on stderr: $stderr"
}

check_synopsis_options() {
	[ -f "$(page "$1")" ] || fail "no man page $(page "$1")"
	local u s
	u=$(usage_words "$1" | grep -e '^-' | sort -u)
	s=$(synopsis_words "$1" | grep -e '^-' | sort -u)
	[ -n "$u" ] || fail "no options in $1 --help"
	assert_equal "$u" "$s"
}

check_synopsis_words() {
	[ -f "$(page "$1")" ] || fail "no man page $(page "$1")"
	local u s
	u=$(usage_words "$1")
	s=$(synopsis_words "$1")
	[ "$u" = "$s" ] || fail "$(printf 'usage and SYNOPSIS differ:\n%s' \
	    "$(diff <(echo "$u") <(echo "$s"))")"
}

check_code_options_in_page() {
	[ -f "$(page "$1")" ] || fail "no man page $(page "$1")"
	local text o missing=
	text=$(render "$(page "$1")")
	for o in $(srcopts "$1" | sort -u); do
		grep -qE -- "(^|[^A-Za-z0-9-])$o([^A-Za-z0-9-]|\$)" <<<"$text" ||
		    missing="$missing $o"
	done
	[ -z "$missing" ] || fail "in cmd/$1 but not in $(page "$1"):$missing"
	srcopts "$1" | grep -qx -- --help || fail "no --help in cmd/$1 option table"
}

check_bash_completion() {
	local f="$KP_TOP/completions/bash/$1"
	[ -f "$f" ] || fail "no $f"
	bash -n "$f" || fail "bash -n $f failed"
	# Complete "--" after the program name: --help and --version must be
	# offered. bash-completion's helpers are loaded when installed.
	run bash -c '
		bc=/usr/share/bash-completion/bash_completion
		[ -f "$bc" ] && . "$bc" >/dev/null 2>&1
		. "$1" || exit 1
		fn=$(complete -p "$2" 2>/dev/null | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
		[ -n "$fn" ] || { echo "no complete -F for $2"; exit 1; }
		COMP_WORDS=("$2" --); COMP_CWORD=1; COMP_LINE="$2 --"; COMP_POINT=${#COMP_LINE}
		"$fn" "$2" -- "$2"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$f" "$1"
	assert_success
	assert_line --regexp '^--help ?$'
	assert_line --regexp '^--version ?$'
}

check_zsh_completion() {
	local f="$KP_TOP/completions/zsh/_$1"
	[ -f "$f" ] || fail "no $f"
	head -1 "$f" | grep -qE "^#compdef( .*)? $1( |\$)" || fail "$f: first line is not '#compdef $1'"
}

check_completion_options() {
	local o missing=
	[ -f "$KP_TOP/completions/bash/$1" ] || fail "no completions/bash/$1"
	[ -f "$KP_TOP/completions/zsh/_$1" ] || fail "no completions/zsh/_$1"
	srcopts "$1" | grep -qx -- --help || fail "no --help in cmd/$1 option table"
	for o in $(srcopts "$1" | grep -e '^--' | sort -u); do
		grep -qE -- "$o([^A-Za-z0-9-]|\$)" "$KP_TOP/completions/bash/$1" ||
		    missing="$missing bash:$o"
		grep -qE -- "$o([^A-Za-z0-9-]|\$)" "$KP_TOP/completions/zsh/_$1" ||
		    missing="$missing zsh:$o"
	done
	[ -z "$missing" ] || fail "long options of $1 missing from completions:$missing"
}

@test "mandoc -Tlint is clean for every page in man/" {
	local p n s out bad=
	for p in "$KP_TOP"/man/man*/*.[1-9]; do
		[ -f "$p" ] || continue
		n=$((n + 1))
		# mandoc looks up .Xr targets in the system's manpath only; a
		# reference to one of our own pages is fine when the page exists.
		out=$(mandoc -Tlint "$p" 2>&1 | while IFS= read -r l; do
			if [[ "$l" =~ referenced\ manual\ not\ found:\ Xr\ ([^ ]+)\ ([0-9])[a-z]* ]]; then
				s=${BASH_REMATCH[2]}
				[ -f "$KP_TOP/man/man$s/${BASH_REMATCH[1]}.$s" ] && continue
			fi
			# says the system's index is stale, not that the page is wrong
			[[ "$l" == *"outdated mandoc.db lacks"* ]] && continue
			printf '%s\n' "$l"
		done)
		[ -z "$out" ] || bad="$bad"$'\n'"$out"
	done
	[ "${n:-0}" -gt 0 ] || fail "no pages under $KP_TOP/man"
	[ -z "$bad" ] || fail "mandoc -Tlint:$bad"
}

@test "kpipe(7) exists" {
	[ -f "$KP_TOP/man/man7/kpipe.7" ]
}

@test "every program is built" {
	local p
	for p in kbroker kproduce kconsume ktopic kgroup kreplicate; do
		[ -x "$KP_BIN/$p" ] || fail "$KP_BIN/$p missing"
	done
}

@test "kbroker: --help prints the usage on stdout and exits 0" { check_help kbroker; }
@test "kbroker: --version prints 'kbroker VERSION'" { check_version kbroker; }
@test "kbroker: a bad option exits 64 with the usage on stderr" { check_bad_option kbroker; }
@test "kbroker: usage options equal the man page SYNOPSIS" { check_synopsis_options kbroker; }
@test "kbroker: usage reads word for word like the SYNOPSIS" { check_synopsis_words kbroker; }
@test "kbroker: every option in the code is in the man page" { check_code_options_in_page kbroker; }
@test "kbroker: bash completion parses and completes --help" { check_bash_completion kbroker; }
@test "kbroker: zsh completion exists" { check_zsh_completion kbroker; }
@test "kbroker: completions know every long option" { check_completion_options kbroker; }

@test "kproduce: --help prints the usage on stdout and exits 0" { check_help kproduce; }
@test "kproduce: --version prints 'kproduce VERSION'" { check_version kproduce; }
@test "kproduce: a bad option exits 64 with the usage on stderr" { check_bad_option kproduce; }
@test "kproduce: usage options equal the man page SYNOPSIS" { check_synopsis_options kproduce; }
@test "kproduce: usage reads word for word like the SYNOPSIS" { check_synopsis_words kproduce; }
@test "kproduce: every option in the code is in the man page" { check_code_options_in_page kproduce; }
@test "kproduce: bash completion parses and completes --help" { check_bash_completion kproduce; }
@test "kproduce: zsh completion exists" { check_zsh_completion kproduce; }
@test "kproduce: completions know every long option" { check_completion_options kproduce; }

@test "kconsume: --help prints the usage on stdout and exits 0" { check_help kconsume; }
@test "kconsume: --version prints 'kconsume VERSION'" { check_version kconsume; }
@test "kconsume: a bad option exits 64 with the usage on stderr" { check_bad_option kconsume; }
@test "kconsume: usage options equal the man page SYNOPSIS" { check_synopsis_options kconsume; }
@test "kconsume: usage reads word for word like the SYNOPSIS" { check_synopsis_words kconsume; }
@test "kconsume: every option in the code is in the man page" { check_code_options_in_page kconsume; }
@test "kconsume: bash completion parses and completes --help" { check_bash_completion kconsume; }
@test "kconsume: zsh completion exists" { check_zsh_completion kconsume; }
@test "kconsume: completions know every long option" { check_completion_options kconsume; }

@test "ktopic: --help prints the usage on stdout and exits 0" { check_help ktopic; }
@test "ktopic: --version prints 'ktopic VERSION'" { check_version ktopic; }
@test "ktopic: a bad option exits 64 with the usage on stderr" { check_bad_option ktopic; }
@test "ktopic: usage options equal the man page SYNOPSIS" { check_synopsis_options ktopic; }
@test "ktopic: usage reads word for word like the SYNOPSIS" { check_synopsis_words ktopic; }
@test "ktopic: every option in the code is in the man page" { check_code_options_in_page ktopic; }
@test "ktopic: bash completion parses and completes --help" { check_bash_completion ktopic; }
@test "ktopic: zsh completion exists" { check_zsh_completion ktopic; }
@test "ktopic: completions know every long option" { check_completion_options ktopic; }

@test "kgroup: --help prints the usage on stdout and exits 0" { check_help kgroup; }
@test "kgroup: --version prints 'kgroup VERSION'" { check_version kgroup; }
@test "kgroup: a bad option exits 64 with the usage on stderr" { check_bad_option kgroup; }
@test "kgroup: usage options equal the man page SYNOPSIS" { check_synopsis_options kgroup; }
@test "kgroup: usage reads word for word like the SYNOPSIS" { check_synopsis_words kgroup; }
@test "kgroup: every option in the code is in the man page" { check_code_options_in_page kgroup; }
@test "kgroup: bash completion parses and completes --help" { check_bash_completion kgroup; }
@test "kgroup: zsh completion exists" { check_zsh_completion kgroup; }
@test "kgroup: completions know every long option" { check_completion_options kgroup; }

@test "kreplicate: --help prints the usage on stdout and exits 0" { check_help kreplicate; }
@test "kreplicate: --version prints 'kreplicate VERSION'" { check_version kreplicate; }
@test "kreplicate: a bad option exits 64 with the usage on stderr" { check_bad_option kreplicate; }
@test "kreplicate: usage options equal the man page SYNOPSIS" { check_synopsis_options kreplicate; }
@test "kreplicate: usage reads word for word like the SYNOPSIS" { check_synopsis_words kreplicate; }
@test "kreplicate: every option in the code is in the man page" { check_code_options_in_page kreplicate; }
@test "kreplicate: bash completion parses and completes --help" { check_bash_completion kreplicate; }
@test "kreplicate: zsh completion exists" { check_zsh_completion kreplicate; }
@test "kreplicate: completions know every long option" { check_completion_options kreplicate; }
