/*
 * test_smtp_client.c - the SMTP client session against scripted servers:
 * what it sends after each reply, per-recipient results, PIPELINING or
 * not, STARTTLS offered or not (and required), EHLO refused, multi-line
 * replies, dot-stuffing, what it refuses itself, timeouts, lost
 * connections.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pb_err.h"
#include "smtp_client.h"

static const char *body_text;

static int body_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    (void)ctx;
    size_t n = strlen(body_text);
    if (off >= n)
        return 0;
    if (len > n - off)
        len = n - (size_t)off;
    memcpy(buf, body_text + off, len);
    return (int)len;
}

static struct smtp_client cl;
static char sent[16384];
static uint64_t now = 1000;

/* What the client sends now (all of it), NUL-terminated. */
static const char *out(void)
{
    size_t n = smtp_client_pull(&cl, (uint8_t *)sent, sizeof(sent) - 1, now);
    sent[n] = '\0';
    return sent;
}

static void in(const char *s)
{
    assert_int_equal(smtp_client_input(&cl, (const uint8_t *)s, strlen(s), now), strlen(s));
}

static void start(bool tls_available, bool tls_required, bool eightbit, int nrcpt)
{
    static const char *rcpts[] = { "bob@example.net", "carol@example.net", "dave@example.net" };
    struct smtp_client_config cfg = { .helo = "mail.example.test", .tls_available = tls_available,
                                      .tls_required = tls_required, .body_8bit = eightbit,
                                      .size = strlen(body_text) };
    smtp_client_init(&cl, &cfg, "alice@example.test", 18, body_read, NULL, now);
    for (int i = 0; i < nrcpt; i++)
        assert_int_equal(smtp_client_add_rcpt(&cl, rcpts[i], strlen(rcpts[i])), 0);
}

static void test_pipelined_per_recipient_results(void **state)
{
    (void)state;
    body_text = "Subject: hi\r\n\r\n.leading dot\r\nl\xc3\xa9\r\n";
    start(false, false, true, 3);
    assert_string_equal(out(), "");            /* nothing before the greeting */
    in("220-mx.example.net ESMTP\r\n220 welcome\r\n");
    assert_string_equal(out(), "EHLO mail.example.test\r\n");
    in("250-mx.example.net\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n250 8BITMIME\r\n");
    /* One flight: MAIL, every RCPT, DATA. */
    assert_string_equal(out(), "MAIL FROM:<alice@example.test> SIZE=34 BODY=8BITMIME\r\n"
                        "RCPT TO:<bob@example.net>\r\nRCPT TO:<carol@example.net>\r\n"
                        "RCPT TO:<dave@example.net>\r\nDATA\r\n");
    in("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n450 4.2.0 <carol@example.net>: mailbox busy\r\n"
       "550-5.1.1 <dave@example.net>: no such user\r\n550 5.1.1 see you\r\n354 go ahead\r\n");
    assert_int_equal(cl.state, SMTP_CLIENT_BODY);
    assert_string_equal(out(), "Subject: hi\r\n\r\n..leading dot\r\nl\xc3\xa9\r\n.\r\n");
    assert_false(smtp_client_final(&cl));
    in("250 2.0.0 Ok: queued as 12345\r\n");
    assert_true(smtp_client_final(&cl));
    assert_false(smtp_client_final(&cl));     /* told once */
    assert_int_equal(cl.rcpt[0].reply.code, 250);
    assert_string_equal(cl.rcpt[0].reply.enh, "2.0.0");
    assert_string_equal(cl.rcpt[0].reply.text, "Ok: queued as 12345");
    assert_int_equal(cl.rcpt[1].reply.code, 450);
    assert_string_equal(cl.rcpt[1].reply.enh, "4.2.0");
    assert_int_equal(cl.rcpt[2].reply.code, 550);
    assert_string_equal(cl.rcpt[2].reply.text, "<dave@example.net>: no such user");
    assert_string_equal(out(), "QUIT\r\n");
    in("221 2.0.0 Bye\r\n");
    assert_int_equal(cl.state, SMTP_CLIENT_DONE);
}

/* A second message on the same connection: no second greeting or EHLO,
 * fresh per-recipient results, then QUIT after the last. */
static void test_next_message_same_connection(void **state)
{
    (void)state;
    body_text = "first\r\n";
    start(false, false, false, 2);
    assert_false(smtp_client_reusable(&cl));
    in("220 mx.example.net ESMTP\r\n");
    out();
    in("250-mx.example.net\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n250 8BITMIME\r\n");
    out();
    in("250 ok\r\n250 ok\r\n550 5.1.1 no carol\r\n354 go\r\n");
    assert_string_equal(out(), "first\r\n.\r\n");
    in("250 2.0.0 queued as 1\r\n");
    assert_false(smtp_client_reusable(&cl));   /* not before the caller saw the outcome */
    assert_true(smtp_client_final(&cl));
    assert_true(smtp_client_reusable(&cl));

    body_text = "second, l\xc3\xa9\r\n";
    struct smtp_client_config msg = { .body_8bit = true, .size = strlen(body_text) };
    assert_int_equal(smtp_client_next(&cl, &msg, "bob@example.test", 16, now), 0);
    assert_false(smtp_client_answered(&cl));
    assert_int_equal(smtp_client_add_rcpt(&cl, "dave@example.net", 16), 0);
    smtp_client_begin(&cl);
    assert_string_equal(out(), "MAIL FROM:<bob@example.test> SIZE=13 BODY=8BITMIME\r\n"
                        "RCPT TO:<dave@example.net>\r\nDATA\r\n");
    in("250 ok\r\n250 ok\r\n354 go\r\n");
    assert_string_equal(out(), "second, l\xc3\xa9\r\n.\r\n");
    in("451 4.3.0 try later\r\n");
    assert_true(smtp_client_final(&cl));
    assert_int_equal(cl.nrcpt, 1);
    assert_int_equal(cl.rcpt[0].reply.code, 451);
    /* Not taking the chance: QUIT as usual. */
    assert_string_equal(out(), "QUIT\r\n");
    assert_false(smtp_client_reusable(&cl));
    assert_int_equal(smtp_client_next(&cl, &msg, "x@example.test", 14, now), PB_EINVAL);
    in("221 bye\r\n");
    assert_int_equal(cl.state, SMTP_CLIENT_DONE);
}

static void test_without_pipelining_one_command_per_reply(void **state)
{
    (void)state;
    body_text = "x";
    start(false, false, false, 2);
    in("220 mx ESMTP\r\n");
    out();
    in("250-mx\r\n250 SIZE\r\n");
    assert_string_equal(out(), "MAIL FROM:<alice@example.test> SIZE=1\r\n");
    assert_string_equal(out(), "");
    in("250 ok\r\n");
    assert_string_equal(out(), "RCPT TO:<bob@example.net>\r\n");
    in("550 no\r\n");
    assert_string_equal(out(), "RCPT TO:<carol@example.net>\r\n");
    in("250 ok\r\n");
    assert_string_equal(out(), "DATA\r\n");
    in("354 go\r\n");
    /* A body without a final line break gets one before the dot. */
    assert_string_equal(out(), "x\r\n.\r\n");
    in("250 ok\r\n");
    assert_true(smtp_client_final(&cl));
    assert_int_equal(cl.rcpt[0].reply.code, 550);
    assert_string_equal(cl.rcpt[0].reply.enh, "");     /* no enhanced code given */
    assert_int_equal(cl.rcpt[1].reply.code, 250);
}

static void test_all_recipients_refused_no_data(void **state)
{
    (void)state;
    body_text = "x\r\n";
    start(false, false, false, 1);
    in("220 mx\r\n");
    out();
    in("250 mx\r\n");
    out();
    in("250 ok\r\n");
    out();
    in("550 5.7.1 relay denied\r\n");
    assert_string_equal(out(), "QUIT\r\n");
    assert_int_equal(cl.rcpt[0].reply.code, 550);
    assert_true(smtp_client_answered(&cl));
}

static void test_starttls_offered_then_ehlo_again(void **state)
{
    (void)state;
    body_text = "x\r\n";
    start(true, false, false, 1);
    in("220 mx\r\n");
    out();
    in("250-mx\r\n250-STARTTLS\r\n250 PIPELINING\r\n");
    assert_string_equal(out(), "STARTTLS\r\n");
    in("220 2.0.0 Ready to start TLS\r\n");
    assert_int_equal(cl.state, SMTP_CLIENT_TLS);
    /* Nothing is read or sent in plaintext from here on. */
    assert_int_equal(smtp_client_input(&cl, (const uint8_t *)"250 injected\r\n", 14, now), 0);
    assert_string_equal(out(), "");
    smtp_client_tls_started(&cl, "TLSv1.3", now);
    assert_string_equal(out(), "EHLO mail.example.test\r\n");
    in("250-mx\r\n250 8BITMIME\r\n");
    /* The list after TLS counts: PIPELINING is gone, so MAIL goes alone. */
    assert_string_equal(out(), "MAIL FROM:<alice@example.test>\r\n");
    assert_true(cl.tls);
}

static void test_starttls_not_offered(void **state)
{
    (void)state;
    body_text = "x\r\n";
    /* Opportunistic: without STARTTLS the mail goes in plaintext. */
    start(true, false, false, 1);
    in("220 mx\r\n");
    out();
    in("250 mx\r\n");
    assert_string_equal(out(), "MAIL FROM:<alice@example.test>\r\n");
    /* Required (relay host): no MAIL, nobody answered, the reason kept. */
    start(true, true, false, 1);
    in("220 mx\r\n");
    out();
    in("250 mx\r\n");
    assert_string_equal(out(), "QUIT\r\n");
    assert_false(smtp_client_answered(&cl));
    assert_non_null(strstr(cl.error, "TLS is required"));
    /* Required, offered but refused: the same. */
    start(true, true, false, 1);
    in("220 mx\r\n");
    out();
    in("250-mx\r\n250 STARTTLS\r\n");
    assert_string_equal(out(), "STARTTLS\r\n");
    in("454 4.7.0 TLS not available\r\n");
    assert_string_equal(out(), "QUIT\r\n");
    assert_false(smtp_client_answered(&cl));
}

static void start_auth(bool implicit)
{
    static const char *rcpt = "bob@example.net";
    struct smtp_client_config cfg = { .helo = "mail.example.test", .tls_available = true,
                                      .tls_required = true, .tls_implicit = implicit,
                                      .auth_user = "relay-user", .auth_pass = "s3cret pass",
                                      .size = strlen(body_text) };
    smtp_client_init(&cl, &cfg, "alice@example.test", 18, body_read, NULL, now);
    assert_int_equal(smtp_client_add_rcpt(&cl, rcpt, strlen(rcpt)), 0);
}

/* Relay host over STARTTLS: AUTH PLAIN only after TLS, then MAIL. */
static void test_auth_plain_after_starttls(void **state)
{
    (void)state;
    body_text = "x\r\n";
    start_auth(false);
    in("220 relay\r\n");
    assert_string_equal(out(), "EHLO mail.example.test\r\n");
    /* AUTH offered before TLS is not used before TLS. */
    in("250-relay\r\n250-AUTH PLAIN LOGIN\r\n250 STARTTLS\r\n");
    assert_string_equal(out(), "STARTTLS\r\n");
    in("220 go ahead\r\n");
    smtp_client_tls_started(&cl, "TLSv1.3", now);
    assert_string_equal(out(), "EHLO mail.example.test\r\n");
    in("250-relay\r\n250-auth login plain\r\n250 PIPELINING\r\n");
    /* base64("\0relay-user\0s3cret pass") */
    assert_string_equal(out(), "AUTH PLAIN AHJlbGF5LXVzZXIAczNjcmV0IHBhc3M=\r\n");
    in("235 2.7.0 Authentication successful\r\n");
    assert_true(cl.authenticated);
    assert_string_equal(out(), "MAIL FROM:<alice@example.test>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n");
}

/* Implicit TLS (465): no STARTTLS; AUTH LOGIN when PLAIN is not offered. */
static void test_auth_login_implicit_tls(void **state)
{
    (void)state;
    body_text = "x\r\n";
    start_auth(true);
    in("220 relay\r\n");
    out();
    in("250-relay\r\n250-STARTTLS\r\n250 AUTH LOGIN\r\n");
    assert_string_equal(out(), "AUTH LOGIN\r\n");
    in("334 VXNlcm5hbWU6\r\n");
    assert_string_equal(out(), "cmVsYXktdXNlcg==\r\n");
    in("334 UGFzc3dvcmQ6\r\n");
    assert_string_equal(out(), "czNjcmV0IHBhc3M=\r\n");
    in("235 ok\r\n");
    assert_string_equal(out(), "MAIL FROM:<alice@example.test>\r\n");
}

/* Refused credentials, or no mechanism we speak: nobody is answered (the
 * message waits), the reason is kept, the password is not in it. */
static void test_auth_refused_defers(void **state)
{
    (void)state;
    body_text = "x\r\n";
    start_auth(true);
    in("220 relay\r\n");
    out();
    in("250-relay\r\n250 AUTH PLAIN\r\n");
    out();
    in("535 5.7.8 Authentication credentials invalid\r\n");
    assert_string_equal(out(), "QUIT\r\n");
    assert_false(smtp_client_answered(&cl));
    assert_non_null(strstr(cl.error, "535 5.7.8"));
    assert_null(strstr(cl.error, "s3cret"));
    start_auth(true);
    in("220 relay\r\n");
    out();
    in("250-relay\r\n250 AUTH CRAM-MD5\r\n");
    assert_string_equal(out(), "QUIT\r\n");
    assert_false(smtp_client_answered(&cl));
    assert_non_null(strstr(cl.error, "neither AUTH PLAIN nor AUTH LOGIN"));
}

static void test_ehlo_refused_falls_back_to_helo(void **state)
{
    (void)state;
    body_text = "x\r\n";
    start(false, false, false, 1);
    in("220 old mx\r\n");
    out();
    in("502 5.5.2 what?\r\n");
    assert_string_equal(out(), "HELO mail.example.test\r\n");
    in("250 old mx\r\n");
    assert_string_equal(out(), "MAIL FROM:<alice@example.test>\r\n");
}

static void test_refused_without_asking(void **state)
{
    (void)state;
    /* 8-bit body, no 8BITMIME: bounced with a clear reason, not converted. */
    body_text = "caf\xc3\xa9\r\n";
    start(false, false, true, 2);
    in("220 mx\r\n");
    out();
    in("250 mx\r\n");
    assert_string_equal(out(), "QUIT\r\n");
    assert_int_equal(cl.rcpt[0].reply.code, 554);
    assert_string_equal(cl.rcpt[1].reply.enh, "5.6.3");
    assert_non_null(strstr(cl.rcpt[0].reply.text, "8BITMIME"));
    /* Larger than the server's SIZE. */
    body_text = "0123456789\r\n";
    start(false, false, false, 1);
    in("220 mx\r\n");
    out();
    in("250-mx\r\n250 SIZE 10\r\n");
    assert_string_equal(out(), "QUIT\r\n");
    assert_int_equal(cl.rcpt[0].reply.code, 552);
    /* The null sender goes as MAIL FROM:<>. */
    struct smtp_client_config cfg = { .helo = "h" };
    smtp_client_init(&cl, &cfg, "", 0, body_read, NULL, now);
    smtp_client_add_rcpt(&cl, "bob@example.net", 15);
    in("220 mx\r\n");
    out();
    in("250 mx\r\n");
    assert_string_equal(out(), "MAIL FROM:<>\r\n");
}

static void test_malformed_replies_end_the_session(void **state)
{
    (void)state;
    body_text = "x\r\n";
    start(false, false, false, 1);
    in("hello there\r\n");
    assert_int_equal(cl.state, SMTP_CLIENT_DONE);
    assert_false(smtp_client_answered(&cl));
    /* A multi-line reply whose code changes. */
    start(false, false, false, 1);
    in("220 mx\r\n");
    out();
    in("250-mx\r\n251 other\r\n");
    assert_int_equal(cl.state, SMTP_CLIENT_DONE);
    /* A line over 512 octets. */
    start(false, false, false, 1);
    char longline[700];
    memset(longline, 'a', sizeof(longline));
    memcpy(longline, "220 ", 4);
    smtp_client_input(&cl, (const uint8_t *)longline, sizeof(longline), now);
    assert_int_equal(cl.state, SMTP_CLIENT_DONE);
    /* The parser alone. */
    int code;
    bool last;
    const char *text;
    size_t tlen;
    char enh[12];
    assert_int_equal(smtp_client_reply_line("250", 3, &code, &last, &text, &tlen), 0);
    assert_true(last);
    assert_int_equal(smtp_client_reply_line("25", 2, &code, &last, &text, &tlen), PB_ECORRUPT);
    assert_int_equal(smtp_client_reply_line("250x", 4, &code, &last, &text, &tlen), PB_ECORRUPT);
    assert_int_equal(smtp_client_reply_line("650 x", 5, &code, &last, &text, &tlen), PB_ECORRUPT);
    assert_int_equal(smtp_client_reply_enhanced("5.1.10 null MX", 14, 5, enh, sizeof(enh)), 7);
    assert_string_equal(enh, "5.1.10");
    assert_int_equal(smtp_client_reply_enhanced("4.1.1 x", 7, 5, enh, sizeof(enh)), 0);  /* wrong class */
    assert_int_equal(smtp_client_reply_enhanced("5.1234.1 x", 10, 5, enh, sizeof(enh)), 0);
}

static void test_timeouts_and_lost_connections(void **state)
{
    (void)state;
    body_text = "x\r\n";
    start(false, false, false, 1);
    smtp_client_tick(&cl, now + SMTP_CLIENT_T_GREETING - 1);
    assert_int_equal(cl.state, SMTP_CLIENT_GREETING);
    smtp_client_tick(&cl, now + SMTP_CLIENT_T_GREETING);
    assert_int_equal(cl.state, SMTP_CLIENT_DONE);
    assert_false(smtp_client_answered(&cl));   /* another server may be tried */
    assert_non_null(strstr(cl.error, "timed out"));
    /* Lost after the body went out: the accepted recipients are tried again
     * later (4xx), never taken as delivered. */
    start(false, false, false, 1);
    in("220 mx\r\n");
    out();
    in("250-mx\r\n250 PIPELINING\r\n");
    out();
    in("250 ok\r\n250 ok\r\n354 go\r\n");
    assert_string_equal(out(), "x\r\n.\r\n");
    /* The final reply has 10 minutes. */
    smtp_client_tick(&cl, now + SMTP_CLIENT_T_DOT - 1);
    assert_int_equal(cl.state, SMTP_CLIENT_COMMANDS);
    smtp_client_conn_lost(&cl, "reset");
    assert_int_equal(cl.state, SMTP_CLIENT_DONE);
    assert_int_equal(cl.rcpt[0].reply.code, 451);
    assert_false(smtp_client_final(&cl));
}

static void test_replies_split_across_reads(void **state)
{
    (void)state;
    body_text = "x\r\n";
    start(false, false, false, 1);
    const char *script = "220 mx\r\n";
    for (size_t i = 0; script[i]; i++)
        assert_int_equal(smtp_client_input(&cl, (const uint8_t *)script + i, 1, now), 1);
    assert_string_equal(out(), "EHLO mail.example.test\r\n");
    in("250-mx\n250 PIPE");     /* a bare LF ends a line too */
    assert_string_equal(out(), "");
    in("LINING\r\n");
    assert_true(cl.pipelining);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipelined_per_recipient_results),
        cmocka_unit_test(test_next_message_same_connection),
        cmocka_unit_test(test_without_pipelining_one_command_per_reply),
        cmocka_unit_test(test_all_recipients_refused_no_data),
        cmocka_unit_test(test_starttls_offered_then_ehlo_again),
        cmocka_unit_test(test_starttls_not_offered),
        cmocka_unit_test(test_auth_plain_after_starttls),
        cmocka_unit_test(test_auth_login_implicit_tls),
        cmocka_unit_test(test_auth_refused_defers),
        cmocka_unit_test(test_ehlo_refused_falls_back_to_helo),
        cmocka_unit_test(test_refused_without_asking),
        cmocka_unit_test(test_malformed_replies_end_the_session),
        cmocka_unit_test(test_timeouts_and_lost_connections),
        cmocka_unit_test(test_replies_split_across_reads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
