/*
 * smtp_server.c - SMTP sessions on altcp connections (see smtp_server.h).
 *
 * Ownership of received data: a pbuf handed to smtp_conn_recv() is ours;
 * it waits in conn->in until the session has read it, and only then is
 * the TCP window reopened (altcp_recved), so a client that sends faster
 * than the flash takes it is slowed down, not buffered without bound.
 * Replies collect in conn->out and go out as the send buffer allows; while
 * conn->out is more than half full no further input is read.
 */
#include "smtp_server.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dns.h"
#include "hal_clock.h"
#include "lwip/altcp.h"
#include "lwip/altcp_tcp.h"
#include "lwip/altcp_tls.h"
#include "pb_err.h"
#include "tls.h"

struct smtp_conn {
    struct altcp_pcb *pcb;          /* NULL: slot free */
    struct smtp_server_config *cfg;
    struct smtp_session session;
    struct pbuf *in;                /* received, not yet read by the session */
    char out[SMTP_SERVER_OUT_BYTES];
    size_t out_len;
    uint64_t last_ms;               /* last activity, for the idle timeout */
    bool closing;
    bool overflow;                  /* a reply did not fit: the session is dropped */
    /* require-rdns: the greeting waits for the PTR lookup (input stays
     * queued, unread, meanwhile). */
    bool rdns_pending;
    bool in_accept;                 /* the lookup may answer from the cache at once */
    int rdns_verdict;               /* SMTP_RDNS_* once known in accept */
    int slot;
    uint64_t resume_ms;             /* SMTP_STATE_HOLD: when the 535 goes out; 0 unset */
};

enum { SMTP_RDNS_UNKNOWN = 0, SMTP_RDNS_OK, SMTP_RDNS_NONE, SMTP_RDNS_TEMP };

static struct smtp_conn smtp_conns[SMTP_SERVER_SESSIONS];

static err_t smtp_conn_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err);
static err_t smtp_conn_sent(void *arg, struct altcp_pcb *pcb, u16_t len);
static err_t smtp_conn_poll(void *arg, struct altcp_pcb *pcb);
static void smtp_conn_err(void *arg, err_t err);
static err_t smtp_conn_process(struct smtp_conn *c);

static void smtp_server_log(struct smtp_server_config *cfg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void smtp_server_log(struct smtp_server_config *cfg, const char *fmt, ...)
{
    char line[200];
    va_list ap;
    if (!cfg->log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    cfg->log(line);
}

int smtp_server_sessions_in_use(void)
{
    int n = 0;
    for (int i = 0; i < SMTP_SERVER_SESSIONS; i++)
        n += smtp_conns[i].pcb != NULL;
    return n;
}

/* ------------------------------------------------------------- output --- */

static void smtp_conn_flush(struct smtp_conn *c)
{
    if (!c->pcb || c->out_len == 0)
        return;
    size_t room = altcp_sndbuf(c->pcb);
    size_t n = c->out_len < room ? c->out_len : room;
    if (n > 0 && altcp_write(c->pcb, c->out, (u16_t)n, TCP_WRITE_FLAG_COPY) == ERR_OK) {
        memmove(c->out, c->out + n, c->out_len - n);
        c->out_len -= n;
    }
    altcp_output(c->pcb);
}

/* The session's write callback. */
static void smtp_conn_write(void *ctx, const char *s, size_t n)
{
    struct smtp_conn *c = ctx;
    if (c->out_len + n > sizeof(c->out)) {
        smtp_conn_flush(c);
        if (c->out_len + n > sizeof(c->out)) {
            /* The client pipelines on and on without reading a single
             * reply, and TCP's send buffer is full too: it is not an SMTP
             * client.  The session ends; replies are not silently lost. */
            c->overflow = true;
            return;
        }
    }
    memcpy(c->out + c->out_len, s, n);
    c->out_len += n;
}

/* ---------------------------------------------------------- lifecycle --- */

static void smtp_conn_rdns(int err, const struct dns_answer *ans, void *arg);

static void smtp_conn_free(struct smtp_conn *c)
{
    if (c->rdns_pending)
        dns_cancel(smtp_conn_rdns, c);
    if (c->in)
        pbuf_free(c->in);
    memset(c, 0, sizeof(*c));
}

/* Close once every reply is handed to TCP.  Returns ERR_ABRT when the pcb
 * had to be aborted (callbacks must then return ERR_ABRT). */
static err_t smtp_conn_close(struct smtp_conn *c)
{
    c->closing = true;
    smtp_conn_flush(c);
    if (c->out_len > 0)
        return ERR_OK;              /* the sent callback comes back here */
    struct altcp_pcb *pcb = c->pcb;
    smtp_session_end(&c->session);
    smtp_server_log(c->cfg, "smtp: session with %s closed, %lu message(s)",
                    c->session.peer_ip, c->session.messages);
    altcp_arg(pcb, NULL);
    altcp_recv(pcb, NULL);
    altcp_sent(pcb, NULL);
    altcp_poll(pcb, NULL, 0);
    altcp_err(pcb, NULL);
    smtp_conn_free(c);
    if (altcp_close(pcb) != ERR_OK) {
        altcp_abort(pcb);
        return ERR_ABRT;
    }
    return ERR_OK;
}

static void smtp_conn_callbacks(struct smtp_conn *c, struct altcp_pcb *pcb)
{
    altcp_arg(pcb, c);
    altcp_recv(pcb, smtp_conn_recv);
    altcp_sent(pcb, smtp_conn_sent);
    altcp_err(pcb, smtp_conn_err);
    altcp_poll(pcb, smtp_conn_poll, 2);
}

static err_t smtp_conn_tls_up(void *arg, struct altcp_pcb *pcb, err_t err)
{
    struct smtp_conn *c = arg;
    if (!c || err != ERR_OK)
        return ERR_OK;
    smtp_session_tls_started(&c->session, tls_version_name(pcb), tls_cipher_name(pcb));
    c->last_ms = hal_clock_ms();
    return smtp_conn_process(c);
}

/* The session said 220 to STARTTLS: drop what the client pipelined behind
 * the command (the plaintext-injection attack), then wrap the connection. */
static err_t smtp_conn_starttls(struct smtp_conn *c)
{
    if (c->in) {
        altcp_recved(c->pcb, c->in->tot_len);
        pbuf_free(c->in);
        c->in = NULL;
    }
    smtp_conn_flush(c);
    struct altcp_pcb *tls = altcp_tls_wrap(c->cfg->tls, c->pcb);
    if (!tls) {
        smtp_server_log(c->cfg, "smtp: %s: STARTTLS failed (out of memory)", c->session.peer_ip);
        smtp_session_end(&c->session);
        return smtp_conn_close(c);
    }
    c->pcb = tls;
    smtp_conn_callbacks(c, tls);
    tls_on_handshake(tls, smtp_conn_tls_up);
    return ERR_OK;
}

/* Feed queued input to the session while it can take it.  Returns
 * ERR_ABRT if the connection was aborted. */
static err_t smtp_conn_process(struct smtp_conn *c)
{
    if (c->rdns_pending)
        return ERR_OK;
    if (c->cfg->implicit_tls && c->in && strcmp(c->session.tls_version, "none") == 0) {
        /* Data comes only after the handshake: now the names are known. */
        c->session.tls_version = tls_version_name(c->pcb);
        c->session.tls_cipher = tls_cipher_name(c->pcb);
    }
    while (c->in && !c->closing && c->out_len < sizeof(c->out) / 2 &&
           c->session.state != SMTP_STATE_STARTTLS) {
        size_t avail = c->in->len;
        size_t used = smtp_session_input(&c->session, (const uint8_t *)c->in->payload, avail);
        if (used > 0) {
            altcp_recved(c->pcb, (u16_t)used);
            /* Drops what was read: whole pbufs are freed, a partly read
             * one keeps its unread tail. */
            c->in = pbuf_free_header(c->in, (u16_t)used);
        }
        if (c->session.state == SMTP_STATE_CLOSED || used < avail)
            break;
    }
    if (c->overflow) {
        struct altcp_pcb *pcb = c->pcb;
        smtp_server_log(c->cfg, "smtp: %s: dropped, it sends without reading replies",
                        c->session.peer_ip);
        smtp_session_end(&c->session);
        altcp_arg(pcb, NULL);
        smtp_conn_free(c);
        altcp_abort(pcb);
        return ERR_ABRT;
    }
    if (c->session.state == SMTP_STATE_HOLD && c->resume_ms == 0)
        c->resume_ms = hal_clock_ms() + SMTP_SERVER_AUTH_DELAY_MS;
    if (c->session.state == SMTP_STATE_STARTTLS && c->cfg->tls)
        return smtp_conn_starttls(c);
    smtp_conn_flush(c);
    if (c->session.state == SMTP_STATE_CLOSED)
        return smtp_conn_close(c);
    return ERR_OK;
}

/* ---------------------------------------------------------- callbacks --- */

static err_t smtp_conn_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct smtp_conn *c = arg;
    (void)err;
    if (!c) {
        if (p) {
            altcp_recved(pcb, p->tot_len);
            pbuf_free(p);
        }
        return ERR_OK;
    }
    if (!p) {
        /* The client closed: what it sent before still counts. */
        if (smtp_conn_process(c) == ERR_ABRT)
            return ERR_ABRT;
        if (c->pcb) {
            smtp_session_end(&c->session);
            return smtp_conn_close(c);
        }
        return ERR_OK;
    }
    c->last_ms = hal_clock_ms();
    if (c->in)
        pbuf_cat(c->in, p);     /* p is ours now, chained behind */
    else
        c->in = p;
    return smtp_conn_process(c);
}

static err_t smtp_conn_sent(void *arg, struct altcp_pcb *pcb, u16_t len)
{
    struct smtp_conn *c = arg;
    (void)pcb;
    (void)len;
    if (!c)
        return ERR_OK;
    if (c->closing)
        return smtp_conn_close(c);
    smtp_conn_flush(c);
    return smtp_conn_process(c);
}

static err_t smtp_conn_poll(void *arg, struct altcp_pcb *pcb)
{
    struct smtp_conn *c = arg;
    (void)pcb;
    if (!c)
        return ERR_OK;
    if (c->closing)
        return smtp_conn_close(c);
    if (c->session.state == SMTP_STATE_HOLD && c->resume_ms && hal_clock_ms() >= c->resume_ms) {
        /* The delay after a failed login is over (it never blocked the loop). */
        c->resume_ms = 0;
        smtp_session_resume(&c->session);
        c->last_ms = hal_clock_ms();
        return smtp_conn_process(c);
    }
    uint32_t timeout = c->cfg->timeout ? c->cfg->timeout : SMTP_SERVER_CMD_TIMEOUT;
    if (hal_clock_ms() - c->last_ms > timeout * 1000ull) {
        char buf[160];
        int n = snprintf(buf, sizeof(buf), "421 4.4.2 %s Timeout, closing the connection\r\n",
                         c->cfg->session.hostname);
        smtp_conn_write(c, buf, (size_t)n);
        smtp_server_log(c->cfg, "smtp: %s: idle timeout", c->session.peer_ip);
        smtp_session_end(&c->session);
        return smtp_conn_close(c);
    }
    return ERR_OK;
}

static void smtp_conn_err(void *arg, err_t err)
{
    struct smtp_conn *c = arg;
    (void)err;
    if (!c)
        return;
    /* The pcb is gone already. */
    smtp_session_end(&c->session);
    smtp_server_log(c->cfg, "smtp: session with %s reset", c->session.peer_ip);
    smtp_conn_free(c);
}

/* What a PTR answer means for require-rdns: a name (OK), no name
 * (NXDOMAIN or no PTR record), or no way to tell now (timeout, SERVFAIL). */
static int smtp_rdns_verdict(int err, const struct dns_answer *ans)
{
    if (err < 0 || !ans)
        return SMTP_RDNS_TEMP;
    if (ans->rcode == DNS_RCODE_NXDOMAIN)
        return SMTP_RDNS_NONE;
    if (ans->rcode != DNS_RCODE_NOERROR)
        return SMTP_RDNS_TEMP;
    for (int i = 0; i < ans->count; i++)
        if (ans->rr[i].type == DNS_T_PTR)
            return SMTP_RDNS_OK;
    return SMTP_RDNS_NONE;
}

/* The session proper starts (greeting), or the peer is turned away. */
static err_t smtp_conn_start(struct smtp_conn *c, int verdict)
{
    char ip[sizeof(c->session.peer_ip)];
    strcpy(ip, c->session.peer_ip);
    c->rdns_pending = false;
    if (verdict == SMTP_RDNS_OK || verdict == SMTP_RDNS_UNKNOWN) {
        smtp_session_init(&c->session, &c->cfg->session, &c->cfg->backends[c->slot], smtp_conn_write,
                          c, ip);
        if (c->cfg->implicit_tls)   /* names filled in once the handshake is done */
            smtp_session_tls_started(&c->session, tls_version_name(c->pcb), tls_cipher_name(c->pcb));
        smtp_server_log(c->cfg, "smtp: session from %s on port %u", ip, c->cfg->port);
        return smtp_conn_process(c);
    }
    char buf[200];
    int n = verdict == SMTP_RDNS_NONE ?
        snprintf(buf, sizeof(buf), "554 5.7.25 %s No reverse DNS for %s: this server takes mail only "
                 "from hosts that have one\r\n", c->cfg->session.hostname, ip) :
        snprintf(buf, sizeof(buf), "421 4.7.25 %s Cannot check the reverse DNS of %s now; try again "
                 "later\r\n", c->cfg->session.hostname, ip);
    smtp_conn_write(c, buf, (size_t)n);
    smtp_server_log(c->cfg, "smtp: %s: refused, %s (require-rdns on)", ip,
                    verdict == SMTP_RDNS_NONE ? "no reverse DNS" : "reverse DNS lookup failed");
    return smtp_conn_close(c);
}

static void smtp_conn_rdns(int err, const struct dns_answer *ans, void *arg)
{
    struct smtp_conn *c = arg;
    int verdict = smtp_rdns_verdict(err, ans);
    if (c->in_accept) {
        c->rdns_verdict = verdict;     /* accept goes on with it */
        return;
    }
    c->rdns_pending = false;
    smtp_conn_start(c, verdict);    /* an abort here leaves nothing for us to do */
}

static err_t smtp_server_accept(void *arg, struct altcp_pcb *pcb, err_t err)
{
    struct smtp_server_config *cfg = arg;
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    struct smtp_conn *c = NULL;
    int slot = 0;
    for (; slot < SMTP_SERVER_SESSIONS; slot++) {
        if (!smtp_conns[slot].pcb) {
            c = &smtp_conns[slot];
            break;
        }
    }
    if (!c) {
        /* Pool empty: say so and hang up, leaving the others alone. */
        static const char busy[] = "421 4.3.2 Too many connections, try again later\r\n";
        altcp_write(pcb, busy, sizeof(busy) - 1, TCP_WRITE_FLAG_COPY);
        altcp_output(pcb);
        if (altcp_close(pcb) != ERR_OK) {
            altcp_abort(pcb);
            return ERR_ABRT;
        }
        smtp_server_log(cfg, "smtp: connection refused, %d sessions busy", SMTP_SERVER_SESSIONS);
        return ERR_OK;
    }
    memset(c, 0, sizeof(*c));
    c->pcb = pcb;
    c->cfg = cfg;
    c->last_ms = hal_clock_ms();
    char ip[IPADDR_STRLEN_MAX];
    const ip_addr_t *peer = altcp_get_ip(pcb, 0);
    if (!peer || !ipaddr_ntoa_r(peer, ip, sizeof(ip)))
        strcpy(ip, "unknown");
    smtp_conn_callbacks(c, pcb);
    c->slot = slot;
    snprintf(c->session.peer_ip, sizeof(c->session.peer_ip), "%s", ip);
    if (cfg->require_rdns && peer) {
        c->rdns_pending = true;
        c->in_accept = true;
        int r = dns_query_ptr(peer, smtp_conn_rdns, c);
        c->in_accept = false;
        if (r == 0) {
            smtp_server_log(cfg, "smtp: %s: checking reverse DNS", ip);
            return ERR_OK;      /* smtp_conn_rdns starts the session */
        }
        return smtp_conn_start(c, r == 1 ? c->rdns_verdict : SMTP_RDNS_TEMP);
    }
    return smtp_conn_start(c, SMTP_RDNS_UNKNOWN);
}

int smtp_server_start(struct smtp_server_config *cfg)
{
    if (cfg->implicit_tls && !cfg->tls)
        return PB_EINVAL;
    /* STARTTLS is offered on a plain port with a certificate. */
    cfg->session.tls_available = cfg->tls != NULL && !cfg->implicit_tls;
    struct altcp_pcb *pcb = cfg->implicit_tls ? altcp_tls_new(cfg->tls, IPADDR_TYPE_ANY) :
                                                altcp_tcp_new_ip_type(IPADDR_TYPE_ANY);
    if (!pcb)
        return PB_ENOMEM;
    if (altcp_bind(pcb, IP_ANY_TYPE, cfg->port) != ERR_OK) {
        altcp_close(pcb);
        return PB_EBUSY;
    }
    struct altcp_pcb *l = altcp_listen(pcb);
    if (!l) {
        altcp_close(pcb);
        return PB_ENOMEM;
    }
    altcp_arg(l, cfg);
    altcp_accept(l, smtp_server_accept);
    return 0;
}
