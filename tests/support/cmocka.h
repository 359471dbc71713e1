/*
 * tests/support/cmocka.h - cmocka 1.1.5 with the headers it needs first
 * (kept in this order by hand: cmocka.h uses jmp_buf and va_list).
 */
#ifndef SCENTS_TESTS_SUPPORT_CMOCKA_H
#define SCENTS_TESTS_SUPPORT_CMOCKA_H

/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#endif
