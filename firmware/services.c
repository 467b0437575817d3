/*
 * services.c - the appliance's network services (see services.h).
 *
 * SMTP on port 25 (the office's MX, STARTTLS with the appliance identity)
 * delivers into the store.  Submission on 587 (STARTTLS) and 465 (TLS)
 * takes mail from logged-in users.  POP3 on 110 (STLS) and 995 (TLS from
 * the first byte), with the same identity, reads the users' INBOXes.  IMAP
 * on 143 (STARTTLS) and 993 (TLS from the first byte) reads and manages
 * their folders.  The outbound queue runner (smtp_relay.h) delivers mail
 * for other domains.  The web page answers on 443 (TLS from the first
 * byte, the same identity) and 80 (redirects to 443, autoconfiguration).
 */
#include "services.h"

#include <string.h>

#include "board_pools.h"
#include "config.h"
#include "log.h"
#include "imap_server.h"
#include "pb_err.h"
#include "pop3_maildrop.h"
#include "pop3_server.h"
#include "smtp_delivery.h"
#include "smtp_relay.h"
#include "smtp_server.h"
#include "storage.h"
#include "tls.h"
#include "web.h"

static struct smtp_delivery services_delivery[SMTP_SERVER_SESSIONS];
static struct smtp_backend services_backends[SMTP_SERVER_SESSIONS];
static struct altcp_tls_config *services_tls;
/* The config replaced by services_tls_swap(), kept until no connection
 * uses it (then freed by services_poll): at most two at once. */
static struct altcp_tls_config *services_tls_old;
/* The identity the services present (a copy: the caller's may change). */
static struct identity services_id PB_STORE_SECTION;
/* A snapshot of up to 4096 messages per POP3 session (32 KiB each): with
 * the store's tables, in external RAM on the reference board. */
static struct pop3_maildrop services_maildrops[POP3_SERVER_SESSIONS] PB_STORE_SECTION;
static struct pop3_server_slot services_pop3_slots[POP3_SERVER_SESSIONS] PB_STORE_SECTION;
static struct pop3_backend services_pop3_backends[POP3_SERVER_SESSIONS];

/* IMAP sessions with their snapshots (about 40 KiB each): external RAM. */
static struct imap_server_slot services_imap_slots[IMAP_SERVER_SESSIONS] PB_STORE_SECTION;

/* Web connections (about 105 KiB each: a request body and a whole
 * response): external RAM. */
static struct web_slot services_web_slots[WEB_CONNS] PB_STORE_SECTION;

static void services_log(const char *line)
{
    log_printf("%s", line);
}

static struct imap_server_config services_imap = {
    .port = 143,
    .session = { .log = services_log },
    .slots = services_imap_slots,
    .log = services_log,
};

static struct imap_server_config services_imaps = {
    .port = 993,
    .implicit_tls = true,
    .session = { .log = services_log },
    .slots = services_imap_slots,
    .log = services_log,
};

static struct smtp_server_config services_smtp = {
    .port = 25,
    .session = { .log = services_log },
    .backends = services_backends,
    .log = services_log,
};

/* Submission (RFC 6409 on 587 with STARTTLS, RFC 8314 on 465 with TLS
 * from the first byte): the same sessions and backends as port 25 (a pool
 * slot is one session whatever its port), with logins. */
static struct smtp_server_config services_submission = {
    .port = 587,
    .session = { .submission = true, .log = services_log },
    .backends = services_backends,
    .log = services_log,
};

static struct smtp_server_config services_submissions = {
    .port = 465,
    .implicit_tls = true,
    .session = { .submission = true, .log = services_log },
    .backends = services_backends,
    .log = services_log,
};

static struct smtp_relay_config services_relay = { .log = services_log };

/* Free the replaced TLS config once its last connection has ended. */
static void services_tls_reap(void)
{
    if (services_tls_old && tls_config_users(services_tls_old) == 0) {
        altcp_tls_free_config(services_tls_old);
        services_tls_old = NULL;
        log_printf("services: the previous TLS certificate is no longer in use");
    }
}

int services_poll(void)
{
    services_tls_reap();
    return smtp_relay_poll();
}

void services_apply_config(void)
{
    const struct config *c = config_get();
    struct smtp_server_config *all[] = { &services_smtp, &services_submission, &services_submissions };
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        all[i]->session.max_size = c->smtp.max_size;
        all[i]->timeout = c->smtp.timeout;
    }
    services_smtp.require_rdns = c->smtp.require_rdns;     /* the MX only: users log in */
    services_submission.session.hide_client = c->smtp.hide_client;
    services_submissions.session.hide_client = c->smtp.hide_client;
    services_imap.session.max_size = c->smtp.max_size;
    services_imaps.session.max_size = c->smtp.max_size;
    services_relay.lifetime = c->queue_lifetime;
    smtp_relay_set_host(c->relayhost);
    smtp_relay_set_auth(c->relay_user, c->relay_pass);
    smtp_relay_set_tls(c->relay_implicit ? "implicit" : "starttls");
    smtp_relay_set_fingerprint(c->relay_fpr);
}

/* 587 and, with a TLS identity, 465; returns the listeners opened. */
static int services_start_submission(void)
{
    int n = 0;
    if (!services_tls) {
        log_printf("services: submission stays closed on 587 and 465 (no TLS identity: "
                   "passwords would cross the network in clear)");
        return 0;
    }
    struct smtp_server_config *cfgs[] = { &services_submission, &services_submissions };
    for (size_t i = 0; i < 2; i++) {
        cfgs[i]->session.hostname = config_get()->hostname;
        cfgs[i]->tls = services_tls;
        int err = smtp_server_start(cfgs[i]);
        if (err) {
            log_printf("services: submission could not listen on port %u: %s", cfgs[i]->port,
                       pb_err_str(err));
            continue;
        }
        log_printf("services: submission listening on port %u (%s)", cfgs[i]->port,
                   cfgs[i]->implicit_tls ? "TLS" : "STARTTLS");
        n++;
    }
    return n;
}

static struct pop3_server_config services_pop3 = {
    .port = 110,
    .session = { .max_deletes = POP3_MAILDROP_MAX_DELETES, .log = services_log },
    .backends = services_pop3_backends,
    .log = services_log,
};

static struct pop3_server_config services_pop3s = {
    .port = 995,
    .implicit_tls = true,
    .session = { .max_deletes = POP3_MAILDROP_MAX_DELETES, .log = services_log },
    .backends = services_pop3_backends,
    .log = services_log,
};

/* POP3 on 110 and, with a TLS identity, 995; returns the listeners opened. */
static int services_start_pop3(void)
{
    int n = 0;
    pop3_maildrop_init(services_maildrops, services_pop3_backends, POP3_SERVER_SESSIONS,
                       storage_get());
    pop3_server_init(services_pop3_slots);
    services_pop3.session.hostname = config_get()->hostname;
    services_pop3.tls = services_tls;
    int err = pop3_server_start(&services_pop3);
    if (err)
        log_printf("services: POP3 could not listen on port 110: %s", pb_err_str(err));
    else {
        log_printf("services: POP3 listening on port 110%s", services_tls ? " (STLS)" :
                   " (no TLS: logins refused)");
        n++;
    }
    if (!services_tls) {
        log_printf("services: POP3S stays closed on port 995 (no TLS identity)");
        return n;
    }
    services_pop3s.session.hostname = config_get()->hostname;
    services_pop3s.tls = services_tls;
    err = pop3_server_start(&services_pop3s);
    if (err)
        log_printf("services: POP3S could not listen on port 995: %s", pb_err_str(err));
    else {
        log_printf("services: POP3S listening on port 995 (TLS)");
        n++;
    }
    return n;
}

/* IMAP on 143 and, with a TLS identity, 993; returns the listeners opened. */
static int services_start_imap(void)
{
    int n = 0;
    imap_server_init(services_imap_slots, storage_get());
    services_imap.session.hostname = config_get()->hostname;
    services_imap.tls = services_tls;
    int err = imap_server_start(&services_imap);
    if (err)
        log_printf("services: IMAP could not listen on port 143: %s", pb_err_str(err));
    else {
        log_printf("services: IMAP listening on port 143%s", services_tls ? " (STARTTLS)" :
                   " (no TLS)");
        n++;
    }
    if (!services_tls) {
        log_printf("services: IMAPS stays closed on port 993 (no TLS identity)");
        return n;
    }
    services_imaps.session.hostname = config_get()->hostname;
    services_imaps.tls = services_tls;
    err = imap_server_start(&services_imaps);
    if (err)
        log_printf("services: IMAPS could not listen on port 993: %s", pb_err_str(err));
    else {
        log_printf("services: IMAPS listening on port 993 (TLS)");
        n++;
    }
    return n;
}

static struct web_config services_http = { .port = 80, .log = services_log };
static struct web_config services_https = { .port = 443, .https = true, .log = services_log };

/* The web page on 443 and 80 (80 alone redirects to a closed port: opened
 * anyway, for autoconfiguration); returns the listeners opened. */
static int services_start_web(const struct identity *id)
{
    int n = 0;
    web_init(services_web_slots);
    if (services_tls) {
        services_https.tls = services_tls;
        services_https.identity = id;
        int err = web_start(&services_https);
        if (err)
            log_printf("services: web page could not listen on port 443: %s", pb_err_str(err));
        else {
            log_printf("services: web page listening on port 443 (TLS)");
            n++;
        }
    } else {
        log_printf("services: web page stays closed on port 443 (no TLS identity)");
    }
    services_http.identity = id;
    int err = web_start(&services_http);
    if (err)
        log_printf("services: web page could not listen on port 80: %s", pb_err_str(err));
    else {
        log_printf("services: web page listening on port 80 (redirects to 443, autoconfiguration)");
        n++;
    }
    return n;
}

int services_start(const struct identity *id)
{
    int n = 0;
    if (!storage_get()) {
        log_printf("services: no flash store, so SMTP and POP3 stay closed (no mail to keep or read)");
        return 0;
    }
    if (id) {
        memcpy(&services_id, id, sizeof(services_id));
        id = &services_id;
    }
    if (id && identity_server_config(id, &services_tls) != 0) {
        services_tls = NULL;
        log_printf("services: TLS configuration failed; SMTP runs without STARTTLS, POP3 without TLS");
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
    n += services_start_submission();
    n += services_start_pop3();
    n += services_start_imap();
    n += services_start_web(id);
    services_relay.store = storage_get();
    services_relay.hostname = config_get()->hostname;
    if (smtp_relay_start(&services_relay) != 0)
        log_printf("services: outbound delivery runs without STARTTLS (no TLS client configuration)");
    else
        log_printf("services: outbound queue runner started (%d connections at most)", SMTP_RELAY_CONNS);
    return n;
}

int services_tls_swap(const struct identity *id)
{
    if (!services_tls)
        return PB_ENOTSUP;      /* the TLS listeners never opened */
    services_tls_reap();
    if (services_tls_old)
        return PB_EBUSY;
    struct altcp_tls_config *fresh;
    int err = identity_server_config(id, &fresh);
    if (err)
        return err;
    /* New connections (the TLS listeners' and STARTTLS's) get the new
     * config; open ones keep the old, which lives until they end. */
    int moved = tls_config_replace_listeners(services_tls, fresh);
    struct smtp_server_config *smtp[] = { &services_smtp, &services_submission, &services_submissions };
    for (size_t i = 0; i < sizeof(smtp) / sizeof(smtp[0]); i++)
        if (smtp[i]->tls == services_tls)
            smtp[i]->tls = fresh;
    struct pop3_server_config *pop3[] = { &services_pop3, &services_pop3s };
    for (size_t i = 0; i < sizeof(pop3) / sizeof(pop3[0]); i++)
        if (pop3[i]->tls == services_tls)
            pop3[i]->tls = fresh;
    struct imap_server_config *imap[] = { &services_imap, &services_imaps };
    for (size_t i = 0; i < sizeof(imap) / sizeof(imap[0]); i++)
        if (imap[i]->tls == services_tls)
            imap[i]->tls = fresh;
    if (services_https.tls == services_tls)
        services_https.tls = fresh;
    services_tls_old = services_tls;
    services_tls = fresh;
    memcpy(&services_id, id, sizeof(services_id));
    log_printf("services: TLS certificate %s in use for new connections (%d listeners)", id->fingerprint, moved);
    services_tls_reap();
    return 0;
}

const struct identity *services_identity(void)
{
    return services_tls ? &services_id : NULL;
}
