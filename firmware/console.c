/*
 * console.c - the serial console (see console.h).
 *
 * Commands are rows of a table: the words that name the command, how many
 * arguments it takes, the function that runs it and one line of help.
 */
#include "console.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "config.h"
#include "hal_board.h"
#include "hal_clock.h"
#include "hal_reset.h"
#include "hal_uart.h"
#include "lineedit.h"
#include "log.h"
#include "lwip/memp.h"
#include "lwip/stats.h"
#include "net.h"
#include "pb_err.h"
#include "storage.h"
#include "tls_arena.h"
#include "version.h"

#define CONSOLE_PROMPT "pillarbox> "

struct console_cmd {
    const char *words;      /* "show status" */
    int min_args, max_args; /* arguments after the words */
    int (*run)(int argc, char **argv);
    const char *usage;      /* arguments, for help */
    const char *help;
};

static int console_cmd_help(int argc, char **argv);
static int console_cmd_show_version(int argc, char **argv);
static int console_cmd_show_status(int argc, char **argv);
static int console_cmd_show_log(int argc, char **argv);
static int console_cmd_set_hostname(int argc, char **argv);
static int console_cmd_reboot(int argc, char **argv);
static int console_cmd_show_storage(int argc, char **argv);
static int console_cmd_storage_check(int argc, char **argv);
static int console_cmd_poweroff(int argc, char **argv);

static const struct console_cmd console_cmds[] = {
    { "help", 0, 8, console_cmd_help, "[COMMAND]", "list the commands, or explain one" },
    { "show version", 0, 0, console_cmd_show_version, "", "firmware version and board" },
    { "show status", 0, 0, console_cmd_show_status, "",
      "uptime, memory pools in use, addresses, gateway and DNS" },
    { "show log", 0, 1, console_cmd_show_log, "[N]", "the newest N log lines (default 20)" },
    { "show storage", 0, 0, console_cmd_show_storage, "",
      "flash store: capacity, used, free, live/dead bytes, erase counts, mount time" },
    { "storage check", 0, 0, console_cmd_storage_check, "", "full read-only consistency check of the store" },
    { "set hostname", 1, 1, console_cmd_set_hostname, "NAME",
      "the appliance's name, e.g. mail.example.com" },
    { "reboot", 0, 0, console_cmd_reboot, "", "restart the firmware" },
    { "poweroff", 0, 0, console_cmd_poweroff, "", "switch off (ends the emulator)" },
};
#define CONSOLE_NCMDS (sizeof(console_cmds) / sizeof(console_cmds[0]))

static struct {
    struct lineedit le;
    int started;            /* the prompt has been shown */
    int busy;               /* a command is running: its output owns the screen */
} console;

/* ------------------------------------------------------------- output --- */

static void console_write(const char *s, size_t n)
{
    hal_uart_write(s, n);
}

static void console_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void console_printf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
    /* Lines end in CRLF on a serial line. */
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n') {
            console_write(buf + start, i - start);
            console_write("\r\n", 2);
            start = i + 1;
        }
    }
    console_write(buf + start, len - start);
}

static void console_echo(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    console_write(s, n);
}

void console_print(const char *s, size_t n)
{
    if (!console.started || console.busy) {
        console_write(s, n);
        return;
    }
    /* Clear the line being typed, print, then show it again. */
    console_write("\r\x1b[K", 4);
    console_write(s, n);
    console_write(CONSOLE_PROMPT, sizeof(CONSOLE_PROMPT) - 1);
    console_write(console.le.buf, console.le.len);
}

void console_log_sink(const char *line, size_t len)
{
    if (!console.started || console.busy) {
        console_write(line, len);
        console_write("\r\n", 2);
        return;
    }
    console_write("\r\x1b[K", 4);
    console_write(line, len);
    console_write("\r\n", 2);
    console_write(CONSOLE_PROMPT, sizeof(CONSOLE_PROMPT) - 1);
    console_write(console.le.buf, console.le.len);
}

/* ----------------------------------------------------------- dispatch --- */

/* How many leading words of argv name cmd; 0 if they do not. */
static int console_match(const struct console_cmd *cmd, int argc, char **argv)
{
    const char *w = cmd->words;
    int i = 0;
    while (*w) {
        size_t len = strcspn(w, " ");
        if (i >= argc || strlen(argv[i]) != len || strncmp(argv[i], w, len) != 0)
            return 0;
        i++;
        w += len;
        while (*w == ' ')
            w++;
    }
    return i;
}

static void console_usage(const struct console_cmd *cmd)
{
    console_printf("usage: %s%s%s\n", cmd->words, cmd->usage[0] ? " " : "", cmd->usage);
}

int console_execute(char *line)
{
    char *argv[CMDLINE_MAX_WORDS];
    int argc = cmdline_split(line, argv, CMDLINE_MAX_WORDS);
    if (argc == PB_EINVAL) {
        console_printf("error: a quote is not closed\n");
        return argc;
    }
    if (argc < 0) {
        console_printf("error: too many words (at most %d)\n", CMDLINE_MAX_WORDS);
        return argc;
    }
    if (argc == 0)
        return 0;

    const struct console_cmd *partial = NULL;
    for (size_t i = 0; i < CONSOLE_NCMDS; i++) {
        const struct console_cmd *cmd = &console_cmds[i];
        int used = console_match(cmd, argc, argv);
        if (used == 0) {
            if (!partial && strncmp(cmd->words, argv[0], strlen(argv[0])) == 0 &&
                cmd->words[strlen(argv[0])] == ' ')
                partial = cmd;
            continue;
        }
        int nargs = argc - used;
        if (nargs < cmd->min_args || nargs > cmd->max_args) {
            console_usage(cmd);
            return PB_EINVAL;
        }
        return cmd->run(nargs, argv + used);
    }
    if (partial) {
        console_printf("error: '%s' needs more words; try 'help %s'\n", argv[0], argv[0]);
        return PB_ENOENT;
    }
    console_printf("error: unknown command '%s'; 'help' lists them\n", argv[0]);
    return PB_ENOENT;
}

/* ----------------------------------------------------------- commands --- */

static int console_cmd_help(int argc, char **argv)
{
    int shown = 0;
    for (size_t i = 0; i < CONSOLE_NCMDS; i++) {
        const struct console_cmd *cmd = &console_cmds[i];
        if (argc > 0) {
            /* "help show" lists every "show ..." command. */
            int ok = 1;
            const char *w = cmd->words;
            for (int a = 0; a < argc && ok; a++) {
                size_t len = strcspn(w, " ");
                ok = strlen(argv[a]) == len && strncmp(argv[a], w, len) == 0;
                w += len;
                while (*w == ' ')
                    w++;
            }
            if (!ok)
                continue;
        }
        char left[64];
        snprintf(left, sizeof(left), "%s%s%s", cmd->words, cmd->usage[0] ? " " : "", cmd->usage);
        console_printf("  %-24s %s\n", left, cmd->help);
        shown++;
    }
    if (shown == 0) {
        console_printf("error: no command '%s'; 'help' lists them\n", argv[0]);
        return PB_ENOENT;
    }
    return 0;
}

static int console_cmd_show_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    console_printf("Pillarbox %s on board %s\n", PB_VERSION, hal_board_name());
    console_printf("lwIP 2.1.3, wolfSSL 5.5.4 (Debian sources)\n");
    return 0;
}

static void console_print_ip(const char *label, const ip_addr_t *a)
{
    char buf[IPADDR_STRLEN_MAX];
    console_printf("  %-12s %s\n", label, ipaddr_ntoa_r(a, buf, sizeof(buf)));
}

static int console_cmd_show_status(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    uint64_t s = hal_clock_ms() / 1000;
    console_printf("uptime      %lud %02u:%02u:%02u\n", (unsigned long)(s / 86400),
                   (unsigned)(s / 3600 % 24), (unsigned)(s / 60 % 60), (unsigned)(s % 60));
    console_printf("hostname    %s\n", config_get()->hostname);

    struct net_status st;
    net_status(&st);
    console_printf("network\n");
    console_printf("  %-12s %s\n", "link", st.link_up ? "up" : "down");
    console_printf("  %-12s %02x:%02x:%02x:%02x:%02x:%02x\n", "mac", st.mac[0], st.mac[1],
                   st.mac[2], st.mac[3], st.mac[4], st.mac[5]);
    if (st.ipv4_up) {
        ip_addr_t a;
        ip_addr_copy_from_ip4(a, st.addr);
        console_print_ip(config_get()->net.dhcp ? "ipv4 (dhcp)" : "ipv4", &a);
        ip_addr_copy_from_ip4(a, st.netmask);
        console_print_ip("netmask", &a);
        ip_addr_copy_from_ip4(a, st.gateway);
        console_print_ip("gateway", &a);
    } else {
        console_printf("  %-12s %s\n", "ipv4", config_get()->net.dhcp ? "waiting for DHCP" : "none");
    }
    for (int i = 0; i < st.ipv6_count; i++) {
        ip_addr_t a;
        ip_addr_copy_from_ip6(a, st.ipv6[i]);
        console_print_ip("ipv6", &a);
    }
    for (int i = 0; i < 2; i++)
        if (!ip_addr_isany(&st.dns[i]))
            console_print_ip("dns", &st.dns[i]);

    console_printf("memory (in use / size, peak)\n");
#if MEM_STATS
    console_printf("  %-16s %6u / %6u bytes, peak %u\n", "lwip heap", (unsigned)lwip_stats.mem.used,
                   (unsigned)lwip_stats.mem.avail, (unsigned)lwip_stats.mem.max);
#endif
#if MEMP_STATS
    for (int i = 0; i < MEMP_MAX; i++) {
        const struct stats_mem *m = lwip_stats.memp[i];
        if (m)
            console_printf("  %-16s %6u / %6u, peak %u%s\n", m->name, (unsigned)m->used,
                           (unsigned)m->avail, (unsigned)m->max, m->err ? ", ran out" : "");
    }
#endif
    struct tls_arena_stats ts;
    tls_arena_stats(&ts);
    console_printf("  %-16s %6lu / %6lu bytes, peak %lu%s\n", "tls arena", (unsigned long)ts.in_use,
                   (unsigned long)ts.size, (unsigned long)ts.peak, ts.failed ? ", ran out" : "");
    return 0;
}

static void console_show_log_line(void *ctx, const char *line)
{
    (void)ctx;
    console_printf("%s\n", line);
}

static int console_cmd_show_log(int argc, char **argv)
{
    int n = 20;
    if (argc == 1) {
        char *end;
        long v = strtol(argv[0], &end, 10);
        if (*end || v <= 0 || v > 10000) {
            console_printf("error: N must be a number from 1 to 10000\n");
            return PB_EINVAL;
        }
        n = (int)v;
    }
    log_foreach(n, console_show_log_line, NULL);
    return 0;
}

static int console_cmd_set_hostname(int argc, char **argv)
{
    (void)argc;
    int err = config_set_hostname(argv[0]);
    if (err == PB_EINVAL) {
        console_printf("error: '%s' is not a valid hostname (letters, digits, hyphens and dots, "
                       "e.g. mail.example.com)\n", argv[0]);
        return err;
    }
    if (err) {
        console_printf("error: could not save the hostname: %s\n", pb_err_str(err));
        return err;
    }
    net_set_hostname(argv[0]);
    console_printf("hostname set to %s\n", argv[0]);
    log_printf("console: hostname set to %s", argv[0]);
    return 0;
}

static int console_cmd_show_storage(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct store *s = storage_get();
    if (!s) {
        console_printf("error: no flash store is mounted\n");
        return PB_ENOENT;
    }
    struct store_stats st;
    store_stats(s, &st);
    console_printf("capacity    %llu KiB in %lu blocks\n", (unsigned long long)(st.capacity / 1024),
                   (unsigned long)st.blocks);
    console_printf("used        %llu KiB (%lu blocks): live %llu KiB, dead %llu KiB\n",
                   (unsigned long long)(st.used / 1024), (unsigned long)st.blocks_used,
                   (unsigned long long)(st.live / 1024), (unsigned long long)(st.dead / 1024));
    console_printf("free        %llu KiB (%lu blocks), reserve %llu KiB, retired %lu blocks\n",
                   (unsigned long long)(st.free / 1024), (unsigned long)st.blocks_free,
                   (unsigned long long)(st.reserve / 1024), (unsigned long)st.blocks_retired);
    console_printf("erase count min %lu, max %lu, mean %lu\n", (unsigned long)st.erase_min,
                   (unsigned long)st.erase_max, (unsigned long)st.erase_mean);
    console_printf("objects     %lu messages, %lu blobs, %lu chunks\n", (unsigned long)st.messages,
                   (unsigned long)st.blobs, (unsigned long)st.chunks);
    console_printf("mount time  %lu ms (%lu torn records skipped)\n", (unsigned long)st.mount_ms,
                   (unsigned long)st.torn);
    return 0;
}

static int console_cmd_storage_check(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct store *s = storage_get();
    if (!s) {
        console_printf("error: no flash store is mounted\n");
        return PB_ENOENT;
    }
    struct store_check_report r;
    int problems = store_check(s, &r);
    console_printf("storage check: %lu records read, %lu corrupt, %d problems%s%s\n",
                   (unsigned long)r.records, (unsigned long)r.corrupt, problems,
                   problems ? "; first: " : "", problems ? r.first : "");
    return problems ? PB_ECORRUPT : 0;
}

static int console_cmd_reboot(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    console_printf("rebooting\n");
    hal_reset_reboot();
}

static int console_cmd_poweroff(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    console_printf("powering off\n");
    hal_reset_poweroff(0);
}

/* ---------------------------------------------------------------- input --- */

void console_init(void)
{
    lineedit_init(&console.le, console_echo, NULL);
    console.started = 1;
    console_write(CONSOLE_PROMPT, sizeof(CONSOLE_PROMPT) - 1);
}

int console_poll(void)
{
    uint8_t buf[64];
    int n = hal_uart_read(buf, sizeof(buf));
    if (n <= 0)
        return 0;
    for (int i = 0; i < n; i++) {
        if (lineedit_feed(&console.le, buf[i])) {
            char line[LINEEDIT_MAX + 1];
            memcpy(line, console.le.buf, sizeof(line));
            console.busy = 1;
            console_execute(line);
            console.busy = 0;
            console_write(CONSOLE_PROMPT, sizeof(CONSOLE_PROMPT) - 1);
        }
    }
    return 1;
}
