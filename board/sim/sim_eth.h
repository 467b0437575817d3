/*
 * sim_eth.h - the sim board's Ethernet: a libslirp user-mode network.
 *
 * The appliance sees one LAN: 10.0.2.0/24, a DHCP server handing it
 * 10.0.2.15, the host's loopback as 10.0.2.2, a DNS proxy at 10.0.2.3 and
 * IPv6 fec0::/64 with router advertisements - the same addresses QEMU's user
 * networking gives the ARM board.  Host ports 127.0.0.1:(offset + port) are
 * forwarded to the appliance's service ports.
 */
#ifndef SIM_ETH_H
#define SIM_ETH_H

#include <poll.h>
#include <stdint.h>

#define SIM_ETH_MAX_GUESTFWD 8
#define SIM_ETH_MAX_POLLFDS  256

struct sim_eth_guestfwd {
    char guest_ip[16];
    int guest_port;
    char host[64];              /* "HOSTIP:PORT" */
};

/* Start the virtual network.  relay_exe is the path of this program, run
 * as "relay_exe --relay HOST:PORT" for each connection the appliance opens
 * to a --guestfwd address.  Returns 0, or a negative PB_E* after printing
 * what went wrong (e.g. a host port already in use) on stderr. */
int sim_eth_init(unsigned port_offset, const struct sim_eth_guestfwd *fwd,
                 int nfwd, const char *relay_exe);

/* Add slirp's sockets to fds (from index *n on) and lower *timeout_ms to
 * slirp's next deadline. */
void sim_eth_poll_fill(struct pollfd *fds, int *n, int max, uint32_t *timeout_ms);

/* Let slirp handle what poll(2) reported, and fire its due timers. */
void sim_eth_poll_done(struct pollfd *fds, int n, int error);

/* Tear the network down (before a reboot re-executes the program). */
void sim_eth_shutdown(void);

/* The "--relay HOST:PORT" mode: connect to HOST:PORT and copy stdin to it
 * and it to stdout until either side closes.  Returns the exit status. */
int sim_eth_relay(const char *hostport);

#endif
