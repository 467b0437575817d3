/*
 * date.h - dates as mail headers write them (RFC 5322 section 3.3).
 */
#ifndef MAIL_DATE_H
#define MAIL_DATE_H

#include <stddef.h>
#include <stdint.h>

#define MAIL_DATE_MAX 32    /* "Thu, 26 Nov 2026 21:47:39 +0000" and a NUL */

/* Write the UTC time epoch (seconds since 1970) as "Thu, 26 Nov 2026
 * 21:47:39 +0000".  Returns the length, or PB_ERANGE if cap is too small
 * or epoch is negative. */
int mail_date_format(int64_t epoch, char *buf, size_t cap);

#endif
