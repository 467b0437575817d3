/*
 * smtp_tally.c - a count for the current UTC day (see smtp_tally.h).
 */
#include "smtp_tally.h"

static int64_t smtp_tally_day(int64_t now_s)
{
    return now_s > 0 ? now_s / 86400 : 0;
}

void smtp_tally_add(struct smtp_tally *t, unsigned long n, int64_t now_s)
{
    int64_t day = smtp_tally_day(now_s);
    if (t->day != day) {
        t->day = day;
        t->n = 0;
    }
    t->n += n;
}

unsigned long smtp_tally_today(const struct smtp_tally *t, int64_t now_s)
{
    return t->day == smtp_tally_day(now_s) ? t->n : 0;
}
