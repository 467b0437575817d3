/*
 * test_password.c - account passwords: the verifier is SCRAM-SHA-256's
 * (checked against RFC 7677's worked example), the right password opens
 * it, a wrong one does not, and the clear text is never kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "password.h"
#include "pb_err.h"
#include "tls.h"
#include "wolfssl/wolfcrypt/hmac.h"

static void hex(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

static int setup(void **state)
{
    (void)state;
    return tls_init();
}

static void test_rfc7677_example(void **state)
{
    (void)state;
    uint8_t salt[16], want[32];
    struct password_hash h;
    hex("5b6d99689d12358eeca04b141236fa81", salt, 16);   /* "W22ZaJ0SNY7soEsUEjb6gQ==" */
    assert_int_equal(password_hash_derive("pencil", 6, salt, 4096, &h), 0);
    hex("586e5df283e6dceb5c3e791d8b8528ec191e664045ce971792e2e6b5bb13e2a6", want, 32);
    assert_memory_equal(h.stored_key, want, 32);
    hex("c1f3cbc1c13a9d35a14c0990eed97629ea225863e566a4314ab99f3f00e5d9d5", want, 32);
    assert_memory_equal(h.server_key, want, 32);
    /* With that ServerKey, the server signature of the RFC's exchange is
     * the one the RFC prints (v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=). */
    static const char auth[] = "n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                               "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,"
                               "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    Hmac m;
    uint8_t sig[32];
    assert_int_equal(wc_HmacInit(&m, NULL, INVALID_DEVID), 0);
    assert_int_equal(wc_HmacSetKey(&m, WC_SHA256, h.server_key, 32), 0);
    assert_int_equal(wc_HmacUpdate(&m, (const byte *)auth, sizeof(auth) - 1), 0);
    assert_int_equal(wc_HmacFinal(&m, sig), 0);
    wc_HmacFree(&m);
    hex("eabae24d1062db75a9451ff0b6ea7e98c8546549ff741e672d3251b2397de46e", want, 32);
    assert_memory_equal(sig, want, 32);
}

static void test_make_and_check(void **state)
{
    (void)state;
    struct password_hash a, b;
    const char *pw = "correct horse battery staple";
    assert_int_equal(password_hash_make(pw, strlen(pw), &a), 0);
    assert_int_equal(a.iterations, PASSWORD_ITERATIONS);
    assert_true(password_hash_check(&a, pw, strlen(pw)));
    assert_false(password_hash_check(&a, "correct horse battery stapl", strlen(pw) - 1));
    assert_false(password_hash_check(&a, "Correct horse battery staple", strlen(pw)));
    assert_false(password_hash_check(&a, "", 0));
    /* A fresh salt each time: the same password gives another verifier. */
    assert_int_equal(password_hash_make(pw, strlen(pw), &b), 0);
    assert_memory_not_equal(a.salt, b.salt, PASSWORD_SALT_BYTES);
    assert_memory_not_equal(a.stored_key, b.stored_key, PASSWORD_KEY_BYTES);
    /* The clear text appears nowhere in the verifier. */
    assert_null(memmem(&a, sizeof(a), "horse", 5));
}

static void test_limits(void **state)
{
    (void)state;
    struct password_hash h;
    char big[PASSWORD_MAX + 1];
    memset(big, 'p', sizeof(big));
    assert_int_equal(password_hash_make("", 0, &h), PB_EINVAL);
    assert_int_equal(password_hash_make(big, sizeof(big), &h), PB_EINVAL);
    assert_int_equal(password_hash_make(big, PASSWORD_MAX, &h), 0);
    assert_true(password_hash_check(&h, big, PASSWORD_MAX));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7677_example),
        cmocka_unit_test(test_make_and_check),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests_name("password", tests, setup, NULL);
}
