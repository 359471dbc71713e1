/*
 * common/mem.h - the allocator seam.
 *
 * Only mem.c calls malloc/realloc/free.  Tests swap the hooks to fail the
 * Nth allocation (fault loops) and to count live blocks.  The hooks are the
 * one piece of process-wide mutable state besides the log sink; set them
 * before any thread starts and never while one runs.
 */
#ifndef SCENTS_COMMON_MEM_H
#define SCENTS_COMMON_MEM_H

#include <stddef.h>

struct mem_hooks {
	void *(*alloc)(size_t size);		  /* like malloc */
	void *(*realloc)(void *ptr, size_t size); /* like realloc */
	void (*free)(void *ptr);		  /* like free */
};

/* Install @hooks; NULL restores the C library's functions. */
void mem_set_hooks(const struct mem_hooks *hooks);

/* malloc; NULL on failure or when @size is 0. */
void *mem_alloc(size_t size);

/* Zeroed array of @n * @size bytes; NULL on failure or overflow. */
void *mem_calloc(size_t n, size_t size);

/* realloc; on failure returns NULL and leaves @ptr untouched. */
void *mem_realloc(void *ptr, size_t size);

/* free; NULL is a no-op. */
void mem_free(void *ptr);

/* Heap copy of @s (caller frees with mem_free); NULL on failure. */
char *mem_strdup(const char *s);

#endif
