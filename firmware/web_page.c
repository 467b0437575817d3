/*
 * web_page.c - what the web page answers (see web_page.h).
 *
 * A page that changes something builds a console command line from the
 * form's fields (each quoted, cmdline.h syntax) and runs it through
 * console_execute_capture(); the console's reply (its "error: ..." line or
 * its confirmation) is shown above the page.  So the web page needs no
 * validation of its own and cannot drift from the console.  Fields with
 * control characters are refused before they reach a command line.
 */
#include "web_page.h"

#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "admin.h"
#include "auth_guard.h"
#include "board_pools.h"
#include "config.h"
#include "console.h"
#include "dns.h"
#include "dnsrec.h"
#include "hal_clock.h"
#include "hal_reset.h"
#include "identity.h"
#include "log.h"
#include "lwip/ip4_addr.h"
#include "lwip/timeouts.h"
#include "pb_err.h"
#include "services.h"
#include "smtp_relay.h"
#include "smtp_server.h"
#include "storage.h"
#include "web_asset.h"
#include "web_autoconfig.h"
#include "web_session.h"

#define WEB_FIELD_MAX   512     /* one form field, decoded */
#define WEB_CAPTURE_MAX (12u * 1024u)

/* One request's state while its answer is built. */
struct web_call {
    const struct web_ctx *ctx;
    const struct http_req *req;
    struct web_resp *r;
    struct web_session *session;    /* NULL: not signed in */
    char msg[1024];                 /* the result of a POST, shown above the page */
    bool msg_err;
};

struct web_route {
    const char *path;
    const char *title;
    void (*get)(struct web_call *w);
    void (*post)(struct web_call *w);   /* NULL: GET only */
};

/* The console's output of the command being run, and the command line
 * (single-threaded: one request at a time). */
static char web_capture[WEB_CAPTURE_MAX] PB_STORE_SECTION;
static char web_line[2048];

static void web_page_dashboard(struct web_call *w);
static void web_page_users(struct web_call *w);
static void web_post_users(struct web_call *w);
static void web_page_aliases(struct web_call *w);
static void web_post_aliases(struct web_call *w);
static void web_page_settings(struct web_call *w);
static void web_post_settings(struct web_call *w);
static void web_page_queue(struct web_call *w);
static void web_post_queue(struct web_call *w);
static void web_page_log(struct web_call *w);
static void web_page_tls(struct web_call *w);
static void web_post_tls(struct web_call *w);
static void web_page_network(struct web_call *w);
static void web_post_network(struct web_call *w);
static void web_page_dns(struct web_call *w);
static void web_post_dns(struct web_call *w);

/* The pages behind the sign-in. */
static const struct web_route web_routes[] = {
    { "/", "Dashboard", web_page_dashboard, NULL },
    { "/users", "Users", web_page_users, web_post_users },
    { "/aliases", "Aliases and domains", web_page_aliases, web_post_aliases },
    { "/settings", "Mail settings", web_page_settings, web_post_settings },
    { "/queue", "Queue", web_page_queue, web_post_queue },
    { "/log", "Log", web_page_log, NULL },
    { "/tls", "TLS certificate", web_page_tls, web_post_tls },
    { "/network", "Network", web_page_network, web_post_network },
    { "/dns", "DNS records", web_page_dns, web_post_dns },
};

/* ------------------------------------------------------------ helpers --- */

#define WEB_RESTART_DELAY_MS 1000u  /* lets the "restarting" page leave first */
static struct identity web_new_id PB_STORE_SECTION;
_Static_assert(WEB_CAPTURE_MAX > IDENTITY_PEM_MAX, "the uploaded certificate goes into web_capture");
static char web_pem_key[IDENTITY_PEM_MAX + 1] PB_STORE_SECTION;
static bool web_restarting;

static void web_restart_now(void *arg)
{
    (void)arg;
    hal_reset_reboot();
}


static const struct web_asset *web_asset_find(const char *name, bool public)
{
    for (size_t i = 0; i < web_assets_count; i++)
        if (web_assets[i].public == public && strcmp(web_assets[i].name, name) == 0)
            return &web_assets[i];
    return NULL;
}

/* A fragment with {{title}} and {{csrf}} filled in (escaped). */
static void web_fragment(struct web_call *w, const char *name, const char *title)
{
    const struct web_asset *a = web_asset_find(name, false);
    if (!a)
        return;
    const char *p = (const char *)a->data;
    size_t n = a->len;
    size_t i = 0;
    while (i < n) {
        const char *open = NULL;
        for (size_t k = i; k + 1 < n; k++)
            if (p[k] == '{' && p[k + 1] == '{') {
                open = p + k;
                break;
            }
        if (!open) {
            web_resp_raw(w->r, p + i, n - i);
            return;
        }
        web_resp_raw(w->r, p + i, (size_t)(open - (p + i)));
        i = (size_t)(open - p);
        if (n - i >= 9 && memcmp(open, "{{title}}", 9) == 0) {
            web_resp_html(w->r, title);
            i += 9;
        } else if (n - i >= 8 && memcmp(open, "{{csrf}}", 8) == 0) {
            web_resp_html(w->r, w->session ? w->session->csrf : "");
            i += 8;
        } else {
            web_resp_raw(w->r, open, 2);
            i += 2;
        }
    }
}

static void web_begin(struct web_call *w, const char *title)
{
    w->r->ctype = "text/html; charset=utf-8";
    w->r->page = true;
    web_fragment(w, "head.html", title);
    if (w->session)
        web_fragment(w, "nav.html", title);
    web_resp_printf(w->r, "<main>\n<h1>");
    web_resp_html(w->r, title);
    web_resp_printf(w->r, "</h1>\n");
    if (w->msg[0]) {
        web_resp_printf(w->r, "<div class=\"msg %s\" id=\"result\">", w->msg_err ? "err" : "ok");
        web_resp_html(w->r, w->msg);
        web_resp_printf(w->r, "</div>\n");
    }
}

static void web_end(struct web_call *w)
{
    web_fragment(w, "foot.html", "");
}

/* The hidden CSRF field of a form. */
static void web_csrf(struct web_call *w)
{
    web_resp_printf(w->r, "<input type=\"hidden\" name=\"csrf\" value=\"");
    web_resp_html(w->r, w->session ? w->session->csrf : "");
    web_resp_printf(w->r, "\">");
}

static void web_redirect(struct web_resp *r, int status, const char *where)
{
    r->status = status;
    r->ctype = NULL;
    r->len = 0;
    web_resp_header(r, "Location: %s", where);
}

static void web_plain(struct web_resp *r, int status, const char *text)
{
    r->status = status;
    r->ctype = "text/plain; charset=utf-8";
    r->len = 0;
    web_resp_printf(r, "%s\n", text);
}

/* A form field of the POST body.  Returns its length, -1 absent, -2 bad
 * (too long, bad escape, control characters). */
static int web_field(struct web_call *w, const char *name, char *out, size_t cap)
{
    int n = http_form_get((const char *)w->req->body, w->req->body_len, name, out, cap);
    if (n < 0) {
        out[0] = '\0';
        return n;
    }
    for (int i = 0; i < n; i++)
        if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f) {
            out[0] = '\0';
            return -2;
        }
    return n;
}

/* Append word to web_line as one quoted cmdline word. */
static bool web_line_word(size_t *o, const char *word)
{
    size_t n = *o;
    if (n + 3 >= sizeof(web_line))
        return false;
    if (n > 0)
        web_line[n++] = ' ';
    web_line[n++] = '"';
    for (const char *p = word; *p; p++) {
        if (n + 4 >= sizeof(web_line))
            return false;
        if (*p == '"' || *p == '\\')
            web_line[n++] = '\\';
        web_line[n++] = *p;
    }
    web_line[n++] = '"';
    web_line[n] = '\0';
    *o = n;
    return true;
}

/* Run the console command "words args..." (args quoted; words as they
 * are) and keep its reply as the page's message.  The line never reaches
 * a log: it may carry a password.  Returns the command's result. */
static int web_run(struct web_call *w, const char *words, const char *const *args, int nargs)
{
    size_t o = strlen(words);
    if (o >= sizeof(web_line))
        return PB_EINVAL;
    memcpy(web_line, words, o + 1);
    for (int i = 0; i < nargs; i++) {
        if (!web_line_word(&o, args[i])) {
            snprintf(w->msg, sizeof(w->msg), "error: the values are too long");
            w->msg_err = true;
            return PB_ERANGE;
        }
    }
    int err = console_execute_capture(web_line, web_capture, sizeof(web_capture));
    memset(web_line, 0, sizeof(web_line));
    size_t have = strlen(w->msg);
    if (have && have + 1 < sizeof(w->msg))
        w->msg[have++] = '\n';
    snprintf(w->msg + have, sizeof(w->msg) - have, "%s", web_capture);
    /* The console's lines end in CRLF; the page wants neither. */
    size_t n = strlen(w->msg);
    while (n && (w->msg[n - 1] == '\n' || w->msg[n - 1] == '\r'))
        w->msg[--n] = '\0';
    if (err)
        w->msg_err = true;
    return err;
}

/* Run a read-only console command and show its output as a <pre>. */
static void web_show(struct web_call *w, const char *cmd, const char *id)
{
    if (strlen(cmd) >= sizeof(web_line))
        return;
    strcpy(web_line, cmd);
    console_execute_capture(web_line, web_capture, sizeof(web_capture));
    web_resp_printf(w->r, "<pre id=\"%s\">", id);
    web_resp_html(w->r, web_capture);
    web_resp_printf(w->r, "</pre>\n");
}

static void web_error(struct web_call *w, const char *text)
{
    snprintf(w->msg, sizeof(w->msg), "error: %s", text);
    w->msg_err = true;
}

/* A text input with its label. */
static void web_input(struct web_call *w, const char *id, const char *name, const char *label,
                      const char *type, const char *value)
{
    web_resp_printf(w->r, "<label for=\"%s\">%s</label><input type=\"%s\" id=\"%s\" name=\"%s\"",
                    id, label, type, id, name);
    if (value) {
        web_resp_printf(w->r, " value=\"");
        web_resp_html(w->r, value);
        web_resp_printf(w->r, "\"");
    }
    web_resp_printf(w->r, "%s>\n", strcmp(type, "password") == 0 ? " autocomplete=\"new-password\"" : "");
}

/* The restart button of the TLS and network pages: the answer leaves
 * first, then the board restarts. */
static void web_restart_button(struct web_call *w, const char *action, const char *id)
{
    web_resp_printf(w->r, "<form method=\"post\" action=\"%s\">\n", action);
    web_csrf(w);
    web_resp_printf(w->r, "<button type=\"submit\" name=\"action\" value=\"restart\" id=\"%s\" "
                    "data-confirm=\"Restart the appliance now?\">Restart now</button>\n</form>\n", id);
}

static void web_restart(struct web_call *w, const char *back)
{
    if (web_restarting) {
        web_error(w, "the appliance is restarting");
        return;
    }
    log_printf("web: restart asked from %s", w->ctx->peer);
    web_restarting = true;
    sys_timeout(WEB_RESTART_DELAY_MS, web_restart_now, NULL);
    snprintf(w->msg, sizeof(w->msg), "restarting: this page comes back in a few seconds");
    web_resp_header(w->r, "Refresh: 10; url=%s", back);
}

/* --------------------------------------------------- sign-in, setup --- */

static void web_page_login(struct web_call *w)
{
    web_begin(w, "Sign in");
    web_resp_printf(w->r,
        "<form method=\"post\" action=\"/login\" class=\"card\" id=\"login-form\">\n"
        "<label for=\"login-password\">Admin password</label>"
        "<input type=\"password\" id=\"login-password\" name=\"password\" autocomplete=\"current-password\" autofocus>\n"
        "<button type=\"submit\" id=\"login-submit\">Sign in</button>\n</form>\n");
    web_end(w);
}

static void web_post_login(struct web_call *w)
{
    char pw[WEB_FIELD_MAX];
    uint32_t wait = 0;
    if (auth_guard_check(w->ctx->peer, w->ctx->now_ms) != 0) {
        web_error(w, "too many failed sign-ins from your address; try again later");
        w->r->status = 429;
        web_page_login(w);
        return;
    }
    if (web_field(w, "password", pw, sizeof(pw)) < 0)
        pw[0] = '\0';
    int err = admin_password_check(pw, w->ctx->now_ms, &wait);
    memset(pw, 0, sizeof(pw));
    if (err == 0) {
        auth_guard_succeeded(w->ctx->peer);
        struct web_session *s = web_session_new(w->ctx->now_ms);
        if (!s) {
            web_plain(w->r, 503, "no randomness for a session token; try again");
            return;
        }
        log_printf("web: admin signed in from %s", w->ctx->peer);
        web_redirect(w->r, 303, "/");
        web_resp_header(w->r, "Set-Cookie: pb_session=%s; HttpOnly; Secure; SameSite=Strict; Path=/",
                        s->token);
        return;
    }
    unsigned long secs = (unsigned long)(wait + 999) / 1000;
    if (err == PB_EBUSY) {
        snprintf(w->msg, sizeof(w->msg), "error: too soon after a wrong password; try again in %lu s", secs);
        w->r->status = 429;
        web_resp_header(w->r, "Retry-After: %lu", secs);
    } else {
        auth_guard_failed(w->ctx->peer, w->ctx->now_ms);
        log_printf("web: wrong admin password from %s", w->ctx->peer);
        snprintf(w->msg, sizeof(w->msg), "error: wrong password; the next try is possible in %lu s", secs);
        w->r->status = 401;
    }
    w->msg_err = true;
    web_page_login(w);
}

static void web_post_logout(struct web_call *w)
{
    web_session_end(w->session);
    w->session = NULL;
    web_redirect(w->r, 303, "/login");
    web_resp_header(w->r, "Set-Cookie: pb_session=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0");
}

static void web_page_setup(struct web_call *w)
{
    web_begin(w, "First-boot setup");
    web_resp_printf(w->r,
        "<p>The serial console shows the setup code at boot ('show setup-code' shows it again).</p>\n"
        "<form method=\"post\" action=\"/setup\" class=\"card\" id=\"setup-form\">\n");
    web_input(w, "setup-code", "code", "Setup code", "text", NULL);
    web_input(w, "setup-admin-password", "password", "Admin password", "password", NULL);
    web_input(w, "setup-admin-password2", "password2", "Admin password again", "password", NULL);
    web_input(w, "setup-domain", "domain", "Mail domain (e.g. example.com)", "text", NULL);
    web_input(w, "setup-hostname", "hostname", "Host name of this appliance (e.g. mail.example.com)", "text",
              config_get()->hostname);
    web_input(w, "setup-user", "user", "First user's address (e.g. alice@example.com)", "email", NULL);
    web_input(w, "setup-user-password", "userpw", "First user's password", "password", NULL);
    web_resp_printf(w->r, "<button type=\"submit\" id=\"setup-submit\">Set up</button>\n</form>\n");
    web_end(w);
}

static void web_post_setup(struct web_call *w)
{
    char code[64], pw[WEB_FIELD_MAX], pw2[WEB_FIELD_MAX], domain[WEB_FIELD_MAX], host[WEB_FIELD_MAX];
    char user[WEB_FIELD_MAX], upw[WEB_FIELD_MAX];
    if (auth_guard_check(w->ctx->peer, w->ctx->now_ms) != 0) {
        web_error(w, "too many wrong setup codes from your address; try again later");
        w->r->status = 429;
        web_page_setup(w);
        return;
    }
    if (web_field(w, "code", code, sizeof(code)) < 0 || !admin_setup_code_check(code)) {
        auth_guard_failed(w->ctx->peer, w->ctx->now_ms);
        log_printf("web: wrong setup code from %s", w->ctx->peer);
        web_error(w, "wrong setup code (the console shows it: 'show setup-code')");
        w->r->status = 403;
        web_page_setup(w);
        return;
    }
    bool ok = web_field(w, "password", pw, sizeof(pw)) > 0 && web_field(w, "password2", pw2, sizeof(pw2)) >= 0 &&
              web_field(w, "domain", domain, sizeof(domain)) > 0 &&
              web_field(w, "hostname", host, sizeof(host)) > 0 &&
              web_field(w, "user", user, sizeof(user)) > 0 && web_field(w, "userpw", upw, sizeof(upw)) > 0;
    if (!ok || strcmp(pw, pw2) != 0) {
        web_error(w, ok ? "the two admin passwords differ" : "every field is needed");
        w->r->status = 400;
    } else {
        /* The admin password last: until it is set, a failed step can be
         * corrected and the form sent again with the same code. */
        const char *h[] = { host };
        const char *d[] = { domain };
        const char *u[] = { user, upw };
        int err = strcmp(host, config_get()->hostname) == 0 ? 0 : web_run(w, "set hostname", h, 1);
        if (!err && !(storage_get() && accounts_domain_exists(storage_get(), domain)))
            err = web_run(w, "domain add", d, 1);
        if (!err)
            err = web_run(w, accounts_user_exists(storage_get(), user) ? "user passwd" : "user add", u, 2);
        if (!err && (err = admin_password_set(pw)) != 0) {
            snprintf(w->msg, sizeof(w->msg), "error: could not save the admin password: %s", pb_err_str(err));
            w->msg_err = true;
        }
        if (err) {
            w->r->status = 400;
        } else {
            web_session_reset();
            log_printf("web: first-boot setup done from %s", w->ctx->peer);
            web_redirect(w->r, 303, "/login");
        }
    }
    memset(pw, 0, sizeof(pw));
    memset(pw2, 0, sizeof(pw2));
    memset(upw, 0, sizeof(upw));
    if (w->r->status != 303)
        web_page_setup(w);
}

/* --------------------------------------------------------- dashboard --- */

struct web_errors {
    const char *lines[8];
    char buf[8][LOG_LINE_MAX + 16];
    int n;
};

/* Keep the newest few log lines that report a failure. */
static void web_error_line(void *ctx, const char *line)
{
    struct web_errors *e = ctx;
    if (!strstr(line, "error") && !strstr(line, "fail") && !strstr(line, "could not") &&
        !strstr(line, "wrong"))
        return;
    int slot = e->n % 8;
    snprintf(e->buf[slot], sizeof(e->buf[slot]), "%s", line);
    e->n++;
}

static void web_page_dashboard(struct web_call *w)
{
    uint64_t s = w->ctx->now_ms / 1000;
    int64_t wall = hal_clock_wall();
    int queued = 0;
    char name[STORE_NAME_MAX + 1] = "";
    struct store *st = storage_get();
    /* Bounded: the store holds at most PB_STORE_MAX_RECS named records. */
    while (st && queued < (int)PB_STORE_MAX_RECS &&
           accounts_next(st, STORE_NS_QUEUE, name, name, sizeof(name)) >= 0)
        queued++;
    web_begin(w, "Dashboard");
    web_resp_printf(w->r, "<section><table>\n"
                    "<tr><th>Uptime</th><td id=\"uptime\">%lud %02u:%02u:%02u</td></tr>\n"
                    "<tr><th>Host name</th><td>",
                    (unsigned long)(s / 86400), (unsigned)(s / 3600 % 24), (unsigned)(s / 60 % 60),
                    (unsigned)(s % 60));
    web_resp_html(w->r, config_get()->hostname);
    web_resp_printf(w->r, "</td></tr>\n<tr><th>Queue</th><td id=\"queue-length\">%d message%s waiting</td></tr>\n"
                    "<tr><th>Messages in today</th><td id=\"messages-in\">%lu</td></tr>\n"
                    "<tr><th>Deliveries out today</th><td id=\"messages-out\">%lu</td></tr>\n"
                    "</table>\n<p class=\"muted\" id=\"messages-note\">Today: since midnight UTC, "
                    "counted in RAM, so since the last start if that was later. In: messages accepted "
                    "by SMTP and submission; out: deliveries to other servers, one per recipient.</p>\n"
                    "</section>\n", queued, queued == 1 ? "" : "s", smtp_server_accepted_today(wall),
                    smtp_relay_sent_today(wall));
    web_resp_printf(w->r, "<h2>Storage</h2>\n");
    web_show(w, "show storage", "storage");
    static struct web_errors errs;
    memset(&errs, 0, sizeof(errs));
    log_foreach(0, web_error_line, &errs);
    web_resp_printf(w->r, "<h2>Last errors</h2>\n<pre id=\"last-errors\">");
    int first = errs.n > 8 ? errs.n - 8 : 0;
    for (int i = first; i < errs.n; i++) {
        web_resp_html(w->r, errs.buf[i % 8]);
        web_resp_printf(w->r, "\n");
    }
    if (errs.n == 0)
        web_resp_printf(w->r, "none");
    web_resp_printf(w->r, "</pre>\n");
    web_end(w);
}

/* ------------------------------------------------------------- users --- */

static void web_page_users(struct web_call *w)
{
    char mbox[WEB_FIELD_MAX];
    web_begin(w, "Users");
    if (http_form_get(w->req->query, strlen(w->req->query), "mailbox", mbox, sizeof(mbox)) > 0 &&
        !strpbrk(mbox, "\"\\\r\n")) {
        web_resp_printf(w->r, "<h2>Mailbox of ");
        web_resp_html(w->r, mbox);
        web_resp_printf(w->r, "</h2>\n");
        char cmd[WEB_FIELD_MAX + 32];
        snprintf(cmd, sizeof(cmd), "show mailbox \"%s\"", mbox);
        web_show(w, cmd, "mailbox");
    }
    web_resp_printf(w->r, "<form method=\"post\" action=\"/users\" class=\"card\" id=\"user-add-form\">\n");
    web_csrf(w);
    web_resp_printf(w->r, "<input type=\"hidden\" name=\"action\" value=\"add\">\n");
    web_input(w, "user-add-address", "address", "Address", "email", NULL);
    web_input(w, "user-add-password", "password", "Password", "password", NULL);
    web_resp_printf(w->r, "<button type=\"submit\" id=\"user-add-submit\">Add user</button>\n</form>\n");
    web_resp_printf(w->r, "<table id=\"users\">\n<tr><th>Address</th><th>New password</th><th></th></tr>\n");
    char name[ACCOUNTS_ADDR_MAX + 1] = "";
    int n = 0;
    struct store *st = storage_get();
    while (st && n < (int)PB_STORE_MAX_RECS && accounts_next(st, STORE_NS_USER, name, name, sizeof(name)) >= 0) {
        n++;
        web_resp_printf(w->r, "<tr><td><a href=\"/users?mailbox=");
        web_resp_html(w->r, name);      /* address characters need no %-encoding here */
        web_resp_printf(w->r, "\">");
        web_resp_html(w->r, name);
        web_resp_printf(w->r, "</a></td><td><form method=\"post\" action=\"/users\" class=\"inline\">");
        web_csrf(w);
        web_resp_printf(w->r, "<input type=\"hidden\" name=\"action\" value=\"passwd\">"
                        "<input type=\"hidden\" name=\"address\" value=\"");
        web_resp_html(w->r, name);
        web_resp_printf(w->r, "\"><input type=\"password\" name=\"password\" aria-label=\"new password\" "
                        "autocomplete=\"new-password\"> <button type=\"submit\">Set</button></form></td>"
                        "<td><form method=\"post\" action=\"/users\" class=\"inline\">");
        web_csrf(w);
        web_resp_printf(w->r, "<input type=\"hidden\" name=\"action\" value=\"del\">"
                        "<input type=\"hidden\" name=\"address\" value=\"");
        web_resp_html(w->r, name);
        web_resp_printf(w->r, "\"><button type=\"submit\" class=\"danger\" "
                        "data-confirm=\"Delete this user and all their mail?\">Delete</button></form></td></tr>\n");
    }
    web_resp_printf(w->r, "</table>\n");
    if (n == 0)
        web_resp_printf(w->r, "<p class=\"muted\">No users yet.</p>\n");
    web_end(w);
}

static void web_post_users(struct web_call *w)
{
    char action[16], addr[WEB_FIELD_MAX], pw[WEB_FIELD_MAX];
    web_field(w, "action", action, sizeof(action));
    if (web_field(w, "address", addr, sizeof(addr)) <= 0) {
        web_error(w, "an address is needed");
    } else if (strcmp(action, "del") == 0) {
        const char *a[] = { addr };
        web_run(w, "user del", a, 1);
    } else if (strcmp(action, "add") == 0 || strcmp(action, "passwd") == 0) {
        /* Never an empty password: the console would then ask for one. */
        if (web_field(w, "password", pw, sizeof(pw)) <= 0) {
            web_error(w, "a password is needed");
        } else {
            const char *a[] = { addr, pw };
            web_run(w, action[0] == 'a' ? "user add" : "user passwd", a, 2);
        }
        memset(pw, 0, sizeof(pw));
    } else {
        web_error(w, "unknown action");
    }
    web_page_users(w);
}

/* ---------------------------------------------------------- aliases --- */

static void web_page_aliases(struct web_call *w)
{
    web_begin(w, "Aliases and domains");
    web_resp_printf(w->r, "<h2>Domains</h2>\n");
    web_show(w, "domain list", "domains");
    web_resp_printf(w->r, "<form method=\"post\" action=\"/aliases\" class=\"card\" id=\"domain-form\">\n");
    web_csrf(w);
    web_input(w, "domain-name", "domain", "Domain", "text", NULL);
    web_resp_printf(w->r, "<button type=\"submit\" name=\"action\" value=\"domain-add\" id=\"domain-add\">Add domain</button> "
                    "<button type=\"submit\" name=\"action\" value=\"domain-del\" id=\"domain-del\" class=\"danger\">"
                    "Delete domain</button>\n");
    web_input(w, "catchall-address", "catchall", "Catch-all address for the domain (off: none)", "text", NULL);
    web_resp_printf(w->r, "<button type=\"submit\" name=\"action\" value=\"catchall\" id=\"catchall-set\">"
                    "Set catch-all</button>\n</form>\n");
    web_resp_printf(w->r, "<h2>Aliases</h2>\n");
    web_show(w, "alias list", "aliases");
    web_resp_printf(w->r, "<form method=\"post\" action=\"/aliases\" class=\"card\" id=\"alias-form\">\n");
    web_csrf(w);
    web_input(w, "alias-address", "address", "Alias address", "text", NULL);
    web_input(w, "alias-targets", "targets", "Deliver to (addresses, separated by commas)", "text", NULL);
    web_resp_printf(w->r, "<button type=\"submit\" name=\"action\" value=\"alias-add\" id=\"alias-add\">Add alias</button> "
                    "<button type=\"submit\" name=\"action\" value=\"alias-del\" id=\"alias-del\" class=\"danger\">"
                    "Delete alias</button>\n</form>\n");
    web_end(w);
}

static void web_post_aliases(struct web_call *w)
{
    char action[16], a1[WEB_FIELD_MAX], a2[WEB_FIELD_MAX];
    web_field(w, "action", action, sizeof(action));
    if (strncmp(action, "domain-", 7) == 0 || strcmp(action, "catchall") == 0) {
        if (web_field(w, "domain", a1, sizeof(a1)) <= 0) {
            web_error(w, "a domain is needed");
        } else if (strcmp(action, "catchall") == 0) {
            if (web_field(w, "catchall", a2, sizeof(a2)) <= 0)
                strcpy(a2, "off");
            const char *a[] = { a1, a2 };
            web_run(w, "set catchall", a, 2);
        } else {
            const char *a[] = { a1 };
            web_run(w, strcmp(action, "domain-add") == 0 ? "domain add" : "domain del", a, 1);
        }
    } else if (strncmp(action, "alias-", 6) == 0) {
        if (web_field(w, "address", a1, sizeof(a1)) <= 0) {
            web_error(w, "an alias address is needed");
        } else if (strcmp(action, "alias-del") == 0) {
            const char *a[] = { a1 };
            web_run(w, "alias del", a, 1);
        } else if (web_field(w, "targets", a2, sizeof(a2)) <= 0) {
            web_error(w, "the alias needs at least one target");
        } else {
            const char *a[] = { a1, a2 };
            web_run(w, "alias add", a, 2);
        }
    } else {
        web_error(w, "unknown action");
    }
    web_page_aliases(w);
}

/* --------------------------------------------------------- settings --- */

static void web_page_settings(struct web_call *w)
{
    const struct config *c = config_get();
    char v[32];
    web_begin(w, "Mail settings");
    web_resp_printf(w->r, "<form method=\"post\" action=\"/settings\" class=\"card\" id=\"size-form\">\n");
    web_csrf(w);
    snprintf(v, sizeof(v), "%luM", (unsigned long)(c->smtp.max_size >> 20));
    web_input(w, "max-size", "max_size", "Message size limit (e.g. 25M)", "text", v);
    web_resp_printf(w->r, "<label for=\"require-rdns\">Refuse senders without reverse DNS</label>"
                    "<select id=\"require-rdns\" name=\"require_rdns\"><option value=\"on\"%s>on</option>"
                    "<option value=\"off\"%s>off</option></select>\n"
                    "<button type=\"submit\" name=\"action\" value=\"limits\" id=\"limits-save\">Save</button>\n</form>\n",
                    c->smtp.require_rdns ? " selected" : "", c->smtp.require_rdns ? "" : " selected");
    web_resp_printf(w->r, "<form method=\"post\" action=\"/settings\" class=\"card\" id=\"relay-form\">\n");
    web_csrf(w);
    web_input(w, "relayhost", "relayhost", "Relay host (HOST[:PORT]; off: deliver to each domain's MX)", "text",
              c->relayhost[0] ? c->relayhost : "off");
    web_input(w, "relay-user", "relay_user", "Relay host user (empty: no login)", "text", c->relay_user);
    /* Write-only: the page says whether one is set, never what it is. */
    web_input(w, "relay-password", "relay_pass", c->relay_pass[0] ?
              "Relay host password (one is set; empty keeps it)" : "Relay host password", "password", NULL);
    web_resp_printf(w->r, "<button type=\"submit\" name=\"action\" value=\"relay\" id=\"relay-save\">Save</button>\n</form>\n");
    web_end(w);
}

static void web_post_settings(struct web_call *w)
{
    char action[16], a1[WEB_FIELD_MAX], a2[WEB_FIELD_MAX];
    web_field(w, "action", action, sizeof(action));
    if (strcmp(action, "limits") == 0) {
        if (web_field(w, "max_size", a1, sizeof(a1)) > 0) {
            const char *a[] = { "max-size", a1 };
            web_run(w, "set smtp", a, 2);
        }
        if (web_field(w, "require_rdns", a1, sizeof(a1)) > 0) {
            const char *a[] = { "require-rdns", a1 };
            web_run(w, "set smtp", a, 2);
        }
    } else if (strcmp(action, "relay") == 0) {
        if (web_field(w, "relayhost", a1, sizeof(a1)) > 0) {
            const char *a[] = { a1 };
            web_run(w, "set relayhost", a, 1);
        }
        int un = web_field(w, "relay_user", a1, sizeof(a1));
        int pn = web_field(w, "relay_pass", a2, sizeof(a2));
        if (un == 0 && config_get()->relay_user[0]) {
            const char *a[] = { "off" };
            web_run(w, "set relayhost-auth", a, 1);
        } else if (un > 0 && pn > 0) {
            const char *a[] = { a1, a2 };
            web_run(w, "set relayhost-auth", a, 2);
        } else if (un > 0 && strcmp(a1, config_get()->relay_user) != 0) {
            web_error(w, "a new relay user needs its password");
        }
        memset(a2, 0, sizeof(a2));
    } else {
        web_error(w, "unknown action");
    }
    web_page_settings(w);
}

/* ------------------------------------------------------------ queue --- */

static void web_page_queue(struct web_call *w)
{
    web_begin(w, "Queue");
    web_show(w, "show queue", "queue");
    web_resp_printf(w->r, "<form method=\"post\" action=\"/queue\" class=\"card\" id=\"queue-form\">\n");
    web_csrf(w);
    web_input(w, "queue-id", "id", "Message ID (from the list above)", "text", NULL);
    web_resp_printf(w->r, "<button type=\"submit\" name=\"action\" value=\"retry\" id=\"queue-retry\">Retry now</button> "
                    "<button type=\"submit\" name=\"action\" value=\"delete\" id=\"queue-delete\" class=\"danger\" "
                    "data-confirm=\"Drop this message without telling the sender?\">Delete</button> "
                    "<button type=\"submit\" name=\"action\" value=\"flush\" id=\"queue-flush\">Retry all</button>\n"
                    "</form>\n");
    web_end(w);
}

static void web_post_queue(struct web_call *w)
{
    char action[16], id[WEB_FIELD_MAX];
    web_field(w, "action", action, sizeof(action));
    if (strcmp(action, "flush") == 0) {
        web_run(w, "queue flush", NULL, 0);
    } else if (strcmp(action, "retry") != 0 && strcmp(action, "delete") != 0) {
        web_error(w, "unknown action");
    } else if (web_field(w, "id", id, sizeof(id)) <= 0) {
        web_error(w, "a message ID is needed");
    } else {
        const char *a[] = { id };
        web_run(w, action[0] == 'r' ? "queue retry" : "queue delete", a, 1);
    }
    web_page_queue(w);
}

/* -------------------------------------------------------- log, TLS --- */

static void web_page_log(struct web_call *w)
{
    web_begin(w, "Log");
    web_show(w, "show log 100", "log");
    web_end(w);
}

/* The TLS page.  A new certificate (uploaded or regenerated) is kept on
 * flash, then handed to the services (services_tls_swap): new
 * connections use it at once.  When that cannot be done (a previous
 * swap's certificate is still used by an open connection, or no room for
 * a second TLS configuration) it is used from the next restart, which the
 * page then offers. */

/* A certificate as a table: which is in use, which is waiting. */
static void web_cert_table(struct web_call *w, const struct identity *id, const char *idp)
{
    struct identity_info info;
    if (identity_info(id, &info) != 0) {
        web_resp_printf(w->r, "<p class=\"msg err\">The certificate cannot be read.</p>\n");
        return;
    }
    web_resp_printf(w->r, "<table>\n<tr><th>Subject</th><td id=\"%s-subject\">CN=", idp);
    web_resp_html(w->r, info.subject);
    web_resp_printf(w->r, "</td></tr>\n<tr><th>SHA-256 fingerprint</th><td class=\"copy\" id=\"%s-fingerprint\">",
                    idp);
    web_resp_html(w->r, id->fingerprint);
    web_resp_printf(w->r, "</td></tr>\n<tr><th>Valid until</th><td id=\"%s-expiry\">%s%s</td></tr>\n"
                    "<tr><th>Issuer</th><td id=\"%s-issuer\">%s</td></tr>\n</table>\n", idp, info.not_after,
                    info.not_after_s <= hal_clock_wall() ? " (EXPIRED)" : "", idp,
                    info.self_signed ? "self-signed" : "a certificate authority");
}

static void web_page_tls(struct web_call *w)
{
    const struct identity *id = w->ctx->identity;
    web_begin(w, "TLS certificate");
    if (web_restarting) {
        web_resp_printf(w->r, "<p id=\"tls-restarting\">The appliance is restarting; this page comes back "
                        "in a few seconds.</p>\n");
        web_end(w);
        return;
    }
    web_resp_printf(w->r, "<section><h2>In use</h2>\n");
    if (id)
        web_cert_table(w, id, "tls");
    else
        web_resp_printf(w->r, "<p>This appliance has no TLS identity.</p>\n");
    web_resp_printf(w->r, "</section>\n");
    struct store *st = storage_get();
    bool pending = st && identity_load(st, &web_new_id) == 0 &&
                   (!id || strcmp(web_new_id.fingerprint, id->fingerprint) != 0);
    if (pending) {
        web_resp_printf(w->r, "<section class=\"card\" id=\"tls-pending\"><h2>Saved, takes effect after restart"
                        "</h2>\n");
        web_cert_table(w, &web_new_id, "tls-new");
        web_resp_printf(w->r, "<form method=\"post\" action=\"/tls\">\n");
        web_csrf(w);
        web_resp_printf(w->r, "<p>The services keep the certificate above until the appliance restarts; "
                        "a restart closes every open connection (mail clients reconnect).</p>\n"
                        "<button type=\"submit\" name=\"action\" value=\"restart\" id=\"restart\" "
                        "data-confirm=\"Restart the appliance now?\">Restart now</button>\n</form>\n</section>\n");
    }
    web_resp_printf(w->r, "<form method=\"post\" action=\"/tls\" class=\"card\" id=\"tls-upload-form\">\n"
                    "<h2>Upload a certificate</h2>\n<p>A certificate and its ECDSA P-256 private key, "
                    "as PEM text. New connections use it at once.</p>\n");
    web_csrf(w);
    web_resp_printf(w->r, "<label for=\"tls-cert\">Certificate (PEM)</label><textarea id=\"tls-cert\" name=\"cert\" "
                    "rows=\"6\" spellcheck=\"false\"></textarea>\n<label for=\"tls-key\">Private key (PEM)</label>"
                    "<textarea id=\"tls-key\" name=\"key\" rows=\"4\" spellcheck=\"false\" autocomplete=\"off\">"
                    "</textarea>\n<button type=\"submit\" name=\"action\" value=\"upload\" id=\"tls-upload\">Upload"
                    "</button>\n</form>\n"
                    "<form method=\"post\" action=\"/tls\" class=\"card\" id=\"tls-regenerate-form\">\n"
                    "<h2>New self-signed certificate</h2>\n<p>A new key and self-signed certificate for ");
    web_resp_html(w->r, config_get()->hostname);
    web_resp_printf(w->r, ". Mail clients that trusted the old fingerprint will refuse the new one until "
                    "they are told to trust it. New connections use it at once.</p>\n");
    web_csrf(w);
    web_input(w, "tls-regenerate-confirm", "confirm", "Type regenerate to confirm", "text", NULL);
    web_resp_printf(w->r, "<button type=\"submit\" name=\"action\" value=\"regenerate\" id=\"tls-regenerate\" "
                    "class=\"danger\">Regenerate self-signed</button>\n</form>\n");
    web_end(w);
}

/* Keep web_new_id on flash and say so. */
static void web_tls_keep(struct web_call *w, const char *what)
{
    int err = identity_save(storage_get(), &web_new_id);
    if (err) {
        snprintf(w->msg, sizeof(w->msg), "error: could not keep the certificate on flash: %s; nothing was "
                 "changed", pb_err_str(err));
        w->msg_err = true;
        return;
    }
    log_printf("web: TLS certificate replaced (%s) from %s, fingerprint %s", what, w->ctx->peer,
               web_new_id.fingerprint);
    /* In use at once where that is safe (services.h); else at the restart
     * the page offers. */
    err = services_tls_swap(&web_new_id);
    const char *when = err == 0 ? "in use now for new connections (open ones keep the previous one until "
                                  "they close)" :
                       err == PB_EBUSY ? "kept; it takes effect after a restart (connections that use the "
                                         "certificate before the last one are still open)" :
                       "kept; it takes effect after a restart";
    size_t have = strlen(w->msg);
    snprintf(w->msg + have, sizeof(w->msg) - have, "%s%s, SHA-256 fingerprint %s: %s", have ? "\n" : "",
             what, web_new_id.fingerprint, when);
}

static void web_tls_upload(struct web_call *w)
{
    /* The PEM text has newlines: http_form_get, not web_field (which
     * refuses control characters).  The certificate goes into the
     * capture buffer, unused meanwhile. */
    const char *body = (const char *)w->req->body;
    int cn = http_form_get(body, w->req->body_len, "cert", web_capture, IDENTITY_PEM_MAX + 1);
    int kn = http_form_get(body, w->req->body_len, "key", web_pem_key, sizeof(web_pem_key));
    bool host_ok = false;
    const char *host = config_get()->hostname;
    int err = cn <= 0 || kn <= 0 ? PB_EINVAL :
              identity_import_pem(web_capture, (size_t)cn, web_pem_key, (size_t)kn, host, hal_clock_wall(),
                                  &web_new_id, &host_ok);
    memset(web_pem_key, 0, sizeof(web_pem_key));
    memset(web_capture, 0, sizeof(web_capture));
    switch (err) {
    case 0:
        if (!host_ok)
            snprintf(w->msg, sizeof(w->msg), "warning: the certificate does not name %s (set the host name "
                     "to the name it carries, or mail clients will warn)", host);
        web_tls_keep(w, "certificate imported");
        return;
    case PB_EPERM:
        web_error(w, "the private key does not belong to the certificate; nothing was changed");
        break;
    case PB_ETIMEDOUT:
        web_error(w, "the certificate has expired; nothing was changed");
        break;
    case PB_ERANGE:
        web_error(w, "the certificate or key is too large (ECDSA keys only; one certificate, no chain); "
                  "nothing was changed");
        break;
    case PB_EINVAL:
        web_error(w, "no PEM certificate and ECDSA private key found; nothing was changed");
        break;
    default:
        snprintf(w->msg, sizeof(w->msg), "error: could not import: %s; nothing was changed", pb_err_str(err));
        w->msg_err = true;
        break;
    }
    w->r->status = 400;
}

static void web_post_tls(struct web_call *w)
{
    char action[16], confirm[16];
    web_field(w, "action", action, sizeof(action));
    if (web_restarting) {
        web_error(w, "the appliance is restarting");
    } else if (strcmp(action, "restart") == 0) {
        web_restart(w, "/tls");
    } else if (!storage_get()) {
        web_error(w, "no flash store: a new certificate could not be kept");
    } else if (strcmp(action, "upload") == 0) {
        web_tls_upload(w);
    } else if (strcmp(action, "regenerate") == 0) {
        if (web_field(w, "confirm", confirm, sizeof(confirm)) < 0 || strcmp(confirm, "regenerate") != 0) {
            web_error(w, "type regenerate in the box to confirm; the TLS key was kept");
            w->r->status = 400;
        } else {
            int err = identity_generate(config_get()->hostname, &web_new_id);
            if (err) {
                snprintf(w->msg, sizeof(w->msg), "error: could not make a key: %s", err == PB_EINVAL ?
                         "the host name is too long for the certificate" : pb_err_str(err));
                w->msg_err = true;
            } else {
                web_tls_keep(w, "new self-signed certificate");
            }
        }
    } else {
        web_error(w, "unknown action");
    }
    web_page_tls(w);
}

/* ---------------------------------------------------- network, DNS --- */

static void web_page_network(struct web_call *w)
{
    const struct config *c = config_get();
    char ip[CONFIG_IP_TEXT_MAX + 1], addr[CONFIG_IP_TEXT_MAX + 1] = "", gw[CONFIG_IP_TEXT_MAX + 1] = "";
    config_ip_text(&c->net, ip, sizeof(ip));
    if (!c->net.dhcp)
        sscanf(ip, "%40s %40s", addr, gw);
    web_begin(w, "Network");
    web_show(w, "show status", "status");

    web_resp_printf(w->r, "<form method=\"post\" action=\"/network\" class=\"card\" id=\"ip-form\">\n"
                    "<h2>Address</h2>\n<p>Saved setting: <code id=\"ip-saved\">");
    web_resp_html(w->r, ip);
    web_resp_printf(w->r, "</code>. A change <b>applies at the next restart</b>.</p>\n");
    web_csrf(w);
    web_resp_printf(w->r, "<label for=\"ip-mode\">IPv4 address</label><select id=\"ip-mode\" name=\"mode\">"
                    "<option value=\"dhcp\"%s>by DHCP (automatic)</option>"
                    "<option value=\"static\"%s>static</option></select>\n",
                    c->net.dhcp ? " selected" : "", c->net.dhcp ? "" : " selected");
    web_input(w, "ip-address", "address", "Static address with prefix length (e.g. 192.168.1.20/24)", "text",
              addr);
    web_input(w, "ip-gateway", "gateway", "Gateway (e.g. 192.168.1.1)", "text", gw);
    web_resp_printf(w->r, "<button type=\"submit\" name=\"action\" value=\"ip\" id=\"ip-save\">Save</button>\n"
                    "</form>\n");
    web_restart_button(w, "/network", "net-restart");

    web_resp_printf(w->r, "<form method=\"post\" action=\"/network\" class=\"card\" id=\"dns-form\">\n"
                    "<h2>DNS servers</h2>\n<p>Used at once.</p>\n");
    web_csrf(w);
    web_input(w, "dns-servers", "dns", "DNS servers (separated by spaces; auto: DHCP's)", "text",
              c->dns[0] ? c->dns : "auto");
    web_resp_printf(w->r, "<button type=\"submit\" name=\"action\" value=\"dns\" id=\"dns-save\">Save</button>\n</form>\n");

    web_resp_printf(w->r, "<form method=\"post\" action=\"/network\" class=\"card\" id=\"hostname-form\">\n"
                    "<h2>Host name</h2>\n<p>Mail servers greet with it at once; the TLS certificate keeps the "
                    "name it was made for (make a new one on the <a href=\"/tls\">TLS</a> page).</p>\n");
    web_csrf(w);
    web_input(w, "hostname", "hostname", "Host name", "text", c->hostname);
    web_resp_printf(w->r, "<button type=\"submit\" name=\"action\" value=\"hostname\" id=\"hostname-save\">Save</button>\n"
                    "</form>\n");
    web_end(w);
}

static void web_post_network(struct web_call *w)
{
    char action[16], v[WEB_FIELD_MAX], gw[WEB_FIELD_MAX];
    web_field(w, "action", action, sizeof(action));
    if (strcmp(action, "restart") == 0) {
        web_restart(w, "/network");
    } else if (strcmp(action, "ip") == 0) {
        if (web_field(w, "mode", v, sizeof(v)) > 0 && strcmp(v, "dhcp") == 0) {
            const char *a[] = { "dhcp" };
            web_run(w, "set ip", a, 1);
        } else if (strcmp(v, "static") == 0 && web_field(w, "address", v, sizeof(v)) > 0 &&
                   web_field(w, "gateway", gw, sizeof(gw)) > 0) {
            const char *a[] = { v, gw };
            web_run(w, "set ip", a, 2);
        } else {
            web_error(w, "a static address needs the address with its prefix length and the gateway");
        }
    } else if (strcmp(action, "hostname") == 0 && web_field(w, "hostname", v, sizeof(v)) > 0) {
        const char *a[] = { v };
        web_run(w, "set hostname", a, 1);
    } else if (strcmp(action, "dns") == 0 && web_field(w, "dns", v, sizeof(v)) > 0) {
        /* One word per server, as the console takes them. */
        const char *a[DNS_SERVERS_MAX];
        int n = 0;
        char *p = v;
        while (*p && n < DNS_SERVERS_MAX) {
            while (*p == ' ' || *p == ',')
                *p++ = '\0';
            if (!*p)
                break;
            a[n++] = p;
            p += strcspn(p, " ,");
        }
        if (n > 0)
            web_run(w, "set dns", a, n);
        else
            web_error(w, "no DNS server given");
    } else {
        web_error(w, "a value is needed");
    }
    if (w->msg_err)
        w->r->status = 400;
    web_page_network(w);
}

/* The DNS records page's check: one at a time, asynchronous (dnsrec.h).
 * POST /dns starts it and redirects to GET /dns, which says "checking"
 * and refreshes itself until the check is done, then shows each record's
 * status.  The HTTP connection is never held: the event loop goes on. */
#define WEB_DNS_REFRESH_S 2
static struct dnsrec_check web_check PB_STORE_SECTION;
static char web_check_domain[MAIL_DOMAIN_MAX + 1];
static struct identity web_flash_id PB_STORE_SECTION;
static struct dnsrec web_recs[DNSREC_MAX] PB_STORE_SECTION;

static void web_check_done(struct dnsrec_check *c, void *arg)
{
    (void)arg;
    int ok = 0;
    for (int i = 0; i < c->count; i++)
        ok += c->status[i] == DNSREC_PRESENT;
    log_printf("web: dns check %s: %d of %d records present", web_check_domain, ok, c->count);
}

static const char *web_dns_status_class(enum dnsrec_status s)
{
    return s == DNSREC_PRESENT ? "ok" : s == DNSREC_PENDING ? "muted" : "err";
}

/* One domain's records as a table, with the check's verdicts when the
 * last check was of this domain.  idx numbers the controls. */
static void web_dns_domain(struct web_call *w, const char *domain, int idx)
{
    struct dnsrec_input in;
    char pub[IP4ADDR_STRLEN_MAX];
    dnsrec_input_local(domain, &web_flash_id, pub, sizeof(pub), &in);
    bool checked = strcmp(domain, web_check_domain) == 0;
    bool busy = checked && web_check.busy;
    int n = dnsrec_build(&in, web_recs, DNSREC_MAX);
    web_resp_printf(w->r, "<section class=\"dns-domain\" id=\"dns-domain-%d\">\n<h2>", idx);
    web_resp_html(w->r, domain);
    web_resp_printf(w->r, "</h2>\n");
    if (n < 0) {
        web_resp_printf(w->r, "<p class=\"msg err\">No records: %s</p>\n</section>\n", pb_err_str(n));
        return;
    }
    web_resp_printf(w->r, "<table class=\"records\" id=\"dns-records-%d\">\n<tr><th>Name</th><th>Type</th>"
                    "<th>Value</th>%s</tr>\n", idx, checked ? "<th>Published</th>" : "");
    bool placeholder = false;
    for (int i = 0; i < n; i++) {
        const struct dnsrec *rec = &web_recs[i];
        placeholder |= rec->placeholder;
        web_resp_printf(w->r, "<tr><td class=\"copy\">");
        web_resp_html(w->r, rec->name);
        web_resp_printf(w->r, "</td><td>%s</td><td class=\"copy\">", dnsrec_type_name(rec->type));
        web_resp_html(w->r, rec->value);
        web_resp_printf(w->r, "</td>");
        if (checked) {
            /* The check built the same list (same inputs), in the same
             * order; a record it does not have (the inputs changed
             * since) shows as not checked. */
            int k = -1;
            for (int j = 0; j < web_check.count && k < 0; j++)
                if (web_check.rec[j].type == rec->type && strcmp(web_check.rec[j].name, rec->name) == 0 &&
                    strcmp(web_check.rec[j].value, rec->value) == 0)
                    k = j;
            enum dnsrec_status st = k < 0 ? DNSREC_PENDING : web_check.status[k];
            const char *what = k < 0 ? "not checked" : busy && st == DNSREC_PENDING ? "checking..." :
                               dnsrec_status_name(st);
            web_resp_printf(w->r, "<td class=\"status %s\" id=\"dns-status-%d-%d\">%s",
                            web_dns_status_class(st), idx, i, what);
            if (k >= 0 && (st == DNSREC_DIFFERENT || st == DNSREC_FAILED)) {
                web_resp_printf(w->r, "<br>%s ", st == DNSREC_DIFFERENT ? "found:" : "why:");
                web_resp_html(w->r, web_check.found[k]);
            }
            web_resp_printf(w->r, "</td>");
        }
        web_resp_printf(w->r, "</tr>\n");
    }
    web_resp_printf(w->r, "</table>\n<ul class=\"notes\">\n");
    for (int i = 0; i < n; i++) {
        if (!web_recs[i].note)
            continue;
        web_resp_printf(w->r, "<li><b>%s</b> ", dnsrec_type_name(web_recs[i].type));
        web_resp_html(w->r, web_recs[i].name);
        web_resp_printf(w->r, ": ");
        web_resp_html(w->r, web_recs[i].note);
        web_resp_printf(w->r, "</li>\n");
    }
    if (placeholder)
        web_resp_printf(w->r, "<li id=\"dns-placeholder-%d\">The appliance does not know the office's public "
                        "address (it is behind NAT): put that address in place of <code>%s</code>.</li>\n",
                        idx, DNSREC_PLACEHOLDER_A);
    if (!in.cert_der)
        web_resp_printf(w->r, "<li>No TLS certificate on flash, so no TLSA record.</li>\n");
    web_resp_printf(w->r, "<li>Names are written without the final dot; many registrar forms want only the "
                    "part before <code>");
    web_resp_html(w->r, domain);
    web_resp_printf(w->r, "</code>.</li>\n<li id=\"dns-dkim-%d\">", idx);
    web_resp_html(w->r, DNSREC_DKIM_NOTE);
    web_resp_printf(w->r, "</li>\n</ul>\n");
    char policy[DNSREC_POLICY_MAX];
    if (dnsrec_mta_sts_policy(in.hostname, in.self_signed, policy, sizeof(policy)) > 0) {
        web_resp_printf(w->r, "<p>The MTA-STS policy is served at <code>https://mta-sts.");
        web_resp_html(w->r, domain);
        web_resp_printf(w->r, "/.well-known/mta-sts.txt</code>%s:</p>\n<pre>",
                        in.self_signed ? " (mode testing: the certificate is self-signed)" : "");
        web_resp_html(w->r, policy);
        web_resp_printf(w->r, "</pre>\n");
    }
    web_resp_printf(w->r, "<form method=\"post\" action=\"/dns\" class=\"inline\">\n");
    web_csrf(w);
    web_resp_printf(w->r, "<input type=\"hidden\" name=\"domain\" value=\"");
    web_resp_html(w->r, domain);
    if (idx == 0)
        web_resp_printf(w->r, "\"><button type=\"submit\" name=\"action\" value=\"check\" id=\"dns-check\"");
    else
        web_resp_printf(w->r, "\"><button type=\"submit\" name=\"action\" value=\"check\" id=\"dns-check-%d\"",
                        idx);
    web_resp_printf(w->r, "%s>%s</button>\n</form>\n</section>\n", web_check.busy ? " disabled" : "",
                    busy ? "Checking..." : "Check");
}

static void web_page_dns(struct web_call *w)
{
    bool busy = web_check.busy;
    if (busy) {
        /* No JavaScript needed: the browser asks again until it is done. */
        web_resp_header(w->r, "Refresh: %d", WEB_DNS_REFRESH_S);
    }
    web_begin(w, "DNS records");
    if (busy) {
        web_resp_printf(w->r, "<meta http-equiv=\"refresh\" content=\"%d\">\n<p class=\"msg\" id=\"dns-checking\">"
                        "Checking the records of ", WEB_DNS_REFRESH_S);
        web_resp_html(w->r, web_check_domain);
        web_resp_printf(w->r, " through the appliance's resolver...</p>\n");
    }
    web_resp_printf(w->r, "<p>Publish these records at the registrar of each mail domain. "
                    "<b>Check</b> looks each one up through the appliance's own resolver and says whether "
                    "it is present, missing or different.</p>\n");
    char name[MAIL_DOMAIN_MAX + 1] = "";
    struct store *st = storage_get();
    int n = 0;
    /* Bounded: the store holds at most PB_STORE_MAX_RECS named records. */
    while (st && n < (int)PB_STORE_MAX_RECS && accounts_next(st, STORE_NS_DOMAIN, name, name, sizeof(name)) >= 0)
        web_dns_domain(w, name, n++);
    if (n == 0)
        web_resp_printf(w->r, "<p id=\"dns-none\">No mail domain yet: add one on the "
                        "<a href=\"/aliases\">domains</a> page.</p>\n");
    web_end(w);
}

static void web_post_dns(struct web_call *w)
{
    char action[16], domain[MAIL_DOMAIN_MAX + 1];
    web_field(w, "action", action, sizeof(action));
    if (strcmp(action, "check") != 0) {
        web_error(w, "unknown action");
    } else if (web_check.busy) {
        snprintf(w->msg, sizeof(w->msg), "error: a check of %s is under way; wait for its answer",
                 web_check_domain);
        w->msg_err = true;
    } else if (web_field(w, "domain", domain, sizeof(domain)) <= 0 || !storage_get() ||
               !accounts_domain_exists(storage_get(), domain)) {
        web_error(w, "no such mail domain");
    } else {
        struct dnsrec_input in;
        char pub[IP4ADDR_STRLEN_MAX];
        dnsrec_input_local(domain, &web_flash_id, pub, sizeof(pub), &in);
        snprintf(web_check_domain, sizeof(web_check_domain), "%s", domain);
        int err = dnsrec_check_start(&web_check, &in, web_check_done, NULL);
        if (err) {
            snprintf(w->msg, sizeof(w->msg), "error: no records for %s: %s", domain, pb_err_str(err));
            w->msg_err = true;
        } else {
            log_printf("web: dns check of %s started", domain);
            /* The page shows the progress (and refreshes until done). */
            web_redirect(w->r, 303, "/dns");
            return;
        }
    }
    w->r->status = 400;
    web_page_dns(w);
}

/* ---------------------------------------------------------- routing --- */

static bool web_is_autoconfig(const char *path)
{
    return strcmp(path, "/.well-known/autoconfig/mail/config-v1.1.xml") == 0 ||
           strcmp(path, "/mail/config-v1.1.xml") == 0 ||
           strcmp(path, "/autodiscover/autodiscover.xml") == 0 ||
           strcmp(path, "/Autodiscover/Autodiscover.xml") == 0;
}

static void web_autoconfig(struct web_call *w)
{
    const char *path = w->req->path;
    const char *host = config_get()->hostname;
    if (path[1] == 'a' || path[1] == 'A') {
        if (w->req->method != HTTP_POST) {
            web_plain(w->r, 405, "autodiscover takes POST");
            web_resp_header(w->r, "Allow: POST");
            return;
        }
        web_autoconfig_outlook(host, (const char *)w->req->body, w->req->body_len, w->r);
        return;
    }
    char email[256];
    if (http_form_get(w->req->query, strlen(w->req->query), "emailaddress", email, sizeof(email)) < 0)
        email[0] = '\0';
    web_autoconfig_thunderbird(host, email, w->r);
}

/* The MTA-STS policy (RFC 8461 3.3: HTTPS only, no session: senders
 * fetch it from https://mta-sts.DOMAIN/).  Its mode follows the
 * certificate the services present now. */
static void web_mta_sts(struct web_call *w)
{
    struct identity_info info;
    bool self_signed = true;
    if (w->ctx->identity && identity_info(w->ctx->identity, &info) == 0)
        self_signed = info.self_signed;
    char policy[DNSREC_POLICY_MAX];
    int n = dnsrec_mta_sts_policy(config_get()->hostname, self_signed, policy, sizeof(policy));
    if (n < 0) {
        web_plain(w->r, 404, "no MTA-STS policy: the host name is not a valid DNS name");
        return;
    }
    w->r->ctype = "text/plain; charset=utf-8";
    web_resp_raw(w->r, policy, (size_t)n);
}

/* Plain HTTP: https://HOST/PATH?QUERY, HOST from the request when it is
 * plain host characters (its port dropped: HTTPS is on 443), else ours. */
static void web_to_https(struct web_call *w)
{
    char host[NET_HOSTNAME_MAX + 1 > HTTP_HOST_MAX ? NET_HOSTNAME_MAX + 1 : HTTP_HOST_MAX];
    const char *h = w->req->host;
    size_t n = strcspn(h, ":");
    if (h[0] == '[')
        n = strcspn(h, "]") + 1;        /* an IPv6 literal keeps its brackets */
    bool ok = n > 0 && n < sizeof(host);
    for (size_t i = 0; ok && i < n; i++)
        ok = (h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') || (h[i] >= '0' && h[i] <= '9') ||
             strchr(".-[]:", h[i]) != NULL;
    if (ok) {
        memcpy(host, h, n);
        host[n] = '\0';
    } else {
        snprintf(host, sizeof(host), "%s", config_get()->hostname);
    }
    char where[sizeof(host) + HTTP_PATH_MAX + HTTP_QUERY_MAX + 16];
    snprintf(where, sizeof(where), "https://%s%s%s%s", host, w->req->path, w->req->query[0] ? "?" : "",
             w->req->query);
    web_redirect(w->r, 301, where);
}

static void web_static(struct web_call *w)
{
    const struct web_asset *a = web_asset_find(w->req->path, true);
    if (!a) {
        web_plain(w->r, 404, "not found");
        return;
    }
    w->r->ctype = a->ctype;
    web_resp_raw(w->r, (const char *)a->data, a->len);
    web_resp_header(w->r, "Cache-Control: max-age=3600");
}

void web_page_handle(const struct web_ctx *ctx, struct web_resp *r)
{
    static struct web_call call;
    struct web_call *w = &call;
    memset(w, 0, sizeof(*w));
    w->ctx = ctx;
    w->req = ctx->req;
    w->r = r;
    const struct http_req *q = ctx->req;
    const char *path = q->path;

    if (q->method == HTTP_OTHER) {
        web_plain(r, 405, "method not allowed");
        web_resp_header(r, "Allow: GET, HEAD, POST");
        return;
    }
    if (web_is_autoconfig(path)) {
        web_autoconfig(w);
        return;
    }
    if (!ctx->https) {
        web_to_https(w);
        return;
    }
    if (strcmp(path, "/.well-known/mta-sts.txt") == 0) {
        web_mta_sts(w);
        return;
    }
    if (strncmp(path, "/static/", 8) == 0) {
        web_static(w);
        return;
    }

    char token[WEB_TOKEN_HEX + 8];
    if (http_cookie_get(q->cookie, "pb_session", token, sizeof(token)) > 0)
        w->session = web_session_find(token, ctx->now_ms);
    bool post = q->method == HTTP_POST;
    if (post && !strstr(q->ctype, "application/x-www-form-urlencoded")) {
        web_plain(r, 415, "forms are sent as application/x-www-form-urlencoded");
        return;
    }
    /* A signed-in POST without its session's CSRF token changes nothing. */
    if (post && w->session) {
        char csrf[WEB_TOKEN_HEX + 8];
        if (web_field(w, "csrf", csrf, sizeof(csrf)) < 0 || !web_session_csrf_ok(w->session, csrf)) {
            log_printf("web: POST %s from %s without a valid CSRF token: refused", path, ctx->peer);
            web_plain(r, 403, "the form is stale or forged (no valid CSRF token); reload the page");
            return;
        }
    }

    bool setup = !admin_password_exists();
    if (strcmp(path, "/setup") == 0) {
        if (!setup)
            web_redirect(r, 303, "/login");
        else if (post)
            web_post_setup(w);
        else
            web_page_setup(w);
        return;
    }
    if (setup) {
        /* Until the first-boot setup is done there is nothing to sign in to. */
        if (post)
            web_plain(r, 401, "set the appliance up first: /setup");
        else
            web_redirect(r, 303, "/setup");
        return;
    }
    if (strcmp(path, "/login") == 0) {
        if (post)
            web_post_login(w);
        else if (w->session)
            web_redirect(r, 303, "/");
        else
            web_page_login(w);
        return;
    }
    if (!w->session) {
        if (post)
            web_plain(r, 401, "sign in first");
        else
            web_redirect(r, 303, "/login");
        return;
    }
    if (strcmp(path, "/logout") == 0) {
        if (post)
            web_post_logout(w);
        else
            web_plain(r, 405, "sign out with POST");
        return;
    }
    for (size_t i = 0; i < sizeof(web_routes) / sizeof(web_routes[0]); i++) {
        const struct web_route *rt = &web_routes[i];
        if (strcmp(path, rt->path) != 0)
            continue;
        if (post && !rt->post) {
            web_plain(r, 405, "this page takes no form");
            web_resp_header(r, "Allow: GET, HEAD");
            return;
        }
        if (post)
            rt->post(w);
        else
            rt->get(w);
        return;
    }
    web_plain(r, 404, "not found");
}
