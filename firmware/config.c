/*
 * config.c - the appliance's settings (see config.h).
 */
#include "config.h"

#include <string.h>

#include "address.h"
#include "pb_err.h"
#include "storage.h"

static struct config config_state;

void config_init(void)
{
    memset(&config_state, 0, sizeof(config_state));
    strcpy(config_state.hostname, "pillarbox");
    config_state.net.dhcp = true;
    strcpy(config_state.net.hostname, config_state.hostname);
}

int config_load(void)
{
    struct store *s = storage_get();
    char name[NET_HOSTNAME_MAX + 1];
    if (!s)
        return PB_ENOTSUP;
    char dns[DNS_SERVERS_TEXT_MAX];
    int n = store_setting_get(s, "dns", NULL, dns, sizeof(dns) - 1);
    if (n >= 0) {
        dns[n] = '\0';
        if (dns_servers_valid(dns) != 0)
            return PB_ECORRUPT;
        strcpy(config_state.dns, dns);
    } else if (n != PB_ENOENT) {
        return n;
    }
    n = store_setting_get(s, "hostname", NULL, name, NET_HOSTNAME_MAX);
    if (n == PB_ENOENT)
        return 0;
    if (n < 0)
        return n;
    name[n] = '\0';
    if (!config_hostname_valid(name))
        return PB_ECORRUPT;
    strcpy(config_state.hostname, name);
    strcpy(config_state.net.hostname, name);
    return 0;
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

/* One setting on flash: the change exists once the commit returned. */
static int config_store(const char *key, const char *value)
{
    struct store *s = storage_get();
    if (!s)
        return 0;
    struct store_txn *t;
    int err = store_txn_begin(s, &t);
    if (err)
        return err;
    if ((err = store_setting_set(t, key, STORE_T_STR, value, strlen(value)))) {
        store_txn_abort(t);
        return err;
    }
    return store_txn_commit(t);
}

int config_set_dns(const char *list)
{
    int err = dns_servers_valid(list);
    if (err)
        return err;
    if (strlen(list) >= sizeof(config_state.dns))
        return PB_ERANGE;
    const char *value = strcmp(list, "auto") == 0 ? "" : list;
    if ((err = config_store("dns", value)))
        return err;
    strcpy(config_state.dns, value);
    return dns_set_servers(value);
}

int config_set_hostname(const char *name)
{
    if (!config_hostname_valid(name))
        return PB_EINVAL;
    int err = config_store("hostname", name);
    if (err)
        return err;
    strcpy(config_state.hostname, name);
    strcpy(config_state.net.hostname, name);
    return 0;
}
