/*
 * tests/fuzz/fuzz_http.c - libFuzzer target: any bytes as what a client
 * sends on one connection, read by the server's own connection handling
 * (http-parser, our head capture, bodies, pipelining, refusals) in
 * pieces whose size the first byte picks.  Every answer written back
 * must be a whole HTTP/1.1 response with a JSON body (or the text its
 * Content-Type says: /metrics, the dashboard's HTML and CSS), and the
 * server must never write after saying Connection: close.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/mem.h"
#include "entrypoints/http/server.h"
#include "fuzz_worker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* @needle in the @n bytes at @hay, or NULL (memmem is not POSIX). */
static const char *find(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= n; i++)
		if (!memcmp(hay + i, needle, k))
			return hay + i;
	return NULL;
}

/* Check each response in @out (@n bytes); abort on anything malformed. */
static void check(const char *out, size_t n)
{
	const char *p = out, *end = out + n;

	while (p < end) {
		const char *head_end = find(p, (size_t)(end - p), "\r\n\r\n");
		const char *cl;
		size_t len;

		if (strncmp(p, "HTTP/1.1 ", 9) != 0 || !head_end)
			abort();
		if (!strncmp(p, "HTTP/1.1 100 ", 13)) { /* interim */
			p = head_end + 4;
			continue;
		}
		cl = find(p, (size_t)(head_end - p), "Content-Length: ");
		if (!cl)
			abort();
		len = strtoul(cl + 16, NULL, 10);
		if ((size_t)(end - head_end - 4) < len)
			abort();
		/* JSON: an object, or an array (GET /tokens); GET /metrics
		   is Prometheus text, the dashboard HTML or CSS (its 303s
		   empty), and they say so */
		if (!find(p, (size_t)(head_end - p), "Content-Type: text/") &&
		    head_end[4] != '{' && head_end[4] != '[')
			abort();
		if (find(p, (size_t)(head_end - p), "Connection: close") &&
		    head_end + 4 + len != end)
			abort(); /* nothing may follow a closing answer */
		p = head_end + 4 + len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct worker *w = fuzz_worker();
	static char out[1 << 20];
	int sv[2];
	size_t n = 0;
	ssize_t r;

	if (size < 1 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv))
		return 0;
	server_feed(w, sv[0], (const char *)data + 1, size - 1,
		    1 + (size_t)data[0] % 64); /* closes sv[0] */
	while (n < sizeof(out) &&
	       (r = read(sv[1], out + n, sizeof(out) - n)) > 0)
		n += (size_t)r;
	(void)close(sv[1]);
	check(out, n);
	return 0;
}
