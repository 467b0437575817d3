/*
 * test_console.c - what a person typing at the serial console relies on:
 * line editing, word splitting, clear errors for bad commands.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cmdline.h"
#include "config.h"
#include "console.h"
#include "lineedit.h"
#include "pb_err.h"

static char echo[4096];
static size_t echo_len;

static void capture(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    if (echo_len + n < sizeof(echo)) {
        memcpy(echo + echo_len, s, n);
        echo_len += n;
        echo[echo_len] = '\0';
    }
}

/* Feed a string; return the number of completed lines, last one in *out. */
static int feed(struct lineedit *le, const char *s, char *out)
{
    int lines = 0;
    for (; *s; s++) {
        if (lineedit_feed(le, (uint8_t)*s)) {
            strcpy(out, le->buf);
            lines++;
        }
    }
    return lines;
}

static void test_line_endings(void **state)
{
    (void)state;
    struct lineedit le;
    char out[LINEEDIT_MAX + 1];
    lineedit_init(&le, capture, NULL);
    assert_int_equal(feed(&le, "show status\r\n", out), 1);
    assert_string_equal(out, "show status");
    assert_int_equal(feed(&le, "a\nb\rc\r\n", out), 3);
    assert_string_equal(out, "c");
    assert_int_equal(feed(&le, "\r\n\r\n", out), 2);
    assert_string_equal(out, "");
}

static void test_editing_keys(void **state)
{
    (void)state;
    struct lineedit le;
    char out[LINEEDIT_MAX + 1];
    lineedit_init(&le, capture, NULL);
    assert_int_equal(feed(&le, "shox\x7fw versiom\bn\r", out), 1);
    assert_string_equal(out, "show version");
    assert_int_equal(feed(&le, "rebo\x15poweroff\r", out), 1);       /* ctrl-U */
    assert_string_equal(out, "poweroff");
    assert_int_equal(feed(&le, "junk\x03help\r", out), 1);           /* ctrl-C */
    assert_string_equal(out, "help");
    /* Other control bytes are ignored, not stored. */
    assert_int_equal(feed(&le, "he\x01\x02lp\r", out), 1);
    assert_string_equal(out, "help");
}

static void test_history(void **state)
{
    (void)state;
    struct lineedit le;
    char out[LINEEDIT_MAX + 1];
    lineedit_init(&le, capture, NULL);
    feed(&le, "first\r", out);
    feed(&le, "second\r", out);
    assert_int_equal(feed(&le, "\x1b[A\r", out), 1);
    assert_string_equal(out, "second");
    assert_int_equal(feed(&le, "\x1b[A\x1b[A\r", out), 1);
    assert_string_equal(out, "first");
    /* Down past the newest gives an empty line again. */
    assert_int_equal(feed(&le, "\x1b[A\x1b[B\x1b[Bnew\r", out), 1);
    assert_string_equal(out, "new");
    /* Unknown escape sequences are swallowed whole. */
    assert_int_equal(feed(&le, "\x1b[3~\x1b[1;5Cok\r", out), 1);
    assert_string_equal(out, "ok");
}

static void test_long_line_is_cut(void **state)
{
    (void)state;
    struct lineedit le;
    char out[LINEEDIT_MAX + 1];
    char big[LINEEDIT_MAX + 50];
    lineedit_init(&le, capture, NULL);
    memset(big, 'x', sizeof(big) - 2);
    big[sizeof(big) - 2] = '\r';
    big[sizeof(big) - 1] = '\0';
    echo_len = 0;
    assert_int_equal(feed(&le, big, out), 1);
    assert_int_equal(strlen(out), LINEEDIT_MAX);
    assert_non_null(strchr(echo, '\a'));            /* the bell rang */
}

static void test_split_words(void **state)
{
    (void)state;
    char *argv[CMDLINE_MAX_WORDS];
    char l1[] = "  set   hostname\tmail.example.test  ";
    assert_int_equal(cmdline_split(l1, argv, CMDLINE_MAX_WORDS), 3);
    assert_string_equal(argv[0], "set");
    assert_string_equal(argv[1], "hostname");
    assert_string_equal(argv[2], "mail.example.test");

    char l2[] = "user add \"Office \\\"Front\\\" Desk\" x\"y z\"";
    assert_int_equal(cmdline_split(l2, argv, CMDLINE_MAX_WORDS), 4);
    assert_string_equal(argv[2], "Office \"Front\" Desk");
    assert_string_equal(argv[3], "xy z");

    char l3[] = "say \"unterminated";
    assert_int_equal(cmdline_split(l3, argv, CMDLINE_MAX_WORDS), PB_EINVAL);
    char l4[] = "a b c d";
    assert_int_equal(cmdline_split(l4, argv, 3), PB_ERANGE);
    char l5[] = "   # a comment";
    assert_int_equal(cmdline_split(l5, argv, CMDLINE_MAX_WORDS), 0);
    char l6[] = "\"\"";
    assert_int_equal(cmdline_split(l6, argv, CMDLINE_MAX_WORDS), 1);
    assert_string_equal(argv[0], "");
}

static void test_hostnames(void **state)
{
    (void)state;
    config_init();
    assert_string_equal(config_get()->hostname, "pillarbox");
    assert_true(config_hostname_valid("mail.example.test"));
    assert_true(config_hostname_valid("a-b.c9"));
    assert_false(config_hostname_valid(""));
    assert_false(config_hostname_valid("-mail.example"));
    assert_false(config_hostname_valid("mail-.example"));
    assert_false(config_hostname_valid("mail..example"));
    assert_false(config_hostname_valid("mail.example."));
    assert_false(config_hostname_valid("bad name"));
    assert_false(config_hostname_valid("m\xc3\xa4il.example"));
    char label64[80];
    memset(label64, 'a', 64);
    label64[64] = '\0';
    assert_false(config_hostname_valid(label64));
    label64[63] = '\0';
    assert_true(config_hostname_valid(label64));
}

static void test_commands(void **state)
{
    (void)state;
    config_init();
    char c1[] = "set hostname mail.example.test";
    assert_int_equal(console_execute(c1), 0);
    assert_string_equal(config_get()->hostname, "mail.example.test");
    /* A bad value changes nothing. */
    char c2[] = "set hostname \"not a host\"";
    assert_int_equal(console_execute(c2), PB_EINVAL);
    assert_string_equal(config_get()->hostname, "mail.example.test");
    char c3[] = "set hostname";
    assert_int_equal(console_execute(c3), PB_EINVAL);
    char c4[] = "frobnicate";
    assert_int_equal(console_execute(c4), PB_ENOENT);
    char c5[] = "show";
    assert_int_equal(console_execute(c5), PB_ENOENT);
    char c6[] = "help show";
    assert_int_equal(console_execute(c6), 0);
    char c7[] = "help nothing";
    assert_int_equal(console_execute(c7), PB_ENOENT);
    char c8[] = "show version";
    assert_int_equal(console_execute(c8), 0);
    char c9[] = "show log 0";
    assert_int_equal(console_execute(c9), PB_EINVAL);
    char c10[] = "";
    assert_int_equal(console_execute(c10), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_endings),
        cmocka_unit_test(test_editing_keys),
        cmocka_unit_test(test_history),
        cmocka_unit_test(test_long_line_is_cut),
        cmocka_unit_test(test_split_words),
        cmocka_unit_test(test_hostnames),
        cmocka_unit_test(test_commands),
    };
    return cmocka_run_group_tests_name("console", tests, NULL, NULL);
}
