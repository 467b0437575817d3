/*
 * hal_board.h - bringing a board up and waiting for work.
 */
#ifndef HAL_BOARD_H
#define HAL_BOARD_H

#include <stdint.h>

/* Initialise clocks, UART, Ethernet, flash, RNG.  argc/argv are the sim
 * board's command line (0/NULL on hardware).  On a bad command line the sim
 * prints usage and exits; on hardware failures a negative PB_E* is
 * returned and the firmware reports it on the console. */
int hal_board_init(int argc, char **argv);

/* Short board name for "show version", e.g. "sim" or "mps2-an500". */
const char *hal_board_name(void);

/* Sleep until a frame or a UART byte may be pending, or at most
 * timeout_ms milliseconds (WFI on ARM, poll(2) on the sim).  May return
 * early.  The sim also runs its virtual network here. */
void hal_board_idle(uint32_t timeout_ms);

/* Offset added to service ports on the host side of the emulated board's
 * forwards (10000 by default), for messages only. */
unsigned hal_board_port_offset(void);

#endif
