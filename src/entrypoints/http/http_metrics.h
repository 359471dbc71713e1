/*
 * entrypoints/http/http_metrics.h - request counters and latency
 * histograms per route and status, for GET /metrics.
 *
 * Written by every event loop, read by the scrape: relaxed atomics, no
 * lock on the request path.  A route is its index in the route table;
 * HTTP_METRICS_OTHER collects what matched no route (404s, protocol
 * errors).
 */
#ifndef SCENTS_ENTRYPOINTS_HTTP_HTTP_METRICS_H
#define SCENTS_ENTRYPOINTS_HTTP_HTTP_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Route slots: enough for the route table, plus "other" at the end. */
#define HTTP_METRICS_ROUTES 64
#define HTTP_METRICS_OTHER  (HTTP_METRICS_ROUTES - 1)
/* Statuses counted one by one; anything else is counted as "other". */
#define HTTP_METRICS_STATUSES 17
/* Latency buckets, upper bounds in microseconds; +Inf is implied. */
#define HTTP_METRICS_BUCKETS 12

struct http_metrics {
	/* answers by route and status slot */
	atomic_ullong requests[HTTP_METRICS_ROUTES][HTTP_METRICS_STATUSES];
	/* latencies by route and bucket (not cumulative; the last: +Inf) */
	atomic_ullong latency[HTTP_METRICS_ROUTES][HTTP_METRICS_BUCKETS + 1];
	atomic_ullong latency_us[HTTP_METRICS_ROUTES]; /* sum, per route */
};

/* A text buffer that grows; mem_alloc'd. */
struct text {
	char *s;    /* NUL-terminated; NULL until the first append */
	size_t len; /* bytes before the NUL */
	size_t cap; /* bytes allocated */
	int oom;    /* an append failed: the text is incomplete */
};

/* Append printf-style; sets @t->oom when memory runs out. */
void text_printf(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Count an answer of @status for route @route (or -1) taking @us. */
void http_metrics_record(struct http_metrics *m, int route, unsigned status,
			 uint64_t us);

/*
 * The HTTP families in Prometheus text format; @labels[i] names route i
 * (n of them).
 */
void http_metrics_render(const struct http_metrics *m,
			 const char *const *labels, size_t n, struct text *out);

#endif
