/*
 * test_smtp_session.c - SMTP dialogues: lines a client sends, the replies
 * it must get, and what reaches the store.  The backend is a recorder:
 * example.test has the users alice and bob; every other domain is remote.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pb_err.h"
#include "smtp_session.h"

/* ---------------------------------------------------------- recorder --- */

static struct {
    char out[65536];            /* everything the server said */
    size_t out_len;
    size_t out_pos;             /* where expect() reads next */
    uint8_t msg[65536];         /* the message being written */
    size_t msg_len;
    int begun, aborted, committed;
    int rcpts;
    int fail_begin, fail_write, fail_commit;
    char last_id[SMTP_SESSION_ID_LEN + 1];
    char auth_user[64];         /* what begin() was told */
    int auths;
    uint8_t committed_msg[65536];
    size_t committed_len;
} rec;

static void rec_write(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    assert_true(rec.out_len + n < sizeof(rec.out));
    memcpy(rec.out + rec.out_len, s, n);
    rec.out_len += n;
    rec.out[rec.out_len] = '\0';
}

static int be_begin(void *ctx, const struct smtp_envelope *env, struct smtp_reply *r)
{
    (void)ctx;
    if (rec.fail_begin) {
        *r = (struct smtp_reply){ 452, "4.3.1", "Insufficient system storage" };
        return PB_ENOSPC;
    }
    rec.begun++;
    rec.msg_len = 0;
    rec.rcpts = 0;
    strcpy(rec.last_id, env->id);
    snprintf(rec.auth_user, sizeof(rec.auth_user), "%s", env->auth_user ? env->auth_user : "");
    return 0;
}

/* Logins: alice@example.test with "secret"; 192.0.2.66 is locked out. */
static int be_auth(void *ctx, const char *peer, const char *user, const char *pass)
{
    (void)ctx;
    rec.auths++;
    if (strcmp(peer, "192.0.2.66") == 0)
        return PB_EBUSY;
    return strcmp(user, "alice@example.test") == 0 && strcmp(pass, "secret") == 0 ? 0 : PB_EPERM;
}

static int be_rcpt(void *ctx, const struct mail_address *a, struct smtp_reply *r)
{
    (void)ctx;
    if (strcmp(a->domain, "example.test") != 0) {
        *r = (struct smtp_reply){ 554, "5.7.1", "Relay access denied" };
        return PB_EPERM;
    }
    if (strcmp(a->local, "alice") != 0 && strcmp(a->local, "bob") != 0) {
        *r = (struct smtp_reply){ 550, "5.1.1", "No such user here" };
        return PB_ENOENT;
    }
    rec.rcpts++;
    return 0;
}

static int be_write(void *ctx, const uint8_t *d, size_t n)
{
    (void)ctx;
    if (rec.fail_write)
        return PB_ENOSPC;
    assert_true(rec.msg_len + n <= sizeof(rec.msg));
    memcpy(rec.msg + rec.msg_len, d, n);
    rec.msg_len += n;
    return 0;
}

static int be_commit(void *ctx)
{
    (void)ctx;
    if (rec.fail_commit)
        return PB_ENOSPC;
    rec.committed++;
    memcpy(rec.committed_msg, rec.msg, rec.msg_len);
    rec.committed_len = rec.msg_len;
    return 0;
}

static void be_abort(void *ctx)
{
    (void)ctx;
    rec.aborted++;
}

static const struct smtp_backend backend = {
    NULL, be_begin, be_rcpt, be_write, be_commit, be_abort, be_auth,
};

static const struct smtp_session_config config = {
    .hostname = "mail.example.test",
    .max_size = 20000,
    .tls_available = true,
};

static struct smtp_session s;

static int setup(void **state)
{
    (void)state;
    memset(&rec, 0, sizeof(rec));
    smtp_session_init(&s, &config, &backend, rec_write, NULL, "192.0.2.1");
    return 0;
}

/* ---------------------------------------------------------- dialogue --- */

static size_t send_raw(const char *data, size_t len)
{
    return smtp_session_input(&s, (const uint8_t *)data, len);
}

static void send_line(const char *line)
{
    char buf[2048];
    int n = snprintf(buf, sizeof(buf), "%s\r\n", line);
    assert_int_equal(send_raw(buf, (size_t)n), (size_t)n);
}

/* The next reply line must start with prefix. */
static void expect(const char *prefix)
{
    const char *line = rec.out + rec.out_pos;
    const char *end = strstr(line, "\r\n");
    if (!end)
        fail_msg("expected \"%s\", the server said nothing more", prefix);
    if (strncmp(line, prefix, strlen(prefix)) != 0)
        fail_msg("expected \"%s\", got \"%.*s\"", prefix, (int)(end - line), line);
    rec.out_pos = (size_t)(end + 2 - rec.out);
}

static void expect_silence(void)
{
    if (rec.out_pos != rec.out_len)
        fail_msg("unexpected reply: %s", rec.out + rec.out_pos);
}

static void ehlo(void)
{
    expect("220 2.0.0 mail.example.test ESMTP Pillarbox");
    send_line("EHLO client.example.net");
    expect("250-mail.example.test Hello client.example.net [192.0.2.1]");
    expect("250-SIZE 20000");
    expect("250-PIPELINING");
    expect("250-8BITMIME");
    expect("250-ENHANCEDSTATUSCODES");
    expect("250-SMTPUTF8");
    expect("250-STARTTLS");
    expect("250 CHUNKING");
}

/* ------------------------------------------------------------- tests --- */

static void test_one_message(void **state)
{
    (void)state;
    ehlo();
    send_line("MAIL FROM:<sender@example.net>");
    expect("250 2.1.0 Ok");
    send_line("RCPT TO:<alice@example.test>");
    expect("250 2.1.5 Ok");
    send_line("DATA");
    expect("354 2.0.0 End data with <CR><LF>.<CR><LF>");
    send_line("Subject: hello\r\n\r\n..one dot\r\nbody\r\n.");
    expect("250 2.0.0 Ok: queued as ");
    assert_non_null(strstr(rec.out, rec.last_id));
    assert_int_equal(rec.committed, 1);
    /* The stored message: the trace header, then the body, unstuffed. */
    rec.committed_msg[rec.committed_len] = 0;
    const char *m = (const char *)rec.committed_msg;
    assert_true(strncmp(m, "Received: from client.example.net ([192.0.2.1])\r\n\tby mail.example.test "
                           "(Pillarbox) with ESMTP id ", 87) == 0);
    assert_non_null(strstr(m, "\r\n\tfor <alice@example.test>; "));
    const char *body = strstr(m, "+0000\r\n");
    assert_non_null(body);
    assert_string_equal(body + 7, "Subject: hello\r\n\r\n.one dot\r\nbody\r\n");
    send_line("QUIT");
    expect("221 2.0.0 mail.example.test closing connection");
    assert_int_equal(s.state, SMTP_STATE_CLOSED);
    expect_silence();
}

static void test_pipelined_and_split(void **state)
{
    (void)state;
    const char *all = "EHLO c.example.net\r\nMAIL FROM:<>\r\nRCPT TO:<alice@example.test>\r\n"
                      "RCPT TO:<nobody@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"
                      "x\r\n.\r\nQUIT\r\n";
    /* Byte by byte: the same replies as all at once. */
    for (size_t i = 0; i < strlen(all); i++)
        assert_int_equal(send_raw(all + i, 1), 1);
    expect("220 ");
    for (int i = 0; i < 7; i++)
        expect("250-");
    expect("250 CHUNKING");
    expect("250 2.1.0");
    expect("250 2.1.5");
    expect("550 5.1.1 No such user here");
    expect("250 2.1.5");
    expect("354 ");
    expect("250 2.0.0 Ok: queued as");
    expect("221 ");
    assert_int_equal(rec.committed, 1);
    assert_int_equal(rec.rcpts, 2);
    /* Two recipients: no "for" clause in the trace header. */
    rec.committed_msg[rec.committed_len] = 0;
    assert_null(strstr((const char *)rec.committed_msg, "\tfor <"));
}

static void test_sequence_errors(void **state)
{
    (void)state;
    expect("220 ");
    send_line("MAIL FROM:<a@example.net>");
    expect("503 5.5.1 Send HELO or EHLO first");
    send_line("HELO c.example.net");
    expect("250 2.0.0 mail.example.test Hello c.example.net");
    send_line("RCPT TO:<alice@example.test>");
    expect("503 5.5.1 Send MAIL FROM first");
    send_line("DATA");
    expect("503 5.5.1 No valid recipients");
    send_line("MAIL FROM:<a@example.net>");
    expect("250 2.1.0");
    send_line("MAIL FROM:<a@example.net>");
    expect("503 5.5.1 Nested MAIL command");
    send_line("RSET");
    expect("250 2.0.0 Ok");
    assert_int_equal(rec.aborted, 1);
    send_line("DATA");
    expect("503 5.5.1");
    send_line("VRFY alice");
    expect("252 2.5.0");
    send_line("EXPN staff");
    expect("502 5.5.1 EXPN is disabled");
    send_line("HELP");
    expect("214 2.0.0");
    send_line("NOOP");
    expect("250 2.0.0 Ok");
    send_line("AUTH PLAIN AGFsaWNlAHNlY3JldA==");
    expect("503 5.5.1 AUTH is not offered on this port");
    send_line("FROB");
    expect("500 5.5.1 Command not recognized");
    char big[700];
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    send_line(big);
    expect("500 5.5.2 Line too long");
    send_line("NOOP");
    expect("250 2.0.0 Ok");
}

static void test_too_many_errors_close(void **state)
{
    (void)state;
    expect("220 ");
    for (int i = 0; i < SMTP_SESSION_MAX_ERRORS - 1; i++) {
        send_line("GET / HTTP/1.0");
        expect("500 5.5.1");
    }
    send_line("GET / HTTP/1.0");
    expect("421 4.7.0 mail.example.test Too many errors");
    assert_int_equal(s.state, SMTP_STATE_CLOSED);
    /* Nothing more is read. */
    assert_int_equal(send_raw("NOOP\r\n", 6), 0);
    expect_silence();
}

static void test_policy_replies(void **state)
{
    (void)state;
    ehlo();
    send_line("MAIL FROM:<a@example.net>");
    expect("250 2.1.0");
    send_line("RCPT TO:<someone@elsewhere.example>");
    expect("554 5.7.1 Relay access denied");
    send_line("RCPT TO:<j\xc3\xb6rg@example.test>");
    expect("553 5.6.7");
    for (int i = 0; i < SMTP_SESSION_MAX_RCPTS; i++) {
        send_line("RCPT TO:<bob@example.test>");
        expect("250 2.1.5");
    }
    send_line("RCPT TO:<bob@example.test>");
    expect("452 4.5.3 Too many recipients");
}

static void test_size_limits(void **state)
{
    (void)state;
    ehlo();
    send_line("MAIL FROM:<a@example.net> SIZE=20001");
    expect("552 5.3.4 Message too big: the limit is 20000 octets");
    send_line("MAIL FROM:<a@example.net> SIZE=100");
    expect("250 2.1.0");
    send_line("RCPT TO:<alice@example.test>");
    expect("250 2.1.5");
    send_line("DATA");
    expect("354 ");
    char line[101];
    memset(line, 'x', 100);
    line[100] = 0;
    for (int i = 0; i < 250; i++)
        send_line(line);
    send_line(".");
    expect("552 5.3.4 Message too big");
    assert_int_equal(rec.committed, 0);
    assert_true(rec.aborted >= 1);
    /* The session goes on. */
    send_line("NOOP");
    expect("250 2.0.0 Ok");
}

static void test_smuggling_is_one_refused_message(void **state)
{
    (void)state;
    ehlo();
    send_line("MAIL FROM:<a@example.net>");
    expect("250 2.1.0");
    send_line("RCPT TO:<alice@example.test>");
    expect("250 2.1.5");
    send_line("DATA");
    expect("354 ");
    const char *probe = "Subject: one\r\n\r\nbody\n.\nMAIL FROM:<evil@example.net>\r\n"
                        "RCPT TO:<bob@example.test>\r\nDATA\r\nSubject: smuggled\r\n.\r\n";
    assert_int_equal(send_raw(probe, strlen(probe)), strlen(probe));
    expect("554 5.6.0 Message refused: it contains a bare LF");
    expect_silence();
    assert_int_equal(rec.committed, 0);
    assert_int_equal(rec.begun, 1);
    /* A clean message afterwards is fine. */
    send_line("MAIL FROM:<a@example.net>");
    expect("250 2.1.0");
    send_line("RCPT TO:<alice@example.test>");
    expect("250 2.1.5");
    send_line("DATA");
    expect("354 ");
    send_line("ok\r\n.");
    expect("250 2.0.0 Ok: queued as");
    assert_int_equal(rec.committed, 1);
}

static void test_bdat(void **state)
{
    (void)state;
    ehlo();
    const char *d = "MAIL FROM:<a@example.net>\r\nRCPT TO:<bob@example.test>\r\n"
                    "BDAT 9\r\nab\r\n.\r\ncdBDAT 0 LAST\r\nNOOP\r\n";
    assert_int_equal(send_raw(d, strlen(d)), strlen(d));
    expect("250 2.1.0");
    expect("250 2.1.5");
    expect("250 2.0.0 Ok: ");
    expect("250 2.0.0 Ok: queued as");
    expect("250 2.0.0 Ok");
    assert_int_equal(rec.committed, 1);
    /* BDAT is taken by count: the dot line is data, unchanged. */
    const char *body = strstr((const char *)rec.committed_msg, "+0000\r\n");
    assert_non_null(body);
    assert_int_equal(rec.committed_len - (size_t)(body + 7 - (const char *)rec.committed_msg), 9);
    assert_memory_equal(body + 7, "ab\r\n.\r\ncd", 9);
    /* DATA may not follow BDAT in one transaction. */
    send_line("MAIL FROM:<a@example.net>");
    expect("250 2.1.0");
    send_line("RCPT TO:<bob@example.test>");
    expect("250 2.1.5");
    send_line("BDAT 2");
    assert_int_equal(send_raw("xy", 2), 2);
    expect("250 2.0.0 Ok: ");
    send_line("DATA");
    expect("503 5.5.1 Bad sequence");
}

static void test_starttls_drops_pipelined_commands(void **state)
{
    (void)state;
    ehlo();
    const char *inject = "STARTTLS\r\nMAIL FROM:<evil@example.net>\r\n";
    size_t used = send_raw(inject, strlen(inject));
    assert_int_equal(used, strlen("STARTTLS\r\n"));
    expect("220 2.0.0 Ready to start TLS");
    expect_silence();
    assert_int_equal(s.state, SMTP_STATE_STARTTLS);
    /* The caller throws the rest away and starts TLS. */
    smtp_session_tls_started(&s, "TLSv1.3", "TLS_AES_128_GCM_SHA256");
    send_line("MAIL FROM:<a@example.net>");
    expect("503 5.5.1 Send HELO or EHLO first");
    send_line("EHLO c.example.net");
    for (int i = 0; i < 6; i++)
        expect("250-");
    expect("250 CHUNKING");     /* no STARTTLS any more */
    send_line("STARTTLS");
    expect("503 5.5.1 TLS is already active");
    send_line("MAIL FROM:<a@example.net>");
    expect("250 2.1.0");
    send_line("RCPT TO:<alice@example.test>");
    expect("250 2.1.5");
    send_line("DATA");
    expect("354 ");
    send_line("secret\r\n.");
    expect("250 2.0.0 Ok: queued as");
    rec.committed_msg[rec.committed_len] = 0;
    assert_non_null(strstr((const char *)rec.committed_msg,
                           "with ESMTPS id "));
    assert_non_null(strstr((const char *)rec.committed_msg,
                           "(version=TLSv1.3 cipher=TLS_AES_128_GCM_SHA256)"));
}

static void test_storage_failures(void **state)
{
    (void)state;
    ehlo();
    rec.fail_begin = 1;
    send_line("MAIL FROM:<a@example.net>");
    expect("452 4.3.1 Insufficient system storage");
    rec.fail_begin = 0;
    rec.fail_commit = 1;
    send_line("MAIL FROM:<a@example.net>");
    expect("250 2.1.0");
    send_line("RCPT TO:<alice@example.test>");
    expect("250 2.1.5");
    send_line("DATA");
    expect("354 ");
    send_line("x\r\n.");
    expect("452 4.3.1 Insufficient system storage");
    assert_int_equal(rec.committed, 0);
    rec.fail_commit = 0;
    rec.fail_write = 1;
    send_line("MAIL FROM:<a@example.net>");
    expect("250 2.1.0");
    send_line("RCPT TO:<alice@example.test>");
    expect("250 2.1.5");
    send_line("DATA");
    expect("354 ");
    send_line("x\r\n.");
    expect("452 4.3.1");
    assert_int_equal(rec.committed, 0);
}

/* ---------------------------------------------------------- submission --- */

static const struct smtp_session_config sub_config = {
    .hostname = "mail.example.test",
    .max_size = 20000,
    .tls_available = true,
    .submission = true,
};

/* A submission session with TLS on and EHLO done. */
static void sub_tls(const char *peer)
{
    memset(&rec, 0, sizeof(rec));
    smtp_session_init(&s, &sub_config, &backend, rec_write, NULL, peer);
    expect("220 ");
    smtp_session_tls_started(&s, "TLSv1.3", "TLS_AES_128_GCM_SHA256");
    send_line("EHLO laptop.example.test");
    for (;;) {
        const char *line = rec.out + rec.out_pos;
        if (!strncmp(line, "250 ", 4)) {
            expect("250 ");
            break;
        }
        expect("250-");
    }
}

static void test_submission_needs_tls_and_login(void **state)
{
    (void)state;
    memset(&rec, 0, sizeof(rec));
    smtp_session_init(&s, &sub_config, &backend, rec_write, NULL, "192.0.2.1");
    expect("220 ");
    send_line("EHLO laptop.example.test");
    rec.out[rec.out_len] = 0;
    assert_null(strstr(rec.out, "AUTH"));     /* never offered in clear */
    assert_non_null(strstr(rec.out, "250-STARTTLS"));
    rec.out_pos = rec.out_len;
    send_line("AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=");
    expect("538 5.7.11 Encryption required");
    send_line("MAIL FROM:<alice@example.test>");
    expect("530 5.7.0 Authentication required: send STARTTLS");
    assert_int_equal(rec.auths, 0);
    /* With TLS: offered, and needed before MAIL. */
    smtp_session_tls_started(&s, "TLSv1.3", "TLS_AES_128_GCM_SHA256");
    send_line("EHLO laptop.example.test");
    rec.out[rec.out_len] = 0;
    assert_non_null(strstr(rec.out + rec.out_pos, "250-AUTH PLAIN LOGIN\r\n"));
    rec.out_pos = rec.out_len;
    send_line("MAIL FROM:<alice@example.test>");
    expect("530 5.7.0 Authentication required: log in with AUTH first");
    send_line("AUTH CRAM-MD5");
    expect("504 5.5.4");
    /* PLAIN with the initial response: \0alice@example.test\0secret */
    send_line("AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=");
    expect("235 2.7.0 Authentication successful");
    send_line("AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=");
    expect("503 5.5.1 Already logged in");
    send_line("MAIL FROM:<alice@example.test>");
    expect("250 2.1.0");
    assert_string_equal(rec.auth_user, "alice@example.test");
    send_line("RCPT TO:<bob@example.test>");
    expect("250 2.1.5");
    send_line("DATA");
    expect("354 ");
    send_line("Subject: no date here\r\n\r\nbody\r\n.");
    expect("250 2.0.0 Ok: queued as ");
    rec.committed_msg[rec.committed_len] = 0;
    const char *m = (const char *)rec.committed_msg;
    assert_non_null(strstr(m, "with ESMTPSA id "));
    assert_non_null(strstr(m, "from laptop.example.test ([192.0.2.1])"));
    /* Date: and Message-ID: went in at the end of the header section. */
    const char *subj = strstr(m, "Subject: no date here\r\nDate: ");
    assert_non_null(subj);
    const char *mid = strstr(subj, "\r\nMessage-ID: <");
    assert_non_null(mid);
    assert_non_null(strstr(mid, "@mail.example.test>\r\n\r\nbody\r\n"));
}

static void test_submission_keeps_given_headers(void **state)
{
    (void)state;
    sub_tls("192.0.2.1");
    send_line("AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=");
    expect("235 ");
    send_line("MAIL FROM:<alice@example.test>");
    expect("250 ");
    send_line("RCPT TO:<bob@example.test>");
    expect("250 ");
    send_line("DATA");
    expect("354 ");
    /* Split across writes, in odd case, folded: nothing is added. */
    const char *part1 = "DATE: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-Id:\r\n <x@y>\r";
    const char *part2 = "\nSubject: s\r\n\r\nDate: in the body is not a header\r\n.\r\n";
    send_raw(part1, strlen(part1));
    send_raw(part2, strlen(part2));
    expect("250 2.0.0");
    rec.committed_msg[rec.committed_len] = 0;
    const char *m = strstr((const char *)rec.committed_msg, "DATE: ");
    assert_non_null(m);
    assert_string_equal(m, "DATE: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-Id:\r\n <x@y>\r\n"
                           "Subject: s\r\n\r\nDate: in the body is not a header\r\n");
    /* A message that is all header, without an empty line: added at its end. */
    send_line("MAIL FROM:<alice@example.test>");
    expect("250 ");
    send_line("RCPT TO:<bob@example.test>");
    expect("250 ");
    send_line("DATA");
    expect("354 ");
    send_line("Subject: only\r\n.");
    expect("250 2.0.0");
    rec.committed_msg[rec.committed_len] = 0;
    m = strstr((const char *)rec.committed_msg, "Subject: only\r\nDate: ");
    assert_non_null(m);
    assert_non_null(strstr(m, "\r\nMessage-ID: <"));
}

static void test_submission_login_mechanisms(void **state)
{
    (void)state;
    sub_tls("192.0.2.1");
    /* PLAIN without an initial response, then cancelled. */
    send_line("AUTH PLAIN");
    expect("334 ");
    send_line("*");
    expect("501 5.0.0 Authentication cancelled");
    send_line("AUTH PLAIN");
    expect("334 ");
    send_line("not base64!");
    expect("501 5.5.2");
    /* LOGIN: user, then password. */
    send_line("AUTH LOGIN");
    expect("334 VXNlcm5hbWU6");
    send_line("YWxpY2VAZXhhbXBsZS50ZXN0");     /* alice@example.test */
    expect("334 UGFzc3dvcmQ6");
    send_line("c2VjcmV0");                     /* secret */
    expect("235 2.7.0");
    /* LOGIN with the user name as initial response. */
    sub_tls("192.0.2.1");
    send_line("AUTH LOGIN YWxpY2VAZXhhbXBsZS50ZXN0");
    expect("334 UGFzc3dvcmQ6");
    send_line("c2VjcmV0");
    expect("235 ");
}

static void test_submission_failed_login_is_held(void **state)
{
    (void)state;
    sub_tls("192.0.2.1");
    /* \0alice@example.test\0wrong, with a NOOP pipelined behind. */
    const char *both = "AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdAB3cm9uZw==\r\nNOOP\r\n";
    size_t used = send_raw(both, strlen(both));
    assert_true(used < strlen(both));          /* the NOOP waits */
    assert_int_equal(s.state, SMTP_STATE_HOLD);
    expect_silence();                          /* no answer yet: the delay is the server's */
    smtp_session_resume(&s);
    expect("535 5.7.8 Authentication failed");
    send_raw(both + used, strlen(both) - used);
    expect("250 2.0.0 Ok");
    send_line("MAIL FROM:<alice@example.test>");
    expect("530 ");
    /* A locked-out address is told so at once, without a password check. */
    sub_tls("192.0.2.66");
    send_line("AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=");
    expect("454 4.7.0 Too many failed logins");
    /* Port 25 has no AUTH at all. */
    memset(&rec, 0, sizeof(rec));
    smtp_session_init(&s, &config, &backend, rec_write, NULL, "192.0.2.1");
    expect("220 ");
    smtp_session_tls_started(&s, "TLSv1.3", "TLS_AES_128_GCM_SHA256");
    send_line("EHLO x.example.net");
    rec.out[rec.out_len] = 0;
    assert_null(strstr(rec.out + rec.out_pos, "AUTH"));
    rec.out_pos = rec.out_len;
    send_line("AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=");
    expect("503 5.5.1 AUTH is not offered on this port");
    assert_int_equal(rec.auths, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_one_message, setup),
        cmocka_unit_test_setup(test_pipelined_and_split, setup),
        cmocka_unit_test_setup(test_sequence_errors, setup),
        cmocka_unit_test_setup(test_too_many_errors_close, setup),
        cmocka_unit_test_setup(test_policy_replies, setup),
        cmocka_unit_test_setup(test_size_limits, setup),
        cmocka_unit_test_setup(test_smuggling_is_one_refused_message, setup),
        cmocka_unit_test_setup(test_bdat, setup),
        cmocka_unit_test_setup(test_starttls_drops_pipelined_commands, setup),
        cmocka_unit_test_setup(test_storage_failures, setup),
        cmocka_unit_test_setup(test_submission_needs_tls_and_login, setup),
        cmocka_unit_test_setup(test_submission_keeps_given_headers, setup),
        cmocka_unit_test_setup(test_submission_login_mechanisms, setup),
        cmocka_unit_test_setup(test_submission_failed_login_is_held, setup),
    };
    return cmocka_run_group_tests_name("smtp_session", tests, NULL, NULL);
}
