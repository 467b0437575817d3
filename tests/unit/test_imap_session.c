/*
 * test_imap_session.c - IMAP dialogues over a real store on the sim flash:
 * what a client sends, what it must read back, and what the store holds
 * afterwards.  alice@example.test (password "s3cret pass") has the six
 * folders every new user gets.
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

#include "accounts.h"
#include "auth_guard.h"
#include "imap_session.h"
#include "pb_err.h"
#include "sim_flash.h"
#include "tls.h"

#define T_BLOCKS 512u
static struct store_block blocks[T_BLOCKS];
static uint32_t order[T_BLOCKS];
static struct store_msg msgs[1000];
static struct store_blob blobs[1000];
static struct store_chunk chunks[2000];
static struct store_rec recs[256];
static uint32_t rec_order[256];
static const struct store_mem mem = { blocks, T_BLOCKS, order, msgs, 1000, blobs, 1000,
                                      chunks, 2000, recs, rec_order, 256 };
static struct store st;
static struct sim_flash fl;
static char path[64];

struct client {
    struct imap_session s;
    struct imap_mailbox mb;
    char out[1 << 17];
    size_t len;
};
static struct client a, b;
static const struct imap_session_config cfg = { "mx.example.test", true, 100000, NULL };

static void rec_write(void *ctx, const char *s, size_t n)
{
    struct client *c = ctx;
    assert_true(c->len + n < sizeof(c->out));
    memcpy(c->out + c->len, s, n);
    c->len += n;
    c->out[c->len] = '\0';
}

static void open_client(struct client *c, bool tls)
{
    imap_mailbox_init(&c->mb, &st);
    c->len = 0;
    imap_session_init(&c->s, &cfg, &c->mb, rec_write, c, "192.0.2.1", tls ? "TLSv1.3" : NULL);
}

/* Send text; run the session until it waits for the client; return what
 * it wrote (from the start of this exchange). */
static const char *say_n(struct client *c, const char *text, size_t n)
{
    size_t from = c->len;
    size_t used = 0;
    for (int guard = 0; guard < 10000; guard++) {
        used += imap_session_input(&c->s, (const uint8_t *)text + used, n - used);
        if (c->s.mode == IMAP_MODE_SENDING)
            imap_session_pump(&c->s, 8192);
        else if (c->s.mode == IMAP_MODE_DELAY)
            imap_session_resume(&c->s);
        else if (used == n)
            break;
        else if (c->s.mode == IMAP_MODE_CLOSED || c->s.mode == IMAP_MODE_STARTTLS)
            break;
    }
    if (getenv("IMAP_TEST_TRACE"))
        fprintf(stderr, "C: %.*s\nS: %s\n", (int)n, text, c->out + from);
    return c->out + from;
}

static const char *say(struct client *c, const char *text)
{
    return say_n(c, text, strlen(text));
}

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof(path), "build/test/imap-%d.img", (int)getpid());
    unlink(path);
    assert_int_equal(sim_flash_open(&fl, path, 2u << 20, 4096, 16, 0), 0);
    assert_int_equal(store_format(&st, &fl.dev, &mem), 0);
    assert_int_equal(accounts_domain_add(&st, "example.test"), 0);
    assert_int_equal(accounts_user_add(&st, "alice@example.test", "s3cret pass"), 0);
    auth_guard_reset();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sim_flash_close(&fl);
    unlink(path);
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    return tls_init();
}

static const char msg1[] =
    "From: Bob <bob@example.test>\r\nTo: alice@example.test\r\nSubject: =?UTF-8?Q?caf=C3=A9?= plans\r\n"
    "Message-ID: <1@example.test>\r\n\r\nLet us meet at noon.\r\n";
static const char msg2[] =
    "From: carol@example.test\r\nSubject: report\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\n"
    "see attached\r\n--XX\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    "c2VjcmV0IHdvcmQ=\r\n--XX--\r\n";

static void login(struct client *c)
{
    open_client(c, true);
    assert_non_null(strstr(say(c, "l1 LOGIN alice@example.test \"s3cret pass\"\r\n"), "l1 OK"));
}

static void append(struct client *c, const char *folder, const char *msg)
{
    char line[200];
    snprintf(line, sizeof(line), "ap APPEND %s {%zu+}\r\n", folder, strlen(msg));
    say(c, line);
    say(c, msg);
    assert_non_null(strstr(say(c, "\r\n"), "ap OK [APPENDUID "));
}

static void test_greeting_and_logindisabled(void **state)
{
    (void)state;
    open_client(&a, false);
    assert_non_null(strstr(a.out, "* OK [CAPABILITY IMAP4rev1"));
    assert_non_null(strstr(a.out, "STARTTLS"));
    assert_non_null(strstr(a.out, "LOGINDISABLED"));
    assert_null(strstr(a.out, "AUTH=PLAIN"));
    assert_non_null(strstr(say(&a, "a LOGIN alice@example.test x\r\n"), "a NO [PRIVACYREQUIRED]"));
    const char *r = say(&a, "b STARTTLS\r\nc NOOP\r\n");
    assert_non_null(strstr(r, "b OK"));
    assert_int_equal(a.s.mode, IMAP_MODE_STARTTLS);
    assert_null(strstr(r, "c OK"));     /* pipelined behind STARTTLS: not read */
    imap_session_tls_started(&a.s, "TLSv1.3");
    r = say(&a, "d CAPABILITY\r\n");
    assert_non_null(strstr(r, "AUTH=PLAIN"));
    assert_null(strstr(r, "LOGINDISABLED"));
}

static void test_login_and_authenticate(void **state)
{
    (void)state;
    open_client(&a, true);
    assert_non_null(strstr(say(&a, "a LOGIN alice@example.test wrong\r\n"),
                           "a NO [AUTHENTICATIONFAILED]"));
    assert_non_null(strstr(say(&a, "b SELECT INBOX\r\n"), "b BAD"));
    /* SASL-IR: base64 of "\0alice@example.test\0s3cret pass" */
    assert_non_null(strstr(say(&a, "c AUTHENTICATE PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABzM2NyZXQgcGFzcw==\r\n"),
                           "c OK [CAPABILITY"));
    open_client(&b, true);
    assert_non_null(strstr(say(&b, "x AUTHENTICATE PLAIN\r\n"), "+ "));
    assert_non_null(strstr(say(&b, "AGFsaWNlQGV4YW1wbGUudGVzdABzM2NyZXQgcGFzcw==\r\n"), "x OK"));
}

static void test_list_special_use_and_folders(void **state)
{
    (void)state;
    login(&a);
    const char *r = say(&a, "a LIST \"\" \"*\"\r\n");
    assert_non_null(strstr(r, "\"/\" \"INBOX\""));
    assert_non_null(strstr(r, "\\Sent) \"/\" \"Sent\""));
    assert_non_null(strstr(r, "\\Trash) \"/\" \"Trash\""));
    assert_non_null(strstr(r, "\\Junk) \"/\" \"Junk\""));
    assert_non_null(strstr(r, "a OK LIST"));
    assert_non_null(strstr(say(&a, "b CREATE Projects/2026\r\n"), "b OK"));
    assert_non_null(strstr(say(&a, "c CREATE Projects\r\n"), "c OK"));
    r = say(&a, "d LIST \"\" \"Projects%\"\r\n");
    assert_non_null(strstr(r, "(\\HasChildren) \"/\" \"Projects\""));
    assert_null(strstr(r, "Projects/2026"));  /* % stops at the delimiter */
    assert_non_null(strstr(say(&a, "e RENAME Projects Old\r\n"), "e OK"));
    r = say(&a, "f LIST \"\" \"*\"\r\n");
    assert_non_null(strstr(r, "\"Old/2026\""));
    assert_null(strstr(r, "Projects"));
    assert_non_null(strstr(say(&a, "g SUBSCRIBE Old\r\n"), "g OK"));
    r = say(&a, "h LSUB \"\" \"*\"\r\n");
    assert_non_null(strstr(r, "* LSUB (\\HasChildren) \"/\" \"Old\""));
    assert_non_null(strstr(say(&a, "i DELETE Old/2026\r\n"), "i OK"));
    assert_non_null(strstr(say(&a, "j DELETE INBOX\r\n"), "j NO"));
    assert_non_null(strstr(say(&a, "k CREATE Sent\r\n"), "k NO [ALREADYEXISTS]"));
    r = say(&a, "l STATUS INBOX (MESSAGES UIDNEXT UNSEEN)\r\n");
    assert_non_null(strstr(r, "* STATUS \"INBOX\" (MESSAGES 0 UIDNEXT 1 UNSEEN 0)"));
}

/* LIST-STATUS (RFC 5819): one round trip gives a client every folder with
 * its counts, the way Thunderbird refreshes its folder pane. */
static void test_list_status(void **state)
{
    (void)state;
    login(&a);
    assert_non_null(strstr(say(&a, "a CAPABILITY\r\n"), " LIST-STATUS"));
    append(&a, "INBOX", msg1);
    append(&a, "Archive", msg1);
    assert_non_null(strstr(say(&a, "b STORE 1 +FLAGS (\\Seen)\r\n"), "b BAD")); /* not selected */
    assert_non_null(strstr(say(&a, "c SELECT Archive\r\n"), "c OK"));
    assert_non_null(strstr(say(&a, "d STORE 1 +FLAGS (\\Seen)\r\n"), "d OK"));
    const char *r = say(&a, "e LIST \"\" \"*\" RETURN (STATUS (UNSEEN MESSAGES))\r\n");
    assert_non_null(strstr(r, "\"/\" \"INBOX\"\r\n* STATUS \"INBOX\" (MESSAGES 1 UNSEEN 1)\r\n"));
    assert_non_null(strstr(r, "\"/\" \"Archive\"\r\n* STATUS \"Archive\" (MESSAGES 1 UNSEEN 0)\r\n"));
    assert_non_null(strstr(r, "* STATUS \"Trash\" (MESSAGES 0 UNSEEN 0)\r\n"));
    assert_non_null(strstr(r, "e OK LIST"));
    /* Only the folders the pattern matches get a STATUS line. */
    r = say(&a, "f LIST \"\" \"Sent\" RETURN (SPECIAL-USE STATUS (UIDNEXT SIZE))\r\n");
    assert_non_null(strstr(r, "* STATUS \"Sent\" (UIDNEXT 1 SIZE 0)\r\n"));
    assert_null(strstr(r, "\"INBOX\""));
    /* A plain LIST after it has no STATUS lines; an unknown option is BAD. */
    r = say(&a, "g LIST \"\" \"*\"\r\n");
    assert_null(strstr(r, "* STATUS"));
    assert_non_null(strstr(say(&a, "h LIST \"\" \"*\" RETURN (STATUS (COLOUR))\r\n"), "h BAD"));
    assert_non_null(strstr(say(&a, "i LIST \"\" \"*\" RETURN (REMOTE)\r\n"), "i BAD"));
    /* DELETED (RFC 9051) counts the messages marked \\Deleted, in STATUS
     * and in LIST-STATUS, and drops when they are expunged. */
    append(&a, "Archive", msg1);
    append(&a, "Archive", msg1);
    assert_non_null(strstr(say(&a, "j STORE 1:2 +FLAGS (\\Deleted)\r\n"), "j OK"));
    assert_non_null(strstr(say(&a, "k STATUS Archive (MESSAGES DELETED)\r\n"),
                           "* STATUS \"Archive\" (MESSAGES 3 DELETED 2)\r\n"));
    r = say(&a, "l LIST \"\" \"*\" RETURN (STATUS (DELETED))\r\n");
    assert_non_null(strstr(r, "* STATUS \"Archive\" (DELETED 2)\r\n"));
    assert_non_null(strstr(r, "* STATUS \"INBOX\" (DELETED 0)\r\n"));
    assert_non_null(strstr(say(&a, "m EXPUNGE\r\n"), "m OK"));
    assert_non_null(strstr(say(&a, "n STATUS Archive (MESSAGES DELETED)\r\n"),
                           "* STATUS \"Archive\" (MESSAGES 1 DELETED 0)\r\n"));
}

/* Keywords (labels such as Thunderbird's $Label1 or a phone's "Work") are
 * kept per message, shared by every folder and session of the mailbox,
 * searchable, and limited to 11 names per mailbox. */
static void test_keywords(void **state)
{
    (void)state;
    login(&a);
    login(&b);
    append(&a, "INBOX", msg1);
    append(&a, "INBOX", msg2);
    const char *r = say(&a, "s SELECT INBOX\r\n");
    assert_non_null(strstr(r, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"));
    assert_non_null(strstr(r, "[PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)]"));
    r = say(&a, "k1 STORE 1 +FLAGS ($Label1 Work)\r\n");
    assert_non_null(strstr(r, "* 1 FETCH (UID 1 FLAGS ($Label1 Work))\r\nk1 OK"));
    /* Another session sees the names and the flags; names match without case. */
    r = say(&b, "s SELECT INBOX\r\n");
    assert_non_null(strstr(r, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1 Work)\r\n"));
    assert_non_null(strstr(say(&b, "f FETCH 1 FLAGS\r\n"), "* 1 FETCH (FLAGS ($Label1 Work))"));
    assert_non_null(strstr(say(&b, "k2 SEARCH KEYWORD work\r\n"), "* SEARCH 1\r\nk2 OK"));
    assert_non_null(strstr(say(&b, "k3 SEARCH UNKEYWORD Work\r\n"), "* SEARCH 2\r\nk3 OK"));
    assert_non_null(strstr(say(&b, "k4 SEARCH KEYWORD Never\r\n"), "* SEARCH\r\nk4 OK"));
    /* -FLAGS takes one away; FLAGS replaces keywords with the rest. */
    r = say(&a, "k5 STORE 1 -FLAGS (WORK Unused)\r\n");
    assert_non_null(strstr(r, "* 1 FETCH (UID 1 FLAGS ($Label1))\r\nk5 OK"));
    r = say(&a, "k6 STORE 1 FLAGS (\\Seen Other)\r\n");
    assert_non_null(strstr(r, "* 1 FETCH (UID 1 FLAGS (\\Seen Other))\r\nk6 OK"));
    /* APPEND keeps its keywords. */
    const char m3[] = "Subject: todo\r\n\r\nx\r\n";
    char line[100];
    snprintf(line, sizeof(line), "ap APPEND INBOX (\\Flagged Todo) {%zu+}\r\n", strlen(m3));
    say(&a, line);
    say(&a, m3);
    assert_non_null(strstr(say(&a, "\r\n"), "ap OK [APPENDUID "));
    assert_non_null(strstr(say(&a, "f FETCH 3 FLAGS\r\n"), "* 3 FETCH (FLAGS (\\Flagged Todo))"));
    /* Eleven names in use at once ($Label1 Work Other Todo and seven
     * more); the names no message carries ($Label1, Work) are given to
     * new ones, then there is no more room. */
    r = say(&a, "k7 STORE 2 +FLAGS.SILENT (K5 K6 K7 K8 K9 K10 K11)\r\n");
    assert_non_null(strstr(r, "k7 OK"));
    assert_non_null(strstr(say(&a, "k8 STORE 2 +FLAGS.SILENT (K12 K13)\r\n"), "k8 OK"));
    assert_non_null(strstr(say(&a, "k8 STORE 2 +FLAGS (K14)\r\n"), "k8 NO [LIMIT]"));
    assert_non_null(strstr(say(&a, "k9 STORE 2 +FLAGS (ThisKeywordIsLongerThan31Bytes.)\r\n"),
                           "k9 NO [LIMIT]"));
    r = say(&a, "s SELECT INBOX\r\n");
    assert_non_null(strstr(r, " K11)] Flags kept"));          /* no \* any more */
    /* Known names still work when the table is full. */
    assert_non_null(strstr(say(&a, "k10 STORE 2 +FLAGS (todo)\r\n"), "k10 OK"));
    r = say(&b, "n NOOP\r\n");      /* b learns of message 3 and the new flags */
    assert_non_null(strstr(r, "* 2 FETCH (UID 2 FLAGS (K12 K13 Todo K5 K6 K7 K8 K9 K10 K11))\r\n"));
    assert_non_null(strstr(say(&b, "k11 SEARCH KEYWORD Todo\r\n"), "* SEARCH 2 3\r\n"));
    assert_non_null(strstr(say(&a, "k12 STORE 2 +FLAGS (\\Recent)\r\n"), "k12 NO [CANNOT]"));
}

/* A keyword slot is given to a new name once no message carries the old
 * one: a client making up names cannot use them up for good.  Another
 * session that saw the old name is told the message's flags again, and
 * an APPEND whose keyword was reassigned during its literal is refused
 * rather than stored with the wrong name. */
static void test_keyword_reclaim(void **state)
{
    (void)state;
    login(&a);
    login(&b);
    append(&a, "INBOX", msg1);
    say(&a, "s SELECT INBOX\r\n");
    say(&b, "s SELECT INBOX\r\n");
    assert_non_null(strstr(say(&a, "k1 STORE 1 +FLAGS (K1 K2 K3 K4 K5 K6 K7 K8 K9 K10 K11)\r\n"), "k1 OK"));
    assert_non_null(strstr(say(&b, "n NOOP\r\n"), "* 1 FETCH (UID 1 FLAGS (K1 K2 K3 K4 K5 K6 K7 K8 K9 K10 K11))"));
    /* All eleven carried: the twelfth is refused, nothing changes. */
    const char *r = say(&a, "k2 STORE 1 +FLAGS (K12)\r\n");
    assert_non_null(strstr(r, "k2 NO [LIMIT]"));
    r = say(&a, "s SELECT INBOX\r\n");
    assert_null(strstr(r, "\\*)]"));
    /* K1 goes (b is not told yet), New takes its slot. */
    assert_non_null(strstr(say(&a, "k3 STORE 1 -FLAGS.SILENT (K1)\r\n"), "k3 OK"));
    r = say(&a, "k4 STORE 1 +FLAGS (New)\r\n");
    assert_non_null(strstr(r, "* 1 FETCH (UID 1 FLAGS (New K2 K3 K4 K5 K6 K7 K8 K9 K10 K11))\r\nk4 OK"));
    /* b saw K1 on that bit: it hears of New now. */
    r = say(&b, "n2 NOOP\r\n");
    assert_non_null(strstr(r, "* 1 FETCH (UID 1 FLAGS (New K2 K3 K4 K5 K6 K7 K8 K9 K10 K11))\r\n"));
    assert_non_null(strstr(say(&b, "f FETCH 1 FLAGS\r\n"), "FLAGS (New K2"));
    assert_non_null(strstr(say(&b, "s1 SEARCH KEYWORD K1\r\n"), "* SEARCH\r\n"));
    assert_non_null(strstr(say(&b, "s2 SEARCH KEYWORD new\r\n"), "* SEARCH 1\r\n"));
    /* b APPENDs with K2; while its literal comes in, a drops K2 from the
     * only message that had it and makes up Newer, which gets K2's slot. */
    assert_non_null(strstr(say(&b, "ap APPEND INBOX (K2) {9}\r\n"), "+ Ready"));
    say(&b, "Subj");
    assert_non_null(strstr(say(&a, "k5 STORE 1 -FLAGS (K2)\r\n"), "k5 OK"));
    assert_non_null(strstr(say(&a, "k6 STORE 1 +FLAGS (Newer)\r\n"), "k6 OK"));
    say(&b, "ect\r\n");
    assert_non_null(strstr(say(&b, "\r\n"), "ap NO [UNAVAILABLE]"));
    assert_non_null(strstr(say(&b, "s3 STATUS INBOX (MESSAGES)\r\n"), "(MESSAGES 1)"));
    /* Tried again, K2 gets a slot of its own (K3 was freed meanwhile). */
    assert_non_null(strstr(say(&a, "k7 STORE 1 -FLAGS (K3)\r\n"), "k7 OK"));
    say(&b, "ap2 APPEND INBOX (K2) {9+}\r\nSubject\r\n");
    assert_non_null(strstr(say(&b, "\r\n"), "ap2 OK [APPENDUID"));
    assert_non_null(strstr(say(&b, "f2 FETCH 2 FLAGS\r\n"), "* 2 FETCH (FLAGS (K2))"));
    assert_non_null(strstr(say(&a, "f3 FETCH 1:2 FLAGS\r\n"), "* 1 FETCH (FLAGS (New Newer K4"));
}

/* RENAME INBOX (RFC 3501 6.3.5): the messages go to the new folder, INBOX
 * stays, empty and usable; a session that had INBOX open is told. */
static void test_rename_inbox(void **state)
{
    (void)state;
    login(&a);
    login(&b);
    append(&a, "INBOX", msg1);
    append(&a, "INBOX", msg2);
    assert_non_null(strstr(say(&a, "c CREATE INBOX/Sub\r\n"), "c OK"));
    say(&b, "s SELECT INBOX\r\n");
    assert_non_null(strstr(say(&a, "s STORE 1 +FLAGS (\\Flagged)\r\n"), "s BAD"));
    say(&a, "s SELECT INBOX\r\n");
    assert_non_null(strstr(say(&a, "f STORE 1 +FLAGS (\\Flagged)\r\n"), "f OK"));
    const char *r = say(&a, "r RENAME inbox \"Old mail\"\r\n");
    assert_non_null(strstr(r, "* 1 EXPUNGE\r\n* 1 EXPUNGE\r\nr OK RENAME"));
    assert_non_null(strstr(say(&a, "t STATUS \"Old mail\" (MESSAGES)\r\n"), "(MESSAGES 2)"));
    assert_non_null(strstr(say(&a, "t STATUS INBOX (MESSAGES)\r\n"), "(MESSAGES 0)"));
    assert_non_null(strstr(say(&b, "n NOOP\r\n"), "* 1 EXPUNGE\r\n* 1 EXPUNGE\r\n"));
    /* Flags and bodies came along; the folder under INBOX stayed. */
    say(&a, "s SELECT \"Old mail\"\r\n");
    r = say(&a, "f FETCH 1:2 (FLAGS BODY.PEEK[HEADER.FIELDS (Subject)])\r\n");
    assert_non_null(strstr(r, "* 1 FETCH (FLAGS (\\Flagged)"));
    assert_non_null(strstr(r, "Subject: =?UTF-8?Q?caf=C3=A9?= plans"));
    r = say(&a, "l LIST \"\" *\r\n");
    assert_non_null(strstr(r, "\"INBOX/Sub\""));
    assert_non_null(strstr(r, "\"INBOX\""));
    /* INBOX takes new mail; renaming onto an existing name or onto INBOX is refused. */
    append(&a, "INBOX", msg1);
    assert_non_null(strstr(say(&a, "x RENAME INBOX Sent\r\n"), "x NO [ALREADYEXISTS]"));
    assert_non_null(strstr(say(&a, "t STATUS INBOX (MESSAGES)\r\n"), "(MESSAGES 1)"));
    assert_non_null(strstr(say(&a, "y RENAME Sent INBOX\r\n"), "y NO [ALREADYEXISTS]"));
    /* An empty INBOX renames to an empty folder. */
    say(&a, "z0 SELECT INBOX\r\n");
    say(&a, "z1 STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
    say(&a, "z2 CLOSE\r\n");
    assert_non_null(strstr(say(&a, "z RENAME INBOX Empty\r\n"), "z OK"));
    assert_non_null(strstr(say(&a, "t STATUS Empty (MESSAGES)\r\n"), "(MESSAGES 0)"));
}

static void test_append_select_fetch(void **state)
{
    (void)state;
    login(&a);
    append(&a, "INBOX", msg1);
    append(&a, "INBOX", msg2);
    const char *r = say(&a, "s SELECT inbox\r\n");
    assert_non_null(strstr(r, "* 2 EXISTS"));
    assert_non_null(strstr(r, "[UIDVALIDITY "));
    assert_non_null(strstr(r, "[UIDNEXT 3]"));
    assert_non_null(strstr(r, "s OK [READ-WRITE]"));

    /* The whole message, byte for byte, as a literal of exact size. */
    char want[1024];
    snprintf(want, sizeof(want), "* 1 FETCH (UID 1 BODY[] {%zu}\r\n%s)\r\n", strlen(msg1), msg1);
    r = say(&a, "f1 UID FETCH 1 BODY.PEEK[]\r\n");
    assert_non_null(strstr(r, want));
    /* A partial fetch: 8 bytes from offset 6. */
    r = say(&a, "f2 FETCH 1 BODY.PEEK[]<6.8>\r\n");
    assert_non_null(strstr(r, "BODY[]<6> {8}\r\nBob <bob)"));
    /* Past the end: empty. */
    r = say(&a, "f3 FETCH 1 BODY.PEEK[]<5000.10>\r\n");
    assert_non_null(strstr(r, "BODY[]<5000> {0}\r\n)"));
    r = say(&a, "f4 FETCH 1 (BODY.PEEK[HEADER.FIELDS (Subject)])\r\n");
    assert_non_null(strstr(r, "BODY[HEADER.FIELDS (Subject)] {40}\r\nSubject: =?UTF-8?Q?caf=C3=A9?= plans\r\n\r\n)"));
    r = say(&a, "f5 FETCH 2 (BODY.PEEK[2] BODY.PEEK[1.MIME] RFC822.SIZE FLAGS)\r\n");
    assert_non_null(strstr(r, "BODY[2] {16}\r\nc2VjcmV0IHdvcmQ="));
    assert_non_null(strstr(r, "BODY[1.MIME] {28}\r\nContent-Type: text/plain\r\n\r\n"));
    assert_non_null(strstr(r, "FLAGS ()"));
    r = say(&a, "f6 FETCH 2 BODYSTRUCTURE\r\n");
    assert_non_null(strstr(r, "BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 12 1 NIL NIL NIL NIL)"));
    assert_non_null(strstr(r, "\"MIXED\" (\"BOUNDARY\" \"XX\")"));
    r = say(&a, "f7 FETCH 1 ENVELOPE\r\n");
    assert_non_null(strstr(r, "((\"Bob\" NIL \"bob\" \"example.test\"))"));
    assert_non_null(strstr(r, "\"<1@example.test>\")"));
    /* A fetch without PEEK sets \Seen, and says so. */
    r = say(&a, "f8 FETCH 1 BODY[TEXT]\r\n");
    assert_non_null(strstr(r, "BODY[TEXT] {22}\r\nLet us meet at noon.\r\n FLAGS (\\Seen))"));
    r = say(&a, "f9 FETCH 1:* FLAGS\r\n");
    assert_non_null(strstr(r, "* 1 FETCH (FLAGS (\\Seen))"));
    assert_non_null(strstr(r, "* 2 FETCH (FLAGS ())"));
}

static void test_literals_and_pipelining(void **state)
{
    (void)state;
    open_client(&a, true);
    /* A synchronising literal gets "+", a LITERAL+ one does not. */
    const char *r = say(&a, "a LOGIN {18}\r\n");
    assert_non_null(strstr(r, "+ Ready"));
    r = say(&a, "alice@example.test {11+}\r\ns3cret pass\r\n");
    assert_non_null(strstr(r, "a OK"));
    /* Three pipelined commands in one segment, answered in order. */
    r = say(&a, "p1 NOOP\r\np2 SELECT INBOX\r\np3 CAPABILITY\r\n");
    const char *p1 = strstr(r, "p1 OK"), *p2 = strstr(r, "p2 OK"), *p3 = strstr(r, "p3 OK");
    assert_true(p1 && p2 && p3 && p1 < p2 && p2 < p3);
    /* A literal bigger than the command buffer is refused without reading it. */
    r = say(&a, "big LOGIN {100000}\r\n");
    assert_non_null(strstr(r, "big BAD"));
    /* An APPEND over the size limit is refused before its literal. */
    r = say(&a, "ap APPEND INBOX {200000}\r\n");
    assert_non_null(strstr(r, "ap NO [TOOBIG]"));
    assert_null(strstr(r, "+ Ready"));
    /* A tag and garbage: BAD, and the session goes on. */
    assert_non_null(strstr(say(&a, "x FROB\r\n"), "x BAD"));
    assert_non_null(strstr(say(&a, "y NOOP\r\n"), "y OK"));
}

static void test_store_copy_move_expunge(void **state)
{
    (void)state;
    login(&a);
    append(&a, "INBOX", msg1);
    append(&a, "INBOX", msg2);
    append(&a, "INBOX", msg1);
    say(&a, "s SELECT INBOX\r\n");
    const char *r = say(&a, "a STORE 1:2 +FLAGS (\\Flagged \\Seen)\r\n");
    assert_non_null(strstr(r, "* 1 FETCH (UID 1 FLAGS (\\Flagged \\Seen))"));
    assert_non_null(strstr(r, "a OK"));
    r = say(&a, "b STORE 2 -FLAGS.SILENT (\\Flagged)\r\n");
    assert_null(strstr(r, "FETCH"));
    r = say(&a, "c SEARCH FLAGGED\r\n");
    assert_non_null(strstr(r, "* SEARCH 1\r\n"));
    r = say(&a, "d UID COPY 1:2 Archive\r\n");
    assert_non_null(strstr(r, "d OK [COPYUID "));
    assert_non_null(strstr(r, " 1,2 1,2]"));
    r = say(&a, "e MOVE 3 Trash\r\n");
    assert_non_null(strstr(r, "* OK [COPYUID "));
    assert_non_null(strstr(r, "] Moved\r\n"));     /* resp-text after the code */
    assert_non_null(strstr(r, "* 3 EXPUNGE"));
    r = say(&a, "f STATUS Archive (MESSAGES)\r\n");
    assert_non_null(strstr(r, "(MESSAGES 2)"));
    say(&a, "g STORE 1 +FLAGS (\\Deleted)\r\n");
    r = say(&a, "h EXPUNGE\r\n");
    assert_non_null(strstr(r, "* 1 EXPUNGE\r\nh OK"));
    r = say(&a, "i FETCH 1:* UID\r\n");
    assert_non_null(strstr(r, "* 1 FETCH (UID 2)"));
    assert_null(strstr(r, "* 2 FETCH"));
    /* The flag changes and expunges are on flash: a remount keeps them. */
    assert_int_equal(store_mount(&st, &fl.dev, &mem), 0);
    login(&b);
    r = say(&b, "s SELECT INBOX\r\n");
    assert_non_null(strstr(r, "* 1 EXISTS"));
    r = say(&b, "t FETCH 1 FLAGS\r\n");
    assert_non_null(strstr(r, "FLAGS (\\Seen)"));
}

static void test_search(void **state)
{
    (void)state;
    login(&a);
    append(&a, "INBOX", msg1);
    append(&a, "INBOX", msg2);
    say(&a, "s SELECT INBOX\r\n");
    /* Encoded-word decoded before matching; case-insensitive. */
    assert_non_null(strstr(say(&a, "a SEARCH SUBJECT \"CAFÉ\"\r\n"), "* SEARCH\r\n"));
    assert_non_null(strstr(say(&a, "b SEARCH SUBJECT café\r\n"), "b BAD"));
    assert_non_null(strstr(say(&a, "c SEARCH CHARSET UTF-8 SUBJECT {5}\r\ncafé\r\n"), "* SEARCH 1\r\n"));
    /* BODY over the decoded base64 part. */
    assert_non_null(strstr(say(&a, "d SEARCH BODY \"secret word\"\r\n"), "* SEARCH 2\r\n"));
    assert_non_null(strstr(say(&a, "e SEARCH BODY c2VjcmV0\r\n"), "* SEARCH\r\n"));
    assert_non_null(strstr(say(&a, "f UID SEARCH OR FROM bob SUBJECT report\r\n"), "* SEARCH 1 2\r\n"));
    assert_non_null(strstr(say(&a, "g SEARCH NOT FROM bob LARGER 10\r\n"), "* SEARCH 2\r\n"));
    assert_non_null(strstr(say(&a, "h SEARCH 2:* UNSEEN\r\n"), "* SEARCH 2\r\n"));
    assert_non_null(strstr(say(&a, "i SEARCH (((\r\n"), "i BAD"));
    assert_non_null(strstr(say(&a, "j SEARCH TEXT plans\r\n"), "* SEARCH 1\r\n"));
    assert_non_null(strstr(say(&a, "k SEARCH SINCE 1-Jan-1990 HEADER Message-ID 1@example\r\n"),
                           "* SEARCH 1\r\n"));
    assert_non_null(strstr(say(&a, "l ENABLE IMAP4rev2\r\n"), "* ENABLED IMAP4rev2"));
    assert_non_null(strstr(say(&a, "m UID SEARCH ALL\r\n"), "* ESEARCH (TAG \"m\") UID ALL 1:2\r\n"));
}

/* ESEARCH (RFC 4731): a client asks for the count, the lowest and highest
 * match and the matches as a compact set, instead of one number per
 * message; rev1 clients get it when they ask with RETURN. */
static void test_esearch(void **state)
{
    (void)state;
    login(&a);
    assert_non_null(strstr(say(&a, "c CAPABILITY\r\n"), " ESEARCH"));
    for (int i = 0; i < 9; i++)
        append(&a, "INBOX", msg1);
    say(&a, "s SELECT INBOX\r\n");
    assert_non_null(strstr(say(&a, "d STORE 4:6,8 +FLAGS (\\Deleted)\r\n"), "d OK"));
    assert_non_null(strstr(say(&a, "x EXPUNGE\r\n"), "x OK"));    /* UIDs 1 2 3 7 9 are left */
    assert_non_null(strstr(say(&a, "a UID SEARCH RETURN (MIN MAX COUNT ALL) ALL\r\n"),
                           "* ESEARCH (TAG \"a\") UID MIN 1 MAX 9 COUNT 5 ALL 1:3,7,9\r\na OK"));
    assert_non_null(strstr(say(&a, "b SEARCH RETURN (MIN MAX COUNT ALL) ALL\r\n"),
                           "* ESEARCH (TAG \"b\") MIN 1 MAX 5 COUNT 5 ALL 1:5\r\n"));
    assert_non_null(strstr(say(&a, "f STORE 2,4 +FLAGS (\\Flagged)\r\n"), "f OK"));
    assert_non_null(strstr(say(&a, "g UID SEARCH RETURN (ALL MAX) FLAGGED\r\n"),
                           "* ESEARCH (TAG \"g\") UID MAX 7 ALL 2,7\r\n"));
    assert_non_null(strstr(say(&a, "h SEARCH RETURN (COUNT) UNFLAGGED\r\n"),
                           "* ESEARCH (TAG \"h\") COUNT 3\r\n"));
    /* No match: COUNT 0, and MIN, MAX, ALL left out. */
    assert_non_null(strstr(say(&a, "i SEARCH RETURN (COUNT MIN ALL) DRAFT\r\n"),
                           "* ESEARCH (TAG \"i\") COUNT 0\r\n"));
    assert_non_null(strstr(say(&a, "j SEARCH RETURN (MIN) DRAFT\r\n"), "* ESEARCH (TAG \"j\")\r\nj OK"));
    /* "RETURN ()" is ALL; CHARSET comes after RETURN. */
    assert_non_null(strstr(say(&a, "k SEARCH RETURN () 3:*\r\n"), "* ESEARCH (TAG \"k\") ALL 3:5\r\n"));
    assert_non_null(strstr(say(&a, "l UID SEARCH RETURN (COUNT) CHARSET UTF-8 SUBJECT plans\r\n"),
                           "* ESEARCH (TAG \"l\") UID COUNT 5\r\n"));
    assert_non_null(strstr(say(&a, "m SEARCH RETURN (SAVE) ALL\r\n"), "m BAD"));
    assert_non_null(strstr(say(&a, "n SEARCH RETURN (COUNT\r\n"), "n BAD"));
    /* Without RETURN a rev1 client still gets "* SEARCH". */
    assert_non_null(strstr(say(&a, "o SEARCH FLAGGED\r\n"), "* SEARCH 2 4\r\no OK"));
}

static void test_two_sessions(void **state)
{
    (void)state;
    login(&a);
    login(&b);
    append(&a, "INBOX", msg1);
    say(&a, "s SELECT INBOX\r\n");
    say(&b, "s SELECT INBOX\r\n");
    append(&a, "INBOX", msg2);
    /* b learns of the new message at its next command. */
    assert_non_null(strstr(say(&b, "n NOOP\r\n"), "* 2 EXISTS\r\nn OK"));
    /* ... and of a's flag change. */
    say(&a, "f STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
    assert_non_null(strstr(say(&b, "n2 NOOP\r\n"), "* 1 FETCH (UID 1 FLAGS (\\Deleted))"));
    /* An expunge is not reported during FETCH, but at the next NOOP. */
    say(&a, "e EXPUNGE\r\n");
    const char *r = say(&b, "f FETCH 1:* UID\r\n");
    assert_null(strstr(r, "EXPUNGE"));
    assert_non_null(strstr(say(&b, "n3 NOOP\r\n"), "* 1 EXPUNGE\r\nn3 OK"));
    /* IDLE: a delivery shows up when polled. */
    assert_non_null(strstr(say(&b, "i IDLE\r\n"), "+ idling"));
    append(&a, "INBOX", msg1);
    size_t before = b.len;
    imap_session_poll(&b.s);
    assert_non_null(strstr(b.out + before, "* 2 EXISTS"));
    assert_non_null(strstr(say(&b, "DONE\r\n"), "i OK"));
}

/* The number after "[HIGHESTMODSEQ " in r (0 if none). */
static unsigned long highestmodseq(const char *r)
{
    const char *p = strstr(r, "[HIGHESTMODSEQ ");
    return p ? strtoul(p + 15, NULL, 10) : 0;
}

/* The MODSEQ of message line "* seq FETCH (..." in r (0 if none). */
static unsigned long modseq_of(const char *r, unsigned seq)
{
    char head[32];
    snprintf(head, sizeof(head), "* %u FETCH (", seq);
    const char *p = strstr(r, head);
    if (!p)
        return 0;
    const char *eol = strstr(p, "\r\n");
    const char *m = strstr(p, "MODSEQ (");
    return m && (!eol || m < eol) ? strtoul(m + 8, NULL, 10) : 0;
}

/* CONDSTORE (RFC 7162): a flag change in one session shows up in the
 * other's FETCH (CHANGEDSINCE h) and nothing else does; HIGHESTMODSEQ
 * grows; STATUS, ENABLE and SELECT (CONDSTORE) say it. */
static void test_condstore_two_sessions(void **state)
{
    (void)state;
    login(&a);
    login(&b);
    assert_non_null(strstr(say(&a, "c CAPABILITY\r\n"), " CONDSTORE "));
    append(&a, "INBOX", msg1);
    append(&a, "INBOX", msg2);
    append(&a, "INBOX", msg1);
    const char *r = say(&a, "s SELECT INBOX (CONDSTORE)\r\n");
    unsigned long h0 = highestmodseq(r);
    assert_true(h0 > 0);
    assert_non_null(strstr(r, "s OK [READ-WRITE]"));
    r = say(&b, "e ENABLE CONDSTORE\r\n");
    assert_non_null(strstr(r, "* ENABLED CONDSTORE\r\ne OK"));
    r = say(&b, "s EXAMINE INBOX\r\n");
    assert_int_equal(highestmodseq(r), h0);

    /* Every message has a modseq no higher than HIGHESTMODSEQ. */
    r = say(&b, "f FETCH 1:* (MODSEQ)\r\n");
    for (unsigned i = 1; i <= 3; i++) {
        assert_true(modseq_of(r, i) > 0);
        assert_true(modseq_of(r, i) <= h0);
    }
    unsigned long m2 = modseq_of(r, 2);
    /* Nothing changed since h0: CHANGEDSINCE finds nothing. */
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "f3 UID FETCH 1:* (FLAGS) (CHANGEDSINCE %lu)\r\n", h0);
    r = say(&b, cmd);
    assert_null(strstr(r, "FETCH ("));
    assert_non_null(strstr(r, "f3 OK"));

    /* a flags message 2; a's own answer carries the new MODSEQ. */
    r = say(&a, "st STORE 2 +FLAGS (\\Flagged)\r\n");
    unsigned long m2new = modseq_of(r, 2);
    assert_true(m2new > h0);
    assert_non_null(strstr(r, "FLAGS (\\Flagged)"));
    /* b sees the change at its next command, with MODSEQ. */
    r = say(&b, "n NOOP\r\n");
    assert_int_equal(modseq_of(r, 2), m2new);
    /* Only message 2 changed since h0. */
    snprintf(cmd, sizeof(cmd), "f4 FETCH 1:* (FLAGS) (CHANGEDSINCE %lu)\r\n", h0);
    r = say(&b, cmd);
    assert_non_null(strstr(r, "* 2 FETCH (MODSEQ ("));
    assert_non_null(strstr(r, "FLAGS (\\Flagged)"));
    assert_null(strstr(r, "* 1 FETCH"));
    assert_null(strstr(r, "* 3 FETCH"));
    assert_int_equal(modseq_of(r, 2), m2new);
    assert_true(m2new > m2);
    /* HIGHESTMODSEQ grew, in SELECT and in STATUS. */
    r = say(&b, "st STATUS INBOX (MESSAGES HIGHESTMODSEQ)\r\n");
    assert_non_null(strstr(r, "* STATUS \"INBOX\" (MESSAGES 3 HIGHESTMODSEQ "));
    unsigned long h1 = strtoul(strstr(r, "HIGHESTMODSEQ ") + 14, NULL, 10);
    assert_true(h1 >= m2new);
    assert_true(h1 > h0);
    /* SEARCH MODSEQ: what changed at or after m2new, and its modseq. */
    snprintf(cmd, sizeof(cmd), "se SEARCH MODSEQ %lu\r\n", m2new);
    r = say(&b, cmd);
    snprintf(cmd, sizeof(cmd), "* SEARCH 2 (MODSEQ %lu)\r\n", m2new);
    assert_non_null(strstr(r, cmd));
    snprintf(cmd, sizeof(cmd), "se2 SEARCH MODSEQ \"/flags/\\\\flagged\" all %lu\r\n", m2new + 1);
    r = say(&b, cmd);
    assert_non_null(strstr(r, "* SEARCH\r\nse2 OK"));
    /* FETCH MODSEQ without ENABLE turns CONDSTORE on (RFC 7162 3.1). */
    struct client *c = &a;
    login(c);
    say(c, "s SELECT INBOX\r\n");
    r = say(c, "f FETCH 2 (MODSEQ)\r\n");
    assert_non_null(strstr(r, "* OK [HIGHESTMODSEQ "));
    assert_int_equal(modseq_of(r, 2), m2new);
}

/* UNCHANGEDSINCE: a message changed after the client's modseq is left
 * alone and named in MODIFIED; the others are stored. */
static void test_condstore_unchangedsince(void **state)
{
    (void)state;
    login(&a);
    login(&b);
    append(&a, "INBOX", msg1);
    append(&a, "INBOX", msg2);
    append(&a, "INBOX", msg1);
    const char *r = say(&a, "s SELECT INBOX (CONDSTORE)\r\n");
    unsigned long h0 = highestmodseq(r);
    say(&b, "s SELECT INBOX\r\n");
    /* b changes message 3 after a read h0. */
    say(&b, "st STORE 3 +FLAGS (\\Seen)\r\n");
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "c1 UID STORE 1:3 (UNCHANGEDSINCE %lu) +FLAGS.SILENT (\\Deleted)\r\n",
             h0);
    r = say(&a, cmd);
    assert_non_null(strstr(r, "c1 OK [MODIFIED 3]"));
    /* 1 and 2 got \Deleted (reported with their new MODSEQ); 3 did not. */
    assert_true(modseq_of(r, 1) > h0);
    assert_true(modseq_of(r, 2) > h0);
    struct store_msg_info mi;
    uint32_t mbx;
    uint16_t inbox;
    assert_int_equal(store_mailbox_find(&st, "alice@example.test", &mbx), 0);
    assert_int_equal(store_folder_find(&st, mbx, "INBOX", &inbox), 0);
    assert_int_equal(store_msg_get(&st, inbox, 3, &mi), 0);
    assert_int_equal(mi.flags, STORE_FLAG_SEEN);
    assert_int_equal(store_msg_get(&st, inbox, 1, &mi), 0);
    assert_int_equal(mi.flags, STORE_FLAG_DELETED);
    /* Sequence numbers for STORE, ranges for neighbours; 0 fails for all. */
    r = say(&a, "c2 STORE 1:3 (UNCHANGEDSINCE 0) -FLAGS (\\Deleted)\r\n");
    assert_non_null(strstr(r, "c2 OK [MODIFIED 1:3]"));
    assert_int_equal(store_msg_get(&st, inbox, 1, &mi), 0);
    assert_int_equal(mi.flags, STORE_FLAG_DELETED);
    /* Bad modifier syntax is BAD and changes nothing. */
    r = say(&a, "c3 STORE 1 (UNCHANGEDSINCE x) +FLAGS (\\Seen)\r\n");
    assert_non_null(strstr(r, "c3 BAD"));
    r = say(&a, "c4 FETCH 1 (FLAGS) (CHANGEDSINCE 99999999999999999999)\r\n");
    assert_non_null(strstr(r, "c4 BAD"));
    assert_int_equal(store_msg_get(&st, inbox, 1, &mi), 0);
    assert_int_equal(mi.flags, STORE_FLAG_DELETED);
}

/* Modseqs and HIGHESTMODSEQ survive a remount (a reboot), and changes
 * after it get higher numbers than anything a client saw before. */
static void test_condstore_remount(void **state)
{
    (void)state;
    login(&a);
    append(&a, "INBOX", msg1);
    append(&a, "INBOX", msg2);
    say(&a, "s SELECT INBOX (CONDSTORE)\r\n");
    const char *r = say(&a, "st STORE 1 +FLAGS (\\Answered)\r\n");
    unsigned long m1 = modseq_of(r, 1);
    assert_true(m1 > 0);
    r = say(&a, "f FETCH 2 (MODSEQ)\r\n");
    unsigned long m2 = modseq_of(r, 2);
    unsigned long h = highestmodseq(say(&a, "s2 SELECT INBOX\r\n"));
    assert_true(h >= m1);
    say(&a, "lo LOGOUT\r\n");
    assert_int_equal(store_mount(&st, &fl.dev, &mem), 0);
    login(&b);
    r = say(&b, "s SELECT INBOX (CONDSTORE)\r\n");
    assert_true(highestmodseq(r) >= h);
    r = say(&b, "f FETCH 1:2 (MODSEQ FLAGS)\r\n");
    assert_int_equal(modseq_of(r, 1), m1);
    assert_int_equal(modseq_of(r, 2), m2);
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "f2 FETCH 1:* (FLAGS) (CHANGEDSINCE %lu)\r\n", h);
    assert_null(strstr(say(&b, cmd), "FETCH ("));
    r = say(&b, "st STORE 2 +FLAGS (\\Seen)\r\n");
    assert_true(modseq_of(r, 2) > h);
    snprintf(cmd, sizeof(cmd), "f3 UID FETCH 1:* (FLAGS) (CHANGEDSINCE %lu)\r\n", h);
    r = say(&b, cmd);
    assert_non_null(strstr(r, "* 2 FETCH (UID 2 MODSEQ ("));
    assert_null(strstr(r, "* 1 FETCH"));
}

/* Whether alice has a folder of that (UTF-8) name in the store. */
static bool has_folder(const char *utf8)
{
    uint32_t mbx;
    uint16_t f;
    assert_int_equal(store_mailbox_find(&st, "alice@example.test", &mbx), 0);
    return store_folder_find(&st, mbx, utf8, &f) == 0;
}

static void test_folder_names_mutf7_and_utf8(void **state)
{
    (void)state;
    login(&a);
    login(&b);
    assert_non_null(strstr(say(&a, "c CAPABILITY\r\n"), " UTF8=ACCEPT"));
    /* A rev1 client (Thunderbird's "Entwürfe") in modified UTF-7: the
     * store keeps UTF-8. */
    assert_non_null(strstr(say(&a, "c1 CREATE Entw&APw-rfe\r\n"), "c1 OK"));
    assert_true(has_folder("Entw\xc3\xbcrfe"));
    assert_non_null(strstr(say(&a, "c2 CREATE \"Tom &- Jerry\"\r\n"), "c2 OK"));
    assert_true(has_folder("Tom & Jerry"));
    assert_non_null(strstr(say(&a, "l1 LIST \"\" *\r\n"), "\"/\" \"Entw&APw-rfe\"\r\n"));
    assert_non_null(strstr(say(&a, "l2 LIST \"\" Tom*\r\n"), "\"/\" \"Tom &- Jerry\"\r\n"));
    /* A session that enabled UTF8=ACCEPT reads and writes UTF-8. */
    assert_non_null(strstr(say(&b, "e ENABLE UTF8=ACCEPT\r\n"), "* ENABLED UTF8=ACCEPT\r\n"));
    assert_non_null(strstr(say(&b, "l3 LIST \"\" Entw*\r\n"), "\"/\" \"Entw\xc3\xbcrfe\"\r\n"));
    assert_non_null(strstr(say(&b, "c3 CREATE \"\xe6\x97\xa5\xe6\x9c\xac\"\r\n"), "c3 OK"));
    assert_non_null(strstr(say(&a, "l4 LIST \"\" *\r\n"), "\"/\" \"&ZeVnLA-\"\r\n"));
    /* Every command that names a folder takes the rev1 form. */
    append(&a, "Entw&APw-rfe", msg1);
    assert_non_null(strstr(say(&a, "s STATUS Entw&APw-rfe (MESSAGES)\r\n"),
                           "* STATUS \"Entw&APw-rfe\" (MESSAGES 1)\r\n"));
    assert_non_null(strstr(say(&b, "s STATUS \"Entw\xc3\xbcrfe\" (MESSAGES)\r\n"),
                           "* STATUS \"Entw\xc3\xbcrfe\" (MESSAGES 1)\r\n"));
    assert_non_null(strstr(say(&a, "x EXAMINE Entw&APw-rfe\r\n"), "* 1 EXISTS"));
    assert_non_null(strstr(say(&a, "x SELECT Entw&APw-rfe\r\n"), "x OK [READ-WRITE]"));
    assert_non_null(strstr(say(&a, "cp COPY 1 &ZeVnLA-\r\n"), "cp OK [COPYUID"));
    assert_non_null(strstr(say(&a, "u SUBSCRIBE &ZeVnLA-\r\n"), "u OK"));
    assert_non_null(strstr(say(&a, "ls LSUB \"\" *\r\n"), "* LSUB (\\HasNoChildren) \"/\" \"&ZeVnLA-\"\r\n"));
    assert_non_null(strstr(say(&a, "r RENAME &ZeVnLA- &ZeVnLIqe-\r\n"), "r OK"));
    assert_true(has_folder("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"));
    assert_false(has_folder("\xe6\x97\xa5\xe6\x9c\xac"));
    assert_non_null(strstr(say(&a, "d DELETE &ZeVnLIqe-\r\n"), "d OK"));
    assert_false(has_folder("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"));

    /* What is not modified UTF-7 is refused and changes nothing. */
    const char *r = say(&a, "b1 CREATE \"bad&name\"\r\n");
    assert_non_null(strstr(r, "b1 BAD Mailbox name is not modified UTF-7"));
    assert_false(has_folder("bad&name"));
    assert_non_null(strstr(say(&a, "b2 CREATE &AGE-\r\n"), "b2 BAD"));   /* "a" encoded */
    assert_false(has_folder("a"));
    assert_non_null(strstr(say(&a, "b3 CREATE \"caf\xc3\xa9\"\r\n"), "b3 BAD"));
    assert_false(has_folder("caf\xc3\xa9"));
    assert_non_null(strstr(say(&a, "b4 RENAME Entw&APw-rfe &U,BTFw\r\n"), "b4 BAD"));
    assert_true(has_folder("Entw\xc3\xbcrfe"));
    assert_non_null(strstr(say(&a, "b5 LIST \"\" &U,BTFw\r\n"), "b5 BAD"));
    say(&a, "b6 APPEND \"Entw\xc3\xbcrfe\" {5+}\r\nhello");
    assert_non_null(strstr(say(&a, "\r\n"), "b6 NO"));
    assert_non_null(strstr(say(&a, "s STATUS Entw&APw-rfe (MESSAGES)\r\n"), "(MESSAGES 1)"));
    /* A UTF-8 session refuses bytes that are not UTF-8. */
    assert_non_null(strstr(say(&b, "b7 CREATE \"caf\xe9\"\r\n"), "b7 BAD Mailbox name is not UTF-8"));
    assert_false(has_folder("caf\xe9"));
    /* IMAP4rev2 implies UTF-8 names. */
    open_client(&b, true);
    say(&b, "l LOGIN alice@example.test \"s3cret pass\"\r\n");
    say(&b, "e ENABLE IMAP4rev2\r\n");
    assert_non_null(strstr(say(&b, "l5 LIST \"\" Entw*\r\n"), "\"/\" \"Entw\xc3\xbcrfe\"\r\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_greeting_and_logindisabled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_and_authenticate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_special_use_and_folders, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keywords, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_inbox, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyword_reclaim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_select_fetch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_literals_and_pipelining, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_copy_move_expunge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_esearch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_condstore_two_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_condstore_unchangedsince, setup, teardown),
        cmocka_unit_test_setup_teardown(test_condstore_remount, setup, teardown),
        cmocka_unit_test_setup_teardown(test_folder_names_mutf7_and_utf8, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
