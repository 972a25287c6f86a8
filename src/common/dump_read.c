/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading snap_dump's XML (expat) and JSON (json-c) dumps into a visitor:
 * see dump.h. */
#include <errno.h>
#include <expat.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dump.h"
#include "tool.h"

struct dump_reader {
	char *name;
	int fd;
	enum dump_format format;
	struct json_object *json; /* JSON: the parsed document */
};

/* ---- Numbers (parse_u64: tool.c) ---------------------------------------- */

static const char *number_problem(const char *s, int r)
{
	if (r == -ERANGE)
		return "is out of range (more than 2^64-1)";
	if (s && s[0] == '-')
		return "is negative";
	return "is not an unsigned integer";
}

/* ---- Opening ------------------------------------------------------------ */

static int spool(int in, const char *name)
{
	char buf[65536];
	FILE *f = tmpfile();
	ssize_t n;
	int fd;

	if (!f) {
		warnx("cannot create a temporary copy of %s: %s", name, strerror(errno));
		return -errno;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (fwrite(buf, 1, (size_t)n, f) != (size_t)n)
			break;
	}
	if (n < 0 || fflush(f) || ferror(f)) {
		int e = n < 0 ? errno : EIO;

		warnx("cannot read %s: %s", name, strerror(e));
		fclose(f);
		return -e;
	}
	fd = dup(fileno(f));
	fclose(f);
	if (fd < 0)
		return -errno;
	return fd;
}

int dump_reader_open(const char *path, struct dump_reader **out)
{
	struct dump_reader *r;
	struct stat st;
	unsigned char c = 0;
	ssize_t n;
	int fd, e;

	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : dup(STDIN_FILENO);
	if (fd < 0) {
		e = errno;
		warnx("cannot open %s: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
		e = S_ISDIR(st.st_mode) ? EISDIR : errno;
		warnx("cannot read %s: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		/* A pipe: keep a copy so the dump can be read twice. */
		int t = spool(fd, path);

		close(fd);
		if (t < 0)
			return t;
		fd = t;
	}
	/* The format is the first non-blank byte's. */
	for (;;) {
		n = read(fd, &c, 1);
		if (n < 0) {
			e = errno;
			warnx("cannot read %s: %s", path, strerror(e));
			close(fd);
			return -e;
		}
		if (n == 0 || (c != ' ' && c != '\t' && c != '\n' && c != '\r'))
			break;
	}
	if (n == 0 || (c != '<' && c != '{')) {
		warnx("%s: %s", path, n == 0 ? "dump is empty" :
		      "not a snap_dump XML or JSON dump (does not start with '<' or '{')");
		close(fd);
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r || !(r->name = strdup(path))) {
		free(r);
		close(fd);
		return -ENOMEM;
	}
	r->fd = fd;
	r->format = c == '<' ? DUMP_XML : DUMP_JSON;
	*out = r;
	return 0;
}

enum dump_format dump_reader_format(const struct dump_reader *r)
{
	return r->format;
}

const char *dump_reader_name(const struct dump_reader *r)
{
	return r->name;
}

void dump_reader_free(struct dump_reader *r)
{
	if (!r)
		return;
	json_object_put(r->json); /* NULL is fine */
	close(r->fd);
	free(r->name);
	free(r);
}

/* ---- XML ---------------------------------------------------------------- */

enum { IN_NONE, IN_STORE, IN_AREA, IN_EXCEPTION, IN_INCOMPLETE, IN_DONE };

struct xml_state {
	struct dump_reader *r;
	const struct dump_visitor *v;
	void *data;
	XML_Parser p;
	int where;
	int areas_seen;
	int result;        /* first error: callback value or -EINVAL */
	struct dump_pos pos;
	uint64_t count;    /* exceptions in the current area */
	int incomplete;
	uint64_t incomplete_area;
	unsigned long incomplete_line;
};

static void xml_fail(struct xml_state *x, int r)
{
	if (!x->result)
		x->result = r;
	XML_StopParser(x->p, XML_FALSE);
}

#define xml_error(x, ...)                                                           \
	do {                                                                        \
		char msg_[256];                                                     \
		snprintf(msg_, sizeof(msg_), __VA_ARGS__);                          \
		warnx("%s: line %lu: %s", (x)->r->name,                             \
		      (unsigned long)XML_GetCurrentLineNumber((x)->p), msg_);       \
		xml_fail((x), -EINVAL);                                             \
	} while (0)

/* Read the attributes @names of element @elem into @vals (all required).
 * Returns 0, or -1 after reporting the problem. */
static int xml_attrs(struct xml_state *x, const char *elem, const char **atts,
		     const char *const *names, uint64_t *vals, size_t n)
{
	unsigned int seen = 0;
	size_t i, k;
	int r;

	for (i = 0; atts[i]; i += 2) {
		for (k = 0; k < n; k++)
			if (!strcmp(atts[i], names[k]))
				break;
		if (k == n) {
			xml_error(x, "<%s>: unknown attribute \"%s\"", elem, atts[i]);
			return -1;
		}
		r = parse_u64(atts[i + 1], &vals[k]);
		if (r < 0) {
			xml_error(x, "<%s>: %s=\"%s\" %s", elem, atts[i], atts[i + 1],
				  number_problem(atts[i + 1], r));
			return -1;
		}
		seen |= 1U << k;
	}
	for (k = 0; k < n; k++) {
		if (!(seen & (1U << k))) {
			xml_error(x, "<%s>: missing attribute \"%s\"", elem, names[k]);
			return -1;
		}
	}
	return 0;
}

static void XMLCALL xml_start(void *data, const char *el, const char **atts)
{
	static const char *const store_attrs[] = { "magic", "valid", "version",
		"chunk_sectors", "store_size", "exceptions_per_area" };
	static const char *const area_attrs[] = { "index", "chunk" };
	static const char *const exc_attrs[] = { "old", "new" };
	static const char *const inc_attrs[] = { "area" };
	struct xml_state *x = data;
	uint64_t v[6];
	int r = 0;

	if (x->result)
		return; /* stopped: expat may still call back */
	x->pos.line = XML_GetCurrentLineNumber(x->p);
	if (x->where == IN_NONE && !strcmp(el, "snapshot_store")) {
		struct dump_header h;

		if (xml_attrs(x, el, atts, store_attrs, v, 6))
			return;
		h.magic = v[0];
		h.valid = v[1];
		h.version = v[2];
		h.chunk_sectors = v[3];
		h.store_size = v[4];
		h.per_area = v[5];
		x->where = IN_STORE;
		r = dump_visit(x->v, header, x->data, &x->pos, &h);
	} else if (x->where == IN_STORE && !strcmp(el, "area") && !x->incomplete) {
		if (xml_attrs(x, el, atts, area_attrs, v, 2))
			return;
		x->where = IN_AREA;
		x->count = 0;
		x->pos.area = v[0];
		x->pos.index = 0;
		x->areas_seen = 1;
		r = dump_visit(x->v, area, x->data, &x->pos, v[0], v[1]);
	} else if (x->where == IN_AREA && !strcmp(el, "exception")) {
		if (xml_attrs(x, el, atts, exc_attrs, v, 2))
			return;
		x->where = IN_EXCEPTION;
		x->pos.index = x->count;
		r = dump_visit(x->v, exception, x->data, &x->pos, v[0], v[1]);
		x->count++;
		x->pos.record++;
	} else if (x->where == IN_STORE && !strcmp(el, "incomplete") && !x->incomplete) {
		if (xml_attrs(x, el, atts, inc_attrs, v, 1))
			return;
		x->where = IN_INCOMPLETE;
		x->incomplete = 1;
		x->incomplete_area = v[0];
		x->incomplete_line = x->pos.line;
	} else {
		xml_error(x, "unexpected element <%s>%s", el,
			  x->where == IN_NONE ? " (expected <snapshot_store>)" :
			  x->where == IN_STORE ? " (expected <area>)" :
			  x->where == IN_AREA ? " (expected <exception>)" : "");
	}
	if (r)
		xml_fail(x, r);
}

static void XMLCALL xml_end(void *data, const char *el)
{
	struct xml_state *x = data;
	int r = 0;

	if (x->result)
		return; /* stopped: expat may still call back */
	(void)el;
	x->pos.line = XML_GetCurrentLineNumber(x->p);
	switch (x->where) {
	case IN_EXCEPTION:
	case IN_INCOMPLETE:
		x->where = x->where == IN_EXCEPTION ? IN_AREA : IN_STORE;
		break;
	case IN_AREA:
		x->where = IN_STORE;
		r = dump_visit(x->v, area_end, x->data, &x->pos, x->count);
		break;
	case IN_STORE:
		x->where = IN_DONE;
		if (!x->areas_seen) {
			xml_error(x, "<snapshot_store> has no <area> (even an empty table has "
				  "area 0)");
			return;
		}
		if (x->incomplete)
			x->pos.line = x->incomplete_line;
		r = dump_visit(x->v, end, x->data, &x->pos, x->incomplete, x->incomplete_area);
		break;
	}
	if (r)
		xml_fail(x, r);
}

static void XMLCALL xml_text(void *data, const char *s, int len)
{
	struct xml_state *x = data;
	int i;

	if (x->result)
		return; /* stopped: expat may still call back */
	for (i = 0; i < len; i++) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') {
			xml_error(x, "unexpected text \"%.*s\"", len - i > 20 ? 20 : len - i,
				  s + i);
			return;
		}
	}
}

static void XMLCALL xml_doctype(void *data, const char *name, const char *sysid,
				const char *pubid, int has_internal)
{
	struct xml_state *x = data;

	(void)name, (void)sysid, (void)pubid, (void)has_internal;
	xml_error(x, "a DOCTYPE is not allowed in a dump");
}

static int run_xml(struct dump_reader *r, const struct dump_visitor *v, void *data)
{
	struct xml_state x;
	char buf[65536];
	ssize_t n;
	int final = 0;

	if (lseek(r->fd, 0, SEEK_SET) < 0) {
		warnx("cannot rewind %s: %s", r->name, strerror(errno));
		return -errno;
	}
	memset(&x, 0, sizeof(x));
	x.r = r;
	x.v = v;
	x.data = data;
	x.p = XML_ParserCreate(NULL);
	if (!x.p)
		return -ENOMEM;
	XML_SetUserData(x.p, &x);
	XML_SetElementHandler(x.p, xml_start, xml_end);
	XML_SetCharacterDataHandler(x.p, xml_text);
	XML_SetStartDoctypeDeclHandler(x.p, xml_doctype);
	while (!final) {
		n = read(r->fd, buf, sizeof(buf));
		if (n < 0) {
			x.result = -errno;
			warnx("cannot read %s: %s", r->name, strerror(errno));
			break;
		}
		final = n == 0;
		if (XML_Parse(x.p, buf, (int)n, final) == XML_STATUS_ERROR) {
			if (!x.result) {
				warnx("%s: line %lu: XML error: %s", r->name,
				      (unsigned long)XML_GetCurrentLineNumber(x.p),
				      XML_ErrorString(XML_GetErrorCode(x.p)));
				x.result = -EINVAL;
			}
			break;
		}
	}
	XML_ParserFree(x.p);
	return x.result;
}

/* ---- JSON --------------------------------------------------------------- */

#define json_error(r, pos, ...)                                                   \
	do {                                                                      \
		char msg_[256];                                                   \
		snprintf(msg_, sizeof(msg_), __VA_ARGS__);                        \
		warnx("%s: %s%s", (r)->name, (pos), msg_);                        \
	} while (0)

static int load_json(struct dump_reader *r)
{
	struct json_tokener *tok;
	char *text = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int ret = 0;

	if (lseek(r->fd, 0, SEEK_SET) < 0)
		return -errno;
	for (;;) {
		if (cap - len < 65536) {
			char *t = realloc(text, cap + 65536 + 1);

			if (!t) {
				free(text);
				return -ENOMEM;
			}
			text = t;
			cap += 65536;
		}
		n = read(r->fd, text + len, cap - len);
		if (n < 0) {
			ret = -errno;
			warnx("cannot read %s: %s", r->name, strerror(errno));
			free(text);
			return ret;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	text[len] = '\0';
	tok = json_tokener_new_ex(64);
	if (!tok) {
		free(text);
		return -ENOMEM;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	r->json = json_tokener_parse_ex(tok, text, (int)len + 1);
	if (!r->json || json_tokener_get_error(tok) != json_tokener_success) {
		size_t off = json_tokener_get_parse_end(tok), i;
		unsigned long line = 1;

		for (i = 0; i < off && i < len; i++)
			line += text[i] == '\n';
		warnx("%s: line %lu: JSON error: %s", r->name, line,
		      json_tokener_error_desc(json_tokener_get_error(tok)));
		if (r->json)
			json_object_put(r->json);
		r->json = NULL;
		ret = -EINVAL;
	}
	json_tokener_free(tok);
	free(text);
	return ret;
}

/* Read number @key of object @o.  Returns 0, or -EINVAL after reporting. */
static int json_u64(struct dump_reader *r, const char *pos, struct json_object *o,
		    const char *key, uint64_t *out)
{
	struct json_object *v;
	const char *s;
	int e;

	if (!json_object_object_get_ex(o, key, &v)) {
		json_error(r, pos, "missing \"%s\"", key);
		return -EINVAL;
	}
	switch (json_object_get_type(v)) {
	case json_type_int:
		if (json_object_get_int64(v) < 0) {
			json_error(r, pos, "\"%s\": %s is negative", key,
				   json_object_to_json_string(v));
			return -EINVAL;
		}
		*out = json_object_get_uint64(v);
		if (*out == UINT64_MAX) {
			/* json-c turns anything larger into this value. */
			json_error(r, pos, "\"%s\" is out of range (2^64-1 or more)", key);
			return -EINVAL;
		}
		return 0;
	case json_type_string:
		s = json_object_get_string(v);
		e = parse_u64(s, out);
		if (e < 0) {
			json_error(r, pos, "\"%s\": \"%s\" %s", key, s, number_problem(s, e));
			return -EINVAL;
		}
		return 0;
	default:
		json_error(r, pos, "\"%s\": %s is not an unsigned integer", key,
			   json_object_to_json_string(v));
		return -EINVAL;
	}
}

/* Refuse keys of @o not in @names. */
static int json_keys(struct dump_reader *r, const char *pos, struct json_object *o,
		     const char *const *names)
{
	size_t k;

	json_object_object_foreach(o, key, val) {
		(void)val;
		for (k = 0; names[k]; k++)
			if (!strcmp(key, names[k]))
				break;
		if (!names[k]) {
			json_error(r, pos, "unknown key \"%s\"", key);
			return -EINVAL;
		}
	}
	return 0;
}

static int json_array(struct dump_reader *r, const char *pos, struct json_object *o,
		      const char *key, struct json_object **out)
{
	if (!json_object_object_get_ex(o, key, out)) {
		json_error(r, pos, "missing \"%s\"", key);
		return -EINVAL;
	}
	if (!json_object_is_type(*out, json_type_array)) {
		json_error(r, pos, "\"%s\" is not an array", key);
		return -EINVAL;
	}
	return 0;
}

/* The header of object "snapshot_store"; *@areas, *@inc_area, *@has_inc. */
static int json_header(struct dump_reader *r, struct json_object *store, struct dump_header *h,
		       struct json_object **areas, int *has_inc, uint64_t *inc_area)
{
	static const char *const store_keys[] = { "magic", "valid", "version", "chunk_sectors",
		"store_size", "exceptions_per_area", "areas", "incomplete", NULL };
	static const char *const inc_keys[] = { "area", NULL };
	static const char *const pos = "snapshot_store: ";
	struct json_object *inc;

	if (json_keys(r, pos, store, store_keys) || json_u64(r, pos, store, "magic", &h->magic) ||
	    json_u64(r, pos, store, "valid", &h->valid) ||
	    json_u64(r, pos, store, "version", &h->version) ||
	    json_u64(r, pos, store, "chunk_sectors", &h->chunk_sectors) ||
	    json_u64(r, pos, store, "store_size", &h->store_size) ||
	    json_u64(r, pos, store, "exceptions_per_area", &h->per_area) ||
	    json_array(r, pos, store, "areas", areas))
		return -EINVAL;
	*has_inc = json_object_object_get_ex(store, "incomplete", &inc);
	if (*has_inc && (!json_object_is_type(inc, json_type_object) ||
			 json_keys(r, "incomplete: ", inc, inc_keys) ||
			 json_u64(r, "incomplete: ", inc, "area", inc_area))) {
		json_error(r, "", "\"incomplete\" must be {\"area\": N}");
		return -EINVAL;
	}
	if (json_object_array_length(*areas) == 0) {
		json_error(r, "", "\"areas\" is empty (even an empty table has area 0)");
		return -EINVAL;
	}
	return 0;
}

/* Element @a of "areas", visited.  Returns 0, -EINVAL or a callback's value. */
static int json_area(struct dump_reader *r, struct json_object *ao, size_t a,
		     const struct dump_visitor *v, void *data, struct dump_pos *pos)
{
	static const char *const area_keys[] = { "index", "chunk", "exceptions", NULL };
	static const char *const exc_keys[] = { "old", "new", NULL };
	struct json_object *exc;
	uint64_t index, chunk, old_chunk, new_chunk;
	char where[96];
	size_t i, n;
	int ret;

	snprintf(where, sizeof(where), "areas[%zu]: ", a);
	pos->area = a;
	pos->index = 0;
	if (!json_object_is_type(ao, json_type_object)) {
		json_error(r, where, "not an object");
		return -EINVAL;
	}
	if (json_keys(r, where, ao, area_keys) || json_u64(r, where, ao, "index", &index) ||
	    json_u64(r, where, ao, "chunk", &chunk) || json_array(r, where, ao, "exceptions", &exc))
		return -EINVAL;
	pos->area = index;
	ret = dump_visit(v, area, data, pos, index, chunk);
	n = json_object_array_length(exc);
	for (i = 0; i < n && !ret; i++) {
		struct json_object *eo = json_object_array_get_idx(exc, i);

		snprintf(where, sizeof(where), "area %" PRIu64 " exception %zu: ", index, i);
		if (!json_object_is_type(eo, json_type_object)) {
			json_error(r, where, "not an object");
			return -EINVAL;
		}
		if (json_keys(r, where, eo, exc_keys) || json_u64(r, where, eo, "old", &old_chunk) ||
		    json_u64(r, where, eo, "new", &new_chunk))
			return -EINVAL;
		pos->index = i;
		ret = dump_visit(v, exception, data, pos, old_chunk, new_chunk);
		pos->record++;
	}
	return ret ? ret : dump_visit(v, area_end, data, pos, n);
}

static int run_json(struct dump_reader *r, const struct dump_visitor *v, void *data)
{
	static const char *const root_keys[] = { "snapshot_store", NULL };
	struct json_object *store, *areas;
	struct dump_header h;
	struct dump_pos pos;
	uint64_t inc_area = 0;
	int has_inc = 0, ret;
	size_t a;

	if (!r->json) {
		ret = load_json(r);
		if (ret < 0)
			return ret;
	}
	memset(&pos, 0, sizeof(pos));
	if (!json_object_is_type(r->json, json_type_object) ||
	    json_keys(r, "", r->json, root_keys) ||
	    !json_object_object_get_ex(r->json, "snapshot_store", &store) ||
	    !json_object_is_type(store, json_type_object)) {
		json_error(r, "", "expected an object {\"snapshot_store\": {...}}");
		return -EINVAL;
	}
	ret = json_header(r, store, &h, &areas, &has_inc, &inc_area);
	if (!ret)
		ret = dump_visit(v, header, data, &pos, &h);
	for (a = 0; !ret && a < json_object_array_length(areas); a++)
		ret = json_area(r, json_object_array_get_idx(areas, a), a, v, data, &pos);
	return ret ? ret : dump_visit(v, end, data, &pos, has_inc, inc_area);
}

int dump_reader_run(struct dump_reader *r, const struct dump_visitor *v, void *data)
{
	return r->format == DUMP_XML ? run_xml(r, v, data) : run_json(r, v, data);
}
