/* HTTP(S) server on libevent's evhttp (see vigil/http.h); routing lives in http_route.c.
 *
 * Lifecycles, all on the loop thread:
 * - http_conn: created at the first request of an evhttp connection (TCP_NODELAY is set
 *   then, once), freed by evhttp's close callback. It knows the request being handled,
 *   since evhttp reads the next request of a connection only after the reply is written.
 * - req_priv (the vg_http_req handed to handlers): freed by the vg_http_reply* call. When
 *   the connection goes away first, the close callback orphans it (ev = NULL) and the
 *   reply only frees it; when the server is destroyed first, srv is cleared too.
 *
 * Body limit: evhttp answers an over-limit body with its own HTML 413 and no hook exists
 * in libevent 2.1 to change that, so evhttp's limit is set well above ours (see
 * evhttp_body_cap) and our JSON 413 covers every body up to that cap. Bodies beyond the
 * cap still get a 413, from evhttp, without the JSON error document. */
#include "vigil/http.h"

#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "http_route.h"
#include "vigil/alloc.h"
#include "vigil/log.h"
#include "vigil/metrics.h"
#include "vigil/util.h"

#define DEFAULT_MAX_BODY (1024 * 1024)
#define DEFAULT_TIMEOUT_S 30
#define MAX_HEADERS_SIZE (64 * 1024)
#define REQUEST_ID_MAX 64
#define STATUS_CLIENT_GONE 499 /* as nginx logs it: the client closed before the reply */

#define REQUESTS_METRIC "vigil_http_requests_total"
#define REQUESTS_HELP "HTTP requests answered, by route pattern, method and status code."
#define DURATION_METRIC "vigil_http_request_duration_seconds"
#define DURATION_HELP "Time from a complete HTTP request to its reply, by route pattern."

typedef struct http_conn http_conn;
typedef struct req_priv req_priv;

struct http_conn {
    struct evhttp_connection *evcon;
    vg_http_server *srv;
    req_priv *pending; /* the request being handled, until its reply */
    bool flushing;     /* a reply is queued but not written yet */
    http_conn *hnext;  /* hash chain */
};

struct req_priv {
    vg_http_req pub;     /* first member: vg_http_req * and req_priv * convert */
    vg_http_server *srv; /* NULL once the server is destroyed */
    http_conn *conn;     /* NULL once replied to or orphaned */
    http_route *route;   /* NULL = unmatched (metrics label) */
    http_path path;
    http_param params[HTTP_MAX_PARAMS];
    size_t nparams;
    char *rest; /* the "*" parameter */
    char *path_decoded;
    char *query_raw;
    struct evkeyvalq query;
    bool query_parsed;
    unsigned char *body;
    char request_id[REQUEST_ID_MAX + 1];
    char client_ip[64];
    struct timespec start;
    req_priv *prev, *next; /* srv->live */
};

struct vg_http_server {
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound; /* NULL once draining */
    SSL_CTX *ssl_ctx;
    int port;
    size_t max_body;
    http_route **routes;
    size_t nroutes, caproutes;
    http_route *unmatched;
    vg_http_handler fallback;
    void *fallback_arg;
    http_conn **conns; /* hash of evcon -> http_conn, power-of-two buckets */
    size_t nbuckets, nconns;
    req_priv *live; /* every request not replied to yet */
    size_t inflight;
    size_t flushing;
    bool draining, drain_finished;
    struct event *drain_timer;
    struct event *drain_idle;
    void (*drain_done)(void *);
    void *drain_arg;
};

static void drain_check(vg_http_server *srv);

/* ---- connections ---------------------------------------------------------------------- */

static size_t conn_bucket(const vg_http_server *srv, const void *evcon)
{
    uint64_t x = (uint64_t)(uintptr_t)evcon;
    x ^= x >> 17;
    x *= 0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 32) & (srv->nbuckets - 1);
}

static void conn_map_grow(vg_http_server *srv)
{
    size_t old_n = srv->nbuckets;
    http_conn **old = srv->conns;
    srv->nbuckets = old_n ? old_n * 2 : 64;
    srv->conns = vg_calloc(srv->nbuckets, sizeof *srv->conns);
    for (size_t i = 0; i < old_n; i++) {
        http_conn *c = old[i];
        while (c != NULL) {
            http_conn *next = c->hnext;
            size_t b = conn_bucket(srv, c->evcon);
            c->hnext = srv->conns[b];
            srv->conns[b] = c;
            c = next;
        }
    }
    free(old);
}

static http_conn *conn_find(const vg_http_server *srv, const struct evhttp_connection *evcon)
{
    if (srv->nbuckets == 0) {
        return NULL;
    }
    http_conn *c = srv->conns[conn_bucket(srv, evcon)];
    while (c != NULL && c->evcon != evcon) {
        c = c->hnext;
    }
    return c;
}

static void conn_remove(vg_http_server *srv, http_conn *conn)
{
    http_conn **pp = &srv->conns[conn_bucket(srv, conn->evcon)];
    while (*pp != NULL && *pp != conn) {
        pp = &(*pp)->hnext;
    }
    if (*pp == conn) {
        *pp = conn->hnext;
        srv->nconns--;
    }
}

/* evhttp's close callback: runs before libevent frees the connection and, with it, any
 * request still queued on it. */
static void on_conn_closed(struct evhttp_connection *evcon, void *arg)
{
    http_conn *conn = arg;
    vg_http_server *srv = conn->srv;
    (void)evcon;
    req_priv *rp = conn->pending;
    if (rp != NULL) {
        /* On EOF before the reply libevent detaches the request and leaves it to us;
         * otherwise it frees it with the connection. Either way the handler's reply now
         * only frees our side. */
        if (evhttp_request_get_connection(rp->pub.ev) == NULL) {
            evhttp_request_free(rp->pub.ev);
        }
        rp->pub.ev = NULL;
        rp->conn = NULL;
    }
    if (conn->flushing) {
        srv->flushing--;
    }
    conn_remove(srv, conn);
    free(conn);
    drain_check(srv);
}

static void set_nodelay(struct evhttp_connection *evcon)
{
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
    evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
    int one = 1;
    if (fd < 0 || setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
        vg_debug("http: cannot set TCP_NODELAY");
    }
}

/* The state of evcon, created (with TCP_NODELAY and the close callback) on first use. */
static http_conn *conn_get(vg_http_server *srv, struct evhttp_connection *evcon)
{
    http_conn *conn = conn_find(srv, evcon);
    if (conn != NULL) {
        return conn;
    }
    if (srv->nconns >= srv->nbuckets) {
        conn_map_grow(srv);
    }
    conn = vg_calloc(1, sizeof *conn);
    conn->evcon = evcon;
    conn->srv = srv;
    size_t b = conn_bucket(srv, evcon);
    conn->hnext = srv->conns[b];
    srv->conns[b] = conn;
    srv->nconns++;
    set_nodelay(evcon);
    evhttp_connection_set_closecb(evcon, on_conn_closed, conn);
    return conn;
}

/* evhttp calls this once the reply has been written. */
static void on_reply_written(struct evhttp_request *ev, void *arg)
{
    http_conn *conn = arg;
    (void)ev;
    if (conn->flushing) {
        conn->flushing = false;
        conn->srv->flushing--;
        drain_check(conn->srv);
    }
}

/* ---- requests ------------------------------------------------------------------------- */

static const char *method_name(enum evhttp_cmd_type cmd)
{
    switch (cmd) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_OPTIONS:
        return "OPTIONS";
    case EVHTTP_REQ_TRACE:
        return "TRACE";
    case EVHTTP_REQ_CONNECT:
        return "CONNECT";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    }
    return "OTHER";
}

static bool request_id_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > REQUEST_ID_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

static req_priv *req_new(vg_http_server *srv, http_conn *conn, struct evhttp_request *ev)
{
    req_priv *rp = vg_calloc(1, sizeof *rp);
    clock_gettime(CLOCK_MONOTONIC, &rp->start);
    rp->srv = srv;
    rp->conn = conn;
    conn->pending = rp;
    TAILQ_INIT(&rp->query);

    const char *rid = evhttp_find_header(evhttp_request_get_input_headers(ev), "X-Request-Id");
    if (request_id_valid(rid)) {
        snprintf(rp->request_id, sizeof rp->request_id, "%s", rid);
    } else {
        vg_uuid_v4(rp->request_id);
    }
    char *peer = NULL;
    ev_uint16_t peer_port = 0;
    evhttp_connection_get_peer(conn->evcon, &peer, &peer_port);
    snprintf(rp->client_ip, sizeof rp->client_ip, "%s", peer ? peer : "");

    rp->pub.ev = ev;
    rp->pub.method = method_name(evhttp_request_get_command(ev));
    rp->pub.path = "";
    rp->pub.request_id = rp->request_id;
    rp->pub.client_ip = rp->client_ip;
    rp->pub.tls = srv->ssl_ctx != NULL;

    rp->next = srv->live;
    if (srv->live != NULL) {
        srv->live->prev = rp;
    }
    srv->live = rp;
    srv->inflight++;
    return rp;
}

static void req_free(req_priv *rp)
{
    vg_http_server *srv = rp->srv;
    if (srv != NULL) {
        if (rp->prev != NULL) {
            rp->prev->next = rp->next;
        } else {
            srv->live = rp->next;
        }
        if (rp->next != NULL) {
            rp->next->prev = rp->prev;
        }
        srv->inflight--;
    }
    if (rp->conn != NULL && rp->conn->pending == rp) {
        rp->conn->pending = NULL;
    }
    http_path_free(&rp->path);
    free(rp->rest);
    free(rp->path_decoded);
    free(rp->query_raw);
    if (rp->query_parsed) {
        evhttp_clear_headers(&rp->query);
    }
    free(rp->body);
    free(rp);
    if (srv != NULL) {
        drain_check(srv);
    }
}

/* Splits the path (400 when malformed) and keeps the raw query for vg_http_query. */
static bool req_parse_target(req_priv *rp)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(rp->pub.ev);
    const char *raw = uri ? evhttp_uri_get_path(uri) : NULL;
    if (raw == NULL || raw[0] == '\0') {
        raw = "/";
    }
    if (!http_path_split(raw, &rp->path)) {
        return false;
    }
    vg_buf b = {0};
    for (size_t i = 0; i < rp->path.nsegs; i++) {
        vg_buf_printf(&b, "/%s", rp->path.segs[i]);
    }
    rp->path_decoded = vg_buf_steal(&b);
    rp->pub.path = rp->path_decoded;
    rp->query_raw = vg_strdup(uri ? evhttp_uri_get_query(uri) : NULL);
    return true;
}

/* Copies the body for the handler; replies 413 and returns false when it is too large. */
static bool req_take_body(req_priv *rp)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(rp->pub.ev);
    size_t len = evbuffer_get_length(in);
    if (len > rp->srv->max_body) {
        vg_http_reply_error(&rp->pub, 413, "payload_too_large",
                            "request body is larger than %zu bytes", rp->srv->max_body);
        return false;
    }
    rp->body = vg_malloc(len + 1);
    evbuffer_copyout(in, rp->body, len);
    rp->body[len] = '\0';
    rp->pub.body = rp->body;
    rp->pub.body_len = len;
    return true;
}

/* ---- metrics and access log ----------------------------------------------------------- */

static http_route *unmatched_route_new(void)
{
    http_route *r = vg_calloc(1, sizeof *r);
    r->pattern = "unmatched";
    r->label = vg_strdup("unmatched");
    return r;
}

static void route_metrics_init(http_route *r)
{
    char *labels = vg_asprintf("route=\"%s\"", r->label);
    r->latency = vg_histogram_get(DURATION_METRIC, DURATION_HELP, labels);
    free(labels);
}

/* The requests counter of (route, method, status), cached on the route: the registry is
 * only asked the first time. Loop thread only. */
static vg_counter *route_counter(http_route *r, const char *method, int status)
{
    for (size_t i = 0; i < r->ncounters; i++) {
        if (r->counters[i].method == method && r->counters[i].status == status) {
            return r->counters[i].counter;
        }
    }
    if (r->ncounters == r->capcounters) {
        r->capcounters = r->capcounters ? r->capcounters * 2 : 8;
        r->counters = vg_realloc(r->counters, r->capcounters * sizeof *r->counters);
    }
    char *labels = vg_asprintf("route=\"%s\",method=\"%s\",code=\"%d\"", r->label, method, status);
    http_code_counter *cc = &r->counters[r->ncounters++];
    cc->method = method;
    cc->status = status;
    cc->counter = vg_counter_get(REQUESTS_METRIC, REQUESTS_HELP, labels);
    free(labels);
    return cc->counter;
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Metrics and the access log line: route pattern only, never the path, query or headers
 * (they may carry tokens). */
static void req_record(req_priv *rp, int status)
{
    http_route *r = rp->route ? rp->route : rp->srv->unmatched;
    double secs = seconds_since(&rp->start);
    vg_histogram_observe(r->latency, secs);
    vg_counter_inc(route_counter(r, rp->pub.method, status));
    if (VG_LOG_DEBUG >= vg_log_threshold) {
        char code[16], ms[32];
        snprintf(code, sizeof code, "%d", status);
        snprintf(ms, sizeof ms, "%.3f", secs * 1000.0);
        vg_debug("http request", "method", rp->pub.method, "route", r->pattern, "status", code,
                 "duration_ms", ms, "request_id", rp->request_id);
    }
}

/* ---- replies -------------------------------------------------------------------------- */

static void set_output_header(struct evkeyvalq *h, const char *name, const char *value)
{
    evhttp_remove_header(h, name);
    evhttp_add_header(h, name, value);
}

static void add_response_headers(req_priv *rp, const char *content_type, bool json)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(rp->pub.ev);
    set_output_header(h, "X-Request-Id", rp->request_id);
    set_output_header(h, "X-Content-Type-Options", "nosniff");
    if (content_type != NULL) {
        set_output_header(h, "Content-Type", content_type);
    }
    if (json && evhttp_find_header(h, "Cache-Control") == NULL) {
        evhttp_add_header(h, "Cache-Control", "no-store");
    }
    if (rp->srv->draining) {
        set_output_header(h, "Connection", "close"); /* let clients move to a new instance */
    }
}

/* The one exit of every request: sends (unless orphaned), records, frees rp. */
static void req_reply(req_priv *rp, int status, const char *content_type, const void *data,
                      size_t len, bool json)
{
    http_conn *conn = rp->conn;
    if (conn == NULL) {
        if (rp->srv != NULL) {
            req_record(rp, STATUS_CLIENT_GONE);
        }
        req_free(rp);
        return;
    }
    struct evhttp_request *ev = rp->pub.ev;
    add_response_headers(rp, content_type, json);
    if (len > 0) {
        evbuffer_add(evhttp_request_get_output_buffer(ev), data, len);
    }
    conn->pending = NULL;
    rp->conn = NULL;
    rp->pub.ev = NULL;
    conn->flushing = true;
    rp->srv->flushing++;
    evhttp_request_set_on_complete_cb(ev, on_reply_written, conn);
    evhttp_send_reply(ev, status, NULL, NULL); /* ev and maybe conn are evhttp's from here */
    req_record(rp, status);
    req_free(rp);
}

void vg_http_reply_raw(vg_http_req *req, int status, const char *content_type, const void *data,
                       size_t len)
{
    req_reply((req_priv *)req, status, content_type, data, len, false);
}

void vg_http_reply_json(vg_http_req *req, int status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    bool failed = body != NULL && text == NULL;
    json_decref(body);
    if (failed) {
        vg_http_reply_error(req, 500, "internal", "cannot encode the response");
        return;
    }
    req_reply((req_priv *)req, status, text ? "application/json" : NULL, text,
              text ? strlen(text) : 0, true);
    free(text);
}

/* Makes s valid for a JSON string when it is not UTF-8: non-ASCII and control bytes -> '?'. */
static json_t *json_string_lossy(char *s)
{
    json_t *j = json_string(s);
    if (j != NULL) {
        return j;
    }
    for (unsigned char *p = (unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p >= 0x7f) {
            *p = '?';
        }
    }
    return json_string(s);
}

void vg_http_reply_error(vg_http_req *req, int status, const char *code, const char *fmt, ...)
{
    char msg[512], codebuf[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(codebuf, sizeof codebuf, "%s", code ? code : "error");
    json_t *err = json_object();
    json_object_set_new(err, "code", json_string_lossy(codebuf));
    json_object_set_new(err, "message", json_string_lossy(msg));
    json_t *body = json_object();
    json_object_set_new(body, "error", err);
    vg_http_reply_json(req, status, body);
}

json_t *vg_http_body_json(vg_http_req *req)
{
    json_error_t err;
    json_t *j = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &err);
    if (j == NULL) {
        vg_http_reply_error(req, 400, "invalid_json", "invalid JSON body (line %d, column %d): %s",
                            err.line, err.column, err.text);
    }
    return j;
}

/* ---- request accessors ---------------------------------------------------------------- */

const char *vg_http_param(const vg_http_req *req, const char *name)
{
    const req_priv *rp = (const req_priv *)req;
    size_t len = strlen(name);
    for (size_t i = 0; i < rp->nparams; i++) {
        const char *pn = rp->params[i].name; /* "{name}" or "*" */
        bool hit = pn[0] == '{' ? strlen(pn) == len + 2 && strncmp(pn + 1, name, len) == 0
                                : strcmp(pn, name) == 0;
        if (hit) {
            return rp->params[i].value;
        }
    }
    return NULL;
}

const char *vg_http_query(const vg_http_req *req, const char *name)
{
    req_priv *rp = (req_priv *)(uintptr_t)req; /* the parsed query is a cache */
    if (!rp->query_parsed) {
        rp->query_parsed = true;
        if (rp->query_raw != NULL) {
            evhttp_parse_query_str(rp->query_raw, &rp->query); /* empty on failure */
        }
    }
    return evhttp_find_header(&rp->query, name);
}

const char *vg_http_header(const vg_http_req *req, const char *name)
{
    if (req->ev == NULL) {
        return NULL;
    }
    return evhttp_find_header(evhttp_request_get_input_headers(req->ev), name);
}

void vg_http_set_header(vg_http_req *req, const char *name, const char *value)
{
    if (req->ev == NULL) {
        return;
    }
    if (evhttp_add_header(evhttp_request_get_output_headers(req->ev), name, value) != 0) {
        vg_warn("http: invalid response header dropped", "header", name);
    }
}

/* ---- dispatch ------------------------------------------------------------------------- */

static void allow_add(vg_buf *allow, const char *method)
{
    size_t n = strlen(method);
    for (const char *p = allow->data; p != NULL && (p = strstr(p, method)) != NULL; p += n) {
        bool start = p == allow->data || p[-1] == ' ';
        if (start && (p[n] == ',' || p[n] == '\0')) {
            return;
        }
    }
    vg_buf_printf(allow, "%s%s", allow->len ? ", " : "", method);
}

static void reply_405(req_priv *rp)
{
    vg_http_server *srv = rp->srv;
    vg_buf allow = {0};
    for (size_t i = 0; i < srv->nroutes; i++) {
        const http_route *r = srv->routes[i];
        if (r->method != NULL && http_route_match_path(r, &rp->path)) {
            allow_add(&allow, r->method);
            if (strcmp(r->method, "GET") == 0) {
                allow_add(&allow, "HEAD");
            }
        }
    }
    vg_http_set_header(&rp->pub, "Allow", allow.data ? allow.data : "");
    vg_buf_free(&allow);
    vg_http_reply_error(&rp->pub, 405, "method_not_allowed", "method %s is not allowed here",
                        rp->pub.method);
}

static void run_route(req_priv *rp, http_route *r)
{
    rp->route = r;
    if (!req_take_body(rp)) {
        return;
    }
    rp->nparams = http_route_bind(r, &rp->path, rp->params, &rp->rest);
    r->fn(&rp->pub, r->arg);
}

static void dispatch(req_priv *rp)
{
    vg_http_server *srv = rp->srv;
    http_route *path_match = NULL;
    for (size_t i = 0; i < srv->nroutes; i++) {
        http_route *r = srv->routes[i];
        if (!http_route_match_path(r, &rp->path)) {
            continue;
        }
        if (http_route_method_ok(r, rp->pub.method)) {
            run_route(rp, r);
            return;
        }
        if (path_match == NULL) {
            path_match = r;
        }
    }
    if (path_match != NULL) {
        rp->route = path_match; /* bounded label: the pattern that matched the path */
        reply_405(rp);
    } else if (srv->fallback != NULL) {
        if (req_take_body(rp)) {
            srv->fallback(&rp->pub, srv->fallback_arg);
        }
    } else {
        vg_http_reply_error(&rp->pub, 404, "not_found", "no such resource");
    }
}

/* evhttp's generic callback: every complete request arrives here. */
static void on_request(struct evhttp_request *ev, void *arg)
{
    vg_http_server *srv = arg;
    http_conn *conn = conn_get(srv, evhttp_request_get_connection(ev));
    req_priv *rp = req_new(srv, conn, ev);
    if (!req_parse_target(rp)) {
        vg_http_reply_error(&rp->pub, 400, "bad_request", "malformed request path");
        return;
    }
    dispatch(rp);
}

/* ---- server --------------------------------------------------------------------------- */

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (errbuf == NULL || errlen == 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

static SSL_CTX *tls_ctx_new(const char *cert, const char *key, char *errbuf, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        set_err(errbuf, errlen, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    const char *what = NULL;
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        what = "cannot load TLS certificate";
    } else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        what = "cannot load TLS key";
    } else if (SSL_CTX_check_private_key(ctx) != 1) {
        what = "TLS key does not match the certificate";
    }
    if (what != NULL) {
        char ssl_err[256];
        ERR_error_string_n(ERR_get_error(), ssl_err, sizeof ssl_err);
        ERR_clear_error();
        set_err(errbuf, errlen, "%s (%s, %s): %s", what, cert, key, ssl_err);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* evhttp's bufferevent factory when TLS is on. Returning NULL would make evhttp fall back
 * to plain text on the TLS port, so an allocation failure aborts like vg_malloc does. */
static struct bufferevent *tls_bevcb(struct event_base *base, void *arg)
{
    vg_http_server *srv = arg;
    SSL *ssl = SSL_new(srv->ssl_ctx);
    struct bufferevent *bev = NULL;
    if (ssl != NULL) {
        bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                             BEV_OPT_CLOSE_ON_FREE);
    }
    if (bev == NULL) {
        vg_error("http: cannot create a TLS connection (out of memory)");
        abort();
    }
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

/* evhttp's own limit: far enough above ours that our JSON 413 answers (see the top). */
static size_t evhttp_body_cap(size_t max_body)
{
    size_t slack = max_body > 1024 * 1024 ? max_body : 1024 * 1024;
    return max_body > SIZE_MAX / 4 ? SIZE_MAX / 2 : max_body + slack;
}

static void http_configure(vg_http_server *srv, const vg_http_opts *opts)
{
    evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                              EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                              EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                              EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_max_body_size(srv->http, (ev_ssize_t)evhttp_body_cap(srv->max_body));
    evhttp_set_max_headers_size(srv->http, MAX_HEADERS_SIZE);
    evhttp_set_timeout(srv->http, opts->timeout_s > 0 ? opts->timeout_s : DEFAULT_TIMEOUT_S);
    evhttp_set_gencb(srv->http, on_request, srv);
    if (srv->ssl_ctx != NULL) {
        evhttp_set_bevcb(srv->http, tls_bevcb, srv);
    }
}

static int bound_port(struct evhttp_bound_socket *bound)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&ss, &len) != 0) {
        return -1;
    }
    if (ss.ss_family == AF_INET6) {
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

vg_http_server *vg_http_server_new(struct event_base *base, const vg_http_opts *opts, char *errbuf,
                                   size_t errlen)
{
    vg_http_server *srv = vg_calloc(1, sizeof *srv);
    char *host = NULL;
    int port = 0;
    srv->base = base;
    srv->max_body = opts->max_body ? opts->max_body : DEFAULT_MAX_BODY;
    if (opts->addr == NULL || !vg_split_hostport(opts->addr, &host, &port)) {
        set_err(errbuf, errlen, "invalid listen address '%s'", opts->addr ? opts->addr : "");
        goto fail;
    }
    if ((opts->tls_cert == NULL) != (opts->tls_key == NULL)) {
        set_err(errbuf, errlen, "tls_cert and tls_key must be given together");
        goto fail;
    }
    if (opts->tls_cert != NULL &&
        (srv->ssl_ctx = tls_ctx_new(opts->tls_cert, opts->tls_key, errbuf, errlen)) == NULL) {
        goto fail;
    }
    srv->http = evhttp_new(base);
    if (srv->http == NULL) {
        set_err(errbuf, errlen, "cannot create the HTTP server");
        goto fail;
    }
    http_configure(srv, opts);
    srv->bound =
        evhttp_bind_socket_with_handle(srv->http, host[0] ? host : "0.0.0.0", (ev_uint16_t)port);
    if (srv->bound == NULL) {
        set_err(errbuf, errlen, "cannot listen on %s: %s", opts->addr,
                evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        goto fail;
    }
    srv->port = bound_port(srv->bound);
    srv->unmatched = unmatched_route_new();
    route_metrics_init(srv->unmatched);
    signal(SIGPIPE, SIG_IGN); /* a peer gone mid-write must be an error, not a kill */
    free(host);
    return srv;
fail:
    free(host);
    vg_http_server_destroy(srv);
    return NULL;
}

void vg_http_server_destroy(vg_http_server *srv)
{
    if (srv == NULL) {
        return;
    }
    srv->drain_finished = true; /* no done callback from here on */
    if (srv->http != NULL) {
        evhttp_free(srv->http); /* closes connections: on_conn_closed orphans their requests */
    }
    for (req_priv *rp = srv->live; rp != NULL; rp = rp->next) {
        rp->srv = NULL; /* still held by handlers: their reply only frees them */
        rp->conn = NULL;
        rp->route = NULL;
    }
    if (srv->drain_timer != NULL) {
        event_free(srv->drain_timer);
    }
    if (srv->drain_idle != NULL) {
        event_free(srv->drain_idle);
    }
    for (size_t i = 0; i < srv->nroutes; i++) {
        http_route_destroy(srv->routes[i]);
    }
    free(srv->routes);
    http_route_destroy(srv->unmatched);
    free(srv->conns); /* empty: evhttp_free closed every connection */
    SSL_CTX_free(srv->ssl_ctx);
    free(srv);
}

int vg_http_server_port(const vg_http_server *srv)
{
    return srv->port;
}

void vg_http_route(vg_http_server *srv, const char *method, const char *pattern, vg_http_handler fn,
                   void *arg)
{
    if (srv->nroutes == srv->caproutes) {
        srv->caproutes = srv->caproutes ? srv->caproutes * 2 : 16;
        srv->routes = vg_realloc(srv->routes, srv->caproutes * sizeof *srv->routes);
    }
    http_route *r = http_route_new(method, pattern, fn, arg);
    route_metrics_init(r);
    srv->routes[srv->nroutes++] = r;
}

void vg_http_fallback(vg_http_server *srv, vg_http_handler fn, void *arg)
{
    srv->fallback = fn;
    srv->fallback_arg = arg;
}

/* ---- drain ---------------------------------------------------------------------------- */

static void drain_finish(vg_http_server *srv)
{
    if (srv->drain_finished) {
        return;
    }
    srv->drain_finished = true;
    evtimer_del(srv->drain_timer);
    if (srv->drain_done != NULL) {
        srv->drain_done(srv->drain_arg); /* may destroy srv */
    }
}

static void on_drain_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    if (what & EV_TIMEOUT) {
        vg_http_server *srv = arg;
        if (srv->inflight > 0) {
            char n[32];
            snprintf(n, sizeof n, "%zu", srv->inflight);
            vg_warn("http drain timed out", "inflight", n);
        }
    }
    drain_finish(arg);
}

/* Called whenever a request or a reply finishes. The done callback runs from its own event,
 * never from inside evhttp or a handler, so it may destroy the server. */
static void drain_check(vg_http_server *srv)
{
    if (srv->draining && !srv->drain_finished && srv->inflight == 0 && srv->flushing == 0) {
        event_active(srv->drain_idle, EV_READ, 0);
    }
}

void vg_http_server_drain(vg_http_server *srv, int timeout_s, void (*done)(void *), void *arg)
{
    if (srv->draining) {
        return; /* one drain per server */
    }
    srv->draining = true;
    srv->drain_done = done;
    srv->drain_arg = arg;
    if (srv->bound != NULL) {
        evhttp_del_accept_socket(srv->http, srv->bound); /* closes the listening socket */
        srv->bound = NULL;
    }
    srv->drain_timer = evtimer_new(srv->base, on_drain_event, srv);
    srv->drain_idle = event_new(srv->base, -1, 0, on_drain_event, srv);
    struct timeval tv = {timeout_s > 0 ? timeout_s : 0, 0};
    evtimer_add(srv->drain_timer, &tv);
    drain_check(srv);
}

size_t vg_http_server_inflight(const vg_http_server *srv)
{
    return srv->inflight;
}
