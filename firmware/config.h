/*
 * config.h - the appliance's settings.
 *
 * Kept in the flash store (storage.h) when there is one: a change is
 * committed to flash before the function that made it returns.  Without a
 * store (no flash device) they live in RAM only.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include "dns.h"
#include "net.h"

struct config {
    char hostname[NET_HOSTNAME_MAX + 1];   /* FQDN used in greetings and the certificate */
    struct net_config net;                 /* addressing: DHCP by default */
    char dns[DNS_SERVERS_TEXT_MAX];        /* resolver servers (dns.h syntax); "" = DHCP's */
};

/* Defaults: hostname "pillarbox", DHCP. */
void config_init(void);

/* Read the settings kept in the store over the defaults.  Returns 0,
 * PB_ENOTSUP without a store, or a negative PB_E* (the defaults stay). */
int config_load(void);

const struct config *config_get(void);

/* A hostname per RFC 1123: labels of letters, digits and hyphens, 1..63
 * characters, not starting or ending with a hyphen, 253 in all.  Committed
 * to the store before it returns.  Returns 0, or PB_EINVAL (not a valid
 * name) or the store's error (PB_ENOSPC, PB_EIO, ...), changing nothing. */
int config_set_hostname(const char *name);

/* The resolver's servers: IP[:PORT] entries separated by spaces, or
 * "auto" (or "") for the ones DHCP gives.  Committed to the store, then
 * handed to the resolver, before it returns.  Returns 0, PB_EINVAL (an
 * entry is not an address), PB_ERANGE (more than DNS_SERVERS_MAX) or the
 * store's error, changing nothing. */
int config_set_dns(const char *list);

/* Whether name is a valid hostname (the check config_set_hostname makes). */
int config_hostname_valid(const char *name);

#endif
