/*
 * test_mime.c - the structure an IMAP client sees (BODYSTRUCTURE, section
 * fetches) comes from these offsets: every part's header and body must be
 * exactly the bytes of the message, whatever the chunking of the input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cte.h"
#include "header.h"
#include "mime.h"
#include "pb_err.h"

#define MAXP 16

/* Parse msg fed chunk bytes at a time. */
static int parse_chunked(const char *msg, size_t len, struct mime_part *parts, unsigned max,
                         size_t chunk, unsigned *flags)
{
    struct mime_parser p;
    memset(parts, 0, sizeof(*parts) * max);
    mime_parse_begin(&p, parts, max);
    for (size_t i = 0; i < len; i += chunk)
        assert_int_equal(mime_parse_feed(&p, msg + i, len - i < chunk ? len - i : chunk), 0);
    int n = mime_parse_end(&p);
    if (flags)
        *flags = p.flags;
    return n;
}

/* Parse whole, one byte at a time and in odd chunks: all must agree. */
static int parse(const char *msg, struct mime_part *parts, unsigned max, unsigned *flags)
{
    static struct mime_part other[64];
    size_t len = strlen(msg);
    int n = parse_chunked(msg, len, parts, max, len ? len : 1, flags);
    assert_true(n >= 1);
    static const size_t chunks[] = { 1, 2, 3, 7, 64 };
    for (unsigned c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
        unsigned f2;
        assert_int_equal(parse_chunked(msg, len, other, max, chunks[c], &f2), n);
        assert_memory_equal(other, parts, sizeof(*parts) * (size_t)n);
        if (flags)
            assert_int_equal(f2, *flags);
    }
    return n;
}

static void body_is(const char *msg, const struct mime_part *p, const char *want)
{
    assert_int_equal(p->body_len, strlen(want));
    assert_memory_equal(msg + p->body_off, want, strlen(want));
}

static void header_is(const char *msg, const struct mime_part *p, const char *want)
{
    assert_int_equal(p->hdr_len, strlen(want));
    assert_memory_equal(msg + p->hdr_off, want, strlen(want));
}

static void test_plain_text_without_mime_version(void **state)
{
    (void)state;
    const char *msg =
        "From: Alice <alice@example.test>\r\n"
        "To: bob@example.test\r\n"
        "Subject: lunch\r\n"
        "\r\n"
        "Shall we meet at noon?\r\n"
        "-- \r\n"
        "Alice\r\n";
    struct mime_part parts[MAXP];
    unsigned flags;
    assert_int_equal(parse(msg, parts, MAXP, &flags), 1);
    assert_false(flags & MIME_F_MIME_VERSION);
    assert_string_equal(parts[0].type, "text");
    assert_string_equal(parts[0].subtype, "plain");
    assert_string_equal(mime_part_charset(&parts[0]), "us-ascii");
    assert_string_equal(mime_param_get(parts[0].params, parts[0].params_len, "charset"), "us-ascii");
    assert_true(parts[0].flags & MIME_PART_CT_DEFAULT);
    assert_int_equal(parts[0].enc, MIME_ENC_7BIT);
    assert_int_equal(parts[0].parent, -1);
    header_is(msg, &parts[0], "From: Alice <alice@example.test>\r\nTo: bob@example.test\r\n"
              "Subject: lunch\r\n\r\n");
    body_is(msg, &parts[0], "Shall we meet at noon?\r\n-- \r\nAlice\r\n");
    assert_int_equal(parts[0].body_lines, 3);
}

static const char alternative[] =
    "From: news@example.test\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/alternative;\r\n"
    "\tboundary=\"=_alt 42\"; charset=\"ignored\"\r\n"
    "\r\n"
    "This is a multi-part message in MIME format.\r\n"
    "--=_alt 42\r\n"
    "Content-Type: text/plain; charset=UTF-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Caf=C3=A9 opens at 8.\r\n"
    "--=_alt 42\r\n"
    "Content-Type: TEXT/HTML; charset=\"utf-8\"\r\n"
    "\r\n"
    "<p>Caf&eacute; opens at 8.</p>\r\n"
    "\r\n"
    "--=_alt 42--\r\n"
    "epilogue\r\n";

static void test_multipart_alternative(void **state)
{
    (void)state;
    struct mime_part parts[MAXP];
    unsigned flags;
    const char *msg = alternative;
    assert_int_equal(parse(msg, parts, MAXP, &flags), 3);
    assert_true(flags & MIME_F_MIME_VERSION);
    assert_string_equal(parts[0].type, "multipart");
    assert_string_equal(parts[0].subtype, "alternative");
    assert_true(mime_part_is_multipart(&parts[0]));
    assert_string_equal(mime_param_get(parts[0].params, parts[0].params_len, "boundary"), "=_alt 42");
    assert_int_equal(parts[0].nchildren, 2);
    /* The multipart's body is everything after its header: preamble,
     * parts and epilogue. */
    const char *b0 = strstr(msg, "This is");
    assert_int_equal(parts[0].body_off, b0 - msg);
    assert_int_equal(parts[0].body_off + parts[0].body_len, strlen(msg));
    assert_false(parts[0].flags & MIME_PART_NO_CLOSE);

    assert_int_equal(parts[1].parent, 0);
    assert_int_equal(parts[1].depth, 1);
    header_is(msg, &parts[1], "Content-Type: text/plain; charset=UTF-8\r\n"
              "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
    /* The CRLF before the boundary belongs to the boundary. */
    body_is(msg, &parts[1], "Caf=C3=A9 opens at 8.");
    assert_int_equal(parts[1].body_lines, 1);
    assert_int_equal(parts[1].enc, MIME_ENC_QP);
    assert_string_equal(parts[1].encoding, "quoted-printable");
    assert_string_equal(mime_part_charset(&parts[1]), "UTF-8");

    assert_string_equal(parts[2].type, "text");
    assert_string_equal(parts[2].subtype, "html");
    body_is(msg, &parts[2], "<p>Caf&eacute; opens at 8.</p>\r\n");
    assert_int_equal(parts[2].body_lines, 1);
}

static void test_bare_lf_gives_the_same_tree(void **state)
{
    (void)state;
    char lf[sizeof(alternative)];
    size_t j = 0;
    for (size_t i = 0; alternative[i]; i++)
        if (alternative[i] != '\r')
            lf[j++] = alternative[i];
    lf[j] = '\0';
    struct mime_part a[MAXP], b[MAXP];
    assert_int_equal(parse(alternative, a, MAXP, NULL), 3);
    assert_int_equal(parse(lf, b, MAXP, NULL), 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(a[i].subtype, b[i].subtype);
        assert_int_equal(a[i].body_lines, b[i].body_lines);
        assert_int_equal(a[i].parent, b[i].parent);
    }
    body_is(lf, &b[1], "Caf=C3=A9 opens at 8.");
    body_is(lf, &b[2], "<p>Caf&eacute; opens at 8.</p>\n");
    header_is(lf, &b[2], "Content-Type: TEXT/HTML; charset=\"utf-8\"\n\n");
}

static const char mixed[] =
    "Subject: report\r\n"
    "Mime-Version: 1.0 (produced by hand)\r\n"
    "Content-Type: multipart/mixed; boundary=frontier\r\n"
    "\r\n"
    "--frontier\r\n"
    "\r\n"
    "See the attached report.\r\n"
    "--frontier \t\r\n"
    "Content-Type: application/pdf; name=\"Q3 report.pdf\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "Content-Disposition: attachment;\r\n"
    " filename*0*=UTF-8''Q3%20r%C3%A9;\r\n"
    " filename*1=port.pdf; size=9\r\n"
    "Content-ID: <part2@example.test>\r\n"
    "Content-Description: Quarterly   report\r\n"
    "Content-Language: en, fr\r\n"
    "Content-Location: http://example.test/q3.pdf\r\n"
    "\r\n"
    "JVBERi0x\r\n"
    "LjQK\r\n"
    "--frontier--\r\n";

static void test_multipart_mixed_with_attachment(void **state)
{
    (void)state;
    struct mime_part parts[MAXP];
    unsigned flags;
    const char *msg = mixed;
    assert_int_equal(parse(msg, parts, MAXP, &flags), 3);
    assert_true(flags & MIME_F_MIME_VERSION);
    /* A part with no header at all is text/plain; its header is just the
     * blank line. */
    header_is(msg, &parts[1], "\r\n");
    body_is(msg, &parts[1], "See the attached report.");
    assert_true(parts[1].flags & MIME_PART_CT_DEFAULT);
    /* The boundary line with trailing blanks still counts. */
    const struct mime_part *a = &parts[2];
    assert_string_equal(a->type, "application");
    assert_string_equal(a->subtype, "pdf");
    assert_string_equal(mime_param_get(a->params, a->params_len, "name"), "Q3 report.pdf");
    assert_int_equal(a->enc, MIME_ENC_BASE64);
    assert_string_equal(a->disposition, "attachment");
    assert_string_equal(mime_param_get(a->dparams, a->dparams_len, "filename"), "Q3 r\xc3\xa9port.pdf");
    assert_string_equal(mime_param_get(a->dparams, a->dparams_len, "size"), "9");
    assert_string_equal(a->id, "<part2@example.test>");
    assert_string_equal(a->description, "Quarterly   report");
    assert_string_equal(a->language, "en, fr");
    assert_string_equal(a->location, "http://example.test/q3.pdf");
    body_is(msg, a, "JVBERi0x\r\nLjQK");
    assert_int_equal(a->body_lines, 2);
    /* The body decodes to the attachment's bytes. */
    struct mail_cte d;
    char out[128];
    size_t used, n;
    mail_cte_init(&d, MAIL_CTE_BASE64);
    n = mail_cte_decode(&d, msg + a->body_off, a->body_len, &used, out, sizeof(out));
    assert_int_equal(used, a->body_len);
    n += mail_cte_finish(&d, out + n, sizeof(out) - n);
    assert_int_equal(n, 9);
    assert_memory_equal(out, "%PDF-1.4\n", 9);
}

static int mem_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    return mail_header_mem_read(ctx, off, buf, len);
}

static void test_nested_message_rfc822(void **state)
{
    (void)state;
    const char *msg =
        "From: bob@example.test\n"
        "Subject: Fwd: plans\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=outer\n"
        "\n"
        "--outer\n"
        "Content-Type: text/plain\n"
        "\n"
        "Forwarding this.\n"
        "--outer\n"
        "Content-Type: message/rfc822\n"
        "Content-Disposition: inline\n"
        "\n"
        "From: carol@example.test\n"
        "Subject: plans\n"
        "Content-Type: multipart/alternative; boundary=\"inner\"\n"
        "\n"
        "--inner\n"
        "Content-Type: text/plain\n"
        "\n"
        "Plan A\n"
        "--inner\n"
        "Content-Type: text/html\n"
        "\n"
        "<b>Plan A</b>\n"
        "--inner--\n"
        "\n"
        "--outer--\n";
    struct mime_part parts[MAXP];
    assert_int_equal(parse(msg, parts, MAXP, NULL), 6);
    /* 0 multipart/mixed, 1 text, 2 message/rfc822, 3 the inner message
     * (multipart/alternative), 4 and 5 its parts. */
    static const int parent[] = { -1, 0, 0, 2, 3, 3 };
    static const int depth[] = { 0, 1, 1, 2, 3, 3 };
    for (int i = 0; i < 6; i++) {
        assert_int_equal(parts[i].parent, parent[i]);
        assert_int_equal(parts[i].depth, depth[i]);
        /* Every part lies inside its parent's body. */
        if (i > 0) {
            const struct mime_part *pp = &parts[parent[i]];
            assert_true(parts[i].hdr_off >= pp->body_off);
            assert_true(parts[i].body_off + parts[i].body_len <= pp->body_off + pp->body_len);
        }
    }
    assert_true(mime_part_is_message(&parts[2]));
    assert_string_equal(parts[2].disposition, "inline");
    /* The encapsulated message starts where the rfc822 part's body does. */
    assert_int_equal(parts[3].hdr_off, parts[2].body_off);
    assert_int_equal(parts[3].body_off + parts[3].body_len, parts[2].body_off + parts[2].body_len);
    body_is(msg, &parts[2], "From: carol@example.test\nSubject: plans\n"
            "Content-Type: multipart/alternative; boundary=\"inner\"\n\n"
            "--inner\nContent-Type: text/plain\n\nPlan A\n--inner\nContent-Type: text/html\n\n"
            "<b>Plan A</b>\n--inner--\n");
    assert_string_equal(parts[3].subtype, "alternative");
    body_is(msg, &parts[4], "Plan A");
    body_is(msg, &parts[5], "<b>Plan A</b>");
    /* The inner message's Subject, read back from its header offsets
     * through a callback, as IMAP's ENVELOPE of BODY[2] needs. */
    struct mail_header_mem mem = { msg, strlen(msg) };
    char subject[64];
    assert_int_equal(mail_header_find(mem_read, &mem, parts[3].hdr_off, parts[3].hdr_len,
                                      "subject", subject, sizeof(subject), NULL), 5);
    assert_string_equal(subject, "plans");
}

static void test_missing_final_boundary(void **state)
{
    (void)state;
    const char *msg =
        "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
        "\r\n"
        "--b1\r\n"
        "Content-Type: multipart/related; boundary=\"b2\"\r\n"
        "\r\n"
        "--b2\r\n"
        "Content-Type: text/plain\r\n"
        "\r\n"
        "cut short by the outer boundary\r\n"
        "--b1\r\n"
        "Content-Type: text/plain\r\n"
        "\r\n"
        "the last part never ends\r\n"
        "and has no newline";
    struct mime_part parts[MAXP];
    assert_int_equal(parse(msg, parts, MAXP, NULL), 4);
    /* The outer boundary closes the inner multipart and its open part. */
    assert_true(parts[1].flags & MIME_PART_NO_CLOSE);
    body_is(msg, &parts[2], "cut short by the outer boundary");
    assert_int_equal(parts[2].parent, 1);
    assert_int_equal(parts[3].parent, 0);
    body_is(msg, &parts[3], "the last part never ends\r\nand has no newline");
    assert_int_equal(parts[3].body_lines, 2);
    assert_true(parts[0].flags & MIME_PART_NO_CLOSE);
    assert_int_equal(parts[0].body_off + parts[0].body_len, strlen(msg));

    /* A header's blank line that is also the outer boundary's line break:
     * the empty inner part still lies inside its parent. */
    const char *tight = "Content-Type: multipart/mixed; boundary=o\n\n--o\n"
                        "Content-Type: multipart/mixed; boundary=i\n\n--i\n\n--o--\n";
    assert_int_equal(parse(tight, parts, MAXP, NULL), 3);
    assert_int_equal(parts[2].parent, 1);
    assert_int_equal(parts[2].body_len, 0);
    assert_true(parts[2].body_off <= parts[1].body_off + parts[1].body_len);
}

static void test_digest_defaults_to_messages(void **state)
{
    (void)state;
    const char *msg =
        "Content-Type: multipart/digest; boundary=d\r\n"
        "\r\n"
        "--d\r\n"
        "\r\n"
        "Subject: first\r\n"
        "\r\n"
        "one\r\n"
        "--d\r\n"
        "Content-Type: text/plain\r\n"
        "\r\n"
        "not a message\r\n"
        "--d--\r\n";
    struct mime_part parts[MAXP];
    assert_int_equal(parse(msg, parts, MAXP, NULL), 4);
    assert_string_equal(parts[1].type, "message");
    assert_string_equal(parts[1].subtype, "rfc822");
    assert_true(parts[1].flags & MIME_PART_CT_DEFAULT);
    /* Its body is parsed as a message: the child is that message. */
    assert_int_equal(parts[2].parent, 1);
    header_is(msg, &parts[2], "Subject: first\r\n\r\n");
    body_is(msg, &parts[2], "one");
    assert_string_equal(parts[2].type, "text");
    assert_string_equal(parts[3].type, "text");
    assert_int_equal(parts[3].parent, 0);
}

static void test_folded_and_odd_headers(void **state)
{
    (void)state;
    const char *msg =
        "Content-Type:\r\n"
        "  multipart/mixed;\r\n"
        "  boundary=\r\n"
        "   \"folded\" (a comment)\r\n"
        "X-Junk line without colon\r\n"
        "Content-Type: text/plain\r\n"
        "\r\n"
        "--folded\r\n"
        "Content-Type: text/plain; format=flowed; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: x-uuencode\r\n"
        "\r\n"
        "begin\r\n"
        "--folded--";
    struct mime_part parts[MAXP];
    assert_int_equal(parse(msg, parts, MAXP, NULL), 2);
    /* The first Content-Type wins, folded over three lines. */
    assert_string_equal(parts[0].subtype, "mixed");
    assert_string_equal(mime_param_get(parts[0].params, parts[0].params_len, "boundary"), "folded");
    assert_string_equal(mime_param_get(parts[1].params, parts[1].params_len, "format"), "flowed");
    assert_string_equal(mime_part_charset(&parts[1]), "iso-8859-1");
    assert_int_equal(parts[1].enc, MIME_ENC_OTHER);
    assert_string_equal(parts[1].encoding, "x-uuencode");
    body_is(msg, &parts[1], "begin");
    assert_false(parts[0].flags & MIME_PART_NO_CLOSE);
}

static void test_limits(void **state)
{
    (void)state;
    /* Part table full: what is recorded stays right. */
    struct mime_part parts[MAXP];
    unsigned flags;
    assert_int_equal(parse(mixed, parts, 2, &flags), 2);
    assert_true(flags & MIME_F_PARTS_CUT);
    body_is(mixed, &parts[1], "See the attached report.");
    assert_int_equal(parts[0].body_off + parts[0].body_len, strlen(mixed));

    /* Nesting deeper than MIME_DEPTH_MAX: the deepest container stays a leaf. */
    static char deep[4096];
    size_t n = 0;
    for (int i = 0; i < MIME_DEPTH_MAX + 4; i++)
        n += (size_t)snprintf(deep + n, sizeof(deep) - n, "Content-Type: message/rfc822\r\n\r\n");
    n += (size_t)snprintf(deep + n, sizeof(deep) - n, "Subject: bottom\r\n\r\nbody\r\n");
    static struct mime_part many[64];
    int np = parse(deep, many, 64, &flags);
    assert_int_equal(np, MIME_DEPTH_MAX + 1);
    assert_true(flags & MIME_F_DEPTH_CUT);
    for (int i = 1; i < np; i++) {
        assert_int_equal(many[i].depth, i);
        assert_int_equal(many[i].body_off + many[i].body_len, n);
    }

    /* A header field far longer than the parser keeps is cut, and the
     * fields after it are still read. */
    static char longf[8192];
    n = (size_t)snprintf(longf, sizeof(longf), "X-Long: ");
    memset(longf + n, 'x', 5000);
    n += 5000;
    n += (size_t)snprintf(longf + n, sizeof(longf) - n,
                          "\r\nContent-Type: text/html\r\n\r\nhi\r\n");
    assert_int_equal(parse(longf, parts, MAXP, &flags), 1);
    assert_true(flags & MIME_F_FIELD_CUT);
    assert_string_equal(parts[0].subtype, "html");
    body_is(longf, &parts[0], "hi\r\n");

    /* Parameters beyond their bytes are dropped, the boundary still works. */
    static char params[4096];
    n = (size_t)snprintf(params, sizeof(params), "Content-Type: multipart/mixed");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(params + n, sizeof(params) - n, "; p%d=\"value number %d\"", i, i);
    n += (size_t)snprintf(params + n, sizeof(params) - n,
                          "; boundary=zz\r\n\r\n--zz\r\n\r\nx\r\n--zz--\r\n");
    assert_int_equal(parse(params, parts, MAXP, NULL), 2);
    assert_true(parts[0].flags & MIME_PART_PARAMS_CUT);
    body_is(params, &parts[1], "x");
}

static void test_sizes_are_as_documented(void **state)
{
    (void)state;
    /* mime.h promises these sizes to the services that budget for them. */
    assert_true(sizeof(struct mime_parser) <= 2700);
    assert_true(sizeof(struct mime_part) <= 820);
}

static void test_feed_after_end_is_refused(void **state)
{
    (void)state;
    struct mime_part parts[2];
    struct mime_parser p;
    mime_parse_begin(&p, parts, 2);
    assert_int_equal(mime_parse_feed(&p, "x", 1), 0);
    assert_int_equal(mime_parse_end(&p), 1);
    assert_int_equal(mime_parse_feed(&p, "x", 1), PB_EINVAL);
    assert_int_equal(mime_parse_end(&p), PB_EINVAL);
    /* An empty message is one empty part. */
    mime_parse_begin(&p, parts, 2);
    assert_int_equal(mime_parse_end(&p), 1);
    assert_int_equal(parts[0].hdr_len, 0);
    assert_int_equal(parts[0].body_len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_text_without_mime_version),
        cmocka_unit_test(test_multipart_alternative),
        cmocka_unit_test(test_bare_lf_gives_the_same_tree),
        cmocka_unit_test(test_multipart_mixed_with_attachment),
        cmocka_unit_test(test_nested_message_rfc822),
        cmocka_unit_test(test_missing_final_boundary),
        cmocka_unit_test(test_digest_defaults_to_messages),
        cmocka_unit_test(test_folded_and_odd_headers),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_sizes_are_as_documented),
        cmocka_unit_test(test_feed_after_end_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
