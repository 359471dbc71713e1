/*
 * common/err.c - error struct helpers.
 */
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>

void err_clear(struct sc_err *err)
{
	err->code = SC_OK;
	err->msg[0] = '\0';
}

int err_set(struct sc_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err || err->code != SC_OK)
		return code;
	err->code = code;
	va_start(ap, fmt);
	(void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

const char *err_name(int code)
{
	switch (code) {
	case SC_OK:
		return "ok";
	case SC_ENOMEM:
		return "enomem";
	case SC_EINVAL:
		return "einval";
	case SC_ENOTFOUND:
		return "enotfound";
	case SC_ECONFLICT:
		return "econflict";
	case SC_EIO:
		return "eio";
	case SC_EEXIST:
		return "eexist";
	default:
		return "eunknown";
	}
}
