/*
 * identity.c - self-signed ECDSA P-256 identity of the appliance.
 */
#include "identity.h"

#include <stdio.h>
#include <string.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "pb_err.h"
#include "store.h"
#include "tls.h"

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
