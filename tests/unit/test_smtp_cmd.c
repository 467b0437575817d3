/*
 * test_smtp_cmd.c - SMTP command lines as clients send them, and the reply
 * a bad one gets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pb_err.h"
#include "smtp_cmd.h"

static struct smtp_cmd cmd;
static struct smtp_reply err;

static int parse(const char *s)
{
    return smtp_cmd_parse(s, strlen(s), false, &cmd, &err);
}

static void expect_error(const char *s, int code, const char *status)
{
    if (parse(s) != PB_EINVAL)
        fail_msg("accepted: %s", s);
    if (err.code != code || strcmp(err.status, status) != 0)
        fail_msg("%s: got %d %s, want %d %s", s, err.code, err.status, code, status);
}

static void test_verbs(void **state)
{
    (void)state;
    assert_int_equal(parse("EHLO client.example.test"), 0);
    assert_int_equal(cmd.verb, SMTP_VERB_EHLO);
    assert_string_equal(cmd.domain, "client.example.test");
    assert_int_equal(parse("helo [192.0.2.7]"), 0);
    assert_int_equal(cmd.verb, SMTP_VERB_HELO);
    assert_int_equal(parse("data"), 0);
    assert_int_equal(cmd.verb, SMTP_VERB_DATA);
    assert_int_equal(parse("QUIT  "), 0);           /* trailing spaces forgiven */
    assert_int_equal(parse("NOOP anything at all"), 0);
    assert_int_equal(parse("HELP"), 0);
    assert_int_equal(parse("VRFY alice"), 0);
    assert_int_equal(cmd.verb, SMTP_VERB_VRFY);
    assert_int_equal(parse("StartTLS"), 0);
    assert_int_equal(cmd.verb, SMTP_VERB_STARTTLS);
    assert_string_equal(smtp_cmd_verb_name(SMTP_VERB_RCPT), "RCPT");
}

static void test_mail_and_rcpt(void **state)
{
    (void)state;
    assert_int_equal(parse("MAIL FROM:<alice@example.test> SIZE=4096 BODY=8BITMIME"), 0);
    assert_int_equal(cmd.verb, SMTP_VERB_MAIL);
    assert_string_equal(cmd.addr.local, "alice");
    assert_int_equal(cmd.size, 4096);
    assert_int_equal(cmd.body, SMTP_BODY_8BITMIME);
    assert_int_equal(parse("mail from: <>"), 0);     /* one space: tolerated */
    assert_true(cmd.addr.null);
    assert_int_equal(parse("RCPT TO:<bob@example.test>"), 0);
    assert_string_equal(cmd.addr.domain, "example.test");
    assert_int_equal(parse("RCPT TO:<Postmaster>"), 0);
    assert_int_equal(parse("MAIL FROM:<\"x>y\"@example.test>"), 0);
    assert_string_equal(cmd.addr.local, "x>y");
    /* UTF-8 paths need SMTPUTF8 on MAIL... */
    assert_int_equal(parse("MAIL FROM:<j\xc3\xb6rg@example.test> SMTPUTF8"), 0);
    assert_true(cmd.smtputf8);
    expect_error("MAIL FROM:<j\xc3\xb6rg@example.test>", 553, "5.6.7");
    /* ...and RCPT may use them once the session has it. */
    const char *r = "RCPT TO:<m\xc3\xa4x@example.test>";
    assert_int_equal(smtp_cmd_parse(r, strlen(r), true, &cmd, &err), 0);
    assert_string_equal(cmd.addr.local, "m\xc3\xa4x");
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("FROB", 500, "5.5.1");
    expect_error("", 500, "5.5.1");
    expect_error("DATA now", 501, "5.5.4");
    expect_error("HELO", 501, "5.5.4");
    expect_error("EHLO bad_name!", 501, "5.5.4");
    expect_error("VRFY", 501, "5.5.4");
    expect_error("MAIL alice@example.test", 501, "5.5.4");
    expect_error("MAIL FROM:alice@example.test", 501, "5.5.4");
    expect_error("MAIL FROM:<alice@@example.test>", 553, "5.1.7");
    expect_error("RCPT TO:<>", 553, "5.1.3");
    expect_error("RCPT TO:<bob@example.test> NOTIFY=NEVER", 555, "5.5.4");
    expect_error("MAIL FROM:<a@example.test> SIZE=12x", 501, "5.5.4");
    expect_error("MAIL FROM:<a@example.test> SIZE=", 501, "5.5.4");
    expect_error("MAIL FROM:<a@example.test> BODY=9BIT", 555, "5.5.4");
    expect_error("MAIL FROM:<a@example.test>SIZE=1", 555, "5.5.4");
    expect_error("NOOP \x01", 500, "5.5.2");
    expect_error("HELO caf\xc3\xa9.example", 500, "5.5.2");
    expect_error("BDAT", 501, "5.5.4");
    expect_error("BDAT 10 FIRST", 501, "5.5.4");
    expect_error("BDAT -1", 501, "5.5.4");
}

static void test_bdat(void **state)
{
    (void)state;
    assert_int_equal(parse("BDAT 1000"), 0);
    assert_int_equal(cmd.chunk, 1000);
    assert_false(cmd.last);
    assert_int_equal(parse("bdat 0 last"), 0);
    assert_int_equal(cmd.chunk, 0);
    assert_true(cmd.last);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verbs),
        cmocka_unit_test(test_mail_and_rcpt),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_bdat),
    };
    return cmocka_run_group_tests_name("smtp_cmd", tests, NULL, NULL);
}
