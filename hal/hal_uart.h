/*
 * hal_uart.h - the console UART.
 *
 * Bytes only; line discipline (echo, editing) is the console's job.
 */
#ifndef HAL_UART_H
#define HAL_UART_H

#include <stddef.h>

/* Copy up to cap received bytes into buf without waiting.  Returns the
 * number copied (0 when none are pending), or PB_EIO when the input has
 * ended for good (the sim's stdin reached end of file). */
int hal_uart_read(void *buf, size_t cap);

/* Send len bytes.  Blocks only as long as the hardware FIFO needs to drain
 * (bounded); returns len, or a negative PB_E* on failure. */
int hal_uart_write(const void *buf, size_t len);

#endif
