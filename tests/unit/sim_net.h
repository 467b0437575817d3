/*
 * sim_net.h - for unit tests that run the sim board's network: boot the
 * board on a scratch flash with a port offset of its own, hear the
 * address reports, and run the event loop until a condition holds.
 *
 * Include it once, after cmocka.h and the lwIP headers, from a test
 * program (it defines static state).
 */
#ifndef SIM_NET_H
#define SIM_NET_H

#include <stdio.h>
#include <unistd.h>

#include "hal_board.h"
#include "hal_clock.h"
#include "net.h"

static unsigned offset;             /* host port = offset + appliance port */
static int addr_events;             /* address reports so far */
static struct net_status last;      /* the last one */

static void on_addr(const struct net_status *st)
{
    addr_events++;
    last = *st;
}

/* Boot the board as program prog on a 64 KiB scratch flash
 * (build/test/PROG-PID.img, gone once the board has opened it), with a
 * port offset from the process id (times spread, so that two programs
 * started together differ).  Returns hal_board_init()'s result. */
static inline int sim_net_boot(const char *prog, unsigned spread)
{
    static char flash[64], off[16];
    offset = 20000 + (unsigned)((getpid() * (int)spread) % 40000);
    snprintf(flash, sizeof(flash), "build/test/%s-%d.img", prog, (int)getpid());
    snprintf(off, sizeof(off), "%u", offset);
    static char *argv[] = { NULL, "--flash", NULL, "--flash-size", "64K", "--port-offset", NULL, NULL };
    argv[0] = (char *)prog;
    argv[2] = flash;
    argv[6] = off;
    int err = hal_board_init(7, argv);
    unlink(flash);
    return err;
}

/* Run the event loop until cond() or timeout_ms.  The deadlines callers
 * give are generous: a test failed once on a machine loaded by parallel
 * builds and fuzzers, cause not found; a slow DHCP or SLAAC is the likely
 * one. */
static inline int loop_until(int (*cond)(void), uint32_t timeout_ms)
{
    uint64_t end = hal_clock_ms() + timeout_ms;
    while (!cond()) {
        if (hal_clock_ms() > end)
            return 0;
        net_poll();
        hal_board_idle(5);
    }
    return 1;
}

static inline int have_addr(void)
{
    return addr_events > 0 && last.ipv4_up;
}

#endif
