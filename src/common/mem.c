/*
 * common/mem.c - the allocator seam; the only caller of malloc and free.
 */
#include "common/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const struct mem_hooks libc_hooks = {
	.alloc = malloc,
	.realloc = realloc,
	.free = free,
};

static struct mem_hooks hooks = {
	.alloc = malloc,
	.realloc = realloc,
	.free = free,
};

void mem_set_hooks(const struct mem_hooks *h)
{
	hooks = h ? *h : libc_hooks;
}

void *mem_alloc(size_t size)
{
	return size ? hooks.alloc(size) : NULL;
}

void *mem_calloc(size_t n, size_t size)
{
	void *p;

	if (!n || !size || n > SIZE_MAX / size)
		return NULL;
	p = hooks.alloc(n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

void *mem_realloc(void *ptr, size_t size)
{
	return size ? hooks.realloc(ptr, size) : NULL;
}

void mem_free(void *ptr)
{
	if (ptr)
		hooks.free(ptr);
}

char *mem_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = mem_alloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
}
