/*
 * common/util.h - small macros every layer may use.
 */
#ifndef SCENTS_COMMON_UTIL_H
#define SCENTS_COMMON_UTIL_H

#include <stddef.h>

/* Number of elements of a true array (not a pointer). */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The struct of @type whose @member is at @ptr (checked downcasts). */
#define container_of(ptr, type, member)                                        \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#endif
