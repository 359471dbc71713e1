/*
 * common/err.h - error codes and the caller-owned error struct.
 *
 * Every action returns an int: SC_OK (0) or a negative SC_E* code.  The
 * human-readable cause goes in a struct sc_err the caller passes last; the
 * first cause recorded wins, so a low-level message is not overwritten by a
 * vaguer one on the way up.  No allocation happens here.
 */
#ifndef SCENTS_COMMON_ERR_H
#define SCENTS_COMMON_ERR_H

enum sc_rc {
	SC_OK = 0,
	SC_ENOMEM = -1,	   /* allocation failed; nothing changed */
	SC_EINVAL = -2,	   /* bad input from the caller */
	SC_ENOTFOUND = -3, /* unknown sku, batch ref or order */
	SC_ECONFLICT = -4, /* product changed under us; retryable */
	SC_EIO = -5,	   /* a backend (db, redis, smtp) failed */
	SC_EEXIST = -6	   /* exists with other values; not retryable */
};

/* Size of sc_err.msg, terminator included. */
#define SC_ERR_MSG_MAX 200

struct sc_err {
	int code;		  /* SC_OK until the first err_set() */
	char msg[SC_ERR_MSG_MAX]; /* lower-case, no full stop; "" when ok */
};

/* Reset @err to "no error". */
void err_clear(struct sc_err *err);

/*
 * Record @code with a printf-style message unless an error is already
 * recorded (first cause wins).  @err may be NULL.  Returns @code so that
 * callers can write "return err_set(err, SC_EINVAL, ...)".
 */
int err_set(struct sc_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Short stable name of @code ("enomem", "einval", ...), for logs. */
const char *err_name(int code);

#endif
