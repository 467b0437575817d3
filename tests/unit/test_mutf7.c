/*
 * test_mutf7.c - folder names a rev1 client (Thunderbird, Outlook, mutt)
 * sends in modified UTF-7 reach the store as the UTF-8 a rev2 client sees,
 * and come back unchanged: RFC 3501's examples, "&-" for "&", characters
 * beyond the BMP, and every non-canonical or broken form refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "imap_mutf7.h"
#include "pb_err.h"

/* mutf7 decodes to utf8 and utf8 encodes to mutf7. */
static void pair(const char *mutf7, const char *utf8)
{
    char out[256];
    int n = imap_mutf7_decode(mutf7, strlen(mutf7), out, sizeof(out));
    assert_int_equal(n, (int)strlen(utf8));
    assert_string_equal(out, utf8);
    n = imap_mutf7_encode(utf8, strlen(utf8), out, sizeof(out));
    assert_int_equal(n, (int)strlen(mutf7));
    assert_string_equal(out, mutf7);
}

static void refused(const char *mutf7)
{
    char out[256];
    assert_int_equal(imap_mutf7_decode(mutf7, strlen(mutf7), out, sizeof(out)), PB_EINVAL);
}

static void test_rfc_examples(void **state)
{
    (void)state;
    /* RFC 3501 5.1.3: "~peter/mail/台北/日本語". */
    pair("~peter/mail/&U,BTFw-/&ZeVnLIqe-", "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
    pair("&U,BTFw-", "\xe5\x8f\xb0\xe5\x8c\x97");
    pair("Tom &- Jerry", "Tom & Jerry");
    pair("&-&-", "&&");
    pair("INBOX", "INBOX");
    pair("", "");
    /* German umlauts, as Thunderbird names a folder "Entwürfe". */
    pair("Entw&APw-rfe", "Entw\xc3\xbcrfe");
    /* Two characters in one shift, not two shifts. */
    pair("&AOQA9g-", "\xc3\xa4\xc3\xb6");
    /* Beyond the BMP: a surrogate pair (U+1F4E7 E-MAIL SYMBOL). */
    pair("&2D3c5w-", "\xf0\x9f\x93\xa7");
    /* A shift that ends right before "&-". */
    pair("&AOQ-&-", "\xc3\xa4&");
}

static void test_refusals(void **state)
{
    (void)state;
    refused("&U,BTFw");         /* unterminated */
    refused("a&b");             /* "&" alone */
    refused("&");
    refused("&AGE-");           /* "a" must stand for itself */
    refused("&AOQ-&APY-");      /* two shifts back to back */
    refused("&AOR-");           /* padding bits not zero */
    refused("&AOQA-");          /* six bits too many */
    refused("&2D0-");           /* a high surrogate alone */
    refused("&3OcAIA-");        /* a low surrogate alone (and a space) */
    refused("&AAA-");           /* U+0000 */
    refused("caf\xc3\xa9");     /* raw 8-bit is not modified UTF-7 */
    refused("a\tb");            /* control characters are encoded, never raw */
    refused("&U/BTFw-");        /* "/" is not in modified BASE64 */
    refused("&U,BTFw=-");       /* nor "=" */

    char out[64];
    /* Not UTF-8: an overlong "/", a surrogate, a truncated sequence. */
    assert_int_equal(imap_mutf7_encode("\xc0\xaf", 2, out, sizeof(out)), PB_EINVAL);
    assert_int_equal(imap_mutf7_encode("\xed\xa0\x80", 3, out, sizeof(out)), PB_EINVAL);
    assert_int_equal(imap_mutf7_encode("\xc3", 1, out, sizeof(out)), PB_EINVAL);
    assert_int_equal(imap_mutf7_encode("\xf4\x90\x80\x80", 4, out, sizeof(out)), PB_EINVAL);
    assert_false(imap_mutf7_utf8_ok("\xc3", 1));
    assert_true(imap_mutf7_utf8_ok("\xc3\xa9", 2));
}

static void test_room(void **state)
{
    (void)state;
    char out[9];
    /* "&U,BTFw-" needs 8 bytes and the NUL. */
    assert_int_equal(imap_mutf7_encode("\xe5\x8f\xb0\xe5\x8c\x97", 6, out, 9), 8);
    assert_int_equal(imap_mutf7_encode("\xe5\x8f\xb0\xe5\x8c\x97", 6, out, 8), PB_ERANGE);
    assert_int_equal(imap_mutf7_decode("&U,BTFw-", 8, out, 7), 6);
    assert_int_equal(imap_mutf7_decode("&U,BTFw-", 8, out, 6), PB_ERANGE);
    assert_int_equal(imap_mutf7_decode("abc", 3, out, 0), PB_ERANGE);
}

/* Every BMP character (but NUL, surrogates and printable ASCII) goes out
 * and back, alone and after another one. */
static void test_round_trip_bmp(void **state)
{
    (void)state;
    char utf8[16], m[64], back[16];
    for (uint32_t cp = 1; cp < 0x10000; cp++) {
        if ((cp >= 0x20 && cp <= 0x7e) || (cp >= 0xd800 && cp <= 0xdfff))
            continue;
        size_t n = 0;
        utf8[n++] = 'x';
        if (cp < 0x80) {
            utf8[n++] = (char)cp;
        } else if (cp < 0x800) {
            utf8[n++] = (char)(0xc0 | (cp >> 6));
            utf8[n++] = (char)(0x80 | (cp & 0x3f));
        } else {
            utf8[n++] = (char)(0xe0 | (cp >> 12));
            utf8[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
            utf8[n++] = (char)(0x80 | (cp & 0x3f));
        }
        utf8[n++] = '\xc3';
        utf8[n++] = '\xa9';
        int e = imap_mutf7_encode(utf8, n, m, sizeof(m));
        assert_true(e > 0);
        int d = imap_mutf7_decode(m, (size_t)e, back, sizeof(back));
        assert_int_equal(d, (int)n);
        assert_memory_equal(back, utf8, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_examples),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_room),
        cmocka_unit_test(test_round_trip_bmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
