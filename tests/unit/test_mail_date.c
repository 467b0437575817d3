/*
 * test_mail_date.c - the dates in Received: headers are RFC 5322 dates,
 * right across leap years and centuries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "date.h"
#include "pb_err.h"

static void check(int64_t t, const char *want)
{
    char buf[MAIL_DATE_MAX];
    assert_int_equal(mail_date_format(t, buf, sizeof(buf)), (int)strlen(want));
    assert_string_equal(buf, want);
}

static void test_dates(void **state)
{
    (void)state;
    check(0, "Thu, 1 Jan 1970 00:00:00 +0000");
    check(951782400, "Tue, 29 Feb 2000 00:00:00 +0000");
    check(1795000000, "Wed, 18 Nov 2026 11:06:40 +0000");
    check(4102444799, "Thu, 31 Dec 2099 23:59:59 +0000");
}

static void test_limits(void **state)
{
    (void)state;
    char small[10];
    assert_int_equal(mail_date_format(0, small, sizeof(small)), PB_ERANGE);
    assert_int_equal(mail_date_format(-1, small, sizeof(small)), PB_ERANGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests_name("mail_date", tests, NULL, NULL);
}
