/*
 * net.c - lwIP bring-up, addressing and the poll step (see net.h).
 */
#include "net.h"

#include <string.h>

#include "eth_netif.h"
#include "hal_eth.h"
#include "lwip/dhcp.h"
#include "lwip/dns.h"
#include "lwip/init.h"
#include "lwip/ip6_addr.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"
#include "pb_err.h"

static struct {
    struct netif nif;
    struct net_config cfg;
    net_addr_cb on_addr;
    ip4_addr_t reported;     /* last address given to on_addr */
    int up;
} net;

static void net_status_changed(struct netif *nif)
{
    (void)nif;
    struct net_status st;
    net_status(&st);
    if (net.on_addr && !ip4_addr_cmp(&st.addr, &net.reported)) {
        net.reported = st.addr;
        net.on_addr(&st);
    }
}

int net_init(const struct net_config *cfg, net_addr_cb on_addr)
{
    net.cfg = *cfg;
    net.on_addr = on_addr;
    ip4_addr_set_zero(&net.reported);

    lwip_init();

    const ip4_addr_t *a = IP4_ADDR_ANY4, *m = IP4_ADDR_ANY4, *g = IP4_ADDR_ANY4;
    if (!cfg->dhcp) {
        a = &net.cfg.addr;
        m = &net.cfg.netmask;
        g = &net.cfg.gateway;
    }
    if (!netif_add(&net.nif, a, m, g, NULL, eth_netif_init, ethernet_input))
        return PB_EIO;
    netif_set_hostname(&net.nif, net.cfg.hostname);
    netif_set_status_callback(&net.nif, net_status_changed);
    netif_set_default(&net.nif);
    netif_set_up(&net.nif);
    eth_netif_check_link(&net.nif);

    for (int i = 0; i < 2; i++)
        if (!ip_addr_isany(&cfg->dns[i]))
            dns_setserver((u8_t)i, &cfg->dns[i]);

#if LWIP_IPV6
    netif_create_ip6_linklocal_address(&net.nif, 1);
    netif_set_ip6_autoconfig_enabled(&net.nif, 1);
#endif
    if (cfg->dhcp) {
        if (dhcp_start(&net.nif) != ERR_OK)
            return PB_ENOMEM;
    }
    net.up = 1;
    if (!cfg->dhcp)
        net_status_changed(&net.nif);
    return 0;
}

void net_poll(void)
{
    if (!net.up)
        return;
    eth_netif_check_link(&net.nif);
    eth_netif_poll(&net.nif, 32);
#if LWIP_NETIF_LOOPBACK
    netif_poll_all();
#endif
    sys_check_timeouts();
}

uint32_t net_next_timeout_ms(void)
{
    u32_t t = sys_timeouts_sleeptime();
    return t == SYS_TIMEOUTS_SLEEPTIME_INFINITE ? 1000u : t;
}

void net_status(struct net_status *st)
{
    memset(st, 0, sizeof(*st));
    st->link_up = netif_is_link_up(&net.nif);
    st->addr = *netif_ip4_addr(&net.nif);
    st->netmask = *netif_ip4_netmask(&net.nif);
    st->gateway = *netif_ip4_gw(&net.nif);
    st->ipv4_up = !ip4_addr_isany_val(st->addr);
    for (int i = 0; i < 2; i++)
        st->dns[i] = *dns_getserver((u8_t)i);
    memcpy(st->mac, net.nif.hwaddr, 6);
#if LWIP_IPV6
    for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES && st->ipv6_count < 3; i++)
        if (ip6_addr_isvalid(netif_ip6_addr_state(&net.nif, i)))
            st->ipv6[st->ipv6_count++] = *netif_ip6_addr(&net.nif, i);
#endif
}

void net_set_hostname(const char *name)
{
    strncpy(net.cfg.hostname, name, NET_HOSTNAME_MAX);
    net.cfg.hostname[NET_HOSTNAME_MAX] = '\0';
}
