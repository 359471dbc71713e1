/*
 * entrypoints/http/server.c - libmicrohttpd plumbing: request lifecycle,
 * body accumulation, worker pool, access log, graceful shutdown.
 */
#include "entrypoints/http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bootstrap.h"
#include "common/config.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "entrypoints/http/routes.h"

struct server {
	struct app *app;	/* the composition root */
	pthread_mutex_t lock;	/* guards everything below */
	pthread_cond_t changed; /* a worker or a request came back */
	struct worker *workers; /* one per pool thread */
	size_t n_workers;	/* entries in workers */
	struct worker **free;	/* stack of idle workers */
	size_t n_free;		/* entries used in free */
	size_t in_flight;	/* requests begun, not yet completed */
};

/* One HTTP request, from its first callback to its completion. */
struct request {
	uint64_t start_us; /* monotonic, at the first callback */
	char *body;	   /* accumulated upload; mem_alloc'd */
	size_t len;	   /* bytes in body */
	bool too_large;	   /* over HTTP_BODY_MAX: answer 413 */
	unsigned status;   /* what was answered; 0 = nothing */
	char method[16];   /* escaped, for the access log */
	char path[160];	   /* escaped, for the access log */
};

static uint64_t now_us(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static struct worker *acquire(struct server *s)
{
	struct worker *w;

	(void)pthread_mutex_lock(&s->lock);
	while (!s->n_free)
		(void)pthread_cond_wait(&s->changed, &s->lock);
	w = s->free[--s->n_free];
	(void)pthread_mutex_unlock(&s->lock);
	return w;
}

static void release(struct server *s, struct worker *w)
{
	(void)pthread_mutex_lock(&s->lock);
	s->free[s->n_free++] = w;
	(void)pthread_cond_broadcast(&s->changed);
	(void)pthread_mutex_unlock(&s->lock);
}

/* Queue @body (copied by MHD) with @status. */
static enum MHD_Result respond(struct MHD_Connection *c, struct request *r,
			       unsigned status, char *body, const char *allow)
{
	char oom[] = "{\"message\":\"out of memory\"}";
	struct MHD_Response *resp;
	enum MHD_Result ok;

	if (!body) {
		status = 503;
		body = oom;
	}
	resp = MHD_create_response_from_buffer(strlen(body), body,
					       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	(void)MHD_add_response_header(resp, "Content-Type", "application/json");
	if (allow)
		(void)MHD_add_response_header(resp, "Allow", allow);
	ok = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	r->status = status;
	return ok;
}

static enum MHD_Result too_large(struct MHD_Connection *c, struct request *r)
{
	char body[] = "{\"message\":\"request body is larger than 65536 "
		      "bytes\"}";

	return respond(c, r, 413, body, NULL);
}

/* First callback of a request: set it up; refuse a declared huge body. */
static enum MHD_Result begin(struct server *s, struct MHD_Connection *c,
			     const char *url, const char *method,
			     void **con_cls)
{
	struct request *r = mem_calloc(1, sizeof(*r));
	const char *cl;

	if (!r)
		return MHD_NO;
	r->start_us = now_us();
	(void)log_escape(method, strlen(method), r->method, sizeof(r->method));
	(void)log_escape(url, strlen(url), r->path, sizeof(r->path));
	*con_cls = r;
	(void)pthread_mutex_lock(&s->lock);
	s->in_flight++;
	(void)pthread_mutex_unlock(&s->lock);
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					 MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && (strlen(cl) > 9 || strtoul(cl, NULL, 10) > HTTP_BODY_MAX)) {
		r->too_large = true;
		return too_large(c, r);
	}
	return MHD_YES;
}

/* A chunk of body: keep it, or count it against the cap and drop it. */
static void take_chunk(struct request *r, const char *data, size_t n)
{
	char *grown;

	if (r->too_large)
		return;
	if (n > HTTP_BODY_MAX - r->len) {
		r->too_large = true;
		mem_free(r->body);
		r->body = NULL;
		r->len = 0;
		return;
	}
	grown = mem_realloc(r->body, r->len + n);
	if (!grown) {
		r->too_large = true; /* answered 413; nothing half-read runs */
		return;
	}
	memcpy(grown + r->len, data, n);
	r->body = grown;
	r->len += n;
}

/* NOLINTNEXTLINE(readability-function-size): libmicrohttpd's signature */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct server *s = cls;
	struct request *r = *con_cls;
	struct http_reply rep = {0};
	struct http_req req;
	struct worker *w;
	enum MHD_Result ok;

	(void)version;
	if (!r)
		return begin(s, c, url, method, con_cls);
	if (*upload_size) {
		take_chunk(r, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->status)
		return MHD_YES; /* answered early (413) */
	if (r->too_large)
		return too_large(c, r);
	req.method = method;
	req.path = url;
	req.body = r->body;
	req.len = r->len;
	req.limit =
		MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
	req.after =
		MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after");
	req.threshold = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
						    "threshold");
	req.content_type = MHD_lookup_connection_value(
		c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	w = acquire(s);
	routes_dispatch(w, &req, &rep);
	release(s, w);
	ok = respond(c, r, rep.status, rep.body, rep.allow);
	mem_free(rep.body);
	return ok;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct server *s = cls;
	struct request *r = *con_cls;

	(void)c;
	if (!r)
		return;
	log_msg(LOG_INFO, "method=%s path=\"%s\" status=%u us=%llu%s",
		r->method, r->path, r->status,
		(unsigned long long)(now_us() - r->start_us),
		toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
	mem_free(r->body);
	mem_free(r);
	*con_cls = NULL;
	(void)pthread_mutex_lock(&s->lock);
	s->in_flight--;
	(void)pthread_cond_broadcast(&s->changed);
	(void)pthread_mutex_unlock(&s->lock);
}

/* Leave the path percent-encoded: routes decode it, %00 included. */
static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *uri)
{
	(void)cls;
	(void)c;
	return strlen(uri);
}

static void stop_workers(struct server *s)
{
	for (size_t i = 0; i < s->n_workers; i++)
		if (s->workers[i].uow)
			bootstrap_worker_release(&s->workers[i]);
	mem_free(s->workers);
	mem_free(s->free);
}

static int start_workers(struct server *s, size_t n, struct sc_err *err)
{
	s->workers = mem_calloc(n, sizeof(*s->workers));
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointer array */
	s->free = mem_calloc(n, sizeof(*s->free));
	if (!s->workers || !s->free)
		return err_set(err, SC_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		int rc = bootstrap_worker_init(s->app, &s->workers[i], err);

		if (rc)
			return rc;
		s->n_workers = i + 1;
		s->free[s->n_free++] = &s->workers[i];
	}
	return SC_OK;
}

/* Wait until no request is in flight, or @seconds pass. */
static void drain(struct server *s, int seconds)
{
	struct timespec until;

	(void)clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += seconds;
	(void)pthread_mutex_lock(&s->lock);
	while (s->in_flight && pthread_cond_timedwait(&s->changed, &s->lock,
						      &until) != ETIMEDOUT)
		;
	if (s->in_flight)
		log_msg(LOG_WARN, "event=drain_timeout in_flight=%zu",
			s->in_flight);
	(void)pthread_mutex_unlock(&s->lock);
}

struct listen_addr {
	struct sockaddr_storage ss; /* the address to bind */
	unsigned flags;		    /* MHD_USE_IPv6 when it is v6 */
};

static int parse_addr(const struct config *cfg, struct listen_addr *out,
		      struct sc_err *err)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->ss;
	const char *host = cfg->http_host;

	memset(out, 0, sizeof(*out));
	if (!strcmp(host, "localhost"))
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)cfg->http_port);
		return SC_OK;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)cfg->http_port);
		out->flags = MHD_USE_IPv6;
		return SC_OK;
	}
	return err_set(err, SC_EINVAL,
		       "HTTP_HOST must be an IPv4 or IPv6 address, not '%.60s'",
		       host);
}

static struct MHD_Daemon *
start_daemon(struct server *s, const struct config *cfg, struct listen_addr *a)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			 MHD_USE_ITC | MHD_USE_TURBO | a->flags;

	return MHD_start_daemon(
		flags, (uint16_t)cfg->http_port, NULL, NULL, on_request, s,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a->ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->http_threads,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)SERVER_CONN_MAX,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)SERVER_PER_IP_MAX,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SERVER_TIMEOUT_S,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL,
		MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
}

/* Log where we listen: the port the kernel chose when asked for 0. */
static void log_listening(struct MHD_Daemon *d, const struct config *cfg)
{
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	bool v6 = strchr(cfg->http_host, ':') != NULL;

	log_msg(LOG_INFO,
		"event=listening url=http://%s%s%s:%u/ threads=%d store=%s",
		v6 ? "[" : "", cfg->http_host, v6 ? "]" : "",
		info ? info->port : (unsigned)cfg->http_port, cfg->http_threads,
		cfg->database_url);
}

int server_run(struct app *app, const struct config *cfg, struct sc_err *err)
{
	struct server s = {.app = app};
	struct listen_addr addr;
	struct MHD_Daemon *d;
	sigset_t stop;
	int sig = 0, rc;

	rc = parse_addr(cfg, &addr, err);
	if (rc)
		return rc;
	/* Block before any thread starts, so only sigwait() sees them. */
	(void)sigemptyset(&stop);
	(void)sigaddset(&stop, SIGINT);
	(void)sigaddset(&stop, SIGTERM);
	(void)pthread_sigmask(SIG_BLOCK, &stop, NULL);
	(void)signal(SIGPIPE, SIG_IGN);
	(void)pthread_mutex_init(&s.lock, NULL);
	(void)pthread_cond_init(&s.changed, NULL);
	rc = start_workers(&s, (size_t)cfg->http_threads, err);
	d = rc ? NULL : start_daemon(&s, cfg, &addr);
	if (!rc && !d)
		rc = err_set(err, SC_EIO, "cannot listen on %s:%d: %s",
			     cfg->http_host, cfg->http_port, strerror(errno));
	if (!rc) {
		log_listening(d, cfg);
		(void)sigwait(&stop, &sig);
		log_msg(LOG_INFO, "event=stopping signal=%d", sig);
		MHD_socket fd = MHD_quiesce_daemon(d);

		if (fd != MHD_INVALID_SOCKET)
			(void)close(fd);
		drain(&s, SERVER_DRAIN_S);
		MHD_stop_daemon(d);
		log_msg(LOG_INFO, "event=stopped");
	}
	stop_workers(&s);
	(void)pthread_cond_destroy(&s.changed);
	(void)pthread_mutex_destroy(&s.lock);
	return rc;
}
