/*
 * lwip_port.c - what lwIP needs from the platform: time, randomness,
 * assertions and diagnostics.
 */
#include <stdarg.h>
#include <stdio.h>

#include "hal_clock.h"
#include "hal_reset.h"
#include "hal_rng.h"
#include "hal_uart.h"
#include "lwip/arch.h"
#include "lwip/sys.h"

u32_t sys_now(void)
{
    return (u32_t)hal_clock_ms();
}

uint32_t lwip_port_rand(void)
{
    uint32_t r = 0;
    /* Used for ports, DNS IDs and ISNs: entropy from the board's TRNG.  A
     * failing TRNG is a hardware fault, not something to paper over. */
    if (hal_rng_fill(&r, sizeof(r)) != 0)
        lwip_port_assert("rng failed", __FILE__, __LINE__);
    return r;
}

/* An lwIP assertion is a programmer's mistake: say where, then stop. */
void lwip_port_assert(const char *msg, const char *file, int line)
{
    char buf[256];
    int n = snprintf(buf, sizeof(buf), "\r\nFATAL: lwIP assertion \"%s\" failed at %s:%d\r\n",
                     msg, file, line);
    if (n > 0)
        hal_uart_write(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
    hal_reset_poweroff(3);
}

void lwip_port_diag(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0)
        hal_uart_write(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}
