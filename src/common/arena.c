/*
 * common/arena.c - bump allocator over a list of chunks.
 *
 * Chunks double in size up to ARENA_MAX_CHUNK; a request larger than a
 * chunk gets a chunk of its own.  Reset keeps only the oldest chunk.
 */
#include "common/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <string.h>

#include "common/mem.h"

#define ARENA_FIRST_CHUNK ((size_t)4096)
#define ARENA_MAX_CHUNK	  ((size_t)1024 * 1024)

struct arena_chunk {
	struct arena_chunk *next; /* older chunk */
	size_t size;		  /* usable bytes in data */
	size_t used;		  /* bytes handed out from data */
	alignas(max_align_t) unsigned char data[];
};

static size_t align_up(size_t n)
{
	size_t al = alignof(max_align_t);

	return (n + al - 1) & ~(al - 1);
}

#ifdef SC_DEBUG_ARENA
#define EACH_BY_DEFAULT true
#else
#define EACH_BY_DEFAULT false
#endif

void arena_init(struct arena *a)
{
	a->head = NULL;
	a->n_bytes = 0;
	a->each = EACH_BY_DEFAULT;
}

void arena_release(struct arena *a)
{
	struct arena_chunk *c = a->head;

	while (c) {
		struct arena_chunk *next = c->next;

		mem_free(c);
		c = next;
	}
	a->head = NULL; /* empty, and still in the mode it was in */
	a->n_bytes = 0;
}

void arena_reset(struct arena *a)
{
	struct arena_chunk *c = a->head;

	if (!c)
		return;
	while (c->next) {
		struct arena_chunk *next = c->next;

		mem_free(c);
		c = next;
	}
	if (a->each) {
		mem_free(c);
		a->head = NULL;
	} else {
		c->used = 0;
		a->head = c;
	}
	a->n_bytes = 0;
}

static struct arena_chunk *chunk_new(size_t size, struct arena_chunk *next)
{
	struct arena_chunk *c;

	if (size > SIZE_MAX - sizeof(*c))
		return NULL;
	c = mem_alloc(sizeof(*c) + size);
	if (!c)
		return NULL;
	c->next = next;
	c->size = size;
	c->used = 0;
	return c;
}

/* One block per allocation (a->each). */
static void *alloc_each(struct arena *a, size_t size)
{
	struct arena_chunk *c = chunk_new(size ? size : 1, a->head);

	if (!c)
		return NULL;
	/* Put the oldest chunk last so reset frees every debug block. */
	c->used = c->size;
	a->head = c;
	a->n_bytes += size;
	return c->data;
}

void *arena_alloc(struct arena *a, size_t size)
{
	struct arena_chunk *c = a->head;
	size_t need;
	void *p;

	if (size > SIZE_MAX / 2)
		return NULL;
	if (a->each)
		return alloc_each(a, size);
	need = align_up(size ? size : 1);
	if (!c || c->size - c->used < need) {
		size_t next = c ? c->size * 2 : ARENA_FIRST_CHUNK;

		if (next > ARENA_MAX_CHUNK)
			next = ARENA_MAX_CHUNK;
		if (next < need)
			next = need;
		c = chunk_new(next, a->head);
		if (!c)
			return NULL;
		a->head = c;
	}
	p = c->data + c->used;
	c->used += need;
	a->n_bytes += size;
	return p;
}

void *arena_calloc(struct arena *a, size_t n, size_t size)
{
	void *p;

	if (size && n > SIZE_MAX / size)
		return NULL;
	p = arena_alloc(a, n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

int arena_reserve(struct arena *a, void **items, size_t *cap, size_t need,
		  size_t size)
{
	size_t ncap = *cap ? *cap : 4;
	void *p;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return -1;
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / size)
		return -1;
	p = arena_alloc(a, ncap * size);
	if (!p)
		return -1;
	if (*cap)
		memcpy(p, *items, *cap * size);
	*items = p;
	*cap = ncap;
	return 0;
}
