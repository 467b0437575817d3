/*
 * board_pools.h (sim) - every fixed pool of the firmware, sized for this board.
 *
 * The one header per board that sizes memory (lwIP's pools and heap, the
 * wolfSSL arena, the log ring).  The sim mirrors the reference board so a
 * pool that runs dry in a test runs dry on the product too.
 */
#ifndef BOARD_POOLS_H
#define BOARD_POOLS_H

#define PB_POOL_TCP_CONNS     40        /* concurrent TCP connections, all services */
#define PB_POOL_TCP_LISTEN    16        /* listening sockets */
#define PB_POOL_PBUF          96        /* pbufs in the receive pool */
#define PB_LWIP_HEAP_BYTES    (256u * 1024u)  /* lwIP heap: TX segments, pbuf_alloc(PBUF_RAM) */
#define PB_TLS_ARENA_BYTES    (2u * 1024u * 1024u) /* wolfSSL arena: ~40 KiB per TLS session */
/* TCP receive window in full segments: slirp queues frames without loss. */
#define PB_TCP_WND_SEGMENTS   8
#define PB_LOG_RING_BYTES     (16u * 1024u)   /* console/web log history */
/* Resolver (net/dns.h): queries in flight, each with a 4.6 KiB buffer
 * (the largest TCP answer taken), and cached answers (about 1.2 KiB each). */
#define PB_DNS_QUERIES        4
#define PB_DNS_CACHE_ENTRIES  16
#define PB_TLS_ARENA_SECTION  /* ordinary .bss on the sim */

/* Flash store (store/store.h): RAM tables, the bound on what it can index.
 * Bytes: 36 per erase block, 32 per message, 20 per blob, 16 per chunk
 * (a chunk holds up to 4 KiB of a body), 284 per named record (domains,
 * users, aliases, queue entries: 1.1 MiB for 4096), plus about 125 KiB of
 * fixed state: about 9.5 MiB in all, in external RAM on the reference board. */
#define PB_STORE_MAX_BLOCKS   16384u    /* flash up to 64 MiB in 4 KiB blocks */
#define PB_STORE_MAX_MSGS     100000u   /* live messages, all mailboxes */
#define PB_STORE_MAX_BLOBS    100000u   /* message bodies */
#define PB_STORE_MAX_CHUNKS   150000u   /* body chunks (~ 600 MB of bodies in 4 KiB chunks) */
#define PB_STORE_MAX_RECS     4096u     /* named records, all namespaces */
#define PB_STORE_SECTION      /* ordinary .bss on the sim */

#endif
