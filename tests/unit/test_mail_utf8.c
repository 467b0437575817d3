/*
 * test_mail_utf8.c - the one UTF-8 codec: every code point round-trips,
 * and what RFC 3629 forbids (overlongs, surrogates, beyond U+10FFFF,
 * truncated or stray continuation bytes) is refused, so an SMTPUTF8
 * address or an IMAP mailbox name cannot smuggle any of it in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "utf8.h"

static void test_every_code_point_round_trips(void **state)
{
    (void)state;
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        char b[4];
        size_t n = mail_utf8_put(cp, b);
        assert_int_equal(n, cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4);
        size_t i = 0;
        assert_int_equal(mail_utf8_next(b, n, &i), (int32_t)cp);
        assert_int_equal(i, n);
        /* One byte short is refused and does not move the position. */
        if (n > 1) {
            i = 0;
            assert_int_equal(mail_utf8_next(b, n - 1, &i), -1);
            assert_int_equal(i, 0);
        }
    }
}

static void test_forbidden_forms(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\xC0\xAF",             /* overlong '/' */
        "\xC1\xBF",             /* overlong */
        "\xE0\x80\xAF",         /* overlong, three bytes */
        "\xF0\x80\x80\xAF",     /* overlong, four bytes */
        "\xED\xA0\x80",         /* U+D800, a surrogate */
        "\xED\xBF\xBF",         /* U+DFFF */
        "\xF4\x90\x80\x80",     /* U+110000 */
        "\xF5\x80\x80\x80",     /* no such lead byte */
        "\xFF",
        "\x80",                 /* a stray continuation byte */
        "\xC3\x28",             /* lead byte, then no continuation */
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        size_t i = 0;
        assert_int_equal(mail_utf8_next(bad[k], strlen(bad[k]), &i), -1);
        assert_int_equal(i, 0);
        assert_false(mail_utf8_valid(bad[k], strlen(bad[k])));
    }
    static const char good[] = "Gr\xC3\xBC\xC3\x9F" "e \xE2\x82\xAC \xF0\x9F\x93\xAE";
    assert_true(mail_utf8_valid(good, sizeof(good) - 1));
    assert_false(mail_utf8_valid("ok \xE2\x82", 5));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_point_round_trips),
        cmocka_unit_test(test_forbidden_forms),
    };
    return cmocka_run_group_tests_name("mail_utf8", tests, NULL, NULL);
}
