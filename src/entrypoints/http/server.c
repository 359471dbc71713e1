/*
 * entrypoints/http/server.c - HTTP/1.1 connections on epoll: one event
 * loop per thread, each with its own worker; http-parser reads the
 * protocol, routes.c answers.
 *
 * A request runs to completion on the loop that read it: handlers are
 * short (a few SQLite statements), and a loop per core with its own
 * store connection is the thread model measured in docs/benchmarks.md.
 */
#include "entrypoints/http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bootstrap.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/thread.h"
#include "common/url.h"
#include "entrypoints/auth/auth.h"
#include "entrypoints/http/guard.h"
#include "entrypoints/http/http_metrics.h"
#include "entrypoints/http/routes.h"
#include "service/uow.h"
#include "service/writer.h"

/* Bytes read from a socket at a time. */
#define READ_CHUNK 16384
/* Deadline checks: how often a loop looks at its connections. */
#define TICK_MS 250

struct loop;

/* What the request being read looks like so far. */
struct request {
	uint64_t start_us;	/* monotonic, at its first byte */
	bool begun;		/* on_message_begin seen */
	bool headers_done;	/* on_headers_complete seen */
	bool complete;		/* on_message_complete seen */
	char *head;		/* URL, then "name\0value\0"...; owned */
	size_t head_len;	/* bytes used in head */
	size_t url_len;		/* the URL's bytes at head */
	bool in_value;		/* the last header bytes were a value */
	bool fresh;		/* no callback yet in this execute() */
	char *body;		/* the body; owned */
	size_t body_len;	/* bytes in body */
	unsigned reject;	/* refuse with this status; 0: none */
	const char *reject_msg; /* and this message */
};

/* One client connection, owned by one loop. */
struct conn {
	struct conn *prev, *next; /* the loop's list */
	struct loop *loop;	  /* owner */
	int fd;			  /* the socket */
	struct guard_conn *gc;	  /* the guard's entry */
	http_parser parser;	  /* protocol state */
	struct request req;	  /* the request being read */
	char in[READ_CHUNK];	  /* bytes read, not yet parsed */
	size_t in_off, in_len;	  /* unparsed bytes: in[in_off..in_len) */
	char *out;		  /* response bytes; owned */
	size_t out_len, out_off;  /* written so far: out_off */
	bool writing;		  /* waiting for EPOLLOUT */
	bool closing;		  /* close once out is written */
	bool lingering;		  /* written and shut; draining input */
	uint64_t deadline_ms;	  /* for writing or lingering; 0: none */
	char request_id[LOG_REQUEST_ID_MAX + 1]; /* of the current request */
	char client[INET6_ADDRSTRLEN];		 /* peer address, for the log */
	struct parked *parked; /* its command is in the batched writer */
	bool hung_up;	       /* the peer went away while parked */
	bool muted;	       /* parked, and stopped from reporting input */
};

/*
 * A request whose command is in the batched writer (decisions/0013): the
 * loop goes on serving other connections; the writer's thread hands it
 * back through the loop's done list and eventfd once the batch is
 * durable, and the loop answers it then.
 */
struct parked {
	struct writer_item item;      /* in the writer's queue */
	struct http_command cmd;      /* the command and its outcome */
	struct conn *c;		      /* the parked connection */
	struct parked *next;	      /* the loop's done list */
	char who[TOKEN_NAME_MAX + 1]; /* the token's name, for the log */
	int route;		      /* for the metrics */
};

struct server {
	struct app *app;		 /* the composition root */
	const struct config *cfg;	 /* settings */
	int listen_fd;			 /* shared by every loop */
	struct guard *guard;		 /* deadlines, limits, eviction */
	struct auth *auth;		 /* token checks */
	struct worker auth_worker;	 /* the token table's connection */
	struct loop *loops;		 /* one per thread */
	size_t n_loops;			 /* entries in loops */
	atomic_bool stopping;		 /* SIGTERM: drain and end */
	_Atomic uint64_t drain_until_ms; /* when stopping: give up then */
	pthread_t watchdog;		 /* runs guard_tick() */
	uint32_t id_prefix;		 /* random, for request ids */
	struct http_metrics metrics;	 /* answers and latencies */
	atomic_uint next_id;		 /* request ids made so far */
	bool watchdog_started;		 /* watchdog must be joined */
};

struct loop {
	struct server *srv;	   /* shared state */
	int epfd;		   /* its epoll instance */
	int wake_fd;		   /* eventfd: stop now */
	struct worker own;	   /* its store connection and bus */
	struct worker *w;	   /* &own, or a test's worker (server_feed) */
	bool w_ready;		   /* w was initialised */
	struct conn head;	   /* sentinel of its connections */
	size_t n_conns;		   /* connections it holds */
	int done_fd;		   /* eventfd: parked requests are done */
	pthread_mutex_t done_lock; /* guards done */
	struct parked *done;	   /* answered by the writer, to send */
	size_t n_parked;	   /* requests in the writer now */
	pthread_t tid;		   /* its thread */
	bool started;		   /* tid must be joined */
};

static uint64_t now_us(void)
{
	return clock_mono_us();
}

static uint64_t now_ms(void)
{
	return now_us() / 1000u;
}

static const char *reason(unsigned status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 303:
		return "See Other";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Error";
	}
}

/* ---- request head capture (http-parser callbacks) -------------------- */

static struct conn *conn_of(http_parser *p)
{
	return p->data;
}

/*
 * The request's id: the client's X-Request-Id when it is 1..64 of
 * [A-Za-z0-9._:-] (safe in a header and a log line as it is), else a new
 * one.  Set for this thread's log lines too.
 */
static void take_request_id(struct conn *c, const char *given)
{
	struct server *s = c->loop->srv;

	if (given && *given && strlen(given) <= LOG_REQUEST_ID_MAX &&
	    strspn(given, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			  "0123456789._:-") == strlen(given))
		(void)snprintf(c->request_id, sizeof(c->request_id), "%s",
			       given);
	else
		(void)snprintf(c->request_id, sizeof(c->request_id), "%08x%08x",
			       s->id_prefix, atomic_fetch_add(&s->next_id, 1u));
	log_set_request_id(c->request_id);
}

/* Refuse the request; the first reason wins.  Returns 0 for callbacks. */
static int refuse(struct request *r, unsigned status, const char *msg)
{
	if (!r->reject) {
		r->reject = status;
		r->reject_msg = msg;
	}
	return 0;
}

/* Append @n bytes to the head; -1 (431) when it would overflow. */
static int head_put(struct request *r, const char *at, size_t n)
{
	if (n > HTTP_HEAD_MAX - 1 - r->head_len) {
		refuse(r, 431, "request head is larger than 16384 bytes");
		return -1;
	}
	memcpy(r->head + r->head_len, at, n);
	r->head_len += n;
	return 0;
}

static int on_begin(http_parser *p)
{
	struct request *r = &conn_of(p)->req;

	r->begun = true;
	r->start_us = now_us();
	if (!r->head && !(r->head = mem_alloc(HTTP_HEAD_MAX)))
		return -1;
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
	struct request *r = &conn_of(p)->req;
	int rc = head_put(r, at, n);

	r->url_len = r->head_len;
	r->fresh = false;
	return rc;
}

/*
 * http-parser hands a header over in pieces only where a read ended, so
 * a field continues the previous one only when it is the first callback
 * of an execute() and the last bytes before were a field.
 */
static int on_field(http_parser *p, const char *at, size_t n)
{
	struct request *r = &conn_of(p)->req;
	bool continues = r->fresh && !r->in_value && r->head_len > r->url_len;

	r->fresh = false;
	if (!continues && head_put(r, "", 1)) /* ends URL or last value */
		return -1;
	r->in_value = false;
	return head_put(r, at, n);
}

static int on_value(http_parser *p, const char *at, size_t n)
{
	struct request *r = &conn_of(p)->req;

	r->fresh = false;
	if (memchr(at, '\0', n))
		return refuse(r, 400, "a header value holds a NUL byte"), -1;
	if (!r->in_value && head_put(r, "", 1)) /* ends the field name */
		return -1;
	r->in_value = true;
	return head_put(r, at, n);
}

/* Value of header @name (case-insensitive), its count in *@n (may be NULL). */
static const char *header(const struct request *r, const char *name,
			  unsigned *n)
{
	const char *found = NULL, *p = r->head + r->url_len + 1;
	const char *end = r->head + r->head_len;
	unsigned count = 0;

	while (p < end) {
		const char *value = p + strlen(p) + 1;

		if (value >= end)
			break;
		if (!strcasecmp(p, name) && !count++)
			found = value;
		p = value + strlen(value) + 1;
	}
	if (n)
		*n = count;
	return found;
}

/* Whole head in: decide what cannot be served, from the head alone. */
static int on_headers(http_parser *p)
{
	struct conn *c = conn_of(p);
	struct request *r = &c->req;
	const char *expect;
	unsigned n_host;

	r->fresh = false;
	r->headers_done = true;
	if (r->head_len > r->url_len && head_put(r, "", 1)) /* last value */
		return -1;
	if (r->head_len == r->url_len && head_put(r, "", 1)) /* no header */
		return -1;
	r->head[r->head_len] = '\0';
	(void)header(r, "Host", &n_host);
	if (p->http_major != 1)
		refuse(r, 505, "only HTTP/1.0 and HTTP/1.1 are served");
	else if (n_host > 1 || (!n_host && p->http_minor == 1))
		refuse(r, 400,
		       "an HTTP/1.1 request needs exactly one Host "
		       "header");
	else if ((p->flags & F_CONTENTLENGTH) &&
		 p->content_length > HTTP_BODY_MAX)
		refuse(r, 413, "request body is larger than 65536 bytes");
	guard_head_done(c->loop->srv->guard, c->gc, now_ms());
	if (r->reject)
		return -1; /* answer now; the rest is drained, not parsed */
	expect = header(r, "Expect", NULL);
	if (expect && !strcasecmp(expect, "100-continue") && p->http_minor == 1)
		/*
		 * The client waits for this before sending its body (curl
		 * does for a few KiB and up); best effort: a full socket
		 * buffer just means it sends after its own timeout.
		 */
		(void)!send(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25,
			    MSG_NOSIGNAL);
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct request *r = &conn_of(p)->req;
	char *grown;

	r->fresh = false;
	if (n > HTTP_BODY_MAX - r->body_len) {
		refuse(r, 413, "request body is larger than 65536 bytes");
		return -1;
	}
	grown = mem_realloc(r->body, r->body_len + n);
	if (!grown) {
		refuse(r, 503, "out of memory");
		return -1;
	}
	memcpy(grown + r->body_len, at, n);
	r->body = grown;
	r->body_len += n;
	return 0;
}

/* One request at a time: pause until it has been answered. */
static int on_complete(http_parser *p)
{
	struct request *r = &conn_of(p)->req;

	r->fresh = false;
	r->complete = true;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings parser_settings = {
	.on_message_begin = on_begin,
	.on_url = on_url,
	.on_header_field = on_field,
	.on_header_value = on_value,
	.on_headers_complete = on_headers,
	.on_body = on_body,
	.on_message_complete = on_complete,
};

/* ---- responses -------------------------------------------------------- */

/* Queue the whole response; @close adds Connection: close. */
static int queue_response(struct conn *c, const struct http_reply *rep,
			  bool close)
{
	static char unsafe_body[] = "{\"message\":\"internal error: a header "
				    "value held a line break\"}";
	static const struct http_reply unsafe = {.status = 500,
						 .body = unsafe_body};
	char head[1024];
	const char *body;
	unsigned status;
	size_t blen;
	int hlen;

	/* the last line against response splitting (routes.h) */
	if (!http_reply_headers_safe(rep)) {
		log_msg(LOG_ERROR, "event=unsafe_header status=%u",
			rep->status);
		rep = &unsafe;
	}
	body = rep->body ? rep->body : "{\"message\":\"out of memory\"}";
	status = rep->body ? rep->status : 503;
	blen = strlen(body);

	hlen = snprintf(
		head, sizeof(head),
		"HTTP/1.1 %u %s\r\n"
		"Content-Type: %s\r\n"
		"Content-Length: %zu\r\n"
		"Cache-Control: %s\r\n"
		"X-Content-Type-Options: nosniff\r\n"
		"X-Request-Id: %s\r\n"
		"%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s\r\n",
		status, reason(status),
		rep->body && rep->content_type ? rep->content_type
					       : "application/json",
		blen, rep->cache_control ? rep->cache_control : "no-store",
		c->request_id,
		/* the dashboard runs no script and loads only its
		   own stylesheet (decisions/0019) */
		rep->page ? "Content-Security-Policy: default-src "
			    "'none'; style-src 'self'; img-src "
			    "'self'; form-action 'self'; "
			    "frame-ancestors 'none'; base-uri "
			    "'none'\r\nReferrer-Policy: "
			    "same-origin\r\n"
			  : "",
		rep->location ? "Location: " : "",
		rep->location ? rep->location : "", rep->location ? "\r\n" : "",
		rep->set_cookie[0] ? "Set-Cookie: " : "", rep->set_cookie,
		rep->set_cookie[0] ? "\r\n" : "",
		rep->allow[0] ? "Allow: " : "", rep->allow,
		rep->allow[0] ? "\r\n" : "",
		rep->www_authenticate ? "WWW-Authenticate: " : "",
		rep->www_authenticate ? rep->www_authenticate : "",
		rep->www_authenticate ? "\r\n" : "",
		/* every 503 is worth one retry soon: a store that is
		   down or busy, lost races, a full disk */
		status == 503 ? "Retry-After: 1\r\n" : "",
		close ? "Connection: close\r\n" : "");
	if (hlen < 0 || (size_t)hlen >= sizeof(head))
		return -1;
	mem_free(c->out);
	c->out = mem_alloc((size_t)hlen + blen);
	if (!c->out)
		return -1;
	memcpy(c->out, head, (size_t)hlen);
	memcpy(c->out + hlen, body, blen);
	c->out_len = (size_t)hlen + blen;
	c->out_off = 0;
	c->closing = close;
	return 0;
}

/* ---- connections ----------------------------------------------------- */

static void conn_free(struct conn *c)
{
	struct loop *l = c->loop;

	/* forget it in the guard before the fd number can be reused */
	guard_closed(l->srv->guard, c->gc);
	(void)close(c->fd);
	c->prev->next = c->next;
	c->next->prev = c->prev;
	l->n_conns--;
	mem_free(c->req.head);
	mem_free(c->req.body);
	mem_free(c->out);
	mem_free(c);
}

static void set_events(struct conn *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = c};

	(void)epoll_ctl(c->loop->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Forget the request just answered; keep the head buffer for the next. */
static void request_reset(struct conn *c)
{
	char *head = c->req.head;

	mem_free(c->req.body);
	memset(&c->req, 0, sizeof(c->req));
	c->req.head = head;
}

static void log_request(const struct conn *c, const char *who, unsigned status)
{
	char method[16], path[160];
	const struct request *r = &c->req;
	size_t path_len = strcspn(r->head ? r->head : "", "?");

	if (!log_enabled(LOG_INFO))
		return;
	(void)log_escape(
		http_method_str((enum http_method)c->parser.method),
		strlen(http_method_str((enum http_method)c->parser.method)),
		method, sizeof(method));
	(void)log_escape(r->head ? r->head : "",
			 path_len < r->url_len ? path_len : r->url_len, path,
			 sizeof(path));
	log_msg(LOG_INFO,
		"method=%s path=\"%s\" status=%u us=%llu client=%s%s%s",
		r->begun ? method : "-", path, status,
		(unsigned long long)(now_us() - r->start_us), c->client,
		who[0] ? " token=" : "", who);
}

/*
 * Stop writing and read and drop what the client still sends, until it
 * closes or SERVER_LINGER_MS pass: closing with unread input would make
 * the kernel reset the connection, and the client lose our answer.
 */
static void linger(struct conn *c)
{
	(void)shutdown(c->fd, SHUT_WR);
	c->lingering = true;
	c->deadline_ms = now_ms() + SERVER_LINGER_MS;
	guard_busy(c->loop->srv->guard, c->gc); /* not a trickler: ours */
	set_events(c, EPOLLIN | EPOLLRDHUP);
}

/* Write what is queued.  Returns -1 when the connection is done for. */
static int flush(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off,
				 c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!c->writing) {
				c->writing = true;
				c->deadline_ms = now_ms() + SERVER_WRITE_MS;
				set_events(c, EPOLLOUT);
			}
			return 0;
		}
		if (n <= 0)
			return -1;
		c->out_off += (size_t)n;
	}
	if (c->writing) {
		c->writing = false;
		c->deadline_ms = 0;
		set_events(c, EPOLLIN | EPOLLRDHUP);
	}
	return 0;
}

/* Answer a refused request and close lingering. */
static void refuse_now(struct conn *c)
{
	struct http_reply rep = {.status = c->req.reject};
	char body[200];

	(void)snprintf(body, sizeof(body), "{\"message\":\"%s\"}",
		       c->req.reject_msg);
	rep.body = body;
	take_request_id(c, c->req.headers_done
				   ? header(&c->req, "X-Request-Id", NULL)
				   : NULL);
	log_request(c, "", rep.status);
	http_metrics_record(&c->loop->srv->metrics, -1, rep.status,
			    now_us() - c->req.start_us);
	log_set_request_id(NULL);
	if (queue_response(c, &rep, true) || flush(c)) {
		conn_free(c);
		return;
	}
	c->in_off = c->in_len = 0;
	if (!c->writing)
		linger(c);
}

/*
 * Split @query (a copy; cut in place) at '&' and fill the arguments the
 * routes read, first value wins; values stay percent-encoded.
 */
static void query_args(char *query, struct http_req *req)
{
	static const struct {
		const char *name; /* argument */
		size_t off;	  /* where it goes in struct http_req */
	} known[] = {
		{"limit", offsetof(struct http_req, limit)},
		{"after", offsetof(struct http_req, after)},
		{"threshold", offsetof(struct http_req, threshold)},
		{"state", offsetof(struct http_req, state)},
	};
	char *save = NULL;

	for (char *p = strtok_r(query, "&", &save); p;
	     p = strtok_r(NULL, "&", &save)) {
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
			size_t n = strlen(known[i].name);
			const char **slot =
				(const char **)((char *)req + known[i].off);

			if (!strncmp(p, known[i].name, n) && p[n] == '=' &&
			    !*slot)
				*slot = p + n + 1;
		}
	}
}

/* Log, count and queue @rep for @c's current request; then read on. */
static int answer(struct conn *c, struct http_reply *rep, const char *who)
{
	struct server *s = c->loop->srv;
	bool keep;
	int rc;

	keep = http_should_keep_alive(&c->parser) && !atomic_load(&s->stopping);
	log_request(c, who, rep->body ? rep->status : 503);
	http_metrics_record(&s->metrics, rep->route,
			    rep->body ? rep->status : 503,
			    now_us() - c->req.start_us);
	rc = queue_response(c, rep, !keep);
	mem_free(rep->body);
	log_set_request_id(NULL);
	request_reset(c);
	guard_idle(s->guard, c->gc, now_ms());
	return rc ? -1 : flush(c);
}

static int process(struct conn *c);

/* The writer's thread: hand @it's request back to its loop. */
static void parked_done(struct writer_item *it)
{
	struct parked *p = it->ctx;
	struct loop *l = p->c->loop;
	uint64_t one = 1;
	bool first;

	(void)pthread_mutex_lock(&l->done_lock);
	first = !l->done;
	p->next = l->done;
	l->done = p;
	(void)pthread_mutex_unlock(&l->done_lock);
	/*
	 * One wake-up per loop per batch, not one per request: a write to
	 * an eventfd costs the writer's thread ~10 us, and it ran once per
	 * command (45 per batch under strace).  The loop empties the list
	 * after reading the eventfd, so a non-empty list always has a
	 * wake-up on its way.
	 */
	if (first)
		(void)!write(l->done_fd, &one, sizeof(one));
}

/*
 * A valid command request, with the batched writer on: queue it there
 * and stop reading the connection until it is done (1).  0 when the
 * request is not a command, or is refused: @rep is then the answer.
 * -1: out of memory, nothing done (the caller dispatches as usual).
 */
static int park(struct conn *c, const struct http_req *req,
		struct http_reply *rep, const char *who)
{
	struct parked *p = mem_calloc(1, sizeof(*p));

	if (!p)
		return -1;
	if (!routes_dispatch_async(c->loop->w, req, &p->cmd, rep)) {
		mem_free(p);
		return 0;
	}
	p->c = c;
	p->route = rep->route;
	(void)snprintf(p->who, sizeof(p->who), "%s", who);
	p->item.m = &p->cmd.m;
	p->item.res = &p->cmd.res;
	p->item.err = &p->cmd.err;
	p->item.on_done = parked_done;
	p->item.ctx = p;
	err_clear(&p->cmd.err);
	c->parked = p;
	c->loop->n_parked++;
	/*
	 * The connection stays registered for input: a client waits for
	 * its answer, so nothing comes meanwhile, and two epoll_ctl calls
	 * per command (mute here, unmute when answered; 1.95 per allocation
	 * under strace) are saved.  A client that sends more anyway
	 * (pipelining, a half-close) is muted then (loop_run).
	 */
	writer_submit_async(c->loop->w->writer, &p->item);
	return 1;
}

/* The loop: answer every parked request the writer finished. */
static void unpark_all(struct loop *l)
{
	struct parked *p;
	uint64_t v;

	(void)!read(l->done_fd, &v, sizeof(v));
	(void)pthread_mutex_lock(&l->done_lock);
	p = l->done;
	l->done = NULL;
	(void)pthread_mutex_unlock(&l->done_lock);
	while (p) {
		struct parked *next = p->next;
		struct conn *c = p->c;
		struct http_reply rep = {0};

		l->n_parked--;
		c->parked = NULL;
		rep.route = p->route;
		if (c->hung_up) {
			conn_free(c);
		} else {
			log_set_request_id(c->request_id);
			routes_command_finish(&p->cmd, p->item.rc, &rep);
			if (c->muted)
				set_events(c, EPOLLIN | EPOLLRDHUP);
			c->muted = false;
			if (answer(c, &rep, p->who) || process(c))
				conn_free(c);
		}
		routes_command_release(&p->cmd);
		mem_free(p);
		p = next;
	}
}

/* Route a whole request on the loop's worker and queue the answer. */
static int serve_request(struct conn *c)
{
	struct server *s = c->loop->srv;
	struct request *r = &c->req;
	struct http_reply rep = {0};
	struct http_req req = {0};
	char who[TOKEN_NAME_MAX + 1] = "";
	char *query, *qcopy;
	int parked;

	guard_busy(s->guard, c->gc);
	take_request_id(c, header(r, "X-Request-Id", NULL));
	r->head[r->url_len] = '\0';
	query = strchr(r->head, '?');
	qcopy = query ? mem_strdup(query + 1) : NULL;
	req.query = qcopy ? query + 1 : NULL; /* the head outlives req */
	if (query)
		*query = '\0';
	req.method = http_method_str((enum http_method)c->parser.method);
	req.path = r->head;
	req.body = r->body;
	req.len = r->body_len;
	if (qcopy)
		query_args(qcopy, &req);
	req.content_type = header(r, "Content-Type", NULL);
	req.authorization = header(r, "Authorization", NULL);
	req.cookie = header(r, "Cookie", NULL);
	req.fetch_site = header(r, "Sec-Fetch-Site", NULL);
	req.auth = s->auth;
	req.metrics = &s->metrics;
	req.guard = s->guard;
	req.who = who;
	req.who_size = sizeof(who);
	/*
	 * An idle writer: the command runs here, inline (bus_handle), as
	 * without batching: parking would add two thread hops to a lone
	 * client's every request (decisions/0013).
	 */
	parked = c->loop->w->writer && !writer_idle(c->loop->w->writer)
			 ? park(c, &req, &rep, who)
			 : -1;
	if (parked < 0)
		routes_dispatch(c->loop->w, &req, &rep);
	if (parked > 0) {
		if (query)
			*query = '?';
		mem_free(qcopy);
		log_set_request_id(NULL);
		return 0; /* answered when the writer is done */
	}
	if (query)
		*query = '?';
	mem_free(qcopy);
	return answer(c, &rep, who);
}

/* Map a parser error to a refusal. */
static void parse_error(struct conn *c)
{
	enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);

	if (c->req.reject)
		return; /* our callback refused, with its own reason */
	if (e == HPE_HEADER_OVERFLOW && c->req.headers_done)
		refuse(&c->req, 400, "a chunk header or trailer is too large");
	else if (e == HPE_HEADER_OVERFLOW)
		refuse(&c->req, 431, "request head is too large");
	else if (e == HPE_UNEXPECTED_CONTENT_LENGTH)
		refuse(&c->req, 400,
		       "conflicting Content-Length or "
		       "Transfer-Encoding headers");
	else if (e == HPE_INVALID_TRANSFER_ENCODING)
		refuse(&c->req, 501,
		       "only chunked transfer coding is "
		       "supported");
	else if (e == HPE_INVALID_VERSION)
		refuse(&c->req, 505, "only HTTP/1.0 and HTTP/1.1 are served");
	else if (e == HPE_CB_message_begin)
		refuse(&c->req, 503, "out of memory");
	else
		refuse(&c->req, 400, http_errno_description(e));
}

/*
 * Parse what is buffered, answering each whole request in turn
 * (pipelining), until the buffer is used up or an answer must wait for
 * the socket.  Returns -1 when the connection is to be freed now.
 */
static int process(struct conn *c)
{
	while (!c->writing && !c->lingering && !c->parked) {
		size_t n, avail = c->in_len - c->in_off;

		if (c->out_off < c->out_len)
			break;
		if (c->closing)
			return -1; /* answered with Connection: close */
		if (!avail)
			break;
		c->req.fresh = true;
		n = http_parser_execute(&c->parser, &parser_settings,
					c->in + c->in_off, avail);
		c->in_off += n;
		if (c->req.complete) {
			http_parser_pause(&c->parser, 0);
			if (serve_request(c))
				return -1;
			continue;
		}
		if (HTTP_PARSER_ERRNO(&c->parser) != HPE_OK) {
			parse_error(c);
			refuse_now(c);
			return 0; /* refuse_now freed or keeps it */
		}
	}
	if (c->in_off == c->in_len)
		c->in_off = c->in_len = 0;
	return 0;
}

/* Drain input after a refusal; free the connection at its end. */
static void drain_lingering(struct conn *c)
{
	char sink[READ_CHUNK];
	ssize_t n;

	do
		n = recv(c->fd, sink, sizeof(sink), 0);
	while (n > 0);
	if (n == 0 ||
	    (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		conn_free(c);
}

static void on_readable(struct conn *c)
{
	ssize_t n;

	if (c->lingering) {
		drain_lingering(c);
		return;
	}
	if (c->in_off && c->in_off == c->in_len)
		c->in_off = c->in_len = 0;
	if (c->in_off) { /* keep the unparsed tail at the start */
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	if (c->in_len == sizeof(c->in)) { /* a pipelined request waits */
		if (process(c))
			conn_free(c);
		return;
	}
	n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
	if (n < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		conn_free(c); /* closed by the peer, mid-request or not */
		return;
	}
	c->in_len += (size_t)n;
	if (process(c))
		conn_free(c);
}

static void on_writable(struct conn *c)
{
	if (flush(c)) {
		conn_free(c);
		return;
	}
	if (c->writing)
		return;
	if (c->closing && c->req.reject) {
		linger(c);
		return;
	}
	if (process(c))
		conn_free(c);
}

static void client_of(const struct sockaddr_storage *ss, char *out, size_t n)
{
	(void)snprintf(out, n, "-");
	if (ss->ss_family == AF_INET)
		(void)inet_ntop(AF_INET,
				&((const struct sockaddr_in *)ss)->sin_addr,
				out, (socklen_t)n);
	else if (ss->ss_family == AF_INET6)
		(void)inet_ntop(AF_INET6,
				&((const struct sockaddr_in6 *)ss)->sin6_addr,
				out, (socklen_t)n);
}

/*
 * Take a connection waiting on the listening socket: one per wake-up.
 * The listening socket is in every loop's epoll with EPOLLEXCLUSIVE, so
 * each new connection wakes a loop that is waiting; the first one woken
 * used to take all that had queued (up to 64), and a burst of clients
 * (wrk opening 64 connections) then all landed on one loop, which ran
 * everything while three idled: 4.9k req/s with one loop at 79% of a
 * core and the others at 0.  Level-triggered, a loop that took one sees
 * the socket ready again at its next epoll_wait if more are waiting.
 */
#define ACCEPT_PER_WAKEUP 1

static void accept_all(struct loop *l)
{
	struct server *s = l->srv;

	for (int i = 0; i < ACCEPT_PER_WAKEUP; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP};
		struct conn *c;
		int fd;

		memset(&ss, 0, sizeof(ss));
		fd = accept(s->listen_fd, (struct sockaddr *)&ss, &len);
		if (fd < 0)
			return; /* EAGAIN: another loop took it; or EMFILE */
		if (fcntl(fd, F_SETFL, O_NONBLOCK) ||
		    fcntl(fd, F_SETFD, FD_CLOEXEC)) {
			(void)close(fd);
			continue;
		}
		c = mem_calloc(1, sizeof(*c));
		if (!c) {
			(void)close(fd);
			continue;
		}
		c->loop = l;
		c->fd = fd;
		client_of(&ss, c->client, sizeof(c->client));
		http_parser_init(&c->parser, HTTP_REQUEST);
		c->parser.data = c;
		c->next = &l->head;
		c->prev = l->head.prev;
		l->head.prev->next = c;
		l->head.prev = c;
		l->n_conns++;
		ev.data.ptr = c;
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			conn_free(c);
			continue;
		}
		/* may shut this one, or evict an idler, at once */
		c->gc = guard_opened(s->guard, fd, (struct sockaddr *)&ss,
				     now_ms());
	}
}

/* Free connections past their write or linger deadline. */
static void tick(struct loop *l, uint64_t now)
{
	struct conn *c = l->head.next;

	while (c != &l->head) {
		struct conn *next = c->next;

		if (c->deadline_ms && now >= c->deadline_ms)
			conn_free(c);
		c = next;
	}
}

/* At shutdown: close every connection not in the middle of a request. */
static void close_idle(struct loop *l)
{
	struct conn *c = l->head.next;

	while (c != &l->head) {
		struct conn *next = c->next;

		if (!c->req.begun && !c->writing)
			conn_free(c);
		c = next;
	}
}

static void *loop_run(void *arg)
{
	struct loop *l = arg;
	struct server *s = l->srv;
	struct epoll_event evs[64];
	uint64_t last_tick = now_ms();
	bool draining = false, unpark = false;

	thread_name("scents-http");
	for (;;) {
		int n = epoll_wait(l->epfd, evs, 64, TICK_MS);
		uint64_t now;

		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (c == NULL) {
				accept_all(l);
			} else if ((void *)c == (void *)&l->done_fd) {
				unpark = true; /* after this batch: see below */
			} else if (c->parked &&
				   !(evs[i].events & (EPOLLHUP | EPOLLERR))) {
				/* input while parked: muted (level-triggered)
				   until the writer is done; read it then */
				set_events(c, 0);
				c->muted = true;
			} else if (c->parked) {
				/* errors and hang-ups: stop them until the
				   writer is done, then free the connection */
				c->hung_up = true;
				(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, c->fd,
						NULL);
			} else if (c == &l->head) {
				uint64_t v;

				/* the wake-up eventfd: read, or it stays ready
				 */
				(void)!read(l->wake_fd, &v, sizeof(v));
				draining = true;
			} else if (evs[i].events & EPOLLOUT) {
				on_writable(c);
			} else {
				on_readable(c);
			}
		}
		/*
		 * Answering parked requests may free connections; evs[] may
		 * still name them, so that waits until every event of this
		 * round was handled.
		 */
		if (unpark)
			unpark_all(l);
		unpark = false;
		now = now_ms();
		if (draining) {
			(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->listen_fd,
					NULL);
			close_idle(l);
			/* a parked request is the writer's: wait for it */
			if (!l->n_parked &&
			    (!l->n_conns ||
			     now >= atomic_load(&s->drain_until_ms)))
				break;
		}
		if (now - last_tick >= TICK_MS) {
			tick(l, now);
			last_tick = now;
		}
	}
	if (l->n_conns)
		log_msg(LOG_WARN, "event=drain_timeout open=%zu", l->n_conns);
	while (l->head.next != &l->head)
		conn_free(l->head.next);
	return NULL;
}

/* ---- start and stop ---------------------------------------------------- */

struct listen_addr {
	struct sockaddr_storage ss; /* the address to bind */
	socklen_t len;		    /* its length */
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
		out->len = sizeof(*v4);
		return SC_OK;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)cfg->http_port);
		out->len = sizeof(*v6);
		return SC_OK;
	}
	return err_set(err, SC_EINVAL,
		       "HTTP_HOST must be an IPv4 or IPv6 address, not '%.60s'",
		       host);
}

/* True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
static bool is_loopback(const struct listen_addr *a)
{
	const struct sockaddr_in *v4 = (const struct sockaddr_in *)&a->ss;
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&a->ss;

	if (a->ss.ss_family == AF_INET)
		return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
	if (IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr))
		return true;
	return IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr) &&
	       v6->sin6_addr.s6_addr[12] == 127;
}

/*
 * No SO_REUSEPORT: a second server on the same port must fail, not
 * silently take a share of the requests.  SO_REUSEADDR only lets a
 * restart bind while old connections linger in TIME_WAIT.
 */
static int open_listener(const struct config *cfg, const struct listen_addr *a,
			 int *fd_out, unsigned *port_out, struct sc_err *err)
{
	struct sockaddr_storage bound = {0};
	socklen_t len = sizeof(bound);
	int one = 1, fd;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    0);
	if (fd < 0)
		return err_set(err, SC_EIO, "cannot create a socket: %s",
			       strerror(errno));
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) ||
	    listen(fd, SERVER_BACKLOG) ||
	    getsockname(fd, (struct sockaddr *)&bound, &len)) {
		int e = errno;

		(void)close(fd);
		return err_set(err, SC_EIO, "cannot listen on %s port %d: %s%s",
			       cfg->http_host, cfg->http_port, strerror(e),
			       e == EADDRINUSE
				       ? " (another program, or another "
					 "scents serve, has it)"
				       : "");
	}
	*port_out = ntohs(bound.ss_family == AF_INET
				  ? ((struct sockaddr_in *)&bound)->sin_port
				  : ((struct sockaddr_in6 *)&bound)->sin6_port);
	*fd_out = fd;
	return SC_OK;
}

/* Room for SERVER_CONN_MAX sockets and then some: raise the soft limit. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= 8192)
		return;
	rl.rlim_cur = rl.rlim_max < 8192 ? rl.rlim_max : 8192;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
}

/*
 * Tokens: with none, only a loopback listener is open to all; anything
 * else refuses to start, so a misconfigured host is never exposed.
 */
static int start_auth(struct server *s, const struct listen_addr *a,
		      struct sc_err *err)
{
	bool loopback = is_loopback(a);
	int rc = auth_global_init(err);

	if (!rc)
		rc = bootstrap_worker_init(s->app, &s->auth_worker, err);
	if (!rc)
		auth_random(&s->id_prefix, sizeof(s->id_prefix));
	/* a store we cannot write would answer every write with 503 */
	if (!rc && uow_probe_write(s->auth_worker.uow, err))
		rc = err_set(err, SC_EIO, "the database cannot be written");
	if (!rc)
		rc = auth_new(s->auth_worker.uow, loopback, &s->auth, err);
	if (!rc && !loopback && !auth_active_count(s->auth))
		rc = err_set(err, SC_EIO,
			     "refusing to serve on %s without an API token: "
			     "create one with 'scents token create --name NAME "
			     "--scope read', or listen on 127.0.0.1",
			     s->cfg->http_host);
	if (!rc)
		log_msg(LOG_INFO, "event=auth tokens=%zu open=%d",
			auth_active_count(s->auth),
			loopback && !auth_active_count(s->auth));
	return rc;
}

/*
 * The guard's way to close: shutdown(2), not close(2).  The socket stays
 * its loop's; the loop sees the end of the stream and frees it.
 */
static void shut(void *ctx, int fd)
{
	(void)ctx;
	(void)shutdown(fd, SHUT_RDWR);
}

static void *watchdog(void *arg)
{
	struct server *s = arg;

	thread_name("scents-watchdog");
	while (!atomic_load(&s->stopping)) {
		struct timespec ts = {0, TICK_MS * 1000000L};

		(void)nanosleep(&ts, NULL);
		guard_tick(s->guard, now_ms());
	}
	return NULL;
}

static int start_guard(struct server *s, struct sc_err *err)
{
	struct guard_limits lim = {SERVER_CONN_MAX, SERVER_PER_IP_MAX,
				   GUARD_HEAD_MS, GUARD_BODY_MS};
	int rc = guard_new(&lim, shut, NULL, &s->guard, err);

	if (rc)
		return rc;
	if (pthread_create(&s->watchdog, NULL, watchdog, s))
		return err_set(err, SC_ENOMEM, "cannot start a thread");
	s->watchdog_started = true;
	return SC_OK;
}

static int loop_init(struct server *s, struct loop *l, struct sc_err *err)
{
	struct epoll_event lev = {.events = EPOLLIN | EPOLLEXCLUSIVE,
				  .data.ptr = NULL};
	struct epoll_event wev = {.events = EPOLLIN, .data.ptr = &l->head};
	struct epoll_event dev = {.events = EPOLLIN, .data.ptr = &l->done_fd};
	int rc;

	l->srv = s;
	l->head.next = l->head.prev = &l->head;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	l->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	(void)pthread_mutex_init(&l->done_lock, NULL);
	if (l->epfd < 0 || l->wake_fd < 0 || l->done_fd < 0 ||
	    epoll_ctl(l->epfd, EPOLL_CTL_ADD, s->listen_fd, &lev) ||
	    epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wake_fd, &wev) ||
	    epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->done_fd, &dev))
		return err_set(err, SC_EIO, "cannot set up epoll: %s",
			       strerror(errno));
	rc = bootstrap_worker_init(s->app, &l->own, err);
	l->w = &l->own;
	l->w_ready = !rc;
	return rc;
}

static void loop_release(struct loop *l)
{
	if (l->w_ready)
		bootstrap_worker_release(&l->own);
	if (l->epfd >= 0)
		(void)close(l->epfd);
	if (l->wake_fd >= 0)
		(void)close(l->wake_fd);
	if (l->done_fd >= 0)
		(void)close(l->done_fd);
	(void)pthread_mutex_destroy(&l->done_lock);
}

static int start_loops(struct server *s, struct sc_err *err)
{
	size_t n = (size_t)s->cfg->http_threads;

	s->loops = mem_calloc(n, sizeof(*s->loops));
	if (!s->loops)
		return err_set(err, SC_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		s->loops[i].epfd = s->loops[i].wake_fd = s->loops[i].done_fd =
			-1;
	s->n_loops = n;
	for (size_t i = 0; i < n; i++) {
		int rc = loop_init(s, &s->loops[i], err);

		if (rc)
			return rc;
	}
	for (size_t i = 0; i < n; i++) {
		if (pthread_create(&s->loops[i].tid, NULL, loop_run,
				   &s->loops[i]))
			return err_set(err, SC_ENOMEM, "cannot start a thread");
		s->loops[i].started = true;
	}
	return SC_OK;
}

/* Wake every loop to drain, wait for them, release everything. */
static void stop_all(struct server *s)
{
	uint64_t one = 1;

	atomic_store(&s->drain_until_ms,
		     now_ms() + (uint64_t)SERVER_DRAIN_S * 1000u);
	atomic_store(&s->stopping, true);
	for (size_t i = 0; i < s->n_loops; i++)
		if (s->loops[i].wake_fd >= 0)
			(void)!write(s->loops[i].wake_fd, &one, sizeof(one));
	for (size_t i = 0; i < s->n_loops; i++)
		if (s->loops[i].started)
			(void)pthread_join(s->loops[i].tid, NULL);
	if (s->watchdog_started)
		(void)pthread_join(s->watchdog, NULL);
	for (size_t i = 0; i < s->n_loops; i++)
		loop_release(&s->loops[i]);
	mem_free(s->loops);
	guard_free(s->guard);
	auth_free(s->auth);
	if (s->auth_worker.uow)
		bootstrap_worker_release(&s->auth_worker);
	if (s->listen_fd >= 0)
		(void)close(s->listen_fd);
}

/*
 * Tell systemd (Type=notify) how we are: one datagram of "KEY=VALUE" to
 * $NOTIFY_SOCKET, a path or, with a leading '@', an abstract socket.
 * The protocol is that small, so no libsystemd.  Best effort.
 */
static void notify_systemd(const struct config *cfg, const char *state)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n = strlen(cfg->notify_socket);
	int fd;

	if (!n || n >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, cfg->notify_socket, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	(void)sendto(fd, state, strlen(state), MSG_NOSIGNAL,
		     (const struct sockaddr *)&sa,
		     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
	(void)close(fd);
}

static void log_listening(const struct server *s, unsigned port)
{
	const struct config *cfg = s->cfg;
	bool v6 = strchr(cfg->http_host, ':') != NULL;
	char store[CONFIG_STR_MAX];

	log_msg(LOG_INFO,
		"event=listening url=http://%s%s%s:%u/ threads=%d store=%s",
		v6 ? "[" : "", cfg->http_host, v6 ? "]" : "", port,
		cfg->http_threads,
		url_redact(cfg->database_url, store, sizeof(store)));
}

int server_run(struct app *app, const struct config *cfg, struct sc_err *err)
{
	struct server s = {.app = app, .cfg = cfg, .listen_fd = -1};
	struct listen_addr addr;
	sigset_t stop;
	unsigned port = 0;
	int sig = 0, rc;

	atomic_init(&s.stopping, false);
	rc = parse_addr(cfg, &addr, err);
	if (rc)
		return rc;
	/* Block before any thread starts, so only sigwait() sees them. */
	(void)sigemptyset(&stop);
	(void)sigaddset(&stop, SIGINT);
	(void)sigaddset(&stop, SIGTERM);
	(void)pthread_sigmask(SIG_BLOCK, &stop, NULL);
	(void)signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	rc = start_auth(&s, &addr, err);
	if (!rc)
		rc = open_listener(cfg, &addr, &s.listen_fd, &port, err);
	if (!rc)
		rc = start_guard(&s, err);
	if (!rc)
		rc = start_loops(&s, err);
	if (!rc) {
		log_listening(&s, port);
		notify_systemd(cfg, "READY=1");
		(void)sigwait(&stop, &sig);
		log_msg(LOG_INFO, "event=stopping signal=%d", sig);
		notify_systemd(cfg, "STOPPING=1");
	}
	stop_all(&s);
	if (!rc)
		log_msg(LOG_INFO, "event=stopped");
	return rc;
}

/* ---- for the fuzz target -------------------------------------------- */

/*
 * Feed @data, in pieces of at most @chunk bytes, to one connection on
 * socket @fd as if read from it, answering on @w; answers go to @fd.
 * What runs is exactly what a loop runs (process(), flush(), lingering),
 * without epoll.  Returns when @data is used up or the connection ends.
 */
void server_feed(struct worker *w, int fd, const char *data, size_t len,
		 size_t chunk)
{
	static const struct guard_limits lim = {16, 16, 10000, 10000};
	struct server s;
	struct loop l;
	struct conn *c = mem_calloc(1, sizeof(*c));
	struct sc_err err;

	memset(&s, 0, sizeof(s));
	memset(&l, 0, sizeof(l));
	err_clear(&err);
	if (!c || guard_new(&lim, shut, NULL, &s.guard, &err)) {
		mem_free(c);
		(void)close(fd);
		return;
	}
	s.listen_fd = -1;
	l.srv = &s;
	l.epfd = -1; /* epoll_ctl fails harmlessly: no events wanted */
	l.w = w;
	l.head.next = l.head.prev = &l.head;
	c->loop = &l;
	c->fd = fd;
	(void)snprintf(c->client, sizeof(c->client), "fuzz");
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	c->next = c->prev = &l.head;
	l.head.next = l.head.prev = c;
	l.n_conns = 1;
	while (l.n_conns && len && !c->lingering && !c->writing) {
		size_t n = len < chunk ? len : chunk;

		if (n > sizeof(c->in) - c->in_len)
			n = sizeof(c->in) - c->in_len;
		memcpy(c->in + c->in_len, data, n);
		c->in_len += n;
		data += n;
		len -= n;
		if (process(c))
			conn_free(c);
	}
	if (l.n_conns)
		conn_free(c);
	guard_free(s.guard);
}
