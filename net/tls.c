/*
 * tls.c - TLS as an altcp layer over wolfSSL (see tls.h for the contract).
 *
 * A TLS pcb ("outer") sits on a TCP pcb ("inner").  The inner pcb's arg is
 * the outer pcb and its callbacks are the tls_lower_* functions below; they
 * only record what happened and call tls_run(), which runs one pass of
 * tls_process(): advance the handshake, retry a pending write, decrypt
 * what has arrived and hand it to the application, reopen the TCP window.
 *
 * wolfSSL does its I/O through tls_io_recv/tls_io_send:
 *   - received ciphertext pbufs are queued in tls_conn.rx (this layer owns
 *     them) and copied into wolfSSL as it asks; consumed pbufs are freed
 *     there;
 *   - ciphertext to send is copied into the inner pcb with altcp_write();
 *     when TCP has no room the callback says WANT_WRITE and the operation
 *     is retried from the sent and poll callbacks.
 *
 * An application callback may close or abort the pcb it is called for.
 * So every entry point counts itself in tls_conn.busy; tearing down a pcb
 * while busy only marks it TLS_F_DEAD, and the outermost entry frees it on
 * the way out.  Nothing is called on a dead pcb.
 */
#include "tls.h"

#include <string.h>

#include "lwip/altcp_tcp.h"
#include "lwip/pbuf.h"
#include "lwip/priv/altcp_priv.h"
#include "lwip/tcp.h"

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/error-ssl.h>

#include "board_pools.h"
#include "hal_clock.h"
#include "hal_rng.h"
#include "pb_err.h"

/* Room for a record header, explicit nonce and tag, kept free in sndbuf so
 * that one write of sndbuf bytes always fits in TCP in one record. */
#define TLS_RECORD_OVERHEAD 64u
#define TLS_SNI_MAX 253u

enum tls_flag {
    TLS_F_LISTEN = 1u << 0,     /* outer is a listener: no ssl */
    TLS_F_STARTED = 1u << 1,    /* TCP connected: the handshake may run */
    TLS_F_DONE = 1u << 2,       /* handshake completed */
    TLS_F_RX_EOF = 1u << 3,     /* the inner pcb delivered its FIN */
    TLS_F_EOF_SENT = 1u << 4,   /* the application got recv(NULL) */
    TLS_F_APP_KNOWS = 1u << 5,  /* the application holds this pcb */
    TLS_F_DEAD = 1u << 6,       /* torn down; freed when no longer busy */
    TLS_F_ABORTED = 1u << 7,    /* the inner pcb was aborted under a callback */
    TLS_F_CLOSING = 1u << 8,    /* close_notify sent */
    TLS_F_BROKEN = 1u << 9,     /* a write failed: fail at the next event */
};

/* A handshake still unfinished after this many inner polls (about 1 s
 * each) is given up: a silent peer cannot hold its memory for ever. */
#define TLS_HANDSHAKE_POLLS 30u

struct altcp_tls_config {
    WOLFSSL_CTX *ctx;
    uint8_t is_server;
    uint8_t version;            /* enum tls_version */
    uint8_t has_roots;          /* client: verifies the server's chain against CAs */
    uint8_t retired;            /* altcp_tls_free_config() came while refs > 0 */
    uint32_t refs;              /* pcbs (tls_conn) using it */
};

struct tls_conn {
    struct altcp_tls_config *conf;
    WOLFSSL *ssl;
    struct altcp_pcb *self;
    struct altcp_pcb *listener; /* server child not yet accepted */
    struct tls_conn *children;  /* listener: children not yet accepted */
    struct tls_conn *next;      /* link in listener->children */
    struct pbuf *rx;            /* ciphertext not yet read by wolfSSL (owned) */
    struct pbuf *rx_app;        /* plaintext the application refused (owned) */
    uint8_t *tx;                /* copy of the write in progress (arena) */
    uint16_t tx_len;
    uint16_t flags;
    uint8_t busy;
    uint8_t polls;              /* inner polls seen before the handshake ended */
    /* Window accounting, in bytes, modulo 2^32 (see tls_step_window). */
    uint32_t ct_used;           /* ciphertext handed to wolfSSL */
    uint32_t pt_made;           /* plaintext wolfSSL produced */
    uint32_t app_recved;        /* plaintext the application altcp_recved() */
    uint32_t win_back;          /* bytes altcp_recved() on the inner pcb */
    uint32_t rx_in;             /* ciphertext received from the inner pcb */
    uint32_t pt_unacked;        /* plaintext written, not yet reported sent */
    tls_peer_check_fn check;    /* client: judges the server's chain (tls_set_peer_check) */
    void *check_arg;
};

static const struct altcp_functions tls_functions;

/* entry points of the inner pcb */
static err_t tls_lower_accept(void *arg, struct altcp_pcb *inner, err_t err);
static err_t tls_lower_connected(void *arg, struct altcp_pcb *inner, err_t err);
static err_t tls_lower_recv(void *arg, struct altcp_pcb *inner, struct pbuf *p, err_t err);
static err_t tls_lower_sent(void *arg, struct altcp_pcb *inner, u16_t len);
static err_t tls_lower_poll(void *arg, struct altcp_pcb *inner);
static void tls_lower_err(void *arg, err_t err);

/* the passes of tls_process */
static void tls_process(struct altcp_pcb *conn, struct tls_conn *st);
static int tls_step_handshake(struct altcp_pcb *conn, struct tls_conn *st);
static void tls_step_tx(struct altcp_pcb *conn, struct tls_conn *st);
static void tls_step_rx(struct altcp_pcb *conn, struct tls_conn *st);
static void tls_step_window(struct altcp_pcb *conn, struct tls_conn *st);

/* ------------------------------------------------------ wolfSSL hooks --- */

static uint8_t tls_arena_region[PB_TLS_ARENA_BYTES] PB_TLS_ARENA_SECTION
    __attribute__((aligned(8)));

int tls_wolf_seed(unsigned char *out, unsigned int sz)
{
    return hal_rng_fill(out, sz) == 0 ? 0 : -1;
}

time_t tls_wolf_time(time_t *t)
{
    time_t now = (time_t)hal_clock_wall();
    if (t != NULL)
        *t = now;
    return now;
}

int tls_init(void)
{
    if (tls_arena_init(tls_arena_region, sizeof(tls_arena_region)) != 0)
        return PB_ETLS;
    if (wolfSSL_Init() != WOLFSSL_SUCCESS)
        return PB_ETLS;
    return 0;
}

void tls_stats(struct tls_arena_stats *st)
{
    tls_arena_stats(st);
}

/* Give wolfSSL up to sz bytes of queued ciphertext.  The pbufs consumed
 * entirely are freed here. */
static int tls_io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    struct altcp_pcb *conn = ctx;
    struct tls_conn *st = conn->state;
    int n = 0;

    (void)ssl;
    if (st->rx == NULL)
        return (st->flags & TLS_F_RX_EOF) ? WOLFSSL_CBIO_ERR_CONN_CLOSE : WOLFSSL_CBIO_ERR_WANT_READ;
    n = (int)pbuf_copy_partial(st->rx, buf, (u16_t)(sz > 0xffff ? 0xffff : sz), 0);
    st->rx = pbuf_free_header(st->rx, (u16_t)n);
    st->ct_used += (uint32_t)n;
    return n;
}

/* Copy ciphertext into the inner pcb, as much as TCP takes now. */
static int tls_io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    struct altcp_pcb *conn = ctx;
    struct altcp_pcb *inner = conn->inner_conn;
    u16_t room, n;
    err_t err;

    (void)ssl;
    if (inner == NULL)
        return WOLFSSL_CBIO_ERR_CONN_CLOSE;
    room = altcp_sndbuf(inner);
    n = (u16_t)((sz > (int)room) ? room : (u16_t)sz);
    if (n == 0)
        return WOLFSSL_CBIO_ERR_WANT_WRITE;
    err = altcp_write(inner, buf, n, TCP_WRITE_FLAG_COPY | (n < sz ? TCP_WRITE_FLAG_MORE : 0));
    if (err == ERR_MEM)
        return WOLFSSL_CBIO_ERR_WANT_WRITE;
    if (err != ERR_OK)
        return WOLFSSL_CBIO_ERR_CONN_CLOSE;
    return n;
}

/* ----------------------------------------------------------- configs --- */

static int tls_format(const u8_t *data, size_t len)
{
    static const char pem[] = "-----BEGIN";
    if (len >= sizeof(pem) - 1 && memcmp(data, pem, sizeof(pem) - 1) == 0)
        return WOLFSSL_FILETYPE_PEM;
    return WOLFSSL_FILETYPE_ASN1;
}

static struct altcp_tls_config *tls_config_new(int server)
{
    struct altcp_tls_config *conf = tls_arena_alloc(sizeof(*conf));
    WOLFSSL_METHOD *method;

    if (conf == NULL)
        return NULL;
    memset(conf, 0, sizeof(*conf));
    method = server ? wolfSSLv23_server_method() : wolfSSLv23_client_method();
    conf->ctx = method != NULL ? wolfSSL_CTX_new(method) : NULL;
    if (conf->ctx == NULL) {
        tls_arena_free(conf);
        return NULL;
    }
    conf->is_server = (uint8_t)server;
    wolfSSL_CTX_SetMinVersion(conf->ctx, WOLFSSL_TLSV1_2);
    wolfSSL_CTX_SetIORecv(conf->ctx, tls_io_recv);
    wolfSSL_CTX_SetIOSend(conf->ctx, tls_io_send);
    return conf;
}

static int tls_config_own_cert(struct altcp_tls_config *conf, const u8_t *key, size_t key_len,
                               const u8_t *cert, size_t cert_len)
{
    if (key == NULL || cert == NULL)
        return -1;
    if (wolfSSL_CTX_use_certificate_buffer(conf->ctx, cert, (long)cert_len,
                                           tls_format(cert, cert_len)) != WOLFSSL_SUCCESS)
        return -1;
    if (wolfSSL_CTX_use_PrivateKey_buffer(conf->ctx, key, (long)key_len,
                                          tls_format(key, key_len)) != WOLFSSL_SUCCESS)
        return -1;
    return 0;
}

struct altcp_tls_config *altcp_tls_create_config_server(uint8_t cert_count)
{
    (void)cert_count;  /* one certificate: a later add replaces it */
    return tls_config_new(1);
}

err_t altcp_tls_config_server_add_privkey_cert(struct altcp_tls_config *config,
                                               const u8_t *privkey, size_t privkey_len,
                                               const u8_t *privkey_pass, size_t privkey_pass_len,
                                               const u8_t *cert, size_t cert_len)
{
    (void)privkey_pass_len;
    if (config == NULL || !config->is_server || privkey_pass != NULL)
        return ERR_ARG;
    return tls_config_own_cert(config, privkey, privkey_len, cert, cert_len) == 0 ? ERR_OK : ERR_VAL;
}

struct altcp_tls_config *altcp_tls_create_config_server_privkey_cert(const u8_t *privkey, size_t privkey_len,
                                                                     const u8_t *privkey_pass, size_t privkey_pass_len,
                                                                     const u8_t *cert, size_t cert_len)
{
    struct altcp_tls_config *conf;

    if (privkey_pass != NULL)
        return NULL;
    conf = tls_config_new(1);
    if (conf == NULL)
        return NULL;
    if (altcp_tls_config_server_add_privkey_cert(conf, privkey, privkey_len, privkey_pass,
                                                 privkey_pass_len, cert, cert_len) != ERR_OK) {
        altcp_tls_free_config(conf);
        return NULL;
    }
    return conf;
}

static struct altcp_tls_config *tls_config_client(const u8_t *ca, size_t ca_len)
{
    struct altcp_tls_config *conf = tls_config_new(0);

    if (conf == NULL)
        return NULL;
    if (ca == NULL) {
        /* Opportunistic: encrypted, peer not authenticated (see tls.h). */
        wolfSSL_CTX_set_verify(conf->ctx, WOLFSSL_VERIFY_NONE, NULL);
        return conf;
    }
    if (wolfSSL_CTX_load_verify_buffer(conf->ctx, ca, (long)ca_len, tls_format(ca, ca_len)) != WOLFSSL_SUCCESS) {
        altcp_tls_free_config(conf);
        return NULL;
    }
    wolfSSL_CTX_set_verify(conf->ctx, WOLFSSL_VERIFY_PEER, NULL);
    conf->has_roots = 1;
    return conf;
}

/* Octets of the DER element at der (tag and length included), or 0 when it
 * is not a SEQUENCE that fits in len.  The bundle is built into the image,
 * but a short or damaged one must not make us read past its end. */
static size_t tls_der_seq_len(const uint8_t *der, size_t len)
{
    size_t body, head;

    if (len < 2 || der[0] != 0x30)
        return 0;
    if (der[1] < 0x80) {
        body = der[1];
        head = 2;
    } else if (der[1] == 0x81 && len >= 3) {
        body = der[2];
        head = 3;
    } else if (der[1] == 0x82 && len >= 4) {
        body = ((size_t)der[2] << 8) | der[3];
        head = 4;
    } else {
        return 0;
    }
    return body <= len - head ? head + body : 0;
}

struct altcp_tls_config *tls_config_client_roots(const uint8_t *bundle, size_t len, int *loaded)
{
    struct altcp_tls_config *conf;
    size_t off = 0;
    int n = 0;

    if (loaded != NULL)
        *loaded = 0;
    if (bundle == NULL || len == 0)
        return NULL;
    conf = tls_config_new(0);
    if (conf == NULL)
        return NULL;
    /* One certificate per load: wolfSSL takes a single DER certificate per
     * call, and a root it cannot use (a key type not built in) is skipped
     * rather than failing the whole bundle. */
    while (off < len) {
        size_t one = tls_der_seq_len(bundle + off, len - off);
        if (one == 0) {
            altcp_tls_free_config(conf);
            return NULL;
        }
        if (wolfSSL_CTX_load_verify_buffer(conf->ctx, bundle + off, (long)one,
                                           WOLFSSL_FILETYPE_ASN1) == WOLFSSL_SUCCESS)
            n++;
        off += one;
    }
    if (n == 0) {
        altcp_tls_free_config(conf);
        return NULL;
    }
    wolfSSL_CTX_set_verify(conf->ctx, WOLFSSL_VERIFY_PEER, NULL);
    conf->has_roots = 1;
    if (loaded != NULL)
        *loaded = n;
    return conf;
}

struct altcp_tls_config *altcp_tls_create_config_client(const u8_t *cert, size_t cert_len)
{
    return tls_config_client(cert, cert_len);
}

struct altcp_tls_config *altcp_tls_create_config_client_2wayauth(const u8_t *ca, size_t ca_len,
                                                                 const u8_t *privkey, size_t privkey_len,
                                                                 const u8_t *privkey_pass, size_t privkey_pass_len,
                                                                 const u8_t *cert, size_t cert_len)
{
    struct altcp_tls_config *conf;

    (void)privkey_pass_len;
    if (privkey_pass != NULL)
        return NULL;
    conf = tls_config_client(ca, ca_len);
    if (conf != NULL && tls_config_own_cert(conf, privkey, privkey_len, cert, cert_len) != 0) {
        altcp_tls_free_config(conf);
        return NULL;
    }
    return conf;
}

static void tls_config_release(struct altcp_tls_config *conf)
{
    wolfSSL_CTX_free(conf->ctx);
    tls_arena_free(conf);
}

/* A pcb's state takes / gives back its config.  The config outlives the
 * last state that uses it: a session reads it (conf->is_server) until it
 * ends, whatever became of the listener or the service that made it. */
static void tls_config_ref(struct altcp_tls_config *conf)
{
    conf->refs++;
}

static void tls_config_unref(struct altcp_tls_config *conf)
{
    if (conf == NULL || conf->refs == 0)
        return;
    if (--conf->refs == 0 && conf->retired)
        tls_config_release(conf);
}

void altcp_tls_free_config(struct altcp_tls_config *conf)
{
    if (conf == NULL || conf->retired)
        return;
    if (conf->refs > 0) {
        conf->retired = 1;
        return;
    }
    tls_config_release(conf);
}

unsigned tls_config_users(const struct altcp_tls_config *conf)
{
    return conf ? conf->refs : 0;
}

void altcp_tls_free_entropy(void)
{
    /* Each wolfSSL context seeds its own DRBG: nothing global to free. */
}

int tls_config_set_version(struct altcp_tls_config *conf, enum tls_version v)
{
    if (conf == NULL || (v != TLS_VERSION_ANY && v != TLS_VERSION_1_2 && v != TLS_VERSION_1_3))
        return PB_EINVAL;
    conf->version = (uint8_t)v;
    return 0;
}

/* -------------------------------------------------- pcb life and death --- */

static struct tls_conn *tls_state(struct altcp_pcb *conn)
{
    if (conn == NULL || conn->fns != &tls_functions)
        return NULL;
    return conn->state;
}

static int tls_ssl_new(struct tls_conn *st)
{
    st->ssl = wolfSSL_new(st->conf->ctx);
    if (st->ssl == NULL)
        return -1;
    /* Not wolfSSL_SetVersion(1.2): a 1.3-capable method would still treat
     * the server's downgrade sentinel (RFC 8446 4.1.3) as an attack. */
    if (st->conf->version == TLS_VERSION_1_2)
        wolfSSL_set_options(st->ssl, WOLFSSL_OP_NO_TLSv1_3);
    else if (st->conf->version == TLS_VERSION_1_3)
        wolfSSL_SetMinVersion(st->ssl, WOLFSSL_TLSV1_3);
    wolfSSL_SetIOReadCtx(st->ssl, st->self);
    wolfSSL_SetIOWriteCtx(st->ssl, st->self);
    return 0;
}

static void tls_attach_inner(struct altcp_pcb *conn, struct altcp_pcb *inner)
{
    conn->inner_conn = inner;
    altcp_arg(inner, conn);
    altcp_recv(inner, tls_lower_recv);
    altcp_sent(inner, tls_lower_sent);
    altcp_err(inner, tls_lower_err);
    altcp_poll(inner, tls_lower_poll, conn->pollinterval ? conn->pollinterval : 2);
}

static void tls_detach_inner(struct altcp_pcb *inner)
{
    altcp_arg(inner, NULL);
    altcp_recv(inner, NULL);
    altcp_sent(inner, NULL);
    altcp_err(inner, NULL);
    altcp_poll(inner, NULL, inner->pollinterval);
}

/* A new outer pcb with its state and ssl over inner (not yet attached). */
static struct altcp_pcb *tls_conn_new(struct altcp_tls_config *conf)
{
    struct altcp_pcb *conn = altcp_alloc();
    struct tls_conn *st;

    if (conn == NULL)
        return NULL;
    st = tls_arena_alloc(sizeof(*st));
    if (st == NULL) {
        altcp_free(conn);
        return NULL;
    }
    memset(st, 0, sizeof(*st));
    st->conf = conf;
    tls_config_ref(conf);
    st->self = conn;
    conn->fns = &tls_functions;
    conn->state = st;
    if (tls_ssl_new(st) != 0) {
        altcp_free(conn);  /* tls_dealloc frees st */
        return NULL;
    }
    return conn;
}

static void tls_unlink_child(struct tls_conn *st)
{
    struct tls_conn **pp;
    struct tls_conn *lst;

    if (st->listener == NULL)
        return;
    lst = st->listener->state;
    for (pp = &lst->children; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == st) {
            *pp = st->next;
            break;
        }
    }
    st->listener = NULL;
    st->next = NULL;
}

/* The listeners, for tls_config_replace_listeners(). */
static struct tls_conn *tls_listeners[TLS_LISTENERS_MAX];

static void tls_listener_forget(struct tls_conn *st)
{
    for (int i = 0; i < TLS_LISTENERS_MAX; i++)
        if (tls_listeners[i] == st)
            tls_listeners[i] = NULL;
}

int tls_config_replace_listeners(struct altcp_tls_config *old, struct altcp_tls_config *new_conf)
{
    int n = 0;
    if (old == NULL || new_conf == NULL || new_conf->retired)
        return 0;
    for (int i = 0; i < TLS_LISTENERS_MAX; i++) {
        struct tls_conn *st = tls_listeners[i];
        if (st == NULL || st->conf != old)
            continue;
        /* The listener has no ssl of its own (tls_listen freed it): its
         * config is only what it hands to the connections it accepts. */
        tls_config_ref(new_conf);
        st->conf = new_conf;
        tls_config_unref(old);
        n++;
    }
    return n;
}

/* Called by altcp_free(): give back everything the state holds. */
static void tls_dealloc(struct altcp_pcb *conn)
{
    struct tls_conn *st = conn->state;
    struct tls_conn *child;

    if (st == NULL)
        return;
    tls_unlink_child(st);
    for (child = st->children; child != NULL; child = child->next)
        child->listener = NULL;
    if (st->ssl != NULL)
        wolfSSL_free(st->ssl);
    if (st->flags & TLS_F_LISTEN)
        tls_listener_forget(st);
    tls_config_unref(st->conf);     /* after wolfSSL_free: it may free the CTX */
    if (st->rx != NULL)
        pbuf_free(st->rx);
    if (st->rx_app != NULL)
        pbuf_free(st->rx_app);
    tls_arena_free(st->tx);
    tls_arena_free(st);
    conn->state = NULL;
}

/* Tear conn down (its inner pcb is already closed, aborted or gone). */
static void tls_destroy(struct altcp_pcb *conn, struct tls_conn *st)
{
    conn->inner_conn = NULL;
    st->flags |= TLS_F_DEAD;
    if (st->busy == 0)
        altcp_free(conn);
}

static void tls_abort_inner(struct altcp_pcb *conn, struct tls_conn *st)
{
    struct altcp_pcb *inner = conn->inner_conn;
    if (inner != NULL) {
        tls_detach_inner(inner);
        altcp_abort(inner);
        st->flags |= TLS_F_ABORTED;
    }
    tls_destroy(conn, st);
}

/* Close the inner pcb after making sure nothing is left unacknowledged in
 * its receive window (lwIP would answer with a reset). */
static void tls_close_inner(struct altcp_pcb *conn, struct tls_conn *st)
{
    struct altcp_pcb *inner = conn->inner_conn;
    uint32_t owed;

    if (inner == NULL) {
        tls_destroy(conn, st);
        return;
    }
    owed = st->rx_in - st->win_back;
    while (owed > 0) {
        u16_t n = owed > 0xffff ? 0xffff : (u16_t)owed;
        altcp_recved(inner, n);
        owed -= n;
    }
    st->win_back = st->rx_in;
    tls_detach_inner(inner);
    if (altcp_close(inner) != ERR_OK) {
        altcp_abort(inner);
        st->flags |= TLS_F_ABORTED;
    }
    tls_destroy(conn, st);
}

/* The connection failed (handshake, record or TCP trouble): close it and
 * tell the application if it holds the pcb. */
static void tls_fail(struct altcp_pcb *conn, struct tls_conn *st, err_t err)
{
    altcp_err_fn errf = (st->flags & TLS_F_APP_KNOWS) ? conn->err : NULL;
    void *arg = conn->arg;

    if (conn->inner_conn != NULL)
        altcp_output(conn->inner_conn);  /* the alert, if wolfSSL wrote one */
    tls_close_inner(conn, st);
    if (errf != NULL)
        errf(arg, err);
}

/* One pass over the connection, from inside an entry point.  Returns
 * ERR_ABRT if the inner pcb was aborted (the caller is an inner callback
 * and must say so to lwIP). */
static err_t tls_run(struct altcp_pcb *conn, struct tls_conn *st)
{
    err_t ret;

    st->busy++;
    tls_process(conn, st);
    st->busy--;
    ret = (st->flags & TLS_F_ABORTED) ? ERR_ABRT : ERR_OK;
    if (st->busy == 0 && (st->flags & TLS_F_DEAD))
        altcp_free(conn);
    return ret;
}

/* ------------------------------------------------------ the processing --- */

static void tls_process(struct altcp_pcb *conn, struct tls_conn *st)
{
    if ((st->flags & TLS_F_DEAD) || st->ssl == NULL || !(st->flags & TLS_F_STARTED))
        return;
    if (st->flags & TLS_F_BROKEN) {
        tls_fail(conn, st, ERR_CLSD);
        return;
    }
    if (!(st->flags & TLS_F_DONE) && tls_step_handshake(conn, st) != 0)
        return;
    tls_step_tx(conn, st);
    if (!(st->flags & TLS_F_DEAD))
        tls_step_rx(conn, st);
    if (!(st->flags & TLS_F_DEAD)) {
        tls_step_window(conn, st);
        altcp_output(conn->inner_conn);
    }
}

/* Hand the finished connection to the application. */
static void tls_handshake_complete(struct altcp_pcb *conn, struct tls_conn *st)
{
    struct altcp_pcb *lst = st->listener;
    err_t err = ERR_OK;

    st->flags |= TLS_F_DONE;
    if (!(st->flags & TLS_F_APP_KNOWS)) {
        /* A server child: only its listener's accept callback can hand it
         * to the application; without one nobody would ever close it. */
        tls_unlink_child(st);
        if (lst == NULL || lst->accept == NULL) {
            tls_close_inner(conn, st);
            return;
        }
        st->flags |= TLS_F_APP_KNOWS;
        err = lst->accept(lst->arg, conn, ERR_OK);
    } else if (conn->connected != NULL) {
        err = conn->connected(conn->arg, conn, ERR_OK);
    }
    if (err != ERR_OK && err != ERR_ABRT && !(st->flags & TLS_F_DEAD))
        tls_abort_inner(conn, st);
}

/* Returns 0 when the handshake is done, else non-zero (waiting or failed). */
static int tls_step_handshake(struct altcp_pcb *conn, struct tls_conn *st)
{
    int ret = wolfSSL_negotiate(st->ssl);
    int e;

    if (ret == WOLFSSL_SUCCESS) {
        tls_handshake_complete(conn, st);
        return (st->flags & TLS_F_DEAD) ? -1 : 0;
    }
    e = wolfSSL_get_error(st->ssl, ret);
    if (e == WOLFSSL_ERROR_WANT_READ || e == WOLFSSL_ERROR_WANT_WRITE) {
        altcp_output(conn->inner_conn);
        return 1;
    }
    tls_fail(conn, st, ERR_CLSD);
    return -1;
}

/* Retry the write in progress (or the one held until the handshake). */
static void tls_step_tx(struct altcp_pcb *conn, struct tls_conn *st)
{
    int ret, e;

    if (st->tx == NULL)
        return;
    ret = wolfSSL_write(st->ssl, st->tx, st->tx_len);
    if (ret == (int)st->tx_len) {
        st->pt_unacked += st->tx_len;
        tls_arena_free(st->tx);
        st->tx = NULL;
        st->tx_len = 0;
        return;
    }
    e = wolfSSL_get_error(st->ssl, ret);
    if (e != WOLFSSL_ERROR_WANT_WRITE && e != WOLFSSL_ERROR_WANT_READ)
        tls_fail(conn, st, ERR_CLSD);
}

/* Give p (plaintext, owned by this layer until accepted) to the
 * application.  Returns 0 if it was taken, else non-zero. */
static int tls_deliver(struct altcp_pcb *conn, struct tls_conn *st, struct pbuf *p)
{
    err_t err;

    if (conn->recv == NULL) {
        /* Nobody listens: drop it, as lwIP's tcp_recv_null does. */
        st->app_recved += p->tot_len;
        pbuf_free(p);
        return 0;
    }
    err = conn->recv(conn->arg, conn, p, ERR_OK);
    if (err == ERR_OK)
        return 0;             /* the application owns p now */
    if (err == ERR_ABRT)
        return -1;            /* the application aborted and freed p */
    if (st->flags & TLS_F_DEAD) {
        pbuf_free(p);         /* closed, yet refused: nobody will take p */
        return -1;
    }
    st->rx_app = p;           /* refused: kept and offered again later */
    return 1;
}

static void tls_deliver_eof(struct altcp_pcb *conn, struct tls_conn *st)
{
    st->flags |= TLS_F_EOF_SENT;
    if (conn->recv == NULL) {
        tls_close_inner(conn, st);
        return;
    }
    conn->recv(conn->arg, conn, NULL, ERR_OK);
}

static void tls_step_rx(struct altcp_pcb *conn, struct tls_conn *st)
{
    struct pbuf *p;
    int ret, e;

    if (!(st->flags & TLS_F_APP_KNOWS))
        return;
    if (st->rx_app != NULL) {
        p = st->rx_app;
        st->rx_app = NULL;
        if (tls_deliver(conn, st, p) != 0)
            return;
    }
    while (!(st->flags & (TLS_F_DEAD | TLS_F_EOF_SENT))) {
        p = pbuf_alloc(PBUF_RAW, PBUF_POOL_BUFSIZE, PBUF_POOL);
        if (p == NULL)
            return;           /* pool dry: the poll callback tries again */
        ret = wolfSSL_read(st->ssl, p->payload, p->len);
        if (ret > 0) {
            st->pt_made += (uint32_t)ret;
            pbuf_realloc(p, (u16_t)ret);
            if (tls_deliver(conn, st, p) != 0)
                return;
            continue;
        }
        pbuf_free(p);
        e = wolfSSL_get_error(st->ssl, ret);
        if (e == WOLFSSL_ERROR_WANT_READ || e == WOLFSSL_ERROR_WANT_WRITE)
            return;
        if (e == WOLFSSL_ERROR_ZERO_RETURN || (st->flags & TLS_F_RX_EOF))
            tls_deliver_eof(conn, st);
        else
            tls_fail(conn, st, ERR_CLSD);
        return;
    }
}

/* Reopen the TCP window by what the application has consumed plus the
 * TLS overhead (headers, tags, handshake): the ciphertext wolfSSL took
 * minus the plaintext it made, plus the plaintext the application
 * altcp_recved().  That never exceeds what wolfSSL took, so the window
 * never opens for data still queued here. */
static void tls_step_window(struct altcp_pcb *conn, struct tls_conn *st)
{
    uint32_t target = st->ct_used - st->pt_made + st->app_recved;
    int32_t owed = (int32_t)(target - st->win_back);

    while (owed > 0 && conn->inner_conn != NULL) {
        u16_t n = owed > 0xffff ? 0xffff : (u16_t)owed;
        altcp_recved(conn->inner_conn, n);
        st->win_back += n;
        owed -= n;
    }
}

/* ---------------------------------------------------- inner callbacks --- */

static err_t tls_lower_accept(void *arg, struct altcp_pcb *inner, err_t err)
{
    struct altcp_pcb *lconn = arg;
    struct tls_conn *lst = tls_state(lconn);
    struct altcp_pcb *conn;
    struct tls_conn *st;

    if (lst == NULL || err != ERR_OK)
        return ERR_VAL;
    conn = tls_conn_new(lst->conf);
    if (conn == NULL)
        return ERR_MEM;       /* lwIP aborts inner */
    st = conn->state;
    st->listener = lconn;
    st->next = lst->children;
    lst->children = st;
    st->flags |= TLS_F_STARTED;
    tls_attach_inner(conn, inner);
    return ERR_OK;            /* the handshake starts with the client's hello */
}

static err_t tls_lower_connected(void *arg, struct altcp_pcb *inner, err_t err)
{
    struct altcp_pcb *conn = arg;
    struct tls_conn *st = tls_state(conn);

    (void)inner;
    if (st == NULL || err != ERR_OK)
        return ERR_VAL;
    st->flags |= TLS_F_STARTED;
    return tls_run(conn, st);
}

/* p: ciphertext from TCP.  It becomes this layer's: queued in st->rx and
 * freed by tls_io_recv as wolfSSL reads it (or at teardown). */
static err_t tls_lower_recv(void *arg, struct altcp_pcb *inner, struct pbuf *p, err_t err)
{
    struct altcp_pcb *conn = arg;
    struct tls_conn *st = tls_state(conn);

    (void)err;
    if (st == NULL) {
        if (p != NULL) {
            altcp_recved(inner, p->tot_len);
            pbuf_free(p);
        }
        return ERR_OK;
    }
    if (p == NULL) {
        st->flags |= TLS_F_RX_EOF;
    } else {
        st->rx_in += p->tot_len;
        if (st->rx == NULL)
            st->rx = p;
        else
            pbuf_cat(st->rx, p);
    }
    return tls_run(conn, st);
}

static err_t tls_lower_sent(void *arg, struct altcp_pcb *inner, u16_t len)
{
    struct altcp_pcb *conn = arg;
    struct tls_conn *st = tls_state(conn);
    err_t ret;

    (void)inner;
    if (st == NULL)
        return ERR_OK;
    st->busy++;
    tls_process(conn, st);
    if (!(st->flags & TLS_F_DEAD) && (st->flags & TLS_F_DONE)) {
        u16_t n = (u16_t)(len < st->pt_unacked ? len : st->pt_unacked);
        st->pt_unacked -= n;
        if (n > 0 && (st->flags & TLS_F_APP_KNOWS) && conn->sent != NULL)
            conn->sent(conn->arg, conn, n);
    }
    st->busy--;
    ret = (st->flags & TLS_F_ABORTED) ? ERR_ABRT : ERR_OK;
    if (st->busy == 0 && (st->flags & TLS_F_DEAD))
        altcp_free(conn);
    return ret;
}

static err_t tls_lower_poll(void *arg, struct altcp_pcb *inner)
{
    struct altcp_pcb *conn = arg;
    struct tls_conn *st = tls_state(conn);
    err_t ret;

    (void)inner;
    if (st == NULL)
        return ERR_OK;
    st->busy++;
    if (!(st->flags & TLS_F_DONE) && (st->flags & TLS_F_STARTED) && ++st->polls > TLS_HANDSHAKE_POLLS)
        tls_fail(conn, st, ERR_TIMEOUT);
    else
        tls_process(conn, st);
    if (!(st->flags & TLS_F_DEAD) && (st->flags & TLS_F_DONE) && (st->flags & TLS_F_APP_KNOWS) &&
        conn->poll != NULL)
        conn->poll(conn->arg, conn);
    st->busy--;
    ret = (st->flags & TLS_F_ABORTED) ? ERR_ABRT : ERR_OK;
    if (st->busy == 0 && (st->flags & TLS_F_DEAD))
        altcp_free(conn);
    return ret;
}

/* The inner pcb is gone (reset, timeout, or aborted by lwIP). */
static void tls_lower_err(void *arg, err_t err)
{
    struct altcp_pcb *conn = arg;
    struct tls_conn *st = tls_state(conn);
    altcp_err_fn errf;
    void *app_arg;

    if (st == NULL)
        return;
    errf = (st->flags & TLS_F_APP_KNOWS) ? conn->err : NULL;
    app_arg = conn->arg;
    conn->inner_conn = NULL;
    tls_destroy(conn, st);
    if (errf != NULL)
        errf(app_arg, err);
}

/* ---------------------------------------------- outer (altcp) functions --- */

static void tls_set_poll(struct altcp_pcb *conn, u8_t interval)
{
    if (conn->inner_conn != NULL)
        altcp_poll(conn->inner_conn, tls_lower_poll, interval);
}

static void tls_recved(struct altcp_pcb *conn, u16_t len)
{
    struct tls_conn *st = tls_state(conn);

    if (st == NULL || (st->flags & TLS_F_DEAD))
        return;
    st->app_recved += len;
    tls_step_window(conn, st);
}

static err_t tls_connect(struct altcp_pcb *conn, const ip_addr_t *ipaddr, u16_t port,
                         altcp_connected_fn connected)
{
    struct tls_conn *st = tls_state(conn);

    if (st == NULL || conn->inner_conn == NULL || st->ssl == NULL)
        return ERR_VAL;
    conn->connected = connected;
    st->flags |= TLS_F_APP_KNOWS;
    return altcp_connect(conn->inner_conn, ipaddr, port, tls_lower_connected);
}

static struct altcp_pcb *tls_listen(struct altcp_pcb *conn, u8_t backlog, err_t *err)
{
    struct tls_conn *st = tls_state(conn);
    struct altcp_pcb *lpcb;

    if (st == NULL || conn->inner_conn == NULL) {
        if (err != NULL)
            *err = ERR_VAL;
        return NULL;
    }
    lpcb = altcp_listen_with_backlog_and_err(conn->inner_conn, backlog, err);
    if (lpcb == NULL)
        return NULL;
    conn->inner_conn = lpcb;
    altcp_arg(lpcb, conn);
    altcp_accept(lpcb, tls_lower_accept);
    wolfSSL_free(st->ssl);
    st->ssl = NULL;
    st->flags |= TLS_F_LISTEN;
    for (int i = 0; i < TLS_LISTENERS_MAX; i++) {
        if (tls_listeners[i] == NULL) {
            tls_listeners[i] = st;
            break;
        }
    }
    return conn;
}

static err_t tls_close(struct altcp_pcb *conn);

static void tls_abort(struct altcp_pcb *conn)
{
    struct tls_conn *st = tls_state(conn);

    if (st == NULL || (st->flags & TLS_F_DEAD))
        return;
    if (st->flags & TLS_F_LISTEN) {
        tls_close(conn);
        return;
    }
    tls_abort_inner(conn, st);
}

static err_t tls_close(struct altcp_pcb *conn)
{
    struct tls_conn *st = tls_state(conn);

    if (st == NULL)
        return ERR_VAL;
    if (st->flags & TLS_F_DEAD)
        return ERR_OK;
    if (st->flags & TLS_F_LISTEN) {
        struct altcp_pcb *inner = conn->inner_conn;
        struct tls_conn *child;
        if (inner != NULL) {
            /* A listening pcb has only arg and accept (tcp_poll etc.
             * refuse a LISTEN pcb). */
            altcp_accept(inner, NULL);
            altcp_arg(inner, NULL);
            if (altcp_close(inner) != ERR_OK) {
                altcp_arg(inner, conn);
                altcp_accept(inner, tls_lower_accept);
                return ERR_MEM;
            }
        }
        /* Handshakes still under way die with the listener: the
         * application has not seen them and could not close them. */
        while ((child = st->children) != NULL) {
            tls_unlink_child(child);
            tls_abort_inner(child->self, child);
        }
        tls_destroy(conn, st);
        return ERR_OK;
    }
    if ((st->flags & TLS_F_DONE) && !(st->flags & TLS_F_CLOSING) && conn->inner_conn != NULL) {
        st->flags |= TLS_F_CLOSING;
        if (st->tx != NULL)             /* last chance for a pending write */
            wolfSSL_write(st->ssl, st->tx, st->tx_len);
        wolfSSL_shutdown(st->ssl);      /* close_notify; no wait for the peer's */
        altcp_output(conn->inner_conn);
    }
    tls_close_inner(conn, st);
    return ERR_OK;
}

static err_t tls_shutdown(struct altcp_pcb *conn, int shut_rx, int shut_tx)
{
    struct tls_conn *st = tls_state(conn);

    if (st == NULL || (st->flags & TLS_F_DEAD) || conn->inner_conn == NULL)
        return ERR_VAL;
    if (shut_rx && shut_tx)
        return tls_close(conn);
    if (shut_tx && (st->flags & TLS_F_DONE) && !(st->flags & TLS_F_CLOSING)) {
        st->flags |= TLS_F_CLOSING;
        wolfSSL_shutdown(st->ssl);
    }
    return altcp_shutdown(conn->inner_conn, shut_rx, shut_tx);
}

static u16_t tls_sndbuf(struct altcp_pcb *conn)
{
    struct tls_conn *st = tls_state(conn);
    u16_t room;

    if (st == NULL || conn->inner_conn == NULL || st->tx != NULL || (st->flags & TLS_F_CLOSING))
        return 0;
    room = altcp_sndbuf(conn->inner_conn);
    return room > TLS_RECORD_OVERHEAD ? (u16_t)(room - TLS_RECORD_OVERHEAD) : 0;
}

/* data is copied (into st->tx, then by wolfSSL into records); the caller
 * keeps its buffer. */
static err_t tls_write(struct altcp_pcb *conn, const void *data, u16_t len, u8_t apiflags)
{
    struct tls_conn *st = tls_state(conn);
    int ret, e;

    (void)apiflags;
    if (st == NULL || (st->flags & (TLS_F_DEAD | TLS_F_LISTEN | TLS_F_CLOSING | TLS_F_BROKEN)) ||
        st->ssl == NULL)
        return ERR_CONN;
    if (len == 0)
        return ERR_OK;
    if (st->tx != NULL || (len > tls_sndbuf(conn) && (st->flags & TLS_F_DONE)))
        return ERR_MEM;
    st->tx = tls_arena_alloc(len);
    if (st->tx == NULL)
        return ERR_MEM;
    memcpy(st->tx, data, len);
    st->tx_len = len;
    if (!(st->flags & TLS_F_DONE))
        return ERR_OK;        /* sent once the handshake completes */
    /* Not tls_step_tx(): a failure must not call the application's err
     * callback from inside its own altcp_write(). */
    ret = wolfSSL_write(st->ssl, st->tx, st->tx_len);
    if (ret == (int)len) {
        st->pt_unacked += len;
        tls_arena_free(st->tx);
        st->tx = NULL;
        st->tx_len = 0;
    } else {
        e = wolfSSL_get_error(st->ssl, ret);
        if (e != WOLFSSL_ERROR_WANT_WRITE && e != WOLFSSL_ERROR_WANT_READ) {
            st->flags |= TLS_F_BROKEN;
            return ERR_CONN;
        }
    }
    altcp_output(conn->inner_conn);
    return ERR_OK;
}

static u16_t tls_mss(struct altcp_pcb *conn)
{
    u16_t mss = altcp_default_mss(conn);
    return mss > TLS_RECORD_OVERHEAD ? (u16_t)(mss - TLS_RECORD_OVERHEAD) : mss;
}

static const struct altcp_functions tls_functions = {
    .set_poll = tls_set_poll,
    .recved = tls_recved,
    .bind = altcp_default_bind,
    .connect = tls_connect,
    .listen = tls_listen,
    .abort = tls_abort,
    .close = tls_close,
    .shutdown = tls_shutdown,
    .write = tls_write,
    .output = altcp_default_output,
    .mss = tls_mss,
    .sndbuf = tls_sndbuf,
    .sndqueuelen = altcp_default_sndqueuelen,
    .nagle_disable = altcp_default_nagle_disable,
    .nagle_enable = altcp_default_nagle_enable,
    .nagle_disabled = altcp_default_nagle_disabled,
    .setprio = altcp_default_setprio,
    .dealloc = tls_dealloc,
    .addrinfo = altcp_default_get_tcp_addrinfo,
    .getip = altcp_default_get_ip,
    .getport = altcp_default_get_port,
#if LWIP_TCP_KEEPALIVE
    .keepalive_disable = altcp_default_keepalive_disable,
    .keepalive_enable = altcp_default_keepalive_enable,
#endif
#ifdef LWIP_DEBUG
    .dbg_get_tcp_state = altcp_default_dbg_get_tcp_state,
#endif
};

/* ------------------------------------------------------ public pcbs --- */

struct altcp_pcb *tls_wrap_sni(struct altcp_tls_config *config, struct altcp_pcb *inner_pcb,
                               const char *sni)
{
    struct altcp_pcb *conn;
    struct tls_conn *st;

    if (config == NULL || inner_pcb == NULL)
        return NULL;
    conn = tls_conn_new(config);
    if (conn == NULL)
        return NULL;
    st = conn->state;
    if (sni != NULL && tls_set_sni(conn, sni) != 0) {
        altcp_free(conn);
        return NULL;
    }
    st->flags |= TLS_F_STARTED | TLS_F_APP_KNOWS;
    tls_attach_inner(conn, inner_pcb);
    if (!config->is_server) {
        /* Send the client's hello now.  A failure here is reported later,
         * from the next event, through the err callback. */
        int ret = wolfSSL_negotiate(st->ssl);
        if (ret != WOLFSSL_SUCCESS) {
            int e = wolfSSL_get_error(st->ssl, ret);
            if (e != WOLFSSL_ERROR_WANT_READ && e != WOLFSSL_ERROR_WANT_WRITE)
                st->flags |= TLS_F_BROKEN;
        }
        altcp_output(inner_pcb);
    }
    return conn;
}

struct altcp_pcb *altcp_tls_wrap(struct altcp_tls_config *config, struct altcp_pcb *inner_pcb)
{
    return tls_wrap_sni(config, inner_pcb, NULL);
}

struct altcp_pcb *altcp_tls_new(struct altcp_tls_config *config, u8_t ip_type)
{
    struct altcp_pcb *inner, *conn;

    if (config == NULL)
        return NULL;
    inner = altcp_tcp_new_ip_type(ip_type);
    if (inner == NULL)
        return NULL;
    conn = tls_conn_new(config);
    if (conn == NULL) {
        altcp_close(inner);
        return NULL;
    }
    ((struct tls_conn *)conn->state)->flags |= TLS_F_APP_KNOWS;
    tls_attach_inner(conn, inner);
    return conn;
}

struct altcp_pcb *altcp_tls_alloc(void *arg, u8_t ip_type)
{
    return altcp_tls_new((struct altcp_tls_config *)arg, ip_type);
}

void *altcp_tls_context(struct altcp_pcb *conn)
{
    struct tls_conn *st = tls_state(conn);
    return st != NULL ? st->ssl : NULL;
}

/* ------------------------------------------------------ extensions --- */

int tls_set_sni(struct altcp_pcb *conn, const char *name)
{
    struct tls_conn *st = tls_state(conn);
    size_t len;

    if (st == NULL || st->ssl == NULL || st->conf->is_server || name == NULL)
        return PB_EINVAL;
    len = strlen(name);
    if (len == 0 || len > TLS_SNI_MAX || (st->flags & TLS_F_DONE))
        return PB_EINVAL;
    if (wolfSSL_UseSNI(st->ssl, WOLFSSL_SNI_HOST_NAME, name, (word16)len) != WOLFSSL_SUCCESS)
        return PB_ENOMEM;
    if (wolfSSL_check_domain_name(st->ssl, name) != WOLFSSL_SUCCESS)
        return PB_ENOMEM;
    return 0;
}

const char *tls_chain_name(enum tls_chain verdict)
{
    switch (verdict) {
    case TLS_CHAIN_OK:        return "verified";
    case TLS_CHAIN_UNTRUSTED: return "untrusted (no path to a known root)";
    case TLS_CHAIN_NAME:      return "name mismatch";
    case TLS_CHAIN_DATE:      return "expired or not yet valid";
    case TLS_CHAIN_BAD:       return "invalid";
    default:                  return "unchecked";
    }
}

/* wolfSSL's verdict on the chain (its error code for the leaf) in our terms. */
static enum tls_chain tls_chain_verdict(const struct tls_conn *st, int error)
{
    if (!st->conf->has_roots)
        return TLS_CHAIN_UNCHECKED;
    switch (error) {
    case 0:
        return TLS_CHAIN_OK;
    case ASN_NO_SIGNER_E:
    case ASN_SELF_SIGNED_E:
    case ASN_SIG_CONFIRM_E:
        return TLS_CHAIN_UNTRUSTED;
    case DOMAIN_NAME_MISMATCH:
    case IPADDR_MISMATCH:
        return TLS_CHAIN_NAME;
    case ASN_AFTER_DATE_E:
    case ASN_BEFORE_DATE_E:
        return TLS_CHAIN_DATE;
    default:
        return TLS_CHAIN_BAD;
    }
}

/* wolfSSL's verify callback, installed only on pcbs with a peer check.
 * WOLFSSL_ALWAYS_VERIFY_CB makes wolfSSL call it for the leaf certificate
 * even when the chain verified; store->certs then holds the whole chain as
 * the server sent it (leaf first), pointing into the handshake message, so
 * nothing is copied, and store->error is wolfSSL's verdict on it (chain to
 * a root, dates, and the name of wolfSSL_check_domain_name()).  With roots
 * (VERIFY_PEER) it is also called for an intermediate that failed.  Returning 0
 * fails the handshake; returning 1 overrides wolfSSL's own verdict, which
 * is what DANE-EE wants (RFC 7672 3.1.1: no name or date checks). */
static int tls_verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store)
{
    const uint8_t *der[TLS_PEER_CHAIN_MAX];
    size_t len[TLS_PEER_CHAIN_MAX];
    struct tls_conn *st;
    int n;

    (void)preverify;
    if (store == NULL)
        return 0;
    st = tls_state((struct altcp_pcb *)store->userCtx);
    if (store->error_depth != 0) {
        /* An intermediate (or a root the server sent) that did not verify.
         * Without roots it is judged together with the leaf.  With roots
         * it is refused whatever the check says: accepting it would make
         * wolfSSL keep it as a trust anchor of the config, for every later
         * connection too.  The check still hears why. */
        if (st == NULL || !st->conf->has_roots || store->error == 0)
            return 1;
    }
    if (st == NULL || st->check == NULL || store->certs == NULL)
        return 0;
    n = store->totalCerts < TLS_PEER_CHAIN_MAX ? store->totalCerts : TLS_PEER_CHAIN_MAX;
    for (int i = 0; i < n; i++) {
        der[i] = store->certs[i].buffer;
        len[i] = store->certs[i].length;
    }
    if (st->check(st->check_arg, der, len, n, tls_chain_verdict(st, store->error)) != 0)
        return 0;
    return store->error_depth == 0 ? 1 : 0;
}

int tls_set_peer_check(struct altcp_pcb *conn, tls_peer_check_fn fn, void *arg)
{
    struct tls_conn *st = tls_state(conn);

    if (st == NULL || st->ssl == NULL || st->conf->is_server || fn == NULL || (st->flags & TLS_F_DONE))
        return PB_EINVAL;
    st->check = fn;
    st->check_arg = arg;
    wolfSSL_SetCertCbCtx(st->ssl, conn);
    /* With roots, wolfSSL keeps verifying (and checking the SNI name, which
     * it does only in VERIFY_PEER mode) so that fn hears its verdict; the
     * callback's answer still overrides it. */
    wolfSSL_set_verify(st->ssl, st->conf->has_roots ? WOLFSSL_VERIFY_PEER : WOLFSSL_VERIFY_NONE,
                       tls_verify_cb);
    return 0;
}

void tls_on_handshake(struct altcp_pcb *conn, altcp_connected_fn fn)
{
    if (tls_state(conn) != NULL)
        conn->connected = fn;
}

int tls_handshake_done(struct altcp_pcb *conn)
{
    struct tls_conn *st = tls_state(conn);
    return st != NULL && (st->flags & TLS_F_DONE) != 0;
}

int tls_is_tls(struct altcp_pcb *conn)
{
    return tls_state(conn) != NULL;
}

const char *tls_version_name(struct altcp_pcb *conn)
{
    struct tls_conn *st = tls_state(conn);
    if (st == NULL || st->ssl == NULL || !(st->flags & TLS_F_DONE))
        return "none";
    return wolfSSL_get_version(st->ssl);
}

const char *tls_cipher_name(struct altcp_pcb *conn)
{
    struct tls_conn *st = tls_state(conn);
    const char *name;
    int suite;
    if (st == NULL || st->ssl == NULL || !(st->flags & TLS_F_DONE))
        return "none";
    suite = wolfSSL_get_current_cipher_suite(st->ssl);
    name = wolfSSL_get_cipher_name_iana_from_suite((byte)(suite >> 8), (byte)suite);
    return name != NULL ? name : "none";
}
