/*
 * eth_netif.c - lwIP netif over hal_eth (see eth_netif.h).
 *
 * Frames go out as one contiguous copy (hal_eth copies before it returns)
 * and come in into a pool pbuf chain; lwIP owns a received pbuf from the
 * moment nif->input() returns ERR_OK, we free it otherwise.
 */
#include "eth_netif.h"

#include <string.h>

#include "hal_eth.h"
#include "pb_err.h"
#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/pbuf.h"
#include "lwip/snmp.h"
#include "lwip/stats.h"
#include "netif/ethernet.h"

static uint8_t eth_netif_frame[HAL_ETH_FRAME_MAX];

static err_t eth_netif_output(struct netif *nif, struct pbuf *p)
{
    (void)nif;
    if (p->tot_len > sizeof(eth_netif_frame)) {
        LINK_STATS_INC(link.lenerr);
        return ERR_BUF;
    }
    u16_t len = pbuf_copy_partial(p, eth_netif_frame, p->tot_len, 0);
    int r = hal_eth_send(eth_netif_frame, len);
    if (r < 0) {
        LINK_STATS_INC(link.drop);
        return r == PB_EAGAIN ? ERR_MEM : ERR_IF;
    }
    LINK_STATS_INC(link.xmit);
    return ERR_OK;
}

err_t eth_netif_init(struct netif *nif)
{
    nif->name[0] = 'e';
    nif->name[1] = 'n';
    nif->mtu = 1500;
#if LWIP_IPV6
    nif->mtu6 = 1500;
#endif
    nif->hwaddr_len = ETH_HWADDR_LEN;
    hal_eth_mac(nif->hwaddr);
    nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
                 NETIF_FLAG_IGMP | NETIF_FLAG_MLD6;
    nif->linkoutput = eth_netif_output;
    nif->output = etharp_output;
#if LWIP_IPV6
    nif->output_ip6 = ethip6_output;
#endif
    return ERR_OK;
}

int eth_netif_poll(struct netif *nif, int max)
{
    int handed = 0;
    for (int i = 0; i < max; i++) {
        int len = hal_eth_recv(eth_netif_frame, sizeof(eth_netif_frame));
        if (len == 0)
            break;
        if (len < 0) {
            LINK_STATS_INC(link.lenerr);
            continue;
        }
        struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
        if (!p) {
            LINK_STATS_INC(link.memerr);
            LINK_STATS_INC(link.drop);
            continue;
        }
        pbuf_take(p, eth_netif_frame, (u16_t)len);
        LINK_STATS_INC(link.recv);
        if (nif->input(p, nif) != ERR_OK) {
            pbuf_free(p);   /* refused: still ours */
            continue;
        }
        handed++;           /* accepted: lwIP frees it */
    }
    return handed;
}

void eth_netif_check_link(struct netif *nif)
{
    bool up = hal_eth_link_up();
    if (up && !netif_is_link_up(nif))
        netif_set_link_up(nif);
    else if (!up && netif_is_link_up(nif))
        netif_set_link_down(nif);
}
