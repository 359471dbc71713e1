/*
 * entrypoints/http/server.h - `scents serve`: the HTTP/1.1 API.
 *
 * Our own connection handling on epoll, one event loop per thread, with
 * Node's http-parser (Debian libhttp-parser) reading the protocol.  We
 * left libmicrohttpd because it answers some errors itself, in HTML,
 * resets connections it refuses, and has no deadline for a trickling
 * client (docs/decisions/0008-own-http-connection-handling.md).
 *
 * Each loop owns a worker (its own store connection and bus) and runs a
 * request to completion on it.  Every answer, protocol errors included,
 * is JSON {"message": ...}.  A refused request is answered at once, then
 * the connection is closed lingering: we stop writing and read and drop
 * what the client still sends (up to SERVER_LINGER_MS), so the kernel
 * does not reset the connection before the client has read the answer.
 *
 * Limits: a request head over HTTP_HEAD_MAX gets 431, a body over
 * HTTP_BODY_MAX 413; deadlines for a head and a body, and connection
 * limits with eviction, come from entrypoints/http/guard.h; a response
 * the client does not read within SERVER_WRITE_MS is dropped.
 *
 * SIGINT/SIGTERM: stop accepting, close idle connections, let requests
 * begun finish (up to SERVER_DRAIN_S), release the store, return 0.
 */
#ifndef SCENTS_ENTRYPOINTS_HTTP_SERVER_H
#define SCENTS_ENTRYPOINTS_HTTP_SERVER_H

#include <stddef.h>

struct app;
struct config;
struct sc_err;

#define SERVER_CONN_MAX	  1024	/* connections in all */
#define SERVER_PER_IP_MAX 256	/* connections from one address */
#define SERVER_DRAIN_S	  10	/* grace for requests at shutdown */
#define SERVER_BACKLOG	  1024	/* listen(2) backlog */
#define SERVER_WRITE_MS	  10000 /* a client must read its answer */
#define SERVER_LINGER_MS  5000	/* reading and dropping after a refusal */
/* Request line and headers together. */
#define HTTP_HEAD_MAX ((size_t)16 * 1024)

/*
 * Serve @app on cfg->http_host:cfg->http_port with cfg->http_threads
 * threads until SIGINT or SIGTERM.  Logs "event=listening url=..." with
 * the bound port.  SC_EINVAL (bad host), SC_EIO (cannot listen, no token
 * on a public address, store).
 */
int server_run(struct app *app, const struct config *cfg, struct sc_err *err);

struct worker;

/*
 * For tests/fuzz/fuzz_http.c: feed @data (@len bytes, @chunk at a time)
 * to one connection on socket @fd, served by @w, exactly as a loop
 * would; answers are written to @fd, which is closed at the end.
 */
void server_feed(struct worker *w, int fd, const char *data, size_t len,
		 size_t chunk);

#endif
