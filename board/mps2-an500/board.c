/*
 * board.c - bring-up and idle of the mps2-an500 board (hal_board.h).
 *
 * The emulated board has no argv; its options come through semihosting
 * SYS_GET_CMDLINE, i.e. QEMU's -append string, as space-separated
 * key=value words (a word without '=', such as the image name QEMU puts
 * first, is skipped; a path cannot contain spaces):
 *   flash=PATH          host file holding the NOR flash (default flash.img)
 *   flash-size=BYTES    its size, K/M/G suffixes allowed (default: the
 *                       file's size, or 16 MiB for a new file; an existing
 *                       file of another size is refused, as on the sim)
 *   port-offset=N       host-side port offset of QEMU's forwards, for
 *                       messages only (default 10000)
 */
#include "hal_board.h"

#include <string.h>

#include "hal_clock.h"
#include "mps2.h"
#include "pb_err.h"
#include "semihost.h"

#define BOARD_CMDLINE_MAX 512u
#define BOARD_DEFAULT_FLASH "flash.img"
#define BOARD_DEFAULT_PORT_OFFSET 10000u

struct board_options {
    const char *flash_path;
    uint64_t flash_size;
    unsigned port_offset;
};

static char board_cmdline[BOARD_CMDLINE_MAX];
static unsigned board_port_offset = BOARD_DEFAULT_PORT_OFFSET;

/* Parse a decimal number with an optional K, M or G suffix (powers of
 * 1024).  Returns 0 or PB_EINVAL. */
static int board_parse_size(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (*s < '0' || *s > '9')
        return PB_EINVAL;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (UINT64_MAX - 9u) / 10u)
            return PB_EINVAL;
        v = v * 10u + (uint64_t)(*s - '0');
    }
    unsigned shift = 0;
    switch (*s) {
    case '\0': break;
    case 'k': case 'K': shift = 10; s++; break;
    case 'm': case 'M': shift = 20; s++; break;
    case 'g': case 'G': shift = 30; s++; break;
    default: return PB_EINVAL;
    }
    if (*s != '\0' || v > (UINT64_MAX >> shift))
        return PB_EINVAL;
    *out = v << shift;
    return 0;
}

/* One console line: "mps2-an500: WHAT 'WORD'TAIL". */
static void board_complain(const char *what, const char *word, const char *tail)
{
    uart_puts("mps2-an500: ");
    uart_puts(what);
    uart_puts(" '");
    uart_puts(word);
    uart_puts("'");
    uart_puts(tail);
    uart_puts("\r\n");
}

/* Split board_cmdline in place into opt's fields.  Bad words are reported
 * on the console and skipped; the result is PB_EINVAL if there was one. */
static int board_parse_cmdline(struct board_options *opt)
{
    int result = 0;
    char *p = board_cmdline;
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (*p == '\0')
            break;
        char *word = p;
        while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n')
            p++;
        if (*p != '\0')
            *p++ = '\0';

        char *eq = strchr(word, '=');
        if (eq == NULL)
            continue;
        uint64_t v;
        if (strncmp(word, "flash=", 6) == 0 && word[6] != '\0') {
            opt->flash_path = word + 6;
        } else if (strncmp(word, "flash-size=", 11) == 0) {
            if (board_parse_size(word + 11, &v) == 0 && v > 0) {
                opt->flash_size = v;
            } else {
                board_complain("bad flash size", word, " ignored");
                result = PB_EINVAL;
            }
        } else if (strncmp(word, "port-offset=", 12) == 0) {
            if (board_parse_size(word + 12, &v) == 0 && v <= 65535u - 995u) {
                opt->port_offset = (unsigned)v;
            } else {
                board_complain("bad port offset", word, " ignored");
                result = PB_EINVAL;
            }
        } else {
            board_complain("unknown option", word, " ignored");
            result = PB_EINVAL;
        }
    }
    return result;
}

int hal_board_init(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int result = 0;

    clock_init();
    uart_init();

    struct board_options opt = {
        .flash_path = BOARD_DEFAULT_FLASH,
        .flash_size = 0,
        .port_offset = BOARD_DEFAULT_PORT_OFFSET,
    };
    if (semihost_cmdline(board_cmdline, sizeof board_cmdline) == 0)
        result = board_parse_cmdline(&opt);
    board_port_offset = opt.port_offset;

    int err = flash_init(opt.flash_path, opt.flash_size);
    if (err < 0) {
        board_complain("cannot use flash file", opt.flash_path, err == PB_EINVAL ?
                       ": its size is not a multiple of 4 KiB or not the flash-size given" :
                       ": the host refused to open it");
        if (result == 0)
            result = err;
    }
    err = rng_init();
    if (err < 0 && result == 0)
        result = err;
    err = lan9118_init();
    if (err < 0 && result == 0)
        result = err;
    return result;
}

const char *hal_board_name(void)
{
    return "mps2-an500";
}

void hal_board_idle(uint32_t timeout_ms)
{
    uint64_t start = hal_clock_ms();
    /* SysTick wakes the WFI every millisecond; the UART and the Ethernet
     * controller are polled, so a byte or frame waits at most one tick. */
    while (!uart_rx_pending() && !lan9118_rx_pending() &&
           hal_clock_ms() - start < timeout_ms)
        __asm__ volatile("wfi");
}

unsigned hal_board_port_offset(void)
{
    return board_port_offset;
}
