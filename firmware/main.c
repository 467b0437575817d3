/*
 * main.c - boot and the event loop.
 *
 * Boot: board, log and console, the flash store and the settings it
 * holds, TLS and the appliance identity, network.  Then one loop forever:
 * console input, a step of store housekeeping, network frames and timers,
 * the outbound queue, then sleep until the next event (WFI on ARM, poll(2) on the sim).
 */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "config.h"
#include "console.h"
#include "dns.h"
#include "hal_board.h"
#include "hal_reset.h"
#include "identity.h"
#include "log.h"
#include "net.h"
#include "pb_err.h"
#include "services.h"
#include "storage.h"
#include "tls.h"
#include "version.h"

static struct identity main_identity;

static void main_on_address(const struct net_status *st)
{
    char a[IP4ADDR_STRLEN_MAX], g[IP4ADDR_STRLEN_MAX];
    if (!st->ipv4_up) {
        log_printf("network: no IPv4 address");
        return;
    }
    ip4addr_ntoa_r(&st->addr, a, sizeof(a));
    ip4addr_ntoa_r(&st->gateway, g, sizeof(g));
    log_printf("network: address %s (%s), gateway %s", a,
               config_get()->net.dhcp ? "DHCP" : "static", g);
}

/* The identity kept in the store; a new one only when the store has none
 * (first boot, or a store that could not be mounted: then it lasts until
 * the next boot). */
static void main_load_identity(void)
{
    struct store *s = storage_get();
    int err = s ? identity_load(s, &main_identity) : PB_ENOENT;
    if (err == 0) {
        log_printf("identity: TLS certificate kept on flash, SHA-256 fingerprint %s",
                   main_identity.fingerprint);
        return;
    }
    if (err == PB_ECORRUPT)
        log_printf("identity: the TLS key kept on flash is damaged; making a new one");
    else if (err != PB_ENOENT) {
        /* The store has one but it cannot be read now (memory): making a
         * new one would replace what users pinned. */
        log_printf("identity: could not load the TLS key: %s", pb_err_str(err));
        return;
    }
    err = identity_generate(config_get()->hostname, &main_identity);
    if (err) {
        log_printf("identity: could not create the TLS key: %s", pb_err_str(err));
        return;
    }
    log_printf("identity: TLS certificate for %s, SHA-256 fingerprint %s",
               config_get()->hostname, main_identity.fingerprint);
    if (s && (err = identity_save(s, &main_identity)) != 0)
        log_printf("identity: could not keep the TLS key on flash (%s); a new one comes at reboot",
                   pb_err_str(err));
}

int main(int argc, char **argv)
{
    int err = hal_board_init(argc, argv);
    log_init(console_log_sink);
    log_printf("Pillarbox %s starting on board %s", PB_VERSION, hal_board_name());
    if (err)
        log_printf("board: init failed: %s", pb_err_str(err));

    config_init();
    /* The store before the network: the settings it holds shape both. */
    if ((err = storage_init()) != 0)
        log_printf("storage: not mounted (%s); settings will not survive a reboot", pb_err_str(err));
    else if ((err = config_load()) != 0)
        log_printf("storage: settings unreadable (%s); using defaults", pb_err_str(err));

    if ((err = tls_init()) != 0)
        log_printf("tls: init failed: %s", pb_err_str(err));
    main_load_identity();

    if ((err = net_init(&config_get()->net, main_on_address)) != 0)
        log_printf("network: start failed: %s", pb_err_str(err));
    else
        log_printf("network: up, asking for an address by %s",
                   config_get()->net.dhcp ? "DHCP" : "static configuration");
    dns_resolver_init();
    if ((err = dns_set_servers(config_get()->dns)) != 0)
        log_printf("dns: servers '%s' not usable (%s); using DHCP's", config_get()->dns, pb_err_str(err));
    services_start(main_identity.cert_len ? &main_identity : NULL);

    /* First boot: the web page's setup asks for this code.  On the console
     * only, never in the log (which the web page shows). */
    if (admin_setup_code_make() == 0) {
        char line[128];
        int n = snprintf(line, sizeof(line),
                         "setup code: %s (open https://%s/setup; 'show setup-code' shows it again)\r\n",
                         admin_setup_code(), config_get()->hostname);
        if (n > 0)
            console_print(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
    }

    console_init();
    for (;;) {
        int busy = console_poll();
        busy |= storage_poll();
        net_poll();
        busy |= services_poll();
        hal_board_idle(busy ? 0 : net_next_timeout_ms());
    }
}
