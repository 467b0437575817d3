/*
 * test_mail_address.c - addresses as SMTP clients really send them, and
 * the ones that must be refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "address.h"
#include "pb_err.h"

static int path(const char *s, unsigned flags, struct mail_address *a)
{
    size_t used = 0;
    int r = mail_address_parse_path(s, strlen(s), flags, a, &used);
    if (r == 0)
        assert_int_equal(used, strlen(s));
    return r;
}

static void test_plain_paths(void **state)
{
    (void)state;
    struct mail_address a;
    assert_int_equal(path("<alice@example.test>", 0, &a), 0);
    assert_string_equal(a.local, "alice");
    assert_string_equal(a.domain, "example.test");
    assert_false(a.null);
    /* Domains are folded to lower case; local parts are not. */
    assert_int_equal(path("<Alice.Smith+tag@Mail.EXAMPLE.test>", 0, &a), 0);
    assert_string_equal(a.local, "Alice.Smith+tag");
    assert_string_equal(a.domain, "mail.example.test");
    assert_int_equal(path("<>", MAIL_ADDR_NULL_OK, &a), 0);
    assert_true(a.null);
    assert_int_equal(path("<>", 0, &a), PB_EINVAL);
    /* A source route is accepted and ignored. */
    assert_int_equal(path("<@relay.one,@relay.two:bob@example.test>", 0, &a), 0);
    assert_string_equal(a.local, "bob");
    assert_string_equal(a.domain, "example.test");
    assert_int_equal(path("<bob@[192.0.2.1]>", 0, &a), 0);
    assert_true(a.literal);
    assert_string_equal(a.domain, "[192.0.2.1]");
    assert_int_equal(path("<postmaster>", MAIL_ADDR_BARE_LOCAL, &a), 0);
    assert_int_equal(path("<PostMaster>", MAIL_ADDR_BARE_LOCAL, &a), 0);
    assert_int_equal(path("<alice>", MAIL_ADDR_BARE_LOCAL, &a), PB_EINVAL);
    assert_int_equal(path("<postmaster>", 0, &a), PB_EINVAL);
}

static void test_quoted_local_parts(void **state)
{
    (void)state;
    struct mail_address a;
    char buf[300];
    assert_int_equal(path("<\"john doe\"@example.test>", 0, &a), 0);
    assert_string_equal(a.local, "john doe");
    assert_int_equal(mail_address_format(&a, buf, sizeof(buf)), 23);
    assert_string_equal(buf, "\"john doe\"@example.test");
    assert_int_equal(path("<\"a\\\"b\\\\c\"@example.test>", 0, &a), 0);
    assert_string_equal(a.local, "a\"b\\c");
    mail_address_format(&a, buf, sizeof(buf));
    assert_string_equal(buf, "\"a\\\"b\\\\c\"@example.test");
    /* Quoting an ordinary name changes nothing: same mailbox. */
    assert_int_equal(path("<\"alice\"@example.test>", 0, &a), 0);
    mail_address_format(&a, buf, sizeof(buf));
    assert_string_equal(buf, "alice@example.test");
}

static void test_bad_syntax(void **state)
{
    (void)state;
    struct mail_address a;
    static const char *bad[] = {
        "alice@example.test", "<alice@example.test", "<alice@>", "<@example.test>",
        "<alice.@example.test>", "<.alice@example.test>", "<al..ice@example.test>",
        "<alice@-example.test>", "<alice@example-.test>", "<alice@example..test>",
        "<alice@exa_mple.test>", "<al ice@example.test>", "<\"unterminated@example.test>",
        "<alice@[]>", "<alice@example.test>>", "<a\x01@example.test>", "<@relay:>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t used = 0;
        int r = mail_address_parse_path(bad[i], strlen(bad[i]), MAIL_ADDR_NULL_OK, &a, &used);
        if (r == 0 && used == strlen(bad[i]))
            fail_msg("accepted: %s", bad[i]);
    }
}

static void test_limits(void **state)
{
    (void)state;
    struct mail_address a;
    char s[400];
    /* 64 octets of local part pass, 65 do not. */
    memset(s, 0, sizeof(s));
    s[0] = '<';
    memset(s + 1, 'a', 64);
    strcpy(s + 65, "@example.test>");
    assert_int_equal(path(s, 0, &a), 0);
    memset(s + 1, 'a', 65);
    strcpy(s + 66, "@example.test>");
    assert_int_equal(path(s, 0, &a), PB_ERANGE);
    /* A 64-octet label is too long. */
    strcpy(s, "<a@");
    memset(s + 3, 'b', 64);
    strcpy(s + 67, ".test>");
    assert_int_equal(path(s, 0, &a), PB_ERANGE);
}

static void test_utf8(void **state)
{
    (void)state;
    struct mail_address a;
    const char *u = "<j\xc3\xb6rg@b\xc3\xbc" "cher.example>";
    assert_int_equal(path(u, 0, &a), PB_EINVAL);
    assert_int_equal(path(u, MAIL_ADDR_UTF8, &a), 0);
    assert_true(a.utf8);
    assert_string_equal(a.local, "j\xc3\xb6rg");
    /* Malformed UTF-8 is refused even with SMTPUTF8. */
    assert_int_equal(path("<j\xc3@example.test>", MAIL_ADDR_UTF8, &a), PB_EINVAL);
    assert_int_equal(path("<j\xc0\xaf@example.test>", MAIL_ADDR_UTF8, &a), PB_EINVAL);
    assert_int_equal(path("<j\xed\xa0\x80@example.test>", MAIL_ADDR_UTF8, &a), PB_EINVAL);
}

static void test_bare_mailbox_and_domains(void **state)
{
    (void)state;
    struct mail_address a;
    const char *s = "carol@example.test";
    assert_int_equal(mail_address_parse(s, strlen(s), 0, &a), 0);
    assert_string_equal(a.local, "carol");
    s = "carol@example.test trailing";
    assert_int_equal(mail_address_parse(s, strlen(s), 0, &a), PB_EINVAL);
    assert_true(mail_address_domain_valid("example.test", false));
    assert_false(mail_address_domain_valid("[1.2.3.4]", false));
    assert_false(mail_address_domain_valid("", false));
    assert_false(mail_address_domain_valid("b\xc3\xbc" "cher.example", false));
    assert_true(mail_address_domain_valid("b\xc3\xbc" "cher.example", true));
    char tiny[8];
    assert_int_equal(mail_address_parse("x@example.test", 14, 0, &a), 0);
    assert_int_equal(mail_address_format(&a, tiny, sizeof(tiny)), PB_ERANGE);
    assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_paths),
        cmocka_unit_test(test_quoted_local_parts),
        cmocka_unit_test(test_bad_syntax),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_bare_mailbox_and_domains),
    };
    return cmocka_run_group_tests_name("mail_address", tests, NULL, NULL);
}
