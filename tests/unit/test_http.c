/*
 * test_http.c - the HTTP request parser of the web page: requests split
 * anywhere still parse the same, every limit answers its status (414,
 * 431, 413, 411, 501), smuggling shapes (Transfer-Encoding, duplicate
 * Content-Length, obs-fold, bare CR/LF, NUL) are refused, paths cannot
 * climb out of the asset table, form fields and cookies decode.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"

static struct http_req req;

/* Feed s whole, then the body; return the state. */
static enum http_req_state feed(const char *s)
{
    size_t n = strlen(s);
    http_req_init(&req);
    size_t used = http_req_feed(&req, (const uint8_t *)s, n);
    if (req.state == HTTP_REQ_BODY)
        used += http_req_body(&req, (const uint8_t *)s + used, n - used);
    return req.state;
}

static void test_get_with_headers(void **state)
{
    (void)state;
    assert_int_equal(feed("GET /users?x=1 HTTP/1.1\r\nHost: mail.example.test\r\n"
                          "Cookie: a=b; pb_session=00ff\r\nConnection: keep-alive\r\n\r\n"),
                     HTTP_REQ_DONE);
    assert_int_equal(req.method, HTTP_GET);
    assert_string_equal(req.path, "/users");
    assert_string_equal(req.query, "x=1");
    assert_string_equal(req.host, "mail.example.test");
    assert_true(req.keep_alive);
    char v[40];
    assert_int_equal(http_cookie_get(req.cookie, "pb_session", v, sizeof(v)), 4);
    assert_string_equal(v, "00ff");
    assert_int_equal(http_cookie_get(req.cookie, "session", v, sizeof(v)), -1);
    assert_int_equal(http_cookie_get(req.cookie, "pb_session", v, 3), -2);

    assert_int_equal(feed("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"), HTTP_REQ_DONE);
    assert_false(req.keep_alive);
    assert_int_equal(feed("GET / HTTP/1.0\r\n\r\n"), HTTP_REQ_DONE);
    assert_false(req.keep_alive);
}

/* The same request cut at every byte parses to the same result, and the
 * bytes after it (a pipelined request) are left to the caller. */
static void test_split_anywhere(void **state)
{
    (void)state;
    const char *s = "POST /login HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                    "Content-Length: 13\r\n\r\npassword=x%21GET / HTTP/1.1\r\n";
    size_t n = strlen(s);
    for (size_t cut = 0; cut <= n; cut++) {
        http_req_init(&req);
        size_t off = 0;
        const size_t parts[2] = { cut, n - cut };
        for (int k = 0; k < 2; k++) {
            size_t end = off + parts[k];
            while (off < end && req.state != HTTP_REQ_DONE && req.state != HTTP_REQ_ERROR) {
                size_t used = req.state == HTTP_REQ_BODY ?
                              http_req_body(&req, (const uint8_t *)s + off, end - off) :
                              http_req_feed(&req, (const uint8_t *)s + off, end - off);
                if (used == 0)
                    break;
                off += used;
            }
        }
        assert_int_equal(req.state, HTTP_REQ_DONE);
        assert_int_equal(req.method, HTTP_POST);
        assert_int_equal(req.body_len, 13);
        assert_memory_equal(req.body, "password=x%21", 13);
        assert_string_equal(s + off, "GET / HTTP/1.1\r\n");
        char pw[16];
        assert_int_equal(http_form_get((const char *)req.body, req.body_len, "password", pw, sizeof(pw)), 2);
        assert_string_equal(pw, "x!");
    }
}

static void test_limits(void **state)
{
    (void)state;
    size_t big = HTTP_HEAD_MAX + 100;
    char *s = malloc(big + 64);
    assert_non_null(s);
    /* Request line over 2 KiB: 414. */
    strcpy(s, "GET /");
    memset(s + 5, 'a', HTTP_LINE_MAX);
    strcpy(s + 5 + HTTP_LINE_MAX, " HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_int_equal(feed(s), HTTP_REQ_ERROR);
    assert_int_equal(req.status, 414);
    /* Header block over 8 KiB in many small headers: 431. */
    size_t o = (size_t)sprintf(s, "GET / HTTP/1.1\r\nHost: h\r\n");
    while (o < HTTP_HEAD_MAX + 10)
        o += (size_t)sprintf(s + o, "X-Pad: 0123456789012345678901234567890123456789\r\n");
    strcpy(s + o, "\r\n");
    assert_int_equal(feed(s), HTTP_REQ_ERROR);
    assert_int_equal(req.status, 431);
    free(s);
    /* Body over 16 KiB: 413 before a byte of it is read; 16 KiB is taken. */
    assert_int_equal(feed("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 16385\r\n\r\n"), HTTP_REQ_ERROR);
    assert_int_equal(req.status, 413);
    assert_int_equal(feed("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 16384\r\n\r\n"), HTTP_REQ_BODY);
    assert_int_equal(feed("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999\r\n\r\n"), HTTP_REQ_ERROR);
    assert_int_equal(req.status, 413);
    /* A lower limit for one path. */
    http_req_init(&req);
    const char *p = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n";
    http_req_feed(&req, (const uint8_t *)p, strlen(p));
    assert_int_equal(req.state, HTTP_REQ_BODY);
    http_req_body_limit(&req, 50);
    assert_int_equal(req.state, HTTP_REQ_ERROR);
    assert_int_equal(req.status, 413);
    /* POST without a length: 411. */
    assert_int_equal(feed("POST / HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP_REQ_ERROR);
    assert_int_equal(req.status, 411);
}

static void test_smuggling_shapes(void **state)
{
    (void)state;
    static const struct { const char *req; int status; } bad[] = {
        { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 501 },
        { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\nx", 400 },
        { "GET / HTTP/1.1\r\nHost: h\r\nX-A: b\r\n c\r\n\r\n", 400 },
        { "GET / HTTP/1.1\r\nHost: h\r\nX-A: b\rc\r\n\r\n", 400 },
        { "GET / HTTP/1.1\nHost: h\n\n", 400 },
        { "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400 },
        { "GET / HTTP/1.1\r\nHost: h\r\nHost: i\r\n\r\n", 400 },
        { "GET / HTTP/1.1\r\n\r\n", 400 },
        { "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505 },
        { "GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
        { "GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(feed(bad[i].req), HTTP_REQ_ERROR);
        assert_int_equal(req.status, bad[i].status);
    }
    /* A NUL in a header. */
    http_req_init(&req);
    static const uint8_t nul[] = "GET / HTTP/1.1\r\nHost: h\0\r\n\r\n";
    http_req_feed(&req, nul, sizeof(nul) - 1);
    assert_int_equal(req.state, HTTP_REQ_ERROR);
    assert_int_equal(req.status, 400);
}

static void test_paths(void **state)
{
    (void)state;
    static const struct { const char *raw, *norm; int status; } t[] = {
        { "/", "/", 0 },
        { "/static/app.css", "/static/app.css", 0 },
        { "//static//./app.css", "/static/app.css", 0 },
        { "/a/./b", "/a/b", 0 },
        { "/%41b", "/Ab", 0 },
        { "/static/../admin", NULL, 404 },
        { "/..", NULL, 404 },
        { "/static/%2e%2e/x", NULL, 404 },
        { "/static/%2E%2e", NULL, 404 },
        { "/static/.%2e/x", NULL, 404 },
        { "/static\\..\\x", NULL, 404 },
        { "/static/%5c", NULL, 404 },
        { "/a%2fb", NULL, 400 },
        { "/a%00", NULL, 400 },
        { "/a%zz", NULL, 400 },
        { "/a%4", NULL, 400 },
        { "a", NULL, 400 },
    };
    char out[HTTP_PATH_MAX];
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        int st = http_path_normalise(t[i].raw, strlen(t[i].raw), out, sizeof(out));
        assert_int_equal(st, t[i].status);
        if (t[i].norm)
            assert_string_equal(out, t[i].norm);
    }
    /* Through the request line too. */
    assert_int_equal(feed("GET /static/%2e%2e/%2e%2e/etc HTTP/1.1\r\nHost: h\r\n\r\n"), HTTP_REQ_ERROR);
    assert_int_equal(req.status, 404);
}

static void test_form(void **state)
{
    (void)state;
    const char *f = "csrf=abc&address=alice%40example.test&name=A+B&empty=&flag&bad=%4";
    size_t n = strlen(f);
    char v[32];
    assert_int_equal(http_form_get(f, n, "csrf", v, sizeof(v)), 3);
    assert_string_equal(v, "abc");
    assert_int_equal(http_form_get(f, n, "address", v, sizeof(v)), 18);
    assert_string_equal(v, "alice@example.test");
    assert_int_equal(http_form_get(f, n, "name", v, sizeof(v)), 3);
    assert_string_equal(v, "A B");
    assert_int_equal(http_form_get(f, n, "empty", v, sizeof(v)), 0);
    assert_int_equal(http_form_get(f, n, "flag", v, sizeof(v)), 0);
    assert_int_equal(http_form_get(f, n, "missing", v, sizeof(v)), -1);
    assert_int_equal(http_form_get(f, n, "bad", v, sizeof(v)), -2);
    assert_int_equal(http_form_get(f, n, "address", v, 5), -2);
    assert_int_equal(http_form_get("a=%00", 5, "a", v, sizeof(v)), -2);
    /* "csrf" must not match "xcsrf". */
    assert_int_equal(http_form_get("xcsrf=1", 7, "csrf", v, sizeof(v)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_with_headers),
        cmocka_unit_test(test_split_anywhere),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_smuggling_shapes),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
