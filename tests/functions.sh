# Sourced by tests/ts/<tool>/<case>.  The case runs in a fresh temporary
# directory ($TS_TMP); its stdout and stderr are compared with
# tests/expected/<tool>/<case> after $TS_TMP and the repo path are filtered.
# Exit codes are part of the output: use `run CMD...`, which prints "ret: N".

BIN=${BIN:?}
TOP=${TOP:?}
# tests/run sets HELPERS (stubs running them under valgrind with VALGRIND=1)
HELPERS=${HELPERS:-$TOP/${BUILD:-build}/tests/helpers}
DATA=$TOP/tests/data
export SNAPRESCUE_NO_PROGRESS=1
export LC_ALL=C

# run CMD ARGS...: run, merging stderr into stdout, then print "ret: N".
run() {
	"$@" 2>&1
	echo "ret: $?"
}

# Skip the case with a reason (printed by the driver).
ts_skip() {
	echo "SKIP: $*"
	exit 77
}

# checksum FILE...: a stable fingerprint to prove a file was not changed.
checksum() {
	md5sum "$@" | awk '{print $1}'
}

# assert_same_checksum BEFORE FILE: print an error if FILE changed.
assert_unchanged() {
	local before=$1 file=$2
	if [ "$(checksum "$file")" = "$before" ]; then
		echo "unchanged: $(basename "$file")"
	else
		echo "CHANGED: $(basename "$file")"
	fi
}

# unxz_fixture NAME: decompress tests/data/kernel/NAME.xz into $TS_TMP/NAME.
unxz_fixture() {
	xz -dc "$DATA/kernel/$1.xz" >"$TS_TMP/$1"
}

# conformance TOOL [ARGS...] [-- TAIL...]: the checks every tool must pass.
# ARGS come before the input path (e.g. "--zero-origin --size 1M -o
# $TS_TMP/out"), TAIL after it (snap_mount's mountpoint).
# Prints one line per check: exit code and the first line of the message,
# and whether each input stayed byte-identical.
conformance() {
	local tool=$1; shift
	local exe=$BIN/$tool out rc sum
	local -a tail=()
	local i
	for ((i = 1; i <= $#; i++)); do
		if [ "${!i}" = -- ]; then
			tail=("${@:i+1}")
			set -- "${@:1:i-1}"
			break
		fi
	done
	out=$("$exe" --help 2>/dev/null); rc=$?
	echo "--help: ret $rc, usage on stdout: $(echo "$out" | grep -q '^Usage:' && echo yes || echo no)"
	echo "--version: $("$exe" --version 2>&1) (ret $?)"
	out=$("$exe" --no-such-option 2>&1 >/dev/null); rc=$?
	echo "bad option: ret $rc, $(echo "$out" | tail -1)"
	out=$("$exe" "$@" "${tail[@]}" 2>&1 >/dev/null); rc=$?
	echo "missing argument: ret $rc, $(echo "$out" | head -1)"
	out=$("$exe" "$@" "$TS_TMP/does-not-exist" "${tail[@]}" 2>&1 >/dev/null); rc=$?
	echo "missing input: ret $rc, $(echo "$out" | head -1)"
	mkdir -p "$TS_TMP/a-directory"
	out=$("$exe" "$@" "$TS_TMP/a-directory" "${tail[@]}" 2>&1 >/dev/null); rc=$?
	echo "directory: ret $rc, $(echo "$out" | head -1)"
	# Unreadable: root reads anything, so drop to nobody for this one.
	head -c 65536 /dev/zero >"$TS_TMP/unreadable"
	chmod 000 "$TS_TMP/unreadable"
	chmod 755 "$TS_TMP"
	if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
		out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$exe" "$@" "$TS_TMP/unreadable" "${tail[@]}" 2>&1 >/dev/null); rc=$?
		echo "unreadable: ret $rc, $(echo "$out" | head -1)"
	else
		echo "unreadable: ret 1, (not root: check skipped)"
	fi
	local f
	for f in tiny badmagic zeromagic; do
		case $f in
		tiny) printf 'SnAp' >"$TS_TMP/$f" ;;
		badmagic) head -c 65536 /dev/urandom | tr '\0' '\1' >"$TS_TMP/$f"; printf 'XnAp\1\0\0\0\1\0\0\0\10\0\0\0' | dd of="$TS_TMP/$f" conv=notrunc status=none ;;
		zeromagic) head -c 65536 /dev/zero >"$TS_TMP/$f" ;;
		esac
		sum=$(checksum "$TS_TMP/$f")
		out=$("$exe" "$@" "$TS_TMP/$f" "${tail[@]}" 2>&1 >/dev/null); rc=$?
		echo "$f: ret $rc, $(echo "$out" | head -1)"
		[ "$(checksum "$TS_TMP/$f")" = "$sum" ] || echo "$f: INPUT CHANGED"
	done
}
