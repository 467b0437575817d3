/*
 * web_autoconfig.c - mail-client autoconfiguration (see web_autoconfig.h).
 *
 * Thunderbird's format: https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat
 * Outlook's: the "POX" autodiscover response schema (2006a).
 */
#include "web_autoconfig.h"

#include <string.h>

#include "accounts.h"
#include "storage.h"

#define WEB_AUTOCONFIG_ADDR_MAX 254

/* Whether s is made of characters an address may have here (no XML
 * specials, no spaces): anything else is ignored rather than echoed. */
static bool web_autoconfig_plain(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > WEB_AUTOCONFIG_ADDR_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  strchr("@.-_+", c) != NULL;
        if (!ok)
            return false;
    }
    return true;
}

/* The domain the document is for: the address's, else the first
 * configured one, else the host name. */
static void web_autoconfig_domain(const char *hostname, const char *email, char *out, size_t cap)
{
    const char *at = email ? strrchr(email, '@') : NULL;
    if (at && at[1] && strlen(at + 1) < cap) {
        strcpy(out, at + 1);
        return;
    }
    out[0] = '\0';
    if (storage_get() && accounts_next(storage_get(), STORE_NS_DOMAIN, "", out, cap) >= 0 && out[0])
        return;
    strncpy(out, hostname, cap - 1);
    out[cap - 1] = '\0';
}

void web_autoconfig_thunderbird(const char *hostname, const char *email, struct web_resp *r)
{
    char domain[WEB_AUTOCONFIG_ADDR_MAX + 1];
    if (email && !web_autoconfig_plain(email))
        email = NULL;
    web_autoconfig_domain(hostname, email, domain, sizeof(domain));
    r->ctype = "application/xml; charset=utf-8";
    web_resp_printf(r,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<clientConfig version=\"1.1\">\n"
        "  <emailProvider id=\"");
    web_resp_html(r, domain);
    web_resp_printf(r, "\">\n    <domain>");
    web_resp_html(r, domain);
    web_resp_printf(r, "</domain>\n    <displayName>");
    web_resp_html(r, domain);
    web_resp_printf(r, " mail (Pillarbox)</displayName>\n    <displayShortName>");
    web_resp_html(r, domain);
    web_resp_printf(r, "</displayShortName>\n");
    static const struct { const char *kind, *type; int port; const char *socket; } srv[] = {
        { "incomingServer", "imap", 993, "SSL" },
        { "incomingServer", "pop3", 995, "SSL" },
        { "outgoingServer", "smtp", 465, "SSL" },
        { "outgoingServer", "smtp", 587, "STARTTLS" },
    };
    for (size_t i = 0; i < sizeof(srv) / sizeof(srv[0]); i++) {
        web_resp_printf(r, "    <%s type=\"%s\">\n      <hostname>", srv[i].kind, srv[i].type);
        web_resp_html(r, hostname);
        web_resp_printf(r, "</hostname>\n      <port>%d</port>\n      <socketType>%s</socketType>\n"
                        "      <authentication>password-cleartext</authentication>\n"
                        "      <username>%%EMAILADDRESS%%</username>\n    </%s>\n",
                        srv[i].port, srv[i].socket, srv[i].kind);
    }
    web_resp_printf(r, "  </emailProvider>\n</clientConfig>\n");
}

/* The text of the first <EMailAddress> element of body, or "". */
static void web_autoconfig_request_address(const char *body, size_t n, char *out, size_t cap)
{
    static const char open[] = "<EMailAddress>";
    out[0] = '\0';
    for (size_t i = 0; i + sizeof(open) - 1 <= n; i++) {
        if (memcmp(body + i, open, sizeof(open) - 1) != 0)
            continue;
        size_t s = i + sizeof(open) - 1, e = s;
        while (e < n && body[e] != '<')
            e++;
        if (e - s < cap) {
            memcpy(out, body + s, e - s);
            out[e - s] = '\0';
        }
        return;
    }
}

void web_autoconfig_outlook(const char *hostname, const char *body, size_t n, struct web_resp *r)
{
    char email[WEB_AUTOCONFIG_ADDR_MAX + 1];
    web_autoconfig_request_address(body, n, email, sizeof(email));
    if (!web_autoconfig_plain(email))
        email[0] = '\0';
    r->ctype = "application/xml; charset=utf-8";
    web_resp_printf(r,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
        "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">\n"
        "  <Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\">\n"
        "    <Account>\n      <AccountType>email</AccountType>\n      <Action>settings</Action>\n");
    static const struct { const char *type; int port; const char *ssl, *enc; } srv[] = {
        { "IMAP", 993, "on", NULL },
        { "POP3", 995, "on", NULL },
        { "SMTP", 465, "on", NULL },
        { "SMTP", 587, "on", "TLS" },
    };
    for (size_t i = 0; i < sizeof(srv) / sizeof(srv[0]); i++) {
        web_resp_printf(r, "      <Protocol>\n        <Type>%s</Type>\n        <Server>", srv[i].type);
        web_resp_html(r, hostname);
        web_resp_printf(r, "</Server>\n        <Port>%d</Port>\n        <DomainRequired>off</DomainRequired>\n"
                        "        <LoginName>", srv[i].port);
        web_resp_html(r, email);
        web_resp_printf(r, "</LoginName>\n        <SPA>off</SPA>\n        <SSL>%s</SSL>\n", srv[i].ssl);
        if (srv[i].enc)
            web_resp_printf(r, "        <Encryption>%s</Encryption>\n", srv[i].enc);
        web_resp_printf(r, "        <AuthRequired>on</AuthRequired>\n      </Protocol>\n");
    }
    web_resp_printf(r, "    </Account>\n  </Response>\n</Autodiscover>\n");
}
