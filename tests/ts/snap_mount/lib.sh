# Sourced by the snap_mount cases: FUSE must work here (skipped with the
# reason otherwise); every mount made is unmounted when the case ends.
[ -c /dev/fuse ] || ts_skip "/dev/fuse is missing: FUSE is not available here"
[ "$(id -u)" = 0 ] || command -v fusermount3 >/dev/null || ts_skip "not root and no fusermount3"
MOUNTS=()
cleanup_mounts() {
	local m
	for m in "${MOUNTS[@]}"; do
		mountpoint -q "$m" && { umount "$m" 2>/dev/null || fusermount3 -u "$m" 2>/dev/null; }
	done
}
trap cleanup_mounts EXIT
# do_mount DIR ARGS...: snap_mount ARGS... DIR, remembered for cleanup
do_mount() {
	local dir=$1
	shift
	mkdir -p "$dir"
	MOUNTS+=("$TS_TMP/$dir")
	"$BIN/snap_mount" "$@" "$dir"
}
# wait_unmounted DIR: up to 5 s
wait_unmounted() {
	local i
	for i in $(seq 50); do
		mountpoint -q "$1" || return 0
		sleep 0.1
	done
	return 1
}
