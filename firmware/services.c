/*
 * services.c - the appliance's network services (see services.h).
 *
 * UNFINISHED: no service listens yet.  SMTP (25, 587, 465), IMAP (143,
 * 993), POP3 (110, 995) and the web page (80, 443) are opened here by
 * their own issues.
 */
#include "services.h"

#include "log.h"

int services_start(const struct identity *id)
{
    (void)id;
    log_printf("services: none in this build yet (mail services arrive with their issues)");
    return 0;
}
