/*
 * conn.h - the plumbing every server connection shares (SMTP, POP3,
 * IMAP, the web page): a listener (plain, or TLS from the first byte per
 * RFC 8314), the refusal when a service's pool is full, received data
 * queued until the session reads it, replies buffered until TCP takes
 * them, STARTTLS, and an orderly close.  The protocol sessions stay in
 * their services; this knows nothing of them.
 *
 * The altcp callbacks are written once, here: a service fills a const
 * struct conn_ops and calls conn_attach; the callbacks then do what every
 * service did alike and hand over to the ops:
 *   recv    data: queued (conn_received), then ops->process.  Peer closed:
 *           ops->process first (what the client sent before its close
 *           still counts), then ops->peer_closed if the conn is still
 *           the service's.  For a conn already let go: data discarded.
 *   sent    last_ms updated when ops->sent_is_activity; closing:
 *           ops->close; else flush and ops->process.
 *   poll    closing: ops->close; else ops->poll (timers, idle timeout).
 *   err     conn forgotten (pcb NULL, input freed), then ops->reset.
 *   STARTTLS handshake done: last_ms reset, ops->tls_started, ops->process.
 * Closing, draining, and what a closed or idle session says stay the
 * service's (they differ: SMTP ends the session on a close even while a
 * reply is going out, the web server shuts its side and drains).
 *
 * Flow control: received pbufs wait in conn.in and the TCP window reopens
 * (altcp_recved) only as the session consumes them, so a client that sends
 * faster than the flash takes it is slowed down, not buffered without
 * bound.  Replies collect in the caller's out buffer; a reply that does
 * not fit even after flushing sets overflow (a client that never reads:
 * the service drops it rather than lose replies silently).
 */
#ifndef CONN_H
#define CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lwip/altcp.h"

struct altcp_tls_config;
struct conn;

/* What a service fills in to run its connections on the shared altcp
 * callbacks (conn_attach).  slot is the owner given to conn_attach (the
 * service's pool entry).  Every hook that returns err_t returns ERR_ABRT
 * when it aborted the pcb, which the callback passes on to lwIP. */
struct conn_ops {
    const char *name;           /* log prefix: "smtp", "pop3", ... */
    const char *unit;           /* the refusal's log: "N <unit> busy" */
    const char *busy;           /* the whole reply (CRLF included) when the pool is full */
    u8_t poll_interval;         /* lwIP poll period in 500 ms ticks */
    bool sent_is_activity;      /* sent data counts against the idle timeout */
    /* Feed queued input to the session and act on its state; called
     * after data arrives and after TCP took some of the output. */
    err_t (*process)(void *slot);
    /* The client closed its side; process() already ran on what it sent
     * and the connection is still ours. */
    err_t (*peer_closed)(void *slot);
    /* closing is set: go on closing (from the sent and poll callbacks). */
    err_t (*close)(void *slot);
    /* Every poll period while not closing: the service's timers and its
     * idle timeout.  now is hal_clock_ms(). */
    err_t (*poll)(void *slot, uint64_t now);
    /* The pcb is gone (reset, or lwIP ran out of memory): end the session
     * and free the slot.  The conn is already forgotten (pcb NULL, unread
     * input freed). */
    void (*reset)(void *slot);
    /* The STARTTLS handshake is done (pcb: the TLS pcb, for the version
     * and cipher names); process() follows.  NULL when the service has
     * no STARTTLS. */
    void (*tls_started)(void *slot, struct altcp_pcb *pcb);
};

struct conn {
    struct altcp_pcb *pcb;      /* NULL: not in use */
    struct pbuf *in;            /* received, not yet read by the session */
    char *out;                  /* replies not yet handed to TCP (the service's buffer) */
    size_t out_cap, out_len;
    uint64_t last_ms;           /* last activity, for idle timeouts */
    bool closing;               /* closing once out is empty */
    bool overflow;              /* a reply did not fit: drop the client */
    const struct conn_ops *ops; /* set by conn_attach */
    void *slot;                 /* the owner handed to the ops */
};

/* Listen on port, TLS from the first byte when implicit (tls must be
 * given then).  arg goes to accept.  Returns 0, PB_EINVAL, PB_ENOMEM or
 * PB_EBUSY (the port is taken). */
int conn_listen(uint16_t port, struct altcp_tls_config *tls, bool implicit, altcp_accept_fn accept,
                void *arg);

/* The pool is full: send line (a whole reply with CRLF) and hang up.
 * Returns ERR_OK or ERR_ABRT (return it from the accept callback). */
err_t conn_refuse(struct altcp_pcb *pcb, const char *line);

/* The common half of an accept callback: find a free conn in the pool
 * (count entries of stride bytes, the first one's conn at first; first may
 * be NULL when there is no pool yet).  Returns the index of the free entry
 * (its conn untouched: the service initialises the entry, then calls
 * conn_init and conn_attach), or -1 when the service must return *ret at
 * once: lwIP gave an error, or the pool is full and the client got
 * ops->busy and a hang-up (logged as "<name>: connection refused, <count>
 * <unit> busy" through log). */
int conn_accept(const struct conn_ops *ops, struct altcp_pcb *pcb, err_t err, struct conn *first,
                size_t stride, int count, void (*log)(const char *line), err_t *ret);

/* Run c on the shared callbacks of ops for pcb (at accept, and again on
 * the TLS pcb after STARTTLS): altcp's arg becomes c, and every callback
 * lands in ops with slot.  Data for a conn already let go is discarded. */
void conn_attach(struct conn *c, struct altcp_pcb *pcb, const struct conn_ops *ops, void *slot);

/* The peer's address as text ("unknown" if there is none). */
void conn_peer(struct altcp_pcb *pcb, char *buf, size_t cap);

/* Start using c for pcb with the output buffer out (cap bytes). */
void conn_init(struct conn *c, struct altcp_pcb *pcb, char *out, size_t cap);

/* Hand buffered replies to TCP as far as its send buffer allows. */
void conn_flush(struct conn *c);

/* Buffer a reply (see overflow above). */
void conn_write(struct conn *c, const char *s, size_t n);

/* Received data: queue p (now owned by c). */
void conn_received(struct conn *c, struct pbuf *p);

/* The session read n bytes from the head of in: free them and reopen the
 * window by as much. */
void conn_consumed(struct conn *c, size_t n);

/* STARTTLS/STLS: throw away what the client pipelined behind the command
 * (the plaintext-injection attack), flush the reply, and wrap the
 * connection in TLS.  Returns the TLS pcb (now c->pcb, on the shared
 * callbacks again; the last activity time is reset, ops->tls_started and
 * ops->process run once the handshake is done) or NULL when memory ran
 * out. */
struct altcp_pcb *conn_starttls(struct conn *c, struct altcp_tls_config *tls);

/* Let go of the pcb: callbacks detached, unread input freed, then closed
 * (or aborted when abort is set, or when close fails).  Returns ERR_ABRT
 * when the pcb was aborted (callbacks must then return it). */
err_t conn_finish(struct conn *c, bool abort);

/* Data for a pcb whose connection was already let go: taken and
 * dropped (p may be NULL). */
void conn_discard(struct altcp_pcb *pcb, struct pbuf *p);

/* One log line through sink (NULL: none), printf-style, at most 199
 * characters. */
void conn_log(void (*sink)(const char *line), const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The pcb is gone already (the err callback): free the unread input. */
void conn_forget(struct conn *c);

#endif
