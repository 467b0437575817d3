/*
 * lwipopts.h - lwIP configuration of Pillarbox (all boards).
 *
 * Bare metal, one thread: NO_SYS with the raw/altcp API.  Pool sizes come
 * from the board's board_pools.h; everything else is fixed here.
 */
#ifndef LWIPOPTS_H
#define LWIPOPTS_H

#include "board_pools.h"

/* runtime model */
#define NO_SYS                          1
#define SYS_LIGHTWEIGHT_PROT            0
#define LWIP_SOCKET                     0
#define LWIP_NETCONN                    0
#define LWIP_TIMERS                     1

/* memory: static pools and a static heap, never the C heap */
#define MEM_LIBC_MALLOC                 0
#define MEMP_MEM_MALLOC                 0
#define MEM_ALIGNMENT                   8
#define MEM_SIZE                        PB_LWIP_HEAP_BYTES
#define MEMP_NUM_PBUF                   32
#define MEMP_NUM_RAW_PCB                2
/* DHCP, lwIP's DNS (up to 4 source ports), one per resolver query (net/dns.h) */
#define MEMP_NUM_UDP_PCB                (8 + PB_DNS_QUERIES)
#define MEMP_NUM_TCP_PCB                PB_POOL_TCP_CONNS
#define MEMP_NUM_TCP_PCB_LISTEN         PB_POOL_TCP_LISTEN
#define MEMP_NUM_ALTCP_PCB              (2 * PB_POOL_TCP_CONNS + PB_POOL_TCP_LISTEN)
#define MEMP_NUM_SYS_TIMEOUT            (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 8)
#define PBUF_POOL_SIZE                  PB_POOL_PBUF
#define PBUF_POOL_BUFSIZE               LWIP_MEM_ALIGN_SIZE(TCP_MSS + 40 + PBUF_LINK_ENCAPSULATION_HLEN + PBUF_LINK_HLEN)

/* IPv4, IPv6, DHCP, DNS */
#define LWIP_ARP                        1
#define LWIP_ETHERNET                   1
#define LWIP_IPV4                       1
#define LWIP_IPV6                       1
#define LWIP_IPV6_AUTOCONFIG            1
#define LWIP_IPV6_MLD                   1
#define LWIP_ICMP6                      1
#define LWIP_IPV6_DHCP6                 0
#define LWIP_ICMP                       1
#define LWIP_RAW                        1
#define LWIP_UDP                        1
#define LWIP_DHCP                       1
#define LWIP_DHCP_DOES_ACD_CHECK        0
#define DHCP_DOES_ARP_CHECK             0
#define LWIP_AUTOIP                     0
#define LWIP_DNS                        1
#define DNS_MAX_SERVERS                 2
#define DNS_TABLE_SIZE                  8
#define LWIP_DNS_SECURE                 (LWIP_DNS_SECURE_RAND_XID | LWIP_DNS_SECURE_NO_MULTIPLE_OUTSTANDING | LWIP_DNS_SECURE_RAND_SRC_PORT)
#define LWIP_IGMP                       1
#define IP_REASSEMBLY                   1
#define IP_FRAG                         1
#define LWIP_IPV6_FRAG                  1
#define LWIP_IPV6_REASS                 1
#define IPV6_FRAG_COPYHEADER            1   /* needed where pointers are 64-bit (the sim) */

/* TCP, sized for mail: a full window keeps a 10 MB message moving */
#define LWIP_TCP                        1
#define TCP_MSS                         1460
#define TCP_WND                         (PB_TCP_WND_SEGMENTS * TCP_MSS)
#define TCP_SND_BUF                     (8 * TCP_MSS)
#define TCP_SND_QUEUELEN                ((4 * (TCP_SND_BUF) + (TCP_MSS - 1)) / (TCP_MSS))
#define MEMP_NUM_TCP_SEG                (TCP_SND_QUEUELEN * 4)
#define TCP_LISTEN_BACKLOG              1
#define LWIP_TCP_KEEPALIVE              1
#define TCP_QUEUE_OOSEQ                 1
#define LWIP_TCP_SACK_OUT               0
#define LWIP_ALTCP                      1
#define LWIP_ALTCP_TLS                  1

/* netif */
#define LWIP_NETIF_HOSTNAME             1
#define LWIP_NETIF_STATUS_CALLBACK      1
#define LWIP_NETIF_LINK_CALLBACK        1
#define LWIP_NETIF_LOOPBACK             1
#define LWIP_HAVE_LOOPIF                1
#define LWIP_LOOPBACK_MAX_PBUFS         64
#define LWIP_NUM_NETIF_CLIENT_DATA      1

/* statistics: "show status" and the tests' "every pool empty again" check */
#define LWIP_STATS                      1
#define LWIP_STATS_DISPLAY              0
#define MEM_STATS                       1
#define MEMP_STATS                      1
#define SYS_STATS                       0
#define LINK_STATS                      1
#define IP_STATS                        0
#define TCP_STATS                       0
#define UDP_STATS                       0
#define ICMP_STATS                      0
#define IPFRAG_STATS                    0
#define ETHARP_STATS                    0
#define IP6_STATS                       0
#define ICMP6_STATS                     0
#define IP6_FRAG_STATS                  0
#define MLD6_STATS                      0
#define ND6_STATS                       0

#define LWIP_CHKSUM_ALGORITHM           3
#define LWIP_DEBUG                      0

#endif
