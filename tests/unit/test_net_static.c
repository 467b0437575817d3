/*
 * test_net_static.c - a static IPv4 address (no DHCP) works: the address,
 * mask, gateway and DNS given are the ones in use, and the appliance
 * answers on them (a host connection through the port forward reaches its
 * TCP stack, which refuses it at once since nothing listens).
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>
#include <poll.h>

#include <cmocka.h>

/* lwIP brings its own byte-order macros. */
#undef htons
#undef ntohs
#undef htonl
#undef ntohl

#include "hal_board.h"
#include "hal_clock.h"
#include "net.h"
#include "sim_net.h"

static int group_setup(void **state)
{
    (void)state;
    assert_int_equal(sim_net_boot("test_net_static", 7), 0);
    return 0;
}

static void test_static_address(void **state)
{
    (void)state;
    struct net_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.dhcp = false;
    IP4_ADDR(&cfg.addr, 10, 0, 2, 15);
    IP4_ADDR(&cfg.netmask, 255, 255, 255, 0);
    IP4_ADDR(&cfg.gateway, 10, 0, 2, 2);
    IP_ADDR4(&cfg.dns[0], 10, 0, 2, 3);
    strcpy(cfg.hostname, "pillarbox-static");
    assert_int_equal(net_init(&cfg, on_addr), 0);

    /* Reported at once, without any DHCP exchange. */
    assert_int_equal(addr_events, 1);
    char a[IPADDR_STRLEN_MAX];
    assert_string_equal(ip4addr_ntoa_r(&last.addr, a, sizeof(a)), "10.0.2.15");
    assert_string_equal(ip4addr_ntoa_r(&last.gateway, a, sizeof(a)), "10.0.2.2");
    struct net_status st;
    net_status(&st);
    assert_string_equal(ipaddr_ntoa_r(&st.dns[0], a, sizeof(a)), "10.0.2.3");

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = lwip_htons((u16_t)(offset + 25));
    sa.sin_addr.s_addr = lwip_htonl(0x7F000001);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    /* The forward accepted on the host side; the appliance's RST closes it. */
    int closed = 0;
    uint64_t end = hal_clock_ms() + 10000;
    while (!closed && hal_clock_ms() < end) {
        net_poll();
        hal_board_idle(5);
        char c;
        ssize_t n = read(fd, &c, 1);
        closed = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
    }
    close(fd);
    assert_true(closed);
    /* Still no DHCP lease replaced the static address. */
    net_status(&st);
    assert_string_equal(ip4addr_ntoa_r(&st.addr, a, sizeof(a)), "10.0.2.15");
    assert_int_equal(addr_events, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static_address),
    };
    return cmocka_run_group_tests_name("net_static", tests, group_setup, NULL);
}
