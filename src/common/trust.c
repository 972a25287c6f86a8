/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a snapshot's view can vouch for, chunk by chunk (see trust.h). */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonout.h"
#include "tool.h"
#include "trust.h"

static void *grow(void *a, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return a;
	*cap = *cap ? *cap * 2 : 64;
	a = realloc(a, *cap * size);
	if (!a)
		errx(EXIT_FAIL, "out of memory");
	return a;
}

/* Append @c to the runs (@skip_meta: an area chunk between two chunks does
 * not break a run of store chunks). */
static void add_run(struct trust_range **r, size_t *n, size_t *cap, uint64_t c,
		    uint32_t per_area)
{
	if (*n && ((*r)[*n - 1].last + 1 == c ||
		   (per_area && (*r)[*n - 1].last + 2 == c &&
		    snapcow_chunk_is_metadata(per_area, c - 1)))) {
		(*r)[*n - 1].last = c;
		return;
	}
	*r = grow(*r, cap, *n, sizeof(**r));
	(*r)[*n].first = (*r)[*n].last = c;
	(*n)++;
}

static int cmp_after(const void *a, const void *b)
{
	const struct snapcow_exception *x = a, *y = b;

	return x->new_chunk < y->new_chunk ? -1 : (x->new_chunk > y->new_chunk);
}

/* Records after the terminator of the table's last area and in the area
 * after it: stale, but they may name where an orphan was to go. */
static void read_after(struct trust *t, struct snapcow_store *s, const struct snapcow_stats *st)
{
	uint32_t per = snapcow_store_per_area(s), live, i;
	unsigned char *buf = malloc(snapcow_store_chunk_bytes(s));
	uint64_t a, rec[2];

	if (!buf)
		errx(EXIT_FAIL, "out of memory");
	for (a = st->areas - 1; a <= st->areas; a++) {
		if (!snapcow_geometry_area_fits(snapcow_store_geometry(s), a) ||
		    snapcow_store_read_area(s, a, buf, &live) < 0)
			break;
		for (i = a == st->areas - 1 ? live : 0; i < per; i++) {
			memcpy(rec, buf + (size_t)i * SNAPCOW_RECORD_SIZE, sizeof(rec));
			if (!rec[1])
				continue;
			t->after = grow(t->after, &t->capafter, t->nafter, sizeof(*t->after));
			t->after[t->nafter].old_chunk = le64toh(rec[0]);
			t->after[t->nafter++].new_chunk = le64toh(rec[1]);
		}
	}
	free(buf);
	if (t->nafter)
		qsort(t->after, t->nafter, sizeof(*t->after), cmp_after);
}

static int add_orphan(void *data, uint64_t chunk)
{
	struct trust *t = data;
	struct snapcow_exception key = { .new_chunk = chunk }, *e;

	add_run(&t->orphan_runs, &t->norphan_runs, &t->caporphan_runs, chunk,
		(uint32_t)(t->chunk_bytes / SNAPCOW_RECORD_SIZE));
	e = t->nafter ? bsearch(&key, t->after, t->nafter, sizeof(key), cmp_after) : NULL;
	if (e) {
		t->hints = grow(t->hints, &t->caphints, t->nhints, sizeof(*t->hints));
		t->hints[t->nhints++] = (struct trust_hint){ chunk, e->old_chunk };
	}
	return 0;
}

void trust_build(struct trust *t, struct snapcow_store *s, const struct snapcow_map *m,
		 uint64_t view_bytes, enum trust_origin origin, const char *store, int fail_code)
{
	struct snapcow_exception e;
	struct snapcow_uncommitted u;
	struct snapcow_stats st;
	unsigned long mark = tool_lib_errors();
	uint64_t c = 0;
	int r;

	memset(t, 0, sizeof(*t));
	t->store = store;
	t->invalid = snapcow_store_header(s)->valid == 0;
	t->origin = origin;
	t->chunk_bytes = snapcow_store_chunk_bytes(s);
	t->view_bytes = view_bytes;
	t->view_chunks = (view_bytes + t->chunk_bytes - 1) / t->chunk_bytes;
	while (snapcow_map_next(m, c, &e) == 0) {
		if (view_bytes && e.old_chunk >= t->view_chunks) {
			t->beyond++;
		} else {
			t->committed++;
			add_run(&t->runs, &t->nruns, &t->capruns, e.old_chunk, 0);
		}
		if (e.old_chunk == UINT64_MAX)
			break;
		c = e.old_chunk + 1;
	}
	r = snapcow_store_scan(s, &st);
	if (r < 0)
		lib_failed(fail_code, mark, r, "%s: cannot read the exception table", store);
	t->next_free = st.next_free;
	read_after(t, s, &st);
	r = snapcow_store_scan_uncommitted(s, st.next_free, add_orphan, t, &u);
	if (r < 0)
		lib_failed(fail_code, mark, r, "%s: cannot scan past the table", store);
	t->orphans = u.chunks;
}

void trust_free(struct trust *t)
{
	free(t->runs);
	free(t->orphan_runs);
	free(t->hints);
	free(t->after);
	memset(t, 0, sizeof(*t));
}

int trust_origin_now_untrusted(int invalid, enum trust_origin origin)
{
	return invalid && origin != TRUST_ORIGIN_ZERO;
}

const char *trust_verdict(int invalid, enum trust_origin origin)
{
	if (!invalid)
		return "the store is valid: the kernel kept copying until now, every chunk of the "
		       "view is the snapshot's";
	if (origin == TRUST_ORIGIN_ZERO)
		return "the origin is the zero target (a --virtualsize volume) and never changes: "
		       "everything committed is trustworthy; the rest reads as zeros (never "
		       "written before the overflow, or written after it and lost)";
	return "the store is marked invalid: the committed chunks are the snapshot's as of the "
	       "overflow; every other chunk shows the origin as it is now, which the kernel "
	       "stopped copying at the invalidation: it may be newer than the snapshot";
}

/* ---- human ---------------------------------------------------------------- */

static const char *origin_words(enum trust_origin o)
{
	switch (o) {
	case TRUST_ORIGIN_REAL:
		return "a snapshot of a real origin";
	case TRUST_ORIGIN_ZERO:
		return "a --virtualsize volume (the origin is the zero target)";
	case TRUST_ORIGIN_UNKNOWN:
		break;
	}
	return "origin unknown, taken as a real one";
}

static void print_origin_now(FILE *f, const struct trust *t, char *b, size_t len)
{
	const char *trust = t->origin == TRUST_ORIGIN_ZERO ? "zeros, trustworthy" :
			    trust_origin_now_untrusted(t->invalid, t->origin) ?
			    "NOT trustworthy: may be newer than the snapshot" : "trustworthy";

	if (!t->view_bytes) {
		fprintf(f, "  origin now:  every other chunk of the view (its size is unknown: "
			"--origin-size counts them): %s\n", trust);
		return;
	}
	fprintf(f, "  origin now:  %" PRIu64 " chunks (%s) not in the table: %s\n",
		t->view_chunks - t->committed,
		format_size((t->view_chunks - t->committed) * t->chunk_bytes, b, len), trust);
}

void trust_print(FILE *f, const struct trust *t)
{
	char b[32];

	fprintf(f, "trust: %s, %s, %s\n", t->store, t->invalid ? "marked invalid" : "valid",
		origin_words(t->origin));
	fprintf(f, "  %s\n", trust_verdict(t->invalid, t->origin));
	fprintf(f, "  committed:   %" PRIu64 " chunks (%s) in %zu runs: the snapshot's data%s, "
		"trustworthy\n", t->committed, format_size(t->committed * t->chunk_bytes, b,
							     sizeof(b)),
		t->nruns, t->invalid ? " as of the overflow" : "");
	if (t->beyond)
		fprintf(f, "  past the view: %" PRIu64 " exceptions remap chunks past its end (not "
			"part of it)\n", t->beyond);
	print_origin_now(f, t, b, sizeof(b));
	fprintf(f, "  orphans:     %" PRIu64 " chunks past the next free chunk %" PRIu64
		": written but never committed, not part of the view", t->orphans, t->next_free);
	if (t->orphans)
		fprintf(f, "; where they would have gone is %s",
			t->nhints == t->orphans ? "known for all" :
			t->nhints ? "known for some (records after the table's end name them)" :
			"unknown (no record names them)");
	fprintf(f, "\n");
}

/* ---- JSON ------------------------------------------------------------------ */

static json_object *ranges_json(const struct trust_range *r, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		json_object *x = json_object_new_object();

		json_add_u64(x, "first", r[i].first);
		json_add_u64(x, "last", r[i].last);
		json_object_array_add(a, x);
	}
	return a;
}

/* The complement of the committed runs in the view. */
static json_object *origin_now_json(const struct trust *t)
{
	json_object *o = json_object_new_object(), *a;
	uint64_t next = 0;

	json_object_object_add(o, "trustworthy", json_object_new_boolean(
		!trust_origin_now_untrusted(t->invalid, t->origin)));
	json_object_object_add(o, "zeros", json_object_new_boolean(t->origin == TRUST_ORIGIN_ZERO));
	if (!t->view_bytes) {
		json_object_object_add(o, "chunks", NULL);
		json_object_object_add(o, "ranges", NULL);
		return o;
	}
	json_add_u64(o, "chunks", t->view_chunks - t->committed);
	a = json_object_new_array();
	for (size_t i = 0; i <= t->nruns; i++) {
		uint64_t end = i < t->nruns ? t->runs[i].first : t->view_chunks;
		json_object *x;

		if (end > next) {
			x = json_object_new_object();
			json_add_u64(x, "first", next);
			json_add_u64(x, "last", end - 1);
			json_object_array_add(a, x);
		}
		if (i < t->nruns)
			next = t->runs[i].last + 1;
	}
	json_object_object_add(o, "ranges", a);
	return o;
}

static json_object *orphans_json(const struct trust *t)
{
	json_object *o = json_object_new_object(), *h = json_object_new_array();

	json_add_u64(o, "chunks", t->orphans);
	json_add_u64(o, "next_free_chunk", t->next_free);
	json_object_object_add(o, "part_of_view", json_object_new_boolean(0));
	json_object_object_add(o, "ranges", ranges_json(t->orphan_runs, t->norphan_runs));
	for (size_t i = 0; i < t->nhints; i++) {
		json_object *x = json_object_new_object();

		json_add_u64(x, "chunk", t->hints[i].chunk);
		json_add_u64(x, "old_chunk", t->hints[i].old_chunk);
		json_object_array_add(h, x);
	}
	json_object_object_add(o, "would_have_gone", h);
	return o;
}

static const char *origin_key(enum trust_origin o)
{
	return o == TRUST_ORIGIN_REAL ? "real" : o == TRUST_ORIGIN_ZERO ? "zero" : "unknown";
}

int trust_write_json(const struct trust *t, const char *path)
{
	json_object *o = json_object_new_object(), *c = json_object_new_object();
	FILE *f = strcmp(path, "-") ? fopen(path, "wx") : stdout;
	int r = 0;

	if (!f) {
		r = -errno;
		warnx("cannot create %s: %s", path, strerror(errno));
		json_object_put(o);
		json_object_put(c);
		return r;
	}
	json_object_object_add(o, "store", json_object_new_string(t->store));
	json_object_object_add(o, "valid", json_object_new_boolean(!t->invalid));
	json_object_object_add(o, "origin", json_object_new_string(origin_key(t->origin)));
	json_add_u64(o, "chunk_size", t->chunk_bytes);
	json_object_object_add(o, "view_size", t->view_bytes ? json_object_new_uint64(t->view_bytes) : NULL);
	json_object_object_add(o, "view_chunks",
			       t->view_bytes ? json_object_new_uint64(t->view_chunks) : NULL);
	json_object_object_add(o, "verdict", json_object_new_string(trust_verdict(t->invalid, t->origin)));
	json_add_u64(c, "chunks", t->committed);
	json_object_object_add(c, "trustworthy", json_object_new_boolean(1));
	json_object_object_add(c, "as_of_overflow", json_object_new_boolean(t->invalid));
	json_object_object_add(c, "ranges", ranges_json(t->runs, t->nruns));
	json_object_object_add(o, "committed", c);
	json_add_u64(o, "past_view", t->beyond);
	json_object_object_add(o, "origin_now", origin_now_json(t));
	json_object_object_add(o, "orphans", orphans_json(t));
	if (fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_SPACED)) < 0 ||
	    fflush(f) != 0)
		r = -errno;
	if (f != stdout && fclose(f) != 0 && !r)
		r = -errno;
	if (r)
		warnx("cannot write %s: %s", path, strerror(-r));
	json_object_put(o);
	return r;
}
