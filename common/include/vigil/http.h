/* HTTP(S) server on libevent's evhttp: routing with {param} segments, body limit (413),
 * JSON error bodies {"error":{"code","message"}}, request ids, TCP_NODELAY, optional TLS,
 * request metrics and graceful drain. All calls happen on the event loop thread. */
#ifndef VIGIL_HTTP_H
#define VIGIL_HTTP_H

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct vg_http_server vg_http_server;

/* One request. Valid until a vg_http_reply* call, which frees it; a handler may keep it
 * and reply later from the loop thread (e.g. after a Kafka acknowledgement). */
typedef struct vg_http_req {
    struct evhttp_request *ev;
    const char *method;        /* "GET", "POST", ... */
    const char *path;          /* decoded path without the query */
    const char *request_id;    /* from X-Request-Id when sane, else generated */
    const unsigned char *body; /* NUL-terminated copy of the body (may contain NULs) */
    size_t body_len;
    const char *client_ip;
    bool tls;
    void *user; /* free for the handler */
} vg_http_req;

typedef void (*vg_http_handler)(vg_http_req *req, void *arg);

typedef struct vg_http_opts {
    const char *addr;     /* "host:port"; port 0 picks a free one */
    size_t max_body;      /* bytes; larger bodies get 413 */
    const char *tls_cert; /* PEM paths; both NULL = plain HTTP */
    const char *tls_key;
    int timeout_s; /* per-connection read/write timeout */
} vg_http_opts;

vg_http_server *vg_http_server_new(struct event_base *base, const vg_http_opts *opts, char *errbuf,
                                   size_t errlen);
void vg_http_server_destroy(vg_http_server *srv); /* NULL is a no-op */
/* The bound port (useful with port 0). */
int vg_http_server_port(const vg_http_server *srv);

/* Registers a route. method NULL matches any method; pattern segments "{name}" match one
 * path segment, a final "*" matches the rest. Routes are tried in registration order;
 * a path that matches with another method gets 405. Strings must outlive the server. */
void vg_http_route(vg_http_server *srv, const char *method, const char *pattern, vg_http_handler fn,
                   void *arg);
/* Handler for paths no route matches (default: 404 JSON). */
void vg_http_fallback(vg_http_server *srv, vg_http_handler fn, void *arg);

/* The value of a {name} segment of the matched route, or NULL. */
const char *vg_http_param(const vg_http_req *req, const char *name);
/* A query-string parameter (decoded), or NULL. */
const char *vg_http_query(const vg_http_req *req, const char *name);
/* A request header, or NULL. */
const char *vg_http_header(const vg_http_req *req, const char *name);
/* Adds a response header (before replying). */
void vg_http_set_header(vg_http_req *req, const char *name, const char *value);

/* Parses the body as JSON. On failure replies 400 itself and returns NULL (the request is
 * then finished: return from the handler). Caller json_decref()s the result. */
json_t *vg_http_body_json(vg_http_req *req);

/* Replies and frees req. body is stolen (may be NULL for an empty body). */
void vg_http_reply_json(vg_http_req *req, int status, json_t *body);
void vg_http_reply_error(vg_http_req *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void vg_http_reply_raw(vg_http_req *req, int status, const char *content_type, const void *data,
                       size_t len);

/* Stops accepting, lets in-flight requests finish; calls done(arg) once none remain or
 * after timeout_s (then the rest are dropped). */
void vg_http_server_drain(vg_http_server *srv, int timeout_s, void (*done)(void *), void *arg);
/* Requests received but not yet answered. */
size_t vg_http_server_inflight(const vg_http_server *srv);

#endif
