/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_resurrect's planner, fed recorded lvs rows (tests/data/lvs/, see its
 * README) through the one lvs parser, plus the kernel status and store
 * figures printed by the same VM runs.  The expected plan lines and
 * messages are the ones snap_resurrect printed in those runs.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lvm.h"
#include "resurrect.h"
#include "unit.h"

#define MiB (1024ULL * 1024)

static int same(const char *got, const char *want)
{
	if (strcmp(got, want))
		fprintf(stderr, "got  '%s'\nwant '%s'\n", got, want);
	return !strcmp(got, want);
}

static FILE *open_top(const char *rel)
{
	const char *top = getenv("TOP");
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", top ? top : ".", rel);
	f = fopen(path, "r");
	if (!f) {
		perror(path);
		exit(1);
	}
	return f;
}

/* Does a line of @rel (from the top of the tree) hold @s? */
static int file_has(const char *rel, const char *s)
{
	FILE *f = open_top(rel);
	char line[1024];
	int found = 0;

	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, s) != NULL;
	fclose(f);
	return found;
}

/* The row of LV @name in fixture @file, through lvrow_parse(). */
static struct lvrow row(const char *file, const char *name)
{
	char path[512], line[1024], why[128];
	struct lvrow r;
	FILE *f;

	snprintf(path, sizeof(path), "tests/data/lvs/%s", file);
	f = open_top(path);
	while (fgets(line, sizeof(line), f)) {
		if (lvrow_parse(line, &r, why, sizeof(why)) < 0) {
			fprintf(stderr, "%s: %s\n", path, why);
			exit(1);
		}
		if (!strcmp(r.name, name)) {
			fclose(f);
			return r;
		}
	}
	fprintf(stderr, "%s: no row %s\n", path, name);
	exit(1);
}

static struct resurrect_opts opts(const char *lv)
{
	struct resurrect_opts o = { .vg = "vg", .size_mode = RESURRECT_SIZE_AUTO };

	snprintf(o.lv, sizeof(o.lv), "%s", lv);
	return o;
}

/* Facts as classify gathers them: the rows, the kind, the dm names. */
static struct resurrect_facts facts(const char *file, const char *lv)
{
	struct resurrect_facts f = { 0 };
	struct resurrect_names *n = &f.names;

	f.lv = row(file, lv);
	if (resurrect_is_snapshot(&f.lv))
		f.origin = row(file, f.lv.origin);
	if (f.lv.pool[0])
		f.pool = row(file, f.lv.pool);
	f.kind = resurrect_kind_of(&f.lv, &f.origin);
	snprintf(n->dm, sizeof(n->dm), "vg-%s", lv);
	snprintf(n->dev, sizeof(n->dev), "/dev/mapper/vg-%s", lv);
	snprintf(n->cow_dev, sizeof(n->cow_dev), "/dev/mapper/vg-%s-cow", lv);
	return f;
}

/* An active, Invalid snapshot whose COW was read: figures as printed. */
static void invalid_store(struct resurrect_facts *f, uint64_t size, uint64_t exceptions,
			  uint64_t areas, uint64_t next_free, const char *undo)
{
	f->active = 1;
	f->snap.invalid = 1;
	f->store.read = 1;
	f->store.size = size;
	f->store.chunk = 4096;
	f->store.stats.exceptions = exceptions;
	f->store.stats.areas = areas;
	f->store.stats.next_free = next_free;
	snprintf(f->undo, sizeof(f->undo), "%s", undo);
}

static int has_note(const struct resurrect_plan *p, const char *want)
{
	for (int i = 0; i < p->nnotes; i++)
		if (!strcmp(p->notes[i], want))
			return 1;
	fprintf(stderr, "no note '%s'\n", want);
	return 0;
}

static void test_parser(void)
{
	const char *fields = LVS_FIELDS;
	struct lvrow r;
	char why[128];
	int commas = 0;

	for (const char *q = fields; *q; q++)
		commas += *q == ',';
	CHECK_EQ(commas + 1, LVS_NFIELDS);
	/* the fixtures were recorded with these fields (lvs_rows) */
	CHECK(file_has("tests/vm/lib.sh", fields));
	r = row("sparse-invalid.txt", "virt_vorigin");
	CHECK(same(r.attr, "ori-a-s---"));
	CHECK(same(r.segtype, "zero"));
	CHECK_EQ(r.size, 64 * MiB);
	r = row("sparse-invalid.txt", "virt");
	CHECK(same(r.origin, "virt_vorigin")); /* brackets of the hidden LV gone */
	CHECK_EQ(r.size, 16 * MiB);
	CHECK_EQ(r.origin_size, 64 * MiB);
	CHECK_EQ(r.chunk, 4096);
	CHECK_EQ(r.extent, 4 * MiB);
	CHECK_EQ(r.vg_free, 108 * MiB);
	CHECK(r.data_pct == 100.0);
	r = row("thin-data-full.txt", "lvol1");
	CHECK(same(r.health, "out_of_data"));
	CHECK_EQ(r.meta_size, 4 * MiB);
	CHECK(r.meta_pct == 11.13);
	CHECK(lvrow_parse("  virt|vg|swi-I-s---|16777216\n", &r, why, sizeof(why)) < 0);
	CHECK(same(why, "unexpected lvs output (4 fields)"));
	CHECK(lvrow_parse("a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p", &r, why, sizeof(why)) < 0);
	CHECK_EQ(resurrect_kind_of(&(struct lvrow){ .attr = "-wi-a-----", .segtype = "linear" },
				   NULL), RESURRECT_UNSUPPORTED);
}

static void test_sparse(void)
{
	struct resurrect_facts f = facts("sparse-invalid.txt", "virt");
	struct resurrect_opts o = opts("virt");
	struct resurrect_plan p;

	CHECK_EQ(f.kind, RESURRECT_SPARSE);
	/* stage by stage: inactive, then active without the COW read */
	o.dry_run = 1;
	CHECK_EQ(resurrect_plan(&f, &o, &p), 0);
	CHECK_EQ(p.verdict, RESURRECT_STOP);
	CHECK_EQ(p.exit_code, EXIT_FAIL);
	CHECK(strstr(p.message, "vg/virt is not active") != NULL);
	o.dry_run = 0;
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_ACTIVATE_FIRST);
	CHECK_EQ(p.nnotes, 1);
	f.active = 1;
	f.snap.invalid = 1;
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_READ_STORE);
	CHECK_EQ(p.nnotes, 2);
	CHECK(same(p.notes[1], "vg-virt: kernel status Invalid"));
	/* figures of /dev/mapper/vg-virt-cow as the recorded run printed them */
	invalid_store(&f, 16 * MiB, 3840, 16, 3857, "snap_resurrect-vg-virt-20261201-214405.undo");
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_GO);
	CHECK(same(p.notes[0], "vg/virt: sparse volume (--virtualsize: its origin virt_vorigin is "
		   "the zero target): everything committed to the COW is recoverable"));
	CHECK(same(p.notes[2], "/dev/mapper/vg-virt-cow: 16.0 MiB, chunk 4.0 KiB, 3840 exceptions "
		   "in 16 metadata areas, next free chunk 3857 (15.1 MiB used), header valid flag "
		   "0, no table errors"));
	/* auto: max(2 x 16 MiB, 15.1 + 64 MiB) = 80 MiB, over LVM's 68 MiB */
	CHECK(same(p.notes[3], "80.0 MiB is more than LVM allows for this origin (68.0 MiB): "
		   "using 68.0 MiB"));
	CHECK_EQ(p.cow_target, 68 * MiB);
	CHECK_EQ(p.cow_lvm_max, 68 * MiB);
	CHECK_EQ(p.exceptions, 3840);
	CHECK(same(p.status, "Invalid"));
	CHECK_EQ(p.numbered, 1);
	CHECK_EQ(p.nsteps, 5);
	CHECK_EQ(p.steps[0].type, STEP_COW_EXTEND);
	CHECK(same(p.steps[0].cmd, "lvextend -L 71303168b vg/virt"));
	CHECK(same(p.steps[0].text, "lvextend -L 71303168b vg/virt    (COW 16.0 MiB -> 68.0 MiB, "
		   "52.9 MiB free after; LVM maximum 68.0 MiB)"));
	CHECK(same(p.steps[0].done, "lvextend -L 71303168b vg/virt (COW 16.0 MiB -> 68.0 MiB)"));
	CHECK_EQ(p.steps[1].type, STEP_DEACTIVATE);
	CHECK(same(p.steps[1].cmd, "lvchange -an vg/virt"));
	CHECK_EQ(p.steps[2].type, STEP_SET_VALID);
	CHECK(same(p.steps[2].text, "mark the COW header valid (4 bytes at offset 4), old header "
		   "chunk saved to ./snap_resurrect-vg-virt-20261201-214405.undo"));
	CHECK_EQ(p.steps[3].type, STEP_ACTIVATE);
	CHECK(same(p.steps[3].text, "lvchange -ay vg/virt and check that the kernel loaded the "
		   "3840 exceptions"));
	CHECK_EQ(p.steps[4].type, STEP_FSCK);
	CHECK(same(p.steps[4].text, "check the filesystem with its own tool (ext2/3/4: e2fsck "
		   "-fy, then -fn; XFS: log replay by a private mount, then xfs_repair -n; btrfs: "
		   "log tree replay, then btrfs check --readonly)"));
	CHECK(strstr(p.message, "vg/virt is valid again; everything the kernel committed") != NULL);
	/* --zero-log is named in the plan; --no-fsck says there is no check */
	o.zero_log = 1;
	resurrect_plan(&f, &o, &p);
	CHECK(strstr(p.steps[4].text, "; --zero-log: xfs_repair -L or btrfs rescue zero-log if a "
		     "mount cannot replay the log") != NULL);
	o.zero_log = 0;
	o.no_fsck = 1;
	resurrect_plan(&f, &o, &p);
	CHECK(same(p.steps[4].text, "no filesystem check (--no-fsck)"));
	o.no_fsck = 0;

	/* --size +8M: 24 MiB, no cap; --size 8M would shrink it */
	o.size_mode = RESURRECT_SIZE_ADD;
	o.size = 8 * MiB;
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.cow_target, 24 * MiB);
	CHECK_EQ(p.nnotes, 3);
	o.size_mode = RESURRECT_SIZE_TO;
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_STOP);
	CHECK(same(p.message, "--size: 8.0 MiB is smaller than the COW (16.0 MiB): it cannot "
		   "shrink"));
	/* --size 16M keeps it as is: fine with 239 chunks free, refused with one
	 * (a next free chunk made up for this) */
	o.size = 16 * MiB;
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_GO);
	CHECK(same(p.steps[0].text, "keep the COW at 16.0 MiB (956.0 KiB free after the table)"));
	f.store.stats.next_free = 4095;
	resurrect_plan(&f, &o, &p);
	CHECK(same(p.message, "a COW of 16.0 MiB leaves no room after the 16.0 MiB in use: the "
		   "snapshot would overflow again at the first write; give a larger --size; "
		   "nothing changed"));
	f.store.stats.next_free = 3857;
	/* the header already valid: no write; an undo file in the way */
	o.size_mode = RESURRECT_SIZE_AUTO;
	f.store.header_valid = 1;
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.steps[2].type, STEP_NONE);
	CHECK(same(p.steps[2].text, "(the header is already marked valid: no write)"));
	f.undo_exists = 1;
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_STOP);
	CHECK(strstr(p.message, "undo file snap_resurrect-vg-virt-") != NULL);
}

static void test_sparse_refusals(void)
{
	struct resurrect_facts f = facts("sparse-invalid.txt", "virt");
	struct resurrect_opts o = opts("virt");
	struct resurrect_plan p;

	invalid_store(&f, 16 * MiB, 3840, 16, 3857, "u");
	f.open_count = 1; /* resurrect-refusals: mounted.txt */
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.exit_code, EXIT_FAIL);
	CHECK(same(p.message, "/dev/mapper/vg-virt is open (1): unmount it and stop what uses it "
		   "first; nothing changed"));
	f.open_count = 0;
	snprintf(f.store.error, sizeof(f.store.error), "the reader's refusal");
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_STOP);
	CHECK(same(p.message, "the reader's refusal"));
	f.snap.merge_failed = 1;
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.exit_code, EXIT_UNSUPPORTED);
	CHECK(strstr(p.message, "merge failed") != NULL);
}

static void test_classic(void)
{
	struct resurrect_facts f = facts("classic-invalid.txt", "snap");
	struct resurrect_opts o = opts("snap");
	struct resurrect_plan p;

	CHECK_EQ(f.kind, RESURRECT_CLASSIC);
	/* figures of /dev/mapper/vg-snap-cow from the run (drift-plan.txt) */
	invalid_store(&f, 4 * MiB, 770, 4, 775, "snap_resurrect-vg-snap-20261201-214429.undo");
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_STOP);
	CHECK_EQ(p.exit_code, EXIT_FAIL);
	CHECK(same(p.message, "refusing a snapshot of a real origin without --accept-origin-drift "
		   "(to get the committed chunks out without changing anything, use snap_extract "
		   "on /dev/mapper/vg-snap-cow); nothing changed"));
	CHECK(same(p.notes[0], "vg/snap: snapshot of vg/origin (a real origin)"));
	CHECK(strncmp(p.notes[2], "warning: after the overflow, writes to the origin vg/origin "
		      "were no longer copied", 80) == 0);
	CHECK_EQ(p.nnotes, 3);

	o.accept_drift = 1;
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_GO);
	CHECK(has_note(&p, "--accept-origin-drift given: going on"));
	CHECK(has_note(&p, "68.0 MiB is more than LVM allows for this origin (36.0 MiB): using "
		       "36.0 MiB"));
	CHECK_EQ(p.cow_target, 36 * MiB);
	CHECK(same(p.steps[0].text, "lvextend -L 37748736b vg/snap    (COW 4.0 MiB -> 36.0 MiB, "
		   "33.0 MiB free after; LVM maximum 36.0 MiB)"));
	CHECK(strstr(p.message, "chunks outside its table come from the origin as it is now"));

	/* the VG filled up (vgfull.txt): refused with the figures */
	f = facts("vg-full.txt", "snap");
	invalid_store(&f, 4 * MiB, 770, 4, 775, "u");
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_STOP);
	CHECK_EQ(p.exit_code, EXIT_FAIL);
	CHECK(same(p.message, "volume group vg has 0 B free, 32.0 MiB needed to grow the COW to "
		   "36.0 MiB: add space (vgextend) or choose a smaller --size; nothing changed"));
	CHECK_EQ(p.nsteps, 0);
}

/* Pool status lines of the run (pool-status*.txt), as dmdev parses them. */
static void pool_status(struct resurrect_facts *f, uint64_t um, uint64_t tm, uint64_t ud,
			uint64_t td, int oods, int ro)
{
	f->pool_status.used_meta = um;
	f->pool_status.total_meta = tm;
	f->pool_status.used_data = ud;
	f->pool_status.total_data = td;
	f->pool_status.out_of_data_space = oods;
	f->pool_status.read_only = ro;
	f->tp.active = 1;
}

static void test_thin(void)
{
	struct resurrect_facts f = facts("thin-data-full.txt", "thin");
	struct resurrect_opts o = opts("thin");
	struct resurrect_plan p;

	CHECK_EQ(f.kind, RESURRECT_THIN);
	/* 0 32768 thin-pool 1 114/1024 256/256 - out_of_data_space ... */
	pool_status(&f, 114, 1024, 256, 256, 1, 0);
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_GO);
	CHECK(same(p.notes[0], "vg/thin: thin volume in pool vg/lvol1: data 256/256 blocks (full), "
		   "metadata 114/1024 blocks, mode out-of-data-space"));
	CHECK(same(p.status, "pool out-of-data-space"));
	CHECK_EQ(p.pool_data_add, 64 * MiB);
	CHECK_EQ(p.pool_meta_add, 0);
	CHECK_EQ(p.numbered, 0);
	CHECK_EQ(p.nsteps, 3);
	CHECK_EQ(p.steps[0].type, STEP_POOL_EXTEND_DATA);
	CHECK(same(p.steps[0].text, "lvextend -L +67108864b vg/lvol1 (pool data 16.0 MiB -> "
		   "80.0 MiB)"));
	CHECK_EQ(p.steps[1].type, STEP_POOL_REACTIVATE);
	CHECK_EQ(p.steps[2].type, STEP_THIN_VOLUMES);
	CHECK(same(p.steps[2].text, "every thin volume of vg/lvol1: its state and, if not in "
		   "use and ext2/3/4: e2fsck -fy, then e2fsck -fn (an inactive one is activated "
		   "for it and deactivated again)"));
	CHECK(same(p.message, "vg/thin is writable again"));

	/* --size +200M is more than the VG's 132 MiB */
	o.size_mode = RESURRECT_SIZE_ADD;
	o.size = 200 * MiB;
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_STOP);
	CHECK(same(p.message, "volume group vg has 132.0 MiB free, 200.0 MiB needed (data +200.0 "
		   "MiB, metadata +0 B, spare metadata LV 0 B): add a physical volume of at least "
		   "68.0 MiB (pvcreate /dev/NEW && vgextend vg /dev/NEW); nothing changed"));

	/* metadata full (resurrect-thin-meta, pool-status.txt):
	 * 0 2867200 thin-pool 9 512/512 16057/22400 - ro ... */
	f = facts("thin-meta-full.txt", "vol");
	o = opts("vol");
	pool_status(&f, 512, 512, 16057, 22400, 0, 1);
	f.tp.meta_read = 1;
	f.tp.kernel_tid = f.tp.lvm_tid = 9;
	f.tp.check_run = 1;
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_GO);
	CHECK(same(p.notes[0], "vg/vol: thin volume in pool vg/pool: data 16057/22400 blocks, "
		   "metadata 512/512 blocks (full), mode read-only"));
	CHECK(same(p.notes[2], "thin_check on a copy of the metadata: exit 0 (no errors)"));
	CHECK_EQ(p.pool_data_add, 0);
	CHECK_EQ(p.pool_meta_add, 4 * MiB); /* max(2 MiB _tmeta, 4 MiB) */
	CHECK_EQ(p.nsteps, 3);
	CHECK_EQ(p.steps[0].type, STEP_POOL_EXTEND_META);
	CHECK(same(p.steps[0].cmd, "lvextend --poolmetadatasize +4194304b vg/pool"));
	CHECK_EQ(p.steps[1].type, STEP_POOL_REACTIVATE);
	CHECK_EQ(p.steps[2].type, STEP_THIN_VOLUMES);

	/* both full (the same row, its data at 22400/22400 too): both grow;
	 * by the pool's size (1400 MiB) that is more than the VG's 95 MiB,
	 * so --size +64M */
	pool_status(&f, 512, 512, 22400, 22400, 1, 1);
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_STOP);
	CHECK(strstr(p.message, "volume group vg has 95.0 MiB free, 1.4 GiB needed (data +1.4 "
		     "GiB, metadata +4.0 MiB") != NULL);
	o.size_mode = RESURRECT_SIZE_ADD;
	o.size = 64 * MiB;
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_GO);
	CHECK(same(p.notes[0], "vg/vol: thin volume in pool vg/pool: data 22400/22400 blocks "
		   "(full), metadata 512/512 blocks (full), mode read-only"));
	CHECK_EQ(p.pool_data_add, 64 * MiB);
	CHECK_EQ(p.pool_meta_add, 4 * MiB);
	CHECK_EQ(p.steps[0].type, STEP_POOL_EXTEND_DATA);
	CHECK_EQ(p.steps[1].type, STEP_POOL_EXTEND_META);

	/* the kernel failed the pool (status "Fail"), its metadata clean: no
	 * extension, deactivate and activate */
	o.size_mode = RESURRECT_SIZE_AUTO;
	pool_status(&f, 400, 512, 16057, 22400, 0, 1);
	f.pool_status.fail = 1;
	f.pool.meta_pct = 78.13;
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_GO);
	CHECK(same(p.status, "pool failed"));
	CHECK_EQ(p.pool_data_add, 0);
	CHECK_EQ(p.nsteps, 3);
	CHECK_EQ(p.steps[0].type, STEP_THIN_DEACTIVATE);
	CHECK_EQ(p.steps[1].type, STEP_THIN_ACTIVATE);
}

/* A pool as resurrect_classify_pool() sees it: the thin volumes LVM lists. */
static void pool_lvs(struct resurrect_facts *f, const char *a, uint64_t ida, const char *b,
		     uint64_t idb)
{
	snprintf(f->tp.lvs[0].name, sizeof(f->tp.lvs[0].name), "%s", a);
	f->tp.lvs[0].id = ida;
	f->tp.lvs[0].in_pool = 1;
	f->tp.nlvs = 1;
	if (b) {
		snprintf(f->tp.lvs[1].name, sizeof(f->tp.lvs[1].name), "%s", b);
		f->tp.lvs[1].id = idb;
		f->tp.lvs[1].in_pool = 1;
		f->tp.nlvs = 2;
	}
	f->tp.tmeta_size = f->tp.spare_size = 4 * MiB;
}

/* resurrect-thin-repair: damaged metadata, the pool active read-only with
 * needs_check (pool-status-damaged.txt), then refused by thin_check. */
static void test_thin_repair(void)
{
	struct resurrect_facts f = facts("thin-needs-check.txt", "thin");
	struct resurrect_opts o = opts("thin");
	struct resurrect_plan p;

	/* 0 131072 thin-pool 2 115/1024 526/1024 - ro ... needs_check */
	pool_status(&f, 115, 1024, 526, 1024, 0, 1);
	f.pool_status.needs_check = f.tp.needs_check = 1;
	pool_lvs(&f, "scratch", 2, "thin", 1);
	f.tp.meta_read = f.tp.check_run = f.tp.check_status = 1;
	f.tp.kernel_tid = f.tp.lvm_tid = 2;
	f.tp.damaged = 1;
	f.tp.lvs[0].mapped_blocks = 384;
	snprintf(f.tp.lvs[0].lost, sizeof(f.tp.lvs[0].lost), "virtual blocks 0..188 (of 128 "
		 "sectors), metadata block 68: checksum ...");
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_GO);
	CHECK(same(p.notes[0], "vg/thin: thin volume in pool vg/pool: data 526/1024 blocks, "
		   "metadata 115/1024 blocks, mode read-only, needs_check"));
	CHECK(has_note(&p, "vg/scratch (device 2, 384 blocks mapped per the pool): the mappings "
		       "of virtual blocks 0..188 (of 128 sectors), metadata block 68: checksum ... "
		       "are unreadable: a repair drops them"));
	CHECK_EQ(p.pool_spare_add, 4 * MiB); /* the spare is there: a new one after */
	CHECK_EQ(p.nsteps, 4);
	CHECK_EQ(p.steps[0].type, STEP_THIN_DEACTIVATE);
	CHECK_EQ(p.steps[1].type, STEP_POOL_REPAIR);
	CHECK(same(p.steps[1].text, "lvconvert --repair vg/pool: thin_repair writes new metadata "
		   "into the spare; the old one is kept as vg/pool_meta0 (never removed by this "
		   "tool)"));
	CHECK_EQ(p.steps[2].type, STEP_THIN_ACTIVATE);
	CHECK_EQ(p.steps[3].type, STEP_THIN_VOLUMES);
	/* the same volume in use: refused */
	snprintf(f.tp.open_lvs, sizeof(f.tp.open_lvs), "vg/thin (open 1)");
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_STOP);
	CHECK(same(p.message, "the pool must be deactivated, but its thin volumes are in use: "
		   "vg/thin (open 1); unmount them and stop what uses them first; nothing changed"));
	f.tp.open_lvs[0] = '\0';
	/* an earlier repair's POOL_meta0 in the way */
	f.tp.meta0_exists = 1;
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_STOP);
	CHECK(strstr(p.message, "vg/pool_meta0 exists") != NULL);
	f.tp.meta0_exists = 0;

	/* after the reboot (lvs-refused.txt): the pool is not active */
	f = facts("thin-check-failed.txt", "thin");
	pool_lvs(&f, "scratch", 2, "thin", 1);
	f.tp.meta_read = f.tp.check_run = f.tp.check_status = 1;
	f.tp.kernel_tid = f.tp.lvm_tid = 2;
	f.tp.needs_check = 1;
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_GO);
	CHECK(same(p.notes[0], "vg/thin: thin volume in pool vg/pool, which is not active"));
	CHECK(same(p.status, "pool inactive"));
	CHECK_EQ(p.steps[1].type, STEP_POOL_REPAIR);
	/* no room for a new spare: 84 MiB free in the run, say 2 MiB */
	f.pool.vg_free = 2 * MiB;
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_STOP);
	CHECK(same(p.message, "volume group vg has 2.0 MiB free, 4.0 MiB needed (data +0 B, "
		   "metadata +0 B, spare metadata LV 4.0 MiB): add a physical volume of at least "
		   "2.0 MiB (pvcreate /dev/NEW && vgextend vg /dev/NEW); nothing changed"));
	/* needs_check set, thin_check clean: deactivate, activate, no repair */
	f.pool.vg_free = 84 * MiB;
	f.tp.check_status = 0;
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.nsteps, 3);
	CHECK_EQ(p.steps[1].type, STEP_THIN_ACTIVATE);
	CHECK_EQ(p.pool_spare_add, 0);
}

/* resurrect-thin-txid A: an old VG backup restored, LVM's id 1, the pool's
 * 2, device 2 named by no LV; B: no room (lvs-noroom.txt). */
static void test_thin_txid(void)
{
	struct resurrect_facts f = facts("thin-txid.txt", "thin");
	struct resurrect_opts o = opts("thin");
	struct resurrect_plan p;

	pool_lvs(&f, "thin", 1, NULL, 0);
	f.tp.meta_read = f.tp.check_run = 1;
	f.tp.lvm_tid = 1;
	f.tp.kernel_tid = 2;
	f.tp.orphans[0] = 2;
	f.tp.norphans = 1;
	snprintf(f.txid_backup, sizeof(f.txid_backup), "snap_resurrect-vg-pool-20261201-231036.vg");
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_STOP);
	CHECK_EQ(p.exit_code, EXIT_FAIL);
	CHECK(has_note(&p, "the pool holds device 2, which no LV names: get it out with "
		       "snap_extract --thin-meta --thin-data --thin-id 2"));
	CHECK(has_note(&p, "transaction id mismatch: LVM's metadata says 1, the pool's superblock "
		       "2: LVM refuses to activate the pool"));
	CHECK(strstr(p.message, "run again with --fix-transaction-id; nothing changed") != NULL);
	o.fix_txid = 1;
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_GO);
	CHECK_EQ(p.nsteps, 4);
	CHECK_EQ(p.steps[1].type, STEP_POOL_FIX_TXID);
	CHECK(same(p.steps[1].text, "LVM's transaction_id of vg/pool 1 -> 2 (the pool's): "
		   "vgcfgbackup to ./snap_resurrect-vg-pool-20261201-231036.vg first, then "
		   "vgcfgrestore --force of the edited copy"));
	/* an LV whose device the pool does not have: never */
	f.tp.lvs[0].in_pool = 0;
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_STOP);
	CHECK(strstr(p.message, "LVM lists thin volumes the pool does not have (vg/thin)") != NULL);

	/* B: 0 32768 thin-pool 1 114/1024 256/256 - out_of_data_space ...
	 * queue_if_no_space, vg_free 0 */
	f = facts("thin-noroom.txt", "thin");
	o = opts("thin");
	snprintf(o.vg, sizeof(o.vg), "vg2");
	pool_status(&f, 114, 1024, 256, 256, 1, 0);
	f.pool_status.queue_if_no_space = 1;
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_STOP);
	CHECK(has_note(&p, "writes to the pool's volumes are queued (queue_if_no_space): what "
		       "writes to them hangs until the pool grows or dm_thin_pool's "
		       "no_space_timeout (60 s by default) fails the writes; growing the pool "
		       "releases them"));
	CHECK(same(p.message, "volume group vg2 has 0 B free, 64.0 MiB needed (data +64.0 MiB, "
		   "metadata +0 B, spare metadata LV 0 B): add a physical volume of at least 64.0 "
		   "MiB (pvcreate /dev/NEW && vgextend vg2 /dev/NEW); to fail the queued writes now "
		   "instead: lvchange --errorwhenfull y vg2/lvol1; nothing changed"));
}

static void test_nothing_to_do(void)
{
	struct resurrect_facts f = facts("sparse-valid.txt", "virt");
	struct resurrect_opts o = opts("virt");
	struct resurrect_plan p;

	/* resurrect-sparse, again.json: status 32912/139264 144 */
	f.active = 1;
	f.snap.used_sectors = 32912;
	f.snap.total_sectors = 139264;
	f.snap.metadata_sectors = 144;
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_STOP);
	CHECK_EQ(p.exit_code, EXIT_OK);
	CHECK(same(p.message, "vg/virt is a valid snapshot (status 32912/139264 144): nothing to "
		   "do"));
	CHECK(same(p.status, "32912/139264 144"));

	/* resurrect-thin, again.json: data 273/1280, metadata 114/1024, rw */
	f = facts("thin-room.txt", "thin");
	o = opts("thin");
	pool_status(&f, 114, 1024, 273, 1280, 0, 0);
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.verdict, RESURRECT_STOP);
	CHECK_EQ(p.exit_code, EXIT_OK);
	CHECK(same(p.message, "the pool of vg/thin has room and is writable: nothing to do"));
	CHECK(same(p.notes[0], "vg/thin: thin volume in pool vg/lvol1: data 273/1280 blocks, "
		   "metadata 114/1024 blocks, mode read-write"));
	CHECK(same(p.status, "pool read-write"));
}

static void test_unsupported(void)
{
	struct resurrect_facts f = facts("classic-invalid.txt", "origin");
	struct resurrect_opts o = opts("origin");
	struct resurrect_plan p;

	CHECK_EQ(f.kind, RESURRECT_UNSUPPORTED);
	resurrect_plan(&f, &o, &p);
	CHECK_EQ(p.exit_code, EXIT_UNSUPPORTED);
	/* resurrect-refusals: linear.txt */
	CHECK(same(p.message, "vg/origin is a 'linear' volume (attributes owi-a-s---): neither a "
		   "snapshot, a sparse volume nor a thin volume; this tool only brings those back; "
		   "nothing changed"));
	CHECK(same(resurrect_kind_name(f.kind), "unsupported"));
}

int main(void)
{
	test_parser();
	test_sparse();
	test_sparse_refusals();
	test_classic();
	test_thin();
	test_thin_repair();
	test_thin_txid();
	test_nothing_to_do();
	test_unsupported();
	return unit_done("resurrect_plan");
}
