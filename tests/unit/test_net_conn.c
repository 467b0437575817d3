/*
 * test_net_conn.c - the connection engine the servers share (conn_ops,
 * conn_attach, conn_accept), driven by real clients through the sim
 * board's port forward: a small line service ("ok" per line) with a pool
 * of two.  A third client is told busy and hung up on while the two go
 * on; a client that sends and closes at once has all its lines processed
 * before the service hears of the close; a silent client gets the idle
 * line and a close; and afterwards every lwIP pool is back where it
 * started and the pool is empty.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

/* lwIP brings its own byte-order macros. */
#undef htons
#undef ntohs
#undef htonl
#undef ntohl

#include "conn.h"
#include "hal_board.h"
#include "hal_clock.h"
#include "lwip/memp.h"
#include "lwip/stats.h"
#include "net.h"
#include "pb_err.h"
#include "sim_net.h"

#define LINE_PORT 110
#define LINE_SLOTS 2
#define LINE_IDLE_MS 1500

/* ------------------------------------------------ the line service --- */

struct line_slot {
    struct conn conn;
    char out[128];
    int lines;                  /* lines answered */
    int lines_at_peer_close;    /* lines answered when peer_closed ran; -1 not yet */
};

static struct line_slot line_pool[LINE_SLOTS];
static int line_finished;       /* connections let go by the service */
static int line_resets;
static bool line_paused;        /* process() leaves the input queued */
static char last_log[200];

static void line_log(const char *line)
{
    snprintf(last_log, sizeof(last_log), "%s", line);
}

static err_t line_close(void *slot)
{
    struct line_slot *s = slot;
    s->conn.closing = true;
    conn_flush(&s->conn);
    if (s->conn.out_len > 0)
        return ERR_OK;
    line_finished++;
    return conn_finish(&s->conn, false);
}

static err_t line_process(void *slot)
{
    struct line_slot *s = slot;
    /* Bounded by the queued input: every turn consumes a whole pbuf. */
    while (s->conn.in && !s->conn.closing && !line_paused) {
        const char *p = s->conn.in->payload;
        size_t n = s->conn.in->len;
        for (size_t i = 0; i < n; i++) {
            if (p[i] == '\n') {
                s->lines++;
                conn_write(&s->conn, "ok\r\n", 4);
            }
        }
        conn_consumed(&s->conn, n);
    }
    conn_flush(&s->conn);
    return ERR_OK;
}

static err_t line_peer_closed(void *slot)
{
    struct line_slot *s = slot;
    s->lines_at_peer_close = s->lines;
    return line_close(s);
}

static err_t line_poll(void *slot, uint64_t now)
{
    struct line_slot *s = slot;
    if (now - s->conn.last_ms > LINE_IDLE_MS) {
        conn_write(&s->conn, "idle\r\n", 6);
        return line_close(s);
    }
    return ERR_OK;
}

static void line_reset(void *slot)
{
    (void)slot;
    line_resets++;
}

static const struct conn_ops line_ops = {
    .name = "line",
    .unit = "sessions",
    .busy = "busy\r\n",
    .poll_interval = 1,
    .sent_is_activity = true,
    .process = line_process,
    .peer_closed = line_peer_closed,
    .close = line_close,
    .poll = line_poll,
    .reset = line_reset,
};

static err_t line_accept(void *arg, struct altcp_pcb *pcb, err_t err)
{
    (void)arg;
    err_t ret;
    int i = conn_accept(&line_ops, pcb, err, &line_pool[0].conn, sizeof(line_pool[0]), LINE_SLOTS,
                        line_log, &ret);
    if (i < 0)
        return ret;
    struct line_slot *s = &line_pool[i];
    memset(s, 0, sizeof(*s));
    s->lines_at_peer_close = -1;
    conn_init(&s->conn, pcb, s->out, sizeof(s->out));
    conn_attach(&s->conn, pcb, &line_ops, s);
    conn_write(&s->conn, "hello\r\n", 7);
    conn_flush(&s->conn);
    return ERR_OK;
}

static int line_in_use(void)
{
    int n = 0;
    for (int i = 0; i < LINE_SLOTS; i++)
        n += line_pool[i].conn.pcb != NULL;
    return n;
}

/* ------------------------------------------------------ host clients --- */

struct client {
    int fd;
    char buf[512];
    size_t len;
    bool eof;
};

static void client_open(struct client *c)
{
    memset(c, 0, sizeof(*c));
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(c->fd >= 0);
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t)(offset + LINE_PORT)) };
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    fcntl(c->fd, F_SETFL, O_NONBLOCK);
}

static void client_read(struct client *c)
{
    if (c->eof || c->len + 1 >= sizeof(c->buf))
        return;
    ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
    if (n > 0) {
        c->len += (size_t)n;
        c->buf[c->len] = '\0';
    } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        c->eof = true;          /* closed, or reset */
    }
}

static void client_send(struct client *c, const char *s)
{
    assert_int_equal(write(c->fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* Run the event loop until c has received want (and, with eof, been hung
 * up on) or timeout_ms pass.  Returns 1 when it did. */
static int client_until(struct client *c, const char *want, bool eof, uint32_t timeout_ms)
{
    uint64_t end = hal_clock_ms() + timeout_ms;
    for (;;) {
        client_read(c);
        if (strstr(c->buf, want) && (!eof || c->eof))
            return 1;
        if (hal_clock_ms() > end)
            return 0;
        net_poll();
        hal_board_idle(5);
    }
}

static int pool_empty(void)
{
    return line_in_use() == 0;
}

/* -------------------------------------------------------------- tests --- */

static u16_t memp_before[MEMP_MAX];

static int group_setup(void **state)
{
    (void)state;
    if (sim_net_boot("test_net_conn", 1) != 0)
        return -1;
    struct net_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.dhcp = true;
    strcpy(cfg.hostname, "pillarbox-test");
    if (net_init(&cfg, on_addr) != 0 || !loop_until(have_addr, 60000))
        return -1;
    if (conn_listen(LINE_PORT, NULL, false, line_accept, NULL) != 0)
        return -1;
    for (int i = 0; i < MEMP_MAX; i++)
        memp_before[i] = lwip_stats.memp[i]->used;
    return 0;
}

static void test_full_pool_refuses_and_spares_the_others(void **state)
{
    (void)state;
    struct client a, b, c;
    client_open(&a);
    assert_true(client_until(&a, "hello\r\n", false, 10000));
    client_open(&b);
    assert_true(client_until(&b, "hello\r\n", false, 10000));
    assert_int_equal(line_in_use(), 2);

    client_open(&c);
    assert_true(client_until(&c, "busy\r\n", true, 10000));
    assert_string_equal(c.buf, "busy\r\n");
    assert_string_equal(last_log, "line: connection refused, 2 sessions busy");

    /* The two already in are still served. */
    client_send(&a, "one\n");
    assert_true(client_until(&a, "hello\r\nok\r\n", false, 10000));
    client_send(&b, "two\nthree\n");
    assert_true(client_until(&b, "hello\r\nok\r\nok\r\n", false, 10000));

    close(a.fd);
    close(b.fd);
    close(c.fd);
    assert_true(loop_until(pool_empty, 10000));
}

static struct line_slot *watched;

static int input_queued(void)
{
    return watched->conn.in && watched->conn.in->tot_len == 6;
}

static void test_input_before_a_close_still_counts(void **state)
{
    (void)state;
    struct client a;
    client_open(&a);
    assert_true(client_until(&a, "hello\r\n", false, 10000));
    watched = line_pool[0].conn.pcb ? &line_pool[0] : &line_pool[1];
    int finished = line_finished;
    /* The lines arrive while the service reads nothing (a session busy
     * with flash, say); the close comes after them. */
    line_paused = true;
    client_send(&a, "x\ny\nz\n");
    assert_true(loop_until(input_queued, 10000));
    line_paused = false;
    shutdown(a.fd, SHUT_WR);
    assert_true(client_until(&a, "hello\r\nok\r\nok\r\nok\r\n", true, 10000));
    assert_true(loop_until(pool_empty, 10000));
    /* process() read every line before the service heard of the close.
     * (The slot keeps its counters: the service does not clear them.) */
    assert_int_equal(watched->lines_at_peer_close, 3);
    assert_int_equal(line_finished, finished + 1);
    close(a.fd);
}

static void test_silent_client_gets_the_idle_line(void **state)
{
    (void)state;
    struct client a;
    client_open(&a);
    uint64_t t0 = hal_clock_ms();
    assert_true(client_until(&a, "hello\r\nidle\r\n", true, 10000));
    assert_true(hal_clock_ms() - t0 >= LINE_IDLE_MS);
    assert_true(loop_until(pool_empty, 10000));
    assert_int_equal(line_resets, 0);
    close(a.fd);
}

static void test_pools_are_back(void **state)
{
    (void)state;
    /* The pools a connection draws on (a TIME_WAIT pcb may linger, and
     * the network's own IPv6 setup goes on meanwhile): the pbufs, segments
     * and altcp wrappers of every connection must be gone. */
    static const int pools[] = { MEMP_PBUF, MEMP_PBUF_POOL, MEMP_TCP_SEG, MEMP_ALTCP_PCB };
    for (size_t k = 0; k < sizeof(pools) / sizeof(pools[0]); k++) {
        int i = pools[k];
        if (lwip_stats.memp[i]->used != memp_before[i])
            print_error("pool %s: %u in use, %u before\n", lwip_stats.memp[i]->name,
                        lwip_stats.memp[i]->used, memp_before[i]);
        assert_int_equal(lwip_stats.memp[i]->used, memp_before[i]);
    }
    assert_int_equal(line_in_use(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_pool_refuses_and_spares_the_others),
        cmocka_unit_test(test_input_before_a_close_still_counts),
        cmocka_unit_test(test_silent_client_gets_the_idle_line),
        cmocka_unit_test(test_pools_are_back),
    };
    return cmocka_run_group_tests_name("net_conn", tests, group_setup, NULL);
}
