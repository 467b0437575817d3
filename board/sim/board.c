/*
 * board.c - the sim board: the firmware as a Linux process.
 *
 * Flags are those of DESIGN.md (see sim_board_usage).  UART is
 * stdin/stdout (raw mode when stdin is a terminal), flash is a file with
 * NOR rules, Ethernet is libslirp, entropy is getrandom(2), reboot
 * re-executes the program with the same arguments.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "hal_board.h"
#include "hal_clock.h"
#include "hal_flash.h"
#include "hal_reset.h"
#include "hal_rng.h"
#include "hal_uart.h"
#include "pb_err.h"
#include "sim_eth.h"
#include "sim_flash.h"

static struct {
    char **argv;                  /* for reboot */
    char exe[PATH_MAX];
    struct sim_flash flash;
    int flash_open;
    unsigned port_offset;
    struct timespec boot;
    int64_t wall_offset;          /* set_wall minus the host's clock */
    int stdin_open;
    int tty;
    struct termios saved_tty;
    struct sim_eth_guestfwd fwd[SIM_ETH_MAX_GUESTFWD];
    int nfwd;
} sim;

static void sim_board_usage(FILE *out)
{
    fputs("usage: pillarbox-sim [options]\n"
          "  --flash PATH            flash image file, created (erased) if missing\n"
          "                          (default: pillarbox-flash.img)\n"
          "  --flash-size BYTES      size of a new flash file, K/M/G suffixes (default 64M)\n"
          "  --port-offset N         host port = N + appliance port (default 10000)\n"
          "  --guestfwd GUESTIP:PORT=HOSTIP:PORT\n"
          "                          a connection the appliance opens to GUESTIP:PORT\n"
          "                          reaches HOSTIP:PORT on the host (repeatable)\n"
          "  --powercut-after N      lose power at the N-th flash program/erase:\n"
          "                          that operation is torn, exit status 99\n"
          "  --help                  this text\n"
          "The console is on stdin/stdout; 'poweroff' exits with status 0.\n",
          out);
}

static int sim_board_parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    switch (*end) {
    case 'k': case 'K': v <<= 10; end++; break;
    case 'm': case 'M': v <<= 20; end++; break;
    case 'g': case 'G': v <<= 30; end++; break;
    default: break;
    }
    if (*end != '\0' || v == 0)
        return -1;
    *out = v;
    return 0;
}

static _Noreturn void sim_board_bad(const char *msg, const char *arg)
{
    fprintf(stderr, "pillarbox-sim: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    sim_board_usage(stderr);
    exit(2);
}

static int sim_board_parse_guestfwd(const char *s, struct sim_eth_guestfwd *g)
{
    const char *eq = strchr(s, '=');
    const char *colon = strchr(s, ':');
    if (!eq || !colon || colon > eq || (size_t)(colon - s) >= sizeof(g->guest_ip))
        return -1;
    memcpy(g->guest_ip, s, (size_t)(colon - s));
    g->guest_ip[colon - s] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (end != eq || port <= 0 || port > 65535)
        return -1;
    g->guest_port = (int)port;
    if (strlen(eq + 1) >= sizeof(g->host) || !strchr(eq + 1, ':'))
        return -1;
    strcpy(g->host, eq + 1);
    return 0;
}

static void sim_board_restore_tty(void)
{
    if (sim.tty)
        tcsetattr(0, TCSANOW, &sim.saved_tty);
}

int hal_board_init(int argc, char **argv)
{
    const char *flash_path = "pillarbox-flash.img";
    uint64_t flash_size = 0, powercut = 0;
    long offset = 10000;

    sim.argv = argv;
    clock_gettime(CLOCK_MONOTONIC, &sim.boot);
    ssize_t n = readlink("/proc/self/exe", sim.exe, sizeof(sim.exe) - 1);
    if (n > 0)
        sim.exe[n] = '\0';
    else
        snprintf(sim.exe, sizeof(sim.exe), "%s", argv[0]);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            sim_board_usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--relay") && v) {
            exit(sim_eth_relay(v));
        } else if (!v) {
            sim_board_bad("missing value or unknown option", a);
        } else if (!strcmp(a, "--flash")) {
            flash_path = v;
        } else if (!strcmp(a, "--flash-size")) {
            if (sim_board_parse_size(v, &flash_size) || flash_size % SIM_FLASH_ERASE_SIZE)
                sim_board_bad("--flash-size wants a multiple of 4K, e.g. 16M", v);
        } else if (!strcmp(a, "--port-offset")) {
            char *end;
            offset = strtol(v, &end, 10);
            if (*end || offset < 0 || offset > 65535 - 995)
                sim_board_bad("--port-offset wants a number from 0 to 64540", v);
        } else if (!strcmp(a, "--guestfwd")) {
            if (sim.nfwd == SIM_ETH_MAX_GUESTFWD)
                sim_board_bad("too many --guestfwd", v);
            if (sim_board_parse_guestfwd(v, &sim.fwd[sim.nfwd++]))
                sim_board_bad("--guestfwd wants GUESTIP:PORT=HOSTIP:PORT", v);
        } else if (!strcmp(a, "--powercut-after")) {
            if (sim_board_parse_size(v, &powercut))
                sim_board_bad("--powercut-after wants a positive count", v);
        } else {
            sim_board_bad("unknown option", a);
        }
        i++;
    }
    sim.port_offset = (unsigned)offset;

    /* The console: raw when it is a terminal, so the firmware does its own
     * echo and line editing; otherwise a pipe that a script feeds. */
    sim.stdin_open = 1;
    fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
    if (isatty(0) && tcgetattr(0, &sim.saved_tty) == 0) {
        struct termios raw = sim.saved_tty;
        raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG | IEXTEN);
        raw.c_iflag &= ~(tcflag_t)(ICRNL | IXON);
        raw.c_cc[VMIN] = 0;
        raw.c_cc[VTIME] = 0;
        tcsetattr(0, TCSANOW, &raw);
        sim.tty = 1;
        atexit(sim_board_restore_tty);
    }
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IONBF, 0);

    int err = sim_flash_open(&sim.flash, flash_path, flash_size, SIM_FLASH_ERASE_SIZE,
                             SIM_FLASH_PROGRAM_SIZE, powercut);
    if (err) {
        fprintf(stderr, "pillarbox-sim: cannot use flash file %s: %s%s\n", flash_path,
                pb_err_str(err),
                err == PB_EINVAL ? " (its size differs from --flash-size?)" : "");
        exit(2);
    }
    sim.flash_open = 1;

    if (sim_eth_init(sim.port_offset, sim.fwd, sim.nfwd, sim.exe))
        exit(2);
    return 0;
}

const char *hal_board_name(void)
{
    return "sim";
}

unsigned hal_board_port_offset(void)
{
    return sim.port_offset;
}

void hal_board_idle(uint32_t timeout_ms)
{
    struct pollfd fds[SIM_ETH_MAX_POLLFDS];
    int n = 0;
    if (sim.stdin_open)
        fds[n++] = (struct pollfd){ .fd = 0, .events = POLLIN };
    sim_eth_poll_fill(fds, &n, SIM_ETH_MAX_POLLFDS, &timeout_ms);
    int r = poll(fds, (nfds_t)n, (int)(timeout_ms > 1000 ? 1000 : timeout_ms));
    sim_eth_poll_done(fds, n, r < 0);
}

const struct hal_flash *hal_flash_device(void)
{
    return sim.flash_open ? &sim.flash.dev : NULL;
}

/* --------------------------------------------------------------- uart --- */

int hal_uart_read(void *buf, size_t cap)
{
    if (!sim.stdin_open)
        return PB_EIO;
    ssize_t n = read(0, buf, cap);
    if (n > 0)
        return (int)n;
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        sim.stdin_open = 0;     /* end of input: stop polling it */
        return PB_EIO;
    }
    return 0;
}

int hal_uart_write(const void *buf, size_t len)
{
    const char *p = buf;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(1, p, left);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            struct pollfd pf = { .fd = 1, .events = POLLOUT };
            poll(&pf, 1, 100);
            continue;
        }
        if (n <= 0)
            return PB_EIO;
        p += n;
        left -= (size_t)n;
    }
    return (int)len;
}

/* -------------------------------------------------------------- clock --- */

uint64_t hal_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)(ts.tv_sec - sim.boot.tv_sec) * 1000u +
           (uint64_t)((ts.tv_nsec - sim.boot.tv_nsec) / 1000000);
}

int64_t hal_clock_wall(void)
{
    return (int64_t)time(NULL) + sim.wall_offset;
}

int hal_clock_set_wall(int64_t seconds)
{
    sim.wall_offset = seconds - (int64_t)time(NULL);
    return 0;
}

/* ---------------------------------------------------------------- rng --- */

int hal_rng_fill(void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return PB_EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* -------------------------------------------------------------- reset --- */

static void sim_board_quiesce(void)
{
    if (sim.flash_open)
        sim_flash_close(&sim.flash);
    sim.flash_open = 0;
    sim_eth_shutdown();
    sim_board_restore_tty();
    fflush(stdout);
}

_Noreturn void hal_reset_reboot(void)
{
    sim_board_quiesce();
    fcntl(0, F_SETFL, fcntl(0, F_GETFL) & ~O_NONBLOCK);
    execv(sim.exe, sim.argv);
    fprintf(stderr, "pillarbox-sim: reboot failed: %s\n", strerror(errno));
    _exit(1);
}

_Noreturn void hal_reset_poweroff(int status)
{
    sim_board_quiesce();
    exit(status);
}
