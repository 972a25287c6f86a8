/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"
#include "xfsdb.h"

int xfsdb_run(const char *image, const char *cmds, checker_line_fn fn, void *data,
	      char **errors, char *why, size_t len)
{
	const char *prog = checker_locate("xfs_db", why, len);
	char *argv[] = { (char *)prog, "-r", (char *)image, NULL }, *err = NULL;
	int in, st;

	if (!prog)
		return -ENOENT;
	in = checker_stdin_text(cmds);
	if (in < 0) {
		snprintf(why, len, "cannot make xfs_db's command list: %s", strerror(-in));
		return in;
	}
	st = checker_run_lines(argv, in, fn, data, &err);
	close(in);
	if (st < 0)
		snprintf(why, len, "cannot run %s: %s", prog, strerror(-st));
	if (errors)
		*errors = err;
	else
		free(err);
	return st;
}

int xfsdb_field(char *line, char **key, char **value)
{
	char *eq = strstr(line, " = "), *end;

	if (!eq)
		return 0;
	*eq = '\0';
	*key = line + strspn(line, " \t");
	*value = eq + 3;
	end = *value + strlen(*value);
	while (end > *value && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return 1;
}

static int u64_of(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || end == s ? -1 : 0;
}

static int geometry_line(void *data, char *line)
{
	struct xfs_geometry *g = data;
	static const struct {
		const char *key;
		size_t off;
	} u64s[] = {
#define F(k) { #k, offsetof(struct xfs_geometry, k) }
		F(dblocks), F(agblocks), F(agcount), F(logstart), F(logblocks), F(icount),
		F(ifree), F(fdblocks), F(inprogress), F(rootino), F(rbmino), F(rsumino),
		F(uquotino), F(gquotino), F(pquotino),
#undef F
		{ "agblklog", offsetof(struct xfs_geometry, agblklog) },
	};
	char *key, *val;
	uint64_t v;

	if (!strncmp(line, "versionnum [", 12) && strstr(line, "] = ")) {
		snprintf(g->versions, sizeof(g->versions), "%s", strstr(line, "] = ") + 4);
		return 0;
	}
	if (!xfsdb_field(line, &key, &val))
		return 0;
	if (!strcmp(key, "magicnum"))
		g->have_magic = !strcmp(val, "0x58465342");
	else if (!strcmp(key, "crc"))
		g->crc = strstr(val, "(correct)") ? 1 : 0;
	else if (!strcmp(key, "uuid"))
		snprintf(g->uuid, sizeof(g->uuid), "%s", val);
	else if (!strcmp(key, "fname"))
		snprintf(g->label, sizeof(g->label), "%s", val);
	else if (u64_of(val, &v) == 0 && !strcmp(key, "blocksize"))
		g->blocksize = (unsigned int)v;
	else if (u64_of(val, &v) == 0 && !strcmp(key, "sectsize"))
		g->sectsize = (unsigned int)v;
	else if (u64_of(val, &v) == 0 && !strcmp(key, "inodesize"))
		g->inodesize = (unsigned int)v;
	else
		for (size_t i = 0; i < sizeof(u64s) / sizeof(u64s[0]); i++)
			if (!strcmp(key, u64s[i].key) && u64_of(val, &v) == 0)
				*(uint64_t *)((char *)g + u64s[i].off) = v;
	return 0;
}

int xfsdb_geometry(const char *image, struct xfs_geometry *g, char *why, size_t len)
{
	char *errors = NULL;
	int st;

	memset(g, 0, sizeof(*g));
	g->crc = -1;
	st = xfsdb_run(image, "sb 0\nprint\nversion\n", geometry_line, g, &errors, why, len);
	if (st < 0 || st == 127) {
		if (st == 127 && errors)
			errors[strcspn(errors, "\n")] = '\0';
		if (st == 127) {
			const char *e = errors ? errors : "";
			size_t pl = strlen(program_name);

			if (!strncmp(e, program_name, pl) && !strncmp(e + pl, ": ", 2))
				e += pl + 2; /* the child's own "<tool>: cannot run ..." */
			snprintf(why, len, "%s", e[0] ? e : "xfs_db could not be run");
		}
		free(errors);
		return -2;
	}
	if (!g->have_magic || !g->blocksize || !g->agblocks || !g->agcount || !g->dblocks ||
	    g->agblklog > 31 || (1ULL << g->agblklog) < g->agblocks) {
		if (errors)
			errors[strcspn(errors, "\n")] = '\0';
		snprintf(why, len, "xfs_db cannot read the primary superblock%s%s",
			 errors && errors[0] ? ": " : "", errors ? errors : "");
		free(errors);
		return -1;
	}
	free(errors);
	if (!g->sectsize)
		g->sectsize = 512;
	return 0;
}

uint64_t xfs_agb_to_block(const struct xfs_geometry *g, uint64_t agno, uint64_t agbno)
{
	return agno * g->agblocks + agbno;
}

uint64_t xfs_fsb_to_byte(const struct xfs_geometry *g, uint64_t fsb)
{
	uint64_t mask = (1ULL << g->agblklog) - 1;

	return xfs_agb_to_block(g, fsb >> g->agblklog, fsb & mask) * g->blocksize;
}

struct logstate {
	int state;
	uint64_t tail, head;
};

static int logprint_line(void *data, char *line)
{
	struct logstate *l = data;
	unsigned long long tail, head;
	char state[16];

	if (sscanf(line, " log tail: %llu head: %llu state: <%15[A-Z]>", &tail, &head, state) != 3)
		return 0;
	l->tail = tail;
	l->head = head;
	l->state = !strcmp(state, "CLEAN") ? 0 : !strcmp(state, "DIRTY") ? 1 : -1;
	return 1; /* the rest is the log's contents */
}

int xfs_log_state(const char *image, uint64_t *tail, uint64_t *head, char *why, size_t len)
{
	const char *prog = checker_locate("xfs_logprint", why, len);
	char *argv[] = { (char *)prog, "-t", (char *)image, NULL }, *errors = NULL;
	struct logstate l = { .state = -1 };
	int st;

	if (!prog)
		return -2;
	st = checker_run_lines(argv, -1, logprint_line, &l, &errors);
	if (st < 0) {
		snprintf(why, len, "cannot run %s: %s", prog, strerror(-st));
	} else if (l.state < 0) {
		errors[strcspn(errors, "\n")] = 0;
		snprintf(why, len, "xfs_logprint finds no head and tail (exit %d%s%s)", st,
			 errors[0] ? ": " : "", errors);
	}
	free(errors);
	*tail = l.tail;
	*head = l.head;
	return l.state;
}
