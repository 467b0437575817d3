/*
 * dnsrec.c - the DNS records of a mail domain and their check (see dnsrec.h).
 */
#include "dnsrec.h"

#include <stdio.h>
#include <string.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "address.h"
#include "config.h"
#include "dns.h"
#include "identity.h"
#include "lwip/ip4_addr.h"
#include "lwip/def.h"
#include "net.h"
#include "pb_err.h"
#include "storage.h"
#include "x509.h"

/* Why each record, for the page that lists them. */
static const char *const dnsrec_notes[] = {
    [DNSREC_MX] = "Mail for the domain is delivered to the appliance.",
    /* Only the MX host (the appliance) sends the domain's mail, so every
     * other sender is refused outright (-all) rather than merely flagged
     * (~all): a forged sender gets rejected instead of landing in spam.
     * With a relay host set, mail leaves from the provider's servers:
     * then the provider's "include:" must be added. */
    [DNSREC_SPF] = "SPF: only the appliance sends mail for the domain (with a relay host, "
                   "add the provider's include: as it tells you).",
    [DNSREC_A] = "The appliance's name points at the office's public IPv4 address "
                 "(the one the router forwards port 25 from).",
    /* quarantine, not reject: a forwarding list or a forgotten sender
     * (a web shop, a printer that mails scans) whose mail fails SPF still
     * arrives, in spam, and the aggregate reports to postmaster show it,
     * so the office can fix it before tightening to p=reject; p=none
     * would protect nobody. */
    [DNSREC_DMARC] = "DMARC: mail failing SPF goes to spam at the receiver; daily reports "
                     "go to postmaster.",
    [DNSREC_MTA_STS_HOST] = "The name senders fetch the MTA-STS policy from "
                            "(https://mta-sts.DOMAIN/.well-known/mta-sts.txt).",
    [DNSREC_MTA_STS] = "MTA-STS: senders should use TLS to reach the appliance; the id changes "
                       "whenever the policy does.",
    [DNSREC_TLSRPT] = "TLS reports: senders tell postmaster when TLS to the appliance failed.",
    [DNSREC_TLSA] = "DANE: the appliance's public key, so senders with a validating resolver "
                    "insist on TLS with it (needs DNSSEC on the zone).",
    /* Thunderbird asks http://autoconfig.DOMAIN/mail/config-v1.1.xml,
     * which port 80 answers without a redirect; Outlook asks
     * https://autodiscover.DOMAIN/autodiscover/autodiscover.xml, which
     * needs a certificate it trusts for that name. */
    [DNSREC_AUTOCONFIG] = "Thunderbird and other mail apps set themselves up from an address "
                          "alone: they ask this name for the server settings.",
    [DNSREC_AUTODISCOVER] = "Outlook sets itself up from this name (it needs a certificate from a "
                            "certificate authority that names it; with the self-signed one, "
                            "people enter the settings by hand).",
};

const char *dnsrec_type_name(uint16_t type)
{
    switch (type) {
    case DNS_T_A: return "A";
    case DNS_T_CNAME: return "CNAME";
    case DNS_T_MX: return "MX";
    case DNS_T_TXT: return "TXT";
    case DNS_T_TLSA: return "TLSA";
    default: return "?";
    }
}

const char *dnsrec_status_name(enum dnsrec_status s)
{
    switch (s) {
    case DNSREC_PENDING: return "pending";
    case DNSREC_PRESENT: return "present";
    case DNSREC_MISSING: return "missing";
    case DNSREC_DIFFERENT: return "different";
    case DNSREC_FAILED: return "failed";
    }
    return "?";
}

static bool dnsrec_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return n > 0 && n <= DNSREC_NAME_MAX && mail_address_domain_valid(name, false);
}

int dnsrec_mta_sts_policy(const char *hostname, bool self_signed, char *buf, size_t cap)
{
    if (!dnsrec_name_valid(hostname))
        return PB_EINVAL;
    int n = snprintf(buf, cap, "version: STSv1\r\nmode: %s\r\nmx: %s\r\nmax_age: %lu\r\n",
                     self_signed ? "testing" : "enforce", hostname,
                     (unsigned long)DNSREC_MTA_STS_MAX_AGE);
    if (n < 0 || (size_t)n >= cap)
        return PB_ERANGE;
    return n;
}

static void dnsrec_hex(const uint8_t *p, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * n] = '\0';
}

int dnsrec_mta_sts_id(const char *policy, char out[17])
{
    uint8_t digest[WC_SHA256_DIGEST_SIZE];
    if (wc_Sha256Hash((const uint8_t *)policy, (word32)strlen(policy), digest) != 0)
        return PB_ETLS;
    dnsrec_hex(digest, 8, out);
    return 0;
}

/* One row; PB_ERANGE when name or value do not fit. */
static int dnsrec_put(struct dnsrec *r, enum dnsrec_kind kind, uint16_t type, const char *prefix,
                      const char *owner, const char *fmt, const char *a, const char *b)
{
    memset(r, 0, sizeof(*r));
    r->kind = kind;
    r->type = type;
    r->note = dnsrec_notes[kind];
    int n = snprintf(r->name, sizeof(r->name), "%s%s", prefix, owner);
    if (n < 0 || (size_t)n >= sizeof(r->name))
        return PB_ERANGE;
    n = snprintf(r->value, sizeof(r->value), fmt, a, b);
    if (n < 0 || (size_t)n >= sizeof(r->value))
        return PB_ERANGE;
    return 0;
}

int dnsrec_build(const struct dnsrec_input *in, struct dnsrec *out, int cap)
{
    if (!in || !dnsrec_name_valid(in->domain) || !dnsrec_name_valid(in->hostname))
        return PB_EINVAL;
    ip4_addr_t a4;
    if (in->public_ipv4 && !ip4addr_aton(in->public_ipv4, &a4))
        return PB_EINVAL;
    char tlsa[3 * 2 + 2 * WC_SHA256_DIGEST_SIZE + 1];
    if (in->cert_der) {
        const uint8_t *spki;
        size_t spki_len;
        uint8_t digest[WC_SHA256_DIGEST_SIZE];
        if (x509_spki(in->cert_der, in->cert_len, &spki, &spki_len) != 0)
            return PB_ECORRUPT;
        if (wc_Sha256Hash(spki, (word32)spki_len, digest) != 0)
            return PB_ETLS;
        memcpy(tlsa, "3 1 1 ", 6);
        dnsrec_hex(digest, sizeof(digest), tlsa + 6);
    }
    char policy[DNSREC_POLICY_MAX], id[17];
    int err = dnsrec_mta_sts_policy(in->hostname, in->self_signed, policy, sizeof(policy));
    if (err < 0)
        return err;
    if ((err = dnsrec_mta_sts_id(policy, id)) != 0)
        return err;

    struct dnsrec rows[DNSREC_MAX];
    const char *d = in->domain, *h = in->hostname;
    int n = 0;
    err = dnsrec_put(&rows[n++], DNSREC_MX, DNS_T_MX, "", d, "10 %s.%s", h, "");
    if (!err)
        err = dnsrec_put(&rows[n++], DNSREC_SPF, DNS_T_TXT, "", d, "\"v=spf1 mx -all\"%s%s", "", "");
    if (!err) {
        err = dnsrec_put(&rows[n], DNSREC_A, DNS_T_A, "", h, "%s%s",
                         in->public_ipv4 ? in->public_ipv4 : DNSREC_PLACEHOLDER_A, "");
        rows[n++].placeholder = !in->public_ipv4;
    }
    if (!err)
        err = dnsrec_put(&rows[n++], DNSREC_DMARC, DNS_T_TXT, "_dmarc.", d,
                         "\"v=DMARC1; p=quarantine; rua=mailto:postmaster@%s\"%s", d, "");
    if (!err)
        err = dnsrec_put(&rows[n++], DNSREC_MTA_STS_HOST, DNS_T_CNAME, "mta-sts.", d, "%s.%s", h, "");
    if (!err)
        err = dnsrec_put(&rows[n++], DNSREC_MTA_STS, DNS_T_TXT, "_mta-sts.", d,
                         "\"v=STSv1; id=%s\"%s", id, "");
    if (!err)
        err = dnsrec_put(&rows[n++], DNSREC_TLSRPT, DNS_T_TXT, "_smtp._tls.", d,
                         "\"v=TLSRPTv1; rua=mailto:postmaster@%s\"%s", d, "");
    if (!err && in->cert_der)
        err = dnsrec_put(&rows[n++], DNSREC_TLSA, DNS_T_TLSA, "_25._tcp.", h, "%s%s", tlsa, "");
    if (!err)
        err = dnsrec_put(&rows[n++], DNSREC_AUTOCONFIG, DNS_T_CNAME, "autoconfig.", d, "%s.%s", h, "");
    if (!err)
        err = dnsrec_put(&rows[n++], DNSREC_AUTODISCOVER, DNS_T_CNAME, "autodiscover.", d, "%s.%s", h, "");
    if (err)
        return err;
    if (n > cap)
        return PB_ERANGE;
    memcpy(out, rows, (size_t)n * sizeof(rows[0]));
    return n;
}

int dnsrec_format(const struct dnsrec *r, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s %s %s", r->name, dnsrec_type_name(r->type), r->value);
    if (n < 0 || (size_t)n >= cap)
        return PB_ERANGE;
    return n;
}

/* ------------------------------------------------------------ check --- */

/* The TXT records that are "the same kind" as ours start with the same
 * version tag: a domain has other TXT records (site verifications) that
 * are none of our business. */
static size_t dnsrec_txt_tag_len(const char *text)
{
    const char *end = strpbrk(text, " ;");
    return end ? (size_t)(end - text) : strlen(text);
}

/* Append s (n bytes) to found, " | " between entries, bounded; bytes
 * outside printable ASCII become '?', so the console and page can show it. */
static void dnsrec_found_add(char *found, const char *s, size_t n)
{
    size_t len = strlen(found);
    if (len && len + 3 < DNSREC_VALUE_MAX) {
        memcpy(found + len, " | ", 3);
        len += 3;
    }
    for (size_t i = 0; i < n && len < DNSREC_VALUE_MAX; i++) {
        char c = s[i];
        found[len++] = (c < 0x20 || c > 0x7e) ? '?' : c;
    }
    found[len] = '\0';
}

static bool dnsrec_name_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la && a[la - 1] == '.')
        la--;
    if (lb && b[lb - 1] == '.')
        lb--;
    if (la != lb)
        return false;
    for (size_t i = 0; i < la; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (char)(y + 32);
        if (x != y)
            return false;
    }
    return true;
}

/* One answer record of our type: whether it equals r; its text appended
 * to found either way (if it is of our kind). Returns 1 same, 0 other
 * value of our kind, -1 not our kind (a TXT with another tag). */
static int dnsrec_compare(const struct dnsrec *r, const struct dns_answer *a,
                          const struct dns_rr *rr, char *found)
{
    const uint8_t *d = a->data + rr->off;
    char text[DNSREC_VALUE_MAX + 1];
    switch (r->type) {
    case DNS_T_MX: {
        const char *want = strchr(r->value, ' ') + 1;
        snprintf(text, sizeof(text), "%u %s.", (unsigned)rr->pref, (const char *)d);
        dnsrec_found_add(found, text, strlen(text));
        /* The exchange is what matters; a different preference (a backup
         * MX beside it) still delivers to the appliance. */
        return dnsrec_name_eq((const char *)d, want) ? 1 : 0;
    }
    case DNS_T_CNAME:
        snprintf(text, sizeof(text), "%s.", (const char *)d);
        dnsrec_found_add(found, text, strlen(text));
        return dnsrec_name_eq((const char *)d, r->value) ? 1 : 0;
    case DNS_T_A: {
        ip4_addr_t v4;
        memcpy(&v4.addr, d, 4);
        ip4addr_ntoa_r(&v4, text, sizeof(text));
        dnsrec_found_add(found, text, strlen(text));
        /* A placeholder cannot be compared: any address is taken as the
         * office's own. */
        return r->placeholder || strcmp(text, r->value) == 0 ? 1 : 0;
    }
    case DNS_T_TXT: {
        /* Our value without its quotes. */
        const char *want = r->value + 1;
        size_t wlen = strlen(r->value) - 2, tag = dnsrec_txt_tag_len(want);
        if (rr->len < tag || memcmp(d, want, tag) != 0)
            return -1;
        dnsrec_found_add(found, (const char *)d, rr->len);
        return rr->len == wlen && memcmp(d, want, wlen) == 0 && !rr->clipped ? 1 : 0;
    }
    case DNS_T_TLSA: {
        char hex[2 * DNS_TLSA_DATA_MAX + 1];
        dnsrec_hex(d, rr->len, hex);
        snprintf(text, sizeof(text), "%u %u %u %s", rr->usage, rr->selector, rr->mtype, hex);
        dnsrec_found_add(found, text, strlen(text));
        return strcmp(text, r->value) == 0 ? 1 : 0;
    }
    default:
        return -1;
    }
}

void dnsrec_check_judge(struct dnsrec_check *c, int i, int err, const struct dns_answer *a)
{
    char *found = c->found[i];
    found[0] = '\0';
    if (err) {
        c->status[i] = DNSREC_FAILED;
        snprintf(found, DNSREC_VALUE_MAX + 1, "%s",
                 err == PB_ETIMEDOUT ? "no DNS server answered" :
                 err == PB_ENOENT ? "no DNS server is set" : pb_err_str(err));
        return;
    }
    if (a->rcode == DNS_RCODE_NXDOMAIN) {
        c->status[i] = DNSREC_MISSING;
        return;
    }
    if (a->rcode != DNS_RCODE_NOERROR) {
        c->status[i] = DNSREC_FAILED;
        const char *rc = dns_msg_rcode_name(a->rcode);
        snprintf(found, DNSREC_VALUE_MAX + 1, "the DNS server answered %s", rc ? rc : "an error");
        return;
    }
    bool same = false, other = false;
    for (int k = 0; k < a->count; k++) {
        if (a->rr[k].type != c->rec[i].type)
            continue;
        int v = dnsrec_compare(&c->rec[i], a, &a->rr[k], found);
        same |= v == 1;
        other |= v == 0;
    }
    c->status[i] = same ? DNSREC_PRESENT : other ? DNSREC_DIFFERENT : DNSREC_MISSING;
    if (same)
        found[0] = '\0';
}

static void dnsrec_check_next(struct dnsrec_check *c);

static void dnsrec_check_answer(int err, const struct dns_answer *ans, void *arg)
{
    struct dnsrec_check *c = arg;
    dnsrec_check_judge(c, c->next - 1, err, ans);
    if (!c->starting)
        dnsrec_check_next(c);
}

/* Ask about the records one after the other; answers from the cache come
 * back inside dns_query, so this loops rather than recursing. */
static void dnsrec_check_next(struct dnsrec_check *c)
{
    while (c->next < c->count) {
        int i = c->next++;
        c->starting = true;
        int rc = dns_query(c->rec[i].name, c->rec[i].type, dnsrec_check_answer, c);
        c->starting = false;
        if (rc == 0)
            return;                 /* the answer comes later */
        if (rc < 0)
            dnsrec_check_judge(c, i, rc, NULL);
    }
    c->busy = false;
    if (c->done)
        c->done(c, c->arg);
}

int dnsrec_check_start(struct dnsrec_check *c, const struct dnsrec_input *in,
                       dnsrec_done_cb done, void *arg)
{
    memset(c, 0, sizeof(*c));
    int n = dnsrec_build(in, c->rec, DNSREC_MAX);
    if (n < 0)
        return n;
    c->count = n;
    c->done = done;
    c->arg = arg;
    c->busy = true;
    dnsrec_check_next(c);
    return 0;
}

void dnsrec_check_cancel(struct dnsrec_check *c)
{
    if (c->busy)
        dns_cancel(dnsrec_check_answer, c);
    c->busy = false;
    c->done = NULL;
}

bool dnsrec_public_ipv4(char *buf, size_t cap)
{
    struct net_status st;
    net_status(&st);
    if (!st.ipv4_up)
        return false;
    /* RFC 1918, loopback, link-local and the carrier-grade NAT range
     * (100.64/10) are nobody's public address. */
    uint32_t a = lwip_ntohl(ip4_addr_get_u32(&st.addr));
    if ((a >> 24) == 10 || (a >> 24) == 127 || (a >> 20) == 0xac1 || (a >> 16) == 0xc0a8 ||
        (a >> 16) == 0xa9fe || (a >> 22) == (100u << 2 | 1u))
        return false;
    ip4addr_ntoa_r(&st.addr, buf, (int)cap);
    return true;
}

void dnsrec_input_local(const char *domain, struct identity *id, char *pub, size_t cap,
                        struct dnsrec_input *in)
{
    struct identity_info info;
    struct store *st = storage_get();
    memset(in, 0, sizeof(*in));
    in->domain = domain;
    in->hostname = config_get()->hostname;
    in->public_ipv4 = dnsrec_public_ipv4(pub, cap) ? pub : NULL;
    in->self_signed = true;
    if (st && identity_load(st, id) == 0 && identity_info(id, &info) == 0) {
        in->cert_der = id->cert_der;
        in->cert_len = id->cert_len;
        in->self_signed = info.self_signed;
    }
}
