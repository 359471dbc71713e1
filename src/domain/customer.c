/*
 * domain/customer.c - customer channel rules and notice kinds.
 */
#include "domain/customer.h"

#include <string.h>

#include "common/err.h"
#include "common/url.h"

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

bool customer_email_valid(const char *s)
{
	const char *at;
	size_t n;

	if (!s || !(n = strlen(s)) || n > CUSTOMER_EMAIL_MAX || !printable(s))
		return false;
	at = strchr(s, '@');
	/* one '@', something before it, a dot inside the domain */
	return at && at > s && !strchr(at + 1, '@') && at[1] &&
	       strchr(at + 2, '.') && s[n - 1] != '.';
}

bool customer_url_valid(const char *s)
{
	struct url_parts u;
	struct sc_err err;

	if (!s || !*s || strlen(s) > CUSTOMER_URL_MAX || !printable(s))
		return false;
	err_clear(&err);
	if (url_parse("webhook_url", s, &u, &err))
		return false;
	return (!strcmp(u.scheme, "http") || !strcmp(u.scheme, "https")) &&
	       u.host[0];
}

int notice_of_event(enum msg_type type)
{
	switch (type) {
	case MSG_ALLOCATED:
		return NOTICE_ALLOCATED;
	case MSG_BACKORDERED:
		return NOTICE_BACKORDERED;
	case MSG_DEALLOCATED:
		return NOTICE_DEALLOCATED;
	case MSG_ETA_CHANGED:
		return NOTICE_ETA_CHANGED;
	default:
		return -1;
	}
}

static const char *const notice_names[] = {
	[NOTICE_ALLOCATED] = "order_line.allocated",
	[NOTICE_BACKORDERED] = "order_line.backordered",
	[NOTICE_DEALLOCATED] = "order_line.deallocated",
	[NOTICE_ETA_CHANGED] = "order_line.eta_changed",
};

_Static_assert(sizeof(notice_names) / sizeof(notice_names[0]) == NOTICE__COUNT,
	       "every notice kind has a name");

const char *notice_name(enum notice_kind k)
{
	return (unsigned)k < NOTICE__COUNT ? notice_names[k] : "?";
}

int notice_named(const char *name)
{
	for (int k = 0; name && k < NOTICE__COUNT; k++)
		if (!strcmp(notice_names[k], name))
			return k;
	return -1;
}
