/*
 * common/clock.c - CLOCK_MONOTONIC in microseconds.
 */
#include "common/clock.h"

#include <time.h>

uint64_t clock_mono_us(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
