/*
 * web_autoconfig.h - mail-client autoconfiguration documents, so a client
 * sets itself up from an address alone: Thunderbird's config-v1.1.xml
 * (served at /.well-known/autoconfig/mail/config-v1.1.xml and
 * /mail/config-v1.1.xml) and Outlook's POX autodiscover answer (POST
 * /autodiscover/autodiscover.xml).
 *
 * Both describe IMAPS 993 (TLS), POP3S 995 (TLS), submission 465 (TLS)
 * and 587 (STARTTLS) on the appliance's host name, with the full address
 * as the user name.  Addresses taken from the request are used only when
 * they consist of plain address characters (and are XML-escaped anyway).
 */
#ifndef WEB_AUTOCONFIG_H
#define WEB_AUTOCONFIG_H

#include <stddef.h>

#include "web.h"

/* Thunderbird: email (may be NULL or "") names the domain; without it the
 * first configured domain, or the host name. */
void web_autoconfig_thunderbird(const char *hostname, const char *email, struct web_resp *r);

/* Outlook: body is the client's request (its EMailAddress element). */
void web_autoconfig_outlook(const char *hostname, const char *body, size_t n, struct web_resp *r);

#endif
