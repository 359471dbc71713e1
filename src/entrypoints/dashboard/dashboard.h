/*
 * entrypoints/dashboard/dashboard.h - the stock team's dashboard (issue
 * 17): HTML pages made by the server from the same store queries the
 * JSON API answers with, so every figure on a page is the API's.
 *
 * No JavaScript at all: tables sort, filter and page through links and
 * GET forms; charts are SVG drawn here.  The pages therefore work in any
 * browser, with a screen reader, and under a Content-Security-Policy
 * that allows no script (routes.c sends it with every page).
 */
#ifndef SCENTS_ENTRYPOINTS_DASHBOARD_DASHBOARD_H
#define SCENTS_ENTRYPOINTS_DASHBOARD_DASHBOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct uow;

/* What a page is asked with. */
struct dash_req {
	struct uow *uow;   /* reads only */
	struct arena *a;   /* scratch, reset by the caller */
	const char *path;  /* raw, percent-encoded */
	const char *query; /* raw query string, or NULL */
	int32_t today;	   /* days since 1970-01-01, for ETAs */
	bool signed_in;	   /* a token cookie was used: offer sign-out */
};

/* A page's answer. */
struct dash_page {
	unsigned status;	  /* 200, 400, 404, 503 */
	char *body;		  /* mem_alloc'd; NULL when out of memory */
	const char *content_type; /* NULL: text/html; charset=utf-8 */
	bool cacheable;		  /* a static asset, not a view */
};

/* The views. */
void dash_products(const struct dash_req *r, struct dash_page *p);
void dash_product(const struct dash_req *r, struct dash_page *p);
void dash_orders(const struct dash_req *r, struct dash_page *p);
void dash_sourcing(const struct dash_req *r, struct dash_page *p);
void dash_demand(const struct dash_req *r, struct dash_page *p);
void dash_survey(const struct dash_req *r, struct dash_page *p);
void dash_venues(const struct dash_req *r, struct dash_page *p);
void dash_venue(const struct dash_req *r, struct dash_page *p);

/* The sign-in form, with @message (may be NULL) above it. */
void dash_login(const char *message, unsigned status, struct dash_page *p);

/* The stylesheet. */
void dash_css(struct dash_page *p);

#endif
