# Sourced by the crash-injection cases (tests/ts/*/crash*).  A writer run
# with SNAPRESCUE_FAULT=list prints every fault point it reaches (NAME@K,
# src/common/tool.h); each case kills the writer at every one of them, by
# the hook's _exit(99) and by SIGKILL, and prints one "row:" line per kill
# that tests/crash-table turns into tests/CRASH.md's table.
. "$TOP/tests/functions.sh"

# crash_points CMD...: the fault points a whole run of CMD reaches, in order
# (CMD does write: run it on a copy).
crash_points() {
	SNAPRESCUE_FAULT=list "$@" 2>&1 >/dev/null | sed -n 's/^fault point //p'
}

# crash_run POINT HOW CMD...: run CMD, killed at POINT by HOW (exit: the
# hook's _exit(99); KILL: SIGKILL); prints "exit 99" or "SIGKILL", or
# "NOT KILLED (exit N)" when the point was not reached.
crash_run() {
	local p=$1 how=$2 rc
	shift 2
	if [ "$how" = KILL ]; then
		SNAPRESCUE_FAULT=$p SNAPRESCUE_FAULT_SIGNAL=KILL "$@" >/dev/null 2>&1
	else
		SNAPRESCUE_FAULT=$p "$@" >/dev/null 2>&1
	fi
	rc=$?
	case $rc in
	99) echo "exit 99" ;;
	137) echo "SIGKILL" ;;
	*) echo "NOT KILLED (exit $rc)" ;;
	esac
}

# crash_row WRITER CASE POINT KILLED STATE NEXT UNDO: one row of the table.
# STATE: old, new, "invalid" (the header's valid flag 0 over a table
# being rewritten: the kernel loads the store Invalid and reads none of it),
# or "part way (journaled)" (snap_apply between batches: fine only when
# NEXT says --resume gave the new); anything else is a mix.  NEXT: what the next run said and did.  UNDO:
# "restores the old" or "none written (nothing changed)".
crash_row() {
	local outcome="old or new, undo restores"
	case $5 in
	old | "old "* | "old:"* | new | "new "* | invalid*) ;;
	"part way (journaled)")
		case $6 in *"--resume: exit 0, new"*) outcome="part way: --resume gives new, undo restores" ;;
		*) outcome="BROKEN: $6" ;; esac ;;
	*) outcome="BROKEN: $5" ;;
	esac
	case $7 in "restores the old"* | "none written"*) ;; *) outcome="BROKEN: undo $7" ;; esac
	case $4 in "NOT KILLED"*) outcome="BROKEN: $4" ;; esac
	echo "row: $1 | $2 | $3 | $4 | $5 | $6 | $7 | $outcome"
}

# store_state FILE OLD_MD5 NEW_MD5: old, new, invalid (SnAp magic, valid
# flag 0), or a description of the mix.
store_state() {
	local sum magic valid
	sum=$(checksum "$1")
	[ "$sum" = "$2" ] && { echo old; return; }
	[ "$sum" = "$3" ] && { echo new; return; }
	magic=$(od -An -tx4 -N4 "$1" | tr -d ' ')
	valid=$(od -An -tu4 -j4 -N4 "$1" | tr -d ' ')
	[ "$magic" = 70416e53 ] && [ "$valid" = 0 ] && { echo "invalid (table being rewritten)"; return; }
	echo "MIX (magic $magic, valid flag $valid)"
}
