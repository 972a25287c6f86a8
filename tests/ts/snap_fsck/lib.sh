# Shared by tests/ts/snap_fsck/* and tests/ts/snap_rmap/* (sourced, not a case).
# Builds ext4 images without a kernel: mkfs.ext4 on a sparse file, files
# written with debugfs, then a store made with tests/helpers/mkcow-from-image.

# Fixed mkfs defaults, whatever /etc/mke2fs.conf says on this machine.
cat >"$TS_TMP/mke2fs.conf" <<'EOC'
[defaults]
	base_features = sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr
	blocksize = 4096
	inode_ratio = 16384
[fs_types]
	ext4 = {
		features = has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize
	}
	small = {
		inode_ratio = 4096
	}
EOC
export MKE2FS_CONFIG=$TS_TMP/mke2fs.conf
export E2FSPROGS_FAKE_TIME=1700000000
export E2FSCK_CONFIG=/dev/null
MKCOW=$HELPERS/mkcow-from-image

# mkext4 IMG SIZE: a fresh ext4 with a fixed UUID and hash seed.
mkext4() {
	rm -f "$1"
	truncate -s "$2" "$1"
	mkfs.ext4 -q -F -t ext4 -U 0b1d7f3c-5e4a-4c2b-9a8d-6f0e1d2c3b4a \
		-E hash_seed=2b7e1516-28ae-d2a6-abf7-158809cf4f3c,root_owner=0:0 "$1" >/dev/null
}

# dbfs IMG 'cmd' ...: run debugfs -w commands (quietly).
dbfs() {
	local img=$1; shift
	printf '%s\n' "$@" | debugfs -w -f - "$img" >/dev/null 2>&1
}

# pattern FILE BYTES SEED: deterministic non-zero data.
pattern() {
	awk -v n="$2" -v s="$3" 'BEGIN { srand(s); while (c < n) { l = sprintf("%s %d %.6f\n", FILENAME, c, rand()); printf "%s", l; c += length(l) } }' |
		head -c "$2" >"$1"
}

# populate IMG: a small tree of files.
populate() {
	pattern "$TS_TMP/p1" 110000 1
	pattern "$TS_TMP/p2" 50000 2
	pattern "$TS_TMP/p3" 300000 3
	pattern "$TS_TMP/p4" 5000 4
	dbfs "$1" "mkdir etc" "mkdir home" "mkdir home/alice" \
		"write $TS_TMP/p1 etc/services" "write $TS_TMP/p2 home/alice/notes.txt" \
		"write $TS_TMP/p3 home/alice/photo.raw" "write $TS_TMP/p4 README" \
		"symlink readme-link README"
}

# e2fsck_verdict IMG: e2fsck -fn's exit code on an image, and its problem lines.
e2fsck_verdict() {
	local out rc
	out=$(e2fsck -fn "$1" 2>&1); rc=$?
	echo "e2fsck -fn on the image itself: exit $rc"
}

# debugfs_agree IMAGE ORIGIN|- JSON: compare snap_rmap's JSON file list with
# what debugfs says about IMAGE directly (icheck: block -> inode, ncheck:
# inode -> path) for every block of IMAGE that differs from ORIGIN (- for a
# zero origin).  Prints "debugfs agrees: N files" or each difference.
debugfs_agree() {
	python3 - "$@" <<'EOP'
import json, subprocess, sys
img, origin, js = sys.argv[1:4]
d = json.load(open(js))
bs, cb = d["block_size"], d["chunk_bytes"]
changed = []
with open(img, "rb") as a:
    o = open(origin, "rb") if origin != "-" else None
    c = 0
    while True:
        x = a.read(cb)
        if not x:
            break
        y = o.read(cb) if o else b"\0" * len(x)
        if x != y:
            changed += range(c * cb // bs, (c + 1) * cb // bs)
        c += 1
def dbfs(cmd):
    return subprocess.run(["debugfs", "-R", cmd, img], capture_output=True, text=True).stdout
owner = {}
for i in range(0, len(changed), 500):
    for line in dbfs("icheck " + " ".join(map(str, changed[i:i + 500]))).splitlines()[1:]:
        f = line.split("\t")
        if len(f) == 2 and f[1].isdigit():
            owner[int(f[0])] = int(f[1])
first_ino = 11
inos = sorted({i for i in owner.values() if i >= first_ino or i == 2})
paths = {}
if inos:
    for line in dbfs("ncheck " + " ".join(map(str, inos))).splitlines()[1:]:
        f = line.split("\t")
        if len(f) == 2 and int(f[0]) not in paths:
            paths[int(f[0])] = f[1]
paths[2] = "/"
want = {}
for b, i in owner.items():
    if i in paths:
        p = "/" + paths[i].strip("/")
        want[p] = want.get(p, 0) + 1
got = {}
for f in d["files"]:
    n = f["changed_blocks"] + f["changed_map_blocks"]
    if n:
        got["/" + f["path"].strip("/")] = n
bad = 0
for p in sorted(set(want) | set(got)):
    if want.get(p) != got.get(p):
        print("differs: %s: debugfs %s, snap_rmap %s" % (p, want.get(p), got.get(p)))
        bad += 1
if not bad:
    print("debugfs agrees: %d files" % len(got))
EOP
}

# accounting JSON: every changed block is counted exactly once.
accounting() {
	python3 - "$1" <<'EOP'
import json, sys
d = json.load(open(sys.argv[1]))
t = sum(f["changed_blocks"] + f["changed_map_blocks"] for f in d["files"])
t += sum(d["metadata"].values()) + d["free_blocks"] + d["unowned_blocks"]
print("accounted for: %d of %d changed blocks" % (t, d["changed_blocks"]))
EOP
}
