/*
 * domain/customer.h - customers and what they are told about their
 * order lines (issue 14).
 *
 * A customer has an id (the rule of every id), a name, and up to two
 * channels: an email address and a webhook URL.  Every notice is one of
 * the kinds below, about one order line; what a notice says is decided
 * here once, for every channel.
 */
#ifndef SCENTS_DOMAIN_CUSTOMER_H
#define SCENTS_DOMAIN_CUSTOMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/messages.h"

/* Longest email address (RFC 5321's path limit) and webhook URL. */
#define CUSTOMER_EMAIL_MAX 254
#define CUSTOMER_URL_MAX   2048
#define CUSTOMER_NAME_MAX  255
/* Bytes of a webhook signing secret (Standard Webhooks: 24 to 64). */
#define WEBHOOK_SECRET_LEN 32

/*
 * A plausible address: one '@' with text on both sides, a dot in the
 * domain, no spaces or control characters, at most CUSTOMER_EMAIL_MAX
 * bytes.  Whether it exists is the mail server's to say.
 */
bool customer_email_valid(const char *s);

/*
 * An absolute http:// or https:// URL with a host, at most
 * CUSTOMER_URL_MAX bytes, no spaces or control characters.
 */
bool customer_url_valid(const char *s);

/* What a customer is told about one of its order lines. */
enum notice_kind {
	NOTICE_ALLOCATED,   /* the line holds stock (first time or moved) */
	NOTICE_BACKORDERED, /* the line waits for stock */
	NOTICE_DEALLOCATED, /* the line gave its stock back */
	NOTICE_ETA_CHANGED, /* the line's batch arrives at another date */
	NOTICE__COUNT
};

/* The notice an event of @type makes, or -1 when it makes none. */
int notice_of_event(enum msg_type type);

/* Stable wire name: "order_line.allocated", ... (webhook "type"). */
const char *notice_name(enum notice_kind k);

/* The kind named @name, or -1. */
int notice_named(const char *name);

#endif
