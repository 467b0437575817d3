/*
 * test_mail_header.c - what IMAP's ENVELOPE and HEADER.FIELDS show comes
 * from these readers: fields found by name however they are folded or
 * chunked, address lists with groups and quoted names as mail clients
 * write them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "addrlist.h"
#include "header.h"
#include "pb_err.h"

static const char hdr[] =
    "Received: from mx.example.test\r\n"
    "\tby pillarbox; Thu, 1 Jan 2026 10:00:00 +0000\r\n"
    "From: \"Smith, Alice\" <alice@example.test>\r\n"
    "subject:   Re: the   plan \r\n"
    "To: undisclosed-recipients:;\r\n"
    "Cc: Team: bob@example.test, \"Carol C.\" <carol@example.test>;,\r\n"
    "  dave@example.test (Dave D)\r\n"
    "Message-ID: <1234@example.test>\r\n"
    "\r\n"
    "body: not a header\r\n";

/* A store that hands out at most 5 bytes per read, to exercise chunking. */
static int stingy_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    return mail_header_mem_read(ctx, off, buf, len > 5 ? 5 : len);
}

static int failing_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    (void)ctx;
    (void)off;
    (void)buf;
    (void)len;
    return PB_EIO;
}

static void test_fields_in_order_with_raw_ranges(void **state)
{
    (void)state;
    struct mail_header_mem mem = { hdr, strlen(hdr) };
    struct mail_header_iter it;
    struct mail_header_field f;
    char value[256];
    static const char *names[] = { "Received", "From", "subject", "To", "Cc", "Message-ID" };
    mail_header_iter_init(&it, stingy_read, &mem, 0, (uint32_t)strlen(hdr));
    for (unsigned i = 0; i < 6; i++) {
        assert_int_equal(mail_header_iter_next(&it, &f, value, sizeof(value)), 1);
        assert_string_equal(f.name, names[i]);
        /* The raw range is the field with its folds and final CRLF, ready
         * to be copied into a HEADER.FIELDS answer. */
        assert_memory_equal(hdr + f.off, names[i], strlen(names[i]));
        assert_true(f.len >= 2 && hdr[f.off + f.len - 1] == '\n' && hdr[f.off + f.len - 2] == '\r');
        if (i == 0)
            assert_string_equal(value, "from mx.example.test\tby pillarbox; Thu, 1 Jan 2026 10:00:00 +0000");
        if (i == 2)
            assert_string_equal(value, "Re: the   plan");
        if (i == 4)
            assert_int_equal(f.len, strlen("Cc: Team: bob@example.test, \"Carol C.\" <carol@example.test>;,\r\n"
                                           "  dave@example.test (Dave D)\r\n"));
    }
    /* The blank line ends the header: the body's "body:" is not a field. */
    assert_int_equal(mail_header_iter_next(&it, &f, value, sizeof(value)), 0);
    assert_int_equal(mail_header_iter_next(&it, &f, value, sizeof(value)), 0);
}

static void test_find_by_name(void **state)
{
    (void)state;
    struct mail_header_mem mem = { hdr, strlen(hdr) };
    char v[64];
    bool cut = true;
    assert_int_equal(mail_header_find(stingy_read, &mem, 0, (uint32_t)strlen(hdr), "SUBJECT", v,
                                      sizeof(v), &cut), 14);
    assert_string_equal(v, "Re: the   plan");
    assert_false(cut);
    assert_int_equal(mail_header_find(stingy_read, &mem, 0, (uint32_t)strlen(hdr), "message-id", v,
                                      sizeof(v), NULL), 19);
    assert_string_equal(v, "<1234@example.test>");
    assert_int_equal(mail_header_find(stingy_read, &mem, 0, (uint32_t)strlen(hdr), "Body", v,
                                      sizeof(v), NULL), PB_ENOENT);
    /* A small buffer cuts the value and says so. */
    char small[8];
    assert_int_equal(mail_header_find(stingy_read, &mem, 0, (uint32_t)strlen(hdr), "from", small,
                                      sizeof(small), &cut), 7);
    assert_true(cut);
    assert_string_equal(small, "\"Smith,");
    /* A failing store is an error, not "not found". */
    assert_int_equal(mail_header_find(failing_read, NULL, 0, 100, "from", v, sizeof(v), NULL), PB_EIO);
    /* Bare LF headers read the same. */
    const char *lf = "A: 1\nSubject: two\n  lines\n\nB: 3\n";
    struct mail_header_mem m2 = { lf, strlen(lf) };
    assert_int_equal(mail_header_find(stingy_read, &m2, 0, (uint32_t)strlen(lf), "subject", v,
                                      sizeof(v), NULL), 10);
    assert_string_equal(v, "two  lines");
    assert_int_equal(mail_header_find(stingy_read, &m2, 0, (uint32_t)strlen(lf), "b", v,
                                      sizeof(v), NULL), PB_ENOENT);
}

struct want {
    enum mail_addrlist_kind kind;
    const char *name, *route, *mailbox, *host;
};

static void check_list(const char *s, const struct want *w, unsigned n)
{
    struct mail_addrlist l;
    struct mail_addrlist_entry e;
    mail_addrlist_init(&l, s, strlen(s));
    for (unsigned i = 0; i < n; i++) {
        assert_true(mail_addrlist_next(&l, &e));
        assert_int_equal(e.kind, w[i].kind);
        assert_string_equal(e.name, w[i].name);
        assert_string_equal(e.route, w[i].route);
        assert_string_equal(e.mailbox, w[i].mailbox);
        assert_string_equal(e.host, w[i].host);
    }
    assert_false(mail_addrlist_next(&l, &e));
}

static void test_address_lists(void **state)
{
    (void)state;
    static const struct want from[] = {
        { MAIL_ADDRLIST_MAILBOX, "Smith, Alice", "", "alice", "example.test" },
    };
    check_list("\"Smith, Alice\" <alice@example.test>", from, 1);

    static const struct want cc[] = {
        { MAIL_ADDRLIST_GROUP_START, "Team", "", "", "" },
        { MAIL_ADDRLIST_MAILBOX, "", "", "bob", "example.test" },
        { MAIL_ADDRLIST_MAILBOX, "Carol C.", "", "carol", "example.test" },
        { MAIL_ADDRLIST_GROUP_END, "", "", "", "" },
        { MAIL_ADDRLIST_MAILBOX, "Dave D", "", "dave", "example.test" },
    };
    check_list("Team: bob@example.test, \"Carol C.\" <carol@example.test>;,  "
               "dave@example.test (Dave D)", cc, 5);

    static const struct want empty_group[] = {
        { MAIL_ADDRLIST_GROUP_START, "undisclosed-recipients", "", "", "" },
        { MAIL_ADDRLIST_GROUP_END, "", "", "", "" },
    };
    check_list("undisclosed-recipients:;", empty_group, 2);

    static const struct want odd[] = {
        { MAIL_ADDRLIST_MAILBOX, "Mary Q. Public", "@relay.test,@gw.test", "mary", "x.test" },
        { MAIL_ADDRLIST_MAILBOX, "", "", "john doe", "example.test" },
        { MAIL_ADDRLIST_MAILBOX, "=?utf-8?q?J=C3=B6rg?=", "", "jorg", "example.test" },
        { MAIL_ADDRLIST_MAILBOX, "", "", "first.last", "[192.0.2.1]" },
        { MAIL_ADDRLIST_MAILBOX, "", "", "postmaster", "" },
    };
    check_list("Mary Q. Public <@relay.test,@gw.test:mary@x.test>,"
               "\"john doe\"@example.test,, =?utf-8?q?J=C3=B6rg?= <jorg@example.test>, "
               "first . last @ [192.0.2.1] , postmaster",
               odd, 5);

    /* A group left open gets its end; junk is skipped to the next comma. */
    static const struct want open_group[] = {
        { MAIL_ADDRLIST_GROUP_START, "Friends", "", "", "" },
        { MAIL_ADDRLIST_MAILBOX, "", "", "a", "b.test" },
        { MAIL_ADDRLIST_GROUP_END, "", "", "", "" },
    };
    check_list("Friends: a@b.test", open_group, 3);
    static const struct want junk[] = {
        { MAIL_ADDRLIST_MAILBOX, "", "", "ok", "example.test" },
    };
    check_list(">>> @@ , ok@example.test", junk, 1);
}

static void test_address_bounds(void **state)
{
    (void)state;
    char s[600];
    memset(s, 'n', 300);
    strcpy(s + 300, " <x@y.test>");
    struct mail_addrlist l;
    struct mail_addrlist_entry e;
    mail_addrlist_init(&l, s, strlen(s));
    assert_true(mail_addrlist_next(&l, &e));
    assert_true(e.cut);
    assert_int_equal(strlen(e.name), MAIL_ADDRLIST_NAME_MAX);
    assert_string_equal(e.mailbox, "x");
    assert_false(mail_addrlist_next(&l, &e));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_in_order_with_raw_ranges),
        cmocka_unit_test(test_find_by_name),
        cmocka_unit_test(test_address_lists),
        cmocka_unit_test(test_address_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
