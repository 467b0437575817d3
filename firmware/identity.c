/*
 * identity.c - self-signed ECDSA P-256 identity of the appliance.
 */
#include "identity.h"

#include <stdio.h>
#include <string.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "pb_err.h"
#include "store.h"
#include "tls.h"
#include "x509.h"

#define IDENTITY_SERIAL_LEN 16

/* Everything large lives in one arena block, not on the stack. */
struct identity_work {
    WC_RNG rng;
    ecc_key key;
    Cert cert;
};

/* DER GeneralNames holding one dNSName: SEQUENCE { [2] IA5String }. */
static int identity_san(const char *hostname, uint8_t *out, size_t cap)
{
    size_t n = strlen(hostname);

    if (n > 125 || n + 4 > cap)
        return PB_ERANGE;
    out[0] = 0x30;
    out[1] = (uint8_t)(n + 2);
    out[2] = 0x82;
    out[3] = (uint8_t)n;
    memcpy(out + 4, hostname, n);
    return (int)(n + 4);
}

/* A wolfCrypt return code as a project error: MEMORY_E means the TLS
 * arena ran dry, anything else is a crypto failure. */
static int identity_wolf_err(int ret)
{
    return ret == MEMORY_E ? PB_ENOMEM : PB_ETLS;
}

/* The hash needs arena memory (WOLFSSL_SMALL_STACK), so it can fail; a
 * fingerprint made of an uninitialised digest would be pinned by users. */
static int identity_fingerprint(const uint8_t *der, size_t len, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    uint8_t digest[WC_SHA256_DIGEST_SIZE];
    size_t i;
    int ret;

    ret = wc_Sha256Hash(der, (word32)len, digest);
    if (ret != 0)
        return identity_wolf_err(ret);
    for (i = 0; i < sizeof(digest); i++) {
        out[3 * i] = hex[digest[i] >> 4];
        out[3 * i + 1] = hex[digest[i] & 15];
        out[3 * i + 2] = (i + 1 < sizeof(digest)) ? ':' : '\0';
    }
    return 0;
}

static int identity_make(struct identity_work *w, const char *hostname, struct identity *id)
{
    Cert *c = &w->cert;
    int ret, san;

    ret = wc_ecc_make_key_ex(&w->rng, 32, &w->key, ECC_SECP256R1);
    if (ret != 0)
        return identity_wolf_err(ret);
    ret = wc_EccKeyToDer(&w->key, id->key_der, sizeof(id->key_der));
    if (ret <= 0)
        return identity_wolf_err(ret);
    id->key_len = (size_t)ret;

    if (wc_InitCert(c) != 0)
        return PB_ETLS;
    snprintf(c->subject.commonName, sizeof(c->subject.commonName), "%s", hostname);
    snprintf(c->subject.org, sizeof(c->subject.org), "%s", "Pillarbox");
    c->sigType = CTC_SHA256wECDSA;
    c->isCA = 0;
    c->daysValid = IDENTITY_VALID_DAYS;  /* wolfSSL starts it one day back */
    if (wc_RNG_GenerateBlock(&w->rng, c->serial, IDENTITY_SERIAL_LEN) != 0)
        return PB_ETLS;
    c->serial[0] = (uint8_t)((c->serial[0] & 0x7f) | 0x40);  /* positive, full length */
    c->serialSz = IDENTITY_SERIAL_LEN;
    san = identity_san(hostname, c->altNames, sizeof(c->altNames));
    if (san < 0)
        return PB_EINVAL;
    c->altNamesSz = san;
    ret = wc_SetSubjectKeyIdFromPublicKey_ex(c, ECC_TYPE, &w->key);
    if (ret != 0)
        return identity_wolf_err(ret);
    if (wc_SetKeyUsage(c, "digitalSignature") != 0)
        return PB_ETLS;
    if (wc_SetExtKeyUsage(c, "serverAuth,clientAuth") != 0)
        return PB_ETLS;

    ret = wc_MakeCert_ex(c, id->cert_der, sizeof(id->cert_der), ECC_TYPE, &w->key, &w->rng);
    if (ret <= 0)
        return identity_wolf_err(ret);
    ret = wc_SignCert_ex(c->bodySz, c->sigType, id->cert_der, sizeof(id->cert_der),
                         ECC_TYPE, &w->key, &w->rng);
    if (ret <= 0)
        return identity_wolf_err(ret);
    id->cert_len = (size_t)ret;
    return identity_fingerprint(id->cert_der, id->cert_len, id->fingerprint);
}

/* Generate into id with the work area w (zeroed, from the arena). */
static int identity_generate_in(struct identity_work *w, const char *hostname,
                                struct identity *id)
{
    int ret;

    ret = wc_InitRng(&w->rng);
    if (ret != 0)
        return identity_wolf_err(ret);
    ret = wc_ecc_init(&w->key);
    if (ret == 0) {
        ret = identity_make(w, hostname, id);
        wc_ecc_free(&w->key);
    } else {
        ret = identity_wolf_err(ret);
    }
    wc_FreeRng(&w->rng);
    return ret;
}

int identity_generate(const char *hostname, struct identity *id)
{
    struct identity_work *w;
    struct tls_arena_stats before, after;
    size_t n;
    int ret;

    if (id == NULL)
        return PB_EINVAL;
    memset(id, 0, sizeof(*id));
    n = hostname != NULL ? strlen(hostname) : 0;
    if (n == 0 || n > IDENTITY_HOSTNAME_MAX)
        return PB_EINVAL;
    tls_arena_stats(&before);
    w = tls_arena_alloc(sizeof(*w));
    if (w == NULL)
        return PB_ENOMEM;
    memset(w, 0, sizeof(*w));
    ret = identity_generate_in(w, hostname, id);
    memset(w, 0, sizeof(*w));  /* the private key must not linger in the arena */
    tls_arena_free(w);
    if (ret != 0) {
        memset(id, 0, sizeof(*id));
        /* wolfCrypt does not always say MEMORY_E when an allocation
         * failed (the DRBG and the big-number code have their own codes);
         * the arena knows. */
        tls_arena_stats(&after);
        if (after.failed != before.failed)
            ret = PB_ENOMEM;
    }
    return ret;
}

int identity_server_config(const struct identity *id, struct altcp_tls_config **out)
{
    struct altcp_tls_config *conf;

    if (id == NULL || out == NULL || id->key_len == 0 || id->cert_len == 0)
        return PB_EINVAL;
    conf = altcp_tls_create_config_server_privkey_cert(id->key_der, id->key_len, NULL, 0,
                                                       id->cert_der, id->cert_len);
    if (conf == NULL)
        return PB_ENOMEM;
    *out = conf;
    return 0;
}

/* ------------------------------------------------------ persistence --- */

/* Settings holding the identity: the key and the certificate, DER. */
#define IDENTITY_KEY_SETTING  "tls.key"
#define IDENTITY_CERT_SETTING "tls.cert"

int identity_load(struct store *s, struct identity *id)
{
    enum store_type tk, tc;
    int kn, cn, ret;

    if (s == NULL || id == NULL)
        return PB_EINVAL;
    memset(id, 0, sizeof(*id));
    kn = store_setting_get(s, IDENTITY_KEY_SETTING, &tk, id->key_der, sizeof(id->key_der));
    cn = store_setting_get(s, IDENTITY_CERT_SETTING, &tc, id->cert_der, sizeof(id->cert_der));
    if (kn == PB_ENOENT && cn == PB_ENOENT)
        return PB_ENOENT;
    /* Both are written in one transaction: one without the other, or
     * something that is not DER bytes, is damage. */
    if (kn <= 0 || cn <= 0 || tk != STORE_T_BYTES || tc != STORE_T_BYTES)
        ret = kn < 0 && kn != PB_ENOENT ? kn : cn < 0 && cn != PB_ENOENT ? cn : PB_ECORRUPT;
    else
        ret = 0;
    if (ret == 0) {
        id->key_len = (size_t)kn;
        id->cert_len = (size_t)cn;
        ret = identity_fingerprint(id->cert_der, id->cert_len, id->fingerprint);
    }
    if (ret != 0)
        memset(id, 0, sizeof(*id));
    return ret;
}

int identity_save(struct store *s, const struct identity *id)
{
    struct store_txn *t;
    int err;

    if (s == NULL || id == NULL || id->key_len == 0 || id->cert_len == 0)
        return PB_EINVAL;
    if ((err = store_txn_begin(s, &t)) != 0)
        return err;
    err = store_setting_set(t, IDENTITY_KEY_SETTING, STORE_T_BYTES, id->key_der, id->key_len);
    if (err == 0)
        err = store_setting_set(t, IDENTITY_CERT_SETTING, STORE_T_BYTES, id->cert_der, id->cert_len);
    if (err != 0) {
        store_txn_abort(t);
        return err;
    }
    return store_txn_commit(t);
}

/* ------------------------------------------------- reading, import --- */

/* Days from 1970-01-01 to the civil date y-m-d (proleptic Gregorian). */
static int64_t identity_days(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int identity_info(const struct identity *id, struct identity_info *info)
{
    DecodedCert *dc;
    const byte *date;
    byte format;
    int length, ret;
    struct tm tm;

    if (id == NULL || info == NULL || id->cert_len == 0)
        return PB_EINVAL;
    memset(info, 0, sizeof(*info));
    dc = tls_arena_alloc(sizeof(*dc));
    if (dc == NULL)
        return PB_ENOMEM;
    InitDecodedCert(dc, id->cert_der, (word32)id->cert_len, NULL);
    ret = ParseCert(dc, CERT_TYPE, NO_VERIFY, NULL);
    if (ret == 0 && dc->afterDate != NULL &&
        wc_GetDateInfo(dc->afterDate, dc->afterDateLen, &date, &format, &length) == 0 &&
        wc_GetDateAsCalendarTime(date, length, format, &tm) == 0) {
        if (dc->subjectCN != NULL && dc->subjectCNLen > 0)
            snprintf(info->subject, sizeof(info->subject), "%.*s",
                     dc->subjectCNLen < IDENTITY_SUBJECT_MAX ? dc->subjectCNLen : IDENTITY_SUBJECT_MAX,
                     dc->subjectCN);
        info->self_signed = memcmp(dc->issuerHash, dc->subjectHash, sizeof(dc->subjectHash)) == 0;
        info->not_after_s = identity_days(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) * 86400 +
                            tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
        snprintf(info->not_after, sizeof(info->not_after), "%04u-%02u-%02u %02u:%02u:%02u UTC",
                 (unsigned short)(tm.tm_year + 1900), (unsigned char)(tm.tm_mon + 1),
                 (unsigned char)tm.tm_mday, (unsigned char)tm.tm_hour, (unsigned char)tm.tm_min,
                 (unsigned char)tm.tm_sec);
        ret = 0;
    } else {
        ret = ret == MEMORY_E ? PB_ENOMEM : PB_ECORRUPT;
    }
    FreeDecodedCert(dc);
    tls_arena_free(dc);
    return ret;
}

/* Whether the key belongs to the certificate: the public key derived from
 * the private one, as a SubjectPublicKeyInfo, is the certificate's.  (Done
 * here rather than by wolfSSL_CTX_check_private_key, which took a
 * mismatched ECDSA key in this build.)  ECDSA keys only: see identity.h. */
static int identity_key_matches(const struct identity *id)
{
    struct identity_work *w;
    const uint8_t *spki;
    size_t spki_len;
    uint8_t pub[160];
    word32 idx = 0;
    int ret, n;

    if (x509_spki(id->cert_der, id->cert_len, &spki, &spki_len) != 0)
        return PB_EINVAL;
    w = tls_arena_alloc(sizeof(*w));
    if (w == NULL)
        return PB_ENOMEM;
    memset(w, 0, sizeof(*w));
    ret = wc_ecc_init(&w->key);
    if (ret != 0) {
        tls_arena_free(w);
        return identity_wolf_err(ret);
    }
    ret = wc_EccPrivateKeyDecode(id->key_der, &idx, &w->key, (word32)id->key_len);
    if (ret == 0 && w->key.type == ECC_PRIVATEKEY_ONLY)
        ret = wc_ecc_make_pub(&w->key, NULL);
    if (ret != 0) {
        ret = ret == MEMORY_E ? PB_ENOMEM : PB_EINVAL;
    } else {
        n = wc_EccPublicKeyToDer(&w->key, pub, sizeof(pub), 1);
        if (n <= 0)
            ret = identity_wolf_err(n);
        else
            ret = (size_t)n == spki_len && memcmp(pub, spki, spki_len) == 0 ? 0 : PB_EPERM;
    }
    wc_ecc_free(&w->key);
    memset(w, 0, sizeof(*w));
    tls_arena_free(w);
    return ret;
}

static int identity_import_in(const char *cert_pem, size_t cert_len, const char *key_pem,
                              size_t key_len, const char *hostname, int64_t now_s,
                              struct identity *id, bool *host_ok)
{
    struct identity_info info;
    int ret;

    if (cert_len > IDENTITY_PEM_MAX || key_len > IDENTITY_PEM_MAX)
        return PB_ERANGE;
    /* A missing header and a buffer too small look alike to wolfCrypt
     * (both fail); the header is looked for first so the user hears which. */
    ret = wc_CertPemToDer((const byte *)cert_pem, (int)cert_len, id->cert_der,
                          (int)sizeof(id->cert_der), CERT_TYPE);
    if (ret == BUFFER_E)
        return PB_ERANGE;
    if (ret <= 0)
        return ret == MEMORY_E ? PB_ENOMEM : PB_EINVAL;
    id->cert_len = (size_t)ret;
    ret = wc_KeyPemToDer((const byte *)key_pem, (int)key_len, id->key_der,
                         (int)sizeof(id->key_der), NULL);
    if (ret == BUFFER_E)
        return PB_ERANGE;
    if (ret <= 0)
        return ret == MEMORY_E ? PB_ENOMEM : PB_EINVAL;
    id->key_len = (size_t)ret;
    if ((ret = identity_info(id, &info)) != 0)
        return ret == PB_ECORRUPT ? PB_EINVAL : ret;
    if ((ret = identity_key_matches(id)) != 0)
        return ret;
    if (info.not_after_s <= now_s)
        return PB_ETIMEDOUT;
    *host_ok = hostname != NULL && x509_names(id->cert_der, id->cert_len, hostname) == 1;
    return identity_fingerprint(id->cert_der, id->cert_len, id->fingerprint);
}

int identity_import_pem(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
                        const char *hostname, int64_t now_s, struct identity *id, bool *host_ok)
{
    bool ok = false;
    int ret;

    if (cert_pem == NULL || key_pem == NULL || id == NULL)
        return PB_EINVAL;
    memset(id, 0, sizeof(*id));
    ret = identity_import_in(cert_pem, cert_len, key_pem, key_len, hostname, now_s, id, &ok);
    if (ret != 0)
        memset(id, 0, sizeof(*id));
    if (host_ok != NULL)
        *host_ok = ret == 0 && ok;
    return ret;
}
