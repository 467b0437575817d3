/*
 * config.c - the appliance's settings (see config.h).
 */
#include "config.h"

#include <string.h>

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
    int n = store_setting_get(s, "hostname", NULL, name, NET_HOSTNAME_MAX);
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

static int config_is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int config_hostname_valid(const char *name)
{
    size_t total = strlen(name);
    if (total == 0 || total > NET_HOSTNAME_MAX)
        return 0;
    size_t label = 0;
    for (size_t i = 0; i <= total; i++) {
        char c = name[i];
        if (c == '.' || c == '\0') {
            if (label == 0 || label > 63 || name[i - 1] == '-')
                return 0;
            label = 0;
            continue;
        }
        if (!config_is_alnum(c) && c != '-')
            return 0;
        if (label == 0 && c == '-')
            return 0;
        label++;
    }
    return 1;
}

int config_set_hostname(const char *name)
{
    if (!config_hostname_valid(name))
        return PB_EINVAL;
    struct store *s = storage_get();
    if (s) {
        /* On flash first: the change exists once the commit returned. */
        struct store_txn *t;
        int err = store_txn_begin(s, &t);
        if (err)
            return err;
        if ((err = store_setting_set(t, "hostname", STORE_T_STR, name, strlen(name)))) {
            store_txn_abort(t);
            return err;
        }
        if ((err = store_txn_commit(t)))
            return err;
    }
    strcpy(config_state.hostname, name);
    strcpy(config_state.net.hostname, name);
    return 0;
}
