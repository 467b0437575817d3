// fuzz-links: smtp/smtp_client.c accounts/sasl.c
/*
 * fuzz_smtp_client.c - libFuzzer target for the SMTP client's reply
 * parser and state machine: whatever a server sends (the input, cut into
 * reads at points the first byte picks, with the client's output pulled
 * between reads and STARTTLS completed when asked), the session never
 * reads or writes out of bounds, every reply code kept is 100..599, a
 * recipient is only ever "accepted" with a 2xx to its RCPT, the final
 * reply is reported at most once, and the body handed out is the message
 * dot-stuffed and terminated exactly once.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fuzz_body[] = "Subject: x\r\n\r\n.dot\r\nline\r\n";

static int fuzz_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    (void)ctx;
    size_t n = sizeof(fuzz_body) - 1;
    if (off >= n)
        return 0;
    if (len > n - off)
        len = n - (size_t)off;
    memcpy(buf, fuzz_body + off, len);
    return (int)len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct smtp_client c;
    static uint8_t out[8192];
    if (size < 1 || size > 65536)
        return 0;
    unsigned step = data[0] ? data[0] : 1;
    struct smtp_client_config cfg = {
        .helo = "fuzz.example", .tls_available = data[0] & 1, .tls_required = (data[0] >> 1) & 1,
        .body_8bit = (data[0] >> 2) & 1, .size = sizeof(fuzz_body) - 1,
        .tls_implicit = (data[0] >> 3) & 1,
        .auth_user = (data[0] >> 4) & 1 ? "fuzz-user" : NULL, .auth_pass = "fuzz-pass",
    };
    data++;
    size--;
    smtp_client_init(&c, &cfg, "a@example.test", 14, fuzz_read, NULL, 0);
    smtp_client_add_rcpt(&c, "b@example.net", 13);
    smtp_client_add_rcpt(&c, "c@example.net", 13);
    int finals = 0, dots = 0;
    uint64_t now = 0;
    size_t off = 0;
    for (int rounds = 0; off < size && rounds < 100000; rounds++) {
        size_t n = size - off < step ? size - off : step;
        size_t used = smtp_client_input(&c, data + off, n, now);
        if (used > n)
            abort();
        if (c.state == SMTP_CLIENT_TLS)
            smtp_client_tls_started(&c, "TLSv1.3", now);
        off += used ? used : (c.state == SMTP_CLIENT_DONE ? size - off : 0);
        size_t got = smtp_client_pull(&c, out, sizeof(out), now);
        if (got > sizeof(out))
            abort();
        for (size_t i = 0; i + 5 <= got; i++)
            dots += memcmp(out + i, "\r\n.\r\n", 5) == 0;
        finals += smtp_client_final(&c);
        now += 1000;
        smtp_client_tick(&c, now);
        if (c.state == SMTP_CLIENT_DONE)
            break;
    }
    if (finals > 1 || dots > 1)
        abort();
    /* No mail is sent before the login with credentials. */
    if (cfg.auth_user && dots && !c.authenticated)
        abort();
    for (int i = 0; i < c.nrcpt; i++) {
        int code = c.rcpt[i].reply.code;
        if (code != 0 && (code < 100 || code > 599))
            abort();
        if (memchr(c.rcpt[i].reply.text, '\0', sizeof(c.rcpt[i].reply.text)) == NULL)
            abort();
    }
    return 0;
}
