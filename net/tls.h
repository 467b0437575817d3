/*
 * tls.h - TLS as an altcp layer over wolfSSL.
 *
 * net/tls.c implements lwIP's lwip/altcp_tls.h, so a service talks to an
 * altcp_pcb and does not know whether it is plain TCP or TLS:
 *
 *   altcp_tls_create_config_server_privkey_cert()  key + certificate, PEM or
 *       DER (detected by the "-----BEGIN" prefix).  Encrypted keys are not
 *       supported: privkey_pass must be NULL or the call returns NULL.
 *   altcp_tls_create_config_client(ca, len)  ca (PEM or DER) is the one
 *       trust anchor the server's chain must lead to.  ca == NULL turns
 *       certificate verification OFF: the session is still encrypted and
 *       forward-secret but the peer is not authenticated (opportunistic TLS
 *       between MTAs, RFC 7435).  With a CA, tls_set_sni() also sets the
 *       name the server certificate must carry.
 *   altcp_tls_free_config()  at any time: a config still used by a pcb
 *       (listener, connection) is retired, and freed when the last of them
 *       is freed; no new pcb may be made with it meanwhile.
 *   tls_config_replace_listeners(old, new)  TLS listeners using old accept
 *       with new from now on (a new server certificate without a restart);
 *       connections already open keep old.
 *   altcp_tls_new() / altcp_tls_alloc()  a TLS pcb over a fresh TCP pcb;
 *       then bind/listen or connect as with TCP.
 *   altcp_tls_wrap(config, inner)  TLS over an ALREADY CONNECTED pcb (the
 *       STARTTLS case).  The handshake starts at once (a client sends its
 *       hello; use tls_wrap_sni() to name the server).  From then on use
 *       only the returned pcb: the layer owns inner, its arg and callbacks,
 *       and closes it with the TLS pcb.  On failure NULL is returned and
 *       inner is left untouched.
 *   altcp_tls_context(conn)  the WOLFSSL * of the connection.
 *
 * Behaviour of a TLS pcb (differences from plain TCP):
 *   - TLS 1.2 is the minimum, TLS 1.3 preferred; forward-secret suites only.
 *   - Server: the listener's accept callback runs only once the handshake
 *     has completed; connections whose handshake fails are closed without
 *     the application hearing of them.
 *   - Client: the connected callback of altcp_connect() runs once the
 *     handshake has completed.  A failed handshake (bad certificate, peer
 *     alert, reset) frees the pcb and calls the err callback (ERR_CLSD for
 *     a TLS failure, or lwIP's error for a TCP one), like a TCP reset.
 *   - Wrapped pcbs: tls_on_handshake() tells when the handshake is done.
 *   - altcp_write() copies the data (TCP_WRITE_FLAG_COPY is implied) and
 *     accepts at most altcp_sndbuf() bytes, else ERR_MEM: retry from the
 *     sent or poll callback.  Data written before the handshake completes
 *     is held (one write at a time) and sent after it.
 *   - recv delivers plaintext pbufs which the application owns and frees;
 *     it must call altcp_recved() for them as with TCP, which reopens the
 *     TCP window.  recv with p == NULL means the peer closed (close_notify
 *     or FIN).
 *   - altcp_close() sends close_notify, then closes TCP.  altcp_abort()
 *     resets without a close_notify.
 *   - The sent callback reports plaintext bytes, estimated from the TCP
 *     acknowledgements of ciphertext (never more than was written).
 */
#ifndef TLS_H
#define TLS_H

#include <stddef.h>
#include <stdint.h>

#include "lwip/altcp.h"
#include "lwip/altcp_tls.h"
#include "tls_arena.h"

/* Protocol versions for tls_config_set_version(). */
enum tls_version {
    TLS_VERSION_ANY = 0,   /* TLS 1.2 or 1.3, 1.3 preferred (the default) */
    TLS_VERSION_1_2 = 12,  /* TLS 1.2 only */
    TLS_VERSION_1_3 = 13,  /* TLS 1.3 only */
};

/* Bring up wolfSSL and give it its arena (the board's PB_TLS_ARENA_BYTES,
 * placed in PB_TLS_ARENA_SECTION).  Call once at boot, before any
 * altcp_tls_* call.  Returns 0 or PB_ETLS. */
int tls_init(void);

/* Restrict the versions of connections created with conf from now on.
 * Returns 0 or PB_EINVAL. */
int tls_config_set_version(struct altcp_tls_config *conf, enum tls_version v);

/* altcp_tls_wrap() for a client that names the server: sni (or NULL) as
 * for tls_set_sni(), set before the hello goes out. */
struct altcp_pcb *tls_wrap_sni(struct altcp_tls_config *config, struct altcp_pcb *inner,
                               const char *sni);

/* Client pcb: send name (a DNS host name, copied) as SNI in the hello and,
 * if the config verifies certificates, require it in the server's
 * certificate.  Call before altcp_connect() (wrapped pcbs: tls_wrap_sni).
 * Returns 0, PB_EINVAL (not a TLS client pcb, or handshake already begun)
 * or PB_ENOMEM. */
int tls_set_sni(struct altcp_pcb *conn, const char *name);

/* Call fn(arg, conn, ERR_OK) when the handshake of conn has completed
 * (meant for wrapped pcbs; for altcp_connect() it replaces the connected
 * callback).  If fn returns ERR_ABRT it must have aborted conn. */
void tls_on_handshake(struct altcp_pcb *conn, altcp_connected_fn fn);

/* Server certificates handed to a peer check at most (leaf first). */
#define TLS_PEER_CHAIN_MAX 10

/* What the TLS layer itself concluded about the server's chain, handed
 * to a peer check (below). */
enum tls_chain {
    TLS_CHAIN_UNCHECKED = 0,    /* the config has no CA roots: nothing was verified */
    TLS_CHAIN_OK = 1,           /* leads to a root of the config, dates valid, and
                                 * names the SNI host if tls_set_sni() gave one */
    TLS_CHAIN_UNTRUSTED = -1,   /* no path to a root of the config (or a bad signature) */
    TLS_CHAIN_NAME = -2,        /* trusted, but does not name the SNI host */
    TLS_CHAIN_DATE = -3,        /* trusted, but expired or not yet valid */
    TLS_CHAIN_BAD = -4,         /* anything else wrong with it */
};

/* Short text for a verdict, for log lines ("untrusted", "name mismatch"). */
const char *tls_chain_name(enum tls_chain verdict);

/* A judge of the server's certificate chain: der[i] (len[i] octets) for
 * i < count, der[0] the server's own certificate, the rest as the server
 * sent them; verdict is the layer's own conclusion (enum tls_chain).  The
 * pointers are valid only during the call.  Return 0 to accept the chain,
 * anything else to fail the handshake (the pcb then fails as with a bad
 * certificate: err callback with ERR_CLSD). */
typedef int (*tls_peer_check_fn)(void *arg, const uint8_t *const *der, const size_t *len, int count,
                                 enum tls_chain verdict);

/* Client pcb: have fn(arg, ...) judge the server's chain during the
 * handshake.  fn alone decides: with a config of CA roots the chain is
 * still verified (and the SNI name checked) and the verdict passed to fn,
 * and a chain fn accepts is accepted, except that an intermediate which
 * does not verify is refused whatever fn says (wolfSSL would keep it as a
 * trust anchor of the config); fn is then called with that verdict.  For DANE (RFC 7672), pinned
 * fingerprints, and CA verification that wants to say why it failed.
 * Call before the server's certificate can arrive: before altcp_connect(),
 * or right after tls_wrap_sni() in the same callback.  fn runs once per
 * handshake (before the handshake completes).  Returns 0 or PB_EINVAL
 * (not a TLS client pcb, fn NULL, or the handshake is over). */
int tls_set_peer_check(struct altcp_pcb *conn, tls_peer_check_fn fn, void *arg);

/* A client config whose trust anchors are the DER certificates laid back
 * to back in bundle (len octets; ca_bundle.h), with verification ON.
 * Certificates wolfSSL cannot use are skipped; *loaded (if not NULL) gets
 * how many were taken.  The anchors live in the TLS arena (a few hundred
 * octets each) until altcp_tls_free_config().  Returns NULL when the
 * arena is full, the bundle is malformed, or no certificate was taken. */
struct altcp_tls_config *tls_config_client_roots(const uint8_t *bundle, size_t len, int *loaded);

/* 1 once the handshake has completed, else 0. */
int tls_handshake_done(struct altcp_pcb *conn);

/* Negotiated protocol ("TLSv1.3", "TLSv1.2") and cipher suite (IANA-like
 * name, e.g. "TLS_AES_128_GCM_SHA256"), for logs and Received: headers.
 * Static strings; "none" before the handshake is done or for a non-TLS
 * pcb. */
const char *tls_version_name(struct altcp_pcb *conn);
const char *tls_cipher_name(struct altcp_pcb *conn);

/* 1 if conn is a TLS pcb of this layer, else 0. */
int tls_is_tls(struct altcp_pcb *conn);

/* Every listener (altcp_tls_new + listen) made with old uses new_conf for
 * the connections it accepts from now on; connections already accepted
 * or being accepted keep old.  Returns how many listeners were moved (at
 * most TLS_LISTENERS_MAX are tracked: more are left on old). */
#define TLS_LISTENERS_MAX 8
int tls_config_replace_listeners(struct altcp_tls_config *old, struct altcp_tls_config *new_conf);

/* How many pcbs (listeners, connections, connections being accepted)
 * use conf now. */
unsigned tls_config_users(const struct altcp_tls_config *conf);

/* Arena counters (see tls_arena.h), for "show status". */
void tls_stats(struct tls_arena_stats *st);

#endif
