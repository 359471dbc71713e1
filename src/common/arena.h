/*
 * common/arena.h - a bump allocator for everything one message needs.
 *
 * The bus gives each top-level message an arena (h2o's request pool): parsed
 * input, loaded aggregates, events and the bus queue all live in it and die
 * together when the bus resets it.  Nothing in an arena is freed one by one.
 * With SC_DEBUG_ARENA defined every allocation is its own mem_alloc() block,
 * so ASan sees overruns and use after reset (libgit2's DEBUG_POOL).
 *
 * Not thread-safe: one arena belongs to one thread at a time.
 */
#ifndef SCENTS_COMMON_ARENA_H
#define SCENTS_COMMON_ARENA_H

#include <stdbool.h>
#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head; /* newest chunk first; NULL when empty */
	size_t n_bytes;		  /* bytes handed out since the last reset */
	bool each;		  /* one heap block per allocation, so that
				     ASan checks each and a fault loop can
				     fail each (tests set it; SC_DEBUG_ARENA
				     makes it the default) */
};

/* Make @a empty; allocates nothing. */
void arena_init(struct arena *a);

/* Free every chunk; @a is empty afterwards and may be reused. */
void arena_release(struct arena *a);

/*
 * Forget every allocation but keep the first chunk for reuse, so a
 * steady stream of similar messages does not call malloc at all.
 */
void arena_reset(struct arena *a);

/* @size bytes aligned for any type, or NULL when memory runs out. */
void *arena_alloc(struct arena *a, size_t size);

/* Zeroed @n * @size bytes; NULL on failure or overflow. */
void *arena_calloc(struct arena *a, size_t n, size_t size);

/* Copy of @s in @a (NUL-terminated); NULL on failure. */
char *arena_strdup(struct arena *a, const char *s);

/* Copy of the first @n bytes of @s plus a NUL; NULL on failure. */
char *arena_strndup(struct arena *a, const char *s, size_t n);

/*
 * Grow the array @*items of @*cap elements of @size bytes so that it holds
 * at least @need elements, doubling (old storage stays in the arena).
 * Returns 0, or -1 when memory runs out (then nothing changed).
 */
int arena_reserve(struct arena *a, void **items, size_t *cap, size_t need,
		  size_t size);

#endif
