/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snap_resurrect: bring an overflowed LVM snapshot or sparse volume, or a
 * thin volume whose pool ran out of space, back in one command.  LVM is
 * read and changed through liblvm2cmd (src/common/lvm.c), the live
 * device-mapper tables and status through libdevmapper, the COW header is
 * rewritten with libsnapcow (undo file first), the filesystem's own checker
 * runs as a child (src/common/devcheck.c).
 *
 * This file is the options; the work is src/common/resurrect*.c:
 *   classify -> plan (a pure function) -> execute -> report.
 * For a snapshot the plan is: check the COW table -> lvextend -> lvchange
 * -an -> set the header valid on a temporary dm device over the COW's
 * extents -> lvchange -ay -> confirm the status -> check the filesystem
 * (e2fsck -fy, -fn; XFS: log replay by a private mount, xfs_repair -n;
 * btrfs: log tree replay, btrfs check --readonly).
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dmdev.h"
#include "lvm.h"
#include "resurrect.h"
#include "tool.h"

static void __attribute__((noreturn)) usage(void)
{
	printf("Usage:\n"
	       " %s [options] VG/LV\n"
	       "\n"
	       "Bring an overflowed LVM snapshot or sparse (--virtualsize) volume, or a thin\n"
	       "volume whose pool ran out of space, failed or will not activate (needs_check,\n"
	       "damaged metadata, a transaction id mismatch), back to a valid, checked state.\n"
	       "\n"
	       "Options:\n"
	       " -n, --dry-run              print the plan, change nothing\n"
	       "     --size +N|N            grow the COW (or pool data) by N, or to N\n"
	       "     --auto                 choose the size (default)\n"
	       "     --no-fsck              do not check the filesystem afterwards\n"
	       "     --zero-log             XFS, btrfs: if a mount cannot replay the log,\n"
	       "                            destroy it (xfs_repair -L, btrfs rescue zero-log):\n"
	       "                            the changes in it are lost\n"
	       "     --accept-origin-drift  resurrect a snapshot of a real origin anyway\n"
	       "     --fix-transaction-id   set LVM's transaction id of a thin pool to the\n"
	       "                            pool's own (VG metadata saved first)\n"
	       " -f, --format human|json    report format (default human)\n"
	       " -y, --yes                  do not ask for confirmation\n"
	       " -h, --help                 display this help\n"
	       " -V, --version              display version\n"
	       "\n"
	       "Exit status: 0 done or nothing to do, 1 failure or refused, 2 unsupported.\n",
	       program_name);
	exit(EXIT_OK);
}

static int valid_name(const char *s)
{
	if (!*s || strlen(s) >= 128 || s[0] == '-')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("+_.-", *s))
			return 0;
	return 1;
}

/* VG/LV or /dev/VG/LV into o->vg, o->lv, or a usage error. */
static void parse_volume(const char *arg, struct resurrect_opts *o)
{
	const char *p = arg, *slash;

	if (!strncmp(p, "/dev/", 5))
		p += 5;
	slash = strchr(p, '/');
	if (slash && (size_t)(slash - p) < sizeof(o->vg)) {
		memcpy(o->vg, p, (size_t)(slash - p));
		o->vg[slash - p] = '\0';
		snprintf(o->lv, sizeof(o->lv), "%s", slash + 1);
	}
	if (!slash || !valid_name(o->vg) || !valid_name(o->lv)) {
		warnx("%s: not a logical volume name: expected VG/LV (or /dev/VG/LV)", arg);
		try_help(EXIT_FAIL);
	}
}

static void parse_size_option(const char *arg, struct resurrect_opts *o)
{
	int add = arg[0] == '+';

	o->size_mode = add ? RESURRECT_SIZE_ADD : RESURRECT_SIZE_TO;
	if (parse_size(arg + add, &o->size) < 0 || !o->size) {
		warnx("invalid --size '%s': expected +N or N, e.g. +64M or 1G", arg);
		try_help(EXIT_FAIL);
	}
}

static void parse_options(int argc, char **argv, struct resurrect_opts *o)
{
	enum { OPT_SIZE = 256, OPT_AUTO, OPT_NO_FSCK, OPT_DRIFT, OPT_ZERO_LOG, OPT_TXID };
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "size", required_argument, NULL, OPT_SIZE },
		{ "auto", no_argument, NULL, OPT_AUTO },
		{ "no-fsck", no_argument, NULL, OPT_NO_FSCK },
		{ "zero-log", no_argument, NULL, OPT_ZERO_LOG },
		{ "accept-origin-drift", no_argument, NULL, OPT_DRIFT },
		{ "fix-transaction-id", no_argument, NULL, OPT_TXID },
		{ "format", required_argument, NULL, 'f' },
		{ "yes", no_argument, NULL, 'y' },
		TOOL_STD_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	static const char *const formats[] = { "human", "json", NULL };
	int c;

	while ((c = getopt_long(argc, argv, "nf:yhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->dry_run = 1;
			break;
		case OPT_SIZE:
			parse_size_option(optarg, o);
			break;
		case OPT_AUTO:
			o->size_mode = RESURRECT_SIZE_AUTO;
			break;
		case OPT_NO_FSCK:
			o->no_fsck = 1;
			break;
		case OPT_DRIFT:
			o->accept_drift = 1;
			break;
		case OPT_ZERO_LOG:
			o->zero_log = 1;
			break;
		case OPT_TXID:
			o->fix_txid = 1;
			break;
		case 'f':
			o->json = parse_format(optarg, formats, EXIT_FAIL) == 1;
			break;
		case 'y':
			o->yes = 1;
			break;
		default:
			tool_std_option(c, usage, EXIT_FAIL);
		}
	}
	parse_volume(one_operand(argc, argv, optind, "volume (VG/LV)", EXIT_FAIL), o);
}

int main(int argc, char **argv)
{
	struct resurrect_opts o = { .size_mode = RESURRECT_SIZE_AUTO };
	struct resurrect_ctx c = { .opts = &o };
	int no_udev, code;
	char why[256];

	tool_init(argv[0]);
	setvbuf(stdout, NULL, _IOLBF, 0); /* keep order with stderr */
	parse_options(argc, argv, &o);

	no_udev = access("/run/udev/control", F_OK) != 0;
	dmdev_init(no_udev);
	if (dmdev_available(why, sizeof(why)) < 0)
		errx(EXIT_FAIL, "device-mapper is not available: %s", why);
	if (lvm_open(!o.json, &c.lvm) < 0)
		errx(EXIT_FAIL, "cannot initialise liblvm2cmd (are you root?)");
	/* liblvm2cmd set libdevmapper's log function: ours again */
	dmdev_init(no_udev);

	code = resurrect_run(&c);
	resurrect_print_report(&c.report);
	resurrect_ctx_release(&c);
	lvm_close(c.lvm);
	return code;
}
