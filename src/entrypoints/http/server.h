/*
 * entrypoints/http/server.h - `scents serve`: the HTTP API on
 * libmicrohttpd with an internal thread pool.
 *
 * Each pool thread borrows a worker (its own store connection and bus)
 * per request.  Limits: request bodies over HTTP_BODY_MAX get 413, counted
 * as they arrive; connections idle (or trickling) for SERVER_TIMEOUT_S are
 * closed; at most SERVER_CONN_MAX connections in all and
 * SERVER_PER_IP_MAX from one address.
 *
 * SIGINT/SIGTERM: stop accepting, let requests in flight finish (up to
 * SERVER_DRAIN_S), close connections, release the store, return 0.
 */
#ifndef SCENTS_ENTRYPOINTS_HTTP_SERVER_H
#define SCENTS_ENTRYPOINTS_HTTP_SERVER_H

struct app;
struct config;
struct sc_err;

#define SERVER_TIMEOUT_S  30
#define SERVER_CONN_MAX	  1024
#define SERVER_PER_IP_MAX 256
#define SERVER_DRAIN_S	  10

/*
 * Serve @app on cfg->http_host:cfg->http_port with cfg->http_threads
 * threads until SIGINT or SIGTERM.  Logs "event=listening url=..." with
 * the bound port.  SC_EINVAL (bad host), SC_EIO (cannot listen, store).
 */
int server_run(struct app *app, const struct config *cfg, struct sc_err *err);

#endif
