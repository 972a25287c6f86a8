# Sourced by the tests/ts/badinput cases: corrupt stores generated with
# mkstore (4 KiB chunks: 256 records per area, area 1 at chunk 258) and
# checked with snap_check (and snap_info); every input must stay unchanged.
. "$TOP/tests/functions.sh"
MK=$HELPERS/mkstore
[ -x "$MK" ] || ts_skip "$MK not built (make check builds it)"
[ -x "$BIN/snap_check" ] && [ -x "$BIN/snap_info" ] || ts_skip "snap_check or snap_info not built"

# rec AREA INDEX: byte offset of a record (4 KiB chunks)
rec() { "$MK" --record-offset "$1" "$2"; }
# set_old / set_new FILE AREA INDEX VALUE: overwrite one record field
set_old() { "$MK" --poke-le64 "$(rec "$2" "$3")" "$4" "$1"; }
set_new() { "$MK" --poke-le64 $(($(rec "$2" "$3") + 8)) "$4" "$1"; }

# check NAME [snap_check options]: snap_check NAME, then prove it unchanged
check() {
	local f=$1 sum
	shift
	sum=$(checksum "$f")
	echo "== snap_check ${*:+$* }$f"
	run "$BIN/snap_check" "$@" "$f"
	[ "$(checksum "$f")" = "$sum" ] || echo "CHANGED: $f"
}

# info NAME KEY...: snap_info -f json NAME, only the given keys (or the error)
info() {
	local f=$1 sum out rc k
	shift
	sum=$(checksum "$f")
	out=$("$BIN/snap_info" -f json "$f" 2>&1); rc=$?
	echo "== snap_info $f: ret $rc"
	if [ $rc -ne 0 ]; then
		echo "$out"
	else
		for k in "$@"; do
			echo "$out" | grep "\"$k\":"
		done
	fi
	[ "$(checksum "$f")" = "$sum" ] || echo "CHANGED: $f"
}
