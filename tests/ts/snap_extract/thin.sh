# Sourced by the thin cases: the bundled PV image of VG "tvg" (a thin pool
# with a thin volume and a thin snapshot, written by the real kernel and
# LVM, see tests/data/kernel/thin-pool) in $TS_TMP, and its pool's _tmeta
# and _tdata cut out of it where the kernel's linear tables put them.
. "$TOP/tests/functions.sh"
FX=$DATA/kernel/thin-pool
[ -f "$FX/pv.img.xz" ] || ts_skip "fixture tests/data/kernel/thin-pool not there"
info() { sed -n "s/^$1=//p" "$FX/info"; }
xz -dc "$FX/pv.img.xz" >pv.img
# cut NAME TABLE: "0 LEN linear MAJ:MIN START" -> NAME.img
cut_lv() {
	set -- "$1" $2
	[ "$4" = linear ] || { echo "$1: not one linear segment: $*"; return 1; }
	dd if=pv.img of="$1.img" bs=512 skip="$6" count="$3" status=none
}
cut_lv tmeta "$(info tmeta_table)"
cut_lv tdata "$(info tdata_table)"
THIN="--thin-meta tmeta.img --thin-data tdata.img"
# thin_md5 ID SIZE ARGS...: md5 of snap_extract's output for thin device ID
thin_md5() {
	local id=$1 size=$2
	shift 2
	rm -f out.img
	"$BIN/snap_extract" -q $THIN --thin-id "$id" --size "$size" "$@" -o out.img 2>/dev/null ||
		{ echo "extract failed ($?)"; return; }
	checksum out.img
}
same() { [ "$1" = "$2" ] && echo same || echo "DIFFERENT ($1, expected $2)"; }
