/*
 * dns.c - the stub resolver over lwIP's raw UDP and TCP (see dns.h).
 *
 * A query is a slot of a fixed table that moves UDP -> (TCP) -> free.  The
 * callbacks of lwIP only find the slot and hand over to dns_on_answer(),
 * which decides: ignore (not ours), retry elsewhere, switch to TCP, or
 * finish.  Finishing frees the slot before the user's callback runs, so
 * the callback may ask again at once.
 */
#include "dns.h"

#include <stdio.h>
#include <string.h>

#include "hal_clock.h"
#include "hal_rng.h"
#include "lwip/ip_addr.h"
#include "lwip/dns.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"
#include "pb_err.h"

#define DNS_TICK_MS 100

enum dns_state { DNS_FREE, DNS_UDP, DNS_TCP };

struct dns_server {
    ip_addr_t addr;
    uint16_t port;
};

struct dns_query {
    enum dns_state state;
    uint16_t type;
    bool edns;
    bool saw_corrupt;         /* a malformed answer came from the server */
    dns_cb cb;
    void *arg;
    char name[DNS_NAME_TEXT_MAX + 2];
    uint8_t query[DNS_MSG_QUERY_MAX];
    uint16_t qlen;
    int attempt, attempts;    /* attempt i asks server i % nservers */
    struct dns_server srv;    /* the server of this attempt */
    uint64_t deadline;        /* hal_clock_ms() when this attempt times out */
    struct udp_pcb *udp;
    struct tcp_pcb *tcp;
    size_t got;               /* TCP: bytes of buf read (2-byte length first) */
    uint8_t buf[DNS_MSG_BUF];
};

struct dns_cache_entry {
    bool valid;
    uint16_t type;
    char name[DNS_NAME_TEXT_MAX + 2];   /* lower case, no trailing dot */
    uint64_t stored_ms, expires_ms, used_ms;
    struct dns_answer ans;
};

static struct {
    struct dns_query q[PB_DNS_QUERIES];
    struct dns_cache_entry cache[PB_DNS_CACHE_ENTRIES];
    struct dns_server servers[DNS_SERVERS_MAX];
    int nservers;                       /* 0: lwIP's (DHCP) servers */
    bool ticking;
    unsigned long hits, misses;
    struct dns_answer scratch;          /* the answer being delivered */
} dns;

static void dns_tick(void *arg);
static void dns_attempt(struct dns_query *q);
static void dns_finish(struct dns_query *q, int err, const struct dns_answer *ans);
static err_t dns_tcp_connected(void *arg, struct tcp_pcb *pcb, err_t e);
static err_t dns_tcp_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t e);
static void dns_tcp_err(void *arg, err_t e);

/* -------------------------------------------------------------- servers --- */

/* One IP[:PORT] entry of len bytes. */
static int dns_server_parse(const char *s, size_t len, struct dns_server *out)
{
    char addr[DNS_SERVER_TEXT_MAX];
    const char *port = NULL;
    size_t alen = len;
    if (len == 0 || len >= sizeof(addr))
        return PB_EINVAL;
    size_t colons = 0;
    for (size_t i = 0; i < len; i++)
        colons += s[i] == ':';
    if (s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close)
            return PB_EINVAL;
        alen = (size_t)(close - s) - 1;
        memcpy(addr, s + 1, alen);
        if (close + 1 < s + len) {
            if (close[1] != ':')
                return PB_EINVAL;
            port = close + 2;
        }
    } else {
        if (colons == 1) {
            const char *c = memchr(s, ':', len);
            alen = (size_t)(c - s);
            port = c + 1;
        }
        memcpy(addr, s, alen);
    }
    addr[alen] = '\0';
    out->port = 53;
    if (port) {
        unsigned long v = 0;
        const char *end = s + len;
        if (port >= end || end - port > 5)
            return PB_EINVAL;
        for (const char *p = port; p < end; p++) {
            if (*p < '0' || *p > '9')
                return PB_EINVAL;
            v = v * 10 + (unsigned long)(*p - '0');
        }
        if (v == 0 || v > 65535)
            return PB_EINVAL;
        out->port = (uint16_t)v;
    }
    if (!ipaddr_aton(addr, &out->addr) || ip_addr_isany(&out->addr))
        return PB_EINVAL;
    return 0;
}

/* The list into out[]; returns the count or a negative PB_E*. */
static int dns_servers_parse(const char *list, struct dns_server out[DNS_SERVERS_MAX])
{
    int n = 0;
    const char *p = list;
    while (*p == ' ' || *p == ',')
        p++;
    if (strcmp(p, "auto") == 0)
        return 0;
    while (*p) {
        size_t len = strcspn(p, " ,");
        if (n == DNS_SERVERS_MAX)
            return PB_ERANGE;
        int err = dns_server_parse(p, len, &out[n]);
        if (err)
            return err;
        n++;
        p += len;
        while (*p == ' ' || *p == ',')
            p++;
    }
    return n;
}

int dns_servers_valid(const char *list)
{
    struct dns_server s[DNS_SERVERS_MAX];
    int n = dns_servers_parse(list, s);
    return n < 0 ? n : 0;
}

int dns_set_servers(const char *list)
{
    struct dns_server s[DNS_SERVERS_MAX];
    int n = dns_servers_parse(list, s);
    if (n < 0)
        return n;
    memcpy(dns.servers, s, sizeof(s));
    dns.nservers = n;
    /* Another resolver may well answer differently. */
    dns_cache_flush();
    return 0;
}

/* The servers in use now: ours, or lwIP's. */
static int dns_servers_current(struct dns_server out[DNS_SERVERS_MAX])
{
    if (dns.nservers) {
        memcpy(out, dns.servers, sizeof(dns.servers));
        return dns.nservers;
    }
    int n = 0;
    for (u8_t i = 0; i < DNS_MAX_SERVERS && n < DNS_SERVERS_MAX; i++) {
        const ip_addr_t *a = dns_getserver(i);
        if (a && !ip_addr_isany(a)) {
            ip_addr_copy(out[n].addr, *a);
            out[n].port = 53;
            n++;
        }
    }
    return n;
}

int dns_servers_text(char *buf, size_t cap)
{
    struct dns_server s[DNS_SERVERS_MAX];
    int n = dns_servers_current(s);
    size_t len = 0;
    if (cap == 0)
        return 0;
    buf[0] = '\0';
    for (int i = 0; i < n && len + DNS_SERVER_TEXT_MAX + 1 < cap; i++) {
        char a[IPADDR_STRLEN_MAX];
        ipaddr_ntoa_r(&s[i].addr, a, sizeof(a));
        bool v6 = IP_IS_V6(&s[i].addr);
        if (len)
            buf[len++] = ' ';
        if (s[i].port == 53)
            len += (size_t)snprintf(buf + len, cap - len, "%s", a);
        else
            len += (size_t)snprintf(buf + len, cap - len, v6 ? "[%s]:%u" : "%s:%u", a,
                                    (unsigned)s[i].port);
    }
    /* lwIP writes IPv6 in upper case; RFC 5952 asks for lower. */
    for (size_t i = 0; i < len && i < cap; i++)
        if (buf[i] >= 'A' && buf[i] <= 'F')
            buf[i] = (char)(buf[i] + 32);
    if (n == 0)
        len = (size_t)snprintf(buf, cap, "none");
    else if (!dns.nservers && len + 7 < cap)
        len += (size_t)snprintf(buf + len, cap - len, " (dhcp)");
    return (int)(len < cap ? len : cap - 1);
}

/* ---------------------------------------------------------------- cache --- */

static void dns_lower(char *dst, const char *src, size_t cap)
{
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++)
        dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char)(src[i] + 32) : src[i];
    /* "example.com." and "example.com" are one name. */
    if (i > 1 && dst[i - 1] == '.')
        i--;
    dst[i] = '\0';
}

static struct dns_cache_entry *dns_cache_find(const char *key, uint16_t type, uint64_t now)
{
    for (int i = 0; i < PB_DNS_CACHE_ENTRIES; i++) {
        struct dns_cache_entry *e = &dns.cache[i];
        if (!e->valid)
            continue;
        if (now >= e->expires_ms) {
            e->valid = false;
            continue;
        }
        if (e->type == type && strcmp(e->name, key) == 0)
            return e;
    }
    return NULL;
}

/* How long ans may be kept, in seconds (0: not at all). */
static uint32_t dns_cache_ttl(const struct dns_answer *ans)
{
    if (ans->tc || ans->clipped)
        return 0;
    bool has_type = false;
    uint32_t ttl = DNS_CACHE_TTL_MAX;
    for (int i = 0; i < ans->count; i++) {
        if (ans->rr[i].ttl < ttl)
            ttl = ans->rr[i].ttl;
        has_type |= ans->rr[i].type == ans->qtype;
    }
    if (ans->rcode == DNS_RCODE_NOERROR && has_type)
        return ttl;
    if (ans->rcode == DNS_RCODE_NXDOMAIN || ans->rcode == DNS_RCODE_NOERROR) {
        /* RFC 2308: negative answers live as long as the SOA says, and are
         * not cached without one. */
        if (!ans->has_soa)
            return 0;
        uint32_t neg = ans->neg_ttl < DNS_NEG_TTL_MAX ? ans->neg_ttl : DNS_NEG_TTL_MAX;
        return neg < ttl ? neg : ttl;
    }
    return 0;
}

static void dns_cache_put(const char *key, uint16_t type, const struct dns_answer *ans)
{
    uint32_t ttl = dns_cache_ttl(ans);
    if (ttl == 0)
        return;
    uint64_t now = hal_clock_ms();
    struct dns_cache_entry *e = dns_cache_find(key, type, now);
    for (int i = 0; !e && i < PB_DNS_CACHE_ENTRIES; i++)
        if (!dns.cache[i].valid)
            e = &dns.cache[i];
    if (!e) {
        /* Full: the least recently used goes. */
        e = &dns.cache[0];
        for (int i = 1; i < PB_DNS_CACHE_ENTRIES; i++)
            if (dns.cache[i].used_ms < e->used_ms)
                e = &dns.cache[i];
    }
    e->valid = true;
    e->type = type;
    strcpy(e->name, key);
    e->stored_ms = e->used_ms = now;
    e->expires_ms = now + (uint64_t)ttl * 1000u;
    e->ans = *ans;
}

void dns_cache_flush(void)
{
    for (int i = 0; i < PB_DNS_CACHE_ENTRIES; i++)
        dns.cache[i].valid = false;
}

void dns_stats(struct dns_stats *st)
{
    memset(st, 0, sizeof(*st));
    uint64_t now = hal_clock_ms();
    st->queries_max = PB_DNS_QUERIES;
    st->cache_max = PB_DNS_CACHE_ENTRIES;
    for (int i = 0; i < PB_DNS_QUERIES; i++)
        st->in_flight += dns.q[i].state != DNS_FREE;
    for (int i = 0; i < PB_DNS_CACHE_ENTRIES; i++)
        st->cached += dns.cache[i].valid && now < dns.cache[i].expires_ms;
    st->hits = dns.hits;
    st->misses = dns.misses;
}

/* ------------------------------------------------------------ transport --- */

static void dns_tcp_drop(struct dns_query *q)
{
    if (!q->tcp)
        return;
    struct tcp_pcb *pcb = q->tcp;
    q->tcp = NULL;
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_err(pcb, NULL);
    tcp_sent(pcb, NULL);
    if (tcp_close(pcb) != ERR_OK)
        tcp_abort(pcb);
}

static void dns_release(struct dns_query *q)
{
    dns_tcp_drop(q);
    if (q->udp) {
        udp_remove(q->udp);
        q->udp = NULL;
    }
    q->state = DNS_FREE;
}

/* Free the slot, then tell the user. */
static void dns_finish(struct dns_query *q, int err, const struct dns_answer *ans)
{
    dns_cb cb = q->cb;
    void *arg = q->arg;
    dns_release(q);
    if (cb)
        cb(err, err ? NULL : ans, arg);
}

/* The next attempt, or the end of the query with err. */
static void dns_next(struct dns_query *q, int err)
{
    dns_tcp_drop(q);
    q->state = DNS_UDP;
    if (++q->attempt >= q->attempts) {
        dns_finish(q, q->saw_corrupt && err == PB_ETIMEDOUT ? PB_ECORRUPT : err, NULL);
        return;
    }
    dns_attempt(q);
}

static void dns_on_answer(struct dns_query *q, const uint8_t *msg, size_t len)
{
    struct dns_answer *ans = &dns.scratch;
    int err = dns_msg_parse(msg, len, q->query, q->qlen, ans);
    if (err == PB_ENOENT)
        return;                   /* someone else's answer: keep waiting */
    if (err < 0) {
        /* Malformed: a broken server or a forgery.  Wait for the timeout
         * (a genuine answer may still come) but remember it. */
        q->saw_corrupt = true;
        return;
    }
    if (ans->tc) {
        if (q->state == DNS_TCP) {
            dns_next(q, PB_ERANGE);
            return;
        }
        err = PB_ENOMEM;
        struct tcp_pcb *pcb = tcp_new_ip_type(IP_GET_TYPE(&q->srv.addr));
        if (pcb) {
            q->tcp = pcb;
            q->state = DNS_TCP;
            q->got = 0;
            q->deadline = hal_clock_ms() + DNS_TCP_TIMEOUT_MS;
            tcp_arg(pcb, q);
            tcp_err(pcb, dns_tcp_err);
            tcp_recv(pcb, dns_tcp_recv);
            if (tcp_connect(pcb, &q->srv.addr, q->srv.port, dns_tcp_connected) == ERR_OK)
                return;
            err = PB_ECONN;
        }
        dns_next(q, err);
        return;
    }
    if (ans->rcode == DNS_RCODE_FORMERR && q->edns) {
        /* An old server that does not know EDNS: the same question without. */
        q->edns = false;
        int n = dns_msg_query(q->query, sizeof(q->query), (uint16_t)(q->query[0] << 8 | q->query[1]),
                              q->name, q->type, false);
        if (n > 0) {
            q->qlen = (uint16_t)n;
            q->attempt--;
            dns_next(q, PB_ETIMEDOUT);
            return;
        }
    }
    if (ans->rcode != DNS_RCODE_NOERROR && ans->rcode != DNS_RCODE_NXDOMAIN &&
        q->attempt + 1 < q->attempts) {
        /* SERVFAIL, REFUSED, ...: another server may do better. */
        dns_next(q, PB_ETIMEDOUT);
        return;
    }
    char key[DNS_NAME_TEXT_MAX + 2];
    dns_lower(key, q->name, sizeof(key));
    dns_cache_put(key, q->type, ans);
    dns_finish(q, 0, ans);
}

static void dns_udp_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                         u16_t port)
{
    (void)pcb;
    struct dns_query *q = arg;
    /* Only the server asked, from the port asked; the slot may have moved
     * on to TCP, which makes late UDP answers moot. */
    if (q->state == DNS_UDP && port == q->srv.port && ip_addr_cmp(addr, &q->srv.addr) &&
        p->tot_len <= sizeof(q->buf)) {
        size_t n = pbuf_copy_partial(p, q->buf, p->tot_len, 0);
        pbuf_free(p);
        dns_on_answer(q, q->buf, n);
        return;
    }
    pbuf_free(p);
}

/* Inside one of its callbacks: detach the pcb from q and close it.
 * Returns what the callback must return to lwIP. */
static err_t dns_tcp_end(struct dns_query *q, struct tcp_pcb *pcb)
{
    q->tcp = NULL;
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_err(pcb, NULL);
    if (tcp_close(pcb) == ERR_OK)
        return ERR_OK;
    tcp_abort(pcb);
    return ERR_ABRT;
}

static err_t dns_tcp_connected(void *arg, struct tcp_pcb *pcb, err_t e)
{
    struct dns_query *q = arg;
    uint8_t len[2] = { (uint8_t)(q->qlen >> 8), (uint8_t)q->qlen };
    if (e != ERR_OK || tcp_write(pcb, len, 2, TCP_WRITE_FLAG_COPY | TCP_WRITE_FLAG_MORE) != ERR_OK ||
        tcp_write(pcb, q->query, q->qlen, TCP_WRITE_FLAG_COPY) != ERR_OK) {
        err_t r = dns_tcp_end(q, pcb);
        dns_next(q, PB_ECONN);
        return r;
    }
    tcp_output(pcb);
    return ERR_OK;
}

static err_t dns_tcp_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t e)
{
    struct dns_query *q = arg;
    (void)e;
    if (!p) {
        /* Closed before the whole answer came. */
        err_t r = dns_tcp_end(q, pcb);
        dns_next(q, PB_ECONN);
        return r;
    }
    u16_t tot = p->tot_len;
    size_t room = sizeof(q->buf) - q->got;
    size_t take = tot < room ? tot : room;
    pbuf_copy_partial(p, q->buf + q->got, (u16_t)take, 0);
    q->got += take;
    pbuf_free(p);
    tcp_recved(pcb, tot);
    if (q->got < 2)
        return ERR_OK;
    size_t want = ((size_t)q->buf[0] << 8 | q->buf[1]) + 2;
    if (want > sizeof(q->buf)) {
        err_t r = dns_tcp_end(q, pcb);
        dns_next(q, PB_ERANGE);
        return r;
    }
    if (q->got < want)
        return ERR_OK;
    /* The whole answer: the connection is not needed any more. */
    err_t r = dns_tcp_end(q, pcb);
    dns_on_answer(q, q->buf + 2, want - 2);
    if (q->state == DNS_TCP) {
        /* It was not an answer to our question: over TCP nothing else
         * comes, so this attempt is over. */
        dns_next(q, PB_ECORRUPT);
    }
    return r;
}

static void dns_tcp_err(void *arg, err_t e)
{
    struct dns_query *q = arg;
    (void)e;
    /* The pcb is gone already. */
    q->tcp = NULL;
    dns_next(q, PB_ECONN);
}

/* ---------------------------------------------------------------- query --- */

/* Send the query to the server of this attempt over UDP. */
static void dns_attempt(struct dns_query *q)
{
    struct dns_server s[DNS_SERVERS_MAX];
    int n = dns_servers_current(s);
    if (n == 0) {
        dns_finish(q, PB_ENOENT, NULL);
        return;
    }
    q->srv = s[q->attempt % n];
    q->deadline = hal_clock_ms() + DNS_UDP_TIMEOUT_MS;
    struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, q->qlen, PBUF_RAM);
    if (p) {
        memcpy(p->payload, q->query, q->qlen);
        udp_sendto(q->udp, p, &q->srv.addr, q->srv.port);
        pbuf_free(p);
    }
    /* A failed send is a lost datagram: the timeout retries it. */
    if (!dns.ticking) {
        dns.ticking = true;
        sys_timeout(DNS_TICK_MS, dns_tick, NULL);
    }
}

static void dns_tick(void *arg)
{
    (void)arg;
    uint64_t now = hal_clock_ms();
    bool active = false;
    for (int i = 0; i < PB_DNS_QUERIES; i++) {
        struct dns_query *q = &dns.q[i];
        if (q->state != DNS_FREE && now >= q->deadline)
            dns_next(q, q->state == DNS_TCP ? PB_ECONN : PB_ETIMEDOUT);
    }
    for (int i = 0; i < PB_DNS_QUERIES; i++)
        active |= dns.q[i].state != DNS_FREE;
    dns.ticking = active;
    if (active)
        sys_timeout(DNS_TICK_MS, dns_tick, NULL);
}

/* A fresh UDP pcb on a random port: an off-path forger must guess the
 * port as well as the ID (RFC 5452). */
static struct udp_pcb *dns_udp_open(struct dns_query *q)
{
    struct udp_pcb *pcb = udp_new_ip_type(IPADDR_TYPE_ANY);
    if (!pcb)
        return NULL;
    for (int i = 0; i < 8; i++) {
        uint16_t r;
        hal_rng_fill(&r, sizeof(r));
        if (udp_bind(pcb, IP_ANY_TYPE, (u16_t)(1024u + r % (65536u - 1024u))) == ERR_OK) {
            udp_recv(pcb, dns_udp_recv, q);
            return pcb;
        }
    }
    if (udp_bind(pcb, IP_ANY_TYPE, 0) == ERR_OK) {
        udp_recv(pcb, dns_udp_recv, q);
        return pcb;
    }
    udp_remove(pcb);
    return NULL;
}

int dns_query(const char *name, uint16_t type, dns_cb cb, void *arg)
{
    if (!name || !cb || strlen(name) > DNS_NAME_TEXT_MAX + 1)
        return PB_EINVAL;
    uint8_t probe[DNS_MSG_QUERY_MAX];
    int n = dns_msg_query(probe, sizeof(probe), 0, name, type, true);
    if (n < 0)
        return n == PB_ERANGE ? PB_EINVAL : n;

    char key[DNS_NAME_TEXT_MAX + 2];
    dns_lower(key, name, sizeof(key));
    uint64_t now = hal_clock_ms();
    struct dns_cache_entry *e = dns_cache_find(key, type, now);
    if (e) {
        /* A copy with its TTLs counted down by the time it spent here. */
        struct dns_answer copy = e->ans;
        uint32_t age = (uint32_t)((now - e->stored_ms) / 1000u);
        for (int i = 0; i < copy.count; i++)
            copy.rr[i].ttl = copy.rr[i].ttl > age ? copy.rr[i].ttl - age : 0;
        copy.neg_ttl = copy.neg_ttl > age ? copy.neg_ttl - age : 0;
        e->used_ms = now;
        dns.hits++;
        cb(0, &copy, arg);
        return 1;
    }

    struct dns_server s[DNS_SERVERS_MAX];
    int nserv = dns_servers_current(s);
    if (nserv == 0)
        return PB_ENOENT;
    struct dns_query *q = NULL;
    for (int i = 0; i < PB_DNS_QUERIES && !q; i++)
        if (dns.q[i].state == DNS_FREE)
            q = &dns.q[i];
    if (!q)
        return PB_EBUSY;
    memset(q, 0, offsetof(struct dns_query, buf));
    q->udp = dns_udp_open(q);
    if (!q->udp)
        return PB_ENOMEM;
    uint16_t id;
    hal_rng_fill(&id, sizeof(id));
    q->qlen = (uint16_t)dns_msg_query(q->query, sizeof(q->query), id, name, type, true);
    q->edns = true;
    q->type = type;
    q->cb = cb;
    q->arg = arg;
    strcpy(q->name, name);
    q->attempts = DNS_TRIES * nserv;
    q->state = DNS_UDP;
    dns.misses++;
    dns_attempt(q);
    return 0;
}

int dns_query_ptr(const ip_addr_t *addr, dns_cb cb, void *arg)
{
    char name[DNS_PTR_NAME_MAX];
    int n;
    if (!addr)
        return PB_EINVAL;
    if (IP_IS_V6(addr))
        n = dns_msg_ptr_name((const uint8_t *)ip_2_ip6(addr)->addr, 16, name, sizeof(name));
    else
        n = dns_msg_ptr_name((const uint8_t *)&ip_2_ip4(addr)->addr, 4, name, sizeof(name));
    if (n < 0)
        return n;
    return dns_query(name, DNS_T_PTR, cb, arg);
}

int dns_cancel(dns_cb cb, void *arg)
{
    int n = 0;
    for (int i = 0; i < PB_DNS_QUERIES; i++) {
        struct dns_query *q = &dns.q[i];
        if (q->state != DNS_FREE && q->cb == cb && q->arg == arg) {
            dns_release(q);
            n++;
        }
    }
    return n;
}

void dns_resolver_init(void)
{
    for (int i = 0; i < PB_DNS_QUERIES; i++)
        if (dns.q[i].state != DNS_FREE)
            dns_release(&dns.q[i]);
    if (dns.ticking)
        sys_untimeout(dns_tick, NULL);
    memset(&dns, 0, sizeof(dns));
}
