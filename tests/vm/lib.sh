# tests/vm/lib.sh: helpers for guest scenarios (busybox sh).  Source with ". /lib.sh".
# Checks print TAP-like lines "ok N - what" / "not ok N - what"; the host fails the
# scenario on any "not ok" line.  End a scenario with "sr_done".
[ -f /etc/sr-env ] && . /etc/sr-env
# (/init exports LVM_SUPPRESS_FD_WARNINGS and DM_DISABLE_UDEV for the scenario)
SR_N=0
SR_FAILS=0
R=/results

ok() { SR_N=$((SR_N + 1)); echo "ok $SR_N - $*"; }
not_ok() { SR_N=$((SR_N + 1)); SR_FAILS=$((SR_FAILS + 1)); echo "not ok $SR_N - $*"; }

# check DESC CMD...: ok if CMD exits 0
check() {
	_d=$1; shift
	if "$@" </dev/null; then ok "$_d"; else not_ok "$_d (exit $?: $*)"; fi
}
# check_eq DESC GOT EXPECTED
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1 ($2)"; else not_ok "$1: got '$2', expected '$3'"; fi
}
# check_ge DESC GOT MIN (integers)
check_ge() {
	if [ "$2" -ge "$3" ] 2>/dev/null; then ok "$1 ($2 >= $3)"; else not_ok "$1: got '$2', expected >= $3"; fi
}

# fatal MSG: record a failure and end the scenario now
fatal() { not_ok "$*"; sr_done; }

# run CMD...: show the command, run it with stdin /dev/null
run() { echo "+ $*"; "$@" </dev/null; }
# must CMD...: run, and end the scenario if it fails
must() { run "$@" || fatal "command failed (exit $?): $*"; }

sr_done() {
	echo "# $SR_N checks, $SR_FAILS failed"
	[ "$SR_FAILS" = 0 ] && exit 0
	exit 1
}

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# load_fs TYPE: insmod filesystem TYPE's modules (xfs, btrfs: /etc/modules.fs,
# dependencies first); fails unless the kernel then lists TYPE
load_fs() {
	while read -r _fs _ko; do
		[ "$_fs" = "$1" ] || continue
		insmod "$_ko" 2>/dev/null ||
			grep -q "^$(basename "${_ko%.ko}" | tr - _) " /proc/modules ||
			echo "load_fs: insmod $_ko failed"
	done </etc/modules.fs
	grep -qw "$1" /proc/filesystems
}

# dev_md5 DEV: md5 of a whole device, read with O_DIRECT after dropping caches
dev_md5() {
	drop_caches
	dd if="$1" bs=1M iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1
}
# dev_size DEV: size in bytes
dev_size() { blockdev --getsize64 "$1"; }

# dump DEV FILE: copy a device (O_DIRECT, caches dropped) to /results/FILE
dump() {
	drop_caches
	dd if="$1" of="$R/$2" bs=1M iflag=direct 2>/dev/null || fatal "dump of $1 failed"
}
# dump_to_disk DEV DISKNAME: copy a device onto a scenario disk (big dumps: the
# host gets the disk image, which stays sparse thanks to detect-zeroes=unmap)
dump_to_disk() {
	drop_caches
	dd if="$1" of="/dev/disk/$2" bs=1M iflag=direct oflag=direct 2>/dev/null || fatal "dump of $1 to $2 failed"
}

# snap_status VG-LV: "allocated total metadata" of a snapshot target, or its word
snap_status() { dmsetup status "$1" | awk '{ if ($3 == "snapshot" || $3 == "snapshot-merge") { sub("/", " ", $4); print $4, $5 } else print "?" }'; }

# lvs_rows FILE [VG]: every LV of VG (default vg) as snap_resurrect reads
# them (the fields of LVS_FIELDS in src/common/lvm.h), into /results/FILE
# and on the console; tests/data/lvs/ keeps such rows for the planner's
# unit test
lvs_rows() {
	lvs -a --noheadings --nosuffix --units b --separator '|' -o \
		lv_name,vg_name,lv_attr,lv_size,origin,origin_size,segtype,pool_lv,chunk_size,vg_extent_size,vg_free,lv_health_status,data_percent,metadata_percent,lv_metadata_size \
		"${2:-vg}" >"$R/$1" 2>&1
	cat "$R/$1"
}

# save NAME CMD...: run CMD, keep its stdout+stderr in /results/NAME and on the console
save() {
	_f=$1; shift
	echo "+ $* > $_f"
	"$@" </dev/null >"$R/$_f" 2>&1
	_rc=$?
	cat "$R/$_f"
	return $_rc
}

# need_tool NAME: our tools are needed by this check; say so clearly if missing
need_tool() {
	command -v "$1" >/dev/null 2>&1 && return 0
	not_ok "$1 is not in build/bin (build the tools first)"
	return 1
}

# abrupt_poweroff: save results, print the marker, power off without any sync
abrupt_poweroff() {
	sr-save-results
	echo "SNAPRESCUE-VM-EXIT: $SR_FAILS (abrupt power-off)"
	echo o >/proc/sysrq-trigger
	sleep 30
}

# json_get KEY < JSON: a scalar member of a flat JSON object
json_get() { tr -d '\n' | sed -n 's/.*"'"$1"'"[[:space:]]*:[[:space:]]*\("[^"]*"\|[^,}[:space:]]*\).*/\1/p' | tr -d '"'; }

# t MSG: a time stamp (seconds since boot) on the console
t() { echo "# time $(cut -d' ' -f1 /proc/uptime) s: $*"; }

# mount_check LABEL MOUNTPOINT FILE=MD5... -- SNAP_MOUNT_ARGS...: snap_mount
# the volumes, check each FILE's md5 (the kernel's device, read before),
# that writing fails, and that snap_mount -u leaves nothing mounted.
mount_check() {
	_l=$1 _m=$2
	shift 2
	_want=
	while [ $# -gt 0 ] && [ "$1" != -- ]; do _want="$_want $1"; shift; done
	shift
	need_tool snap_mount || return 1
	check "/dev/fuse is there (fuse module loaded)" test -c /dev/fuse || return 1
	mkdir -p "$_m"
	if ! run snap_mount "$@" "$_m"; then
		not_ok "$_l: snap_mount $*"
		return 1
	fi
	ls -l "$_m"
	for _fw in $_want; do
		check_eq "$_l: $_m/${_fw%%=*} = the kernel's device" \
			"$(md5sum <"$_m/${_fw%%=*}" | cut -d' ' -f1)" "${_fw#*=}"
	done
	_first=${_want# }
	check "$_l: writes fail" sh -c "! echo x 2>/dev/null >'$_m/${_first%%=*}'"
	run snap_mount -u "$_m"
	check "$_l: unmounted" sh -c "! grep -q ' $_m fuse' /proc/mounts"
}

# le64 DEV OFFSET / le32 DEV OFFSET: an unsigned little-endian integer read
# at byte OFFSET of DEV, through an O_DIRECT read of its 4 KiB block (a PV:
# no page cache in the way of what the kernel wrote below it)
_le() { dd if="$1" bs=4096 count=1 skip="$(($2 / 4096))" iflag=direct 2>/dev/null | od -An -t "u$3" -j "$(($2 % 4096))" -N "$3" | tr -d ' '; }
le64() { _le "$1" "$2" 8; }
le32() { _le "$1" "$2" 4; }

# thin_node PV BASE BLOCK: "FLAGS NR MAX" of the btree node at metadata
# block BLOCK of a pool whose _tmeta starts at byte BASE of PV
thin_node() {
	_o=$(($2 + $3 * 4096))
	echo "$(le32 "$1" $((_o + 4))) $(le32 "$1" $((_o + 16))) $(le32 "$1" $((_o + 20)))"
}
# thin_dev_root PV BASE ID: the root block of thin device ID's mapping
# tree (the top-level tree must be one leaf: a pool with few devices)
thin_dev_root() {
	_top=$(le64 "$1" $(($2 + 320)))
	set -- "$1" "$2" "$3" $(thin_node "$1" "$2" "$_top")
	[ "$4" = 2 ] || return 1
	_i=0
	while [ $_i -lt "$5" ]; do
		if [ "$(le64 "$1" $(($2 + _top * 4096 + 32 + 8 * _i)))" = "$3" ]; then
			le64 "$1" $(($2 + _top * 4096 + 32 + 8 * $6 + 8 * _i))
			return 0
		fi
		_i=$((_i + 1))
	done
	return 1
}
# thin_first_leaf PV BASE ROOT: the leftmost leaf below node ROOT
thin_first_leaf() {
	_b=$3
	while set -- "$1" "$2" "$_b" $(thin_node "$1" "$2" "$_b") && [ "$4" = 1 ]; do
		_b=$(le64 "$1" $(($2 + _b * 4096 + 32 + 8 * $6)))
	done
	echo "$_b"
}
# spoil PV BYTE: overwrite 16 bytes of a metadata block there (its checksum
# no longer matches), read-modify-write of the 4 KiB block with O_DIRECT
spoil() {
	dd if="$1" of=/tmp/spoil.blk bs=4096 count=1 skip="$(($2 / 4096))" iflag=direct 2>/dev/null &&
	printf 'snaprescue-spoil' | dd of=/tmp/spoil.blk bs=1 seek="$(($2 % 4096))" conv=notrunc 2>/dev/null &&
	dd if=/tmp/spoil.blk of="$1" bs=4096 count=1 seek="$(($2 / 4096))" oflag=direct conv=notrunc 2>/dev/null
}
