/*
 * test_mail_encword.c - SEARCH finds "Jörg" and "café" only if encoded
 * subjects and names decode to UTF-8, and bodies only if base64 and
 * quoted-printable decode right whatever the chunking.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "charset.h"
#include "cte.h"
#include "encword.h"

static void decodes(const char *in, const char *want)
{
    char out[256];
    size_t n = mail_encword_decode(in, strlen(in), out, sizeof(out));
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

static void test_encoded_words(void **state)
{
    (void)state;
    decodes("=?UTF-8?B?SsO2cmc=?=", "J\xc3\xb6rg");
    decodes("=?utf-8?q?J=C3=B6rg_M=c3=bcller?=", "J\xc3\xb6rg M\xc3\xbcller");
    decodes("=?ISO-8859-1?Q?caf=E9?= au lait", "caf\xc3\xa9 au lait");
    decodes("=?windows-1252?q?=80_5_=93quoted=94?=", "\xe2\x82\xac 5 \xe2\x80\x9cquoted\xe2\x80\x9d");
    decodes("=?iso-8859-15?q?=A4?=", "\xe2\x82\xac");
    /* Blanks between adjacent encoded-words vanish, others stay; a UTF-8
     * character split across two words is rejoined. */
    decodes("=?utf-8?q?a?= \r\n =?utf-8?q?b?=  c =?utf-8?q?d?=", "ab  c d");
    decodes("=?utf-8?b?w6k=?= =?utf-8?b?w6k=?=", "\xc3\xa9\xc3\xa9");
    decodes("=?utf-8?q?=C3?= =?utf-8?q?=A9?=", "\xc3\xa9");
    /* RFC 2231 language suffix on the charset. */
    decodes("=?utf-8*fr?q?=C3=A9t=C3=A9?=", "\xc3\xa9t\xc3\xa9");
    /* Unknown charsets and malformed words are left as written. */
    decodes("=?koi8-r?b?8NLJ18XU?= x", "=?koi8-r?b?8NLJ18XU?= x");
    decodes("=?utf-8?x?abc?= =?utf-8?q?no end", "=?utf-8?x?abc?= =?utf-8?q?no end");
    decodes("=?utf-8?q?has space?=", "=?utf-8?q?has space?=");
    decodes("plain \xc3\xa9 text", "plain \xc3\xa9 text");
}

static void test_encoded_word_cut(void **state)
{
    (void)state;
    /* Four 2-byte characters into 6 bytes: cut after two, never mid-character. */
    char out[6];
    size_t n = mail_encword_decode("=?utf-8?q?=C3=A9=C3=A9=C3=A9=C3=A9?=", 36, out, sizeof(out));
    assert_int_equal(n, 4);
    assert_string_equal(out, "\xc3\xa9\xc3\xa9");
    char one[1];
    assert_int_equal(mail_encword_decode("abc", 3, one, 1), 0);
    assert_string_equal(one, "");
}

/* Decode in with the given chunk size and output buffer size. */
static size_t run(enum mail_cte_kind k, const char *in, size_t chunk, char *out, size_t cap)
{
    struct mail_cte d;
    char buf[MAIL_CTE_OUT_MIN];
    size_t len = strlen(in), total = 0;
    mail_cte_init(&d, k);
    for (size_t i = 0; i < len; i += chunk) {
        size_t c = len - i < chunk ? len - i : chunk, off = 0;
        while (off < c) {
            size_t used;
            size_t n = mail_cte_decode(&d, in + i + off, c - off, &used, buf, sizeof(buf));
            assert_true(total + n <= cap);
            memcpy(out + total, buf, n);
            total += n;
            off += used;
        }
    }
    size_t n = mail_cte_finish(&d, buf, sizeof(buf));
    memcpy(out + total, buf, n);
    return total + n;
}

static void both(enum mail_cte_kind k, const char *in, const char *want, size_t wlen)
{
    char out[512];
    static const size_t chunks[] = { 1, 2, 3, 5, 1000 };
    for (unsigned c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
        size_t n = run(k, in, chunks[c], out, sizeof(out));
        assert_int_equal(n, wlen);
        assert_memory_equal(out, want, wlen);
    }
}

static void test_base64_bodies(void **state)
{
    (void)state;
    both(MAIL_CTE_BASE64, "SGVsbG8sIHdvcmxk\r\nIQ==\r\n", "Hello, world!", 13);
    both(MAIL_CTE_BASE64, "AAEC/w==", "\x00\x01\x02\xff", 4);
    /* Line breaks, blanks and stray characters are skipped. */
    both(MAIL_CTE_BASE64, "SG Vs\nbG8*", "Hello", 5);
    both(MAIL_CTE_BASE64, "", "", 0);
}

static void test_quoted_printable_bodies(void **state)
{
    (void)state;
    both(MAIL_CTE_QP, "Caf=C3=A9 =\r\nopens   \r\nat 8=3d8=\n", "Caf\xc3\xa9 opens\r\nat 8=8", 19);
    /* Lower-case hex, a lone "=", "=" followed by junk, bare LF. */
    both(MAIL_CTE_QP, "a=e9b = c=zz\nd", "a\xe9" "b = c=zz\nd", 12);
    /* Trailing blanks at the end of the body go; padding after a soft break too. */
    both(MAIL_CTE_QP, "end  \t", "end", 3);
    both(MAIL_CTE_QP, "x= \t\r\ny", "xy", 2);
    /* A long run of blanks that is not trailing survives. */
    char in[200], want[200];
    memset(in, ' ', 150);
    strcpy(in + 150, "z");
    memset(want, ' ', 150);
    want[150] = 'z';
    both(MAIL_CTE_QP, in, want, 151);
    /* RFC 2047's Q: "_" is a space, "=" escapes, line breaks are text. */
    both(MAIL_CTE_Q, "a_b=5F=3f", "a b_?", 5);
}

static void test_charsets(void **state)
{
    (void)state;
    char u[4];
    assert_int_equal(mail_charset_find("Latin1", 6), MAIL_CHARSET_LATIN1);
    assert_int_equal(mail_charset_find("UTF-8", 5), MAIL_CHARSET_UTF8);
    assert_int_equal(mail_charset_find("utf-80", 6), MAIL_CHARSET_UNKNOWN);
    assert_int_equal(mail_charset_find("big5", 4), MAIL_CHARSET_UNKNOWN);
    assert_int_equal(mail_charset_to_utf8(MAIL_CHARSET_LATIN1, 0xe9, u), 2);
    assert_memory_equal(u, "\xc3\xa9", 2);
    assert_int_equal(mail_charset_to_utf8(MAIL_CHARSET_CP1252, 0x80, u), 3);
    assert_memory_equal(u, "\xe2\x82\xac", 3);
    assert_int_equal(mail_charset_to_utf8(MAIL_CHARSET_LATIN1, 0x80, u), 2);
    assert_memory_equal(u, "\xc2\x80", 2);
    assert_int_equal(mail_charset_to_utf8(MAIL_CHARSET_UNKNOWN, 'a', u), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encoded_words),
        cmocka_unit_test(test_encoded_word_cut),
        cmocka_unit_test(test_base64_bodies),
        cmocka_unit_test(test_quoted_printable_bodies),
        cmocka_unit_test(test_charsets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
