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

/* Work of the services that is not driven by the network (the outbound
 * queue runner); returns 1 when it did something. */
int services_poll(void);

#endif
