/*
 * smtp_relay.c - the queue runner (see smtp_relay.h).
 *
 * A delivery is a job in a fixed table.  A job moves through: MX lookup,
 * address lookups of the current host (A then AAAA), connect to the
 * current address, the SMTP session (smtp_client.c driven by altcp
 * callbacks), and either the next address/host (nobody answered) or the
 * settlement: the one transaction that records the outcome.
 *
 * DNS callbacks may run inside dns_query() (a cached answer): they only
 * store what they learned in the job; smtp_relay_step() acts on it.
 * Ownership of received data: a pbuf handed to the recv callback is ours;
 * it waits in job->in until the client has read it, then the TCP window
 * is reopened for exactly what was read.
 */
#include "smtp_relay.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ca_bundle.h"
#include "dane.h"
#include "dns.h"
#include "hal_clock.h"
#include "lwip/altcp.h"
#include "lwip/altcp_tcp.h"
#include "lwip/altcp_tls.h"
#include "lwip/timeouts.h"
#include "pb_err.h"
#include "sasl.h"
#include "smtp_client.h"
#include "smtp_dsn.h"
#include "smtp_queue.h"
#include "smtp_tally.h"
#include "tls.h"

enum relay_state {
    RELAY_FREE,
    RELAY_MX,           /* asking for the domain's MX */
    RELAY_HOST,         /* asking for the current host's addresses */
    RELAY_TLSA,         /* asking for the current host's TLSA records (DANE) */
    RELAY_CONNECT,      /* connect to the current address (then SESSION) */
    RELAY_SESSION,      /* connecting or talking SMTP */
    RELAY_NEXT,         /* nobody answered: the next address or host */
    RELAY_SETTLE,       /* record the outcome */
};

struct relay_job {
    enum relay_state state;
    char name[SMTP_QUEUE_NAME_MAX + 1];
    uint8_t value[STORE_REC_VALUE_MAX];
    struct smtp_queue_entry e;          /* points into value */
    const char *domain;                 /* of the recipients (into value) */
    uint16_t domain_len;

    struct { char name[DNS_NAME_TEXT_MAX + 1]; uint16_t pref; } mx[SMTP_RELAY_MX_MAX];
    int nmx, imx;
    ip_addr_t addr[SMTP_RELAY_ADDRS];
    int naddr, iaddr;
    uint16_t port;
    bool tls_required;

    /* DANE of the current host (RFC 7672), or the relay host's pin. */
    bool addr_secure;                   /* its A answer came validated (AD) */
    bool tlsa_failed;                   /* the TLSA lookup failed (not NXDOMAIN/no data) */
    enum { RELAY_DANE_NONE, RELAY_DANE_ON, RELAY_DANE_NOUSE, RELAY_DANE_PIN, RELAY_DANE_ROOTS } dane;
    enum tls_chain chain;               /* RELAY_DANE_ROOTS: the verdict on the relay host's chain */
    struct dane_tlsa tlsa[DANE_TLSA_MAX];
    int ntlsa;
    int dane_result;                    /* the peer check: DANE_USAGE_*, PB_E*, 0 not run */

    /* The DNS question under way: its type, and what came back. */
    uint16_t qtype;
    bool dns_wait, dns_done;
    uint64_t dns_deadline;

    struct altcp_pcb *pcb;
    struct pbuf *in;
    bool connected, settled;
    int msgs;                           /* further messages sent on this connection */
    uint64_t deadline;                  /* connect */
    struct smtp_client client;
    char peer[DNS_NAME_TEXT_MAX + 64];  /* "mx.example.net[192.0.2.1]" */
    char error[SMTP_QUEUE_ERROR_MAX + 1];
};

static struct relay_job relay_jobs[SMTP_RELAY_CONNS];
static const struct smtp_relay_config *relay_cfg;
static struct altcp_tls_config *relay_tls;
static struct altcp_tls_config *relay_tls_roots; /* the bundled CA roots, loaded at first need */
static char relay_host[SMTP_RELAY_HOST_MAX + 1];
static uint16_t relay_port;
static bool relay_implicit;                     /* relay host: TLS from the first byte */
static char relay_user[SASL_CRED_MAX + 1];      /* relay host AUTH; "" for none */
static char relay_pass[SASL_CRED_MAX + 1];
static struct dane_tlsa relay_pin;              /* relay host certificate pin (3 0 1) */
static bool relay_pinned;
static uint32_t relay_delay_notice = SMTP_RELAY_DELAY_NOTICE; /* seconds; 0: none */
static uint64_t relay_next_scan;
static bool relay_timer;

static void relay_step(struct relay_job *j);
static err_t relay_drive(struct relay_job *j);
static void relay_settle(struct relay_job *j);

static void relay_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void relay_log(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    if (!relay_cfg || !relay_cfg->log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    relay_cfg->log(line);
}

/* Deliveries done today, for smtp_relay_sent_today(). */
static struct smtp_tally relay_today;

unsigned long smtp_relay_sent_today(int64_t now_s)
{
    return smtp_tally_today(&relay_today, now_s);
}

/* snprintf for texts that are clipped on purpose (log lines, errors). */
static void relay_fmt(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void relay_fmt(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}

static void relay_copy(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

int smtp_relay_set_delay_notice(uint32_t seconds)
{
    relay_delay_notice = seconds;
    return 0;
}

uint32_t smtp_relay_backoff(unsigned attempts)
{
    uint32_t d = SMTP_RELAY_RETRY_FIRST;
    for (unsigned i = 1; i < attempts && d < SMTP_RELAY_RETRY_MAX; i++)
        d *= 2;
    return d < SMTP_RELAY_RETRY_MAX ? d : SMTP_RELAY_RETRY_MAX;
}

/* ---------------------------------------------------------- relay host --- */

/* "host", "host:port", "[ip]:port" into host and port. */
static int relay_parse_host(const char *spec, char *host, size_t cap, uint16_t *port)
{
    const char *end = spec + strlen(spec), *colon = NULL;
    const char *h = spec;
    size_t hlen;
    if (*spec == '[') {
        const char *close = strchr(spec, ']');
        if (!close)
            return PB_EINVAL;
        h = spec + 1;
        hlen = (size_t)(close - h);
        colon = close[1] == ':' ? close + 1 : NULL;
        if (!colon && close[1])
            return PB_EINVAL;
    } else {
        colon = strrchr(spec, ':');
        hlen = colon ? (size_t)(colon - spec) : (size_t)(end - spec);
    }
    *port = 25;
    if (colon) {
        unsigned long v = 0;
        const char *p = colon + 1;
        if (!*p)
            return PB_EINVAL;
        for (; *p; p++) {
            if (*p < '0' || *p > '9' || (v = v * 10 + (unsigned long)(*p - '0')) > 65535)
                return PB_EINVAL;
        }
        if (v == 0)
            return PB_EINVAL;
        *port = (uint16_t)v;
    }
    if (hlen == 0 || hlen >= cap)
        return PB_EINVAL;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    ip_addr_t a;
    if (ipaddr_aton(host, &a))
        return 0;
    for (const char *p = host; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.'))
            return PB_EINVAL;
    return 0;
}

int smtp_relay_host_valid(const char *spec)
{
    char host[SMTP_RELAY_HOST_MAX + 1];
    uint16_t port;
    if (!*spec || strcmp(spec, "off") == 0)
        return 0;
    return relay_parse_host(spec, host, sizeof(host), &port);
}

int smtp_relay_set_host(const char *spec)
{
    char host[SMTP_RELAY_HOST_MAX + 1];
    uint16_t port = 25;
    if (!*spec || strcmp(spec, "off") == 0) {
        relay_host[0] = '\0';
        return 0;
    }
    int err = relay_parse_host(spec, host, sizeof(host), &port);
    if (err)
        return err;
    strcpy(relay_host, host);
    relay_port = port;
    return 0;
}

int smtp_relay_set_auth(const char *user, const char *pass)
{
    if (!user || !*user || strcmp(user, "off") == 0) {
        memset(relay_user, 0, sizeof(relay_user));
        memset(relay_pass, 0, sizeof(relay_pass));
        return 0;
    }
    if (!pass || !*pass || strlen(user) > SASL_CRED_MAX || strlen(pass) > SASL_CRED_MAX)
        return PB_EINVAL;
    strcpy(relay_user, user);
    strcpy(relay_pass, pass);
    return 0;
}

int smtp_relay_set_tls(const char *mode)
{
    if (strcmp(mode, "starttls") == 0)
        relay_implicit = false;
    else if (strcmp(mode, "implicit") == 0)
        relay_implicit = true;
    else
        return PB_EINVAL;
    return 0;
}

int smtp_relay_set_fingerprint(const char *hex)
{
    struct dane_tlsa pin;
    if (!*hex || strcmp(hex, "off") == 0) {
        relay_pinned = false;
        return 0;
    }
    if (dane_from_fingerprint(hex, &pin) != 0)
        return PB_EINVAL;
    relay_pin = pin;
    relay_pinned = true;
    return 0;
}

int smtp_relay_fingerprint_valid(const char *hex)
{
    struct dane_tlsa pin;
    return dane_from_fingerprint(hex, &pin);
}

/* The client config of the bundled CA roots (ca_bundle.h), made at the
 * first delivery to a relay host without a pin: the roots take arena
 * memory that an appliance delivering on its own never needs. */
static struct altcp_tls_config *relay_roots(void)
{
    if (!relay_tls_roots) {
        int n = 0;
        struct tls_arena_stats before, after;
        tls_stats(&before);
        relay_tls_roots = tls_config_client_roots(ca_bundle_der, ca_bundle_len, &n);
        tls_stats(&after);
        relay_log("relay: %d of %u CA roots of %s loaded for the relay host (%lu KiB of TLS arena)", n,
                  ca_bundle_count, ca_bundle_source,
                  (unsigned long)((after.in_use - before.in_use + 1023u) / 1024u));
    }
    return relay_tls_roots;
}

/* How the certificate was judged, for the log lines of an attempt. */
static const char *relay_dane_name(const struct relay_job *j)
{
    switch (j->dane) {
    case RELAY_DANE_ON:
        return j->dane_result == DANE_USAGE_EE ? "dane=matched(DANE-EE)" :
               j->dane_result == DANE_USAGE_TA ? "dane=matched(DANE-TA)" :
               j->dane_result < 0 ? "dane=MISMATCH" : "dane=required";
    case RELAY_DANE_NOUSE:
        return "dane=tls-only(no usable TLSA)";
    case RELAY_DANE_PIN:
        return j->dane_result > 0 ? "pin=matched" : j->dane_result < 0 ? "pin=MISMATCH" : "pin=required";
    case RELAY_DANE_ROOTS:
        return j->dane_result > 0 ? "cert=verified(CA roots)" : j->dane_result < 0 ? "cert=REFUSED" : "cert=required";
    default:
        return j->tls_required ? "cert=unchecked" : "dane=no";
    }
}

/* ------------------------------------------------------------ the jobs --- */

static bool relay_in_flight(const char *name)
{
    for (int i = 0; i < SMTP_RELAY_CONNS; i++)
        if (relay_jobs[i].state != RELAY_FREE && strcmp(relay_jobs[i].name, name) == 0)
            return true;
    return false;
}

int smtp_relay_active(void)
{
    int n = 0;
    for (int i = 0; i < SMTP_RELAY_CONNS; i++)
        n += relay_jobs[i].state != RELAY_FREE;
    return n;
}

/* Every recipient without an answer gets this one (a failure of ours
 * before or instead of a session). */
static void relay_answer_all(struct relay_job *j, int code, const char *enh, const char *text)
{
    for (int i = 0; i < j->client.nrcpt; i++) {
        struct smtp_client_reply *r = &j->client.rcpt[i].reply;
        if (r->code)
            continue;
        r->code = code;
        relay_copy(r->enh, sizeof(r->enh), enh, strlen(enh));
        relay_copy(r->text, sizeof(r->text), text, strlen(text));
    }
    relay_copy(j->error, sizeof(j->error), text, strlen(text));
    j->state = RELAY_SETTLE;
}

static int relay_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    struct relay_job *j = ctx;
    return store_blob_read(relay_cfg->store, j->e.blob, j->e.offset + offset, buf, len);
}

/* Look through the message once: 8-bit octets anywhere, Received: lines
 * in the header, the size. */
struct relay_scan {
    uint64_t size;
    bool eightbit;
    int received;
};

static int relay_scan_message(struct relay_job *j, struct relay_scan *sc)
{
    uint8_t buf[512];
    uint64_t off = 0;
    bool in_header = true, bol = true;
    /* How much of "received:" matched at this line's start (0..9), or -1. */
    int match = 0;
    static const char want[] = "received:";
    memset(sc, 0, sizeof(*sc));
    for (;;) {
        int n = relay_read(j, off, buf, sizeof(buf));
        if (n < 0)
            return n;
        if (n == 0)
            break;
        for (int i = 0; i < n; i++) {
            uint8_t ch = buf[i];
            if (ch & 0x80)
                sc->eightbit = true;
            if (!in_header)
                continue;
            if (bol) {
                if (ch == '\r' || ch == '\n') {
                    in_header = ch == '\r';     /* CR of the blank line; its LF ends it */
                    if (ch == '\n')
                        in_header = false;
                    continue;
                }
                match = 0;
                bol = false;
            }
            if (ch == '\n') {
                bol = true;
                if (match < 0 || match < 9)
                    match = 0;
                continue;
            }
            if (match >= 0 && match < 9) {
                char lc = (char)((ch >= 'A' && ch <= 'Z') ? ch + 32 : ch);
                match = lc == want[match] ? match + 1 : -1;
                if (match == 9)
                    sc->received++;
            }
        }
        off += (uint64_t)n;
    }
    sc->size = off;
    return 0;
}

static bool relay_utf8(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((uint8_t)s[i] & 0x80)
            return true;
    return false;
}

/* The domain of an entry's recipients (they share it): after the last
 * '@' of the first. */
static const char *relay_domain_of(const struct smtp_queue_entry *e, uint16_t *len)
{
    const char *a = e->rcpt[0].addr;
    const char *at = memchr(a, '@', e->rcpt[0].len);
    for (const char *p = at; p && (p = memchr(p + 1, '@', (size_t)(a + e->rcpt[0].len - p - 1))) != NULL;)
        at = p;
    const char *d = at ? at + 1 : a + e->rcpt[0].len;
    *len = (uint16_t)(a + e->rcpt[0].len - d);
    return d;
}

static void relay_start(struct relay_job *j, const char *name)
{
    memset(j, 0, sizeof(*j));
    relay_copy(j->name, sizeof(j->name), name, strlen(name));
    int err = smtp_queue_get(relay_cfg->store, name, &j->e, j->value, sizeof(j->value));
    if (err) {
        relay_log("relay: %s: unreadable queue entry (%s); left alone", name, pb_err_str(err));
        j->state = RELAY_FREE;
        return;
    }
    j->domain = relay_domain_of(&j->e, &j->domain_len);

    struct relay_scan sc;
    err = relay_scan_message(j, &sc);
    bool utf8 = relay_utf8(j->e.from, j->e.from_len);
    for (int i = 0; i < j->e.nrcpt; i++)
        utf8 |= relay_utf8(j->e.rcpt[i].addr, j->e.rcpt[i].len);
    j->tls_required = relay_host[0] != '\0';
    struct smtp_client_config cc = {
        .helo = relay_cfg->hostname, .tls_available = relay_tls != NULL,
        .tls_required = j->tls_required, .body_8bit = sc.eightbit, .smtputf8 = utf8, .size = sc.size,
    };
    smtp_client_init(&j->client, &cc, j->e.from, j->e.from_len, relay_read, j, hal_clock_ms());
    for (int i = 0; i < j->e.nrcpt; i++)
        smtp_client_add_rcpt(&j->client, j->e.rcpt[i].addr, j->e.rcpt[i].len);
    relay_log("relay: %s attempt %u to %.*s, %d recipient(s), %lu octets", name,
              (unsigned)j->e.attempts + 1, (int)j->domain_len, j->domain, j->e.nrcpt,
              (unsigned long)sc.size);
    if (err) {
        relay_answer_all(j, 451, "4.3.0", "the message could not be read from flash");
        return;
    }
    if (sc.received > SMTP_RELAY_RECEIVED_MAX) {
        relay_answer_all(j, 554, "5.4.6", "Too many Received: headers: the message is looping");
        return;
    }
    if (j->tls_required) {
        /* A relay host: one host, its port, TLS required; its pin is a
         * DANE-EE 3 0 1 record. */
        if (relay_pinned) {
            j->tlsa[0] = relay_pin;
            j->ntlsa = 1;
            j->dane = RELAY_DANE_PIN;
        } else {
            /* No pin: the chain must lead to a bundled root and name the
             * host.  An address names nothing we could check. */
            ip_addr_t lit;
            if (ipaddr_aton(relay_host, &lit)) {
                relay_answer_all(j, 451, "4.7.5", "the relay host is an address: its certificate cannot be "
                                 "checked by name (set relayhost-fingerprint, or use its host name)");
                relay_log("relay: %s: %s", j->name, j->error);
                return;
            }
            if (!relay_roots()) {
                relay_answer_all(j, 451, "4.7.5", "no CA roots could be loaded to check the relay host");
                relay_log("relay: %s: %s", j->name, j->error);
                return;
            }
            j->dane = RELAY_DANE_ROOTS;
        }
        relay_copy(j->mx[0].name, sizeof(j->mx[0].name), relay_host, strlen(relay_host));
        j->nmx = 1;
        j->port = relay_port;
        j->state = RELAY_HOST;
        return;
    }
    j->port = 25;
    j->state = RELAY_MX;
}

/* --------------------------------------------------------------- DNS --- */

static void relay_dns_cb(int err, const struct dns_answer *ans, void *arg)
{
    struct relay_job *j = arg;
    j->dns_wait = false;
    j->dns_done = true;
    char dom[MAIL_DOMAIN_MAX + 1];
    relay_copy(dom, sizeof(dom), j->domain, j->domain_len);
    if (j->qtype == DNS_T_MX) {
        if (err < 0 || !ans) {
            relay_answer_all(j, 451, "4.4.3", "DNS: the MX lookup failed (no answer from the resolver)");
            return;
        }
        if (ans->rcode == DNS_RCODE_NXDOMAIN) {
            relay_answer_all(j, 550, "5.1.2", "DNS: the recipient's domain does not exist");
            return;
        }
        if (ans->rcode != DNS_RCODE_NOERROR) {
            relay_answer_all(j, 451, "4.4.3", "DNS: the MX lookup failed (SERVFAIL)");
            return;
        }
        if (ans->null_mx) {
            relay_answer_all(j, 556, "5.1.10", "The recipient's domain does not accept mail (null MX, RFC 7505)");
            return;
        }
        for (int i = 0; i < ans->count; i++) {
            const struct dns_rr *rr = &ans->rr[i];
            if (rr->type != DNS_T_MX)
                continue;
            /* Insert sorted by preference, keeping the best SMTP_RELAY_MX_MAX. */
            int k = j->nmx;
            while (k > 0 && j->mx[k - 1].pref > rr->pref)
                k--;
            if (k == SMTP_RELAY_MX_MAX)
                continue;
            int last = j->nmx < SMTP_RELAY_MX_MAX ? j->nmx : SMTP_RELAY_MX_MAX - 1;
            memmove(&j->mx[k + 1], &j->mx[k], (size_t)(last - k) * sizeof(j->mx[0]));
            const char *nm = dns_rr_name(ans, rr);
            relay_copy(j->mx[k].name, sizeof(j->mx[k].name), nm, strlen(nm));
            j->mx[k].pref = rr->pref;
            if (j->nmx < SMTP_RELAY_MX_MAX)
                j->nmx++;
        }
        if (j->nmx == 0) {
            /* RFC 5321 5.1: no MX, the domain itself is the host. */
            strcpy(j->mx[0].name, dom);
            j->nmx = 1;
        }
        j->state = RELAY_HOST;
        j->imx = 0;
        j->qtype = 0;
        return;
    }
    if (j->qtype == DNS_T_TLSA) {
        /* RFC 7672 2.2: only a validated answer with records turns DANE
         * on; NXDOMAIN and "no data" mean no DANE; anything else is a
         * failure that relay_step weighs. */
        if (err < 0 || !ans || (ans->rcode != DNS_RCODE_NOERROR && ans->rcode != DNS_RCODE_NXDOMAIN)) {
            j->tlsa_failed = true;
            return;
        }
        int have = 0;
        for (int i = 0; i < ans->count; i++)
            have += ans->rr[i].type == DNS_T_TLSA;
        if (ans->rcode == DNS_RCODE_NOERROR && ans->ad && have) {
            j->ntlsa = dane_from_answer(ans, j->tlsa, DANE_TLSA_MAX);
            j->dane = j->ntlsa ? RELAY_DANE_ON : RELAY_DANE_NOUSE;
        }
        return;
    }
    if (j->qtype == DNS_T_A && err == 0 && ans)
        j->addr_secure = ans->ad;
    /* A or AAAA of the current host: collect, whatever the outcome. */
    if (err == 0 && ans && ans->rcode == DNS_RCODE_NOERROR) {
        for (int i = 0; i < ans->count && j->naddr < SMTP_RELAY_ADDRS; i++) {
            const struct dns_rr *rr = &ans->rr[i];
            ip_addr_t *a = &j->addr[j->naddr];
            if (rr->type == DNS_T_A && rr->len == 4) {
                IP_ADDR4(a, dns_rr_data(ans, rr)[0], dns_rr_data(ans, rr)[1], dns_rr_data(ans, rr)[2],
                         dns_rr_data(ans, rr)[3]);
                j->naddr++;
            }
#if LWIP_IPV6
            else if (rr->type == DNS_T_AAAA && rr->len == 16) {
                uint32_t w[4];
                memcpy(w, dns_rr_data(ans, rr), 16);
                IP_ADDR6(a, w[0], w[1], w[2], w[3]);
                j->naddr++;
            }
#endif
        }
    }
}

/* Whether the answer relay_ask() waits for may still come.  Past its
 * deadline the query is cancelled and counts as answered, with nothing. */
static bool relay_dns_waiting(struct relay_job *j, uint64_t now)
{
    if (!j->dns_wait)
        return false;
    if (now < j->dns_deadline)
        return true;
    dns_cancel(relay_dns_cb, j);
    j->dns_wait = false;
    j->dns_done = true;
    return false;
}

static void relay_ask(struct relay_job *j, const char *name, uint16_t type)
{
    j->qtype = type;
    j->dns_wait = true;
    j->dns_done = false;
    j->dns_deadline = hal_clock_ms() + SMTP_RELAY_DNS_MS;
    int r = dns_query(name, type, relay_dns_cb, j);
    if (r == PB_EBUSY) {
        j->dns_wait = false;        /* the resolver is full: ask again at the next poll */
        j->qtype = 0;
    } else if (r < 0) {
        j->dns_wait = false;
        j->dns_done = true;
        if (type == DNS_T_TLSA)
            j->tlsa_failed = true;
        if (type == DNS_T_MX)
            relay_answer_all(j, 451, "4.4.3", "DNS: no resolver to ask");
    }
}

/* -------------------------------------------------------- connections --- */

static err_t relay_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err);
static err_t relay_sent(void *arg, struct altcp_pcb *pcb, u16_t len);
static err_t relay_poll_cb(void *arg, struct altcp_pcb *pcb);
static void relay_err(void *arg, err_t err);

static void relay_callbacks(struct relay_job *j, struct altcp_pcb *pcb)
{
    altcp_arg(pcb, j);
    altcp_recv(pcb, relay_recv);
    altcp_sent(pcb, relay_sent);
    altcp_err(pcb, relay_err);
    altcp_poll(pcb, relay_poll_cb, 2);
}

/* Let go of the connection.  Returns ERR_ABRT if it had to be aborted. */
static err_t relay_close(struct relay_job *j)
{
    struct altcp_pcb *pcb = j->pcb;
    if (j->in) {
        pbuf_free(j->in);
        j->in = NULL;
    }
    if (!pcb)
        return ERR_OK;
    j->pcb = NULL;
    altcp_arg(pcb, NULL);
    altcp_recv(pcb, NULL);
    altcp_sent(pcb, NULL);
    altcp_poll(pcb, NULL, 0);
    altcp_err(pcb, NULL);
    if (altcp_close(pcb) != ERR_OK) {
        altcp_abort(pcb);
        return ERR_ABRT;
    }
    return ERR_OK;
}

/* The session is over: the outcome, or the next address. */
static void relay_session_over(struct relay_job *j)
{
    if (j->settled)
        j->state = RELAY_SETTLE;
    else if (smtp_client_answered(&j->client))
        j->state = RELAY_SETTLE;
    else {
        const char *why = j->client.error[0] ? j->client.error : "no answer";
        relay_fmt(j->error, sizeof(j->error), "%s: %s", j->peer, why);
        relay_log("relay: %s: %s", j->name, j->error);
        j->state = RELAY_NEXT;
    }
}

/* The peer check of tls_set_peer_check: the server's chain against the
 * host's TLSA records (or the relay host's pin).  Only records the
 * verdict; the handshake fails on a mismatch and relay_err reports it. */
static int relay_peer_check(void *arg, const uint8_t *const *der, const size_t *len, int count,
                            enum tls_chain verdict)
{
    struct relay_job *j = arg;
    if (j->dane == RELAY_DANE_ROOTS) {
        /* The TLS layer verified the chain against the roots and the
         * name given as SNI: its verdict is ours. */
        j->chain = verdict;
        j->dane_result = verdict == TLS_CHAIN_OK ? 1 : PB_EPERM;
        return verdict == TLS_CHAIN_OK ? 0 : -1;
    }
    char dom[MAIL_DOMAIN_MAX + 1];
    relay_copy(dom, sizeof(dom), j->domain, j->domain_len);
    const char *names[2] = { j->mx[j->imx].name, dom };
    j->dane_result = dane_check(j->tlsa, j->ntlsa, der, len, count, names, 2);
    return j->dane_result > 0 ? 0 : -1;
}

/* TLS is up (after STARTTLS, or at connect for implicit TLS). */
static void relay_tls_log(struct relay_job *j, struct altcp_pcb *pcb)
{
    relay_log("relay: %s: %s: %s %s, %s", j->name, j->peer, tls_version_name(pcb), tls_cipher_name(pcb),
              relay_dane_name(j));
}

/* A handshake that completed without the peer check having accepted the
 * chain (no certificate seen: should not happen with our suites) must
 * not carry mail where a match is required.  Returns ERR_OK to go on, or
 * the result of closing the connection. */
static err_t relay_check_unseen(struct relay_job *j)
{
    if ((j->dane != RELAY_DANE_ON && j->dane != RELAY_DANE_PIN && j->dane != RELAY_DANE_ROOTS) ||
        j->dane_result > 0)
        return ERR_OK;
    j->dane_result = PB_EPERM;
    relay_log("relay: %s: %s: the certificate was never checked; this host is skipped", j->name, j->peer);
    smtp_client_conn_lost(&j->client, "TLS: the server certificate could not be checked");
    /* Reset, not close: nothing more may pass, and the caller is told
     * with ERR_ABRT that the pcb is gone. */
    struct altcp_pcb *pcb = j->pcb;
    if (j->in) {
        pbuf_free(j->in);
        j->in = NULL;
    }
    j->pcb = NULL;
    if (pcb) {
        altcp_arg(pcb, NULL);
        altcp_abort(pcb);
    }
    relay_session_over(j);
    return ERR_ABRT;
}

static err_t relay_tls_up(void *arg, struct altcp_pcb *pcb, err_t err)
{
    struct relay_job *j = arg;
    if (!j || err != ERR_OK)
        return ERR_OK;
    if (relay_check_unseen(j) != ERR_OK)
        return ERR_ABRT;
    relay_tls_log(j, pcb);
    smtp_client_tls_started(&j->client, tls_version_name(pcb), hal_clock_ms());
    return relay_drive(j);
}

static err_t relay_starttls(struct relay_job *j)
{
    if (j->in) {
        altcp_recved(j->pcb, j->in->tot_len);
        pbuf_free(j->in);
        j->in = NULL;
    }
    ip_addr_t lit;
    const char *sni = ipaddr_aton(j->mx[j->imx].name, &lit) ? NULL : j->mx[j->imx].name;
    struct altcp_pcb *tls = tls_wrap_sni(j->dane == RELAY_DANE_ROOTS ? relay_tls_roots : relay_tls, j->pcb, sni);
    if (!tls) {
        smtp_client_tls_failed(&j->client);
        err_t e = relay_close(j);
        relay_session_over(j);
        return e;
    }
    j->pcb = tls;
    relay_callbacks(j, tls);
    tls_on_handshake(tls, relay_tls_up);
    /* The server's certificate cannot have arrived yet: the check is in
     * place before it does. */
    if (j->dane == RELAY_DANE_ON || j->dane == RELAY_DANE_PIN || j->dane == RELAY_DANE_ROOTS)
        tls_set_peer_check(tls, relay_peer_check, j);
    return ERR_OK;
}

/* Equal but for ASCII case (domain names, RFC 1035 2.3.3). */
static bool relay_same_text(const char *a, const char *b, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char x = a[i] >= 'A' && a[i] <= 'Z' ? (char)(a[i] + 32) : a[i];
        char y = b[i] >= 'A' && b[i] <= 'Z' ? (char)(b[i] + 32) : b[i];
        if (x != y)
            return false;
    }
    return true;
}

/* Right after an outcome is on flash: another entry due now for the same
 * destination (the same domain, or any with a relay host) goes on this
 * connection as a new transaction (RFC 5321 3.3) instead of QUIT, which
 * saves the connect, greeting, EHLO, TLS handshake and login per message.
 * At most SMTP_RELAY_SESSION_MSGS more per connection, so that other
 * destinations get their turn.  Returns true when one was started. */
static bool relay_continue(struct relay_job *j)
{
    static uint8_t v[STORE_REC_VALUE_MAX];  /* a candidate's value: not on the stack */
    char name[SMTP_QUEUE_NAME_MAX + 1] = "";
    uint32_t wall = (uint32_t)hal_clock_wall();
    bool found = false;

    if (!smtp_client_reusable(&j->client) || j->msgs >= SMTP_RELAY_SESSION_MSGS ||
        (j->tls_required != (relay_host[0] != '\0')))
        return false;
    while (store_rec_next(relay_cfg->store, STORE_NS_QUEUE, name, name, sizeof(name)) >= 0) {
        struct smtp_queue_entry e;
        if (relay_in_flight(name) || smtp_queue_get(relay_cfg->store, name, &e, v, sizeof(v)) != 0 ||
            (int32_t)(e.next_attempt - wall) > 0)
            continue;
        uint16_t dlen;
        const char *d = relay_domain_of(&e, &dlen);
        if (relay_host[0] || (dlen == j->domain_len && relay_same_text(d, j->domain, dlen))) {
            found = true;
            break;
        }
    }
    if (!found)
        return false;
    /* From here the job is the new entry's; the previous one is settled.
     * If the new one cannot go on this connection after all, QUIT goes as
     * before and the entry waits for its own attempt. */
    relay_copy(j->name, sizeof(j->name), name, strlen(name));
    if (smtp_queue_get(relay_cfg->store, name, &j->e, j->value, sizeof(j->value)) != 0)
        return false;
    j->domain = relay_domain_of(&j->e, &j->domain_len);
    struct relay_scan sc;
    if (relay_scan_message(j, &sc) != 0 || sc.received > SMTP_RELAY_RECEIVED_MAX)
        return false;
    bool utf8 = relay_utf8(j->e.from, j->e.from_len);
    for (int i = 0; i < j->e.nrcpt; i++)
        utf8 |= relay_utf8(j->e.rcpt[i].addr, j->e.rcpt[i].len);
    struct smtp_client_config msg = { .body_8bit = sc.eightbit, .smtputf8 = utf8, .size = sc.size };
    if (smtp_client_next(&j->client, &msg, j->e.from, j->e.from_len, hal_clock_ms()) != 0)
        return false;
    for (int i = 0; i < j->e.nrcpt; i++)
        smtp_client_add_rcpt(&j->client, j->e.rcpt[i].addr, j->e.rcpt[i].len);
    j->settled = false;
    j->error[0] = '\0';
    j->msgs++;
    relay_log("relay: %s attempt %u to %.*s, %d recipient(s), %lu octets, on the open connection to %s",
              name, (unsigned)j->e.attempts + 1, (int)j->domain_len, j->domain, j->e.nrcpt,
              (unsigned long)sc.size, j->peer);
    smtp_client_begin(&j->client);
    return true;
}

/* Feed input, act on the final reply at once, send what the client has. */
static err_t relay_drive(struct relay_job *j)
{
    static uint8_t buf[1024];
    struct smtp_client *c = &j->client;
    for (int round = 0; round < 4 && j->pcb; round++) {
        uint64_t now = hal_clock_ms();
        bool progress = false;
        while (j->in && c->state != SMTP_CLIENT_DONE && c->state != SMTP_CLIENT_TLS &&
               c->state != SMTP_CLIENT_BODY) {
            size_t avail = j->in->len;
            size_t used = smtp_client_input(c, (const uint8_t *)j->in->payload, avail, now);
            if (used) {
                altcp_recved(j->pcb, (u16_t)used);
                j->in = pbuf_free_header(j->in, (u16_t)used);
                progress = true;
            }
            if (used < avail)
                break;
        }
        /* The window for a duplicate delivery is here: the server has
         * taken the message; the outcome goes to flash before anything
         * else happens (QUIT is not even sent yet). */
        if (smtp_client_final(c)) {
            relay_settle(j);
            j->settled = true;
            relay_continue(j);
        }
        if (c->state == SMTP_CLIENT_TLS)
            return relay_starttls(j);
        size_t room = altcp_sndbuf(j->pcb);
        while (room > 0 && c->state != SMTP_CLIENT_DONE) {
            size_t n = smtp_client_pull(c, buf, room < sizeof(buf) ? room : sizeof(buf), now);
            if (n == 0)
                break;
            if (altcp_write(j->pcb, buf, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK) {
                smtp_client_conn_lost(c, "could not send (out of memory)");
                break;
            }
            room -= n;
            progress = true;
        }
        altcp_output(j->pcb);
        if (c->state == SMTP_CLIENT_DONE) {
            err_t e = relay_close(j);
            relay_session_over(j);
            return e;
        }
        if (!progress)
            break;
    }
    return ERR_OK;
}

static err_t relay_connected(void *arg, struct altcp_pcb *pcb, err_t err)
{
    struct relay_job *j = arg;
    (void)pcb;
    if (!j || err != ERR_OK)
        return ERR_OK;
    j->connected = true;
    j->client.deadline = hal_clock_ms() + SMTP_CLIENT_T_GREETING;
    if (tls_is_tls(pcb)) {
        /* Implicit TLS: the handshake is what just completed. */
        if (relay_check_unseen(j) != ERR_OK)
            return ERR_ABRT;
        relay_tls_log(j, pcb);
        relay_copy(j->client.tls_version, sizeof(j->client.tls_version), tls_version_name(pcb),
                   strlen(tls_version_name(pcb)));
    }
    return relay_drive(j);
}

static err_t relay_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct relay_job *j = arg;
    (void)err;
    if (!j) {
        if (p) {
            altcp_recved(pcb, p->tot_len);
            pbuf_free(p);
        }
        return ERR_OK;
    }
    if (!p) {
        err_t e = relay_drive(j);       /* what came before the close still counts */
        if (e == ERR_ABRT || !j->pcb)
            return e;
        smtp_client_conn_lost(&j->client, "the server closed the connection");
        e = relay_close(j);
        relay_session_over(j);
        return e;
    }
    if (j->in)
        pbuf_cat(j->in, p);     /* p is ours now, chained behind */
    else
        j->in = p;
    return relay_drive(j);
}

static err_t relay_sent(void *arg, struct altcp_pcb *pcb, u16_t len)
{
    (void)pcb;
    (void)len;
    return arg ? relay_drive(arg) : ERR_OK;
}

static err_t relay_poll_cb(void *arg, struct altcp_pcb *pcb)
{
    struct relay_job *j = arg;
    (void)pcb;
    if (!j)
        return ERR_OK;
    uint64_t now = hal_clock_ms();
    if (!j->connected) {
        if (now < j->deadline)
            return ERR_OK;
        smtp_client_conn_lost(&j->client, "connect timed out");
    } else {
        smtp_client_tick(&j->client, now);
    }
    if (j->client.state == SMTP_CLIENT_DONE) {
        err_t e = relay_close(j);
        relay_session_over(j);
        return e;
    }
    return relay_drive(j);
}

static void relay_err(void *arg, err_t err)
{
    struct relay_job *j = arg;
    if (!j)
        return;
    /* The pcb is gone already. */
    j->pcb = NULL;
    if (j->in) {
        pbuf_free(j->in);
        j->in = NULL;
    }
    char why[96];
    if (j->dane_result < 0 && j->dane == RELAY_DANE_PIN)
        relay_fmt(why, sizeof(why), "TLS: the certificate does not match the pinned fingerprint");
    else if (j->dane_result < 0 && j->dane == RELAY_DANE_ROOTS)
        relay_fmt(why, sizeof(why), "TLS: certificate not accepted: %s", tls_chain_name(j->chain));
    else if (j->dane_result == PB_ENOMEM)
        relay_fmt(why, sizeof(why), "DANE: no memory to check the certificate chain");
    else if (j->dane_result < 0)
        relay_fmt(why, sizeof(why), "DANE: the certificate matches no TLSA record");
    else
        relay_fmt(why, sizeof(why), "%s (lwIP error %d)", j->connected ? "connection lost" : "connect failed",
                  (int)err);
    if (j->dane_result < 0)
        relay_log("relay: %s: %s: %s; this host is skipped, nothing was sent in plaintext", j->name, j->peer,
                  why);
    smtp_client_conn_lost(&j->client, why);
    relay_session_over(j);
}

static void relay_connect(struct relay_job *j)
{
    char ip[IPADDR_STRLEN_MAX];
    const ip_addr_t *a = &j->addr[j->iaddr];
    ipaddr_ntoa_r(a, ip, sizeof(ip));
    relay_fmt(j->peer, sizeof(j->peer), "%s[%s]:%u", j->mx[j->imx].name, ip, (unsigned)j->port);
    /* A fresh session for this server.  DANE (usable records or not)
     * makes TLS mandatory; the relay host adds its TLS mode and login. */
    struct smtp_client_config cc = j->client.cfg;
    cc.tls_required = j->tls_required || j->dane != RELAY_DANE_NONE;
    bool implicit = j->tls_required && relay_implicit && relay_tls;
    cc.tls_implicit = implicit;
    cc.auth_user = j->tls_required && relay_user[0] ? relay_user : NULL;
    cc.auth_pass = cc.auth_user ? relay_pass : NULL;
    j->dane_result = 0;
    smtp_client_init(&j->client, &cc, j->e.from, j->e.from_len, relay_read, j, hal_clock_ms());
    for (int i = 0; i < j->e.nrcpt; i++)
        smtp_client_add_rcpt(&j->client, j->e.rcpt[i].addr, j->e.rcpt[i].len);
    j->connected = false;
    j->deadline = hal_clock_ms() + SMTP_RELAY_CONNECT_MS;
    j->state = RELAY_SESSION;
    struct altcp_tls_config *conf = j->dane == RELAY_DANE_ROOTS ? relay_tls_roots : relay_tls;
    struct altcp_pcb *pcb = implicit ? altcp_tls_new(conf, IP_GET_TYPE(a)) : altcp_tcp_new_ip_type(IP_GET_TYPE(a));
    if (pcb && implicit) {
        ip_addr_t lit;
        if (!ipaddr_aton(j->mx[j->imx].name, &lit))
            tls_set_sni(pcb, j->mx[j->imx].name);
        if (j->dane == RELAY_DANE_PIN || j->dane == RELAY_DANE_ROOTS)
            tls_set_peer_check(pcb, relay_peer_check, j);
    }
    if (!pcb) {
        smtp_client_conn_lost(&j->client, "no connection free (out of memory)");
        relay_session_over(j);
        return;
    }
    j->pcb = pcb;
    relay_callbacks(j, pcb);
    if (altcp_connect(pcb, a, j->port, relay_connected) != ERR_OK) {
        relay_close(j);
        smtp_client_conn_lost(&j->client, "connect failed");
        relay_session_over(j);
    }
}

/* ------------------------------------------------------------ outcome --- */

static void relay_status_of(const struct smtp_client_reply *r, char *buf, size_t cap)
{
    if (r->enh[0])
        relay_copy(buf, cap, r->enh, strlen(r->enh));
    else
        relay_fmt(buf, cap, "%d.0.0", r->code >= 500 ? 5 : r->code >= 400 ? 4 : 2);
}

/* One transaction: DSN for the failed, the entry rewritten or deleted. */
static void relay_settle(struct relay_job *j)
{
    if (j->settled)
        return;
    j->settled = true;
    struct store *s = relay_cfg->store;
    uint32_t now = (uint32_t)hal_clock_wall();
    uint32_t lifetime = relay_cfg->lifetime ? relay_cfg->lifetime : SMTP_RELAY_LIFETIME;
    struct smtp_client *c = &j->client;
    const char *tls = c->tls ? c->tls_version : "no";
    const char *remote = j->peer[0] ? j->mx[j->imx].name : NULL;
    static struct smtp_dsn_rcpt failed[SMTP_QUEUE_RCPTS];
    static char status[SMTP_QUEUE_RCPTS][12];
    static char diag[SMTP_QUEUE_RCPTS][SMTP_CLIENT_TEXT_MAX + 80];
    struct smtp_queue_entry keep = j->e;
    int nfail = 0, nsent = 0;
    keep.nrcpt = 0;
    bool expired = now - j->e.created >= lifetime;
    char last_err[SMTP_QUEUE_ERROR_MAX + 1] = "";
    for (int i = 0; i < j->e.nrcpt; i++) {
        const struct smtp_client_reply *r = &c->rcpt[i].reply;
        int code = r->code;
        const char *what = code >= 200 && code < 300 ? "sent" : code >= 500 ? "bounced" :
                           expired ? "expired" : "deferred";
        relay_log("relay: %s to=<%.*s> relay=%s tls=%s %s status=%s (%d %s %s)", j->name,
                  (int)j->e.rcpt[i].len, j->e.rcpt[i].addr, j->peer[0] ? j->peer : "none", tls,
                  relay_dane_name(j), what, code, r->enh, r->text);
        if (code >= 200 && code < 300) {
            nsent++;
            continue;
        }
        if (code < 500 && !expired) {
            keep.rcpt[keep.nrcpt++] = j->e.rcpt[i];
            relay_fmt(last_err, sizeof(last_err), "%s%s%d %s %s", remote ? remote : "",
                     remote ? " said: " : "", code, r->enh, r->text);
            continue;
        }
        struct smtp_dsn_rcpt *f = &failed[nfail];
        f->addr = j->e.rcpt[i].addr;
        f->len = j->e.rcpt[i].len;
        if (code >= 500) {
            relay_status_of(r, status[nfail], sizeof(status[nfail]));
            relay_fmt(diag[nfail], sizeof(diag[nfail]), "%d %s %s", code, r->enh, r->text);
            f->remote = remote;
        } else {
            strcpy(status[nfail], "4.4.7");
            relay_fmt(diag[nfail], sizeof(diag[nfail]), "delivery time expired; last error: %d %s %s",
                     code, r->enh, r->text);
            f->remote = NULL;
        }
        f->status = status[nfail];
        f->diag = diag[nfail];
        nfail++;
    }
    if (!last_err[0] && j->error[0])
        relay_copy(last_err, sizeof(last_err), j->error, strlen(j->error));
    keep.attempts = (uint16_t)(j->e.attempts + 1);
    keep.next_attempt = now + smtp_relay_backoff(keep.attempts);
    keep.error = last_err;
    keep.error_len = (uint8_t)strlen(last_err);

    /* A delay notice, once per entry: only when nothing failed in this
     * attempt (a failure report goes first; the notice can wait for the
     * next attempt), so one transaction never carries two DSNs. */
    bool delayed = nfail == 0 && keep.nrcpt > 0 && j->e.from_len > 0 && relay_delay_notice &&
                   !(j->e.state & SMTP_QUEUE_DELAY_NOTIFIED) && now - j->e.created >= relay_delay_notice;
    if (delayed) {
        for (int i = 0; i < j->e.nrcpt; i++) {
            const struct smtp_client_reply *r = &c->rcpt[i].reply;
            if (r->code >= 200 && r->code < 300)
                continue;
            struct smtp_dsn_rcpt *f = &failed[nfail];
            f->addr = j->e.rcpt[i].addr;
            f->len = j->e.rcpt[i].len;
            if (r->code) {
                relay_status_of(r, status[nfail], sizeof(status[nfail]));
                relay_fmt(diag[nfail], sizeof(diag[nfail]), "%d %s %s", r->code, r->enh, r->text);
                f->remote = remote;
            } else {
                strcpy(status[nfail], "4.4.1");
                relay_fmt(diag[nfail], sizeof(diag[nfail]), "%s", last_err[0] ? last_err : "no answer");
                f->remote = NULL;
            }
            f->status = status[nfail];
            f->diag = diag[nfail];
            nfail++;
        }
        keep.state |= SMTP_QUEUE_DELAY_NOTIFIED;
    }
    bool dsn = nfail > 0 && j->e.from_len > 0;
    for (int pass = 0; pass < 2; pass++) {
        struct store_txn *t;
        int err = store_txn_begin(s, &t);
        if (err) {
            relay_log("relay: %s: outcome not recorded (%s); it will be tried again", j->name, pb_err_str(err));
            return;
        }
        if (dsn && pass == 0) {
            struct smtp_dsn d = { relay_cfg->hostname, j->name, &j->e, nfail, failed, now,
                                  delayed, j->e.created + lifetime };
            err = smtp_dsn_send(t, &d);
            if (err == PB_ENOENT || err == PB_EINVAL) {
                relay_log("relay: %s: no DSN: the sender <%.*s> has no mailbox", j->name,
                          (int)j->e.from_len, j->e.from);
                err = 0;
            }
        }
        if (!err)
            err = keep.nrcpt ? smtp_queue_put(t, j->name, &keep) : store_rec_del(t, STORE_NS_QUEUE, j->name);
        if (err) {
            store_txn_abort(t);
            if (dsn && pass == 0) {
                relay_log("relay: %s: the DSN could not be written (%s); recording without it", j->name,
                          pb_err_str(err));
                /* A delay notice not written is not marked sent: the
                 * next attempt tries again. */
                keep.state = j->e.state;
                continue;
            }
            relay_log("relay: %s: outcome not recorded (%s); it will be tried again", j->name, pb_err_str(err));
            return;
        }
        err = store_txn_commit(t);
        if (err) {
            relay_log("relay: %s: outcome not recorded (%s); it will be tried again", j->name, pb_err_str(err));
            return;
        }
        if (dsn && pass == 0)
            relay_log("relay: %s: %s for %d recipient(s) to <%.*s>", j->name, delayed ? "delay notice" : "DSN",
                      nfail, (int)j->e.from_len, j->e.from);
        else if (nfail && j->e.from_len == 0)
            relay_log("relay: %s: no DSN for a message from <> (no bounce for a bounce)", j->name);
        break;
    }
    if (delayed)
        nfail = 0;      /* they were told of a delay, not of a failure */
    smtp_tally_add(&relay_today, (unsigned long)nsent, hal_clock_wall());
    if (keep.nrcpt)
        relay_log("relay: %s: %d sent, %d failed, %d deferred; next attempt in %lu s", j->name, nsent, nfail,
                  keep.nrcpt, (unsigned long)smtp_relay_backoff(keep.attempts));
    else
        relay_log("relay: %s: done, %d sent, %d failed", j->name, nsent, nfail);
}

/* -------------------------------------------------------------- steps --- */

static void relay_free(struct relay_job *j)
{
    if (j->dns_wait)
        dns_cancel(relay_dns_cb, j);
    relay_close(j);
    j->state = RELAY_FREE;
}

/* Advance a job as far as it goes without waiting. */
static void relay_step(struct relay_job *j)
{
    uint64_t now = hal_clock_ms();
    for (int guard = 0; guard < 3 * SMTP_RELAY_MX_MAX * SMTP_RELAY_ADDRS + 8; guard++) {
        switch (j->state) {
        case RELAY_FREE:
            return;
        case RELAY_MX:
            if (j->dns_wait) {
                if (relay_dns_waiting(j, now))
                    return;
                relay_answer_all(j, 451, "4.4.3", "DNS: the MX lookup timed out");
                continue;
            }
            if (j->qtype == 0) {
                char dom[MAIL_DOMAIN_MAX + 1];
                relay_copy(dom, sizeof(dom), j->domain, j->domain_len);
                relay_ask(j, dom, DNS_T_MX);
                if (j->qtype == 0)
                    return;     /* resolver busy */
                continue;
            }
            return;
        case RELAY_HOST:
            if (relay_dns_waiting(j, now))
                return;
            if (j->qtype == 0) {
                j->naddr = 0;
                j->addr_secure = false;
                if (ipaddr_aton(j->mx[j->imx].name, &j->addr[0])) {
                    j->naddr = 1;
                    j->qtype = DNS_T_AAAA;
                    j->dns_done = true;
                } else {
                    relay_ask(j, j->mx[j->imx].name, DNS_T_A);
                    if (j->qtype == 0)
                        return;
                }
                continue;
            }
            if (!j->dns_done)
                return;
            if (j->qtype == DNS_T_A) {
                relay_ask(j, j->mx[j->imx].name, DNS_T_AAAA);
                if (j->qtype == 0) {
                    j->qtype = DNS_T_A;     /* busy: ask AAAA later */
                    return;
                }
                continue;
            }
            /* A and AAAA known. */
            j->qtype = 0;
            if (j->naddr == 0) {
                relay_fmt(j->error, sizeof(j->error), "DNS: no address for %s", j->mx[j->imx].name);
                relay_log("relay: %s: %s", j->name, j->error);
                if (++j->imx >= j->nmx) {
                    relay_answer_all(j, 451, "4.4.4", j->error);
                    continue;
                }
                continue;
            }
            j->iaddr = 0;
            j->state = j->tls_required ? RELAY_CONNECT : RELAY_TLSA;
            continue;
        case RELAY_TLSA:
            if (j->dns_wait) {
                if (relay_dns_waiting(j, now))
                    return;
                j->tlsa_failed = true;      /* timed out */
            }
            if (j->qtype == 0) {
                char q[DNS_NAME_TEXT_MAX + 16];
                j->dane = RELAY_DANE_NONE;
                j->ntlsa = 0;
                j->tlsa_failed = false;
                relay_fmt(q, sizeof(q), "_25._tcp.%s", j->mx[j->imx].name);
                relay_ask(j, q, DNS_T_TLSA);
                if (j->qtype == 0)
                    return;     /* resolver busy */
                continue;
            }
            if (!j->dns_done)
                return;
            j->qtype = 0;
            if (j->tlsa_failed && j->addr_secure) {
                /* RFC 7672 2.2: with signed addresses a failed TLSA lookup
                 * may hide DANE; the host is not used. */
                relay_fmt(j->error, sizeof(j->error), "DNS: the TLSA lookup for %s failed", j->mx[j->imx].name);
                relay_log("relay: %s: %s; host skipped", j->name, j->error);
                if (++j->imx >= j->nmx) {
                    relay_answer_all(j, 451, "4.7.5", j->error);
                    continue;
                }
                j->state = RELAY_HOST;
                continue;
            }
            if (j->dane != RELAY_DANE_NONE)
                relay_log("relay: %s: %s: validated TLSA, %d usable record(s): TLS required", j->name,
                          j->mx[j->imx].name, j->ntlsa);
            j->state = RELAY_CONNECT;
            continue;
        case RELAY_CONNECT:
            relay_connect(j);
            continue;
        case RELAY_SESSION:
            return;
        case RELAY_NEXT:
            if (++j->iaddr < j->naddr) {
                j->state = RELAY_CONNECT;
                continue;
            }
            if (++j->imx < j->nmx) {
                j->state = RELAY_HOST;
                j->qtype = 0;
                continue;
            }
            {
                char err[SMTP_QUEUE_ERROR_MAX + 1];
                relay_copy(err, sizeof(err), j->error, strlen(j->error));
                j->peer[0] = '\0';
                relay_answer_all(j, 451, "4.4.1", err);
            }
            continue;
        case RELAY_SETTLE:
            relay_settle(j);
            relay_free(j);
            relay_next_scan = 0;    /* a slot is free: look for more now */
            return;
        }
    }
}

/* ------------------------------------------------------------ the loop --- */

static void relay_wake(void *arg)
{
    (void)arg;
    /* Only wakes the event loop once a second, so due entries are seen. */
    sys_timeout(1000, relay_wake, NULL);
}

int smtp_relay_start(const struct smtp_relay_config *cfg)
{
    relay_cfg = cfg;
    memset(relay_jobs, 0, sizeof(relay_jobs));
    relay_next_scan = 0;
    if (!relay_timer) {
        sys_timeout(1000, relay_wake, NULL);
        relay_timer = true;
    }
    if (!relay_tls)
        relay_tls = altcp_tls_create_config_client(NULL, 0);
    return relay_tls ? 0 : PB_ENOMEM;
}

int smtp_relay_poll(void)
{
    if (!relay_cfg || !relay_cfg->store)
        return 0;
    int busy = 0;
    for (int i = 0; i < SMTP_RELAY_CONNS; i++) {
        enum relay_state before = relay_jobs[i].state;
        relay_step(&relay_jobs[i]);
        busy |= relay_jobs[i].state != before;
    }
    uint64_t now = hal_clock_ms();
    if (now < relay_next_scan)
        return busy;
    relay_next_scan = now + 1000;
    uint32_t wall = (uint32_t)hal_clock_wall();
    char name[SMTP_QUEUE_NAME_MAX + 1] = "";
    uint8_t v[STORE_REC_VALUE_MAX];
    int free_slot = 0;
    for (; free_slot < SMTP_RELAY_CONNS && relay_jobs[free_slot].state != RELAY_FREE; free_slot++)
        ;
    while (free_slot < SMTP_RELAY_CONNS &&
           store_rec_next(relay_cfg->store, STORE_NS_QUEUE, name, name, sizeof(name)) >= 0) {
        struct smtp_queue_entry e;
        if (relay_in_flight(name) || smtp_queue_get(relay_cfg->store, name, &e, v, sizeof(v)) != 0 ||
            (int32_t)(e.next_attempt - wall) > 0)
            continue;
        relay_start(&relay_jobs[free_slot], name);
        relay_step(&relay_jobs[free_slot]);
        busy = 1;
        for (; free_slot < SMTP_RELAY_CONNS && relay_jobs[free_slot].state != RELAY_FREE; free_slot++)
            ;
    }
    return busy;
}

/* ------------------------------------------------------------ console --- */

static bool relay_matches(const char *name, const char *want)
{
    size_t n = strlen(want);
    return strcmp(name, want) == 0 || (strncmp(name, want, n) == 0 && name[n] == '.');
}

/* Rewrite (due now) or delete the entries matching want (NULL: all). */
static int relay_each(const char *want, bool del)
{
    struct store *s = relay_cfg ? relay_cfg->store : NULL;
    if (!s)
        return PB_ENOENT;
    char name[SMTP_QUEUE_NAME_MAX + 1] = "";
    uint8_t v[STORE_REC_VALUE_MAX];
    int n = 0;
    uint32_t wall = (uint32_t)hal_clock_wall();
    while (store_rec_next(s, STORE_NS_QUEUE, name, name, sizeof(name)) >= 0) {
        if (want && !relay_matches(name, want))
            continue;
        if (relay_in_flight(name)) {
            if (!del)
                continue;   /* being tried right now anyway */
            for (int i = 0; i < SMTP_RELAY_CONNS; i++)
                if (relay_jobs[i].state != RELAY_FREE && strcmp(relay_jobs[i].name, name) == 0)
                    relay_free(&relay_jobs[i]);
        }
        struct smtp_queue_entry e;
        struct store_txn *t;
        int err = store_txn_begin(s, &t);
        if (err)
            return err;
        if (del) {
            err = store_rec_del(t, STORE_NS_QUEUE, name);
        } else if ((err = smtp_queue_get(s, name, &e, v, sizeof(v))) == 0) {
            e.next_attempt = wall;
            err = smtp_queue_put(t, name, &e);
        }
        if (err) {
            store_txn_abort(t);
            return err;
        }
        if ((err = store_txn_commit(t)) != 0)
            return err;
        n++;
    }
    relay_next_scan = 0;
    return n;
}

int smtp_relay_flush(void)
{
    return relay_each(NULL, false);
}

int smtp_relay_retry(const char *name)
{
    return relay_each(name, false);
}

int smtp_relay_delete(const char *name)
{
    return relay_each(name, true);
}
