/*
 * sim_eth.c - Ethernet over libslirp (see sim_eth.h).
 *
 * slirp calls send_packet for every frame it has for the appliance; those
 * are queued in a ring that hal_eth_recv() drains.  Frames the appliance
 * sends go straight into slirp_input().
 */
#include "sim_eth.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <slirp/libslirp.h>

#include "hal_clock.h"
#include "hal_eth.h"
#include "pb_err.h"

#define SIM_ETH_RING   128          /* frames buffered toward the appliance */
#define SIM_ETH_TIMERS 16

struct sim_eth_frame {
    uint16_t len;
    uint8_t data[HAL_ETH_FRAME_MAX];
};

struct sim_eth_timer {
    int used;
    int armed;
    int64_t expire_ms;
    SlirpTimerId id;
    void *cb_opaque;
};

static struct {
    Slirp *slirp;
    struct sim_eth_frame ring[SIM_ETH_RING];
    unsigned head, tail;            /* head: next to read; tail: next to write */
    unsigned long dropped;
    struct sim_eth_timer timers[SIM_ETH_TIMERS];
    struct pollfd *pfds;            /* valid during sim_eth_poll_fill/done */
    int pfd_base, pfd_n, pfd_max;
} sim_eth;

static const uint8_t sim_eth_mac_addr[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static int64_t sim_eth_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---------------------------------------------------- slirp callbacks --- */

static ssize_t sim_eth_cb_send(const void *buf, size_t len, void *opaque)
{
    (void)opaque;
    unsigned next = (sim_eth.tail + 1) % SIM_ETH_RING;
    if (len > HAL_ETH_FRAME_MAX || next == sim_eth.head) {
        /* The appliance is not keeping up: drop, as a real NIC would;
         * TCP retransmits. */
        sim_eth.dropped++;
        return (ssize_t)len;
    }
    sim_eth.ring[sim_eth.tail].len = (uint16_t)len;
    memcpy(sim_eth.ring[sim_eth.tail].data, buf, len);
    sim_eth.tail = next;
    return (ssize_t)len;
}

static void sim_eth_cb_guest_error(const char *msg, void *opaque)
{
    (void)opaque;
    fprintf(stderr, "sim: network: %s\n", msg);
}

static int64_t sim_eth_cb_clock(void *opaque)
{
    (void)opaque;
    return sim_eth_now_ns();
}

static void *sim_eth_cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
    (void)opaque;
    for (int i = 0; i < SIM_ETH_TIMERS; i++) {
        struct sim_eth_timer *t = &sim_eth.timers[i];
        if (!t->used) {
            memset(t, 0, sizeof(*t));
            t->used = 1;
            t->id = id;
            t->cb_opaque = cb_opaque;
            return t;
        }
    }
    fprintf(stderr, "sim: network: out of timers\n");
    abort();
}

static void sim_eth_cb_timer_free(void *timer, void *opaque)
{
    (void)opaque;
    struct sim_eth_timer *t = timer;
    t->used = 0;
    t->armed = 0;
}

static void sim_eth_cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    (void)opaque;
    struct sim_eth_timer *t = timer;
    t->expire_ms = expire_ms;
    t->armed = 1;
}

static void sim_eth_cb_register_fd(int fd, void *opaque)
{
    (void)fd;
    (void)opaque;
}

static void sim_eth_cb_notify(void *opaque)
{
    (void)opaque;
}

static const SlirpCb sim_eth_callbacks = {
    .send_packet = sim_eth_cb_send,
    .guest_error = sim_eth_cb_guest_error,
    .clock_get_ns = sim_eth_cb_clock,
    .timer_free = sim_eth_cb_timer_free,
    .timer_mod = sim_eth_cb_timer_mod,
    .register_poll_fd = sim_eth_cb_register_fd,
    .unregister_poll_fd = sim_eth_cb_register_fd,
    .notify = sim_eth_cb_notify,
    .timer_new_opaque = sim_eth_cb_timer_new_opaque,
};

/* libslirp listens on the forwarded host ports with a backlog of 1, so
 * when several clients connect at once the host kernel drops their SYNs
 * and they retry a second later: 10 parallel SMTP sessions ran 6 times
 * slower than 3.  A real board has no such queue in front of lwIP (its
 * own accept is immediate), so the sim widens the backlog of slirp's
 * listening sockets (listen() again on a listening socket only changes
 * its backlog). */
static void sim_eth_widen_backlog(void)
{
    for (int fd = 3; fd < 1024; fd++) {
        int on = 0;
        socklen_t len = sizeof(on);
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on)
            listen(fd, 64);
    }
}

/* ------------------------------------------------------------- polling --- */

static int sim_eth_add_poll(int fd, int events, void *opaque)
{
    (void)opaque;
    if (sim_eth.pfd_n >= sim_eth.pfd_max)
        return -1;
    short ev = 0;
    if (events & SLIRP_POLL_IN)
        ev |= POLLIN;
    if (events & SLIRP_POLL_OUT)
        ev |= POLLOUT;
    if (events & SLIRP_POLL_PRI)
        ev |= POLLPRI;
    int idx = sim_eth.pfd_n++;
    sim_eth.pfds[sim_eth.pfd_base + idx] = (struct pollfd){ .fd = fd, .events = ev };
    return idx;
}

static int sim_eth_get_revents(int idx, void *opaque)
{
    (void)opaque;
    if (idx < 0 || idx >= sim_eth.pfd_n)
        return 0;
    short re = sim_eth.pfds[sim_eth.pfd_base + idx].revents;
    int r = 0;
    if (re & POLLIN)
        r |= SLIRP_POLL_IN;
    if (re & POLLOUT)
        r |= SLIRP_POLL_OUT;
    if (re & POLLPRI)
        r |= SLIRP_POLL_PRI;
    if (re & POLLERR)
        r |= SLIRP_POLL_ERR;
    if (re & POLLHUP)
        r |= SLIRP_POLL_HUP;
    return r;
}

void sim_eth_poll_fill(struct pollfd *fds, int *n, int max, uint32_t *timeout_ms)
{
    if (!sim_eth.slirp)
        return;
    sim_eth.pfds = fds;
    sim_eth.pfd_base = *n;
    sim_eth.pfd_n = 0;
    sim_eth.pfd_max = max - *n;
    slirp_pollfds_fill(sim_eth.slirp, timeout_ms, sim_eth_add_poll, NULL);
    /* Frames slirp queued while the appliance was sending (ACKs, window
     * updates) are as good as an interrupt on a real NIC: handle them now
     * rather than at the next timer.  Without this, a long FETCH or RETR
     * advanced one send window per lwIP timer tick. */
    if (sim_eth.head != sim_eth.tail)
        *timeout_ms = 0;

    int64_t now = sim_eth_now_ns() / 1000000;
    for (int i = 0; i < SIM_ETH_TIMERS; i++) {
        struct sim_eth_timer *t = &sim_eth.timers[i];
        if (t->used && t->armed) {
            int64_t left = t->expire_ms - now;
            if (left < 0)
                left = 0;
            if ((uint64_t)left < *timeout_ms)
                *timeout_ms = (uint32_t)left;
        }
    }
    *n += sim_eth.pfd_n;
}

void sim_eth_poll_done(struct pollfd *fds, int n, int error)
{
    (void)n;
    if (!sim_eth.slirp)
        return;
    sim_eth.pfds = fds;
    slirp_pollfds_poll(sim_eth.slirp, error, sim_eth_get_revents, NULL);

    int64_t now = sim_eth_now_ns() / 1000000;
    for (int i = 0; i < SIM_ETH_TIMERS; i++) {
        struct sim_eth_timer *t = &sim_eth.timers[i];
        if (t->used && t->armed && t->expire_ms <= now) {
            t->armed = 0;
            slirp_handle_timer(sim_eth.slirp, t->id, t->cb_opaque);
        }
    }
}

/* ------------------------------------------------------------ hal_eth --- */

int hal_eth_send(const void *frame, size_t len)
{
    if (len == 0 || len > HAL_ETH_FRAME_MAX)
        return PB_EINVAL;
    if (sim_eth.slirp)
        slirp_input(sim_eth.slirp, frame, (int)len);
    return 0;
}

int hal_eth_recv(void *buf, size_t cap)
{
    if (sim_eth.head == sim_eth.tail)
        return 0;
    struct sim_eth_frame *fr = &sim_eth.ring[sim_eth.head];
    sim_eth.head = (sim_eth.head + 1) % SIM_ETH_RING;
    if (fr->len > cap)
        return PB_ERANGE;
    memcpy(buf, fr->data, fr->len);
    return fr->len;
}

void hal_eth_mac(uint8_t mac[6])
{
    memcpy(mac, sim_eth_mac_addr, 6);
}

bool hal_eth_link_up(void)
{
    return sim_eth.slirp != NULL;
}

/* --------------------------------------------------------------- setup --- */

static const int sim_eth_service_ports[] = { 25, 587, 465, 143, 993, 110, 995, 80, 443 };

int sim_eth_init(unsigned port_offset, const struct sim_eth_guestfwd *fwd,
                 int nfwd, const char *relay_exe)
{
    SlirpConfig cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.version = 4;
    cfg.in_enabled = true;
    inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
    inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
    inet_pton(AF_INET, "10.0.2.2", &cfg.vhost);
    inet_pton(AF_INET, "10.0.2.15", &cfg.vdhcp_start);
    inet_pton(AF_INET, "10.0.2.3", &cfg.vnameserver);
    cfg.in6_enabled = true;
    inet_pton(AF_INET6, "fec0::", &cfg.vprefix_addr6);
    cfg.vprefix_len = 64;
    inet_pton(AF_INET6, "fec0::2", &cfg.vhost6);
    inet_pton(AF_INET6, "fec0::3", &cfg.vnameserver6);
    cfg.vhostname = "pillarbox-host";
    cfg.if_mtu = 1500;
    cfg.if_mru = 1500;

    sim_eth.slirp = slirp_new(&cfg, &sim_eth_callbacks, NULL);
    if (!sim_eth.slirp) {
        fprintf(stderr, "sim: could not start the virtual network\n");
        return PB_EIO;
    }

    struct in_addr lo, guest;
    inet_pton(AF_INET, "127.0.0.1", &lo);
    inet_pton(AF_INET, "10.0.2.15", &guest);
    for (size_t i = 0; i < sizeof(sim_eth_service_ports) / sizeof(sim_eth_service_ports[0]); i++) {
        int gp = sim_eth_service_ports[i];
        unsigned hp = port_offset + (unsigned)gp;
        if (hp > 65535 || slirp_add_hostfwd(sim_eth.slirp, 0, lo, (int)hp, guest, gp) < 0) {
            fprintf(stderr, "sim: cannot listen on 127.0.0.1:%u for port %d (in use? try --port-offset)\n",
                    hp, gp);
            return PB_EBUSY;
        }
    }

    sim_eth_widen_backlog();

    for (int i = 0; i < nfwd; i++) {
        struct in_addr ga;
        char cmd[512];
        if (inet_pton(AF_INET, fwd[i].guest_ip, &ga) != 1)
            return PB_EINVAL;
        snprintf(cmd, sizeof(cmd), "'%s' --relay %s", relay_exe, fwd[i].host);
        if (slirp_add_exec(sim_eth.slirp, cmd, &ga, fwd[i].guest_port) < 0) {
            fprintf(stderr, "sim: cannot forward %s:%d (must be inside 10.0.2.0/24)\n",
                    fwd[i].guest_ip, fwd[i].guest_port);
            return PB_EINVAL;
        }
    }
    return 0;
}

void sim_eth_shutdown(void)
{
    if (sim_eth.slirp)
        slirp_cleanup(sim_eth.slirp);
    sim_eth.slirp = NULL;
}

/* ---------------------------------------------------------- relay mode --- */

static int sim_eth_copy(int from, int to)
{
    char buf[16384];
    ssize_t n = read(from, buf, sizeof(buf));
    if (n <= 0)
        return -1;
    for (ssize_t off = 0; off < n;) {
        ssize_t w = write(to, buf + off, (size_t)(n - off));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        off += w;
    }
    return 0;
}

int sim_eth_relay(const char *hostport)
{
    char host[64];
    const char *colon = strrchr(hostport, ':');
    if (!colon || (size_t)(colon - hostport) >= sizeof(host))
        return 2;
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = '\0';

    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
    if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
        return 2;
    int s = socket(ai->ai_family, SOCK_STREAM, 0);
    if (s < 0 || connect(s, ai->ai_addr, ai->ai_addrlen) < 0) {
        freeaddrinfo(ai);
        return 1;
    }
    freeaddrinfo(ai);

    struct pollfd p[2] = { { .fd = 0, .events = POLLIN }, { .fd = s, .events = POLLIN } };
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if ((p[0].revents & (POLLIN | POLLHUP)) && sim_eth_copy(0, s) < 0)
            break;
        if ((p[1].revents & (POLLIN | POLLHUP)) && sim_eth_copy(s, 1) < 0)
            break;
    }
    shutdown(s, SHUT_RDWR);
    close(s);
    return 0;
}
