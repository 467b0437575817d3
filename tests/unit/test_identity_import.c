/*
 * test_identity_import.c - the appliance takes an office's own certificate
 * and key as PEM only when they belong together and are in date, and
 * `show tls` reads subject, expiry and self-signedness right.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn_public.h>

#include "identity.h"
#include "pb_err.h"
#include "tls.h"
#include "tls_arena.h"

#define HOST "mail.example.test"

static struct identity id1, id2;
static char cert1[2048], key1[1024], key2[1024];

static void pem(const uint8_t *der, size_t len, int type, char *out, size_t cap)
{
    int n = wc_DerToPem(der, (word32)len, (byte *)out, (word32)cap - 1, type);
    assert_true(n > 0);
    out[n] = '\0';
}

static int setup(void **state)
{
    (void)state;
    assert_int_equal(tls_init(), 0);
    assert_int_equal(identity_generate(HOST, &id1), 0);
    assert_int_equal(identity_generate(HOST, &id2), 0);
    pem(id1.cert_der, id1.cert_len, CERT_TYPE, cert1, sizeof(cert1));
    pem(id1.key_der, id1.key_len, ECC_PRIVATEKEY_TYPE, key1, sizeof(key1));
    pem(id2.key_der, id2.key_len, ECC_PRIVATEKEY_TYPE, key2, sizeof(key2));
    return 0;
}

static void test_info(void **state)
{
    struct identity_info info;
    (void)state;
    assert_int_equal(identity_info(&id1, &info), 0);
    assert_string_equal(info.subject, HOST);
    assert_true(info.self_signed);
    /* Ten years from the board's clock (the sim's is the host's). */
    int64_t now = (int64_t)time(NULL);
    assert_true(info.not_after_s > now + 3650LL * 86400 - 2 * 86400);
    assert_true(info.not_after_s < now + 3655LL * 86400);
    struct tm tm;
    time_t t = (time_t)info.not_after_s;
    char want[32];
    gmtime_r(&t, &tm);
    strftime(want, sizeof(want), "%Y-%m-%d %H:%M:%S UTC", &tm);
    assert_string_equal(info.not_after, want);
}

static void test_import_good(void **state)
{
    static char both[4096];
    struct identity got;
    bool host_ok = false;
    (void)state;
    /* Certificate and key pasted as one text, key first even. */
    snprintf(both, sizeof(both), "junk before\n%s%s", key1, cert1);
    assert_int_equal(identity_import_pem(both, strlen(both), both, strlen(both), HOST,
                                         (int64_t)time(NULL), &got, &host_ok), 0);
    assert_true(host_ok);
    assert_string_equal(got.fingerprint, id1.fingerprint);
    assert_int_equal(got.cert_len, id1.cert_len);
    assert_memory_equal(got.cert_der, id1.cert_der, id1.cert_len);
    assert_int_equal(got.key_len, id1.key_len);

    /* Another hostname: taken, with the warning flag down. */
    assert_int_equal(identity_import_pem(cert1, strlen(cert1), key1, strlen(key1), "other.example",
                                         (int64_t)time(NULL), &got, &host_ok), 0);
    assert_false(host_ok);
}

static void test_import_refused(void **state)
{
    static const struct identity zero;
    struct identity got;
    struct identity_info info;
    bool host_ok = true;
    (void)state;
    /* The key of another certificate. */
    assert_int_equal(identity_import_pem(cert1, strlen(cert1), key2, strlen(key2), HOST,
                                         (int64_t)time(NULL), &got, &host_ok), PB_EPERM);
    assert_memory_equal(&got, &zero, sizeof(got));
    assert_false(host_ok);
    /* Expired: a clock past the certificate's notAfter. */
    assert_int_equal(identity_info(&id1, &info), 0);
    assert_int_equal(identity_import_pem(cert1, strlen(cert1), key1, strlen(key1), HOST,
                                         info.not_after_s + 1, &got, &host_ok), PB_ETIMEDOUT);
    /* No certificate, no key, not PEM at all. */
    assert_int_equal(identity_import_pem(key1, strlen(key1), key1, strlen(key1), HOST,
                                         (int64_t)time(NULL), &got, &host_ok), PB_EINVAL);
    assert_int_equal(identity_import_pem(cert1, strlen(cert1), cert1, strlen(cert1), HOST,
                                         (int64_t)time(NULL), &got, &host_ok), PB_EINVAL);
    assert_int_equal(identity_import_pem("hello", 5, "hello", 5, HOST, 0, &got, &host_ok), PB_EINVAL);
    /* Over the bound. */
    static char big[IDENTITY_PEM_MAX + 2];
    memset(big, 'A', sizeof(big) - 1);
    assert_int_equal(identity_import_pem(big, sizeof(big) - 1, key1, strlen(key1), HOST, 0, &got,
                                         &host_ok), PB_ERANGE);
    /* Nothing left behind in the arena. */
    struct tls_arena_stats st;
    tls_arena_stats(&st);
    assert_int_equal(st.in_use, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info),
        cmocka_unit_test(test_import_good),
        cmocka_unit_test(test_import_refused),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
