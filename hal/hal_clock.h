/*
 * hal_clock.h - time.
 */
#ifndef HAL_CLOCK_H
#define HAL_CLOCK_H

#include <stdint.h>

/* Milliseconds since boot, monotonic, never goes backwards. */
uint64_t hal_clock_ms(void);

/* Wall-clock time, seconds since 1970-01-01 UTC (RTC, or what was set).
 * Returns 0 when the board has no idea of the date yet. */
int64_t hal_clock_wall(void);

/* Set the wall clock (e.g. from SNTP).  Returns 0 or a negative PB_E*. */
int hal_clock_set_wall(int64_t seconds);

#endif
