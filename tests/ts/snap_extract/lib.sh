# Sourced by the snap_extract cases (not a case itself: *.sh is skipped).
. "$TOP/tests/functions.sh"
EXTRACT=$BIN/snap_extract
MKSTORE=$HELPERS/mkstore

# expected_image OUT SIZE CHUNK_BYTES ORIGIN|zero OLD_BASE OLD_STRIDE COUNT
# Build the snapshot image independently of libsnapcow, from the patterns
# mkstore documents in tests/helpers/storegen.h: the chunks old_base +
# i * old_stride (i < COUNT) hold the COW stamp of their old chunk, every
# other byte is the origin stamp at its offset (or zero).
expected_image() {
	python3 - "$@" <<'PY'
import struct, sys
out, size, cb, origin, base, stride, count = sys.argv[1:8]
size, cb, base, stride, count = int(size), int(cb), int(base), int(stride), int(count)
mapped = {base + i * stride for i in range(count)}
with open(out, "wb") as f:
    for c in range((size + cb - 1) // cb):
        if c in mapped:
            words = [0xC0 << 56 | (c & 0xffffff) << 32 | b for b in range(0, cb, 8)]
        elif origin == "zero":
            words = [0] * (cb // 8)
        else:
            words = [0x0A << 56 | (c * cb + b) for b in range(0, cb, 8)]
        data = struct.pack("<%dQ" % len(words), *words)
        f.write(data[: min(cb, size - c * cb)])
PY
}

# allocated FILE: bytes the file system allocated for FILE
allocated() {
	echo $(( $(stat -c %b "$1") * $(stat -c %B "$1") ))
}

# data_bytes FILE: bytes in FILE's data segments (SEEK_DATA/SEEK_HOLE): what
# the file system stores as data, without its own extent-tree blocks
data_bytes() {
	python3 - "$1" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
end = os.fstat(fd).st_size
off = total = 0
while off < end:
    try:
        d = os.lseek(fd, off, os.SEEK_DATA)
    except OSError:
        break
    h = os.lseek(fd, d, os.SEEK_HOLE)
    total += h - d
    off = h
print(total)
PY
}

# report_sparse FILE NONZERO_BYTES: data segments must be exactly the
# non-zero chunks; `du` may add the file system's extent blocks (< 64 KiB)
report_sparse() {
	local data alloc
	data=$(data_bytes "$1")
	alloc=$(allocated "$1")
	echo "$(basename "$1"): data $data bytes, non-zero chunks $2 bytes:" \
		"$([ "$data" = "$2" ] && echo equal || echo DIFFERENT)"
	if [ "$alloc" -ge "$2" ] && [ $((alloc - $2)) -lt 65536 ]; then
		echo "$(basename "$1"): allocated (du) = non-zero chunks + extent blocks under 64 KiB"
	else
		echo "$(basename "$1"): allocated (du) $alloc bytes: WRONG"
	fi
}
