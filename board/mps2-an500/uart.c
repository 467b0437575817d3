/*
 * uart.c - the console on CMSDK APB UART0 (hal_uart.h).
 *
 * The CMSDK UART has a single-byte holding register each way and no FIFO;
 * under QEMU the host side buffers what is typed or piped in until the
 * firmware reads it, so polling loses nothing.
 */
#include "hal_uart.h"

#include <stdint.h>

#include "mps2.h"
#include "pb_err.h"

#define UART_DATA     MPS2_REG(MPS2_UART0_BASE + 0x00u)
#define UART_STATE    MPS2_REG(MPS2_UART0_BASE + 0x04u)
#define UART_CTRL     MPS2_REG(MPS2_UART0_BASE + 0x08u)
#define UART_INTSTAT  MPS2_REG(MPS2_UART0_BASE + 0x0Cu)
#define UART_BAUDDIV  MPS2_REG(MPS2_UART0_BASE + 0x10u)

#define UART_STATE_TXFULL   (1u << 0)
#define UART_STATE_RXFULL   (1u << 1)
#define UART_STATE_TXOVR    (1u << 2)
#define UART_STATE_RXOVR    (1u << 3)
#define UART_CTRL_TXEN      (1u << 0)
#define UART_CTRL_RXEN      (1u << 1)

#define UART_BAUD           115200u

/* How long one byte may wait for the transmitter: far longer than a byte
 * takes at 115200 baud (87 us), short enough that a wedged UART cannot
 * hang the event loop. */
#define UART_TX_SPIN        1000000u

void uart_init(void)
{
    UART_CTRL = 0;
    UART_BAUDDIV = MPS2_SYSCLK_HZ / UART_BAUD;
    UART_STATE = UART_STATE_TXOVR | UART_STATE_RXOVR; /* write 1 to clear */
    UART_INTSTAT = 0xfu;
    UART_CTRL = UART_CTRL_TXEN | UART_CTRL_RXEN;
}

bool uart_rx_pending(void)
{
    return (UART_STATE & UART_STATE_RXFULL) != 0;
}

static int uart_putc(uint8_t c)
{
    for (uint32_t spin = 0; UART_STATE & UART_STATE_TXFULL; spin++) {
        if (spin >= UART_TX_SPIN)
            return PB_ETIMEDOUT;
    }
    UART_DATA = c;
    return 0;
}

void uart_puts(const char *s)
{
    while (*s != '\0')
        (void)uart_putc((uint8_t)*s++);
}

int hal_uart_read(void *buf, size_t cap)
{
    uint8_t *p = buf;
    size_t n = 0;
    while (n < cap && uart_rx_pending())
        p[n++] = (uint8_t)UART_DATA;
    return (int)n;
}

int hal_uart_write(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    for (size_t i = 0; i < len; i++) {
        int err = uart_putc(p[i]);
        if (err < 0)
            return err;
    }
    return (int)len;
}
