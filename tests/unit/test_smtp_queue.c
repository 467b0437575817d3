/*
 * test_smtp_queue.c - the outbound queue's entries: recipients grouped by
 * destination domain, one body kept alive for all of them, values read
 * back as written, and what does not fit refused before anything is
 * promised.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim_flash.h"
#include "smtp_queue.h"
#include "store.h"

static struct store_block blocks[64];
static uint32_t order[64];
static struct store_msg msgs[16];
static struct store_blob blobs[16];
static struct store_chunk chunks[64];
static struct store_rec recs[64];
static uint32_t rec_order[64];
static const struct store_mem mem = { blocks, 64, order, msgs, 16, blobs, 16, chunks, 64,
                                      recs, rec_order, 64 };
static struct store st;
static struct sim_flash fl;
static char path[256];

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof(path), "build/test/smtp-queue-%d.img", (int)getpid());
    unlink(path);
    assert_int_equal(sim_flash_open(&fl, path, 256 * 1024, 4096, 16, 0), 0);
    assert_int_equal(store_mount(&st, &fl.dev, &mem), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sim_flash_close(&fl);
    unlink(path);
    return 0;
}

static int entry_has(const struct smtp_queue_entry *e, const char *addr)
{
    for (int i = 0; i < e->nrcpt; i++)
        if (e->rcpt[i].len == strlen(addr) && memcmp(e->rcpt[i].addr, addr, e->rcpt[i].len) == 0)
            return 1;
    return 0;
}

static void test_grouped_by_domain(void **state)
{
    (void)state;
    struct smtp_queue_rcpts r = { .used = 0 };
    assert_int_equal(smtp_queue_rcpts_add(&r, "a@far.example"), 0);
    assert_int_equal(smtp_queue_rcpts_add(&r, "z@other.example"), 0);
    assert_int_equal(smtp_queue_rcpts_add(&r, "b@far.example"), 0);
    assert_int_equal(smtp_queue_rcpts_add(&r, "a@far.example"), 0);    /* once only */
    assert_int_equal(r.n, 3);
    size_t bytes = smtp_queue_txn_bytes(&r, "ABC", "sender@example.net");
    assert_true(bytes > 0 && bytes < STORE_TXN_OPS_BYTES);

    struct store_txn *t;
    uint32_t blob;
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_blob_begin(t, &blob), 0);
    assert_int_equal(store_blob_write(t, "Return-Path: <x>\r\nbody\r\n", 24), 0);
    assert_int_equal(store_blob_end(t), 0);
    assert_int_equal(smtp_queue_add(t, "ABC", blob, 18, "sender@example.net", &r, 1700000000u), 0);
    assert_int_equal(store_txn_commit(t), 0);

    struct smtp_queue_entry e;
    uint8_t v[STORE_REC_VALUE_MAX];
    assert_int_equal(smtp_queue_get(&st, "ABC.1", &e, v, sizeof(v)), 0);
    assert_int_equal(e.nrcpt, 2);
    assert_true(entry_has(&e, "a@far.example") && entry_has(&e, "b@far.example"));
    assert_int_equal(e.blob, blob);
    assert_int_equal(e.offset, 18);
    assert_int_equal(e.attempts, 0);
    assert_int_equal(e.next_attempt, 1700000000u);
    assert_int_equal(e.from_len, strlen("sender@example.net"));
    assert_memory_equal(e.from, "sender@example.net", e.from_len);
    assert_int_equal(smtp_queue_get(&st, "ABC.2", &e, v, sizeof(v)), 0);
    assert_int_equal(e.nrcpt, 1);
    assert_true(entry_has(&e, "z@other.example"));
    assert_int_equal(e.blob, blob);
    assert_int_equal(smtp_queue_get(&st, "ABC.3", &e, v, sizeof(v)), PB_ENOENT);
}

static void test_many_recipients_split(void **state)
{
    (void)state;
    struct smtp_queue_rcpts r = { .used = 0 };
    char a[64];
    for (int i = 0; i < SMTP_QUEUE_RCPTS + 3; i++) {
        snprintf(a, sizeof(a), "user%02d@far.example", i);
        assert_int_equal(smtp_queue_rcpts_add(&r, a), 0);
    }
    struct store_txn *t;
    uint32_t blob;
    assert_int_equal(store_txn_begin(&st, &t), 0);
    assert_int_equal(store_blob_begin(t, &blob), 0);
    assert_int_equal(store_blob_write(t, "x", 1), 0);
    assert_int_equal(store_blob_end(t), 0);
    assert_int_equal(smtp_queue_add(t, "Q", blob, 0, "", &r, 1), 0);     /* the null sender */
    assert_int_equal(store_txn_commit(t), 0);
    struct smtp_queue_entry e;
    uint8_t v[STORE_REC_VALUE_MAX];
    assert_int_equal(smtp_queue_get(&st, "Q.1", &e, v, sizeof(v)), 0);
    assert_int_equal(e.nrcpt, SMTP_QUEUE_RCPTS);
    assert_int_equal(e.from_len, 0);
    assert_int_equal(smtp_queue_get(&st, "Q.2", &e, v, sizeof(v)), 0);
    assert_int_equal(e.nrcpt, 3);
}

static void test_what_does_not_fit_is_refused(void **state)
{
    (void)state;
    struct smtp_queue_rcpts r = { .used = 0 };
    char a[400];
    memset(a, 'x', 330);
    strcpy(a + 330, "@far.example");
    assert_int_equal(smtp_queue_rcpts_add(&r, a), PB_ERANGE);  /* longer than an address can be */
    /* The buffer fills: further addresses are refused, none is lost silently. */
    int n = 0, err = 0;
    while (!err) {
        snprintf(a, sizeof(a), "someone-with-a-long-name-%03d@far.example", n);
        if (!(err = smtp_queue_rcpts_add(&r, a)))
            n++;
    }
    assert_int_equal(err, PB_ERANGE);
    assert_int_equal(r.n, n);
    /* A sender and recipient too long for one entry: known at RCPT time. */
    struct smtp_queue_rcpts one = { .used = 0 };
    char from[260], to[400];
    memset(from, 's', 250);
    strcpy(from + 250, "@e.net");
    memset(to, 't', 60);
    snprintf(to + 60, sizeof(to) - 60, "@%0240d.example", 0);
    assert_int_equal(smtp_queue_rcpts_add(&one, to), 0);
    assert_int_equal(smtp_queue_txn_bytes(&one, "ID", from), (size_t)-1);
}

static void test_decode_refuses_garbage(void **state)
{
    (void)state;
    struct smtp_queue_entry e;
    uint8_t v[64] = { 1 };
    assert_int_equal(smtp_queue_decode(v, 0, &e), PB_ECORRUPT);
    assert_int_equal(smtp_queue_decode(v, 23, &e), PB_ECORRUPT);     /* no recipient */
    v[0] = 3;
    assert_int_equal(smtp_queue_decode(v, 30, &e), PB_ECORRUPT);     /* unknown format */
}

/* The runner rewrites entries in format 2 with the last error; format 1
 * entries (written by smtp_queue_add) still read, and a rewritten entry
 * reads back with its recipients, attempts, next attempt and error. */
static void test_rewrite_keeps_fields_and_error(void **state)
{
    (void)state;
    uint8_t v1[STORE_REC_VALUE_MAX], v2[STORE_REC_VALUE_MAX];
    struct smtp_queue_entry e, back;
    memset(&e, 0, sizeof(e));
    e.from = "alice@example.test";
    e.from_len = 18;
    e.nrcpt = 2;
    e.rcpt[0].addr = "bob@example.net";
    e.rcpt[0].len = 15;
    e.rcpt[1].addr = "carol@example.net";
    e.rcpt[1].len = 17;
    e.attempts = 3;
    e.created = 1000;
    e.next_attempt = 5000;
    e.offset = 42;
    e.error = "mx.example.net said: 451 4.7.1 Greylisted";
    e.error_len = (uint8_t)strlen(e.error);
    int n = smtp_queue_encode(&e, v1, sizeof(v1));
    assert_true(n > 0);
    assert_int_equal(v1[0], 2);
    assert_int_equal(smtp_queue_decode(v1, (size_t)n, &back), 0);
    assert_int_equal(back.attempts, 3);
    assert_int_equal(back.next_attempt, 5000);
    assert_int_equal(back.offset, 42);
    assert_int_equal(back.nrcpt, 2);
    assert_memory_equal(back.rcpt[1].addr, "carol@example.net", 17);
    assert_int_equal(back.error_len, e.error_len);
    assert_memory_equal(back.error, e.error, e.error_len);
    /* Re-encoding what was decoded gives the same bytes. */
    assert_int_equal(smtp_queue_encode(&back, v2, sizeof(v2)), n);
    assert_memory_equal(v1, v2, (size_t)n);
    /* A too long error is clipped to what the record holds. */
    static char big[400];
    memset(big, 'x', sizeof(big));
    e.error = big;
    e.error_len = 255;
    n = smtp_queue_encode(&e, v1, sizeof(v1));
    assert_int_equal(smtp_queue_decode(v1, (size_t)n, &back), 0);
    assert_int_equal(back.error_len, SMTP_QUEUE_ERROR_MAX);
    /* No recipient left: nothing to encode. */
    e.nrcpt = 0;
    assert_int_equal(smtp_queue_encode(&e, v1, sizeof(v1)), PB_ERANGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_grouped_by_domain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_recipients_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_what_does_not_fit_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_refuses_garbage, setup, teardown),
        cmocka_unit_test(test_rewrite_keeps_fields_and_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
