/*
 * domain/date.h - calendar dates as days since 1970-01-01.
 *
 * Pure arithmetic (proleptic Gregorian calendar, years 1..9999), so the
 * domain can order batches by ETA and entry points can validate input
 * without a time zone or a clock.
 */
#ifndef SCENTS_DOMAIN_DATE_H
#define SCENTS_DOMAIN_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of "YYYY-MM-DD" plus the NUL. */
#define DATE_STR_MAX 11

/*
 * Parse exactly "YYYY-MM-DD" (a real calendar date) into days since the
 * epoch.  Returns false, leaving *out untouched, on anything else.
 */
bool date_parse(const char *s, int32_t *out);

/* Write @days as "YYYY-MM-DD" into @buf (DATE_STR_MAX bytes). */
void date_format(int32_t days, char buf[DATE_STR_MAX]);

#endif
