/*
 * smtp_server.c - SMTP sessions on altcp connections (see smtp_server.h).
 *
 * The connection plumbing (queued input, buffered replies, STARTTLS,
 * close) is net/conn.h's; while the reply buffer is more than half full no
 * further input is read.
 */
#include "smtp_server.h"

#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "dns.h"
#include "hal_clock.h"
#include "lwip/altcp.h"
#include "lwip/altcp_tcp.h"
#include "lwip/altcp_tls.h"
#include "pb_err.h"
#include "smtp_tally.h"
#include "tls.h"

struct smtp_conn {
    struct conn conn;               /* conn.pcb NULL: slot free */
    struct smtp_server_config *cfg;
    struct smtp_session session;
    char out[SMTP_SERVER_OUT_BYTES];
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

static err_t smtp_conn_process(void *slot);
static err_t smtp_conn_peer_closed(void *slot);
static err_t smtp_conn_close(void *slot);
static err_t smtp_conn_poll(void *slot, uint64_t now);
static void smtp_conn_reset(void *slot);
static void smtp_conn_tls_started(void *slot, struct altcp_pcb *pcb);

static const struct conn_ops smtp_conn_ops = {
    .name = "smtp",
    .unit = "sessions",
    .busy = "421 4.3.2 Too many connections, try again later\r\n",
    .poll_interval = 2,
    .sent_is_activity = false,  /* the command timeout counts from the last input */
    .process = smtp_conn_process,
    .peer_closed = smtp_conn_peer_closed,
    .close = smtp_conn_close,
    .poll = smtp_conn_poll,
    .reset = smtp_conn_reset,
    .tls_started = smtp_conn_tls_started,
};

int smtp_server_sessions_in_use(void)
{
    int n = 0;
    for (int i = 0; i < SMTP_SERVER_SESSIONS; i++)
        n += smtp_conns[i].conn.pcb != NULL;
    return n;
}

/* ------------------------------------------------------------- output --- */

static void smtp_conn_flush(struct smtp_conn *c)
{
    conn_flush(&c->conn);
}

/* The session's write callback.  A client that pipelines on and on
 * without reading a single reply overflows the buffer: it is not an SMTP
 * client, and the session ends rather than lose replies silently. */
static void smtp_conn_write(void *ctx, const char *s, size_t n)
{
    struct smtp_conn *c = ctx;
    conn_write(&c->conn, s, n);
}

/* ---------------------------------------------------------- lifecycle --- */

static void smtp_conn_rdns(int err, const struct dns_answer *ans, void *arg);

/* Let go of the connection (closed, or aborted); the slot is free. */
static err_t smtp_conn_release(struct smtp_conn *c, bool abort)
{
    if (c->rdns_pending)
        dns_cancel(smtp_conn_rdns, c);
    err_t err = conn_finish(&c->conn, abort);
    memset(c, 0, sizeof(*c));
    return err;
}

/* Close once every reply is handed to TCP.  Returns ERR_ABRT when the pcb
 * had to be aborted (callbacks must then return ERR_ABRT). */
static err_t smtp_conn_close(void *slot)
{
    struct smtp_conn *c = slot;
    c->conn.closing = true;
    smtp_conn_flush(c);
    if (c->conn.out_len > 0)
        return ERR_OK;              /* the sent callback comes back here */
    smtp_session_end(&c->session);
    conn_log(c->cfg->log, "smtp: session with %s closed, %lu message(s)",
                    c->session.peer_ip, c->session.messages);
    return smtp_conn_release(c, false);
}

static void smtp_conn_tls_started(void *slot, struct altcp_pcb *pcb)
{
    struct smtp_conn *c = slot;
    smtp_session_tls_started(&c->session, tls_version_name(pcb), tls_cipher_name(pcb));
}

/* The session said 220 to STARTTLS: drop what the client pipelined behind
 * the command (the plaintext-injection attack), then wrap the connection. */
static err_t smtp_conn_starttls(struct smtp_conn *c)
{
    if (!conn_starttls(&c->conn, c->cfg->tls)) {
        conn_log(c->cfg->log, "smtp: %s: STARTTLS failed (out of memory)", c->session.peer_ip);
        smtp_session_end(&c->session);
        return smtp_conn_close(c);
    }
    return ERR_OK;
}

/* Messages accepted today, for smtp_server_accepted_today(). */
static struct smtp_tally smtp_server_today;

unsigned long smtp_server_accepted_today(int64_t now_s)
{
    return smtp_tally_today(&smtp_server_today, now_s);
}

/* Feed queued input to the session while it can take it.  Returns
 * ERR_ABRT if the connection was aborted. */
static err_t smtp_conn_process(void *slot)
{
    struct smtp_conn *c = slot;
    if (c->rdns_pending)
        return ERR_OK;
    struct conn *k = &c->conn;
    if (c->cfg->implicit_tls && k->in && strcmp(c->session.tls_version, "none") == 0) {
        /* Data comes only after the handshake: now the names are known. */
        c->session.tls_version = tls_version_name(k->pcb);
        c->session.tls_cipher = tls_cipher_name(k->pcb);
    }
    unsigned long accepted = c->session.messages;
    while (k->in && !k->closing && k->out_len < sizeof(c->out) / 2 &&
           c->session.state != SMTP_STATE_STARTTLS) {
        size_t avail = k->in->len;
        size_t used = smtp_session_input(&c->session, (const uint8_t *)k->in->payload, avail);
        conn_consumed(k, used);
        if (c->session.state == SMTP_STATE_CLOSED || used < avail)
            break;
    }
    if (c->session.messages > accepted)
        smtp_tally_add(&smtp_server_today, c->session.messages - accepted, hal_clock_wall());
    if (k->overflow) {
        conn_log(c->cfg->log, "smtp: %s: dropped, it sends without reading replies",
                        c->session.peer_ip);
        smtp_session_end(&c->session);
        return smtp_conn_release(c, true);
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

/* The client closed (even while a reply is still going out): the
 * session ends now. */
static err_t smtp_conn_peer_closed(void *slot)
{
    struct smtp_conn *c = slot;
    smtp_session_end(&c->session);
    return smtp_conn_close(c);
}

static err_t smtp_conn_poll(void *slot, uint64_t now)
{
    struct smtp_conn *c = slot;
    if (c->session.state == SMTP_STATE_HOLD && c->resume_ms && now >= c->resume_ms) {
        /* The delay after a failed login is over (it never blocked the loop). */
        c->resume_ms = 0;
        smtp_session_resume(&c->session);
        c->conn.last_ms = hal_clock_ms();
        return smtp_conn_process(c);
    }
    uint32_t timeout = c->cfg->timeout ? c->cfg->timeout : SMTP_SERVER_CMD_TIMEOUT;
    if (now - c->conn.last_ms > timeout * 1000ull) {
        char buf[160];
        int n = snprintf(buf, sizeof(buf), "421 4.4.2 %s Timeout, closing the connection\r\n",
                         c->cfg->session.hostname);
        smtp_conn_write(c, buf, (size_t)n);
        conn_log(c->cfg->log, "smtp: %s: idle timeout", c->session.peer_ip);
        smtp_session_end(&c->session);
        return smtp_conn_close(c);
    }
    return ERR_OK;
}

static void smtp_conn_reset(void *slot)
{
    struct smtp_conn *c = slot;
    smtp_session_end(&c->session);
    conn_log(c->cfg->log, "smtp: session with %s reset", c->session.peer_ip);
    if (c->rdns_pending)
        dns_cancel(smtp_conn_rdns, c);
    memset(c, 0, sizeof(*c));
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
            smtp_session_tls_started(&c->session, tls_version_name(c->conn.pcb), tls_cipher_name(c->conn.pcb));
        conn_log(c->cfg->log, "smtp: session from %s on port %u", ip, c->cfg->port);
        return smtp_conn_process(c);
    }
    char buf[200];
    int n = verdict == SMTP_RDNS_NONE ?
        snprintf(buf, sizeof(buf), "554 5.7.25 %s No reverse DNS for %s: this server takes mail only "
                 "from hosts that have one\r\n", c->cfg->session.hostname, ip) :
        snprintf(buf, sizeof(buf), "421 4.7.25 %s Cannot check the reverse DNS of %s now; try again "
                 "later\r\n", c->cfg->session.hostname, ip);
    smtp_conn_write(c, buf, (size_t)n);
    conn_log(c->cfg->log, "smtp: %s: refused, %s (require-rdns on)", ip,
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
    err_t ret;
    int slot = conn_accept(&smtp_conn_ops, pcb, err, &smtp_conns[0].conn, sizeof(smtp_conns[0]),
                           SMTP_SERVER_SESSIONS, cfg->log, &ret);
    if (slot < 0)
        return ret;
    struct smtp_conn *c = &smtp_conns[slot];
    memset(c, 0, sizeof(*c));
    conn_init(&c->conn, pcb, c->out, sizeof(c->out));
    c->cfg = cfg;
    char ip[IPADDR_STRLEN_MAX];
    const ip_addr_t *peer = altcp_get_ip(pcb, 0);
    conn_peer(pcb, ip, sizeof(ip));
    conn_attach(&c->conn, pcb, &smtp_conn_ops, c);
    c->slot = slot;
    snprintf(c->session.peer_ip, sizeof(c->session.peer_ip), "%s", ip);
    if (cfg->require_rdns && peer) {
        c->rdns_pending = true;
        c->in_accept = true;
        int r = dns_query_ptr(peer, smtp_conn_rdns, c);
        c->in_accept = false;
        if (r == 0) {
            conn_log(cfg->log, "smtp: %s: checking reverse DNS", ip);
            return ERR_OK;      /* smtp_conn_rdns starts the session */
        }
        return smtp_conn_start(c, r == 1 ? c->rdns_verdict : SMTP_RDNS_TEMP);
    }
    return smtp_conn_start(c, SMTP_RDNS_UNKNOWN);
}

int smtp_server_start(struct smtp_server_config *cfg)
{
    /* STARTTLS is offered on a plain port with a certificate. */
    cfg->session.tls_available = cfg->tls != NULL && !cfg->implicit_tls;
    return conn_listen(cfg->port, cfg->tls, cfg->implicit_tls, smtp_server_accept, cfg);
}
