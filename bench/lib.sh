# Sourced by the bench/fig* scripts.  Environment:
#   BUILD      build dir with bin/ and lib/libsnapcow.a (default build)
#   BENCH_DIR  where inputs and outputs go (default /work/snaprescue-bench.$$,
#              removed at the end unless BENCH_KEEP=1); must be a real disk
#   RUNS       timed runs per command, best one counts (default 3, at least 3)
#   BENCH_RESULTS  file to append "figure|what|ours|base|ratio|goal|status|rss" to
set -eu
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
BIN=$BUILD/bin
RUNS=${RUNS:-3}
[ "$RUNS" -ge 3 ] || RUNS=3
CC=${CC:-cc}

die() { echo "bench: $*" >&2; exit 1; }

# The bench's own helpers, built against this build's libsnapcow (which
# needs zlib for its CRC-32).
build_helpers() {
	mkdir -p "$BUILD/bench"
	local f
	for f in gen metaread floorwrite blockcmp rangecopy; do
		if [ ! -x "$BUILD/bench/$f" ] || [ "$TOP/bench/$f.c" -nt "$BUILD/bench/$f" ]; then
			$CC -O2 -std=gnu11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -Wall -Wextra \
				-I"$TOP/include" -o "$BUILD/bench/$f" "$TOP/bench/$f.c" \
				"$BUILD/lib/libsnapcow.a" $(pkg-config --libs zlib 2>/dev/null || echo -lz) -pthread ||
				die "cannot build bench/$f.c"
		fi
	done
	GEN=$BUILD/bench/gen
	METAREAD=$BUILD/bench/metaread
	FLOORWRITE=$BUILD/bench/floorwrite
	BLOCKCMP=$BUILD/bench/blockcmp
	RANGECOPY=$BUILD/bench/rangecopy
	IOREAD=$BUILD/tests/helpers/ioread
}

# bench_dir NEED_GIB: create BENCH_DIR after checking free space.
bench_dir() {
	local need=$1 avail
	if [ -z "${BENCH_DIR:-}" ]; then
		BENCH_DIR=/work/snaprescue-bench.$$
		[ -d /work ] && [ -w /work ] || BENCH_DIR=/tmp/snaprescue-bench.$$
		OWN_DIR=1
	fi
	mkdir -p "$BENCH_DIR"
	avail=$(df -k --output=avail "$BENCH_DIR" | tail -1)
	[ "$avail" -ge $((need << 20)) ] ||
		die "$BENCH_DIR: $((avail >> 20)) GiB free, this figure needs $need GiB"
	[ "${OWN_DIR:-0}" = 1 ] && [ "${BENCH_KEEP:-0}" != 1 ] && trap 'rm -rf "$BENCH_DIR"' EXIT
	echo "work dir: $BENCH_DIR ($((avail >> 20)) GiB free; $(stat -f -c %T "$BENCH_DIR"))"
	calibrate
}

# prepare: runs before every timed run (outputs removed and written back,
# so that no run pays for another's writeback).  The page cache is warm for
# both sides: with WARMUP=1 each command runs once untimed first; figures
# with big inputs read them once with warm_files instead.
prepare() {
	rm -f "$BENCH_DIR"/out.* "$BENCH_DIR"/copy.*
	sync
	if [ "${COLD:-0}" = 1 ]; then echo 3 >/proc/sys/vm/drop_caches; fi
}

# can_drop_caches: 0 if this machine lets us empty the page cache (root,
# /proc/sys writable), for the cold-cache figures.
can_drop_caches() {
	[ -w /proc/sys/vm/drop_caches ] && sync && echo 3 2>/dev/null >/proc/sys/vm/drop_caches
}

WARMUP=${WARMUP:-1}

# warm_files FILE...: read inputs into the page cache.
warm_files() {
	cat "$@" >/dev/null
}

# run_once CMD...: one timed run (after prepare): $t microseconds, less the
# harness's own cost ($HARNESS_US), and $r KiB peak RSS
run_once() {
	local t0 t1
	prepare
	t0=$(date +%s%N)
	/usr/bin/time -f %M -o "$BENCH_DIR/.rss" "$@" >"$BENCH_DIR/.out" 2>"$BENCH_DIR/.err" ||
		{ cat "$BENCH_DIR/.err" >&2; die "failed: $*"; }
	t1=$(date +%s%N)
	t=$(((t1 - t0) / 1000 - ${HARNESS_US:-0}))
	[ "$t" -gt 0 ] || t=1
	r=$(tail -1 "$BENCH_DIR/.rss")
}

# calibrate: $HARNESS_US, the best of 9 timings of `true` run the same way
# (date, fork and exec of /usr/bin/time and of a trivial program: 10-20 ms on
# a slow VM), subtracted from every timing so that the ratios of short
# commands compare the commands, not the harness.
calibrate() {
	[ -n "${HARNESS_US:-}" ] && return 0
	local i t0 t1 b=''
	for ((i = 0; i < 9; i++)); do
		t0=$(date +%s%N)
		/usr/bin/time -f %M -o /dev/null true
		t1=$(date +%s%N)
		t=$(((t1 - t0) / 1000))
		if [ -z "$b" ] || [ "$t" -lt "$b" ]; then b=$t; fi
	done
	export HARNESS_US=$b
	echo "harness overhead: $(awk -v u="$b" 'BEGIN { printf "%.1f ms", u / 1e3 }') (fork+exec of /usr/bin/time true), subtracted from every timing"
}

# measure CMD...: best wall time of $RUNS runs (after one untimed warm-up)
# in $best (microseconds) and the largest peak RSS in $rss (KiB).
measure() {
	local i t r
	best='' rss=0
	[ "$WARMUP" = 1 ] && run_once "$@"
	for ((i = 0; i < RUNS; i++)); do
		run_once "$@"
		if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
		[ "$r" -gt "$rss" ] && rss=$r
	done
	return 0
}

# measure_pair CMD_A... -- CMD_B...: like measure for both commands, their
# runs interleaved (A B A B ...), so that a slow phase of a shared machine
# (writeback, a neighbour's job) hits both sides alike.  Sets $best_a $rss_a
# $best_b $rss_b.
measure_pair() {
	local -a a=() b=()
	local i t r
	while [ $# -gt 0 ] && [ "$1" != -- ]; do a+=("$1"); shift; done
	shift
	b=("$@")
	best_a='' rss_a=0 best_b='' rss_b=0
	if [ "$WARMUP" = 1 ]; then run_once "${a[@]}"; run_once "${b[@]}"; fi
	for ((i = 0; i < RUNS; i++)); do
		run_once "${a[@]}"
		cp "$BENCH_DIR/.out" "$BENCH_DIR/.out_a"
		if [ -z "$best_a" ] || [ "$t" -lt "$best_a" ]; then best_a=$t; fi
		[ "$r" -gt "$rss_a" ] && rss_a=$r
		run_once "${b[@]}"
		if [ -z "$best_b" ] || [ "$t" -lt "$best_b" ]; then best_b=$t; fi
		[ "$r" -gt "$rss_b" ] && rss_b=$r
	done
	return 0
}

secs() { awk -v u="$1" 'BEGIN { printf "%.3f s", u / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# record FIGURE WHAT OURS_US BASE_US RATIO GOAL STATUS RSS_KIB
record() {
	[ -n "${BENCH_RESULTS:-}" ] && echo "$1|$2|$3|$4|$5|$6|$7|$8" >>"$BENCH_RESULTS"
	return 0
}
