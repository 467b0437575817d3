/*
 * conn.c - server connection plumbing (see conn.h).
 */
#include "conn.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hal_clock.h"
#include "lwip/altcp_tcp.h"
#include "lwip/altcp_tls.h"
#include "pb_err.h"

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
    if (t)
        c->pcb = t;
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
