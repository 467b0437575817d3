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

#include "accounts.h"
#include "admin.h"
#include "cmdline.h"
#include "config.h"
#include "dns.h"
#include "dnsrec.h"
#include "hal_board.h"
#include "hal_clock.h"
#include "hal_reset.h"
#include "hal_uart.h"
#include "identity.h"
#include "auth_guard.h"
#include "imap_mailbox.h"
#include "lineedit.h"
#include "log.h"
#include "lwip/memp.h"
#include "lwip/stats.h"
#include "net.h"
#include "pb_err.h"
#include "services.h"
#include "smtp_queue.h"
#include "smtp_relay.h"
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
static int console_cmd_domain_add(int argc, char **argv);
static int console_cmd_domain_del(int argc, char **argv);
static int console_cmd_domain_list(int argc, char **argv);
static int console_cmd_user_add(int argc, char **argv);
static int console_cmd_user_passwd(int argc, char **argv);
static int console_cmd_user_del(int argc, char **argv);
static int console_cmd_user_list(int argc, char **argv);
static int console_cmd_alias_add(int argc, char **argv);
static int console_cmd_alias_del(int argc, char **argv);
static int console_cmd_alias_list(int argc, char **argv);
static int console_cmd_set_catchall(int argc, char **argv);
static int console_cmd_show_queue(int argc, char **argv);
static int console_cmd_queue_flush(int argc, char **argv);
static int console_cmd_queue_retry(int argc, char **argv);
static int console_cmd_queue_delete(int argc, char **argv);
static int console_cmd_set_relayhost(int argc, char **argv);
static int console_cmd_set_relayhost_auth(int argc, char **argv);
static int console_cmd_set_relayhost_tls(int argc, char **argv);
static int console_cmd_set_relayhost_fingerprint(int argc, char **argv);
static int console_cmd_set_queue(int argc, char **argv);
static int console_cmd_set_smtp(int argc, char **argv);
static int console_cmd_set_submission(int argc, char **argv);
static int console_cmd_passwd(int argc, char **argv);
static int console_cmd_show_config(int argc, char **argv);
static int console_cmd_user_import(int argc, char **argv);
static int console_cmd_logout(int argc, char **argv);
static int console_cmd_factory_reset(int argc, char **argv);
static int console_cmd_set_dns(int argc, char **argv);
static int console_cmd_show_dns(int argc, char **argv);
static int console_cmd_dns_lookup(int argc, char **argv);
static int console_cmd_show_mailbox(int argc, char **argv);
static int console_cmd_dns_records(int argc, char **argv);
static int console_cmd_dns_check(int argc, char **argv);
static int console_cmd_show_tls(int argc, char **argv);
static int console_cmd_tls_regenerate(int argc, char **argv);
static int console_cmd_tls_import(int argc, char **argv);
static int console_cmd_set_ip(int argc, char **argv);
static int console_cmd_set_auth(int argc, char **argv);
static int console_cmd_show_setup_code(int argc, char **argv);

static const struct console_cmd console_cmds[] = {
    { "help", 0, 8, console_cmd_help, "[COMMAND]", "list the commands, or explain one" },
    { "show version", 0, 0, console_cmd_show_version, "", "firmware version and board" },
    { "show status", 0, 0, console_cmd_show_status, "",
      "uptime, memory pools in use, addresses, gateway and DNS" },
    { "show log", 0, 1, console_cmd_show_log, "[N]|follow",
      "the newest N log lines (default 20); follow: new lines as they come, until a key is pressed" },
    { "show storage", 0, 0, console_cmd_show_storage, "",
      "flash store: capacity, used, free, live/dead bytes, erase counts, writes since mount, mount time" },
    { "show config", 0, 1, console_cmd_show_config, "[secrets]",
      "the whole configuration as the commands that recreate it; with secrets also the users' password "
      "verifiers and the relay host password (paste into another box to clone)" },
    { "show queue", 0, 0, console_cmd_show_queue, "",
      "mail waiting to go out: sender, recipients, attempts, size, next attempt, last error" },
    { "queue flush", 0, 0, console_cmd_queue_flush, "", "try every queued message now" },
    { "queue retry", 1, 1, console_cmd_queue_retry, "ID", "try the queued message ID (or every ID.N) now" },
    { "queue delete", 1, 1, console_cmd_queue_delete, "ID",
      "drop the queued message ID (or every ID.N) without telling the sender" },
    { "set relayhost", 1, 1, console_cmd_set_relayhost, "HOST[:PORT]|off",
      "send all outbound mail through HOST (TLS required); off: to each domain's MX" },
    { "set relayhost-auth", 1, 2, console_cmd_set_relayhost_auth, "USER PASSWORD|off",
      "log in to the relay host (AUTH PLAIN or LOGIN, only over TLS); off: no login" },
    { "set relayhost-tls", 1, 1, console_cmd_set_relayhost_tls, "starttls|implicit",
      "TLS with the relay host: STARTTLS (default) or TLS from the first byte (port 465)" },
    { "set relayhost-fingerprint", 1, 1, console_cmd_set_relayhost_fingerprint, "HEX|off",
      "accept only the relay host certificate with this SHA-256 fingerprint; off: not checked" },
    { "set queue", 2, 2, console_cmd_set_queue, "lifetime DURATION | delay-notice DURATION|off",
      "how long outbound mail is tried before it bounces, e.g. 5d, 12h (1h..30d, default 5d); "
      "after how long its sender is told once that it is delayed (default 4h)" },
    { "storage check", 0, 0, console_cmd_storage_check, "", "full read-only consistency check of the store" },
    { "set hostname", 1, 1, console_cmd_set_hostname, "NAME",
      "the appliance's name, e.g. mail.example.com" },
    { "set submission", 2, 2, console_cmd_set_submission, "hide-client on|off",
      "leave the sender's own address out of the Received: header of submitted mail" },
    { "set smtp", 2, 2, console_cmd_set_smtp, "max-size SIZE | timeout SECONDS | require-rdns on|off",
      "SMTP limits: message size (e.g. 25M, 1M..1G), idle timeout (300..3600 s), refuse peers without reverse DNS" },
    { "set dns", 1, DNS_SERVERS_MAX, console_cmd_set_dns, "IP[:PORT] ...|auto",
      "the resolver's servers, e.g. 192.0.2.53 or [2001:db8::53]:5353; auto: DHCP's" },
    { "show dns", 0, 0, console_cmd_show_dns, "", "resolver servers, queries in flight, cache" },
    { "dns lookup", 2, 2, console_cmd_dns_lookup, "TYPE NAME",
      "ask the resolver; TYPE: a, aaaa, mx, txt, tlsa, ptr (NAME may be an IP for ptr)" },
    { "dns records", 0, 1, console_cmd_dns_records, "[DOMAIN]",
      "the DNS records to publish at the registrar for DOMAIN (every domain when omitted)" },
    { "dns check", 1, 1, console_cmd_dns_check, "DOMAIN",
      "look the records of DOMAIN up through the resolver: present, missing or different" },
    { "show tls", 0, 0, console_cmd_show_tls, "",
      "the TLS certificate: SHA-256 fingerprint, subject, expiry, self-signed or not" },
    { "tls regenerate", 0, 0, console_cmd_tls_regenerate, "",
      "make a new self-signed key and certificate (asks for confirmation; used from the next reboot)" },
    { "tls import", 0, 0, console_cmd_tls_import, "",
      "paste a PEM certificate and its ECDSA private key, then a line '.' (used from the next reboot)" },
    { "set ip", 1, 2, console_cmd_set_ip, "dhcp | ADDR/PREFIX GATEWAY",
      "IPv4 by DHCP (default) or static, e.g. 192.168.1.20/24 192.168.1.1 (applied at the next reboot)" },
    { "set auth", 2, 2, console_cmd_set_auth, "max-failures N | lockout DURATION",
      "refuse logins from an address for DURATION (e.g. 15m, 1h) after N failed ones (default 10, 15m)" },
    { "domain add", 1, 1, console_cmd_domain_add, "DOMAIN", "receive mail for DOMAIN, e.g. example.com" },
    { "domain del", 1, 1, console_cmd_domain_del, "DOMAIN", "stop receiving mail for DOMAIN (no users or aliases left)" },
    { "domain list", 0, 0, console_cmd_domain_list, "", "the domains and their catch-all addresses" },
    { "user add", 1, 2, console_cmd_user_add, "ADDRESS [PASSWORD]",
      "a mailbox and login, e.g. alice@example.com (asks for the password if not given)" },
    { "user passwd", 1, 2, console_cmd_user_passwd, "ADDRESS [PASSWORD]", "change a user's password" },
    { "user import", 2, 2, console_cmd_user_import, "ADDRESS VERIFIER",
      "add a user with a password verifier from 'show config' (the password itself is never shown)" },
    { "user del", 1, 1, console_cmd_user_del, "ADDRESS", "remove a user: the login and the mailbox with all its mail" },
    { "user list", 0, 0, console_cmd_user_list, "", "the users" },
    { "show mailbox", 1, 1, console_cmd_show_mailbox, "ADDRESS",
      "a user's folders: messages, unseen, bytes" },
    { "alias add", 2, 16, console_cmd_alias_add, "ADDRESS TARGET[,TARGET...]",
      "deliver ADDRESS's mail to the targets, e.g. sales@example.com alice@example.com,bob@example.com" },
    { "alias del", 1, 1, console_cmd_alias_del, "ADDRESS", "remove an alias" },
    { "alias list", 0, 0, console_cmd_alias_list, "", "the aliases and their targets" },
    { "set catchall", 2, 2, console_cmd_set_catchall, "DOMAIN ADDRESS|off",
      "deliver mail for unknown addresses of DOMAIN to ADDRESS (off by default)" },
    { "show setup-code", 0, 0, console_cmd_show_setup_code, "",
      "the one-time code the web page's first-boot setup asks for (until an admin password is set)" },
    { "passwd", 0, 0, console_cmd_passwd, "",
      "set the admin password (asked twice); from then on the console asks for it" },
    { "logout", 0, 0, console_cmd_logout, "", "lock the console until the admin password is typed" },
    { "factory-reset", 0, 0, console_cmd_factory_reset, "",
      "erase every setting, account and message (asks for confirmation), then reboot" },
    { "reboot", 0, 0, console_cmd_reboot, "", "restart the firmware" },
    { "poweroff", 0, 0, console_cmd_poweroff, "", "switch off (ends the emulator)" },
};
#define CONSOLE_NCMDS (sizeof(console_cmds) / sizeof(console_cmds[0]))

static struct {
    struct lineedit le;
    int started;            /* the prompt has been shown */
    int busy;               /* a command is running: its output owns the screen */
    int pw_state;           /* 0, or asking for a password: 1 first time, 2 again */
    int pw_kind;            /* CONSOLE_PW_*: what the password is for */
    bool locked;            /* an admin password is set and nobody has typed it */
    bool confirm_reset;     /* factory-reset asked for its confirmation */
    bool confirm_tls;       /* tls regenerate asked for its confirmation */
    bool following;         /* show log follow: log lines until a key is pressed */
    bool follow_lf;         /* ... and the LF of the command's own CRLF is not that key */
    bool pem_reading;       /* tls import: collecting PEM lines */
    size_t pem_len;
    char pw_addr[ACCOUNTS_ADDR_MAX + 1];
    char pw_first[PASSWORD_MAX + 1];
} console;

#ifndef PB_EXTRAM
#define PB_EXTRAM
#endif
/* Work areas of tls import, dns records and dns check (one command runs
 * at a time): about 25 KiB, in external RAM where the board has it. */
static char console_pem[IDENTITY_PEM_MAX + 1] PB_EXTRAM;

/* console_execute_capture(): output goes there instead of the UART. */
static struct {
    char *buf;
    size_t cap, len;
} console_capture;

/* ------------------------------------------------------------- output --- */

static void console_write(const char *s, size_t n)
{
    if (!console_capture.buf) {
        hal_uart_write(s, n);
        return;
    }
    /* Keep what fits, always NUL-terminated. */
    size_t room = console_capture.cap - 1 - console_capture.len;
    if (n > room)
        n = room;
    memcpy(console_capture.buf + console_capture.len, s, n);
    console_capture.len += n;
    console_capture.buf[console_capture.len] = '\0';
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

enum { CONSOLE_PW_USER_ADD, CONSOLE_PW_USER_PASSWD, CONSOLE_PW_ADMIN };

/* The prompt for what the console waits for now. */
static void console_prompt(void)
{
    const char *p = console.locked ? "login: " : console.pw_state == 1 ? "Password: " :
                    console.pw_state == 2 ? "Password again: " :
                    console.confirm_reset ? "Type 'erase' to erase everything, anything else to keep it: " :
                    console.confirm_tls ? "Type 'regenerate' to replace the TLS key, anything else to keep it: " :
                    console.pem_reading ? "" :
                    CONSOLE_PROMPT;
    console_write(p, strlen(p));
}

/* After output above the line being typed: the prompt and the line again
 * (never a password being typed). */
static void console_redraw(void)
{
    console_prompt();
    if (!console.le.secret)
        console_write(console.le.buf, console.le.len);
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
    console_redraw();
}

void console_log_sink(const char *line, size_t len)
{
    if (console_capture.buf) {
        /* A log line while a command runs for the web page: the UART's,
         * not the page's.  The operator may be half-way through a line at
         * the serial console: clear it, print, and show it again, as
         * below - with the capture set aside so that the prompt and the
         * partial line go to the UART too. */
        char *saved = console_capture.buf;
        console_capture.buf = NULL;
        bool over = console.started && !console.busy && !console.following;
        if (over)
            hal_uart_write("\r\x1b[K", 4);
        hal_uart_write(line, len);
        hal_uart_write("\r\n", 2);
        if (over)
            console_redraw();
        console_capture.buf = saved;
        return;
    }
    if (!console.started || console.busy || console.following) {
        console_write(line, len);
        console_write("\r\n", 2);
        return;
    }
    console_write("\r\x1b[K", 4);
    console_write(line, len);
    console_write("\r\n", 2);
    console_redraw();
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

int console_execute_capture(char *line, char *out, size_t cap)
{
    if (cap == 0 || console_capture.buf)
        return PB_EINVAL;
    out[0] = '\0';
    console_capture.buf = out;
    console_capture.cap = cap;
    console_capture.len = 0;
    int err = console_execute(line);
    console_capture.buf = NULL;
    return err;
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
    char servers[DNS_SERVERS_TEXT_MAX];
    dns_servers_text(servers, sizeof(servers));
    console_printf("  %-12s %s\n", "dns", servers);
    char ip[CONFIG_IP_TEXT_MAX + 1];
    config_ip_text(&config_get()->net, ip, sizeof(ip));
    console_printf("  %-12s %s (set ip; applied at boot)\n", "configured", ip);

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
    if (argc == 1 && strcmp(argv[0], "follow") == 0) {
        /* New lines reach the console through console_log_sink; following
         * only leaves the prompt away so they read as one stream. */
        console_printf("following the log; press any key to stop\n");
        console.following = true;
        console.follow_lf = true;
        return 0;
    }
    if (argc == 1) {
        char *end;
        long v = strtol(argv[0], &end, 10);
        if (*end || v <= 0 || v > 10000) {
            console_printf("error: N must be a number from 1 to 10000, or 'follow'\n");
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
    console_printf("capacity    %lu KiB in %lu blocks\n", (unsigned long)(st.capacity / 1024),
                   (unsigned long)st.blocks);
    console_printf("used        %lu KiB (%lu blocks): live %lu KiB, dead %lu KiB\n",
                   (unsigned long)(st.used / 1024), (unsigned long)st.blocks_used,
                   (unsigned long)(st.live / 1024), (unsigned long)(st.dead / 1024));
    console_printf("free        %lu KiB (%lu blocks), reserve %lu KiB, retired %lu blocks\n",
                   (unsigned long)(st.free / 1024), (unsigned long)st.blocks_free,
                   (unsigned long)(st.reserve / 1024), (unsigned long)st.blocks_retired);
    console_printf("erase count min %lu, max %lu, mean %lu\n", (unsigned long)st.erase_min,
                   (unsigned long)st.erase_max, (unsigned long)st.erase_mean);
    console_printf("written     %lu KiB in %lu erases since mount\n",
                   (unsigned long)(st.bytes_programmed / 1024), (unsigned long)st.erases);
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


/* ----------------------------------------------------------- accounts --- */

/* One clear line for an accounts error about name (an address or domain). */
static int console_accounts_error(int err, const char *what, const char *name)
{
    const char *at = strrchr(name, '@');
    switch (err) {
    case PB_EINVAL:
        console_printf("error: '%s' is not a valid %s\n", name, what);
        break;
    case PB_ENOENT:
        if (at && strcmp(what, "domain") != 0 && !accounts_domain_exists(storage_get(), at + 1))
            console_printf("error: domain %s is not configured; add it with 'domain add %s'\n",
                           at + 1, at + 1);
        else
            console_printf("error: %s %s does not exist\n", what, name);
        break;
    case PB_EEXIST:
        console_printf("error: %s already exists\n", name);
        break;
    case PB_EBUSY:
        console_printf("error: domain %s still has users or aliases; delete them first\n", name);
        break;
    case PB_ERANGE:
        console_printf("error: '%s' is too long (addresses of users: at most %d characters)\n",
                       name, STORE_NAME_MAX);
        break;
    case PB_ENOSPC:
    case PB_ENOMEM:
        console_printf("error: the store is full; nothing was changed\n");
        break;
    default:
        console_printf("error: %s: %s; nothing was changed\n", name, pb_err_str(err));
        break;
    }
    return err;
}

/* The end of an accounts command: its error, or "WHAT NAME DONE" on the
 * console and in the log. */
static int console_accounts_result(int err, const char *what, const char *name, const char *done)
{
    if (err)
        return console_accounts_error(err, what, name);
    console_printf("%s %s %s\n", what, name, done);
    log_printf("console: %s %s %s", what, name, done);
    return 0;
}

static int console_cmd_domain_add(int argc, char **argv)
{
    (void)argc;
    return console_accounts_result(accounts_domain_add(storage_get(), argv[0]), "domain", argv[0], "added");
}

static int console_cmd_domain_del(int argc, char **argv)
{
    (void)argc;
    return console_accounts_result(accounts_domain_del(storage_get(), argv[0]), "domain", argv[0], "deleted");
}

static int console_cmd_domain_list(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char name[MAIL_DOMAIN_MAX + 1] = "", catchall[ACCOUNTS_ADDR_MAX + 1];
    int n = 0;
    while (accounts_next(storage_get(), STORE_NS_DOMAIN, name, name, sizeof(name)) >= 0) {
        n++;
        if (accounts_domain_catchall(storage_get(), name, catchall, sizeof(catchall)) == 0 && catchall[0])
            console_printf("%s (catch-all: %s)\n", name, catchall);
        else
            console_printf("%s\n", name);
    }
    if (n == 0)
        console_printf("no domains yet: add one with 'domain add example.com'\n");
    return 0;
}

static int console_user_set(const char *addr, const char *password, bool add)
{
    int err = add ? accounts_user_add(storage_get(), addr, password)
                  : accounts_user_passwd(storage_get(), addr, password);
    if (err == PB_EINVAL && (password[0] == '\0' || strlen(password) > PASSWORD_MAX)) {
        console_printf("error: a password must be 1 to %d characters\n", PASSWORD_MAX);
        return err;
    }
    if (err)
        return console_accounts_error(err, "address", addr);
    console_printf(add ? "user %s added\n" : "password of %s changed\n", addr);
    log_printf(add ? "console: user %s added" : "console: password of %s changed", addr);
    return 0;
}

/* Without a PASSWORD argument: ask for it twice, without echo. */
static int console_user_ask(const char *addr, bool add)
{
    if (strlen(addr) >= sizeof(console.pw_addr))
        return console_accounts_error(PB_EINVAL, "address", addr);
    strcpy(console.pw_addr, addr);
    console.pw_kind = add ? CONSOLE_PW_USER_ADD : CONSOLE_PW_USER_PASSWD;
    console.pw_state = 1;
    lineedit_set_secret(&console.le, true);
    return 0;
}

static void console_admin_set(const char *pw)
{
    int err = admin_password_set(pw);
    if (err == PB_EINVAL) {
        console_printf("error: a password must be 1 to %d characters\n", PASSWORD_MAX);
    } else if (err) {
        console_printf("error: could not save the admin password: %s\n", pb_err_str(err));
    } else {
        console_printf("admin password set: the console asks for it after 'logout' and at every boot\n");
        log_printf("console: admin password set");
    }
}

/* A line typed at the password prompt. */
static void console_password_line(const char *line)
{
    if (console.pw_state == 1) {
        if (strlen(line) > PASSWORD_MAX) {
            console_printf("error: a password must be 1 to %d characters\n", PASSWORD_MAX);
            console.pw_state = 0;
        } else {
            strcpy(console.pw_first, line);
            console.pw_state = 2;
            return;
        }
    } else if (strcmp(line, console.pw_first) != 0) {
        console_printf("error: the two passwords differ; nothing was changed\n");
        console.pw_state = 0;
    } else {
        console.pw_state = 0;
        if (console.pw_kind == CONSOLE_PW_ADMIN)
            console_admin_set(line);
        else
            console_user_set(console.pw_addr, line, console.pw_kind == CONSOLE_PW_USER_ADD);
    }
    memset(console.pw_first, 0, sizeof(console.pw_first));
    lineedit_set_secret(&console.le, false);
}

static int console_cmd_user_add(int argc, char **argv)
{
    return argc == 2 ? console_user_set(argv[0], argv[1], true) : console_user_ask(argv[0], true);
}

static int console_cmd_user_passwd(int argc, char **argv)
{
    return argc == 2 ? console_user_set(argv[0], argv[1], false) : console_user_ask(argv[0], false);
}

static int console_cmd_user_del(int argc, char **argv)
{
    (void)argc;
    return console_accounts_result(accounts_user_del(storage_get(), argv[0]), "user", argv[0], "deleted, with the mail in the mailbox");
}

static int console_cmd_user_list(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char name[ACCOUNTS_ADDR_MAX + 1] = "";
    int n = 0;
    while (accounts_next(storage_get(), STORE_NS_USER, name, name, sizeof(name)) >= 0) {
        console_printf("%s\n", name);
        n++;
    }
    if (n == 0)
        console_printf("no users yet: add one with 'user add alice@example.com'\n");
    return 0;
}

/* The folders as IMAP shows them, with the totals a user would ask about
 * ("is my mail there?", "why is my mailbox full?"). */
static int console_cmd_show_mailbox(int argc, char **argv)
{
    (void)argc;
    struct store *s = storage_get();
    char user[ACCOUNTS_ADDR_MAX + 1];
    uint32_t mailbox;
    if (!s || strlen(argv[0]) >= sizeof(user))
        return console_accounts_error(PB_EINVAL, "address", argv[0]);
    strcpy(user, argv[0]);
    accounts_lower(user);
    if (!accounts_user_exists(s, user) || store_mailbox_find(s, user, &mailbox) != 0)
        return console_accounts_error(PB_ENOENT, "user", argv[0]);
    console_printf("%-24s %8s %8s %10s\n", "folder", "messages", "unseen", "bytes");
    struct store_folder_info fi;
    uint16_t after = 0;
    uint32_t folders = 0, all_n = 0, all_u = 0;
    uint64_t all_b = 0;
    while (store_folder_next(s, mailbox, after, &fi) == 0) {
        after = fi.id;
        uint32_t n, u;
        uint64_t b;
        if (imap_mailbox_totals(s, fi.id, &n, &u, &b, &fi) != 0)
            continue;
        const char *use = imap_mailbox_special_use(fi.name);
        console_printf("%-24s %8lu %8lu %10lu %s\n", fi.name, (unsigned long)n, (unsigned long)u,
                       (unsigned long)b, use ? use : "");
        folders++;
        all_n += n;
        all_u += u;
        all_b += b;
    }
    console_printf("%lu folders, %lu messages, %lu unseen, %lu bytes\n", (unsigned long)folders,
                   (unsigned long)all_n, (unsigned long)all_u, (unsigned long)all_b);
    return 0;
}

/* The words argv[0..argc) joined by sep into buf (cap bytes); PB_ERANGE
 * when they do not fit. */
static int console_join(int argc, char **argv, char sep, char *buf, size_t cap)
{
    size_t len = 0;
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (len + n + 2 > cap)
            return PB_ERANGE;
        if (len)
            buf[len++] = sep;
        memcpy(buf + len, argv[i], n);
        len += n;
    }
    buf[len] = '\0';
    return 0;
}

static int console_cmd_alias_add(int argc, char **argv)
{
    /* Targets may come as one comma-separated word or as several words. */
    char targets[STORE_REC_VALUE_MAX];
    if (console_join(argc - 1, argv + 1, ',', targets, sizeof(targets))) {
        console_printf("error: too many targets\n");
        return PB_ERANGE;
    }
    int err = accounts_alias_add(storage_get(), argv[0], targets);
    if (err == PB_EINVAL && accounts_domain_exists(storage_get(), strrchr(argv[0], '@') ?
                                                   strrchr(argv[0], '@') + 1 : "")) {
        console_printf("error: the targets '%s' are not valid addresses\n", targets);
        return err;
    }
    if (err == PB_ERANGE) {
        console_printf("error: an alias has at most %d targets\n", ACCOUNTS_TARGETS_MAX);
        return err;
    }
    if (err)
        return console_accounts_error(err, "address", argv[0]);
    console_printf("alias %s -> %s added\n", argv[0], targets);
    log_printf("console: alias %s added", argv[0]);
    return 0;
}

static int console_cmd_alias_del(int argc, char **argv)
{
    (void)argc;
    return console_accounts_result(accounts_alias_del(storage_get(), argv[0]), "alias", argv[0], "deleted");
}

static int console_cmd_alias_list(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char name[ACCOUNTS_ADDR_MAX + 1] = "", targets[STORE_REC_VALUE_MAX];
    int n = 0;
    while (accounts_next(storage_get(), STORE_NS_ALIAS, name, name, sizeof(name)) >= 0) {
        if (accounts_alias_get(storage_get(), name, targets, sizeof(targets)) == 0)
            console_printf("%s -> %s\n", name, targets);
        n++;
    }
    if (n == 0)
        console_printf("no aliases yet\n");
    return 0;
}

/* "25M", "1G", "512K" (binary multiples), "30000000": bytes, or 0 when
 * not a size. */
static uint64_t console_size(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || s[0] == '-')
        return 0;
    uint64_t mult = 1;
    if (*end == 'K' || *end == 'k')
        mult = 1u << 10, end++;
    else if (*end == 'M' || *end == 'm')
        mult = 1u << 20, end++;
    else if (*end == 'G' || *end == 'g')
        mult = 1u << 30, end++;
    if (*end || v > UINT32_MAX)
        return 0;
    return v * mult;
}

/* A setting's save failed (err != 0): say so; returns whether it did. */
static bool console_save_failed(int err)
{
    if (err)
        console_printf("error: could not save the setting: %s\n", pb_err_str(err));
    return err != 0;
}

static int console_cmd_set_smtp(int argc, char **argv)
{
    (void)argc;
    int err;
    const char *what = argv[0], *val = argv[1];
    if (strcmp(what, "max-size") == 0) {
        uint64_t n = console_size(val);
        err = n > UINT32_MAX ? PB_ERANGE : config_set_smtp_max_size((uint32_t)n);
        if (err == PB_ERANGE) {
            console_printf("error: '%s' is not a size from 1M to 1G (e.g. 25M)\n", val);
            return err;
        }
    } else if (strcmp(what, "timeout") == 0) {
        uint64_t n = console_size(val);
        err = n > UINT32_MAX ? PB_ERANGE : config_set_smtp_timeout((uint32_t)n);
        if (err == PB_ERANGE) {
            console_printf("error: '%s' is not a number of seconds from %u to %u (RFC 5321 asks for at "
                           "least 5 minutes)\n", val, CONFIG_SMTP_TIMEOUT_MIN, CONFIG_SMTP_TIMEOUT_MAX);
            return err;
        }
    } else if (strcmp(what, "require-rdns") == 0) {
        if (strcmp(val, "on") && strcmp(val, "off")) {
            console_printf("error: require-rdns is 'on' or 'off'\n");
            return PB_EINVAL;
        }
        err = config_set_smtp_require_rdns(strcmp(val, "on") == 0);
    } else {
        console_printf("error: unknown SMTP setting '%s' (max-size, timeout, require-rdns)\n", what);
        return PB_EINVAL;
    }
    if (console_save_failed(err))
        return err;
    services_apply_config();
    const struct config_smtp *c = &config_get()->smtp;
    console_printf("smtp: max-size %lu bytes, timeout %lu s, require-rdns %s\n", (unsigned long)c->max_size,
                   (unsigned long)c->timeout, c->require_rdns ? "on" : "off");
    log_printf("console: smtp %s set to %s", what, val);
    return 0;
}

/* Every name of a namespace, in order, through fn. */
static void console_each(enum store_ns ns, void (*fn)(const char *name))
{
    char name[ACCOUNTS_ADDR_MAX + 1] = "";
    while (accounts_next(storage_get(), ns, name, name, sizeof(name)) >= 0)
        fn(name);
}

static void console_config_domain(const char *d)
{
    char target[ACCOUNTS_ADDR_MAX + 1];
    console_printf("domain add %s\n", d);
    if (accounts_domain_catchall(storage_get(), d, target, sizeof(target)) == 0 && target[0])
        console_printf("set catchall %s %s\n", d, target);
}

/* show config secrets: user verifiers and the relay host password too. */
static bool console_config_secrets;

static void console_config_user(const char *u)
{
    char v[ACCOUNTS_VERIFIER_TEXT_MAX];
    if (!console_config_secrets)
        console_printf("# user %s (password not shown: 'show config secrets' has it as a verifier)\n", u);
    else if (accounts_user_verifier(storage_get(), u, v, sizeof(v)) == 0)
        console_printf("user import %s %s\n", u, v);
    else
        console_printf("# user %s: password unreadable; add with 'user add %s'\n", u, u);
}

static void console_config_alias(const char *a)
{
    char targets[STORE_REC_VALUE_MAX];
    if (accounts_alias_get(storage_get(), a, targets, sizeof(targets)) == 0)
        console_printf("alias add %s %s\n", a, targets);
}

/* A word for cmdline_split(): quoted, with " and \ escaped. */
static void console_print_quoted(const char *w)
{
    console_printf("\"");
    for (; *w; w++)
        console_printf(*w == '"' || *w == '\\' ? "\\%c" : "%c", *w);
    console_printf("\"");
}

/* Without "secrets" nothing a password could be recovered from is
 * printed, not even a verifier (a verifier can be attacked offline), so
 * the output can be shown and mailed around; a clone with its users takes
 * "show config secrets", which says what it holds. */
static int console_cmd_show_config(int argc, char **argv)
{
    if (argc == 1 && strcmp(argv[0], "secrets") != 0) {
        console_printf("error: 'show config' takes nothing or 'secrets'\n");
        return PB_EINVAL;
    }
    console_config_secrets = argc == 1;
    const struct config *c = config_get();
    console_printf("# Pillarbox configuration: paste into a console to recreate it.\n");
    if (console_config_secrets)
        console_printf("# SECRETS: user password verifiers and the relay host password. Keep this text safe.\n");
    else
        console_printf("# Passwords are not shown; 'show config secrets' includes them for a clone.\n");
    console_printf("# The admin password and the TLS key are never included.\n");
    console_printf("set hostname %s\n", c->hostname);
    console_printf("set dns %s\n", c->dns[0] ? c->dns : "auto");
    console_printf("set smtp max-size %lu\n", (unsigned long)c->smtp.max_size);
    console_printf("set smtp timeout %lu\n", (unsigned long)c->smtp.timeout);
    console_printf("set smtp require-rdns %s\n", c->smtp.require_rdns ? "on" : "off");
    console_printf("set submission hide-client %s\n", c->smtp.hide_client ? "on" : "off");
    console_printf("set relayhost %s\n", c->relayhost[0] ? c->relayhost : "off");
    console_printf("set relayhost-tls %s\n", c->relay_implicit ? "implicit" : "starttls");
    console_printf("set relayhost-fingerprint %s\n", c->relay_fpr[0] ? c->relay_fpr : "off");
    if (!c->relay_user[0]) {
        console_printf("set relayhost-auth off\n");
    } else if (console_config_secrets) {
        console_printf("set relayhost-auth %s ", c->relay_user);
        console_print_quoted(c->relay_pass);
        console_printf("\n");
    } else {
        console_printf("# set relayhost-auth %s (password not shown)\n", c->relay_user);
    }
    console_printf("set queue lifetime %lus\n", (unsigned long)c->queue_lifetime);
    if (c->queue_delay_notice)
        console_printf("set queue delay-notice %lus\n", (unsigned long)c->queue_delay_notice);
    else
        console_printf("set queue delay-notice off\n");
    char ip[CONFIG_IP_TEXT_MAX + 1];
    config_ip_text(&c->net, ip, sizeof(ip));
    console_printf("set ip %s\n", ip);
    console_printf("set auth max-failures %lu\n", (unsigned long)c->auth_max_failures);
    console_printf("set auth lockout %lus\n", (unsigned long)c->auth_lockout);
    if (!storage_get())
        return 0;
    console_each(STORE_NS_DOMAIN, console_config_domain);
    console_each(STORE_NS_USER, console_config_user);
    console_each(STORE_NS_ALIAS, console_config_alias);
    return 0;
}

static int console_cmd_user_import(int argc, char **argv)
{
    (void)argc;
    int err = accounts_user_import(storage_get(), argv[0], argv[1]);
    if (err == PB_ECORRUPT) {
        console_printf("error: '%.40s' is not a password verifier from 'show config secrets'\n", argv[1]);
        return err;
    }
    return console_accounts_result(err, "user", argv[0], "added");
}

static int console_cmd_passwd(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (!storage_get()) {
        console_printf("error: no flash store: the password could not be kept\n");
        return PB_ENOTSUP;
    }
    console.pw_kind = CONSOLE_PW_ADMIN;
    console.pw_state = 1;
    lineedit_set_secret(&console.le, true);
    return 0;
}

static int console_cmd_show_setup_code(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const char *code = admin_setup_code();
    if (code)
        console_printf("setup code: %s (the web page's first-boot setup asks for it)\n", code);
    else
        console_printf("no setup code: %s\n", admin_password_exists() ?
                       "an admin password is set; sign in to the web page with it" :
                       "none could be made; set the admin password with 'passwd'");
    return 0;
}

static int console_cmd_logout(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (!admin_password_exists()) {
        console_printf("error: no admin password is set, so the console cannot be locked; set one "
                       "with 'passwd'\n");
        return PB_ENOENT;
    }
    console.locked = true;
    lineedit_set_secret(&console.le, true);
    log_printf("console: admin logged out");
    return 0;
}

static int console_cmd_factory_reset(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    console_printf("factory reset: every setting, domain, user, alias, message and queued mail "
                   "will be erased, and the appliance reboots\n");
    console.confirm_reset = true;
    return 0;
}

static int console_cmd_set_submission(int argc, char **argv)
{
    (void)argc;
    if (strcmp(argv[0], "hide-client") != 0 || (strcmp(argv[1], "on") && strcmp(argv[1], "off"))) {
        console_printf("error: the submission setting is 'hide-client on' or 'hide-client off'\n");
        return PB_EINVAL;
    }
    int err = config_set_submission_hide_client(strcmp(argv[1], "on") == 0);
    if (console_save_failed(err))
        return err;
    services_apply_config();
    console_printf("submission: hide-client %s\n", argv[1]);
    log_printf("console: submission hide-client set to %s", argv[1]);
    return 0;
}

static int console_cmd_show_queue(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char name[SMTP_QUEUE_NAME_MAX + 1] = "";
    uint8_t value[STORE_REC_VALUE_MAX];
    int n = 0;
    while (store_rec_next(storage_get(), STORE_NS_QUEUE, name, name, sizeof(name)) >= 0) {
        struct smtp_queue_entry e;
        uint32_t size = 0;
        n++;
        if (smtp_queue_get(storage_get(), name, &e, value, sizeof(value)) != 0) {
            console_printf("%s: unreadable entry\n", name);
            continue;
        }
        store_blob_size(storage_get(), e.blob, &size);
        console_printf("%s from <%.*s> size %lu attempts %u to", name, (int)e.from_len, e.from,
                       (unsigned long)(size - (e.offset < size ? e.offset : size)), (unsigned)e.attempts);
        for (int i = 0; i < e.nrcpt; i++)
            console_printf(" <%.*s>", (int)e.rcpt[i].len, e.rcpt[i].addr);
        int32_t due = (int32_t)(e.next_attempt - (uint32_t)hal_clock_wall());
        if (due > 0)
            console_printf(" next in %ld s", (long)due);
        else
            console_printf(" next now");
        if (e.error_len)
            console_printf(" last error: %.*s", (int)e.error_len, e.error);
        console_printf("\n");
    }
    if (n == 0)
        console_printf("the queue is empty\n");
    else
        console_printf("%d %s waiting, %d being delivered\n", n, n == 1 ? "entry" : "entries",
                       smtp_relay_active());
    return 0;
}

static int console_queue_result(int n, const char *what, const char *name)
{
    if (n < 0) {
        console_printf("error: could not change the queue: %s\n", pb_err_str(n));
        return n;
    }
    if (n == 0 && name) {
        console_printf("error: no queue entry %s\n", name);
        return PB_ENOENT;
    }
    console_printf("%d %s %s\n", n, n == 1 ? "entry" : "entries", what);
    log_printf("console: queue %s%s%s: %d", what, name ? " " : "", name ? name : "", n);
    return 0;
}

static int console_cmd_queue_flush(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return console_queue_result(smtp_relay_flush(), "due now", NULL);
}

static int console_cmd_queue_retry(int argc, char **argv)
{
    (void)argc;
    return console_queue_result(smtp_relay_retry(argv[0]), "due now", argv[0]);
}

static int console_cmd_queue_delete(int argc, char **argv)
{
    (void)argc;
    return console_queue_result(smtp_relay_delete(argv[0]), "deleted", argv[0]);
}

static int console_cmd_set_relayhost(int argc, char **argv)
{
    (void)argc;
    int err = config_set_relayhost(argv[0]);
    if (err == PB_EINVAL) {
        console_printf("error: '%s' is not HOST[:PORT] (e.g. smtp.example.net:587 or [192.0.2.1]:25) or 'off'\n",
                       argv[0]);
        return err;
    }
    if (console_save_failed(err))
        return err;
    services_apply_config();
    if (config_get()->relayhost[0])
        console_printf("relayhost %s: all outbound mail goes there, %s required\n", config_get()->relayhost,
                       config_get()->relay_implicit ? "implicit TLS" : "STARTTLS");
    else
        console_printf("relayhost off: outbound mail goes to each domain's MX\n");
    log_printf("console: relayhost set to %s", config_get()->relayhost[0] ? config_get()->relayhost : "off");
    return 0;
}

static int console_cmd_set_relayhost_auth(int argc, char **argv)
{
    bool off = argc == 1 && strcmp(argv[0], "off") == 0;
    if (!off && argc != 2) {
        console_printf("usage: set relayhost-auth USER PASSWORD|off\n");
        return PB_EINVAL;
    }
    int err = config_set_relayhost_auth(argv[0], off ? NULL : argv[1]);
    if (err == PB_EINVAL) {
        console_printf("error: the user name and password must each be 1..%d characters\n", SASL_CRED_MAX);
        return err;
    }
    if (console_save_failed(err))
        return err;
    services_apply_config();
    if (off)
        console_printf("relayhost-auth off: no login to the relay host\n");
    else
        console_printf("relayhost-auth %s: AUTH PLAIN or LOGIN after TLS\n", config_get()->relay_user);
    /* The password stays out of logs. */
    log_printf("console: relayhost-auth %s", off ? "off" : config_get()->relay_user);
    return 0;
}

static int console_cmd_set_relayhost_tls(int argc, char **argv)
{
    (void)argc;
    int err = config_set_relayhost_tls(argv[0]);
    if (err == PB_EINVAL) {
        console_printf("error: '%s' is not 'starttls' or 'implicit'\n", argv[0]);
        return err;
    }
    if (console_save_failed(err))
        return err;
    services_apply_config();
    console_printf("relayhost-tls %s\n", argv[0]);
    log_printf("console: relayhost-tls %s", argv[0]);
    return 0;
}

static int console_cmd_set_relayhost_fingerprint(int argc, char **argv)
{
    (void)argc;
    int err = config_set_relayhost_fingerprint(argv[0]);
    if (err == PB_EINVAL) {
        console_printf("error: not a SHA-256 fingerprint (64 hex digits, colons allowed) or 'off'\n");
        return err;
    }
    if (console_save_failed(err))
        return err;
    services_apply_config();
    if (config_get()->relay_fpr[0])
        console_printf("relayhost-fingerprint set: only that certificate is accepted\n");
    else
        console_printf("relayhost-fingerprint off: the relay host's certificate is not checked\n");
    log_printf("console: relayhost-fingerprint %s", config_get()->relay_fpr[0] ? config_get()->relay_fpr : "off");
    return 0;
}

static int console_cmd_set_queue(int argc, char **argv)
{
    (void)argc;
    bool notice = strcmp(argv[0], "delay-notice") == 0;
    if (strcmp(argv[0], "lifetime") != 0 && !notice) {
        console_printf("error: unknown queue setting '%s' (lifetime, delay-notice)\n", argv[0]);
        return PB_EINVAL;
    }
    if (notice && strcmp(argv[1], "off") == 0) {
        int off = config_set_queue_delay_notice(0);
        if (console_save_failed(off))
            return off;
        console_printf("queue delay-notice off\n");
        log_printf("console: queue delay-notice set to off");
        return 0;
    }
    char *end;
    unsigned long v = strtoul(argv[1], &end, 10), mult = 1;
    if (*end == 'd')
        mult = 86400, end++;
    else if (*end == 'h')
        mult = 3600, end++;
    else if (*end == 'm')
        mult = 60, end++;
    else if (*end == 's')
        end++;
    int err = (*end || end == argv[1] || v > CONFIG_LIFETIME_MAX / mult) ? PB_ERANGE :
              notice ? config_set_queue_delay_notice((uint32_t)(v * mult)) :
              config_set_queue_lifetime((uint32_t)(v * mult));
    if (err == PB_ERANGE && notice) {
        console_printf("error: '%s' is not a duration up to 30d (e.g. 4h, 30m) or off\n", argv[1]);
        return err;
    }
    if (err == PB_ERANGE) {
        console_printf("error: '%s' is not a duration from 1h to 30d (e.g. 5d, 12h)\n", argv[1]);
        return err;
    }
    if (console_save_failed(err))
        return err;
    if (notice) {
        console_printf("queue delay-notice %lu s\n", (unsigned long)config_get()->queue_delay_notice);
        log_printf("console: queue delay-notice set to %s", argv[1]);
        return 0;
    }
    services_apply_config();
    console_printf("queue lifetime %lu s\n", (unsigned long)config_get()->queue_lifetime);
    log_printf("console: queue lifetime set to %s", argv[1]);
    return 0;
}

static int console_cmd_set_catchall(int argc, char **argv)
{
    (void)argc;
    bool off = strcmp(argv[1], "off") == 0;
    int err = accounts_domain_set_catchall(storage_get(), argv[0], off ? NULL : argv[1]);
    if (err == PB_EINVAL && accounts_domain_exists(storage_get(), argv[0])) {
        console_printf("error: '%s' is not a valid address (or 'off')\n", argv[1]);
        return err;
    }
    if (err)
        return console_accounts_error(err, "domain", argv[0]);
    if (off)
        console_printf("catch-all of %s is off\n", argv[0]);
    else
        console_printf("mail for unknown addresses of %s goes to %s\n", argv[0], argv[1]);
    log_printf("console: catch-all of %s set to %s", argv[0], argv[1]);
    return 0;
}

/* ---------------------------------------------------------------- dns --- */

static int console_cmd_set_dns(int argc, char **argv)
{
    char list[DNS_SERVERS_TEXT_MAX];
    if (console_join(argc, argv, ' ', list, sizeof(list))) {
        console_printf("error: too long a list of servers\n");
        return PB_ERANGE;
    }
    int err = config_set_dns(list);
    if (err == PB_EINVAL) {
        console_printf("error: '%s' is not a list of IP[:PORT] servers, e.g. 192.0.2.53 or "
                       "[2001:db8::53]:5353, or 'auto'\n", list);
        return err;
    }
    if (err == PB_ERANGE) {
        console_printf("error: at most %d servers\n", DNS_SERVERS_MAX);
        return err;
    }
    if (err) {
        console_printf("error: could not save the DNS servers: %s\n", pb_err_str(err));
        return err;
    }
    char now[DNS_SERVERS_TEXT_MAX];
    dns_servers_text(now, sizeof(now));
    console_printf("dns servers: %s\n", now);
    log_printf("console: dns servers set to %s", now);
    return 0;
}

static int console_cmd_show_dns(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char servers[DNS_SERVERS_TEXT_MAX];
    struct dns_stats st;
    dns_servers_text(servers, sizeof(servers));
    dns_stats(&st);
    console_printf("dns servers %s\n", servers);
    console_printf("queries     %u / %u in flight\n", st.in_flight, st.queries_max);
    console_printf("cache       %u / %u answers, %lu hits, %lu misses\n", st.cached, st.cache_max,
                   st.hits, st.misses);
    return 0;
}

/* A lookup typed at the console, waiting for its answer. */
static struct console_lookup {
    bool used;
    uint16_t type;
    char name[DNS_NAME_TEXT_MAX + 2];
} console_lookups[PB_DNS_QUERIES];

/* Output that arrives between commands: clear the line being typed first,
 * show it again after. */
static void console_async_begin(void)
{
    if (console.started && !console.busy)
        console_write("\r\x1b[K", 4);
}

static void console_async_end(void)
{
    if (console.started && !console.busy) {
        console_write(CONSOLE_PROMPT, sizeof(CONSOLE_PROMPT) - 1);
        console_write(console.le.buf, console.le.len);
    }
}

/* TXT data as a quoted string, bytes outside printable ASCII as \DDD. */
static void console_write_quoted(const uint8_t *p, size_t n)
{
    char buf[64];
    size_t k = 0;
    buf[k++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (k + 5 > sizeof(buf)) {
            console_write(buf, k);
            k = 0;
        }
        uint8_t c = p[i];
        if (c == '"' || c == '\\') {
            buf[k++] = '\\';
            buf[k++] = (char)c;
        } else if (c < 0x20 || c > 0x7e) {
            k += (size_t)snprintf(buf + k, sizeof(buf) - k, "\\%03u", c);
        } else {
            buf[k++] = (char)c;
        }
    }
    buf[k++] = '"';
    console_write(buf, k);
}

static void console_dns_rr(const struct console_lookup *l, const struct dns_answer *a,
                           const struct dns_rr *rr)
{
    const char *tname = dns_msg_type_name(rr->type);
    const uint8_t *d = dns_rr_data(a, rr);
    char text[IPADDR_STRLEN_MAX + 140];
    console_printf("%s: %s ", l->name, tname ? tname : "?");
    switch (rr->type) {
    case DNS_T_A: {
        ip4_addr_t v4;
        memcpy(&v4.addr, d, 4);
        console_printf("%s", ip4addr_ntoa_r(&v4, text, sizeof(text)));
        break;
    }
    case DNS_T_AAAA: {
        ip6_addr_t v6;
        memset(&v6, 0, sizeof(v6));
        memcpy(v6.addr, d, 16);
        ip6addr_ntoa_r(&v6, text, sizeof(text));
        /* RFC 5952: lower case. */
        for (char *c = text; *c; c++)
            if (*c >= 'A' && *c <= 'F')
                *c = (char)(*c + 32);
        console_printf("%s", text);
        break;
    }
    case DNS_T_MX:
        console_printf("%u %s", (unsigned)rr->pref, dns_rr_name(a, rr));
        break;
    case DNS_T_TXT:
        console_write_quoted(d, rr->len);
        if (rr->clipped)
            console_printf(" (cut)");
        break;
    case DNS_T_TLSA: {
        size_t k = 0;
        for (size_t i = 0; i < rr->len && k + 3 < sizeof(text); i++)
            k += (size_t)snprintf(text + k, sizeof(text) - k, "%02x", d[i]);
        text[k] = '\0';
        console_printf("%u %u %u %s%s", rr->usage, rr->selector, rr->mtype, text,
                       rr->clipped ? "... (cut)" : "");
        break;
    }
    default:
        console_printf("%s", dns_rr_name(a, rr));
        break;
    }
    console_printf(" ttl=%lu ad=%s\n", (unsigned long)rr->ttl, a->ad ? "yes" : "no");
}

static void console_dns_answer(int err, const struct dns_answer *a, void *arg)
{
    struct console_lookup *l = arg;
    const char *tname = dns_msg_type_name(l->type);
    console_async_begin();
    if (err) {
        console_printf("error: %s %s: %s\n", tname, l->name,
                       err == PB_ETIMEDOUT ? "timed out (no server answered)" : pb_err_str(err));
    } else if (a->rcode != DNS_RCODE_NOERROR) {
        const char *rc = dns_msg_rcode_name(a->rcode);
        if (rc)
            console_printf("error: %s %s: %s\n", tname, l->name, rc);
        else
            console_printf("error: %s %s: RCODE %u\n", tname, l->name, (unsigned)a->rcode);
    } else {
        int n = 0;
        for (int i = 0; i < a->count; i++) {
            console_dns_rr(l, a, &a->rr[i]);
            n += a->rr[i].type == l->type;
        }
        if (n == 0)
            console_printf("%s: no %s records (ad=%s)\n", l->name, tname, a->ad ? "yes" : "no");
        if (a->null_mx)
            console_printf("%s: null MX: the domain accepts no mail\n", l->name);
        if (a->clipped)
            console_printf("%s: more records than shown\n", l->name);
    }
    console_async_end();
    l->used = false;
}

static int console_cmd_dns_lookup(int argc, char **argv)
{
    (void)argc;
    uint16_t type = dns_msg_type_from_name(argv[0]);
    if (type != DNS_T_A && type != DNS_T_AAAA && type != DNS_T_MX && type != DNS_T_TXT &&
        type != DNS_T_TLSA && type != DNS_T_PTR) {
        console_printf("error: TYPE must be a, aaaa, mx, txt, tlsa or ptr\n");
        return PB_EINVAL;
    }
    if (strlen(argv[1]) > DNS_NAME_TEXT_MAX + 1) {
        console_printf("error: '%s' is too long for a domain name\n", argv[1]);
        return PB_EINVAL;
    }
    struct console_lookup *l = NULL;
    for (int i = 0; i < PB_DNS_QUERIES && !l; i++)
        if (!console_lookups[i].used)
            l = &console_lookups[i];
    if (!l) {
        console_printf("error: %d lookups are under way already; wait for their answers\n",
                       PB_DNS_QUERIES);
        return PB_EBUSY;
    }
    l->used = true;
    l->type = type;
    strcpy(l->name, argv[1]);
    ip_addr_t ip;
    int err;
    if (type == DNS_T_PTR && ipaddr_aton(argv[1], &ip))
        err = dns_query_ptr(&ip, console_dns_answer, l);
    else
        err = dns_query(argv[1], type, console_dns_answer, l);
    if (err < 0) {
        l->used = false;
        if (err == PB_EINVAL)
            console_printf("error: '%s' is not a domain name\n", argv[1]);
        else if (err == PB_ENOENT)
            console_printf("error: no DNS server: set one with 'set dns IP[:PORT]'\n");
        else if (err == PB_EBUSY)
            console_printf("error: the resolver is busy (%d queries in flight)\n", PB_DNS_QUERIES);
        else
            console_printf("error: %s\n", pb_err_str(err));
        return err;
    }
    if (err == 0)
        console_printf("looking up %s %s\n", dns_msg_type_name(type), argv[1]);
    return 0;
}

/* ---------------------------------------------------------------- input --- */

/* Word w (0-based) of a command's words, or NULL; its length in *len. */
static const char *console_word(const char *words, int w, size_t *len)
{
    const char *p = words;
    for (;;) {
        while (*p == ' ')
            p++;
        if (!*p)
            return NULL;
        size_t n = strcspn(p, " ");
        if (w-- == 0) {
            *len = n;
            return p;
        }
        p += n;
    }
}

/* Tab: complete the command word being typed from the command table;
 * with several choices, add what they share, or list them. */
static void console_complete(void *ctx, const char *buf, size_t len, char *out, size_t cap, int *listed)
{
    (void)ctx;
    /* The words typed so far; the last one is being completed. */
    const char *words[CMDLINE_MAX_WORDS];
    size_t wlen[CMDLINE_MAX_WORDS];
    int nw = 0;
    size_t i = 0;
    for (;;) {
        while (i < len && buf[i] == ' ')
            i++;
        if (i == len || nw == CMDLINE_MAX_WORDS)
            break;
        words[nw] = buf + i;
        size_t start = i;
        while (i < len && buf[i] != ' ')
            i++;
        wlen[nw++] = i - start;
    }
    const char *part = "";
    size_t plen = 0;
    if (nw > 0 && len > 0 && buf[len - 1] != ' ') {
        part = words[nw - 1];
        plen = wlen[nw - 1];
        nw--;
    }
    const char *found[CONSOLE_NCMDS];
    size_t flen[CONSOLE_NCMDS];
    int nf = 0;
    for (size_t c = 0; c < CONSOLE_NCMDS; c++) {
        size_t l;
        int ok = 1;
        for (int w = 0; w < nw && ok; w++) {
            const char *cw = console_word(console_cmds[c].words, w, &l);
            ok = cw && l == wlen[w] && strncmp(cw, words[w], l) == 0;
        }
        const char *next = ok ? console_word(console_cmds[c].words, nw, &l) : NULL;
        if (!next || l < plen || strncmp(next, part, plen) != 0)
            continue;
        int dup = 0;
        for (int k = 0; k < nf && !dup; k++)
            dup = flen[k] == l && strncmp(found[k], next, l) == 0;
        if (!dup) {
            found[nf] = next;
            flen[nf++] = l;
        }
    }
    out[0] = '\0';
    if (nf == 0)
        return;
    /* What every choice shares beyond the typed part. */
    size_t common = flen[0];
    for (int k = 1; k < nf; k++) {
        size_t m = 0;
        while (m < common && m < flen[k] && found[k][m] == found[0][m])
            m++;
        common = m;
    }
    if (nf == 1 || common > plen) {
        size_t n = common - plen;
        if (n + 2 > cap)
            return;
        memcpy(out, found[0] + plen, n);
        out[n] = '\0';
        if (nf == 1)
            strcat(out, " ");
        return;
    }
    console_write("\r\n", 2);
    for (int k = 0; k < nf; k++) {
        console_write(found[k], flen[k]);
        console_write(k + 1 < nf ? "  " : "\r\n", k + 1 < nf ? 2 : 2);
    }
    console_prompt();
    *listed = 1;
}

void console_init(void)
{
    lineedit_init(&console.le, console_echo, NULL);
    lineedit_set_complete(&console.le, console_complete);
    console.started = 1;
    console.locked = admin_password_exists();
    lineedit_set_secret(&console.le, console.locked);
    console_prompt();
}

/* A line typed at "login:". */
static void console_login_line(const char *line)
{
    uint32_t wait = 0;
    int err = admin_password_check(line, hal_clock_ms(), &wait);
    if (err == 0) {
        console.locked = false;
        lineedit_set_secret(&console.le, false);
        console_printf("welcome\n");
        log_printf("console: admin logged in");
    } else if (err == PB_EBUSY) {
        console_printf("error: too soon after a wrong password; try again in %lu s\n",
                       (unsigned long)(wait + 999) / 1000);
    } else {
        console_printf("error: wrong password; the next try is possible in %lu s\n",
                       (unsigned long)(wait + 999) / 1000);
        log_printf("console: wrong admin password");
    }
}

/* ------------------------------------------------- dns records, tls --- */

static struct identity console_id PB_EXTRAM;
static struct dnsrec console_recs[DNSREC_MAX] PB_EXTRAM;
static struct dnsrec_check console_check PB_EXTRAM;
static char console_check_domain[MAIL_DOMAIN_MAX + 1];

/* The identity kept on flash and what its certificate says. */
static int console_identity(struct identity_info *info)
{
    struct store *s = storage_get();
    int err = s ? identity_load(s, &console_id) : PB_ENOTSUP;
    if (!err)
        err = identity_info(&console_id, info);
    return err;
}

static int console_dnsrec_input(const char *domain, struct dnsrec_input *in, char *pub, size_t cap)
{
    dnsrec_input_local(domain, &console_id, pub, cap, in);
    if (!accounts_domain_exists(storage_get(), domain)) {
        console_printf("error: domain %s is not configured; add it with 'domain add %s'\n", domain, domain);
        return PB_ENOENT;
    }
    return 0;
}

static int console_dns_records_one(const char *domain)
{
    struct dnsrec_input in;
    char pub[IP4ADDR_STRLEN_MAX], text[DNSREC_NAME_MAX + DNSREC_VALUE_MAX + 16];
    int err = console_dnsrec_input(domain, &in, pub, sizeof(pub));
    if (err)
        return err;
    int n = dnsrec_build(&in, console_recs, DNSREC_MAX);
    if (n < 0) {
        console_printf("error: no records for %s: %s\n", domain, pb_err_str(n));
        return n;
    }
    console_printf("# %s: the records to publish at the registrar\n", domain);
    for (int i = 0; i < n; i++) {
        if (dnsrec_format(&console_recs[i], text, sizeof(text)) > 0)
            console_printf("%s\n", text);
    }
    for (int i = 0; i < n; i++)
        if (console_recs[i].placeholder)
            console_printf("# A: the appliance does not know the office's public address (it is "
                           "behind NAT): put it in place of %s\n", DNSREC_PLACEHOLDER_A);
    if (!in.cert_der)
        console_printf("# TLSA: no TLS certificate on flash, so no TLSA record\n");
    char policy[DNSREC_POLICY_MAX];
    if (dnsrec_mta_sts_policy(in.hostname, in.self_signed, policy, sizeof(policy)) > 0) {
        console_printf("# MTA-STS policy, served at https://mta-sts.%s/.well-known/mta-sts.txt%s:\n",
                       domain, in.self_signed ? " (mode testing: the certificate is self-signed)" : "");
        for (char *p = policy, *e; *p; p = e + 2) {
            e = strstr(p, "\r\n");
            console_printf("#   %.*s\n", (int)(e - p), p);
        }
    }
    console_printf("# %s\n", DNSREC_DKIM_NOTE);
    return 0;
}

static int console_cmd_dns_records(int argc, char **argv)
{
    if (argc == 1)
        return console_dns_records_one(argv[0]);
    char name[MAIL_DOMAIN_MAX + 1] = "";
    int n = 0, err = 0;
    while (accounts_next(storage_get(), STORE_NS_DOMAIN, name, name, sizeof(name)) >= 0) {
        int e = console_dns_records_one(name);
        err = err ? err : e;
        n++;
    }
    if (n == 0)
        console_printf("no domains yet: add one with 'domain add example.com'\n");
    return err;
}

static void console_dns_check_done(struct dnsrec_check *c, void *arg)
{
    (void)arg;
    char text[DNSREC_NAME_MAX + DNSREC_VALUE_MAX + 16];
    int ok = 0;
    console_async_begin();
    console_printf("dns check %s:\n", console_check_domain);
    for (int i = 0; i < c->count; i++) {
        dnsrec_format(&c->rec[i], text, sizeof(text));
        console_printf("  %-9s %s\n", dnsrec_status_name(c->status[i]), text);
        if (c->status[i] == DNSREC_DIFFERENT || c->status[i] == DNSREC_FAILED)
            console_printf("            %s %s\n", c->status[i] == DNSREC_DIFFERENT ? "found:" : "why:",
                           c->found[i]);
        ok += c->status[i] == DNSREC_PRESENT;
    }
    console_printf("%d of %d records present\n", ok, c->count);
    console_async_end();
}

static int console_cmd_dns_check(int argc, char **argv)
{
    (void)argc;
    if (console_check.busy) {
        console_printf("error: a check of %s is under way; wait for its answer\n", console_check_domain);
        return PB_EBUSY;
    }
    struct dnsrec_input in;
    char pub[IP4ADDR_STRLEN_MAX];
    int err = console_dnsrec_input(argv[0], &in, pub, sizeof(pub));
    if (err)
        return err;
    snprintf(console_check_domain, sizeof(console_check_domain), "%s", argv[0]);
    console_printf("checking the records of %s\n", argv[0]);
    err = dnsrec_check_start(&console_check, &in, console_dns_check_done, NULL);
    if (err)
        console_printf("error: no records for %s: %s\n", argv[0], pb_err_str(err));
    return err;
}

static int console_cmd_show_tls(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct identity_info info;
    int err = console_identity(&info);
    if (err == PB_ENOENT || err == PB_ENOTSUP) {
        console_printf("error: no TLS certificate on flash; 'tls regenerate' makes one\n");
        return err;
    }
    if (err) {
        console_printf("error: the TLS certificate cannot be read: %s\n", pb_err_str(err));
        return err;
    }
    console_printf("fingerprint %s (SHA-256)\n", console_id.fingerprint);
    console_printf("subject     CN=%s\n", info.subject);
    console_printf("not after   %s%s\n", info.not_after,
                   info.not_after_s <= hal_clock_wall() ? " (EXPIRED)" : "");
    console_printf("issuer      %s\n", info.self_signed ? "self-signed" : "a certificate authority");
    const struct identity *cur = services_identity();
    if (cur && strcmp(cur->fingerprint, console_id.fingerprint) == 0)
        console_printf("in use      yes\n");
    else
        console_printf("in use      from the next reboot ('reboot'); now: %s\n", cur ? cur->fingerprint : "none");
    return 0;
}

static int console_cmd_tls_regenerate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (!storage_get()) {
        console_printf("error: no flash store: a new key could not be kept\n");
        return PB_ENOTSUP;
    }
    console_printf("tls regenerate: a new key and self-signed certificate for %s replace the "
                   "current ones; clients that pinned the old fingerprint will refuse the new one\n",
                   config_get()->hostname);
    console.confirm_tls = true;
    return 0;
}

/* Keep a new identity and say what changes. */
static void console_tls_keep(const char *what)
{
    int err = identity_save(storage_get(), &console_id);
    if (err) {
        console_printf("error: could not keep the certificate on flash: %s; nothing was changed\n",
                       pb_err_str(err));
        return;
    }
    console_printf("%s, SHA-256 fingerprint %s\n", what, console_id.fingerprint);
    log_printf("console: TLS certificate replaced (%s), fingerprint %s", what, console_id.fingerprint);
    /* New connections get it at once; open ones keep the old one. */
    err = services_tls_swap(&console_id);
    if (err == 0)
        console_printf("in use now for new connections; open ones keep the old certificate until they end\n");
    else
        console_printf("the services use it from the next reboot (%s): type 'reboot'\n",
                       err == PB_EBUSY ? "the certificate before the last one is still in use" : pb_err_str(err));
}

static void console_tls_confirm_line(const char *line)
{
    console.confirm_tls = false;
    if (strcmp(line, "regenerate") != 0) {
        console_printf("the TLS key was kept\n");
        return;
    }
    int err = identity_generate(config_get()->hostname, &console_id);
    if (err == PB_EINVAL) {
        console_printf("error: the hostname is longer than %d characters, too long for the "
                       "certificate\n", IDENTITY_HOSTNAME_MAX);
        return;
    }
    if (err) {
        console_printf("error: could not make a key: %s\n", pb_err_str(err));
        return;
    }
    console_tls_keep("new self-signed certificate");
}

static int console_cmd_tls_import(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (!storage_get()) {
        console_printf("error: no flash store: the certificate could not be kept\n");
        return PB_ENOTSUP;
    }
    console_printf("paste the certificate and its private key (PEM, at most %d bytes), then a line "
                   "with only '.'; the text is not shown\n", IDENTITY_PEM_MAX);
    console.pem_reading = true;
    console.pem_len = 0;
    lineedit_set_secret(&console.le, true);
    return 0;
}

static void console_pem_end(void)
{
    console.pem_reading = false;
    lineedit_set_secret(&console.le, false);
    memset(console_pem, 0, sizeof(console_pem));
    console.pem_len = 0;
}

/* A line of pasted PEM text. */
static void console_pem_line(const char *line)
{
    size_t n = strlen(line);
    if (strcmp(line, ".") != 0) {
        if (console.pem_len + n + 1 > IDENTITY_PEM_MAX) {
            console_printf("error: more than %d bytes of PEM; nothing was changed\n", IDENTITY_PEM_MAX);
            console_pem_end();
            return;
        }
        memcpy(console_pem + console.pem_len, line, n);
        console.pem_len += n;
        console_pem[console.pem_len++] = '\n';
        return;
    }
    bool host_ok = false;
    const char *host = config_get()->hostname;
    int err = identity_import_pem(console_pem, console.pem_len, console_pem, console.pem_len, host,
                                  hal_clock_wall(), &console_id, &host_ok);
    console_pem_end();
    switch (err) {
    case 0:
        if (!host_ok)
            console_printf("warning: the certificate does not name %s (set hostname to the name it "
                           "carries, or clients will warn)\n", host);
        console_tls_keep("certificate imported");
        break;
    case PB_EPERM:
        console_printf("error: the private key does not belong to the certificate; nothing was changed\n");
        break;
    case PB_ETIMEDOUT:
        console_printf("error: the certificate has expired; nothing was changed\n");
        break;
    case PB_ERANGE:
        console_printf("error: the certificate or key is too large (certificate at most %d bytes, "
                       "key %d bytes of DER: ECDSA keys); nothing was changed\n",
                       IDENTITY_CERT_MAX, IDENTITY_KEY_MAX);
        break;
    case PB_EINVAL:
        console_printf("error: no PEM certificate and ECDSA private key found; nothing was changed\n");
        break;
    default:
        console_printf("error: could not import: %s; nothing was changed\n", pb_err_str(err));
        break;
    }
}

/* ------------------------------------------------------- ip, auth --- */

static int console_cmd_set_ip(int argc, char **argv)
{
    char text[CONFIG_IP_TEXT_MAX + 2];
    int err = console_join(argc, argv, ' ', text, sizeof(text)) ? PB_EINVAL : config_set_ip(text);
    if (err == PB_EINVAL) {
        console_printf("error: 'set ip dhcp' or 'set ip ADDR/PREFIX GATEWAY' with the gateway in the "
                       "same network, e.g. set ip 192.168.1.20/24 192.168.1.1\n");
        return err;
    }
    if (console_save_failed(err))
        return err;
    config_ip_text(&config_get()->net, text, sizeof(text));
    console_printf("ip %s: applied at the next reboot\n", text);
    log_printf("console: ip set to %s (from the next boot)", text);
    return 0;
}

/* "90", "90s", "15m", "2h", "1d": seconds, or 0 when not a duration. */
static uint32_t console_duration(const char *s)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10), mult = 1;
    if (end == s || s[0] == '-')
        return 0;
    if (*end == 'd')
        mult = 86400, end++;
    else if (*end == 'h')
        mult = 3600, end++;
    else if (*end == 'm')
        mult = 60, end++;
    else if (*end == 's')
        end++;
    if (*end || v > UINT32_MAX / mult)
        return 0;
    return (uint32_t)(v * mult);
}

static int console_cmd_set_auth(int argc, char **argv)
{
    (void)argc;
    int err;
    if (strcmp(argv[0], "max-failures") == 0) {
        char *end;
        unsigned long v = strtoul(argv[1], &end, 10);
        err = (*end || end == argv[1] || argv[1][0] == '-' || v > UINT32_MAX) ? PB_ERANGE :
              config_set_auth_max_failures((uint32_t)v);
        if (err == PB_ERANGE) {
            console_printf("error: '%s' is not a number of failures from %d to %d\n", argv[1],
                           AUTH_GUARD_FAILS_MIN, AUTH_GUARD_FAILS_MAX);
            return err;
        }
    } else if (strcmp(argv[0], "lockout") == 0) {
        uint32_t secs = console_duration(argv[1]);
        err = secs ? config_set_auth_lockout(secs) : PB_ERANGE;
        if (err == PB_ERANGE) {
            console_printf("error: '%s' is not a duration from 1s to 7d (e.g. 15m, 1h)\n", argv[1]);
            return err;
        }
    } else {
        console_printf("error: unknown auth setting '%s' (max-failures, lockout)\n", argv[0]);
        return PB_EINVAL;
    }
    if (console_save_failed(err))
        return err;
    console_printf("auth: after %lu failed logins an address is refused for %lu s\n",
                   (unsigned long)config_get()->auth_max_failures, (unsigned long)config_get()->auth_lockout);
    log_printf("console: auth %s set to %s", argv[0], argv[1]);
    return 0;
}

/* The answer to factory-reset's question. */
static void console_confirm_line(const char *line)
{
    console.confirm_reset = false;
    if (strcmp(line, "erase") != 0) {
        console_printf("nothing was erased\n");
        return;
    }
    struct store *s = storage_get();
    int err = s ? store_wipe(s) : PB_ENOTSUP;
    if (err == PB_EBUSY) {
        console_printf("error: mail is being stored right now; try again in a moment\n");
        return;
    }
    if (err) {
        console_printf("error: could not erase: %s\n", pb_err_str(err));
        return;
    }
    log_printf("console: factory reset: everything erased, rebooting");
    console_printf("everything is erased; rebooting\n");
    hal_reset_reboot();
}

int console_poll(void)
{
    uint8_t buf[64];
    int n = hal_uart_read(buf, sizeof(buf));
    if (n <= 0)
        return 0;
    for (int i = 0; i < n; i++) {
        if (console.following) {
            /* Any key ends it, Ctrl-C included; the key is not typed. */
            bool lf = console.follow_lf && buf[i] == '\n';
            console.follow_lf = false;
            if (lf)
                continue;
            console.following = false;
            console_printf("stopped following the log\n");
            console_prompt();
            continue;
        }
        if (lineedit_feed(&console.le, buf[i])) {
            char line[LINEEDIT_MAX + 1];
            memcpy(line, console.le.buf, sizeof(line));
            console.busy = 1;
            if (console.locked)
                console_login_line(line);
            else if (console.pw_state)
                console_password_line(line);
            else if (console.confirm_reset)
                console_confirm_line(line);
            else if (console.confirm_tls)
                console_tls_confirm_line(line);
            else if (console.pem_reading)
                console_pem_line(line);
            else
                console_execute(line);
            memset(line, 0, sizeof(line));
            console.busy = 0;
            if (!console.following)
                console_prompt();
        }
    }
    return 1;
}
