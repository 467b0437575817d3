/*
 * clock.c - SysTick millisecond clock and the wall clock (hal_clock.h).
 *
 * SysTick runs from the 25 MHz core clock and interrupts every millisecond;
 * the handler only counts.  The wall clock is read once at boot from the
 * host (semihosting SYS_TIME, standing in for a battery-backed RTC) and
 * then advanced by the millisecond counter.
 */
#include "hal_clock.h"

#include "mps2.h"
#include "pb_err.h"
#include "semihost.h"

#define SYST_CSR  MPS2_REG(0xE000E010u)
#define SYST_RVR  MPS2_REG(0xE000E014u)
#define SYST_CVR  MPS2_REG(0xE000E018u)

#define SYST_CSR_ENABLE     (1u << 0)
#define SYST_CSR_TICKINT    (1u << 1)
#define SYST_CSR_CLKSOURCE  (1u << 2) /* the core clock, not the reference */

/* Written only by the SysTick handler. */
static volatile uint32_t clock_ms_lo, clock_ms_hi;

/* Wall-clock seconds at clock_ms() == 0; 0 when unknown. */
static int64_t clock_wall_base;

void clock_systick_isr(void)
{
    uint32_t lo = clock_ms_lo + 1u;
    if (lo == 0)
        clock_ms_hi = clock_ms_hi + 1u;
    clock_ms_lo = lo;
}

void clock_init(void)
{
    SYST_CSR = 0;
    SYST_RVR = MPS2_SYSCLK_HZ / 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE;

    uint32_t now = semihost_time();
    clock_wall_base = now == 0 || now == UINT32_MAX ? 0 : (int64_t)now;
}

uint64_t hal_clock_ms(void)
{
    /* The two halves change under us only at a 32-bit wrap; read until a
     * consistent pair is seen. */
    uint32_t hi, lo;
    do {
        hi = clock_ms_hi;
        lo = clock_ms_lo;
    } while (hi != clock_ms_hi);
    return ((uint64_t)hi << 32) | lo;
}

int64_t hal_clock_wall(void)
{
    if (clock_wall_base == 0)
        return 0;
    return clock_wall_base + (int64_t)(hal_clock_ms() / 1000u);
}

int hal_clock_set_wall(int64_t seconds)
{
    if (seconds <= 0)
        return PB_EINVAL;
    clock_wall_base = seconds - (int64_t)(hal_clock_ms() / 1000u);
    return 0;
}
