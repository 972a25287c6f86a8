# Sourced by the snap_delta and snap_apply cases (not a case itself: *.sh is
# skipped).
. "$TOP/tests/functions.sh"
DELTA=$BIN/snap_delta
APPLY=$BIN/snap_apply
EXTRACT=$BIN/snap_extract
MK=$HELPERS/mkstore

# classic_4k: the kernel-written classic snapshot in $TS_TMP (origin.img,
# cow.img) and what the kernel recorded: $ORIGIN_MD5, $SNAP_MD5,
# $EXCEPTIONS, $CHUNK (bytes), $SIZE; $RUNS (table_runs); snapshot.img, the kernel's snapshot
# as snap_extract writes it (checked against the kernel's md5).
classic_4k() {
	local fx=$DATA/kernel/classic-4k f
	for f in origin.img.xz cow.img.xz info; do
		[ -f "$fx/$f" ] || ts_skip "kernel fixture $fx/$f is missing (tests/vm/make-fixtures classic-4k makes it)"
	done
	xz -dc "$fx/origin.img.xz" >origin.img
	xz -dc "$fx/cow.img.xz" >cow.img
	info() { sed -n "s/^$1=//p" "$fx/info"; }
	ORIGIN_MD5=$(info origin_md5) SNAP_MD5=$(info snapshot_md5)
	EXCEPTIONS=$(info exceptions) CHUNK=$(info chunk_size_bytes) SIZE=$(info origin_size_bytes)
	[ -n "$ORIGIN_MD5" ] && [ -n "$SNAP_MD5" ] && [ -n "$EXCEPTIONS" ] || ts_skip "$fx/info lacks the md5s"
	RUNS=$(table_runs cow.img "$CHUNK")
	"$EXTRACT" -q --origin origin.img -o snapshot.img cow.img
	[ "$(checksum snapshot.img)" = "$SNAP_MD5" ] || echo "snapshot.img: NOT the kernel's md5"
	[ "$(checksum origin.img)" = "$ORIGIN_MD5" ] || echo "origin.img: NOT the kernel's md5"
}

# md5_is FILE MD5 WHAT: say whether FILE has the md5 the kernel recorded
md5_is() {
	if [ "$(checksum "$1")" = "$2" ]; then echo "$1: md5 of $3"; else echo "$1: NOT the md5 of $3"; fi
}

# table_runs STORE CHUNK_BYTES: how many runs the table's chunks make (old
# chunks that follow each other, at most 4 MiB each), counted from
# snap_dump's table, not by snap_delta
table_runs() {
	"$BIN/snap_dump" -f human "$1" | awk 'NF == 5 && $1 ~ /^[0-9]+$/ && $2 ~ /^[0-9]+$/ && $4 ~ /^[0-9]+$/ { print $4 }' | sort -n -u |
		awk -v max=$((4194304 / $2)) '
			NR == 1 || $1 != prev + 1 || len == max { runs++; len = 0 }
			{ len++; prev = $1 }
			END { print runs + 0 }'
}

# norm: the figures of classic_4k's table as names, once checked: the
# exceptions the kernel recorded, their bytes, the runs they make
norm() {
	sed -e "s/\b$EXCEPTIONS chunks/<exceptions> chunks/g" -e "s/\b$((EXCEPTIONS * CHUNK))\b/<table bytes>/g" \
		-e "s/\b$RUNS runs/<table runs> runs/g" -e "s/\b$RUNS runs'/<table runs> runs'/g"
}
