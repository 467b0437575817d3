/*
 * config.h - the appliance's settings.
 *
 * UNFINISHED: held in RAM only, so they are lost at reboot.  The flash
 * store (its own issue) makes every change durable when the command that
 * made it returns.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include "net.h"

struct config {
    char hostname[NET_HOSTNAME_MAX + 1];   /* FQDN used in greetings and the certificate */
    struct net_config net;                 /* addressing: DHCP by default */
};

/* Defaults: hostname "pillarbox", DHCP. */
void config_init(void);

const struct config *config_get(void);

/* A hostname per RFC 1123: labels of letters, digits and hyphens, 1..63
 * characters, not starting or ending with a hyphen, 253 in all.  Returns 0,
 * or PB_EINVAL and changes nothing. */
int config_set_hostname(const char *name);

/* Whether name is a valid hostname (the check config_set_hostname makes). */
int config_hostname_valid(const char *name);

#endif
