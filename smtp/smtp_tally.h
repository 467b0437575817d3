/*
 * smtp_tally.h - a count of events for the current UTC day (messages
 * accepted, deliveries made), for the dashboard.
 *
 * The day is the wall clock's: a board that does not know the date yet
 * (wall time 0) counts from its start.  RAM only: a restart starts at 0.
 */
#ifndef SMTP_TALLY_H
#define SMTP_TALLY_H

#include <stdint.h>

struct smtp_tally {
    int64_t day;            /* days since the epoch of the count */
    unsigned long n;
};

/* Add n events that happened at now_s (wall seconds). */
void smtp_tally_add(struct smtp_tally *t, unsigned long n, int64_t now_s);

/* The events of now_s's day. */
unsigned long smtp_tally_today(const struct smtp_tally *t, int64_t now_s);

#endif
