/*
 * test_pop3_session.c - POP3 dialogues: lines a client sends, the replies
 * it must get, and what the maildrop is asked to do.  The backend is a
 * fake: user "alice@example.test" with password "s3cret pass", a maildrop
 * of the messages in fake.msgs; "bob@example.test" has an empty one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pb_err.h"
#include "pop3_session.h"

/* ------------------------------------------------------------- fake --- */

static const char *const alice_msgs[] = {
    "Subject: one\r\nFrom: a@example.test\r\n\r\nHello\r\n.hidden dot\r\n..two dots\r\nend\r\n",
    "Subject: two\r\n\r\nline 1\r\nline 2\r\nline 3\r\n",
    "Subject: three\r\n\r\nno final newline",
};

static struct {
    char out[1 << 16];
    size_t out_len, out_pos;
    const char *const *msgs;
    unsigned nmsgs;
    int login_result;           /* forced result of login when not 0 */
    int logins, logouts, commits, fail_commit, fail_read;
    uint8_t committed[POP3_SESSION_MAX_MSGS / 8];
    unsigned committed_count;
    char last_peer[64], last_user[300], last_pass[300];
    char log[512];
} fake;

static void rec_write(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    assert_true(fake.out_len + n < sizeof(fake.out));
    memcpy(fake.out + fake.out_len, s, n);
    fake.out_len += n;
    fake.out[fake.out_len] = '\0';
}

static void rec_log(const char *line)
{
    snprintf(fake.log, sizeof(fake.log), "%s", line);
}

static int be_login(void *ctx, const char *peer, const char *user, const char *pass)
{
    (void)ctx;
    fake.logins++;
    snprintf(fake.last_peer, sizeof(fake.last_peer), "%s", peer);
    snprintf(fake.last_user, sizeof(fake.last_user), "%s", user);
    snprintf(fake.last_pass, sizeof(fake.last_pass), "%s", pass);
    if (fake.login_result)
        return fake.login_result;
    if (strcmp(user, "alice@example.test") == 0 && strcmp(pass, "s3cret pass") == 0) {
        fake.msgs = alice_msgs;
        fake.nmsgs = 3;
        return 0;
    }
    if (strcmp(user, "bob@example.test") == 0 && strcmp(pass, "bob") == 0) {
        fake.nmsgs = 0;
        return 0;
    }
    return PB_EPERM;
}

static int be_count(void *ctx)
{
    (void)ctx;
    return (int)fake.nmsgs;
}

static int be_msg(void *ctx, unsigned i, struct pop3_msg *m)
{
    (void)ctx;
    if (i >= fake.nmsgs)
        return PB_ENOENT;
    *m = (struct pop3_msg){ (uint32_t)strlen(fake.msgs[i]), 100 + i, 7 };
    return 0;
}

static int be_read(void *ctx, unsigned i, uint32_t off, void *buf, size_t len)
{
    (void)ctx;
    if (fake.fail_read)
        return PB_ECORRUPT;
    assert_true(i < fake.nmsgs);
    size_t size = strlen(fake.msgs[i]);
    if (off >= size)
        return 0;
    if (len > size - off)
        len = size - off;
    if (len > 7)
        len = 7;                /* small pieces: line state must carry over */
    memcpy(buf, fake.msgs[i] + off, len);
    return (int)len;
}

static int be_commit(void *ctx, const uint8_t *deleted, unsigned count)
{
    (void)ctx;
    if (fake.fail_commit)
        return PB_EIO;
    fake.commits++;
    memcpy(fake.committed, deleted, sizeof(fake.committed));
    fake.committed_count = count;
    return 0;
}

static void be_logout(void *ctx)
{
    (void)ctx;
    fake.logouts++;
}

static const struct pop3_backend backend = {
    NULL, be_login, be_count, be_msg, be_read, be_commit, be_logout,
};

static struct pop3_session_config config = {
    .hostname = "mail.example.test",
    .tls_available = true,
    .log = rec_log,
};

static struct pop3_session s;

static int setup(void **state)
{
    (void)state;
    memset(&fake, 0, sizeof(fake));
    config.max_deletes = 0;
    pop3_session_init(&s, &config, &backend, rec_write, NULL, "192.0.2.1", NULL);
    return 0;
}

/* ---------------------------------------------------------- dialogue --- */

/* Client bytes in, as the server feeds them: RETR/TOP/LIST bodies are
 * pumped out in 64-octet pieces, then the pipelined rest is read.  Returns
 * the bytes the session took before it stopped reading. */
static size_t feed(const char *text)
{
    size_t len = strlen(text), used = 0;
    for (int guard = 0; guard < 100000; guard++) {
        if (s.state == POP3_STATE_SENDING) {
            pop3_session_pump(&s, POP3_SESSION_PUMP_MIN);
            continue;
        }
        if (used == len || (s.state != POP3_STATE_AUTH && s.state != POP3_STATE_SASL &&
                            s.state != POP3_STATE_TRANSACTION))
            break;
        used += pop3_session_input(&s, (const uint8_t *)text + used, len - used);
    }
    return used;
}

/* The server's next output must be exactly want. */
static void expect(const char *want)
{
    size_t n = strlen(want);
    if (fake.out_len - fake.out_pos < n || memcmp(fake.out + fake.out_pos, want, n) != 0)
        fail_msg("expected \"%s\"\ngot \"%s\"", want, fake.out + fake.out_pos);
    fake.out_pos += n;
}

/* The next output line must start with prefix; the whole line is skipped. */
static void expect_line(const char *prefix)
{
    size_t n = strlen(prefix);
    if (fake.out_len - fake.out_pos < n || memcmp(fake.out + fake.out_pos, prefix, n) != 0)
        fail_msg("expected a line starting \"%s\"\ngot \"%s\"", prefix, fake.out + fake.out_pos);
    const char *nl = strstr(fake.out + fake.out_pos, "\r\n");
    assert_non_null(nl);
    fake.out_pos = (size_t)(nl + 2 - fake.out);
}

static void expect_nothing(void)
{
    if (fake.out_pos != fake.out_len)
        fail_msg("unexpected output \"%s\"", fake.out + fake.out_pos);
}

static void tls_and_login(void)
{
    expect_line("+OK mail.example.test POP3 Pillarbox ready");
    feed("STLS\r\n");
    expect("+OK Begin TLS negotiation\r\n");
    pop3_session_tls_started(&s, "TLSv1.3");
    feed("USER alice@example.test\r\nPASS s3cret pass\r\n");
    expect("+OK Send PASS\r\n");
    expect("+OK Logged in, 3 messages (");
    expect_line("");
    assert_int_equal(s.state, POP3_STATE_TRANSACTION);
}

static void test_capa_plaintext_and_tls(void **state)
{
    (void)state;
    expect_line("+OK mail.example.test POP3 Pillarbox ready");
    feed("CAPA\r\n");
    expect("+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
           "PIPELINING\r\nSTLS\r\nIMPLEMENTATION Pillarbox\r\n.\r\n");
    feed("STLS\r\n");
    expect("+OK Begin TLS negotiation\r\n");
    pop3_session_tls_started(&s, "TLSv1.3");
    feed("capa\r\n");
    expect("+OK Capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\nSASL PLAIN\r\nRESP-CODES\r\n"
           "AUTH-RESP-CODE\r\nPIPELINING\r\nIMPLEMENTATION Pillarbox\r\n.\r\n");
    feed("STLS\r\n");
    expect("-ERR TLS is already active\r\n");
}

static void test_login_refused_without_tls(void **state)
{
    (void)state;
    expect_line("+OK");
    feed("USER alice@example.test\r\n");
    expect("-ERR [AUTH] Logins need TLS: use STLS first\r\n");
    feed("PASS s3cret pass\r\n");
    expect("-ERR [AUTH] Logins need TLS: use STLS first\r\n");
    feed("AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABzM2NyZXQgcGFzcw==\r\n");
    expect("-ERR [AUTH] Logins need TLS: use STLS first\r\n");
    assert_int_equal(fake.logins, 0);
    /* Before login, transaction commands are refused. */
    feed("STAT\r\n");
    expect("-ERR Log in first\r\n");
}

static void test_stls_discards_pipelined_bytes(void **state)
{
    (void)state;
    expect_line("+OK");
    const char *attack = "STLS\r\nUSER alice@example.test\r\nPASS s3cret pass\r\n";
    size_t used = feed(attack);
    /* The session stops right after STLS: the rest is not its to read. */
    assert_int_equal(used, strlen("STLS\r\n"));
    assert_int_equal(s.state, POP3_STATE_STLS);
    expect("+OK Begin TLS negotiation\r\n");
    expect_nothing();
    pop3_session_tls_started(&s, "TLSv1.3");
    /* No USER carried over into TLS: PASS alone is refused. */
    feed("PASS s3cret pass\r\n");
    expect("-ERR Send USER first\r\n");
    assert_int_equal(fake.logins, 0);
}

static void test_user_pass_login_and_stat(void **state)
{
    (void)state;
    tls_and_login();
    assert_string_equal(fake.last_peer, "192.0.2.1");
    feed("STAT\r\n");
    char want[64];
    snprintf(want, sizeof(want), "+OK 3 %zu\r\n",
             strlen(alice_msgs[0]) + strlen(alice_msgs[1]) + strlen(alice_msgs[2]));
    expect(want);
    feed("NOOP\r\n");
    expect("+OK\r\n");
    feed("USER x\r\n");
    expect("-ERR Command not valid in this state\r\n");
    feed("QUIT\r\n");
    expect("+OK mail.example.test POP3 server signing off\r\n");
    assert_int_equal(s.state, POP3_STATE_CLOSED);
    assert_int_equal(fake.commits, 0);      /* nothing marked: nothing to commit */
    assert_int_equal(fake.logouts, 1);
    assert_non_null(strstr(fake.log, "user=alice@example.test"));
    assert_non_null(strstr(fake.log, "tls=TLSv1.3"));
    assert_non_null(strstr(fake.log, "result=quit"));
}

static void test_wrong_password_is_delayed(void **state)
{
    (void)state;
    expect_line("+OK");
    feed("STLS\r\n");
    expect_line("+OK");
    pop3_session_tls_started(&s, "TLSv1.3");
    size_t used = feed("USER alice@example.test\r\nPASS wrong\r\nNOOP\r\n");
    expect("+OK Send PASS\r\n");
    /* No answer yet, and the pipelined NOOP waits. */
    expect_nothing();
    assert_int_equal(s.state, POP3_STATE_DELAY);
    assert_int_equal(used, strlen("USER alice@example.test\r\nPASS wrong\r\n"));
    pop3_session_resume(&s);
    expect("-ERR [AUTH] Authentication failed\r\n");
    assert_int_equal(s.state, POP3_STATE_AUTH);
    feed("NOOP\r\n");
    expect("-ERR Log in first\r\n");
    /* The third failure closes the session after its -ERR. */
    feed("USER a\r\nPASS b\r\n");
    expect_line("+OK");
    pop3_session_resume(&s);
    expect_line("-ERR [AUTH]");
    feed("USER a\r\nPASS b\r\n");
    expect_line("+OK");
    pop3_session_resume(&s);
    expect("-ERR [AUTH] Authentication failed\r\n");
    assert_int_equal(s.state, POP3_STATE_CLOSED);
    assert_non_null(strstr(fake.log, "result=login failed"));
}

static void test_locked_out_and_in_use(void **state)
{
    (void)state;
    expect_line("+OK");
    pop3_session_tls_started(&s, "TLSv1.2");
    fake.login_result = PB_EBUSY;
    feed("USER alice@example.test\r\nPASS s3cret pass\r\n");
    expect_line("+OK");
    expect_nothing();
    pop3_session_resume(&s);
    expect("-ERR [AUTH] Too many failed logins from your address; try again later\r\n");
    fake.login_result = PB_EEXIST;
    feed("USER alice@example.test\r\nPASS s3cret pass\r\n");
    expect_line("+OK");
    expect("-ERR [IN-USE] The maildrop is open in another session\r\n");
    /* A user name with control characters reaches the log defanged. */
    feed("USER a\x1b[2Jb\r\n");
    expect_line("+OK");
    pop3_session_end(&s, "reset");
    assert_non_null(strstr(fake.log, "user=a?[2Jb "));
    pop3_session_init(&s, &config, &backend, rec_write, NULL, "192.0.2.1", "TLSv1.3");
    expect_line("+OK");
    fake.login_result = PB_EIO;
    feed("USER alice@example.test\r\nPASS s3cret pass\r\n");
    expect_line("+OK");
    expect_line("-ERR [SYS/TEMP]");
    assert_int_equal(s.state, POP3_STATE_AUTH);
}

static void test_auth_plain_initial_response(void **state)
{
    (void)state;
    expect_line("+OK");
    pop3_session_tls_started(&s, "TLSv1.3");
    /* base64("\0alice@example.test\0s3cret pass") */
    feed("AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABzM2NyZXQgcGFzcw==\r\n");
    expect_line("+OK Logged in, 3 messages");
    assert_string_equal(fake.last_user, "alice@example.test");
    assert_string_equal(fake.last_pass, "s3cret pass");
}

static void test_auth_plain_continuation(void **state)
{
    (void)state;
    expect_line("+OK");
    pop3_session_tls_started(&s, "TLSv1.3");
    feed("AUTH\r\n");
    expect("+OK Mechanisms follow\r\nPLAIN\r\n.\r\n");
    feed("AUTH CRAM-MD5\r\n");
    expect_line("-ERR Unrecognized authentication type");
    feed("AUTH PLAIN\r\n");
    expect("+ \r\n");
    feed("*\r\n");
    expect("-ERR AUTH cancelled\r\n");
    feed("AUTH PLAIN\r\n");
    expect("+ \r\n");
    feed("!!notbase64\r\n");
    expect("-ERR Invalid PLAIN response\r\n");
    /* authzid "bob@example.test" differs from the user: no proxy logins. */
    feed("AUTH PLAIN Ym9iQGV4YW1wbGUudGVzdABhbGljZUBleGFtcGxlLnRlc3QAczNjcmV0IHBhc3M=\r\n");
    expect("-ERR [AUTH] Logging in as another user is not allowed\r\n");
    assert_int_equal(fake.logins, 0);
    /* authzid equal to the user, on its own line. */
    feed("AUTH plain\r\n");
    expect("+ \r\n");
    feed("YWxpY2VAZXhhbXBsZS50ZXN0AGFsaWNlQGV4YW1wbGUudGVzdABzM2NyZXQgcGFzcw==\r\n");
    expect_line("+OK Logged in, 3 messages");
}

static void test_list_and_uidl(void **state)
{
    (void)state;
    tls_and_login();
    char want[256];
    snprintf(want, sizeof(want), "+OK Scan listing follows\r\n1 %zu\r\n2 %zu\r\n3 %zu\r\n.\r\n",
             strlen(alice_msgs[0]), strlen(alice_msgs[1]), strlen(alice_msgs[2]));
    feed("LIST\r\n");
    expect(want);
    snprintf(want, sizeof(want), "+OK 2 %zu\r\n", strlen(alice_msgs[1]));
    feed("LIST 2\r\n");
    expect(want);
    feed("LIST 4\r\n");
    expect("-ERR No such message\r\n");
    feed("LIST 0\r\nLIST x\r\nLIST 1 2\r\n");
    expect("-ERR No such message\r\n");
    expect("-ERR Syntax: a message number is expected\r\n");
    expect("-ERR Syntax: a message number is expected\r\n");
    feed("UIDL\r\n");
    expect("+OK Unique-id listing follows\r\n1 7.100\r\n2 7.101\r\n3 7.102\r\n.\r\n");
    feed("UIDL 3\r\n");
    expect("+OK 3 7.102\r\n");
}

static void test_retr_dot_stuffing(void **state)
{
    (void)state;
    tls_and_login();
    char want[512];
    feed("RETR 1\r\n");
    snprintf(want, sizeof(want), "+OK %zu octets\r\n", strlen(alice_msgs[0]));
    expect(want);
    expect("Subject: one\r\nFrom: a@example.test\r\n\r\nHello\r\n..hidden dot\r\n...two dots\r\n"
           "end\r\n.\r\n");
    /* A message that does not end in CRLF gets one before the final dot. */
    feed("RETR 3\r\n");
    expect_line("+OK");
    expect("Subject: three\r\n\r\nno final newline\r\n.\r\n");
    feed("QUIT\r\n");
    expect_line("+OK");
    assert_non_null(strstr(fake.log, "retrieved=2"));
}

static void test_top(void **state)
{
    (void)state;
    tls_and_login();
    feed("TOP 2 0\r\n");
    expect("+OK Top of message follows\r\nSubject: two\r\n\r\n.\r\n");
    feed("TOP 2 2\r\n");
    expect("+OK Top of message follows\r\nSubject: two\r\n\r\nline 1\r\nline 2\r\n.\r\n");
    feed("TOP 2 10\r\n");
    expect("+OK Top of message follows\r\nSubject: two\r\n\r\nline 1\r\nline 2\r\nline 3\r\n.\r\n");
    feed("TOP 1 2\r\n");
    expect("+OK Top of message follows\r\nSubject: one\r\nFrom: a@example.test\r\n\r\nHello\r\n"
           "..hidden dot\r\n.\r\n");
    feed("TOP 2\r\nTOP 9 1\r\n");
    expect("-ERR Syntax: TOP message lines\r\n");
    expect("-ERR No such message\r\n");
    feed("QUIT\r\n");
    expect_line("+OK");
    assert_non_null(strstr(fake.log, "retrieved=0"));   /* TOP is not a retrieval */
}

static void test_dele_then_rset(void **state)
{
    (void)state;
    tls_and_login();
    feed("DELE 2\r\n");
    expect("+OK Message 2 deleted\r\n");
    feed("DELE 2\r\nRETR 2\r\nLIST 2\r\nTOP 2 1\r\nUIDL 2\r\n");
    expect("-ERR Message 2 already deleted\r\n");
    expect("-ERR Message 2 already deleted\r\n");
    expect("-ERR Message 2 already deleted\r\n");
    expect("-ERR Message 2 already deleted\r\n");
    expect("-ERR Message 2 already deleted\r\n");
    char want[128];
    snprintf(want, sizeof(want), "+OK 2 %zu\r\n", strlen(alice_msgs[0]) + strlen(alice_msgs[2]));
    feed("STAT\r\n");
    expect(want);
    feed("LIST\r\n");
    snprintf(want, sizeof(want), "+OK Scan listing follows\r\n1 %zu\r\n3 %zu\r\n.\r\n",
             strlen(alice_msgs[0]), strlen(alice_msgs[2]));
    expect(want);
    feed("RSET\r\n");
    expect_line("+OK Maildrop has 3 messages");
    feed("QUIT\r\n");
    expect_line("+OK");
    assert_int_equal(fake.commits, 0);
    assert_non_null(strstr(fake.log, "deleted=0"));
}

static void test_dele_then_quit_commits(void **state)
{
    (void)state;
    tls_and_login();
    /* Pipelined: all answered in order from one read. */
    feed("DELE 1\r\nDELE 3\r\nQUIT\r\n");
    expect("+OK Message 1 deleted\r\n+OK Message 3 deleted\r\n"
           "+OK mail.example.test POP3 server signing off\r\n");
    assert_int_equal(fake.commits, 1);
    assert_int_equal(fake.committed_count, 3);
    assert_int_equal(fake.committed[0], 0x05);     /* messages 1 and 3 */
    assert_int_equal(fake.logouts, 1);
    assert_non_null(strstr(fake.log, "deleted=2"));
}

static void test_commit_failure_deletes_nothing(void **state)
{
    (void)state;
    tls_and_login();
    fake.fail_commit = 1;
    feed("DELE 1\r\nQUIT\r\n");
    expect("+OK Message 1 deleted\r\n");
    expect("-ERR [SYS/TEMP] The marked messages could not be deleted; none were deleted\r\n");
    assert_int_equal(s.state, POP3_STATE_CLOSED);
    assert_non_null(strstr(fake.log, "deleted=0"));
    assert_non_null(strstr(fake.log, "result=delete failed"));
}

static void test_end_without_quit_deletes_nothing(void **state)
{
    (void)state;
    tls_and_login();
    feed("DELE 1\r\n");
    expect_line("+OK");
    pop3_session_end(&s, "connection reset");
    assert_int_equal(fake.commits, 0);
    assert_int_equal(fake.logouts, 1);
    assert_non_null(strstr(fake.log, "result=connection reset"));
}

static void test_max_deletes(void **state)
{
    (void)state;
    config.max_deletes = 1;
    tls_and_login();
    feed("DELE 1\r\nDELE 2\r\n");
    expect("+OK Message 1 deleted\r\n");
    expect_line("-ERR [SYS/TEMP] At most 1 deletions per session");
}

static void test_empty_maildrop(void **state)
{
    (void)state;
    expect_line("+OK");
    pop3_session_tls_started(&s, "TLSv1.3");
    feed("USER bob@example.test\r\nPASS bob\r\n");
    expect("+OK Send PASS\r\n+OK Logged in, 0 messages (0 octets)\r\n");
    feed("STAT\r\nLIST\r\nUIDL\r\nRETR 1\r\nDELE 1\r\nQUIT\r\n");
    expect("+OK 0 0\r\n+OK Scan listing follows\r\n.\r\n+OK Unique-id listing follows\r\n.\r\n"
           "-ERR No such message\r\n-ERR No such message\r\n");
    expect_line("+OK mail.example.test POP3 server signing off");
    assert_int_equal(fake.commits, 0);
}

static void test_read_failure_cuts_the_connection(void **state)
{
    (void)state;
    tls_and_login();
    fake.fail_read = 1;
    feed("RETR 1\r\n");
    expect_line("+OK");
    /* No terminating dot: the client must not take a cut message as whole. */
    expect_nothing();
    assert_int_equal(s.state, POP3_STATE_CLOSED);
}

static void test_bad_lines(void **state)
{
    (void)state;
    expect_line("+OK");
    char longline[400];
    memset(longline, 'A', sizeof(longline));
    memcpy(longline + sizeof(longline) - 3, "\r\n", 3);
    feed(longline);
    expect("-ERR Line too long: at most 255 octets\r\n");
    /* 253 octets + CRLF is the longest allowed line. */
    char ok[256];
    memset(ok, 'B', 253);
    memcpy(ok + 253, "\r\n", 3);
    feed(ok);
    expect("-ERR Unknown command\r\n");
    pop3_session_input(&s, (const uint8_t *)"NO\0OP\r\n", 7);
    expect("-ERR NUL in a command line\r\n");
    feed("\r\n");
    expect("-ERR Unknown command\r\n");
    /* Bare LF ends a line too; lower case verbs are verbs. */
    feed("capa\n");
    expect_line("+OK Capability list follows");
    while (s.state != POP3_STATE_CLOSED)
        feed("XYZZY\r\n");
    assert_non_null(strstr(fake.out, "-ERR Too many errors, closing the connection\r\n"));
    assert_non_null(strstr(fake.log, "result=too many errors"));
}

static void test_quit_before_login(void **state)
{
    (void)state;
    expect_line("+OK");
    size_t used = feed("QUIT\r\nNOOP\r\n");
    expect("+OK mail.example.test POP3 server signing off\r\n");
    expect_nothing();
    assert_int_equal(used, 6);
    assert_int_equal(fake.logouts, 0);
    assert_non_null(strstr(fake.log, "user=- "));
}

static void test_implicit_tls_offers_logins(void **state)
{
    (void)state;
    pop3_session_init(&s, &config, &backend, rec_write, NULL, "2001:db8::5", "TLSv1.3");
    expect_line("+OK");
    expect_line("+OK");
    feed("AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABzM2NyZXQgcGFzcw==\r\n");
    expect_line("+OK Logged in");
    assert_string_equal(fake.last_peer, "2001:db8::5");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_capa_plaintext_and_tls, setup),
        cmocka_unit_test_setup(test_login_refused_without_tls, setup),
        cmocka_unit_test_setup(test_stls_discards_pipelined_bytes, setup),
        cmocka_unit_test_setup(test_user_pass_login_and_stat, setup),
        cmocka_unit_test_setup(test_wrong_password_is_delayed, setup),
        cmocka_unit_test_setup(test_locked_out_and_in_use, setup),
        cmocka_unit_test_setup(test_auth_plain_initial_response, setup),
        cmocka_unit_test_setup(test_auth_plain_continuation, setup),
        cmocka_unit_test_setup(test_list_and_uidl, setup),
        cmocka_unit_test_setup(test_retr_dot_stuffing, setup),
        cmocka_unit_test_setup(test_top, setup),
        cmocka_unit_test_setup(test_dele_then_rset, setup),
        cmocka_unit_test_setup(test_dele_then_quit_commits, setup),
        cmocka_unit_test_setup(test_commit_failure_deletes_nothing, setup),
        cmocka_unit_test_setup(test_end_without_quit_deletes_nothing, setup),
        cmocka_unit_test_setup(test_max_deletes, setup),
        cmocka_unit_test_setup(test_empty_maildrop, setup),
        cmocka_unit_test_setup(test_read_failure_cuts_the_connection, setup),
        cmocka_unit_test_setup(test_bad_lines, setup),
        cmocka_unit_test_setup(test_quit_before_login, setup),
        cmocka_unit_test_setup(test_implicit_tls_offers_logins, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
