/*
 * common/config.c - environment parsing and validation.
 */
#include "common/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/url.h"

static int set_str(char *dst, const char *name, const char *v,
		   struct sc_err *err)
{
	size_t n = strlen(v);

	if (n >= CONFIG_STR_MAX)
		return err_set(err, SC_EINVAL, "%s is longer than %d bytes",
			       name, CONFIG_STR_MAX - 1);
	memcpy(dst, v, n + 1);
	return SC_OK;
}

static int has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

int config_set_database_url(struct config *c, const char *url,
			    struct sc_err *err)
{
	struct url_parts parts;
	char shown[120];

	if (has_prefix(url, "postgresql://") ||
	    has_prefix(url, "postgres://")) {
		if (url_parse("DATABASE_URL", url, &parts, err))
			return SC_EINVAL;
	} else if (!(has_prefix(url, "sqlite:") && url[7]) &&
		   strcmp(url, "memory:") != 0) {
		return err_set(err, SC_EINVAL,
			       "DATABASE_URL must be sqlite:PATH, memory: or "
			       "postgresql://..., not '%s'",
			       url_redact(url, shown, sizeof(shown)));
	}
	return set_str(c->database_url, "DATABASE_URL", url, err);
}

/* An address for a mail header: printable ASCII with one '@'. */
static int check_email(const char *name, const char *v, struct sc_err *err)
{
	const char *at = strchr(v, '@');

	for (const char *p = v; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '<' || *p == '>')
			return err_set(err, SC_EINVAL,
				       "%s must be a plain address like "
				       "a@b.example",
				       name);
	if (!at || at == v || !at[1] || strchr(at + 1, '@'))
		return err_set(err, SC_EINVAL,
			       "%s must be a plain address like a@b.example",
			       name);
	return SC_OK;
}

/*
 * Check service URL @v (empty: unset) of variable @name: it parses, and
 * its scheme is one of @schemes (NULL-terminated), so a typo is refused
 * at start rather than at the first delivery.
 */
static int check_url(const char *name, const char *v,
		     const char *const *schemes, struct sc_err *err)
{
	struct url_parts parts;

	if (!*v)
		return SC_OK;
	if (url_parse(name, v, &parts, err))
		return SC_EINVAL;
	for (const char *const *s = schemes; *s; s++)
		if (!strcmp(parts.scheme, *s))
			return SC_OK;
	return err_set(err, SC_EINVAL, "%s must start with %s://%s%s%s", name,
		       schemes[0], schemes[1] ? " or " : "",
		       schemes[1] ? schemes[1] : "", schemes[1] ? "://" : "");
}

static int parse_port(const char *v, int *out, struct sc_err *err)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	/* strtol skips leading blanks and takes a sign: neither is a port */
	if (errno || end == v || *end || n < 0 || n > 65535 || *v < '0' ||
	    *v > '9')
		return err_set(err, SC_EINVAL,
			       "HTTP_PORT must be 0 to 65535, not '%.40s'", v);
	*out = (int)n;
	return SC_OK;
}

static const char *get_or(config_getenv_fn *get, void *ctx, const char *name,
			  const char *dflt)
{
	const char *v = get(ctx, name);

	return v ? v : dflt;
}

static int load_misc(struct config *c, config_getenv_fn *get, void *ctx,
		     struct sc_err *err)
{
	const char *v = get_or(get, ctx, "LOG_LEVEL", "info");
	int level = log_level_parse(v);

	if (level < 0)
		return err_set(err, SC_EINVAL,
			       "LOG_LEVEL must be debug, info, warn or error");
	c->log_level = level;
	v = get_or(get, ctx, "REDIS_MODE", "pubsub");
	if (strcmp(v, "pubsub") != 0 && strcmp(v, "streams") != 0)
		return err_set(err, SC_EINVAL,
			       "REDIS_MODE must be pubsub or streams");
	c->redis_streams = !strcmp(v, "streams");
	v = get_or(get, ctx, "LOG_FORMAT", "text");
	if (strcmp(v, "text") != 0 && strcmp(v, "json") != 0)
		return err_set(err, SC_EINVAL,
			       "LOG_FORMAT must be text or json");
	c->log_json = !strcmp(v, "json");
	v = get_or(get, ctx, "PG_LOCKING", "optimistic");
	if (strcmp(v, "row") != 0 && strcmp(v, "optimistic") != 0)
		return err_set(err, SC_EINVAL,
			       "PG_LOCKING must be optimistic or row");
	c->pg_row_lock = !strcmp(v, "row");
	v = get_or(get, ctx, "SQLITE_SYNCHRONOUS", "FULL");
	if (strcmp(v, "FULL") != 0 && strcmp(v, "NORMAL") != 0)
		return err_set(err, SC_EINVAL,
			       "SQLITE_SYNCHRONOUS must be FULL or NORMAL");
	c->sqlite_synchronous_full = !strcmp(v, "FULL");
	v = get_or(get, ctx, "SQLITE_GROUP_COMMIT", "on");
	if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
		return err_set(err, SC_EINVAL,
			       "SQLITE_GROUP_COMMIT must be on or off");
	c->sqlite_group_commit = !strcmp(v, "on");
	v = get_or(get, ctx, "SQLITE_BATCH", "on");
	if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
		return err_set(err, SC_EINVAL,
			       "SQLITE_BATCH must be on or off");
	c->sqlite_batch = !strcmp(v, "on");
	v = get_or(get, ctx, "HTTP_THREADS", "4");
	c->http_threads = (int)strtol(v, NULL, 10);
	if (strspn(v, "0123456789") != strlen(v) || strlen(v) > 2 ||
	    c->http_threads < 1 || c->http_threads > 64)
		return err_set(err, SC_EINVAL,
			       "HTTP_THREADS must be 1 to 64, not '%.20s'", v);
	return parse_port(get_or(get, ctx, "HTTP_PORT", "5005"), &c->http_port,
			  err);
}

/* A whole-number setting: its name, default and range. */
struct int_setting {
	const char *name; /* the variable */
	const char *def;  /* when unset */
	long min, max;	  /* allowed, inclusive */
};

/* Setting @s, read through @get, into *@out; SC_EINVAL names it. */
static int parse_int(config_getenv_fn *get, void *ctx,
		     const struct int_setting *s, int *out, struct sc_err *err)
{
	const char *v = get_or(get, ctx, s->name, s->def);
	long n = strtol(v, NULL, 10);

	if (!*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 9 ||
	    n < s->min || n > s->max)
		return err_set(err, SC_EINVAL,
			       "%s must be %ld to %ld, not '%.20s'", s->name,
			       s->min, s->max, v);
	*out = (int)n;
	return SC_OK;
}

/* How customers' notices are sent (docs/notifications.md). */
static int load_delivery(struct config *c, config_getenv_fn *get, void *ctx,
			 struct sc_err *err)
{
	static const struct int_setting timeout = {"WEBHOOK_TIMEOUT_MS", "5000",
						   100, 60000};
	static const struct int_setting attempts = {"DELIVERY_MAX_ATTEMPTS",
						    "8", 1, 100};
	static const struct int_setting backoff = {"DELIVERY_BACKOFF_MS",
						   "1000", 1, 3600000};
	static const struct int_setting window = {"STOCK_ALERT_WINDOW_S", "300",
						  0, 86400};
	static const struct int_setting aging = {"BACKORDER_ALERT_AGE_S",
						 "86400", 0, 31536000};
	int rc = parse_int(get, ctx, &timeout, &c->webhook_timeout_ms, err);

	if (!rc)
		rc = parse_int(get, ctx, &attempts, &c->delivery_max_attempts,
			       err);
	if (!rc)
		rc = parse_int(get, ctx, &backoff, &c->delivery_backoff_ms,
			       err);
	if (!rc)
		rc = parse_int(get, ctx, &window, &c->stock_alert_window_s,
			       err);
	if (!rc)
		rc = parse_int(get, ctx, &aging, &c->backorder_alert_age_s,
			       err);
	return rc;
}

static const char *const redis_schemes[] = {"redis", NULL};
static const char *const smtp_schemes[] = {"smtp", "smtps", NULL};

int config_load_from(struct config *c, config_getenv_fn *get, void *ctx,
		     struct sc_err *err)
{
	int rc;

	memset(c, 0, sizeof(*c));
	rc = config_set_database_url(
		c, get_or(get, ctx, "DATABASE_URL", "sqlite:var/scents.db"),
		err);
	if (!rc)
		rc = set_str(c->http_host, "HTTP_HOST",
			     get_or(get, ctx, "HTTP_HOST", "127.0.0.1"), err);
	if (!rc)
		rc = set_str(c->redis_url, "REDIS_URL",
			     get_or(get, ctx, "REDIS_URL", ""), err);
	if (!rc)
		rc = check_url("REDIS_URL", c->redis_url, redis_schemes, err);
	if (!rc)
		rc = set_str(c->smtp_url, "SMTP_URL",
			     get_or(get, ctx, "SMTP_URL", ""), err);
	if (!rc)
		rc = check_url("SMTP_URL", c->smtp_url, smtp_schemes, err);
	if (!rc)
		rc = set_str(c->smtp_ca_file, "SMTP_CA_FILE",
			     get_or(get, ctx, "SMTP_CA_FILE", ""), err);
	if (!rc && c->smtp_ca_file[0] && access(c->smtp_ca_file, R_OK))
		rc = err_set(err, SC_EINVAL, "SMTP_CA_FILE '%.200s': %s",
			     c->smtp_ca_file, strerror(errno));
	if (!rc)
		rc = set_str(
			c->stock_email, "STOCK_EMAIL",
			get_or(get, ctx, "STOCK_EMAIL", "stock@scents.example"),
			err);
	if (!rc)
		rc = check_email("STOCK_EMAIL", c->stock_email, err);
	if (!rc)
		rc = set_str(c->from_email, "FROM_EMAIL",
			     get_or(get, ctx, "FROM_EMAIL",
				    "allocations@example.com"),
			     err);
	if (!rc)
		rc = check_email("FROM_EMAIL", c->from_email, err);
	if (!rc)
		rc = load_misc(c, get, ctx, err);
	if (!rc)
		rc = load_delivery(c, get, ctx, err);
	if (!rc)
		rc = set_str(c->notify_socket, "NOTIFY_SOCKET",
			     get_or(get, ctx, "NOTIFY_SOCKET", ""), err);
	return rc;
}

static const char *real_getenv(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

int config_load(struct config *c, struct sc_err *err)
{
	return config_load_from(c, real_getenv, NULL, err);
}
