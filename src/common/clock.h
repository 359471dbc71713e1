/*
 * common/clock.h - the monotonic clock, for timeouts, deadlines and
 * durations.  Never for dates (those arrive in messages); the domain
 * reads no clock at all.
 */
#ifndef SCENTS_COMMON_CLOCK_H
#define SCENTS_COMMON_CLOCK_H

#include <stdint.h>

/* Microseconds on CLOCK_MONOTONIC: only differences mean anything. */
uint64_t clock_mono_us(void);

#endif
