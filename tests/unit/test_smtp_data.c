/*
 * test_smtp_data.c - the end of a message is <CRLF>.<CRLF> and nothing
 * else: dot-unstuffing, pipelined bytes left alone, and the SMTP smuggling
 * variants (bare LF or CR around the dot) never end the data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "smtp_data.h"

static uint8_t out[8192];
static size_t out_len;
static struct smtp_data d;

/* Decode s in one go; returns the input bytes consumed. */
static size_t decode(const char *s)
{
    smtp_data_init(&d);
    return smtp_data_feed(&d, (const uint8_t *)s, strlen(s), out, &out_len);
}

static void test_plain_message(void **state)
{
    (void)state;
    const char *m = "Subject: hi\r\n\r\nbody\r\n.\r\n";
    assert_int_equal(decode(m), strlen(m));
    assert_true(d.done);
    assert_int_equal(out_len, strlen(m) - 3);
    assert_memory_equal(out, "Subject: hi\r\n\r\nbody\r\n", out_len);
    assert_int_equal(d.flags, 0);
    /* An empty message. */
    assert_int_equal(decode(".\r\n"), 3);
    assert_true(d.done);
    assert_int_equal(out_len, 0);
}

static void test_dot_unstuffing(void **state)
{
    (void)state;
    const char *m = "..leading dot\r\n...\r\n.x\r\n.\r\n";
    decode(m);
    assert_true(d.done);
    assert_memory_equal(out, ".leading dot\r\n..\r\nx\r\n", out_len);
    assert_int_equal(out_len, strlen(".leading dot\r\n..\r\nx\r\n"));
}

static void test_pipelined_bytes_stay(void **state)
{
    (void)state;
    const char *m = "a\r\n.\r\nQUIT\r\n";
    assert_int_equal(decode(m), strlen("a\r\n.\r\n"));
    assert_true(d.done);
}

static void test_smuggling_never_ends_data(void **state)
{
    (void)state;
    /* Each would end the message for a lax server; here none does. */
    static const char *probes[] = {
        "a\r\n.\nMAIL FROM:<x@evil>\r\n",
        "a\n.\r\nMAIL FROM:<x@evil>\r\n",
        "a\n.\nMAIL FROM:<x@evil>\r\n",
        "a\r.\r\nMAIL FROM:<x@evil>\r\n",
        "a\r\n.\rMAIL FROM:<x@evil>\r\n",
        "a\r.\rMAIL FROM:<x@evil>\r\n",
        "a\r\n\x00.\r\nMAIL FROM:<x@evil>\r\n",
    };
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        const char *p = probes[i];
        size_t len = strlen(p) + (i == 6 ? 0 : 0);
        if (i == 6)
            len = 3 + 1 + strlen(".\r\nMAIL FROM:<x@evil>\r\n");
        smtp_data_init(&d);
        size_t used = smtp_data_feed(&d, (const uint8_t *)p, len, out, &out_len);
        if (d.done)
            fail_msg("probe %zu ended the data", i);
        assert_int_equal(used, len);
    }
    /* The bare characters are recorded so the session refuses the message. */
    decode("a\n.\nb\r\n.\r\n");
    assert_true(d.done);
    assert_true(d.flags & SMTP_DATA_BARE_LF);
    decode("a\rb\r\n.\r\n");
    assert_true(d.flags & SMTP_DATA_BARE_CR);
    decode(".\rx\r\n.\r\n");
    assert_true(d.done);
    assert_true(d.flags & SMTP_DATA_BARE_CR);
}

static void test_long_lines_and_8bit(void **state)
{
    (void)state;
    char m[2100];
    memset(m, 'x', 998);
    strcpy(m + 998, "\r\n.\r\n");
    decode(m);
    assert_false(d.flags & SMTP_DATA_LONG_LINE);     /* 1000 with CRLF: fine */
    memset(m, 'x', 999);
    strcpy(m + 999, "\r\n.\r\n");
    decode(m);
    assert_true(d.flags & SMTP_DATA_LONG_LINE);
    decode("gr\xc3\xbc\xc3\x9f\r\n.\r\n");
    assert_int_equal(d.flags, SMTP_DATA_8BIT);
}

static void test_any_split_gives_the_same_result(void **state)
{
    (void)state;
    const char *m = "x\r\n..y\r\n.\rz\r\n\r\n.\r\nEXTRA";
    size_t len = strlen(m);
    uint8_t whole[256];
    size_t whole_len;
    struct smtp_data w;
    smtp_data_init(&w);
    size_t whole_used = smtp_data_feed(&w, (const uint8_t *)m, len, whole, &whole_len);
    for (size_t a = 0; a <= len; a++) {
        for (size_t b = a; b <= len; b++) {
            uint8_t got[256];
            size_t n = 0, used = 0, o;
            smtp_data_init(&d);
            used += smtp_data_feed(&d, (const uint8_t *)m, a, got, &o);
            n += o;
            used += smtp_data_feed(&d, (const uint8_t *)m + used, b - used, got + n, &o);
            n += o;
            used += smtp_data_feed(&d, (const uint8_t *)m + used, len - used, got + n, &o);
            n += o;
            assert_int_equal(used, whole_used);
            assert_int_equal(n, whole_len);
            assert_memory_equal(got, whole, n);
            assert_int_equal(d.flags, w.flags);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_message),
        cmocka_unit_test(test_dot_unstuffing),
        cmocka_unit_test(test_pipelined_bytes_stay),
        cmocka_unit_test(test_smuggling_never_ends_data),
        cmocka_unit_test(test_long_lines_and_8bit),
        cmocka_unit_test(test_any_split_gives_the_same_result),
    };
    return cmocka_run_group_tests_name("smtp_data", tests, NULL, NULL);
}
