/*
 * mps2.h - what the files of the mps2-an500 board share with each other.
 *
 * Not a HAL header: only board/mps2-an500/ includes it.  The memory map is
 * QEMU's mps2-an500 (ARM MPS2 with the AN500 Cortex-M7 image).
 */
#ifndef MPS2_H
#define MPS2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MPS2_SYSCLK_HZ      25000000u   /* QEMU's mps2-an500 system clock */
#define MPS2_UART0_BASE     0x40004000u /* CMSDK APB UART0: the console */
#define MPS2_ETH_BASE       0xA0000000u /* SMSC LAN9118 */

/* A memory-mapped 32-bit register. */
#define MPS2_REG(addr)      (*(volatile uint32_t *)(uintptr_t)(addr))

/* uart.c: enable UART0 at 115200 8N1 (the baud rate matters only on real
 * hardware; QEMU refuses to move bytes while BAUDDIV < 16). */
void uart_init(void);
/* Whether a received byte is waiting in the data register. */
bool uart_rx_pending(void);
/* Write a NUL-terminated string, for fault reports (no buffering). */
void uart_puts(const char *s);

/* clock.c: start SysTick at 1 kHz and read the wall clock once from the
 * host.  Called first so every other init can time out. */
void clock_init(void);
/* The SysTick exception handler (in the vector table). */
void clock_systick_isr(void);

/* lan9118.c: reset the controller and enable its MAC.  Returns 0, or
 * PB_EIO if the chip does not answer (wrong ID, reset never completes). */
int lan9118_init(void);
/* Whether at least one received frame waits in the RX FIFO. */
bool lan9118_rx_pending(void);

/* flash.c: open the host file at path as a NOR device of size bytes, with
 * the sim board's rules: a missing or empty file is created and filled with
 * 0xFF (size 0 = FLASH_DEFAULT_BYTES); an existing file keeps its size, and
 * a size that differs from it is PB_EINVAL (0 = whatever it is).  Returns 0
 * or a negative PB_E* (PB_EIO if the host cannot open the file). */
#define FLASH_DEFAULT_BYTES (16u * 1024u * 1024u)
#define FLASH_ERASE_BYTES   4096u
#define FLASH_PROGRAM_BYTES 16u
int flash_init(const char *path, uint64_t size);
/* Close the host file (before a reset or power-off). */
void flash_close(void);

/* rng.c: open the host's entropy source.  Returns 0 or PB_EIO. */
int rng_init(void);
void rng_close(void);

#endif
