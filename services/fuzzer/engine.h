/* The request engine: libcurl multi driven by libevent (curl_multi_socket_action from event
 * callbacks) on the caller's event_base. Keep-alive connection reuse, HTTP/1.1 and HTTP/2
 * (CURL_HTTP_VERSION_2TLS), a concurrency cap, a token-bucket rate limit, a per-request
 * timeout, retries on transport errors only (never on an HTTP answer), and a deadline.
 * One engine serves one target; used from one thread. */
#ifndef FUZZER_ENGINE_H
#define FUZZER_ENGINE_H

#include <event2/event.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/alloc.h"

typedef struct fz_req {
    /* what to send (owned by the request) */
    char *method;
    char *url;
    char **headers; /* "Name: value" lines */
    int nheaders;
    char *body; /* NULL for none */
    size_t body_len;
    const char *identity; /* name of the identity whose headers were added (borrowed), or NULL */
    /* the answer */
    int status;          /* HTTP status, 0 on a transport failure */
    vg_buf resp_headers; /* raw header lines of the final response */
    vg_buf resp_body;    /* first max_body bytes */
    size_t resp_size;    /* full body size */
    double elapsed_ms;
    int attempts;
    char error[160]; /* transport error text when status == 0 */
} fz_req;

fz_req *fz_req_new(const char *method, const char *url);
void fz_req_destroy(fz_req *req); /* NULL is a no-op */
/* Adds a header line (copied), e.g. "Origin: https://x.example". */
void fz_req_add_header(fz_req *req, const char *line);
/* Replaces (or adds) header `name` with value. */
void fz_req_set_header(fz_req *req, const char *name, const char *value);
/* Removes every header called name. */
void fz_req_del_header(fz_req *req, const char *name);
/* Sets the body (copied) and a Content-Type header when ctype is not NULL. */
void fz_req_set_body(fz_req *req, const char *ctype, const void *body, size_t len);
/* A response header value (new string) or NULL; case-insensitive name. */
char *fz_req_resp_header(const fz_req *req, const char *name);

typedef struct fz_engine_opts {
    int concurrency;         /* requests in flight at once (default 16) */
    double rate;             /* requests per second, <= 0 unlimited */
    int timeout_ms;          /* per request (default 10000) */
    int retries;             /* extra attempts on transport errors (default 2) */
    size_t max_body;         /* bytes of response body kept (default 256 KiB) */
    int64_t deadline_ms;     /* vg_now_ms() after which nothing new starts; 0 = none */
    const atomic_bool *stop; /* when set (another thread may set it), acts as a passed deadline */
} fz_engine_opts;

typedef struct fz_engine fz_engine;

fz_engine *fz_engine_new(struct event_base *base, const fz_engine_opts *opts);
void fz_engine_destroy(fz_engine *eng); /* NULL is a no-op */
/* Sends every request (concurrently, within the limits) and returns when all have an answer
 * or failed. Runs the event loop meanwhile, so other events of the base (a canary server,
 * timers) are served. Returns the number of requests that got an HTTP answer. */
size_t fz_engine_run(fz_engine *eng, fz_req **reqs, size_t n);
/* Convenience: one request. Returns true when it got an HTTP answer. */
bool fz_engine_send(fz_engine *eng, fz_req *req);
/* Lets the loop run for ms milliseconds (e.g. to wait for a canary hit). */
void fz_engine_idle(fz_engine *eng, int ms);
/* True once the deadline passed. */
bool fz_engine_expired(const fz_engine *eng);
/* Requests sent (attempts included) since the engine was made. */
uint64_t fz_engine_sent(const fz_engine *eng);

#endif
