/*
 * test_dns.c - the resolver's own rules, without a network: the server
 * list a user types is read (IPv4, IPv6, ports) or refused whole; no more
 * than PB_DNS_QUERIES queries run at once (the next gets PB_EBUSY); a query
 * nobody answers ends in PB_ETIMEDOUT after its retries, exactly once; and
 * every lwIP pcb the resolver took is given back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dns.h"
#include "hal_clock.h"
#include "lwip/init.h"
#include "lwip/memp.h"
#include "lwip/stats.h"
#include "lwip/timeouts.h"
#include "pb_err.h"

static int calls, last_err;

static void on_answer(int err, const struct dns_answer *ans, void *arg)
{
    (void)arg;
    calls++;
    last_err = err;
    assert_true(err == 0 ? ans != NULL : ans == NULL);
}

static unsigned udp_pcbs(void)
{
    return lwip_stats.memp[MEMP_UDP_PCB]->used;
}

static int setup(void **state)
{
    (void)state;
    dns_resolver_init();
    calls = 0;
    last_err = 1;
    return 0;
}

static void test_server_list(void **state)
{
    (void)state;
    char text[DNS_SERVERS_TEXT_MAX];
    assert_int_equal(dns_set_servers("192.0.2.1:5353, [2001:db8::1]:53 2001:db8::2"), 0);
    dns_servers_text(text, sizeof(text));
    assert_string_equal(text, "192.0.2.1:5353 2001:db8::1 2001:db8::2");
    assert_int_equal(dns_set_servers("[2001:db8::53]:5300"), 0);
    dns_servers_text(text, sizeof(text));
    assert_string_equal(text, "[2001:db8::53]:5300");

    /* Refused whole: what was set stays. */
    assert_int_equal(dns_set_servers("192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4"), PB_ERANGE);
    assert_int_equal(dns_set_servers("192.0.2.1 mail.example.com"), PB_EINVAL);
    assert_int_equal(dns_set_servers("192.0.2.1:0"), PB_EINVAL);
    assert_int_equal(dns_set_servers("192.0.2.1:65536"), PB_EINVAL);
    assert_int_equal(dns_set_servers("192.0.2.1:"), PB_EINVAL);
    assert_int_equal(dns_set_servers("192.0.2.1:53x"), PB_EINVAL);
    assert_int_equal(dns_set_servers("[2001:db8::1"), PB_EINVAL);
    assert_int_equal(dns_set_servers("0.0.0.0"), PB_EINVAL);
    dns_servers_text(text, sizeof(text));
    assert_string_equal(text, "[2001:db8::53]:5300");
    assert_int_equal(dns_servers_valid("192.0.2.1:65535"), 0);

    /* auto: lwIP's servers, none here. */
    assert_int_equal(dns_set_servers("auto"), 0);
    dns_servers_text(text, sizeof(text));
    assert_string_equal(text, "none");
    assert_int_equal(dns_query("example.com", DNS_T_MX, on_answer, NULL), PB_ENOENT);
    assert_int_equal(calls, 0);
}

static void test_busy_and_cancel(void **state)
{
    (void)state;
    unsigned before = udp_pcbs();
    int args[PB_DNS_QUERIES + 1];
    assert_int_equal(dns_set_servers("192.0.2.1"), 0);
    assert_int_equal(dns_query("bad..name", DNS_T_A, on_answer, NULL), PB_EINVAL);
    for (int i = 0; i < PB_DNS_QUERIES; i++)
        assert_int_equal(dns_query("example.com", DNS_T_MX, on_answer, &args[i]), 0);
    assert_int_equal(dns_query("example.com", DNS_T_MX, on_answer, &args[PB_DNS_QUERIES]), PB_EBUSY);
    struct dns_stats st;
    dns_stats(&st);
    assert_int_equal(st.in_flight, PB_DNS_QUERIES);
    assert_int_equal(udp_pcbs(), before + PB_DNS_QUERIES);
    /* A caller that goes away takes its queries with it; nobody is called. */
    for (int i = 0; i < PB_DNS_QUERIES; i++)
        assert_int_equal(dns_cancel(on_answer, &args[i]), 1);
    assert_int_equal(calls, 0);
    assert_int_equal(udp_pcbs(), before);
    dns_stats(&st);
    assert_int_equal(st.in_flight, 0);
}

static void test_timeout(void **state)
{
    (void)state;
    unsigned before = udp_pcbs();
    /* Two servers, neither reachable (no interface): 2 rounds of 2. */
    assert_int_equal(dns_set_servers("192.0.2.1 192.0.2.2"), 0);
    uint64_t start = hal_clock_ms();
    assert_int_equal(dns_query_ptr(&(ip_addr_t)IPADDR4_INIT_BYTES(192, 0, 2, 25), on_answer, NULL), 0);
    while (calls == 0 && hal_clock_ms() - start < 4 * DNS_UDP_TIMEOUT_MS + 2000) {
        sys_check_timeouts();
        usleep(10000);
    }
    uint64_t took = hal_clock_ms() - start;
    assert_int_equal(calls, 1);
    assert_int_equal(last_err, PB_ETIMEDOUT);
    assert_true(took >= 4 * DNS_UDP_TIMEOUT_MS);
    assert_int_equal(udp_pcbs(), before);
    /* And never again. */
    for (int i = 0; i < 30; i++) {
        sys_check_timeouts();
        usleep(10000);
    }
    assert_int_equal(calls, 1);
}

int main(void)
{
    lwip_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_server_list, setup),
        cmocka_unit_test_setup(test_busy_and_cancel, setup),
        cmocka_unit_test_setup(test_timeout, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
