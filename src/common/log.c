/*
 * common/log.c - levelled key=value logging to a swappable sink.
 */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 1024

static const char *const level_names[] = {
	[LOG_DEBUG] = "debug",
	[LOG_INFO] = "info",
	[LOG_WARN] = "warn",
	[LOG_ERROR] = "error",
};

static struct {
	enum log_level level; /* lowest level emitted */
	log_sink_fn *sink;    /* NULL = stderr */
	void *ctx;	      /* the sink's argument */
	bool json;	      /* one JSON object per line */
} state = {LOG_INFO, NULL, NULL, false};

/*
 * The request this thread is serving, added to each of its lines: a
 * thread serves one request at a time, so every line logged while doing
 * so - bus, handlers, store errors - names it without passing it down.
 */
static _Thread_local char request_id[LOG_REQUEST_ID_MAX + 1];

void log_set_request_id(const char *id)
{
	(void)snprintf(request_id, sizeof(request_id), "%s", id ? id : "");
}

void log_set_json(bool json)
{
	state.json = json;
}

void log_set_level(enum log_level level)
{
	state.level = level;
}

bool log_enabled(enum log_level level)
{
	return level >= state.level;
}

int log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
	     i++)
		if (!strcmp(name, level_names[i]))
			return (int)i;
	return -1;
}

void log_set_sink(log_sink_fn *fn, void *ctx)
{
	state.sink = fn;
	state.ctx = ctx;
}

static void write_stderr(const char *line, size_t len)
{
	while (len) {
		ssize_t n = write(STDERR_FILENO, line, len);

		if (n <= 0)
			return;
		line += n;
		len -= (size_t)n;
	}
}

/* Append @c to @out (@n bytes) at *@o, JSON-escaped; false when full. */
static bool put_json_char(char *out, size_t n, size_t *o, char c)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char u = (unsigned char)c;

	if (u >= 0x20 && c != '"' && c != '\\') {
		if (*o + 1 >= n)
			return false;
		out[(*o)++] = c;
		return true;
	}
	if (*o + 6 >= n)
		return false;
	out[(*o)++] = '\\';
	out[(*o)++] = 'u';
	out[(*o)++] = '0';
	out[(*o)++] = '0';
	out[(*o)++] = hex[u >> 4];
	out[(*o)++] = hex[u & 15];
	return true;
}

/*
 * Rewrite a key=value line (values quoted when they hold blanks; quotes
 * and backslashes inside them were escaped by log_escape) as one JSON
 * object of strings.  Returns the length written.
 */
static size_t kv_to_json(const char *kv, char *out, size_t n)
{
	size_t o = 0;
	bool first = true;

	out[o++] = '{';
	while (*kv) {
		const char *eq, *v, *end;

		while (*kv == ' ')
			kv++;
		eq = strchr(kv, '=');
		if (!*kv || !eq)
			break;
		v = eq + 1;
		end = *v == '"' ? strchr(v + 1, '"') : strchr(v, ' ');
		if (*v == '"')
			v++;
		if (!end)
			end = v + strlen(v);
		if (o + 4 >= n)
			break;
		if (!first)
			out[o++] = ',';
		first = false;
		out[o++] = '"';
		for (const char *k = kv; k < eq; k++)
			(void)put_json_char(out, n, &o, *k);
		if (o + 3 >= n)
			break;
		out[o++] = '"';
		out[o++] = ':';
		out[o++] = '"';
		for (const char *c = v; c < end; c++)
			if (!put_json_char(out, n, &o, *c))
				break;
		if (o + 2 >= n)
			break;
		out[o++] = '"';
		kv = *end == '"' ? end + 1 : end;
	}
	out[o++] = '}';
	return o;
}

/* Hand @len bytes at @out (room for one more) to the sink or stderr. */
static void emit(enum log_level level, char *out, size_t len)
{
	if (state.sink) {
		out[len] = '\0';
		state.sink(state.ctx, level, out);
		return;
	}
	out[len] = '\n';
	write_stderr(out, len + 1);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX], json[LOG_LINE_MAX * 3];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n, m;

	if (level < state.level)
		return;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	(void)gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
		     "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
		     level_names[level]);
	if (n < 0)
		return;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	if (request_id[0] && n < (int)sizeof(line) - 2) {
		m = snprintf(line + n, sizeof(line) - 1 - (size_t)n,
			     " request_id=%s", request_id);
		n = m < 0 ? n : n + m;
		if (n > (int)sizeof(line) - 2)
			n = (int)sizeof(line) - 2;
	}
	line[n] = '\0';
	if (state.json)
		emit(level, json, kv_to_json(line, json, sizeof(json) - 1));
	else
		emit(level, line, (size_t)n);
}

char *log_escape(const char *in, size_t len, char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			if (o + 1 >= n)
				break;
			out[o++] = (char)c;
			continue;
		}
		if (o + 4 >= n)
			break;
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 15];
	}
	out[o] = '\0';
	return out;
}
