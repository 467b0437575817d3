/*
 * diag_services.c - test-build replacement for firmware/services.c:
 *   - a TLS echo listener on port 443 presenting the appliance identity,
 *     so a TLS client on the host (openssl s_client) can check the TLS
 *     stack from outside;
 *   - the SMTP server on port 25 (with STARTTLS) over a recording backend
 *     that keeps nothing but logs each committed message as
 *     "diag: stored ID rcpts=N size=S body-sha256=HEX" (the body is what
 *     follows the Received: header the server adds), until the flash
 *     store exists to deliver into.
 * It also dials 10.0.2.100:25 once the network is up, says one line and
 * logs the line it gets back, so the tests can check the sim board's
 * --guestfwd.  Linked only into build/test/pillarbox-sim-diag, never into
 * the product.
 */
#include <string.h>

#include "config.h"
#include "identity.h"
#include "log.h"
#include "lwip/altcp.h"
#include "lwip/altcp_tcp.h"
#include "lwip/altcp_tls.h"
#include "lwip/timeouts.h"
#include "pb_err.h"
#include "services.h"
#include "smtp_server.h"
#include "tls.h"
#include "wolfssl/wolfcrypt/sha256.h"

static struct altcp_tls_config *diag_config;

/* Per connection: received data not yet echoed (the TCP window stays
 * closed for it until it is written, so a fast sender is slowed, not lost). */
#define DIAG_CONNS 8
static struct diag_conn {
    struct altcp_pcb *pcb;
    struct pbuf *pending;
} diag_conns[DIAG_CONNS];

static void diag_flush(struct diag_conn *c)
{
    u16_t room = altcp_sndbuf(c->pcb);
    while (c->pending && room > 0) {
        u16_t n = c->pending->len < room ? c->pending->len : room;
        if (altcp_write(c->pcb, c->pending->payload, n, TCP_WRITE_FLAG_COPY) != ERR_OK)
            break;
        room = (u16_t)(room - n);
        altcp_recved(c->pcb, n);
        c->pending = pbuf_free_header(c->pending, n);
    }
    altcp_output(c->pcb);
}

static void diag_close(struct diag_conn *c)
{
    altcp_arg(c->pcb, NULL);
    altcp_recv(c->pcb, NULL);
    altcp_sent(c->pcb, NULL);
    altcp_err(c->pcb, NULL);
    altcp_close(c->pcb);
    if (c->pending)
        pbuf_free(c->pending);
    memset(c, 0, sizeof(*c));
}

static err_t diag_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct diag_conn *c = arg;
    (void)pcb;
    (void)err;
    if (!p) {
        diag_close(c);
        return ERR_OK;
    }
    /* p is ours from here on: queued, then freed as it is echoed. */
    if (c->pending)
        pbuf_cat(c->pending, p);
    else
        c->pending = p;
    diag_flush(c);
    return ERR_OK;
}

static err_t diag_sent(void *arg, struct altcp_pcb *pcb, u16_t len)
{
    (void)pcb;
    (void)len;
    diag_flush(arg);
    return ERR_OK;
}

static void diag_err(void *arg, err_t err)
{
    struct diag_conn *c = arg;
    (void)err;
    /* The pcb is gone already. */
    if (c->pending)
        pbuf_free(c->pending);
    memset(c, 0, sizeof(*c));
}

static err_t diag_accept(void *arg, struct altcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    struct diag_conn *c = NULL;
    for (int i = 0; i < DIAG_CONNS && !c; i++)
        if (!diag_conns[i].pcb)
            c = &diag_conns[i];
    if (!c) {
        altcp_abort(pcb);
        return ERR_ABRT;
    }
    c->pcb = pcb;
    log_printf("diag: TLS connection, %s %s", tls_version_name(pcb), tls_cipher_name(pcb));
    altcp_arg(pcb, c);
    altcp_recv(pcb, diag_recv);
    altcp_sent(pcb, diag_sent);
    altcp_err(pcb, diag_err);
    return ERR_OK;
}

/* ------------------------------------------------- outbound (guestfwd) --- */

static struct altcp_pcb *diag_out;
static int diag_out_tries;

static err_t diag_out_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg;
    (void)err;
    if (p) {
        char line[128];
        u16_t n = pbuf_copy_partial(p, line, sizeof(line) - 1, 0);
        line[n] = '\0';
        line[strcspn(line, "\r\n")] = '\0';
        log_printf("diag: guestfwd peer said: %s", line);
        altcp_recved(pcb, p->tot_len);
        pbuf_free(p);
    }
    altcp_arg(pcb, NULL);
    altcp_recv(pcb, NULL);
    altcp_err(pcb, NULL);
    altcp_close(pcb);
    diag_out = NULL;
    return ERR_OK;
}

static err_t diag_out_connected(void *arg, struct altcp_pcb *pcb, err_t err)
{
    (void)arg;
    static const char hello[] = "HELO from pillarbox\r\n";
    if (err != ERR_OK)
        return err;
    altcp_write(pcb, hello, sizeof(hello) - 1, TCP_WRITE_FLAG_COPY);
    altcp_output(pcb);
    return ERR_OK;
}

static void diag_out_err(void *arg, err_t err);

static void diag_out_try(void *arg)
{
    (void)arg;
    ip_addr_t peer;
    IP_ADDR4(&peer, 10, 0, 2, 100);
    if (diag_out || ++diag_out_tries > 40)
        return;
    diag_out = altcp_tcp_new_ip_type(IPADDR_TYPE_V4);
    if (!diag_out)
        return;
    altcp_recv(diag_out, diag_out_recv);
    altcp_err(diag_out, diag_out_err);
    if (altcp_connect(diag_out, &peer, 25, diag_out_connected) != ERR_OK) {
        altcp_abort(diag_out);
        diag_out = NULL;
        sys_timeout(250, diag_out_try, NULL);   /* no address yet: try again */
    }
}

static void diag_out_err(void *arg, err_t err)
{
    (void)arg;
    (void)err;
    diag_out = NULL;                        /* the pcb is gone already */
    sys_timeout(250, diag_out_try, NULL);
}

/* ---------------------------------------------------- SMTP, recorded --- */

struct diag_msg {
    wc_Sha256 sha;
    int rcpts;
    uint64_t size;
    int header_done;            /* the server's Received: header is past */
    uint8_t last2[2];           /* to find its end across writes */
    char id[SMTP_SESSION_ID_LEN + 1];
};
static struct diag_msg diag_msgs[SMTP_SERVER_SESSIONS];
static struct smtp_backend diag_backends[SMTP_SERVER_SESSIONS];

static int diag_be_begin(void *ctx, const struct smtp_envelope *env, struct smtp_reply *r)
{
    struct diag_msg *m = ctx;
    (void)r;
    memset(m, 0, sizeof(*m));
    wc_InitSha256(&m->sha);
    strcpy(m->id, env->id);
    return 0;
}

static int diag_be_rcpt(void *ctx, const struct mail_address *a, struct smtp_reply *r)
{
    struct diag_msg *m = ctx;
    if (strcmp(a->domain, "example.test") != 0) {
        *r = (struct smtp_reply){ 554, "5.7.1", "Relay access denied" };
        return PB_EPERM;
    }
    m->rcpts++;
    return 0;
}

static int diag_be_write(void *ctx, const uint8_t *d, size_t n)
{
    struct diag_msg *m = ctx;
    for (size_t i = 0; i < n; i++) {
        if (!m->header_done) {
            /* The header ends at a CRLF not followed by a folding tab. */
            if (m->last2[0] == '\r' && m->last2[1] == '\n' && d[i] != '\t')
                m->header_done = 1;
            m->last2[0] = m->last2[1];
            m->last2[1] = d[i];
            if (!m->header_done)
                continue;
        }
        wc_Sha256Update(&m->sha, d + i, 1);
        m->size++;
    }
    return 0;
}

static int diag_be_commit(void *ctx)
{
    struct diag_msg *m = ctx;
    uint8_t h[WC_SHA256_DIGEST_SIZE];
    char hex[2 * WC_SHA256_DIGEST_SIZE + 1];
    wc_Sha256Final(&m->sha, h);
    for (int i = 0; i < WC_SHA256_DIGEST_SIZE; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    log_printf("diag: stored %s rcpts=%d size=%llu body-sha256=%s", m->id, m->rcpts,
               (unsigned long long)m->size, hex);
    return 0;
}

static void diag_be_abort(void *ctx)
{
    struct diag_msg *m = ctx;
    wc_Sha256Free(&m->sha);
}

static void diag_smtp_log(const char *line)
{
    log_printf("%s", line);
}

static struct smtp_server_config diag_smtp = {
    .port = 25,
    .session = { .hostname = "mx.example.test", .max_size = 25u * 1024 * 1024,
                 .log = diag_smtp_log },
    .backends = diag_backends,
    .log = diag_smtp_log,
};

/* No outbound queue in the diagnostic build: nothing to poll. */
int services_poll(void)
{
    return 0;
}

void services_apply_config(void)
{
    diag_smtp.session.max_size = config_get()->smtp.max_size;
    diag_smtp.timeout = config_get()->smtp.timeout;
    diag_smtp.require_rdns = config_get()->smtp.require_rdns;
}

/* The diagnostic listener keeps the certificate it started with: a new
 * one waits for a restart, as when the TLS services never started. */
int services_tls_swap(const struct identity *id)
{
    (void)id;
    return PB_ENOTSUP;
}

const struct identity *services_identity(void)
{
    return NULL;
}

int services_start(const struct identity *id)
{
    for (int i = 0; i < SMTP_SERVER_SESSIONS; i++)
        diag_backends[i] = (struct smtp_backend){ &diag_msgs[i], diag_be_begin, diag_be_rcpt,
                                                  diag_be_write, diag_be_commit, diag_be_abort, NULL };
    sys_timeout(250, diag_out_try, NULL);
    if (!id || identity_server_config(id, &diag_config) != 0)
        return PB_ETLS;
    struct altcp_pcb *l = altcp_tls_new(diag_config, IPADDR_TYPE_ANY);
    if (!l || altcp_bind(l, IP_ANY_TYPE, 443) != ERR_OK)
        return PB_EIO;
    struct altcp_pcb *listener = altcp_listen(l);
    if (!listener)
        return PB_ENOMEM;
    altcp_accept(listener, diag_accept);
    log_printf("diag: TLS echo listening on port 443");
    diag_smtp.tls = diag_config;
    if (smtp_server_start(&diag_smtp) == 0)
        log_printf("diag: SMTP listening on port 25");
    return 2;
}
