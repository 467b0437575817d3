/*
 * test_net.c - the netif glue carries real traffic: over the sim board's
 * virtual network the appliance gets its DHCP lease, and a TCP connection
 * from the host through the port forward moves data both ways intact.
 * Afterwards every lwIP pool is back where it started.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
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

#include "hal_board.h"
#include "hal_clock.h"
#include "hal_eth.h"
#include "lwip/altcp.h"
#include "lwip/altcp_tcp.h"
#include "lwip/memp.h"
#include "lwip/stats.h"
#include "net.h"
#include "pb_err.h"
#include "sim_net.h"

static int have_ipv6(void)
{
    struct net_status st;
    net_status(&st);
    return st.ipv6_count >= 2;      /* link-local and the SLAAC address */
}

static int group_setup(void **state)
{
    (void)state;
    assert_int_equal(sim_net_boot("test_net", 1), 0);
    struct net_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.dhcp = true;
    strcpy(cfg.hostname, "pillarbox-test");
    return net_init(&cfg, on_addr);
}

static void test_dhcp_lease(void **state)
{
    (void)state;
    assert_true(loop_until(have_addr, 60000));
    char a[IPADDR_STRLEN_MAX];
    assert_string_equal(ip4addr_ntoa_r(&last.addr, a, sizeof(a)), "10.0.2.15");
    assert_string_equal(ip4addr_ntoa_r(&last.gateway, a, sizeof(a)), "10.0.2.2");
    assert_string_equal(ip4addr_ntoa_r(&last.netmask, a, sizeof(a)), "255.255.255.0");
    struct net_status st;
    net_status(&st);
    assert_true(st.link_up);
    assert_string_equal(ipaddr_ntoa_r(&st.dns[0], a, sizeof(a)), "10.0.2.3");
    uint8_t mac[6];
    hal_eth_mac(mac);
    assert_memory_equal(st.mac, mac, 6);
    /* IPv6: link-local, then SLAAC from the router's fec0::/64 prefix,
     * each once duplicate-address detection is over. */
    assert_true(loop_until(have_ipv6, 60000));
    net_status(&st);
    int slaac = 0;
    for (int i = 0; i < st.ipv6_count; i++)
        slaac |= ip6addr_ntoa_r(&st.ipv6[i], a, sizeof(a)) && strncmp(a, "FEC0::", 6) == 0;
    for (int i = 0; i < st.ipv6_count && !slaac; i++)
        print_message("ipv6 %s\n", ip6addr_ntoa_r(&st.ipv6[i], a, sizeof(a)));
    assert_true(slaac);
}

static void test_frame_limits(void **state)
{
    (void)state;
    uint8_t big[HAL_ETH_FRAME_MAX + 1];
    memset(big, 0, sizeof(big));
    assert_int_equal(hal_eth_send(big, sizeof(big)), PB_EINVAL);
    assert_int_equal(hal_eth_send(big, 0), PB_EINVAL);
}

/* --- an echo server on the appliance's port 25, a host client --- */

#define ECHO_BYTES (256 * 1024)

static struct altcp_pcb *listener, *server;
static size_t echoed;
static int server_closed;

static err_t echo_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg;
    (void)err;
    if (!p) {
        altcp_arg(pcb, NULL);
        altcp_recv(pcb, NULL);
        altcp_close(pcb);
        server = NULL;
        server_closed = 1;
        return ERR_OK;
    }
    /* Echo what fits; the window (altcp_recved) only opens for what went out. */
    for (struct pbuf *q = p; q; q = q->next) {
        err_t e = altcp_write(pcb, q->payload, q->len, TCP_WRITE_FLAG_COPY);
        assert_int_equal(e, ERR_OK);
    }
    altcp_output(pcb);
    altcp_recved(pcb, p->tot_len);
    echoed += p->tot_len;
    pbuf_free(p);               /* we own p once recv returns ERR_OK */
    return ERR_OK;
}

static err_t echo_accept(void *arg, struct altcp_pcb *pcb, err_t err)
{
    (void)arg;
    assert_int_equal(err, ERR_OK);
    server = pcb;
    altcp_recv(pcb, echo_recv);
    return ERR_OK;
}

static int client_fd = -1;
static size_t sent, got;
static uint8_t pattern[ECHO_BYTES];
static int mismatch;

static int echo_done(void)
{
    uint8_t buf[8192];
    if (sent < sizeof(pattern)) {
        size_t chunk = sizeof(pattern) - sent < 4096 ? sizeof(pattern) - sent : 4096;
        ssize_t n = write(client_fd, pattern + sent, chunk);
        if (n > 0)
            sent += (size_t)n;
    }
    ssize_t n = read(client_fd, buf, sizeof(buf));
    if (n > 0) {
        if (memcmp(buf, pattern + got, (size_t)n) != 0)
            mismatch = 1;
        got += (size_t)n;
    }
    return got == sizeof(pattern);
}

static int server_gone(void)
{
    return server_closed;
}

static void test_tcp_through_port_forward(void **state)
{
    (void)state;
    u16_t before[MEMP_MAX];
    for (int i = 0; i < MEMP_MAX; i++)
        before[i] = lwip_stats.memp[i]->used;

    struct altcp_pcb *l = altcp_tcp_new_ip_type(IPADDR_TYPE_ANY);
    assert_non_null(l);
    assert_int_equal(altcp_bind(l, IP_ANY_TYPE, 25), ERR_OK);
    listener = altcp_listen(l);
    assert_non_null(listener);
    altcp_accept(listener, echo_accept);

    for (size_t i = 0; i < sizeof(pattern); i++)
        pattern[i] = (uint8_t)(i * 131 + (i >> 9));

    client_fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(client_fd >= 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)(offset + 25)) };
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(connect(client_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    fcntl(client_fd, F_SETFL, O_NONBLOCK);

    assert_true(loop_until(echo_done, 60000));
    assert_false(mismatch);
    assert_int_equal(echoed, sizeof(pattern));

    close(client_fd);
    assert_true(loop_until(server_gone, 30000));
    altcp_close(listener);
    /* A TIME_WAIT pcb, and the TCP timer that ages it, may linger. */
    for (int i = 0; i < MEMP_MAX; i++) {
        if (i == MEMP_TCP_PCB || i == MEMP_SYS_TIMEOUT)
            continue;
        if (lwip_stats.memp[i]->used != before[i])
            print_error("pool %s: %u in use, %u before\n", lwip_stats.memp[i]->name,
                        lwip_stats.memp[i]->used, before[i]);
        assert_int_equal(lwip_stats.memp[i]->used, before[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dhcp_lease),
        cmocka_unit_test(test_frame_limits),
        cmocka_unit_test(test_tcp_through_port_forward),
    };
    return cmocka_run_group_tests_name("net", tests, group_setup, NULL);
}
