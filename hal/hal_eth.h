/*
 * hal_eth.h - one Ethernet MAC.
 *
 * Frames are whole Ethernet II frames without the FCS, at most
 * HAL_ETH_FRAME_MAX bytes.  The caller owns every buffer it passes.
 */
#ifndef HAL_ETH_H
#define HAL_ETH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HAL_ETH_FRAME_MAX 1518u

/* Queue one frame for transmission; the data is copied before return.
 * Returns 0, PB_EAGAIN when the transmit FIFO is full (drop or retry), or
 * PB_EINVAL when len is 0 or above HAL_ETH_FRAME_MAX. */
int hal_eth_send(const void *frame, size_t len);

/* Take the next received frame, if any, copying it into buf.  Returns its
 * length, 0 when none is pending, PB_ERANGE if cap is too small (the frame
 * is dropped).  Never waits. */
int hal_eth_recv(void *buf, size_t cap);

/* The interface's MAC address. */
void hal_eth_mac(uint8_t mac[6]);

/* Whether the link is up. */
bool hal_eth_link_up(void);

#endif
