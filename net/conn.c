/*
 * conn.c - server connection plumbing (see conn.h), and the altcp
 * callbacks every service shares: each one forwards to the service's
 * conn_ops after the checks they all make.
 */
#include "conn.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hal_clock.h"
#include "lwip/altcp_tcp.h"
#include "lwip/altcp_tls.h"
#include "pb_err.h"
#include "tls.h"

static err_t conn_tls_up_cb(void *arg, struct altcp_pcb *pcb, err_t err);

int conn_listen(uint16_t port, struct altcp_tls_config *tls, bool implicit, altcp_accept_fn accept,
                void *arg)
{
    if (implicit && !tls)
        return PB_EINVAL;
    struct altcp_pcb *pcb = implicit ? altcp_tls_new(tls, IPADDR_TYPE_ANY) :
                                       altcp_tcp_new_ip_type(IPADDR_TYPE_ANY);
    if (!pcb)
        return PB_ENOMEM;
    if (altcp_bind(pcb, IP_ANY_TYPE, port) != ERR_OK) {
        altcp_close(pcb);
        return PB_EBUSY;
    }
    struct altcp_pcb *l = altcp_listen(pcb);
    if (!l) {
        altcp_close(pcb);
        return PB_ENOMEM;
    }
    altcp_arg(l, arg);
    altcp_accept(l, accept);
    return 0;
}

err_t conn_refuse(struct altcp_pcb *pcb, const char *line)
{
    altcp_write(pcb, line, (u16_t)strlen(line), TCP_WRITE_FLAG_COPY);
    altcp_output(pcb);
    if (altcp_close(pcb) != ERR_OK) {
        altcp_abort(pcb);
        return ERR_ABRT;
    }
    return ERR_OK;
}

void conn_peer(struct altcp_pcb *pcb, char *buf, size_t cap)
{
    const ip_addr_t *peer = altcp_get_ip(pcb, 0);
    if (!peer || !ipaddr_ntoa_r(peer, buf, (int)cap))
        snprintf(buf, cap, "unknown");
}

void conn_init(struct conn *c, struct altcp_pcb *pcb, char *out, size_t cap)
{
    memset(c, 0, sizeof(*c));
    c->pcb = pcb;
    c->out = out;
    c->out_cap = cap;
    c->last_ms = hal_clock_ms();
}

void conn_flush(struct conn *c)
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

void conn_write(struct conn *c, const char *s, size_t n)
{
    if (c->out_len + n > c->out_cap) {
        conn_flush(c);
        if (c->out_len + n > c->out_cap) {
            c->overflow = true;
            return;
        }
    }
    memcpy(c->out + c->out_len, s, n);
    c->out_len += n;
}

void conn_received(struct conn *c, struct pbuf *p)
{
    c->last_ms = hal_clock_ms();
    if (c->in)
        pbuf_cat(c->in, p);     /* p is ours now, chained behind */
    else
        c->in = p;
}

void conn_consumed(struct conn *c, size_t n)
{
    if (n == 0)
        return;
    altcp_recved(c->pcb, (u16_t)n);
    /* Whole pbufs are freed, a partly read one keeps its unread tail. */
    c->in = pbuf_free_header(c->in, (u16_t)n);
}

struct altcp_pcb *conn_starttls(struct conn *c, struct altcp_tls_config *tls)
{
    if (c->in) {
        altcp_recved(c->pcb, c->in->tot_len);
        pbuf_free(c->in);
        c->in = NULL;
    }
    conn_flush(c);
    struct altcp_pcb *t = altcp_tls_wrap(tls, c->pcb);
    if (!t)
        return NULL;
    c->pcb = t;
    conn_attach(c, t, c->ops, c->slot);
    tls_on_handshake(t, conn_tls_up_cb);
    return t;
}

void conn_discard(struct altcp_pcb *pcb, struct pbuf *p)
{
    if (p) {
        altcp_recved(pcb, p->tot_len);
        pbuf_free(p);
    }
}

void conn_log(void (*sink)(const char *line), const char *fmt, ...)
{
    char line[200];
    va_list ap;
    if (!sink)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    sink(line);
}

void conn_forget(struct conn *c)
{
    if (c->in)
        pbuf_free(c->in);
    c->in = NULL;
    c->pcb = NULL;
}

err_t conn_finish(struct conn *c, bool abort)
{
    struct altcp_pcb *pcb = c->pcb;
    if (c->in)
        pbuf_free(c->in);
    c->in = NULL;
    c->pcb = NULL;
    if (!pcb)
        return ERR_OK;
    altcp_arg(pcb, NULL);
    altcp_recv(pcb, NULL);
    altcp_sent(pcb, NULL);
    altcp_poll(pcb, NULL, 0);
    altcp_err(pcb, NULL);
    if (!abort && altcp_close(pcb) == ERR_OK)
        return ERR_OK;
    altcp_abort(pcb);
    return ERR_ABRT;
}

/* ---------------------------------------------------------- callbacks --- */

static err_t conn_recv_cb(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct conn *c = arg;
    (void)err;
    if (!c) {
        conn_discard(pcb, p);
        return ERR_OK;
    }
    if (!p) {
        /* The client closed: what it sent before still counts (a QUIT
         * with its UPDATE, a pipelined request). */
        void *slot = c->slot;
        const struct conn_ops *ops = c->ops;
        if (ops->process(slot) == ERR_ABRT)
            return ERR_ABRT;
        if (!c->pcb)
            return ERR_OK;
        return ops->peer_closed(slot);
    }
    conn_received(c, p);
    return c->ops->process(c->slot);
}

static err_t conn_sent_cb(void *arg, struct altcp_pcb *pcb, u16_t len)
{
    struct conn *c = arg;
    (void)pcb;
    (void)len;
    if (!c)
        return ERR_OK;
    if (c->ops->sent_is_activity)
        c->last_ms = hal_clock_ms();    /* a long download to a slow client is not idle */
    if (c->closing)
        return c->ops->close(c->slot);
    conn_flush(c);
    return c->ops->process(c->slot);
}

static err_t conn_poll_cb(void *arg, struct altcp_pcb *pcb)
{
    struct conn *c = arg;
    (void)pcb;
    if (!c)
        return ERR_OK;
    if (c->closing)
        return c->ops->close(c->slot);
    return c->ops->poll(c->slot, hal_clock_ms());
}

static void conn_err_cb(void *arg, err_t err)
{
    struct conn *c = arg;
    (void)err;
    if (!c)
        return;
    /* The pcb is gone already: forget it before the service ends its
     * session, so nothing the session writes can reach it. */
    void *slot = c->slot;
    const struct conn_ops *ops = c->ops;
    conn_forget(c);
    ops->reset(slot);
}

static err_t conn_tls_up_cb(void *arg, struct altcp_pcb *pcb, err_t err)
{
    struct conn *c = arg;
    if (!c || err != ERR_OK)
        return ERR_OK;
    if (c->ops->tls_started)
        c->ops->tls_started(c->slot, pcb);
    c->last_ms = hal_clock_ms();
    return c->ops->process(c->slot);
}

void conn_attach(struct conn *c, struct altcp_pcb *pcb, const struct conn_ops *ops, void *slot)
{
    c->ops = ops;
    c->slot = slot;
    altcp_arg(pcb, c);
    altcp_recv(pcb, conn_recv_cb);
    altcp_sent(pcb, conn_sent_cb);
    altcp_err(pcb, conn_err_cb);
    altcp_poll(pcb, conn_poll_cb, ops->poll_interval);
}

int conn_accept(const struct conn_ops *ops, struct altcp_pcb *pcb, err_t err, struct conn *first,
                size_t stride, int count, void (*log)(const char *line), err_t *ret)
{
    if (err != ERR_OK || !pcb) {
        *ret = ERR_VAL;
        return -1;
    }
    for (int i = 0; first && i < count; i++) {
        const struct conn *c = (const struct conn *)((const char *)first + (size_t)i * stride);
        if (!c->pcb)
            return i;
    }
    /* Pool empty: say so and hang up, leaving the others alone. */
    conn_log(log, "%s: connection refused, %d %s busy", ops->name, count, ops->unit);
    *ret = conn_refuse(pcb, ops->busy);
    return -1;
}
