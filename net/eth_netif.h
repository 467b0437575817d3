/*
 * eth_netif.h - lwIP netif over the board's hal_eth.
 */
#ifndef ETH_NETIF_H
#define ETH_NETIF_H

#include "lwip/netif.h"

/* netif_add() init function: MAC from hal_eth_mac(), MTU 1500, Ethernet
 * with ARP, IPv6 and IGMP/MLD flags, output through hal_eth_send(). */
err_t eth_netif_init(struct netif *nif);

/* Move up to max received frames from hal_eth into nif->input.  Returns
 * the number of frames handed to lwIP (frames dropped for lack of pbufs
 * are counted in lwIP's link stats, not here). */
int eth_netif_poll(struct netif *nif, int max);

/* Follow the PHY's link state into the netif. */
void eth_netif_check_link(struct netif *nif);

#endif
