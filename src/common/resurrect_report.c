/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snap_resurrect's output: progress lines, the plan and the report (human
 * or JSON through json-c), see resurrect.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "resurrect.h"

void resurrect_report_init(struct resurrect_report *r, const struct resurrect_opts *opts)
{
	memset(r, 0, sizeof(*r));
	r->opts = opts;
}

void resurrect_say(const struct resurrect_report *r, const char *fmt, ...)
{
	FILE *f = r->opts->json ? stderr : stdout;
	va_list ap;

	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
}

void resurrect_action(struct resurrect_report *r, const char *fmt, ...)
{
	char *line;
	va_list ap;

	if (r->nactions >= RESURRECT_MAX_ACTIONS)
		return;
	line = r->actions[r->nactions++];
	va_start(ap, fmt);
	vsnprintf(line, sizeof(r->actions[0]), fmt, ap);
	va_end(ap);
	if (!r->opts->json)
		printf("  done: %s\n", line);
	fflush(stdout);
}

int resurrect_result(struct resurrect_report *r, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->result, sizeof(r->result), fmt, ap);
	va_end(ap);
	r->code = code;
	return -1;
}

void resurrect_print_plan(const struct resurrect_report *r, const struct resurrect_plan *p)
{
	resurrect_say(r, "plan:");
	for (int i = 0; i < p->nsteps; i++) {
		if (p->numbered)
			resurrect_say(r, "  %d. %s", i + 1, p->steps[i].text);
		else
			resurrect_say(r, "  - %s", p->steps[i].text);
	}
}

/* One step of the filesystem check: program, args, exit and its meaning
 * (the step's result without "exit N (...)"). */
static json_object *fsck_pass(const struct devcheck_step *s)
{
	json_object *o = json_object_new_object();
	const char *words = s->result, *open = strchr(words, '(');
	size_t n = strlen(words);

	if (!strncmp(words, "exit ", 5) && open && n && words[n - 1] == ')') {
		words = open + 1;
		n = strlen(words) - 1;
	}
	json_object_object_add(o, "program", json_object_new_string(s->program));
	json_object_object_add(o, "args", json_object_new_string(s->args));
	json_object_object_add(o, "exit", json_object_new_int(s->status));
	json_object_object_add(o, "meaning", json_object_new_string_len(words, (int)n));
	return o;
}

static void print_json(const struct resurrect_report *r)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();

	json_object_object_add(o, "vg", json_object_new_string(r->opts->vg));
	json_object_object_add(o, "lv", json_object_new_string(r->opts->lv));
	json_object_object_add(o, "kind", json_object_new_string(r->kind ? r->kind : "unknown"));
	json_object_object_add(o, "dry_run", json_object_new_boolean(r->opts->dry_run));
	for (int i = 0; i < r->nactions; i++)
		json_object_array_add(a, json_object_new_string(r->actions[i]));
	json_object_object_add(o, "actions", a);
	json_object_object_add(o, "exceptions", json_object_new_uint64(r->exceptions));
	json_object_object_add(o, "exceptions_loaded", json_object_new_uint64(r->loaded));
	json_object_object_add(o, "status", json_object_new_string(r->status));
	a = NULL;
	if (r->fsck_done) {
		a = json_object_new_array();
		for (int i = 0; i < r->check.nsteps; i++)
			json_object_array_add(a, fsck_pass(&r->check.steps[i]));
	}
	json_object_object_add(o, "filesystem", r->check.type[0] ?
			       json_object_new_string(r->check.type) : NULL);
	json_object_object_add(o, "fsck", a);
	json_object_object_add(o, "undo_command",
			       r->undo_cmd[0] ? json_object_new_string(r->undo_cmd) : NULL);
	json_object_object_add(o, "result", json_object_new_string(r->result));
	json_object_object_add(o, "exit", json_object_new_int(r->code));
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						      JSON_C_TO_STRING_SPACED |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void print_human(const struct resurrect_report *r)
{
	char summary[1200];

	if (r->nactions || r->fsck_done || r->undo_cmd[0]) {
		printf("\nreport for %s/%s (%s volume):\n", r->opts->vg, r->opts->lv,
		       r->kind ? r->kind : "unknown");
		for (int i = 0; i < r->nactions; i++)
			printf("  %d. %s\n", i + 1, r->actions[i]);
		if (r->exceptions)
			printf("  exceptions in the table: %llu; loaded by the kernel: %llu\n",
			       (unsigned long long)r->exceptions, (unsigned long long)r->loaded);
		if (r->status[0])
			printf("  status: %s\n", r->status);
		if (r->fsck_done)
			printf("  %s\n", devcheck_summary(&r->check, summary, sizeof(summary)));
		if (r->undo_cmd[0])
			printf("  to undo %s (unmount first): %s\n",
			       r->undo_what ? r->undo_what : "the header change", r->undo_cmd);
	}
	if (r->code)
		fprintf(stderr, "%s: %s\n", program_name, r->result);
	else
		printf("%s\n", r->result);
}

void resurrect_print_report(const struct resurrect_report *r)
{
	if (r->opts->json)
		print_json(r);
	else
		print_human(r);
	fflush(stdout);
}
