/*
 * entrypoints/http/http_metrics.c - HTTP counters and their Prometheus
 * text (exposition format 0.0.4).
 */
#include "entrypoints/http/http_metrics.h"

#include <stdarg.h>
#include <stdio.h>

#include "common/mem.h"

static const unsigned statuses[HTTP_METRICS_STATUSES - 1] = {
	200, 201, 202, 400, 401, 403, 404, 405,
	409, 413, 415, 431, 500, 501, 503, 505};

/* Bucket bounds: 0.5 ms to 2.5 s, the range of a request here. */
static const uint64_t bounds_us[HTTP_METRICS_BUCKETS] = {
	500,   1000,   2500,   5000,   10000,	25000,
	50000, 100000, 250000, 500000, 1000000, 2500000};

void text_printf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = t->cap - t->len;

		if (t->s) {
			va_start(ap, fmt);
			n = vsnprintf(t->s + t->len, room, fmt, ap);
			va_end(ap);
			if (n < 0) {
				t->oom = 1;
				return;
			}
			if ((size_t)n < room) {
				t->len += (size_t)n;
				return;
			}
		}
		char *grown = mem_realloc(t->s, t->cap ? t->cap * 2 : 4096);

		if (!grown) {
			t->oom = 1;
			return;
		}
		t->s = grown;
		t->cap = t->cap ? t->cap * 2 : 4096;
		t->s[t->len] = '\0';
	}
}

static size_t status_slot(unsigned status)
{
	for (size_t i = 0; i < HTTP_METRICS_STATUSES - 1; i++)
		if (statuses[i] == status)
			return i;
	return HTTP_METRICS_STATUSES - 1;
}

void http_metrics_record(struct http_metrics *m, int route, unsigned status,
			 uint64_t us)
{
	size_t r = route < 0 || route >= HTTP_METRICS_OTHER ? HTTP_METRICS_OTHER
							    : (size_t)route;
	size_t b = 0;

	while (b < HTTP_METRICS_BUCKETS && us > bounds_us[b])
		b++;
	atomic_fetch_add_explicit(&m->requests[r][status_slot(status)], 1,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&m->latency[r][b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->latency_us[r], us, memory_order_relaxed);
}

static const char *label_of(const char *const *labels, size_t n, size_t r)
{
	return r < n ? labels[r] : "other";
}

/* Only routes that were asked at least once, to keep scrapes small. */
static void render_requests(const struct http_metrics *m,
			    const char *const *labels, size_t n,
			    struct text *out)
{
	text_printf(out, "# HELP scents_http_requests_total HTTP answers by "
			 "route and status.\n"
			 "# TYPE scents_http_requests_total counter\n");
	for (size_t r = 0; r < HTTP_METRICS_ROUTES; r++)
		for (size_t s = 0; s < HTTP_METRICS_STATUSES; s++) {
			unsigned long long v = atomic_load_explicit(
				&m->requests[r][s], memory_order_relaxed);
			char code[8];

			if (!v || (r >= n && r != HTTP_METRICS_OTHER))
				continue;
			if (s < HTTP_METRICS_STATUSES - 1)
				(void)snprintf(code, sizeof(code), "%u",
					       statuses[s]);
			else
				(void)snprintf(code, sizeof(code), "other");
			text_printf(out,
				    "scents_http_requests_total{route=\"%s\","
				    "status=\"%s\"} %llu\n",
				    label_of(labels, n, r), code, v);
		}
}

static void render_latency(const struct http_metrics *m,
			   const char *const *labels, size_t n,
			   struct text *out)
{
	text_printf(out, "# HELP scents_http_request_duration_seconds Time "
			 "from a request's first byte to its answer.\n"
			 "# TYPE scents_http_request_duration_seconds "
			 "histogram\n");
	for (size_t r = 0; r < HTTP_METRICS_ROUTES; r++) {
		unsigned long long total = 0;
		const char *route = label_of(labels, n, r);

		for (size_t b = 0; b <= HTTP_METRICS_BUCKETS; b++)
			total += atomic_load_explicit(&m->latency[r][b],
						      memory_order_relaxed);
		if (!total || (r >= n && r != HTTP_METRICS_OTHER))
			continue;
		total = 0;
		for (size_t b = 0; b <= HTTP_METRICS_BUCKETS; b++) {
			total += atomic_load_explicit(&m->latency[r][b],
						      memory_order_relaxed);
			if (b < HTTP_METRICS_BUCKETS)
				text_printf(out,
					    "scents_http_request_duration_"
					    "seconds_bucket{route=\"%s\","
					    "le=\"%g\"} %llu\n",
					    route, (double)bounds_us[b] / 1e6,
					    total);
			else
				text_printf(out,
					    "scents_http_request_duration_"
					    "seconds_bucket{route=\"%s\","
					    "le=\"+Inf\"} %llu\n",
					    route, total);
		}
		text_printf(out,
			    "scents_http_request_duration_seconds_sum{route="
			    "\"%s\"} %.6f\n"
			    "scents_http_request_duration_seconds_count{route="
			    "\"%s\"} %llu\n",
			    route, (double)atomic_load(&m->latency_us[r]) / 1e6,
			    route, total);
	}
}

void http_metrics_render(const struct http_metrics *m,
			 const char *const *labels, size_t n, struct text *out)
{
	render_requests(m, labels, n, out);
	render_latency(m, labels, n, out);
}
