/*
 * date.c - RFC 5322 dates (see date.h).
 */
#include "date.h"

#include <stdio.h>

#include "pb_err.h"

/* Days since 1970-01-01 to a civil date (proleptic Gregorian), after the
 * well-known era-based algorithm. */
static void mail_date_civil(int64_t days, int *y, unsigned *m, unsigned *d)
{
    days += 719468;
    int64_t era = days / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400) + (*m <= 2);
}

int mail_date_format(int64_t epoch, char *buf, size_t cap)
{
    static const char wday[7][4] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" };
    static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    if (epoch < 0)
        return PB_ERANGE;
    int64_t days = epoch / 86400;
    unsigned secs = (unsigned)(epoch % 86400);
    int y;
    unsigned m, d;
    mail_date_civil(days, &y, &m, &d);
    int n = snprintf(buf, cap, "%s, %u %s %d %02u:%02u:%02u +0000", wday[days % 7], d,
                     mon[m - 1], y, secs / 3600, secs / 60 % 60, secs % 60);
    if (n < 0 || (size_t)n >= cap)
        return PB_ERANGE;
    return n;
}
