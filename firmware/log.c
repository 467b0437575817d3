/*
 * log.c - the appliance log ring (see log.h).
 *
 * The ring stores NUL-terminated lines back to back; when a new line does
 * not fit, whole lines are dropped from the oldest end.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "board_pools.h"
#include "hal_clock.h"

static struct {
    char ring[PB_LOG_RING_BYTES];
    size_t head;        /* offset of the oldest line */
    size_t used;        /* bytes in use, starting at head (wrapping) */
    log_sink_fn sink;
} log_state;

void log_init(log_sink_fn sink)
{
    log_state.head = 0;
    log_state.used = 0;
    log_state.sink = sink;
}

static size_t log_line_len_at(size_t off)
{
    size_t n = 0;
    while (log_state.ring[(off + n) % PB_LOG_RING_BYTES] != '\0')
        n++;
    return n + 1;
}

static void log_store(const char *line, size_t len)
{
    size_t need = len + 1;
    while (log_state.used + need > PB_LOG_RING_BYTES) {
        size_t drop = log_line_len_at(log_state.head);
        log_state.head = (log_state.head + drop) % PB_LOG_RING_BYTES;
        log_state.used -= drop;
    }
    size_t at = (log_state.head + log_state.used) % PB_LOG_RING_BYTES;
    for (size_t i = 0; i < len; i++)
        log_state.ring[(at + i) % PB_LOG_RING_BYTES] = line[i];
    log_state.ring[(at + len) % PB_LOG_RING_BYTES] = '\0';
    log_state.used += need;
}

void log_printf(const char *fmt, ...)
{
    char line[LOG_LINE_MAX + 1];
    uint64_t ms = hal_clock_ms();
    int n = snprintf(line, sizeof(line), "[%5lu.%03u] ", (unsigned long)(ms / 1000),
                     (unsigned)(ms % 1000));
    if (n < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    if (m < 0)
        return;
    size_t len = strlen(line);
    /* One entry is one line: fold stray line breaks. */
    for (size_t i = 0; i < len; i++)
        if (line[i] == '\r' || line[i] == '\n')
            line[i] = ' ';
    log_store(line, len);
    if (log_state.sink)
        log_state.sink(line, len);
}

void log_foreach(int n, void (*fn)(void *ctx, const char *line), void *ctx)
{
    int total = 0;
    for (size_t off = 0; off < log_state.used; off += log_line_len_at((log_state.head + off) % PB_LOG_RING_BYTES))
        total++;
    int skip = n > 0 && n < total ? total - n : 0;
    char line[LOG_LINE_MAX + 1];
    size_t off = 0;
    for (int i = 0; i < total; i++) {
        size_t start = (log_state.head + off) % PB_LOG_RING_BYTES;
        size_t len = log_line_len_at(start);
        off += len;
        if (i < skip)
            continue;
        for (size_t j = 0; j < len && j < sizeof(line); j++)
            line[j] = log_state.ring[(start + j) % PB_LOG_RING_BYTES];
        line[sizeof(line) - 1] = '\0';
        fn(ctx, line);
    }
}
