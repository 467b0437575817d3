/*
 * log.h - the appliance log: a ring buffer in RAM, copied to the console.
 *
 * Each entry is one line, "[   12.345] text", seconds since boot.  The
 * ring keeps the newest PB_LOG_RING_BYTES (board_pools.h); older lines are
 * overwritten whole.  Not yet on flash (the store issue adds that).
 */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>

#define LOG_LINE_MAX 200

/* Where new lines are shown as well (the console); NULL for nowhere. */
typedef void (*log_sink_fn)(const char *line, size_t len);

void log_init(log_sink_fn sink);

/* printf-style; the text is cut at LOG_LINE_MAX. */
void log_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Call fn for each of the newest n lines (all if n <= 0), oldest first. */
void log_foreach(int n, void (*fn)(void *ctx, const char *line), void *ctx);

#endif
