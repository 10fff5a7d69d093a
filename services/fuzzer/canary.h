/* The SSRF canary: a small HTTP server run by the fuzzer (on loopback by default) that
 * records which unique token paths (/c/<token>) were fetched. A hit with a token proves
 * that the target made the request the token was planted in. */
#ifndef FUZZER_CANARY_H
#define FUZZER_CANARY_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct fz_canary fz_canary;

/* Binds addr ("host:port", port 0 = any) on base. public_url, when not NULL/empty, is the
 * URL targets must use to reach it (e.g. through a tunnel); otherwise http://addr.
 * Returns NULL with errbuf set. */
fz_canary *fz_canary_new(struct event_base *base, const char *addr, const char *public_url,
                         char *errbuf, size_t errlen);
void fz_canary_destroy(fz_canary *c); /* NULL is a no-op */
/* The URL to plant for token (new string). */
char *fz_canary_url(const fz_canary *c, const char *token);
/* True once a request for token's path arrived. */
bool fz_canary_hit(const fz_canary *c, const char *token);
/* Requests received in all. */
size_t fz_canary_hits(const fz_canary *c);

#endif
