/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The metadata areas of a store, in order, read ahead (see
 * snapcow-internal.h).
 *
 * With one thread each area is read when it is asked for.  With more,
 * reader threads fill a ring of slots, each a batch of consecutive areas
 * (about 256 KiB of them), in batch order, while the caller works on the
 * batch it holds.  A reader stops a batch at the first area that is not
 * full, at a read error or at the end of the store, and no batch after
 * that one is read.  The caller gets areas, errors and messages exactly
 * as snapcow_read_area() would give them one by one: a reader only reads;
 * what it found is said by the caller's thread when it gets there.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "snapcow-internal.h"

#define BATCH_BYTES (256U << 10)
#define MAX_READERS 8
#define SLOTS_PER_READER 8

enum slot_state { SLOT_EMPTY, SLOT_FILLING, SLOT_READY };

struct slot {
	uint64_t batch;          /* the batch it holds, or may be filled with */
	enum slot_state state;
	uint32_t nread;          /* areas read into it */
	int err;                 /* reading area @nread failed with this */
	uint32_t *live;          /* live records of each area read */
	unsigned char *buf;
};

struct snapcow_areas {
	struct snapcow_store *s;
	int log_no_terminator;
	uint64_t next;           /* the area the caller gets next */
	unsigned char *buf;      /* one thread: the area read */

	unsigned int nreaders;
	pthread_t readers[MAX_READERS];
	pthread_mutex_t mu;
	pthread_cond_t ready, freed;
	struct slot *slots;
	unsigned int nslots;
	uint32_t per_batch;
	uint64_t next_batch;     /* the batch a reader takes next */
	uint64_t end_batch;      /* no batch after it belongs to the table */
	uint64_t held;           /* the caller's batch, UINT64_MAX: none */
	int stop;
};

/* Read batch @b into @sl, without the lock. */
static void fill(struct snapcow_areas *a, struct slot *sl, uint64_t b, int *last)
{
	struct snapcow_store *s = a->s;
	uint32_t i;

	sl->err = 0;
	*last = 0;
	for (i = 0; i < a->per_batch; i++) {
		uint64_t area = b * a->per_batch + i;
		unsigned char *p = sl->buf + (size_t)i * s->chunk_bytes;
		int r;

		if (!snapcow_geometry_area_fits(&s->geo, area)) {
			*last = 1;
			break;
		}
		r = snapcow_area_pread(s, area, p);
		if (r < 0) {
			sl->err = r;
			*last = 1;
			break;
		}
		sl->live[i] = snapcow_area_live(s, p);
		if (sl->live[i] < s->per_area) {
			i++;
			*last = 1;
			break;
		}
	}
	sl->nread = i;
}

/* Take batch @b (next in line, its slot empty) and read it; called and
 * returns with the lock held, drops it while reading. */
static void take_and_fill(struct snapcow_areas *a, struct slot *sl, uint64_t b)
{
	int last;

	a->next_batch++;
	sl->state = SLOT_FILLING;
	pthread_mutex_unlock(&a->mu);
	fill(a, sl, b, &last);
	pthread_mutex_lock(&a->mu);
	sl->state = SLOT_READY;
	if (last && b < a->end_batch)
		a->end_batch = b;
	pthread_cond_broadcast(&a->ready);
	/* a reader waiting for a batch past the end: done */
	pthread_cond_broadcast(&a->freed);
}

static void *reader(void *arg)
{
	struct snapcow_areas *a = arg;

	pthread_mutex_lock(&a->mu);
	for (;;) {
		uint64_t b = a->next_batch;
		struct slot *sl = &a->slots[b % a->nslots];

		if (a->stop || b > a->end_batch)
			break;
		if (sl->batch != b || sl->state != SLOT_EMPTY) {
			pthread_cond_wait(&a->freed, &a->mu);
			continue;
		}
		take_and_fill(a, sl, b);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

static void stop_readers(struct snapcow_areas *a)
{
	unsigned int i;

	pthread_mutex_lock(&a->mu);
	a->stop = 1;
	pthread_cond_broadcast(&a->freed);
	pthread_mutex_unlock(&a->mu);
	for (i = 0; i < a->nreaders; i++)
		pthread_join(a->readers[i], NULL);
	a->nreaders = 0;
}

static void free_slots(struct snapcow_areas *a)
{
	unsigned int i;

	for (i = 0; a->slots && i < a->nslots; i++) {
		free(a->slots[i].buf);
		free(a->slots[i].live);
	}
	free(a->slots);
	a->slots = NULL;
}

/* Readers for a table that may span more than two batches; 0 when one
 * thread is asked for, or threads cannot be had (then the caller reads). */
static int start_readers(struct snapcow_areas *a, unsigned int threads)
{
	struct snapcow_store *s = a->s;
	uint64_t areas_in_store = (s->geo.chunks + s->per_area) / ((uint64_t)s->per_area + 1);
	unsigned int i, want = threads - 1;

	a->per_batch = s->chunk_bytes >= BATCH_BYTES ? 1 : BATCH_BYTES / s->chunk_bytes;
	if (threads < 2 || areas_in_store <= 2 * (uint64_t)a->per_batch)
		return 0;
	if (want > MAX_READERS)
		want = MAX_READERS;
	a->nslots = want * SLOTS_PER_READER;
	a->slots = calloc(a->nslots, sizeof(*a->slots));
	if (!a->slots)
		return 0;
	for (i = 0; i < a->nslots; i++) {
		a->slots[i].batch = i;
		a->slots[i].buf = malloc((size_t)a->per_batch * s->chunk_bytes);
		a->slots[i].live = malloc(a->per_batch * sizeof(uint32_t));
		if (!a->slots[i].buf || !a->slots[i].live) {
			free_slots(a);
			return 0;
		}
	}
	a->end_batch = UINT64_MAX;
	a->held = UINT64_MAX;
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->ready, NULL);
	pthread_cond_init(&a->freed, NULL);
	for (i = 0; i < want; i++) {
		if (pthread_create(&a->readers[i], NULL, reader, a))
			break;
		a->nreaders++;
	}
	if (a->nreaders)
		return 1;
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->ready);
	pthread_cond_destroy(&a->freed);
	free_slots(a);
	return 0;
}

int snapcow_areas_open(struct snapcow_store *s, int log_no_terminator,
		       struct snapcow_areas **out)
{
	struct snapcow_areas *a;

	if (!s || !out || !s->chunk_bytes)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->s = s;
	a->log_no_terminator = log_no_terminator;
	a->buf = malloc(s->chunk_bytes);
	if (!a->buf) {
		free(a);
		return -ENOMEM;
	}
	start_readers(a, snapcow_ctx_threads(s->ctx));
	*out = a;
	return 0;
}

/* The slot of batch @b once it is read (the one held before is freed), or
 * NULL when @b lies past the table's end and will not be read. */
static struct slot *hold(struct snapcow_areas *a, uint64_t b)
{
	struct slot *sl = &a->slots[b % a->nslots];

	pthread_mutex_lock(&a->mu);
	if (a->held != b) {
		if (a->held != UINT64_MAX) {
			struct slot *old = &a->slots[a->held % a->nslots];

			old->state = SLOT_EMPTY;
			old->batch += a->nslots;
			a->held = UINT64_MAX;
			pthread_cond_broadcast(&a->freed);
		}
		while (sl->batch != b || sl->state != SLOT_READY) {
			if (b > a->end_batch) {
				sl = NULL;
				break;
			}
			if (a->next_batch == b && sl->batch == b && sl->state == SLOT_EMPTY) {
				/* no reader got to it (a busy machine): read it here
				 * rather than wait for one to be scheduled */
				take_and_fill(a, sl, b);
				continue;
			}
			pthread_cond_wait(&a->ready, &a->mu);
		}
		if (sl)
			a->held = b;
	}
	pthread_mutex_unlock(&a->mu);
	return sl;
}

int snapcow_areas_next(struct snapcow_areas *a, const struct snapcow_disk_exception **rec,
		       uint32_t *n)
{
	struct slot *sl = NULL;
	uint64_t area;
	uint32_t i;
	int r;

	if (!a || !rec || !n)
		return -EINVAL;
	area = a->next;
	r = snapcow_area_fits(a->s, area, a->log_no_terminator);
	if (r < 0)
		return r;
	if (a->nreaders)
		sl = hold(a, area / a->per_batch);
	if (sl) {
		i = (uint32_t)(area % a->per_batch);
		if (i < sl->nread) {
			*rec = (const struct snapcow_disk_exception *)(sl->buf +
								       (size_t)i * a->s->chunk_bytes);
			*n = sl->live[i];
			a->next++;
			return 0;
		}
		if (i == sl->nread && sl->err)
			return snapcow_area_read_failed(a->s, area, sl->err);
	}
	/* one thread, or an area past the table's end asked for all the same */
	r = snapcow_read_area(a->s, area, a->buf, n, a->log_no_terminator);
	if (r < 0)
		return r;
	*rec = (const struct snapcow_disk_exception *)a->buf;
	a->next++;
	return 0;
}

void snapcow_areas_close(struct snapcow_areas *a)
{
	if (!a)
		return;
	if (a->slots) {
		stop_readers(a);
		pthread_mutex_destroy(&a->mu);
		pthread_cond_destroy(&a->ready);
		pthread_cond_destroy(&a->freed);
		free_slots(a);
	}
	free(a->buf);
	free(a);
}
