/*
 * test_auth_guard.c - failed logins per client address: a guesser is
 * locked out after AUTH_GUARD_MAX_FAILS failures in the window, others are
 * not, the lockout ends, and a success clears the count.  Also the SASL
 * PLAIN decoding every service shares.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth_guard.h"
#include "pb_err.h"
#include "sasl.h"

static int setup(void **state)
{
    (void)state;
    auth_guard_reset();
    return 0;
}

static void test_lockout_after_failures(void **state)
{
    (void)state;
    uint64_t t = 1000;
    for (int i = 0; i < AUTH_GUARD_MAX_FAILS - 1; i++) {
        auth_guard_failed("192.0.2.7", t += 1000);
        assert_int_equal(auth_guard_check("192.0.2.7", t), 0);
    }
    auth_guard_failed("192.0.2.7", t += 1000);
    assert_int_equal(auth_guard_check("192.0.2.7", t), PB_EBUSY);
    /* Only that address. */
    assert_int_equal(auth_guard_check("192.0.2.8", t), 0);
    /* Still locked just before the end, free after it. */
    assert_int_equal(auth_guard_check("192.0.2.7", t + AUTH_GUARD_LOCK_MS - 1), PB_EBUSY);
    assert_int_equal(auth_guard_check("192.0.2.7", t + AUTH_GUARD_LOCK_MS), 0);
    /* After the lockout, one more failure does not lock again at once. */
    auth_guard_failed("192.0.2.7", t + AUTH_GUARD_LOCK_MS + 1);
    assert_int_equal(auth_guard_check("192.0.2.7", t + AUTH_GUARD_LOCK_MS + 2), 0);
}

static void test_window_and_success(void **state)
{
    (void)state;
    uint64_t t = 0;
    /* Failures spread wider than the window never lock. */
    for (int i = 0; i < 3 * AUTH_GUARD_MAX_FAILS; i++) {
        t += AUTH_GUARD_WINDOW_MS / (AUTH_GUARD_MAX_FAILS - 2);
        auth_guard_failed("2001:db8::1", t);
        assert_int_equal(auth_guard_check("2001:db8::1", t), 0);
    }
    /* A success clears the count. */
    for (int i = 0; i < AUTH_GUARD_MAX_FAILS - 1; i++)
        auth_guard_failed("198.51.100.1", ++t);
    auth_guard_succeeded("198.51.100.1");
    auth_guard_failed("198.51.100.1", ++t);
    assert_int_equal(auth_guard_check("198.51.100.1", t), 0);
}

static void test_full_table_keeps_lockouts(void **state)
{
    (void)state;
    uint64_t t = 5;
    for (int i = 0; i < AUTH_GUARD_MAX_FAILS; i++)
        auth_guard_failed("203.0.113.9", ++t);
    assert_int_equal(auth_guard_check("203.0.113.9", t), PB_EBUSY);
    /* A flood of other addresses pushes out counts, not the lockout. */
    char peer[32];
    for (int i = 0; i < 4 * AUTH_GUARD_SLOTS; i++) {
        snprintf(peer, sizeof(peer), "10.0.%d.%d", i / 256, i % 256);
        auth_guard_failed(peer, ++t);
    }
    assert_int_equal(auth_guard_check("203.0.113.9", t), PB_EBUSY);
}

/* The limits as settings: after N failures from one address the next
 * login is refused for the lockout, then accepted again. */
static void test_limits_are_settings(void **state)
{
    (void)state;
    uint64_t t = 1000;
    assert_int_equal(auth_guard_set_limits(3, 60000), 0);
    for (int i = 0; i < 2; i++)
        auth_guard_failed("192.0.2.50", ++t);
    assert_int_equal(auth_guard_check("192.0.2.50", t), 0);
    auth_guard_failed("192.0.2.50", ++t);
    assert_int_equal(auth_guard_check("192.0.2.50", t), PB_EBUSY);
    assert_int_equal(auth_guard_check("192.0.2.50", t + 59999), PB_EBUSY);
    assert_int_equal(auth_guard_check("192.0.2.50", t + 60000), 0);
    uint32_t n, ms;
    auth_guard_limits(&n, &ms);
    assert_int_equal(n, 3);
    assert_int_equal(ms, 60000);
    /* Out of range: refused, the limits stay. */
    assert_int_equal(auth_guard_set_limits(0, 60000), PB_ERANGE);
    assert_int_equal(auth_guard_set_limits(3, 10), PB_ERANGE);
    assert_int_equal(auth_guard_set_limits(AUTH_GUARD_FAILS_MAX + 1, 60000), PB_ERANGE);
    auth_guard_limits(&n, &ms);
    assert_int_equal(n, 3);
    assert_int_equal(auth_guard_set_limits(AUTH_GUARD_MAX_FAILS, AUTH_GUARD_LOCK_MS), 0);
}

static void test_sasl_plain(void **state)
{
    (void)state;
    char u[64], p[64];
    /* "\0alice@example.test\0s3cret pass" */
    const char *ok = "AGFsaWNlQGV4YW1wbGUudGVzdABzM2NyZXQgcGFzcw==";
    assert_int_equal(sasl_plain_decode(ok, strlen(ok), u, sizeof(u), p, sizeof(p)), 0);
    assert_string_equal(u, "alice@example.test");
    assert_string_equal(p, "s3cret pass");
    /* Bad base64, missing NUL, empty password, other authzid, too long. */
    assert_int_equal(sasl_plain_decode("AGF=c2Vy", 8, u, sizeof(u), p, sizeof(p)), PB_EINVAL);
    assert_int_equal(sasl_plain_decode("YWJj", 4, u, sizeof(u), p, sizeof(p)), PB_EINVAL);
    assert_int_equal(sasl_plain_decode("AGEA", 4, u, sizeof(u), p, sizeof(p)), PB_EINVAL);
    const char *other = "Ym9iAGFsaWNlAHB3";     /* "bob\0alice\0pw" */
    assert_int_equal(sasl_plain_decode(other, strlen(other), u, sizeof(u), p, sizeof(p)), PB_EPERM);
    assert_string_equal(u, "");
    assert_int_equal(sasl_plain_decode(ok, strlen(ok), u, 5, p, sizeof(p)), PB_ERANGE);
    unsigned char b[8];
    assert_int_equal(sasl_base64_decode("Zm9vYg==", 8, b, sizeof(b)), 4);
    assert_memory_equal(b, "foob", 4);
    assert_int_equal(sasl_base64_decode("Zm9v", 4, b, sizeof(b)), 3);
    assert_int_equal(sasl_base64_decode("Zm9", 3, b, sizeof(b)), PB_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_lockout_after_failures, setup),
        cmocka_unit_test_setup(test_window_and_success, setup),
        cmocka_unit_test_setup(test_full_table_keeps_lockouts, setup),
        cmocka_unit_test_setup(test_limits_are_settings, setup),
        cmocka_unit_test_setup(test_sasl_plain, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
