/*
 * services.h - starting the appliance's network services.
 */
#ifndef SERVICES_H
#define SERVICES_H

#include "identity.h"

/* Open the listeners of every service (called once the network is up).
 * id is the appliance's TLS identity, or NULL when none could be made (TLS
 * services then stay closed and say so in the log).  Returns the number of
 * listeners opened, or a negative PB_E*. */
int services_start(const struct identity *id);

/* The settings changed (config.h): running services take the new limits
 * (message size, timeouts) from now on. */
void services_apply_config(void);

/* Present id (copied) on every TLS service from now on, without a
 * restart: new connections and STARTTLS upgrades use it, connections
 * already open keep the previous certificate until they end (its memory
 * is given back then).  Returns 0, PB_ENOTSUP (the TLS services never
 * started: restart), PB_EBUSY (a previous swap's certificate is still used
 * by an open connection: at most two configurations exist at once),
 * PB_ENOMEM (the TLS arena cannot hold a second configuration now) or
 * PB_EINVAL; nothing changes then. */
int services_tls_swap(const struct identity *id);

/* The identity the TLS services present now, or NULL. */
const struct identity *services_identity(void);

/* Work of the services that is not driven by the network (the outbound
 * queue runner); returns 1 when it did something. */
int services_poll(void);

#endif
