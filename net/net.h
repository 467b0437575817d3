/*
 * net.h - the appliance's network: lwIP over the board's Ethernet.
 *
 * Single-threaded (NO_SYS): net_poll() is called from the event loop and
 * every lwIP callback runs inside it.
 */
#ifndef NET_H
#define NET_H

#include <stdbool.h>
#include <stdint.h>

#include "lwip/ip_addr.h"

#define NET_HOSTNAME_MAX 253

struct net_config {
    bool dhcp;                 /* true: DHCPv4; false: the static values below */
    ip4_addr_t addr, netmask, gateway;
    ip_addr_t dns[2];          /* IPADDR_ANY = unset (DHCP may supply them) */
    char hostname[NET_HOSTNAME_MAX + 1];
};

struct net_status {
    bool link_up;
    bool ipv4_up;              /* an address is configured (DHCP bound or static) */
    ip4_addr_t addr, netmask, gateway;
    ip_addr_t dns[2];
    uint8_t mac[6];
    int ipv6_count;            /* valid IPv6 addresses in ipv6[] */
    ip6_addr_t ipv6[3];
};

/* Called (from net_poll) whenever the IPv4 address changes. */
typedef void (*net_addr_cb)(const struct net_status *st);

/* Bring lwIP up on the board's Ethernet with cfg (copied).  Returns 0 or a
 * negative PB_E*. */
int net_init(const struct net_config *cfg, net_addr_cb on_addr);

/* Feed received frames to lwIP and run its timers.  Never blocks. */
void net_poll(void);

/* Milliseconds until lwIP next needs net_poll() for a timer. */
uint32_t net_next_timeout_ms(void);

/* Current addresses and link state. */
void net_status(struct net_status *st);

/* Change the hostname announced by DHCP (takes effect at the next lease). */
void net_set_hostname(const char *name);

#endif
