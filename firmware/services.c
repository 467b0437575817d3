/*
 * services.c - the appliance's network services (see services.h).
 *
 * SMTP on port 25 (the office's MX, STARTTLS with the appliance identity)
 * delivers into the store.  UNFINISHED: submission (587, 465), IMAP (143,
 * 993), POP3 (110, 995) and the web page (80, 443) are opened here by
 * their own issues.
 */
#include "services.h"

#include "config.h"
#include "log.h"
#include "pb_err.h"
#include "smtp_delivery.h"
#include "smtp_server.h"
#include "storage.h"

static struct smtp_delivery services_delivery[SMTP_SERVER_SESSIONS];
static struct smtp_backend services_backends[SMTP_SERVER_SESSIONS];
static struct altcp_tls_config *services_tls;

static void services_log(const char *line)
{
    log_printf("%s", line);
}

static struct smtp_server_config services_smtp = {
    .port = 25,
    .session = { .log = services_log },
    .backends = services_backends,
    .log = services_log,
};

void services_apply_config(void)
{
    const struct config *c = config_get();
    services_smtp.session.max_size = c->smtp.max_size;
    services_smtp.timeout = c->smtp.timeout;
    services_smtp.require_rdns = c->smtp.require_rdns;
}

int services_start(const struct identity *id)
{
    int n = 0;
    if (!storage_get()) {
        log_printf("services: no flash store, so SMTP stays closed (mail could not be kept)");
        return 0;
    }
    if (id && identity_server_config(id, &services_tls) != 0) {
        services_tls = NULL;
        log_printf("services: TLS configuration failed; SMTP runs without STARTTLS");
    }
    for (int i = 0; i < SMTP_SERVER_SESSIONS; i++)
        smtp_delivery_init(&services_delivery[i], storage_get(), &services_backends[i]);
    services_smtp.session.hostname = config_get()->hostname;
    services_apply_config();
    services_smtp.tls = services_tls;
    int err = smtp_server_start(&services_smtp);
    if (err)
        log_printf("services: SMTP could not listen on port 25: %s", pb_err_str(err));
    else {
        log_printf("services: SMTP listening on port 25%s", services_tls ? " (STARTTLS)" : "");
        n++;
    }
    return n;
}
