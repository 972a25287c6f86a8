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

# --- XFS and btrfs fixtures written by the real kernel (tests/data/kernel) ---

# fixture_info NAME KEY: KEY=... of tests/data/kernel/NAME/info
fixture_info() {
	sed -n "s/^$2=//p" "$DATA/kernel/$1/info" | head -n1
}

# tidy: what differs between runs and machines in snap_fsck's and snap_rmap's
# reports (copy and replay times; xfs_repair's remark about the filesystem
# holding its image, and the order its threads finish AGs in)
tidy() {
	sed -e 's/ in [0-9][0-9.]* s\b/ in N s/g' \
		-e '/^  |         - agno = [0-9]*$/d' \
		-e '/^  | Cannot get host filesystem geometry\.$/d' \
		-e '/^  | Repair may fail if there is a sector size mismatch between$/d' \
		-e '/^  | the image and the host filesystem\.$/d'
}

# can_mount TYPE: true when this machine can mount TYPE (root, and the kernel
# has it or loads it); else false and the reason on stdout
can_mount() {
	[ "$(id -u)" = 0 ] || { echo "needs root to mount a copy"; return 1; }
	grep -qw "$1" /proc/filesystems || modprobe -q "$1" 2>/dev/null
	grep -qw "$1" /proc/filesystems || { echo "this kernel cannot mount $1"; return 1; }
	[ -r /dev/loop-control ] && [ -w /dev/loop-control ] || { echo "no loop devices here (/dev/loop-control)"; return 1; }
}

# kernel_files_agree JSON LISTING: snap_rmap's regular files (JSON) against
# what a mount of the kernel's own view listed ("inode blocks links size
# path", one line per name): every file the kernel has is named once, under
# one of its names, with the kernel's inode number, block and link counts,
# and there is no other.  Prints "the kernel agrees: N files" or each
# difference.
kernel_files_agree() {
	python3 - "$@" <<'EOP'
import json, sys
d = json.load(open(sys.argv[1]))
kernel = {}
for line in open(sys.argv[2]):
    ino, blocks, links, size, path = line.rstrip("\n").split(" ", 4)
    e = kernel.setdefault(path, {"ino": int(ino), "blocks": int(blocks), "links": int(links)})
files = [f for f in d["files"] if f["kind"] == "file"]
seen, bad = set(), 0
for f in files:
    k = kernel.get(f["path"])
    n = f["changed_blocks"] + f["changed_map_blocks"]
    if not k:
        print("snap_rmap names %s, the kernel has no such file" % f["path"]); bad += 1; continue
    if (k["ino"], k["blocks"], k["links"]) != (f["inode"], n, f["links"]):
        print("%s: kernel inode %d, %d blocks, %d links; snap_rmap inode %d, %d blocks, %d links"
              % (f["path"], k["ino"], k["blocks"], k["links"], f["inode"], n, f["links"])); bad += 1
    seen.add(k["ino"])
for p, k in sorted(kernel.items()):
    if k["ino"] not in seen:
        print("the kernel has %s (inode %d), snap_rmap does not name it" % (p, k["ino"])); bad += 1
        seen.add(k["ino"])
if not bad:
    print("the kernel agrees: %d files" % len(files))
EOP
}
