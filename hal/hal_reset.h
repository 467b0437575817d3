/*
 * hal_reset.h - reboot and power-off.
 *
 * Both sync the flash device first.
 */
#ifndef HAL_RESET_H
#define HAL_RESET_H

/* Restart the firmware on the same flash (the sim re-executes itself). */
_Noreturn void hal_reset_reboot(void);

/* Switch off: the emulated boards end their process with status (0 for a
 * clean power-off).  A real board without a power switch halts. */
_Noreturn void hal_reset_poweroff(int status);

#endif
