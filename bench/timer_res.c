/*
 * bench/timer_res.c - the machine's timer resolution as the show sees
 * it: how late a ppoll() with a 1 ms timeout returns (the wait the
 * scheduler and the gateway simulator both sleep in), N times; prints
 * p50, p99 and max in microseconds.  The show's fire-time error is
 * reported against these, measured in the same run.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	long long *late = calloc((size_t)n, sizeof(*late));
	const struct timespec ms = {0, 1000000};

	if (!late || n < 1)
		return 1;
	for (int i = 0; i < n; i++) {
		long long t0 = now_ns();

		(void)ppoll(NULL, 0, &ms, NULL);
		late[i] = now_ns() - t0 - 1000000;
	}
	qsort(late, (size_t)n, sizeof(*late), cmp);
	printf("timer_late_us p50=%.1f p99=%.1f max=%.1f n=%d\n",
	       late[n / 2] / 1000.0, late[n * 99 / 100] / 1000.0,
	       late[n - 1] / 1000.0, n);
	free(late);
	return 0;
}
