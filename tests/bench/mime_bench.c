/*
 * mime_bench.c - host throughput of the MIME structure parser and the base64
 * decoder on a 10 MB message (a text part and a base64 attachment), fed in
 * 4 KiB chunks as the store hands them out.  Prints MB/s; asserts nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cte.h"
#include "mime.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(void)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t cap = 11u << 20, n = 0;
    char *m = malloc(cap);
    if (!m)
        return 1;
    n += (size_t)sprintf(m + n, "From: a@example.test\r\nSubject: big\r\nMIME-Version: 1.0\r\n"
                         "Content-Type: multipart/mixed; boundary=\"=_b\"\r\n\r\n--=_b\r\n"
                         "Content-Type: text/plain\r\n\r\nsee attachment\r\n--=_b\r\n"
                         "Content-Type: application/octet-stream\r\n"
                         "Content-Transfer-Encoding: base64\r\n\r\n");
    while (n < 10u * 1000 * 1000) {
        for (size_t i = 0; i < 76; i++)
            m[n + i] = b64[(n * 7 + i) % 64];
        n += 76;
        m[n++] = '\r';
        m[n++] = '\n';
    }
    n += (size_t)sprintf(m + n, "--=_b--\r\n");

    static struct mime_part parts[16];
    struct mime_parser p;
    double best = 1e9;
    for (int r = 0; r < 5; r++) {
        double t0 = now();
        mime_parse_begin(&p, parts, 16);
        for (size_t i = 0; i < n; i += 4096)
            mime_parse_feed(&p, m + i, n - i < 4096 ? n - i : 4096);
        int np = mime_parse_end(&p);
        double t = now() - t0;
        if (t < best)
            best = t;
        if (np != 3)
            return 1;
    }
    printf("mime structure: %.1f MB in %.2f ms: %.0f MB/s (4 KiB chunks)\n",
           (double)n / 1e6, best * 1e3, (double)n / 1e6 / best);

    static char out[8192];
    struct mail_cte d;
    best = 1e9;
    for (int r = 0; r < 5; r++) {
        double t0 = now();
        mail_cte_init(&d, MAIL_CTE_BASE64);
        size_t off = parts[2].body_off, end = off + parts[2].body_len;
        while (off < end) {
            size_t used;
            mail_cte_decode(&d, m + off, end - off < 4096 ? end - off : 4096, &used, out, sizeof(out));
            off += used;
        }
        double t = now() - t0;
        if (t < best)
            best = t;
    }
    printf("base64 decode: %.0f MB/s of encoded input\n", (double)parts[2].body_len / 1e6 / best);
    free(m);
    return 0;
}
