/*
 * config.c - the appliance's settings (see config.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "address.h"
#include "auth_guard.h"
#include "pb_err.h"
#include "smtp_relay.h"
#include "storage.h"

static struct config config_state;

void config_init(void)
{
    memset(&config_state, 0, sizeof(config_state));
    strcpy(config_state.hostname, "pillarbox");
    config_state.net.dhcp = true;
    strcpy(config_state.net.hostname, config_state.hostname);
    config_state.smtp.max_size = CONFIG_SMTP_SIZE_DEFAULT;
    config_state.smtp.timeout = CONFIG_SMTP_TIMEOUT_MIN;
    config_state.smtp.require_rdns = false;
    config_state.queue_lifetime = CONFIG_LIFETIME_DEFAULT;
    config_state.auth_max_failures = CONFIG_AUTH_FAILS_DEFAULT;
    config_state.auth_lockout = CONFIG_AUTH_LOCKOUT_DEFAULT;
    auth_guard_set_limits(config_state.auth_max_failures, config_state.auth_lockout * 1000u);
    config_state.queue_delay_notice = CONFIG_DELAY_NOTICE_DEFAULT;
    smtp_relay_set_delay_notice(config_state.queue_delay_notice);
}

/* "ADDR/PREFIX GATEWAY" into a static configuration; false if it is not
 * one that can work (see config.h). */
static bool config_parse_ip(const char *text, struct net_config *net)
{
    char a[16], g[16];
    unsigned prefix;
    char extra;
    if (sscanf(text, "%15[0-9.]/%u %15[0-9.] %c", a, &prefix, g, &extra) != 3)
        return false;
    ip4_addr_t addr, gw;
    if (!ip4addr_aton(a, &addr) || !ip4addr_aton(g, &gw) || prefix < 1 || prefix > 30)
        return false;
    uint32_t mask = 0xffffffffu << (32 - prefix);
    uint32_t ha = lwip_ntohl(ip4_addr_get_u32(&addr)), hg = lwip_ntohl(ip4_addr_get_u32(&gw));
    uint32_t host = ha & ~mask, ghost = hg & ~mask;
    if (host == 0 || host == ~mask || (ha & mask) != (hg & mask) || ghost == 0 || ghost == ~mask ||
        ha == hg || (ha >> 24) == 0 || (ha >> 24) == 127 || (ha >> 24) >= 224)
        return false;
    net->dhcp = false;
    net->addr = addr;
    net->gateway = gw;
    ip4_addr_set_u32(&net->netmask, lwip_htonl(mask));
    return true;
}

void config_ip_text(const struct net_config *net, char *buf, size_t cap)
{
    if (net->dhcp) {
        snprintf(buf, cap, "dhcp");
        return;
    }
    char a[IP4ADDR_STRLEN_MAX], g[IP4ADDR_STRLEN_MAX];
    uint32_t mask = lwip_ntohl(ip4_addr_get_u32(&net->netmask));
    unsigned prefix = 0;
    while (prefix < 32 && (mask & (0x80000000u >> prefix)))
        prefix++;
    ip4addr_ntoa_r(&net->addr, a, sizeof(a));
    ip4addr_ntoa_r(&net->gateway, g, sizeof(g));
    snprintf(buf, cap, "%s/%u %s", a, prefix, g);
}

/* Settings kept as 32-bit numbers ("smtp.max-size", ...). */
static int config_load_u32(struct store *s, const char *key, uint32_t lo, uint32_t hi, uint32_t *out)
{
    uint8_t b[4];
    enum store_type type;
    int n = store_setting_get(s, key, &type, b, sizeof(b));
    if (n == PB_ENOENT)
        return 0;
    if (n < 0)
        return n;
    uint32_t v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    if (type != STORE_T_U32 || n != 4 || v < lo || v > hi)
        return PB_ECORRUPT;
    *out = v;
    return 0;
}

static int config_save(const char *key, enum store_type type, const void *value, size_t len)
{
    struct store *s = storage_get();
    if (!s)
        return 0;
    /* On flash first: the change exists once the commit returned. */
    struct store_txn *t;
    int err = store_txn_begin(s, &t);
    if (err)
        return err;
    if ((err = store_setting_set(t, key, type, value, len))) {
        store_txn_abort(t);
        return err;
    }
    return store_txn_commit(t);
}

static int config_save_u32(const char *key, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    return config_save(key, STORE_T_U32, b, sizeof(b));
}

int config_set_smtp_max_size(uint32_t bytes)
{
    if (bytes < CONFIG_SMTP_SIZE_MIN || bytes > CONFIG_SMTP_SIZE_MAX)
        return PB_ERANGE;
    int err = config_save_u32("smtp.max-size", bytes);
    if (!err)
        config_state.smtp.max_size = bytes;
    return err;
}

int config_set_smtp_timeout(uint32_t seconds)
{
    if (seconds < CONFIG_SMTP_TIMEOUT_MIN || seconds > CONFIG_SMTP_TIMEOUT_MAX)
        return PB_ERANGE;
    int err = config_save_u32("smtp.timeout", seconds);
    if (!err)
        config_state.smtp.timeout = seconds;
    return err;
}

int config_set_submission_hide_client(bool on)
{
    int err = config_save_u32("submission.hide-client", on ? 1u : 0u);
    if (!err)
        config_state.smtp.hide_client = on;
    return err;
}

int config_set_smtp_require_rdns(bool on)
{
    int err = config_save_u32("smtp.require-rdns", on ? 1u : 0u);
    if (!err)
        config_state.smtp.require_rdns = on;
    return err;
}

int config_load(void)
{
    struct store *s = storage_get();
    char name[NET_HOSTNAME_MAX + 1];
    if (!s)
        return PB_ENOTSUP;
    /* Each setting on its own: one that cannot be read keeps its default
     * and the others still load; the first error is returned. */
    uint32_t rdns = 0;
    int e1 = config_load_u32(s, "smtp.max-size", CONFIG_SMTP_SIZE_MIN, CONFIG_SMTP_SIZE_MAX,
                             &config_state.smtp.max_size);
    int e2 = config_load_u32(s, "smtp.timeout", CONFIG_SMTP_TIMEOUT_MIN, CONFIG_SMTP_TIMEOUT_MAX,
                             &config_state.smtp.timeout);
    int e3 = config_load_u32(s, "smtp.require-rdns", 0, 1, &rdns);
    config_state.smtp.require_rdns = rdns != 0;
    uint32_t hide = 0;
    int e4 = config_load_u32(s, "submission.hide-client", 0, 1, &hide);
    config_state.smtp.hide_client = hide != 0;
    int e5 = config_load_u32(s, "queue.lifetime", CONFIG_LIFETIME_MIN, CONFIG_LIFETIME_MAX,
                             &config_state.queue_lifetime);
    int en = config_load_u32(s, "queue.delay-notice", 0, CONFIG_LIFETIME_MAX, &config_state.queue_delay_notice);
    smtp_relay_set_delay_notice(config_state.queue_delay_notice);
    int first = e1 ? e1 : e2 ? e2 : e3 ? e3 : e4 ? e4 : e5 ? e5 : en;
    int e7 = config_load_u32(s, "auth.max-failures", AUTH_GUARD_FAILS_MIN, AUTH_GUARD_FAILS_MAX,
                             &config_state.auth_max_failures);
    int e8 = config_load_u32(s, "auth.lockout", CONFIG_AUTH_LOCKOUT_MIN, CONFIG_AUTH_LOCKOUT_MAX,
                             &config_state.auth_lockout);
    if (!first)
        first = e7 ? e7 : e8;
    auth_guard_set_limits(config_state.auth_max_failures, config_state.auth_lockout * 1000u);
    char ip[CONFIG_IP_TEXT_MAX + 1];
    int in = store_setting_get(s, "net.ipv4", NULL, ip, sizeof(ip) - 1);
    if (in >= 0) {
        ip[in] = '\0';
        struct net_config net = config_state.net;
        if (strcmp(ip, "dhcp") == 0)
            config_state.net.dhcp = true;
        else if (config_parse_ip(ip, &net))
            config_state.net = net;
        else if (!first)
            first = PB_ECORRUPT;
    } else if (in != PB_ENOENT && !first) {
        first = in;
    }
    char relay[CONFIG_RELAYHOST_MAX + 1];
    int rn = store_setting_get(s, "relayhost", NULL, relay, sizeof(relay) - 1);
    if (rn >= 0) {
        relay[rn] = '\0';
        if (smtp_relay_host_valid(relay) == 0)
            strcpy(config_state.relayhost, relay);
        else if (!first)
            first = PB_ECORRUPT;
    } else if (rn != PB_ENOENT && !first) {
        first = rn;
    }
    uint32_t implicit = 0;
    int e6 = config_load_u32(s, "relayhost.tls", 0, 1, &implicit);
    config_state.relay_implicit = implicit != 0;
    if (e6 && !first)
        first = e6;
    char user[SASL_CRED_MAX + 1], pass[SASL_CRED_MAX + 1], fpr[CONFIG_FINGERPRINT_MAX + 1];
    int un = store_setting_get(s, "relayhost.user", NULL, user, sizeof(user) - 1);
    int pn = store_setting_get(s, "relayhost.pass", NULL, pass, sizeof(pass) - 1);
    if (un >= 0 && pn >= 0) {
        user[un] = '\0';
        pass[pn] = '\0';
        strcpy(config_state.relay_user, user);
        strcpy(config_state.relay_pass, pass);
    } else if (un != PB_ENOENT && !first) {
        first = un < 0 ? un : pn;
    }
    int fn = store_setting_get(s, "relayhost.fingerprint", NULL, fpr, sizeof(fpr) - 1);
    if (fn >= 0) {
        fpr[fn] = '\0';
        if (!fn || smtp_relay_fingerprint_valid(fpr) == 0)
            strcpy(config_state.relay_fpr, fpr);
        else if (!first)
            first = PB_ECORRUPT;
    } else if (fn != PB_ENOENT && !first) {
        first = fn;
    }
    char dns[DNS_SERVERS_TEXT_MAX];
    int n = store_setting_get(s, "dns", NULL, dns, sizeof(dns) - 1);
    if (n >= 0) {
        dns[n] = '\0';
        if (dns_servers_valid(dns) == 0)
            strcpy(config_state.dns, dns);
        else if (!first)
            first = PB_ECORRUPT;
    } else if (n != PB_ENOENT && !first) {
        first = n;
    }
    n = store_setting_get(s, "hostname", NULL, name, NET_HOSTNAME_MAX);
    if (n == PB_ENOENT)
        return first;
    if (n < 0)
        return first ? first : n;
    name[n] = '\0';
    if (!config_hostname_valid(name))
        return first ? first : PB_ECORRUPT;
    strcpy(config_state.hostname, name);
    strcpy(config_state.net.hostname, name);
    return first;
}

const struct config *config_get(void)
{
    return &config_state;
}

int config_hostname_valid(const char *name)
{
    /* A hostname is a domain name in LDH form: mail/ checks those. */
    size_t total = strlen(name);
    return total > 0 && total <= NET_HOSTNAME_MAX && mail_address_domain_valid(name, false);
}

int config_set_dns(const char *list)
{
    int err = dns_servers_valid(list);
    if (err)
        return err;
    if (strlen(list) >= sizeof(config_state.dns))
        return PB_ERANGE;
    const char *value = strcmp(list, "auto") == 0 ? "" : list;
    if ((err = config_save("dns", STORE_T_STR, value, strlen(value))))
        return err;
    strcpy(config_state.dns, value);
    return dns_set_servers(value);
}

int config_set_relayhost(const char *spec)
{
    const char *value = strcmp(spec, "off") == 0 ? "" : spec;
    if (strlen(value) > CONFIG_RELAYHOST_MAX || smtp_relay_host_valid(value) != 0)
        return PB_EINVAL;
    int err = config_save("relayhost", STORE_T_STR, value, strlen(value));
    if (err)
        return err;
    strcpy(config_state.relayhost, value);
    return 0;
}

int config_set_relayhost_auth(const char *user, const char *pass)
{
    bool off = strcmp(user, "off") == 0 || !*user;
    if (!off && (!pass || !*pass || strlen(user) > SASL_CRED_MAX || strlen(pass) > SASL_CRED_MAX))
        return PB_EINVAL;
    const char *u = off ? "" : user, *p = off ? "" : pass;
    struct store *s = storage_get();
    if (s) {
        struct store_txn *t;
        int err = store_txn_begin(s, &t);
        if (err)
            return err;
        if ((err = store_setting_set(t, "relayhost.user", STORE_T_STR, u, strlen(u))) ||
            (err = store_setting_set(t, "relayhost.pass", STORE_T_STR, p, strlen(p)))) {
            store_txn_abort(t);
            return err;
        }
        if ((err = store_txn_commit(t)))
            return err;
    }
    strcpy(config_state.relay_user, u);
    strcpy(config_state.relay_pass, p);
    return 0;
}

int config_set_relayhost_tls(const char *mode)
{
    bool implicit;
    if (strcmp(mode, "starttls") == 0)
        implicit = false;
    else if (strcmp(mode, "implicit") == 0)
        implicit = true;
    else
        return PB_EINVAL;
    int err = config_save_u32("relayhost.tls", implicit);
    if (err)
        return err;
    config_state.relay_implicit = implicit;
    return 0;
}

int config_set_relayhost_fingerprint(const char *hex)
{
    bool off = strcmp(hex, "off") == 0 || !*hex;
    if (!off && (strlen(hex) > CONFIG_FINGERPRINT_MAX || smtp_relay_fingerprint_valid(hex) != 0))
        return PB_EINVAL;
    const char *v = off ? "" : hex;
    int err = config_save("relayhost.fingerprint", STORE_T_STR, v, strlen(v));
    if (err)
        return err;
    strcpy(config_state.relay_fpr, v);
    return 0;
}

int config_set_queue_lifetime(uint32_t seconds)
{
    if (seconds < CONFIG_LIFETIME_MIN || seconds > CONFIG_LIFETIME_MAX)
        return PB_ERANGE;
    int err = config_save_u32("queue.lifetime", seconds);
    if (!err)
        config_state.queue_lifetime = seconds;
    return err;
}

int config_set_queue_delay_notice(uint32_t seconds)
{
    if (seconds > CONFIG_LIFETIME_MAX)
        return PB_ERANGE;
    int err = config_save_u32("queue.delay-notice", seconds);
    if (!err) {
        config_state.queue_delay_notice = seconds;
        smtp_relay_set_delay_notice(seconds);
    }
    return err;
}

int config_set_hostname(const char *name)
{
    if (!config_hostname_valid(name))
        return PB_EINVAL;
    int err = config_save("hostname", STORE_T_STR, name, strlen(name));
    if (err)
        return err;
    strcpy(config_state.hostname, name);
    strcpy(config_state.net.hostname, name);
    return 0;
}

int config_set_auth_max_failures(uint32_t n)
{
    if (n < AUTH_GUARD_FAILS_MIN || n > AUTH_GUARD_FAILS_MAX)
        return PB_ERANGE;
    int err = config_save_u32("auth.max-failures", n);
    if (err)
        return err;
    config_state.auth_max_failures = n;
    return auth_guard_set_limits(n, config_state.auth_lockout * 1000u);
}

int config_set_auth_lockout(uint32_t seconds)
{
    if (seconds < CONFIG_AUTH_LOCKOUT_MIN || seconds > CONFIG_AUTH_LOCKOUT_MAX)
        return PB_ERANGE;
    int err = config_save_u32("auth.lockout", seconds);
    if (err)
        return err;
    config_state.auth_lockout = seconds;
    return auth_guard_set_limits(config_state.auth_max_failures, seconds * 1000u);
}

int config_set_ip(const char *text)
{
    struct net_config net = config_state.net;
    char canon[CONFIG_IP_TEXT_MAX + 1];
    if (strcmp(text, "dhcp") == 0)
        net.dhcp = true;
    else if (strlen(text) > CONFIG_IP_TEXT_MAX || !config_parse_ip(text, &net))
        return PB_EINVAL;
    config_ip_text(&net, canon, sizeof(canon));
    int err = config_save("net.ipv4", STORE_T_STR, canon, strlen(canon));
    if (err)
        return err;
    config_state.net = net;
    return 0;
}
