/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsprobe.h"

#include "fsview.h"

void fsview_init(struct fsview *fv, int usage_code, int fail_code)
{
	memset(fv, 0, sizeof(*fv));
	fv->usage_code = usage_code;
	fv->fail_code = fail_code;
	fv->vs.origin_fd = -1;
	fv->vo.invalid_is_warning = 1;
	fv->format = FSVIEW_HUMAN;
}

int fsview_getopt(struct fsview *fv, int argc, char **argv, const char *shortopts,
		  const struct option *longopts, void (*usage)(void))
{
	static const char *const formats[] = { "human", "json", NULL };
	int c;

	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (viewopt_parse(&fv->vo, c, optarg, fv->usage_code) ||
		    tool_threads_option(c, optarg, fv->usage_code))
			continue;
		if (c == 'f') {
			fv->format = parse_format(optarg, formats, fv->usage_code) == 1 ?
					     FSVIEW_JSON : FSVIEW_HUMAN;
			continue;
		}
		if (c == 'h' || c == 'V' || c == '?' || c == ':')
			tool_std_option(c, usage, fv->usage_code);
		return c;
	}
	return -1;
}

void fsview_open(struct fsview *fv, int argc, char **argv, const char *verb)
{
	int pr;

	fv->store = viewopt_operand(&fv->vo, argc, argv, optind, fv->usage_code);
	viewopt_check(&fv->vo, fv->store, fv->usage_code);
	viewopt_open(&fv->vo, fv->store, &fv->vs, fv->fail_code);
	if (fv->vs.thin)
		fv->store = fv->vs.thin_name;
	pr = ext2view_probe(fv->vs.view, fv->type, sizeof(fv->type));
	if (pr < 0)
		errx(fv->fail_code, "%s: cannot probe the snapshot view: %s", fv->store,
		     strerror(-pr));
	if (pr == 2)
		errx(EXIT_UNSUPPORTED, "%s: libblkid finds several filesystem signatures on the "
		     "snapshot view: not %s an ambiguous device", fv->store, verb);
	fv->probed = pr;
	fv->family = pr == 1 ? fs_family_of(fv->type) : FS_EXT2;
	if (fv->family == FS_OTHER)
		errx(EXIT_UNSUPPORTED, "unsupported filesystem: %s", fv->type);
	if (fv->family != FS_EXT2)
		return; /* read by the filesystem's own tools */
	add_error_table(&et_ext2_error_table);
	ext2view_open_or_exit(fv->vs.view, fv->store, pr, fv->fail_code, &fv->fs);
}

void fsview_close(struct fsview *fv)
{
	if (fv->fs)
		ext2fs_close_free(&fv->fs);
	viewset_close(&fv->vs);
}

static uint64_t exceptions(const struct fsview *fv)
{
	return snapcow_map_count(snapcow_view_map(fv->vs.view));
}

void fsview_print_store(const struct fsview *fv, int width)
{
	const struct thin_volume *tv = fv->vs.thin;

	if (tv) {
		printf("%-*s%s, %" PRIu64 " mapped blocks of %" PRIu32 " bytes%s", width, "thin:",
		       fv->store, tv->map.mapped, tv->block_bytes,
		       tv->nlost ? ", PARTIAL: " : "\n");
		if (tv->nlost)
			printf("%" PRIu64 " blocks in %zu range%s could not be mapped\n",
			       tv->lost_blocks, tv->nlost, tv->nlost == 1 ? "" : "s");
		return;
	}
	printf("%-*s%s, %" PRIu64 " exceptions, %" PRIu32 "-byte chunks%s\n", width, "store:",
	       fv->store, exceptions(fv), fv->vs.chunk_bytes,
	       fv->vs.invalid ? ", marked invalid" : "");
}

json_object *fsview_json_new(const struct fsview *fv)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "store", json_object_new_string(fv->store));
	if (fv->vs.thin) {
		fsview_json_add_u64(o, "thin_device", fv->vs.thin->id);
		fsview_json_add_u64(o, "mapped_blocks", fv->vs.thin->map.mapped);
		fsview_json_add_u64(o, "block_bytes", fv->vs.thin->block_bytes);
		fsview_json_add_u64(o, "lost_blocks", fv->vs.thin->lost_blocks);
		return o;
	}
	fsview_json_add_u64(o, "exceptions", exceptions(fv));
	fsview_json_add_u64(o, "chunk_bytes", fv->vs.chunk_bytes);
	json_object_object_add(o, "store_invalid", json_object_new_boolean(fv->vs.invalid));
	return o;
}

void fsview_print_steps(const struct fsview_step *st, size_t n, int width)
{
	char label[40];

	for (size_t i = 0; i < n; i++) {
		snprintf(label, sizeof(label), "%s:", st[i].label);
		printf("%-*s%s\n", width, label, st[i].text);
	}
}

void fsview_json_add_steps(json_object *o, const struct fsview_step *st, size_t n)
{
	json_object *a, *f;

	if (!n)
		return;
	a = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		f = json_object_new_object();
		json_object_object_add(f, "step", json_object_new_string(st[i].label));
		json_object_object_add(f, "result", json_object_new_string(st[i].text));
		json_object_array_add(a, f);
	}
	json_object_object_add(o, "steps", a);
}

void fsview_json_add_words(json_object *o, const char *key, const char *text, const char *seps)
{
	json_object *a = json_object_new_array();
	char *copy = strdup(text), *save = NULL, *tok;

	for (tok = copy ? strtok_r(copy, seps, &save) : NULL; tok; tok = strtok_r(NULL, seps, &save))
		json_object_array_add(a, json_object_new_string(tok));
	free(copy);
	json_object_object_add(o, key, a);
}

void fsview_json_add_u64(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

void fsview_json_print(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}
