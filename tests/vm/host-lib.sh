# tests/vm/host-lib.sh: helpers for the host side of VM scenarios (bash).
# Source from a .host script: ". tests/vm/host-lib.sh".  The runner sets RESULTS,
# BIN, DISKS and WORK; checks print "ok - ..." / "not ok - ..." and the runner
# fails the scenario on any "not ok".
HOST_N=0
HOST_FAILS=0
VMTOOL=${SNAPRESCUE_VM_CACHE:-/var/cache/snaprescue/vm}/sr-vmtool

ok() { HOST_N=$((HOST_N + 1)); echo "ok $HOST_N - $*"; }
not_ok() { HOST_N=$((HOST_N + 1)); HOST_FAILS=$((HOST_FAILS + 1)); echo "not ok $HOST_N - $*"; }
check() {
	local d=$1 rc=0
	shift
	"$@" || rc=$?
	if [ $rc = 0 ]; then ok "$d"; else not_ok "$d (exit $rc: $*)"; fi
}
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1 ($2)"; else not_ok "$1: got '$2', expected '$3'"; fi
}
host_done() {
	echo "# host: $HOST_N checks, $HOST_FAILS failed"
	[ "$HOST_FAILS" = 0 ]
}

# need_bin TOOL: true if $BIN/TOOL is built; a clear failure (not a skip) if not
need_bin() {
	[ -x "$BIN/$1" ] && return 0
	not_ok "$1 is missing from $BIN (build the tools first: make)"
	return 1
}

# kv FILE KEY: value of KEY=... in FILE
kv() { sed -n "s/^$2=//p" "$1" | head -n1; }

# json_get KEY < JSON: a scalar member of a flat JSON object
json_get() { tr -d '\n' | sed -n 's/.*"'"$1"'"[[:space:]]*:[[:space:]]*\("[^"]*"\|[^,}[:space:]]*\).*/\1/p' | tr -d '"'; }

# linear_offset "DMSETUP TABLE LINE": the start sector of a one-segment linear LV
linear_offset() {
	set -- $1
	[ "$3" = linear ] && [ "$1" = 0 ] || return 1
	echo "$5"
}

# lv_image DISKIMG START_SECTOR SIZE_BYTES OUT: turn the image of a PV holding
# one linear LV into an image of the LV alone, in place when the file system can
# collapse a range (ext4, xfs: no data is copied, holes stay holes).
lv_image() {
	local img=$1 start=$(($2 * 512)) size=$3 out=$4
	if [ "$start" = 0 ] || fallocate --collapse-range -o 0 -l "$start" "$img" 2>/dev/null; then
		truncate -s "$size" "$img"
		mv "$img" "$out"
	else
		dd if="$img" of="$out" bs=1M iflag=skip_bytes,count_bytes skip="$start" \
			count="$size" conv=sparse status=none
	fi
}
