/*
 * entrypoints/http/routes.h - HTTP requests to bus commands and views,
 * and service codes to HTTP statuses (design.md section 4).
 *
 * Pure translation: no sockets here, so the routes are easy to test and
 * the server stays small.  Every body is JSON; every error body is
 * {"message": "..."} naming the offending field.
 */
#ifndef SCENTS_ENTRYPOINTS_HTTP_ROUTES_H
#define SCENTS_ENTRYPOINTS_HTTP_ROUTES_H

#include <stddef.h>

#include "common/arena.h"
#include "common/err.h"
#include "domain/messages.h"
#include "service/handlers.h"

struct auth;
struct guard;
struct http_metrics;
struct worker;

/* Largest request body accepted; larger gets 413. */
#define HTTP_BODY_MAX ((size_t)64 * 1024)

struct http_req {
	const char *method;	  /* "GET", "POST", ... */
	const char *path;	  /* as sent, still percent-encoded, no query */
	const char *body;	  /* may be NULL when len is 0 */
	size_t len;		  /* bytes in body */
	const char *limit;	  /* raw ?limit= value, or NULL */
	const char *after;	  /* raw ?after= value, or NULL */
	const char *threshold;	  /* raw ?threshold= value, or NULL */
	const char *state;	  /* raw ?state= value, or NULL */
	const char *query;	  /* the whole query string (raw), or NULL */
	const char *content_type; /* Content-Type header, or NULL */
	const char *authorization; /* Authorization header, or NULL */
	const char *cookie;	   /* Cookie header, or NULL (dashboard) */
	const char *fetch_site;	   /* Sec-Fetch-Site header, or NULL */
	struct auth *auth;	   /* token checker; NULL: no checks (tests) */
	const struct http_metrics *metrics; /* for GET /metrics; may be NULL */
	struct guard *guard; /* connection counters for /metrics; may be NULL */
	char *who;	     /* OUT: token name for the log, or "" */
	size_t who_size;     /* bytes at who; 0 when who is NULL */
};

struct http_reply {
	unsigned status; /* HTTP status code */
	char *body;	 /* JSON; free with mem_free(); never NULL after
			    routes_dispatch() unless out of memory */
	char allow[32];	 /* Allow header value for 405, else "" */
	int route;	 /* index of the route that answered, or -1 */
	const char *content_type;     /* NULL: application/json */
	const char *www_authenticate; /* WWW-Authenticate for 401/403 */
	/* the dashboard's pages (issue 17) */
	bool page;		   /* HTML: send the Content-Security-Policy */
	const char *cache_control; /* NULL: no-store */
	const char *location;	   /* Location, for a 303 */
	char set_cookie[192];	   /* Set-Cookie value, or "" */
};

/*
 * No header value of @rep holds CR or LF.  One that did would write
 * headers, or a whole response, of its own (response splitting: the
 * sign-in's cookie once did); the server answers 500 instead.
 */
bool http_reply_headers_safe(const struct http_reply *rep);

/*
 * A command taken out of a request, to run later (a server with a batched
 * writer parks the connection meanwhile).  The strings of @m live in
 * @owner until routes_command_release().
 */
struct http_command {
	struct msg m;	       /* the command */
	void *owner;	       /* the parsed body; holds m's strings */
	int which;	       /* the command route; -1: none */
	struct bus_result res; /* filled by the run */
	struct sc_err err;     /* the run's error */
	struct arena arena;    /* res's lists (res.arena points here) */
};

/*
 * As routes_dispatch(), except that for a valid command request it fills
 * @cmd and returns 1 without running it: the caller sends @cmd->m,
 * then calls routes_command_finish() and routes_command_release().
 * Returns 0 when @out is already the whole answer.
 */
int routes_dispatch_async(struct worker *w, const struct http_req *req,
			  struct http_command *cmd, struct http_reply *out);

/* The answer to command @cmd that ended with @rc (into @out). */
void routes_command_finish(struct http_command *cmd, int rc,
			   struct http_reply *out);

/* Free what @cmd holds; NULL-safe on a zeroed one. */
void routes_command_release(struct http_command *cmd);

/* The API description (api/openapi.json), NUL-terminated; generated. */
extern const unsigned char openapi_json[];
extern const size_t openapi_json_len;

/* Routes served, for the test that holds them to the description. */
size_t routes_count(void);

/*
 * Route @i: its method, and its path as the API description writes it
 * ("/x", or "/x/{name}" for one more segment); also its name in metrics.
 */
void routes_get(size_t i, const char **method, const char **path);

/* Handle @req with @w's bus and store; fill @out. */
void routes_dispatch(struct worker *w, const struct http_req *req,
		     struct http_reply *out);

/*
 * Decode %XX escapes of @in into @out (@n bytes) without stopping at
 * %00; *@len_out is the decoded length.  Returns -1 on a malformed escape
 * or when @out is too small.
 */
int routes_percent_decode(const char *in, char *out, size_t n, size_t *len_out);

#endif
