# Sourced by the snap_merge cases: the classic snapshot the real kernel wrote
# (tests/data/kernel/classic-4k) in $TS_TMP as cow.img and origin.img, and
# what the kernel recorded about it, read from the fixture, never typed in.
. "$TOP/tests/functions.sh"
MERGE=$BIN/snap_merge
FX=$DATA/kernel/classic-4k
for f in origin.img.xz cow.img.xz snapshot.md5 images.md5 info; do
	[ -f "$FX/$f" ] || ts_skip "kernel fixture $FX/$f is missing (tests/vm/make-fixtures classic-4k makes it)"
done
info() { sed -n "s/^$1=//p" "$FX/info"; }
SNAP_MD5=$(awk '{print $1; exit}' "$FX/snapshot.md5")
ORIGIN_MD5=$(awk '$2 == "origin.img" {print $1}' "$FX/images.md5")
COW_MD5=$(awk '$2 == "cow.img" {print $1}' "$FX/images.md5")
[ -n "$SNAP_MD5" ] && [ -n "$ORIGIN_MD5" ] && [ -n "$COW_MD5" ] || ts_skip "md5s missing in $FX"

# fresh: the kernel's origin and COW, as the fixture holds them
fresh() {
	xz -dc "$FX/origin.img.xz" >origin.img
	xz -dc "$FX/cow.img.xz" >cow.img
}
fresh

# is NAME WANT FILE: "NAME: yes" if FILE's md5 is WANT, else what it is
is() {
	local got
	got=$(checksum "$3")
	[ "$got" = "$2" ] && echo "$1: yes" || echo "$1: NO ($got, expected $2)"
}

# view_md5 COW ORIGIN: md5 of the snapshot as the kernel would show it
view_md5() {
	"$BIN/snap_extract" -q --origin "$2" "$1" | md5sum | awk '{print $1}'
}

# figures COW: exceptions, allocated, metadata and total sectors (snap_info)
figures() {
	"$BIN/snap_info" -f json "$1" >info.json || { echo "snap_info failed"; return; }
	python3 - <<'EOP'
import json
j = json.load(open("info.json"))
print(j["exceptions"], j["allocated_sectors"], j["metadata_sectors"], j["store_size"] // 512)
EOP
}

# merged_figures: what the kernel's status shows for this store once the
# merge is finished: no exceptions, allocated = metadata = the header and
# area 0 (persistent_commit_merge sets next_free to area_location(0) + 1;
# persistent_usage counts current_area + 2 metadata chunks), out of the
# total the kernel recorded for the fixture
merged_figures() {
	local c
	c=$(info chunk_sectors)
	echo "0 $((2 * c)) $((2 * c)) $(info total_sectors)"
}
