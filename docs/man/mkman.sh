#!/bin/sh
# The man pages, each from the one text that says it already, so that they cannot drift:
#   mkman.sh tcpdrop.8 TCPDROP IN VERSION DATADIR   OPTIONS from `TCPDROP -h`, DROP REASONS
#                                                   from core/sym/explain.c, the rest from IN
#   mkman.sh tcpdrop-lua.7 MARKDOWN VERSION         the whole page from docs/scripting.md
# The date is the last commit's (or SOURCE_DATE_EPOCH), so that a rebuild gives the same page.
set -eu

page=$1
shift
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$(dirname "$0")" log -1 --format=%ct 2>/dev/null || date +%s)}
date=$(date -u -d "@$epoch" +%Y-%m-%d)

# Text for roff: backslashes doubled as \e, a line that starts with . or ' made literal.
roff_text='
function esc(s) {
	gsub(/\\/, "\\e", s)
	return s
}
function line(s,   cut, i) {
	# Input lines of at most 80 bytes, folded at spaces (mandoc -T lint asks for it).
	while (length(s) > 80) {
		cut = 0
		for (i = 80; i > 1; i--)
			if (substr(s, i, 1) == " ") { cut = i; break }
		if (!cut)
			break
		line1(substr(s, 1, cut - 1))
		s = substr(s, cut + 1)
	}
	line1(s)
}
# In a code block, a long line goes on after an escaped newline: the same output line.
function code(s,   cut, i) {
	while (length(s) > 79) {
		cut = 0
		for (i = 78; i > 1; i--)
			if (substr(s, i, 1) == " ") { cut = i; break }
		if (!cut)
			break
		line1(substr(s, 1, cut) "\\")
		s = substr(s, cut + 1)
	}
	line1(s)
}
function line1(s) {
	if (s ~ /^[.'"'"']/)
		s = "\\&" s
	print s
}
function opt(s) {
	gsub(/-/, "\\-", s)
	return s
}'

# `tcpdrop -h`: each "Heading:" followed by option lines becomes a subsection, each option a
# tagged paragraph; a description's continuation lines are the ones indented to its column.
options() {
	awk "$roff_text"'
	function flush() {
		if (spec == "")
			return
		if (!shown) {
			print ".SS " heading
			shown = 1
		}
		print ".TP"
		n = split(spec, w, " ")
		tag = ""
		for (i = 1; i <= n; i++) {
			if (w[i] ~ /^-/) {
				sub(/,$/, "", w[i])
				tag = tag (tag == "" ? "" : ", ") "\\fB" opt(w[i]) "\\fR"
			} else {
				tag = tag " \\fI" opt(w[i]) "\\fR"
			}
		}
		print tag
		line(esc(desc))
		spec = ""
	}
	/^[A-Z][^:]*:$/ { flush(); heading = substr($0, 1, length($0) - 1); shown = 0; next }
	/^  (-[A-Za-z0-9], |    )-/ && heading != "" {
		flush()
		s = substr($0, 3)
		sub(/^ +/, "", s)
		spec = s
		sub(/  .*/, "", spec)
		desc = substr(s, length(spec) + 1)
		sub(/^ +/, "", desc)
		col = length($0) - length(desc)
		next
	}
	spec != "" && /^ +[^ ]/ && match($0, /^ +/) && RLENGTH == col {
		desc = desc " " substr($0, col + 1)
		next
	}
	{ flush(); if ($0 == "") heading = "" }
	END { flush() }'
}

# core/sym/explain.c's table, one tagged paragraph per reason: its C string literals read in
# order, each entry { NAME, MIB or NULL, WHAT, CHECK }, adjacent literals joined.
reasons() {
	awk "$roff_text"'
	/helps\[\] = \{/ { on = 1; next }
	on && /^};/ { on = 0 }
	on { text = text $0 "\n" }
	END {
		n = length(text)
		for (i = 1; i <= n; i++) {
			ch = substr(text, i, 1)
			if (ch == "/" && substr(text, i + 1, 1) == "*") {
				i = index(substr(text, i + 2), "*/") + i + 2
			} else if (ch == "\"") {
				j = i + 1
				while (j <= n && substr(text, j, 1) != "\"")
					j += substr(text, j, 1) == "\\" ? 2 : 1
				f[nf] = f[nf] substr(text, i + 1, j - i - 1)
				i = j
			} else if (ch == "{") {
				nf = 1
				delete f
			} else if (ch == ",") {
				nf++
			} else if (ch == "}") {
				entry(f[1], f[2], f[3], f[4])
				nf = 0
			}
		}
	}
	function entry(name, mib, what, check) {
		print ".TP"
		print "\\fB" esc(name) "\\fR"
		line(esc(what) ".")
		line("MIB: " (mib == "" ? "none known" : esc(mib)) ". Check: " esc(check) ".")
	}' "$1"
}

case $page in
tcpdrop.8)
	tcpdrop=$1 in=$2 version=$3 datadir=$4
	opts=$(mktemp)
	reasons_roff=$(mktemp)
	trap 'rm -f "$opts" "$reasons_roff"' EXIT
	"$tcpdrop" -h | options > "$opts"
	reasons "$(dirname "$0")/../../core/sym/explain.c" > "$reasons_roff"
	awk -v opts="$opts" -v reasons="$reasons_roff" -v version="$version" -v date="$date" \
		-v datadir="$datadir" "$roff_text"'
	$0 == "@OPTIONS@" { while ((getline l < opts) > 0) print l; next }
	$0 == "@REASONS@" { while ((getline l < reasons) > 0) print l; next }
	{ gsub(/@VERSION@/, version); gsub(/@DATE@/, date); gsub(/@DATADIR@/, datadir) }
	/^\./ { print; next }
	{ line($0) }
	' "$in"
	;;
tcpdrop-lua.7)
	md=$1 version=$2
	# The subset of Markdown that docs/scripting.md uses: headings, paragraphs, lists, code
	# blocks (fenced or indented) and tables (each row a tagged paragraph: the first cell is
	# the tag). Inline: `code` in bold; \| in a table cell is a bar.
	awk -v version="$version" -v date="$date" "$roff_text"'
	function inl(s,   out) {
		s = esc(s)
		gsub(/\342\206\222/, "\\(->", s)
		gsub(/\302\265/, "\\(*m", s)
		out = ""
		while (match(s, /`[^`]+`/)) {
			out = out substr(s, 1, RSTART - 1) "\\fB" substr(s, RSTART + 1, RLENGTH - 2) "\\fR"
			s = substr(s, RSTART + RLENGTH)
		}
		return out s
	}
	function para() {
		if (!inpara) {
			if (!fresh)
				print (inlist ? ".IP" : ".PP")
			inpara = 1
		}
		fresh = 0
	}
	function code_start() {
		if (!fresh)
			print ".PP"
		print ".RS 4"
		print ".nf"
		incode = 1
		fresh = 0
	}
	function code_end() { print ".fi"; print ".RE"; incode = 0; inpara = 0 }
	BEGIN {
		print ".\\\" tcpdrop-lua(7), generated by docs/man/mkman.sh from docs/scripting.md:"
		print ".\\\" edit that file, not this one."
		print ".TH TCPDROP-LUA 7 " date " \"tcpdrop " version "\" \"Miscellaneous Information Manual\""
		print ".SH NAME"
		print "tcpdrop-lua \\- scripting tcpdrop: hooks, the event, aggregations, helpers"
		print ".SH DESCRIPTION"
		fresh = 1
	}
	fence {
		if ($0 ~ /^```/) { fence = 0; code_end(); next }
		code(esc($0))
		next
	}
	/^```/ { fence = 1; inpara = 0; inlist = 0; code_start(); next }
	incode && /^(    |\t)/ { s = $0; sub(/^(    |\t)/, "", s); code(esc(s)); next }
	incode && /^$/ { blank++; next }
	incode { code_end() }
	/^# / { next }
	/^## / { print ".SH " toupper(substr($0, 4)); inpara = 0; inlist = 0; fresh = 1; next }
	/^### / { print ".SS " substr($0, 5); inpara = 0; inlist = 0; fresh = 1; next }
	/^\|/ {
		if ($0 ~ /^\| *---/) next
		s = $0
		gsub(/\\\|/, "\001", s)
		n = split(s, c, "|")
		if (!intable) { intable = 1; next } # the header row
		tag = c[2]; gsub(/^ +| +$/, "", tag); gsub(/\001/, "|", tag)
		body = ""
		for (i = 3; i < n; i++) {
			v = c[i]; gsub(/^ +| +$/, "", v); gsub(/\001/, "|", v)
			if (v != "")
				body = body (body == "" ? "" : " \\(em ") inl(v)
		}
		print ".TP"
		line(inl(tag))
		line(body)
		inpara = 0
		fresh = 0
		next
	}
	{ intable = 0 }
	/^$/ { inpara = 0; blank = 1; next }
	/^(    |\t)/ && blank && !inlist { code_start(); s = $0; sub(/^(    |\t)/, "", s); code(esc(s)); next }
	/^- / { inlist = 1; fresh = 0; print ".IP \\(bu 2"; inpara = 1; line(inl(substr($0, 3))); blank = 0; next }
	/^  / && inlist { s = $0; sub(/^ +/, "", s); line(inl(s)); next }
	{ if (blank) inlist = 0; blank = 0; para(); line(inl($0)) }
	END {
		if (incode) code_end()
		print ".SH SEE ALSO"
		print ".BR tcpdrop (8)"
	}' "$md"
	;;
*)
	echo "usage: mkman.sh tcpdrop.8 TCPDROP IN VERSION DATADIR | tcpdrop-lua.7 MARKDOWN VERSION" >&2
	exit 2
	;;
esac
