/*
 * common/log.h - one key=value line per event on stderr.
 *
 * log_msg() checks the level before formatting (Redis serverLog), so a
 * disabled debug line costs one comparison.  The sink is swappable so
 * tests can capture lines.  Level and sink are process-wide: set them at
 * start-up, before threads run.  Each line is written with one write(2),
 * so lines from several threads do not interleave.
 */
#ifndef SCENTS_COMMON_LOG_H
#define SCENTS_COMMON_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level {
	LOG_DEBUG = 0,
	LOG_INFO = 1,
	LOG_WARN = 2,
	LOG_ERROR = 3,
};

/* Receives one complete line, without the trailing newline. */
typedef void log_sink_fn(void *ctx, enum log_level level, const char *line);

/* Lines below @level are dropped. */
void log_set_level(enum log_level level);

/* Longest request id, in bytes. */
#define LOG_REQUEST_ID_MAX 64

/*
 * Add "request_id=@id" to every line this thread logs from now on; NULL
 * or "" stops.  @id is copied (at most LOG_REQUEST_ID_MAX bytes).
 */
void log_set_request_id(const char *id);

/* One JSON object of strings per line instead of key=value (LOG_FORMAT). */
void log_set_json(bool json);

/* True when @level would be logged: skip building costly arguments. */
bool log_enabled(enum log_level level);

/* Parse "debug", "info", "warn" or "error"; -1 when unknown. */
int log_level_parse(const char *name);

/* Send lines to @fn(@ctx, ...); NULL restores stderr. */
void log_set_sink(log_sink_fn *fn, void *ctx);

/* Format and emit one line, "level=... " prefixed, if @level is enabled. */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Copy at most @n - 1 bytes of the untrusted @in into @out, escaping
 * quotes, backslashes, control and non-ASCII bytes as \xHH, and NUL
 * terminating.  Returns @out, for use inside a log_msg() argument list.
 */
char *log_escape(const char *in, size_t len, char *out, size_t n);

#endif
