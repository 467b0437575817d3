/*
 * test_web.c - the web page's parts that need no network: sessions (random
 * tokens, 15-minute idle expiry, the oldest replaced when all are taken,
 * CSRF tokens compared exactly), the first-boot setup code (its shape,
 * typed with any case and spacing, gone once an admin password is set),
 * and the response builder (security headers on every answer, HSTS only
 * on HTTPS, no-store on pages, HEAD without a body, HTML escaping).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "admin.h"
#include "hal_board.h"
#include "pb_err.h"
#include "storage.h"
#include "tls.h"
#include "web.h"
#include "web_session.h"

static void test_sessions(void **state)
{
    (void)state;
    web_session_reset();
    uint64_t t = 1000;
    struct web_session *a = web_session_new(t);
    assert_non_null(a);
    assert_int_equal(strlen(a->token), WEB_TOKEN_HEX);
    assert_int_equal(strlen(a->csrf), WEB_TOKEN_HEX);
    assert_int_equal(strspn(a->token, "0123456789abcdef"), WEB_TOKEN_HEX);
    assert_string_not_equal(a->token, a->csrf);
    char tok[WEB_TOKEN_HEX + 1], csrf[WEB_TOKEN_HEX + 1];
    strcpy(tok, a->token);
    strcpy(csrf, a->csrf);
    assert_ptr_equal(web_session_find(tok, t + 1000), a);
    assert_true(web_session_csrf_ok(a, csrf));
    /* One digit off, shorter, longer, empty: no. */
    char bad[WEB_TOKEN_HEX + 2];
    strcpy(bad, csrf);
    bad[5] = bad[5] == 'a' ? 'b' : 'a';
    assert_false(web_session_csrf_ok(a, bad));
    assert_false(web_session_csrf_ok(a, ""));
    strcpy(bad, csrf);
    bad[WEB_TOKEN_HEX - 1] = '\0';
    assert_false(web_session_csrf_ok(a, bad));
    strcpy(bad, csrf);
    strcat(bad, "0");
    assert_false(web_session_csrf_ok(a, bad));
    assert_null(web_session_find("", t + 1000));
    /* Used within 15 minutes it lives on; idle longer it is gone. */
    assert_ptr_equal(web_session_find(tok, t + WEB_SESSION_IDLE_MS), a);
    assert_null(web_session_find(tok, t + 2 * WEB_SESSION_IDLE_MS + 1001));
    /* All taken: a new sign-in replaces the one idle longest. */
    web_session_reset();
    char toks[WEB_SESSIONS][WEB_TOKEN_HEX + 1];
    for (int i = 0; i < WEB_SESSIONS; i++) {
        struct web_session *s = web_session_new(t + (uint64_t)i);
        assert_non_null(s);
        strcpy(toks[i], s->token);
    }
    assert_non_null(web_session_find(toks[0], t + 10));     /* 0 is fresh again: 1 is oldest */
    assert_non_null(web_session_new(t + 20));
    assert_non_null(web_session_find(toks[0], t + 21));
    assert_null(web_session_find(toks[1], t + 21));
    for (int i = 2; i < WEB_SESSIONS; i++)
        assert_non_null(web_session_find(toks[i], t + 21));
    /* Sign-out. */
    struct web_session *s = web_session_find(toks[2], t + 22);
    web_session_end(s);
    assert_null(web_session_find(toks[2], t + 23));
}

static void test_setup_code(void **state)
{
    (void)state;
    char flash[] = "/tmp/pb-test-web-XXXXXX";
    int fd = mkstemp(flash);
    assert_true(fd >= 0);
    close(fd);
    unlink(flash);
    char *argv[] = { "test", "--flash", flash, "--flash-size", "1M", NULL };
    assert_int_equal(hal_board_init(5, argv), 0);
    assert_int_equal(storage_init(), 0);
    assert_int_equal(tls_init(), 0);     /* wolfCrypt, for the password verifier */
    assert_false(admin_password_exists());
    assert_int_equal(admin_setup_code_make(), 0);
    const char *code = admin_setup_code();
    assert_non_null(code);
    assert_int_equal(strlen(code), ADMIN_SETUP_CODE_LEN + 1);
    assert_int_equal(code[5], '-');
    for (int i = 0; code[i]; i++)
        if (i != 5)
            assert_non_null(strchr("23456789ABCDEFGHJKLMNPQRSTUVWXYZ", code[i]));
    char typed[32];
    /* Lower case, without the dash, with spaces: all fine. */
    snprintf(typed, sizeof(typed), "%.5s %.5s", code, code + 6);
    for (char *p = typed; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    assert_true(admin_setup_code_check(typed));
    assert_true(admin_setup_code_check(code));
    snprintf(typed, sizeof(typed), "%s", code);
    typed[0] = typed[0] == '2' ? '3' : '2';
    assert_false(admin_setup_code_check(typed));
    snprintf(typed, sizeof(typed), "%sX", code);
    assert_false(admin_setup_code_check(typed));
    assert_false(admin_setup_code_check(""));
    /* Once the admin password is set the code is gone, also after a reboot. */
    assert_int_equal(admin_password_set("secret"), 0);
    assert_null(admin_setup_code());
    assert_false(admin_setup_code_check(code));
    assert_int_equal(admin_setup_code_make(), PB_EEXIST);
    assert_null(admin_setup_code());
    unlink(flash);
}

static char body[4096];
static char out[8192];

static void test_response(void **state)
{
    (void)state;
    struct web_resp r = { .status = 200, .ctype = "text/html; charset=utf-8", .page = true,
                          .body = body, .cap = sizeof(body) };
    web_resp_html(&r, "<a href=\"x\">Tom & Jerry's</a>\r\n");
    assert_int_equal(r.len, strlen("&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;\n"));
    assert_memory_equal(body, "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;\n", r.len);
    web_resp_header(&r, "Set-Cookie: pb_session=%s; HttpOnly", "00");
    int n = web_resp_serialise(&r, true, true, false, out, sizeof(out));
    assert_true(n > 0);
    out[n] = '\0';
    assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(out, "\r\nContent-Security-Policy: default-src 'self'"));
    assert_non_null(strstr(out, "\r\nX-Frame-Options: DENY\r\n"));
    assert_non_null(strstr(out, "\r\nX-Content-Type-Options: nosniff\r\n"));
    assert_non_null(strstr(out, "\r\nReferrer-Policy: no-referrer\r\n"));
    assert_non_null(strstr(out, "\r\nStrict-Transport-Security: max-age=31536000\r\n"));
    assert_non_null(strstr(out, "\r\nCache-Control: no-store\r\n"));
    assert_non_null(strstr(out, "\r\nSet-Cookie: pb_session=00; HttpOnly\r\n"));
    assert_non_null(strstr(out, "\r\nConnection: keep-alive\r\n"));
    char cl[40];
    snprintf(cl, sizeof(cl), "\r\nContent-Length: %lu\r\n", (unsigned long)r.len);
    assert_non_null(strstr(out, cl));
    /* The body follows the one blank line. */
    const char *end = strstr(out, "\r\n\r\n");
    assert_non_null(end);
    assert_int_equal((size_t)(out + n - (end + 4)), r.len);
    /* Plain HTTP: no HSTS.  HEAD: the headers only.  Too small: refused. */
    r.page = false;
    n = web_resp_serialise(&r, false, false, true, out, sizeof(out));
    out[n] = '\0';
    assert_null(strstr(out, "Strict-Transport-Security"));
    assert_null(strstr(out, "Cache-Control"));
    assert_non_null(strstr(out, "\r\nConnection: close\r\n"));
    assert_non_null(strstr(out, cl));
    assert_int_equal(strcmp(out + n - 4, "\r\n\r\n"), 0);
    assert_int_equal(web_resp_serialise(&r, true, true, false, out, 100), PB_ERANGE);
    /* A body that does not fit is flagged, never cut silently. */
    struct web_resp small = { .status = 200, .body = body, .cap = 8 };
    web_resp_printf(&small, "%s", "0123456789");
    assert_true(small.overflow);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sessions),
        cmocka_unit_test(test_setup_code),
        cmocka_unit_test(test_response),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
