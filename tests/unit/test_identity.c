/*
 * test_identity.c - the appliance's self-signed identity parses back as
 * what it claims to be.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "identity.h"
#include "pb_err.h"
#include "tls.h"

#define HOST "mail.example.test"

static struct identity id1, id2;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(tls_init(), 0);
    assert_int_equal(identity_generate(HOST, &id1), 0);
    assert_int_equal(identity_generate(HOST, &id2), 0);
    return 0;
}

static void test_parses_with_cn_and_san(void **state)
{
    DecodedCert dc;
    DNS_entry *alt;

    (void)state;
    InitDecodedCert(&dc, id1.cert_der, (word32)id1.cert_len, NULL);
    assert_int_equal(ParseCert(&dc, CERT_TYPE, NO_VERIFY, NULL), 0);
    assert_non_null(dc.subjectCN);
    assert_int_equal(dc.subjectCNLen, strlen(HOST));
    assert_memory_equal(dc.subjectCN, HOST, strlen(HOST));
    alt = dc.altNames;
    assert_non_null(alt);
    assert_int_equal(alt->type, ASN_DNS_TYPE);
    assert_int_equal(alt->len, strlen(HOST));
    assert_memory_equal(alt->name, HOST, strlen(HOST));
    assert_null(alt->next);
    assert_int_equal(dc.keyOID, ECDSAk);
    assert_int_equal(dc.signatureOID, CTC_SHA256wECDSA);
    assert_int_equal(dc.serialSz, 16);
    FreeDecodedCert(&dc);
}

static void test_key_is_p256_and_matches(void **state)
{
    ecc_key key;
    word32 idx = 0;
    WOLFSSL_CTX *ctx;

    (void)state;
    assert_int_equal(wc_ecc_init(&key), 0);
    assert_int_equal(wc_EccPrivateKeyDecode(id1.key_der, &idx, &key, (word32)id1.key_len), 0);
    assert_int_equal(wc_ecc_get_curve_id(key.idx), ECC_SECP256R1);
    assert_int_equal(wc_ecc_size(&key), 32);
    wc_ecc_free(&key);

    /* The key belongs to the certificate. */
    ctx = wolfSSL_CTX_new(wolfSSLv23_server_method());
    assert_non_null(ctx);
    assert_int_equal(wolfSSL_CTX_use_certificate_buffer(ctx, id1.cert_der, (long)id1.cert_len,
                                                        WOLFSSL_FILETYPE_ASN1), WOLFSSL_SUCCESS);
    assert_int_equal(wolfSSL_CTX_use_PrivateKey_buffer(ctx, id1.key_der, (long)id1.key_len,
                                                       WOLFSSL_FILETYPE_ASN1), WOLFSSL_SUCCESS);
    assert_int_equal(wolfSSL_CTX_check_private_key(ctx), WOLFSSL_SUCCESS);
    wolfSSL_CTX_free(ctx);
}

/* Signature and validity dates check out when the certificate is its own
 * trust anchor (dates against the board's clock). */
static void test_self_signature_and_dates(void **state)
{
    WOLFSSL_CERT_MANAGER *cm = wolfSSL_CertManagerNew();

    (void)state;
    assert_non_null(cm);
    assert_int_equal(wolfSSL_CertManagerLoadCABuffer(cm, id1.cert_der, (long)id1.cert_len,
                                                     WOLFSSL_FILETYPE_ASN1), WOLFSSL_SUCCESS);
    assert_int_equal(wolfSSL_CertManagerVerifyBuffer(cm, id1.cert_der, (long)id1.cert_len,
                                                     WOLFSSL_FILETYPE_ASN1), WOLFSSL_SUCCESS);
    /* ... and another identity's certificate does not. */
    assert_int_not_equal(wolfSSL_CertManagerVerifyBuffer(cm, id2.cert_der, (long)id2.cert_len,
                                                         WOLFSSL_FILETYPE_ASN1), WOLFSSL_SUCCESS);
    wolfSSL_CertManagerFree(cm);
}

static void test_fingerprint(void **state)
{
    uint8_t digest[WC_SHA256_DIGEST_SIZE];
    char want[IDENTITY_FPR_SIZE];
    size_t i;

    (void)state;
    assert_int_equal(wc_Sha256Hash(id1.cert_der, (word32)id1.cert_len, digest), 0);
    for (i = 0; i < sizeof(digest); i++)
        snprintf(want + 3 * i, 4, i + 1 < sizeof(digest) ? "%02X:" : "%02X", digest[i]);
    assert_string_equal(id1.fingerprint, want);
    assert_int_equal(strlen(id1.fingerprint), 95);
    for (i = 0; i < 95; i++) {
        char c = id1.fingerprint[i];
        if (i % 3 == 2)
            assert_int_equal(c, ':');
        else
            assert_true((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'));
    }
}

static void test_generations_differ(void **state)
{
    (void)state;
    assert_true(id1.key_len != id2.key_len || memcmp(id1.key_der, id2.key_der, id1.key_len) != 0);
    assert_true(id1.cert_len != id2.cert_len || memcmp(id1.cert_der, id2.cert_der, id1.cert_len) != 0);
    assert_string_not_equal(id1.fingerprint, id2.fingerprint);
}

static void test_bad_hostname(void **state)
{
    struct identity id;
    char longname[IDENTITY_HOSTNAME_MAX + 2];

    (void)state;
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(identity_generate("", &id), PB_EINVAL);
    assert_int_equal(identity_generate(NULL, &id), PB_EINVAL);
    assert_int_equal(identity_generate(longname, &id), PB_EINVAL);
}

static void test_server_config_and_no_leak(void **state)
{
    struct altcp_tls_config *conf = NULL;
    struct tls_arena_stats st;

    (void)state;
    assert_int_equal(identity_server_config(&id1, &conf), 0);
    assert_non_null(conf);
    altcp_tls_free_config(conf);
    tls_stats(&st);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.allocs, 0);
}

/* Generate with the arena running dry at allocation n: either success
 * with a fingerprint that matches the certificate, or PB_ENOMEM and a
 * zeroed identity; never a leak.  Returns 1 on success, 0 on PB_ENOMEM. */
static int generate_failing_at(uint32_t n)
{
    static const struct identity zero;
    static struct identity id;
    struct tls_arena_stats st;
    uint8_t digest[WC_SHA256_DIGEST_SIZE];
    char want[IDENTITY_FPR_SIZE];
    size_t i;
    int ret;

    tls_arena_fail_after(n);
    ret = identity_generate(HOST, &id);
    tls_arena_fail_after(0);
    tls_stats(&st);
    assert_int_equal(st.allocs, 0);
    assert_int_equal(st.in_use, 0);
    if (ret != 0) {
        assert_int_equal(ret, PB_ENOMEM);
        assert_memory_equal(&id, &zero, sizeof(id));
        return 0;
    }
    assert_int_equal(wc_Sha256Hash(id.cert_der, (word32)id.cert_len, digest), 0);
    for (i = 0; i < sizeof(digest); i++)
        snprintf(want + 3 * i, 4, i + 1 < sizeof(digest) ? "%02X:" : "%02X", digest[i]);
    assert_string_equal(id.fingerprint, want);
    return 1;
}

/* The arena runs dry at allocation n: n walks in growing steps until the
 * generation succeeds, then through every one of the last 256 steps
 * (signing the certificate and hashing it for the fingerprint). */
static void test_arena_exhausted_at_each_step(void **state)
{
    uint32_t n, last;

    (void)state;
    for (n = 1; !generate_failing_at(n); n += 1 + n / 64)
        assert_true(n < 1000000);
    last = n;
    for (n = last > 256 ? last - 256 : 1; n < last; n++)
        generate_failing_at(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parses_with_cn_and_san),
        cmocka_unit_test(test_key_is_p256_and_matches),
        cmocka_unit_test(test_self_signature_and_dates),
        cmocka_unit_test(test_fingerprint),
        cmocka_unit_test(test_generations_differ),
        cmocka_unit_test(test_bad_hostname),
        cmocka_unit_test(test_server_config_and_no_leak),
        cmocka_unit_test(test_arena_exhausted_at_each_step),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
