/*
 * dns.h - the appliance's stub resolver: asks a recursive server for MX,
 * A, AAAA, TXT, TLSA and PTR records and reports the AD bit.
 *
 * lwIP's own resolver (lwip/dns.h, used for nothing here but keeping the
 * servers DHCP hands out) only resolves A/AAAA and hides the answer's
 * flags, so mail delivery, DANE and reverse checks use this one beside it.
 *
 * Runtime: NO_SYS, called only from the event loop (net_poll) context;
 * nothing blocks.  A query goes over UDP from its own random source port
 * with a random ID, is retried with a timeout across the servers
 * (DNS_TRIES rounds of DNS_UDP_TIMEOUT_MS each), and asked again over TCP
 * when the answer comes back truncated (TC).  Its timer runs on lwIP's
 * sys_timeout, so net_poll() drives it; no other entry point is needed.
 *
 * Memory (all static; counts from the board's board_pools.h):
 *   PB_DNS_QUERIES in flight at once (past it: PB_EBUSY), each with a
 *   DNS_MSG_BUF-byte buffer for the answer (the largest TCP answer read);
 *   PB_DNS_CACHE_ENTRIES cached answers, least recently used out, keyed
 *   by name and type, positive ones for their smallest TTL (at most
 *   DNS_CACHE_TTL_MAX), negative ones (NXDOMAIN, no data) for the SOA's
 *   negative TTL (at most DNS_NEG_TTL_MAX; without an SOA: not cached).
 *   SERVFAIL and failures are never cached.
 */
#ifndef DNS_H
#define DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "board_pools.h"
#include "dns_msg.h"
#include "lwip/ip_addr.h"

#ifndef PB_DNS_QUERIES
#define PB_DNS_QUERIES        4
#endif
#ifndef PB_DNS_CACHE_ENTRIES
#define PB_DNS_CACHE_ENTRIES  16
#endif

#define DNS_SERVERS_MAX       3       /* servers set with dns_set_servers */
#define DNS_SERVER_TEXT_MAX   48      /* "[v6addr]:port" */
#define DNS_SERVERS_TEXT_MAX  (DNS_SERVERS_MAX * (DNS_SERVER_TEXT_MAX + 1) + 8)
#define DNS_MSG_BUF           4096    /* bytes: the largest answer taken (TCP) */
#define DNS_UDP_TIMEOUT_MS    1500    /* one UDP attempt */
#define DNS_TCP_TIMEOUT_MS    4000    /* connect, ask and read over TCP */
#define DNS_TRIES             2       /* rounds over the servers */
#define DNS_CACHE_TTL_MAX     86400u  /* seconds a positive answer is kept at most */
#define DNS_NEG_TTL_MAX       900u    /* seconds a negative answer is kept at most */

/* The result of a query.  err < 0 (ans NULL): PB_ETIMEDOUT (no server
 * answered), PB_ECONN (TCP failed), PB_ECORRUPT (only malformed answers
 * came), PB_ENOENT (no server known), PB_ERANGE (the answer was larger
 * than DNS_MSG_BUF), PB_ENOMEM (lwIP out of pcbs or pbufs).  err == 0:
 * *ans is the answer, valid only during the call; its rcode may be
 * NXDOMAIN, SERVFAIL, ...; TTLs count down while it sits in the cache. */
typedef void (*dns_cb)(int err, const struct dns_answer *ans, void *arg);

/* Reset the resolver (queries, cache, servers back to DHCP).  Call after
 * net_init. */
void dns_resolver_init(void);

/* Ask for name (dotted text) of type.  Returns 0 if the query is under way
 * (cb comes later, exactly once), 1 if it was answered from the cache (cb
 * has already run), or PB_EINVAL (not a name: see dns_msg_query), PB_EBUSY
 * (PB_DNS_QUERIES in flight), PB_ENOENT (no server configured or learned),
 * PB_ENOMEM (lwIP out of UDP pcbs). */
int dns_query(const char *name, uint16_t type, dns_cb cb, void *arg);

/* The PTR query for addr (in-addr.arpa or ip6.arpa); as dns_query. */
int dns_query_ptr(const ip_addr_t *addr, dns_cb cb, void *arg);

/* Forget the queries made with cb and arg (their callbacks will not run):
 * for a caller that goes away first.  Returns how many. */
int dns_cancel(dns_cb cb, void *arg);

/* The servers: list is IP[:PORT] entries separated by spaces or commas,
 * IPv4 as 192.0.2.1 or 192.0.2.1:5353, IPv6 as 2001:db8::1 or
 * [2001:db8::1]:5353; port 53 by default.  "" or "auto": the servers
 * lwIP learned by DHCP (or set statically).  Returns 0, PB_EINVAL (an
 * entry is not an address or the port is not 1..65535; nothing changes) or
 * PB_ERANGE (more than DNS_SERVERS_MAX).  Queries under way keep going. */
int dns_set_servers(const char *list);

/* The check dns_set_servers makes, changing nothing. */
int dns_servers_valid(const char *list);

/* The servers in use as text ("10.0.2.2:5353 192.0.2.1", or
 * "10.0.2.3 (dhcp)", or "none"). Returns the length. */
int dns_servers_text(char *buf, size_t cap);

struct dns_stats {
    unsigned in_flight, queries_max;
    unsigned cached, cache_max;
    unsigned long hits, misses;
};
void dns_stats(struct dns_stats *st);

/* Drop every cached answer (the servers changed). */
void dns_cache_flush(void);

#endif
