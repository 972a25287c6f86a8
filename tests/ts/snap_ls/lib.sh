# Sourced by the snap_ls cases: the bundled PV images of VG "rescue"
# (tests/data/kernel/lvm-pv, written by the real kernel and LVM) in $TS_TMP.
FX=$DATA/kernel/lvm-pv
[ -f "$FX/a.img.xz" ] || ts_skip "fixture tests/data/kernel/lvm-pv not there"
xz -dc "$FX/a.img.xz" >a.img
xz -dc "$FX/b.img.xz" >b.img
info() { sed -n "s/^$1=//p" "$FX/info"; }
# extract_md5 LV ARGS...: md5 of snap_extract's output for rescue/LV
extract_md5() {
	local lv=$1
	shift
	rm -f out.img
	"$BIN/snap_extract" -q "$@" -o out.img "rescue/$lv" 2>/dev/null || { echo "extract failed ($?)"; return; }
	checksum out.img
}
# the byte offset of the metadata text the first metadata area's header
# points at, on PV image $1
current_text() {
	python3 - "$1" <<'EOP'
import struct, sys
f = open(sys.argv[1], "rb")
f.seek(4096)
h = f.read(512)
start, size = struct.unpack("<QQ", h[24:40])
off, length = struct.unpack("<QQ", h[40:56])
print(start + off)
EOP
}
