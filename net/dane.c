/*
 * dane.c - TLSA records and the check of a certificate chain against them
 * (see dane.h).  Hashing is wolfCrypt's; the SubjectPublicKeyInfo is found
 * by x509.h; DANE-TA chains are verified by a wolfSSL certificate manager.
 */
#include "dane.h"

#include <stdio.h>
#include <string.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/sha256.h>
#include <wolfssl/wolfcrypt/sha512.h>

#include "pb_err.h"
#include "x509.h"

bool dane_usable(const struct dane_tlsa *r)
{
    if (r->usage != DANE_USAGE_TA && r->usage != DANE_USAGE_EE)
        return false;
    if (r->selector != DANE_SEL_CERT && r->selector != DANE_SEL_SPKI)
        return false;
    return (r->mtype == DANE_MT_SHA256 && r->len == 32) || (r->mtype == DANE_MT_SHA512 && r->len == 64);
}

int dane_from_answer(const struct dns_answer *ans, struct dane_tlsa *out, int cap)
{
    int n = 0;
    for (int i = 0; i < ans->count && n < cap; i++) {
        const struct dns_rr *rr = &ans->rr[i];
        if (rr->type != DNS_T_TLSA || rr->clipped || rr->len > DANE_DATA_MAX)
            continue;
        struct dane_tlsa *t = &out[n];
        t->usage = rr->usage;
        t->selector = rr->selector;
        t->mtype = rr->mtype;
        t->len = (uint8_t)rr->len;
        memcpy(t->data, dns_rr_data(ans, rr), rr->len);
        if (dane_usable(t))
            n++;
    }
    return n;
}

static int dane_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int dane_from_fingerprint(const char *hex, struct dane_tlsa *out)
{
    size_t n = 0;
    const char *p = hex;
    memset(out, 0, sizeof(*out));
    while (*p) {
        int hi = dane_hexval(p[0]);
        int lo = hi < 0 ? -1 : dane_hexval(p[1]);
        if (lo < 0 || n == 32)
            return PB_EINVAL;
        out->data[n++] = (uint8_t)(hi << 4 | lo);
        p += 2;
        if (*p == ':' && p[1])
            p++;
    }
    if (n != 32)
        return PB_EINVAL;
    out->usage = DANE_USAGE_EE;
    out->selector = DANE_SEL_CERT;
    out->mtype = DANE_MT_SHA256;
    out->len = 32;
    return 0;
}

/* Whether the certificate der matches record r (usage aside). */
static bool dane_match_one(const struct dane_tlsa *r, const uint8_t *der, size_t len)
{
    const uint8_t *data = der;
    size_t dlen = len;
    uint8_t hash[WC_SHA512_DIGEST_SIZE];
    if (r->selector == DANE_SEL_SPKI && x509_spki(der, len, &data, &dlen) != 0)
        return false;
    if (dlen > 0xffffffffu)
        return false;
    if (r->mtype == DANE_MT_SHA256) {
        if (wc_Sha256Hash(data, (word32)dlen, hash) != 0)
            return false;
        return memcmp(hash, r->data, WC_SHA256_DIGEST_SIZE) == 0;
    }
    if (wc_Sha512Hash(data, (word32)dlen, hash) != 0)
        return false;
    return memcmp(hash, r->data, WC_SHA512_DIGEST_SIZE) == 0;
}

/* DANE-TA: does the chain from der[0] up to der[k] verify with der[k] as
 * the only trust anchor?  Returns 0, PB_EPERM or PB_ENOMEM. */
static int dane_ta_verify(const uint8_t *const *der, const size_t *len, int k)
{
    WOLFSSL_CERT_MANAGER *cm = wolfSSL_CertManagerNew();
    if (cm == NULL)
        return PB_ENOMEM;
    int ok = len[k] <= 0x7fffffff &&
             wolfSSL_CertManagerLoadCABuffer(cm, der[k], (long)len[k], WOLFSSL_FILETYPE_ASN1) == WOLFSSL_SUCCESS;
    /* Each intermediate below the anchor must verify before it may sign. */
    for (int i = k - 1; ok && i >= 1; i--)
        ok = len[i] <= 0x7fffffff &&
             wolfSSL_CertManagerVerifyBuffer(cm, der[i], (long)len[i], WOLFSSL_FILETYPE_ASN1) == WOLFSSL_SUCCESS &&
             wolfSSL_CertManagerLoadCABuffer(cm, der[i], (long)len[i], WOLFSSL_FILETYPE_ASN1) == WOLFSSL_SUCCESS;
    ok = ok && len[0] <= 0x7fffffff &&
         wolfSSL_CertManagerVerifyBuffer(cm, der[0], (long)len[0], WOLFSSL_FILETYPE_ASN1) == WOLFSSL_SUCCESS;
    wolfSSL_CertManagerFree(cm);
    return ok ? 0 : PB_EPERM;
}

/* RFC 7672 3.2.2: under DANE-TA the server certificate must name one of
 * the reference identifiers (the MX host, the recipient domain). */
static bool dane_named(const uint8_t *der, size_t len, const char *const *names, int nnames)
{
    for (int i = 0; i < nnames; i++)
        if (names[i] && x509_names(der, len, names[i]) == 1)
            return true;
    return false;
}

int dane_check(const struct dane_tlsa *recs, int n, const uint8_t *const *der, const size_t *len, int count,
               const char *const *names, int nnames)
{
    if (count < 1)
        return PB_EINVAL;
    for (int i = 0; i < n; i++)
        if (recs[i].usage == DANE_USAGE_EE && dane_usable(&recs[i]) && dane_match_one(&recs[i], der[0], len[0]))
            return DANE_USAGE_EE;
    int result = PB_EPERM;
    for (int k = 1; k < count; k++) {
        for (int i = 0; i < n; i++) {
            if (recs[i].usage != DANE_USAGE_TA || !dane_usable(&recs[i]) || !dane_match_one(&recs[i], der[k], len[k]))
                continue;
            int err = dane_ta_verify(der, len, k);
            if (err == 0 && !dane_named(der[0], len[0], names, nnames))
                return PB_EPERM;    /* the anchor is right, the name is not: no other anchor helps */
            if (err == 0)
                return DANE_USAGE_TA;
            if (err == PB_ENOMEM)
                result = PB_ENOMEM;
            break;      /* this anchor failed; another one higher up may still do */
        }
    }
    return result;
}

int dane_text(const struct dane_tlsa *r, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%u %u %u ", (unsigned)r->usage, (unsigned)r->selector, (unsigned)r->mtype);
    for (int i = 0; i < r->len && i < 8 && n >= 0 && (size_t)n + 3 < cap; i++)
        n += snprintf(buf + n, cap - (size_t)n, "%02x", r->data[i]);
    if (r->len > 8 && n >= 0 && (size_t)n + 4 < cap)
        n += snprintf(buf + n, cap - (size_t)n, "...");
    return n < 0 ? 0 : n;
}
