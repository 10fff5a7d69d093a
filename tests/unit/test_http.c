/* Unit tests of common/http.c: a real server on 127.0.0.1:0 driven by the test's event loop in
 * the main thread, with libcurl (or a raw socket) as the client in a second thread. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "vigil/alloc.h"
#include "vigil/http.h"
#include "vigil/metrics.h"
#include "vigil/util.h"

#define MAX_BODY 1024

static struct event_base *base;
static char tls_dir[64];
static char tls_cert[128];
static char tls_key[128];

/* ---- time and client plumbing --------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

typedef struct client_ctx {
    void (*fn)(void *arg);
    void *arg;
} client_ctx;

static void *client_main(void *p)
{
    client_ctx *ctx = p;
    ctx->fn(ctx->arg);
    event_base_loopexit(base, NULL);
    return NULL;
}

/* Runs fn in a client thread while this thread runs the server's loop, until fn returns. */
static void run_client(void (*fn)(void *), void *arg)
{
    client_ctx ctx = {fn, arg};
    pthread_t t;
    if (pthread_create(&t, NULL, client_main, &ctx) != 0) {
        abort();
    }
    event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
    pthread_join(t, NULL);
}

typedef struct resp {
    CURLcode rc;
    long status;
    vg_buf body;
    vg_buf headers;
    double secs;
} resp;

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    vg_buf_append(ud, p, size * n);
    return size * n;
}

static void resp_free(resp *r)
{
    vg_buf_free(&r->body);
    vg_buf_free(&r->headers);
}

typedef struct call {
    const char *method;
    const char *path; /* with the query */
    const char *body; /* NULL = none */
    size_t body_len;
    const char *header; /* one extra request header line, or NULL */
    bool chunked;
} call;

/* One request with a fresh connection (or on *reuse when given). */
static void http_call(int port, bool tls, const call *c, resp *out, CURL *reuse)
{
    memset(out, 0, sizeof *out);
    CURL *h = reuse ? reuse : curl_easy_init();
    char url[512];
    snprintf(url, sizeof url, "%s://127.0.0.1:%d%s", tls ? "https" : "http", port, c->path);
    struct curl_slist *hdrs = NULL;
    if (c->header != NULL) {
        hdrs = curl_slist_append(hdrs, c->header);
    }
    if (c->chunked) {
        hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
    curl_easy_setopt(h, CURLOPT_NOBODY, strcmp(c->method, "HEAD") == 0 ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &out->body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &out->headers);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    if (c->body != NULL) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, c->chunked ? -1L : (long)c->body_len);
    }
    if (tls) {
        curl_easy_setopt(h, CURLOPT_CAINFO, tls_cert);
        curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
    }
    double t0 = now_s();
    out->rc = curl_easy_perform(h);
    out->secs = now_s() - t0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(hdrs);
    if (reuse == NULL) {
        curl_easy_cleanup(h);
    }
}

static void http_get(int port, const char *path, resp *out)
{
    call c = {.method = "GET", .path = path};
    http_call(port, false, &c, out, NULL);
}

/* The value of response header name (last occurrence), in a static buffer; NULL if absent. */
static const char *resp_header(const resp *r, const char *name)
{
    static char value[256];
    const char *found = NULL;
    size_t n = strlen(name);
    const char *p = r->headers.data;
    while (p != NULL && *p) {
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            v += strspn(v, " ");
            size_t len = strcspn(v, "\r\n");
            snprintf(value, sizeof value, "%.*s", (int)len, v);
            found = value;
        }
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    return found;
}

/* A string member of the JSON body at key (or key.sub), copied to a static buffer. */
static const char *body_str(const resp *r, const char *key, const char *sub)
{
    static char value[512];
    json_t *j = json_loads(r->body.data ? r->body.data : "", 0, NULL);
    json_t *v = json_object_get(j, key);
    if (sub != NULL) {
        v = json_object_get(v, sub);
    }
    const char *s = json_string_value(v);
    snprintf(value, sizeof value, "%s", s ? s : "");
    bool ok = s != NULL;
    json_decref(j);
    return ok ? value : NULL;
}

static int body_bool(const resp *r, const char *key)
{
    json_t *j = json_loads(r->body.data ? r->body.data : "", 0, NULL);
    json_t *v = json_object_get(j, key);
    int out = json_is_boolean(v) ? json_is_true(v) : -1;
    json_decref(j);
    return out;
}

/* Raw socket to the server; recv times out after 2 s. */
static int raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool raw_send(int fd, const char *s)
{
    return write(fd, s, strlen(s)) == (ssize_t)strlen(s);
}

/* ---- handlers ------------------------------------------------------------------------- */

static bool req_nodelay(const vg_http_req *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req->ev);
    int fd = (int)bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
    int v = 0;
    socklen_t len = sizeof v;
    return getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0 && v != 0;
}

static void h_item(vg_http_req *req, void *arg)
{
    (void)arg;
    const char *q = vg_http_query(req, "q");
    json_t *j = json_pack("{s:s,s:s?,s:b,s:b,s:s,s:s}", "id", vg_http_param(req, "id"), "q", q,
                          "tls", req->tls, "nodelay", req_nodelay(req), "path", req->path,
                          "client_ip", req->client_ip);
    vg_http_reply_json(req, 200, j);
}

static void h_echo(vg_http_req *req, void *arg)
{
    (void)arg;
    json_t *j = vg_http_body_json(req);
    if (j == NULL) {
        return;
    }
    vg_http_reply_json(req, 200, j);
}

static void h_rest(vg_http_req *req, void *arg)
{
    (void)arg;
    vg_http_reply_json(req, 200, json_pack("{s:s}", "rest", vg_http_param(req, "*")));
}

static void h_metrics(vg_http_req *req, void *arg)
{
    (void)arg;
    vg_buf b = {0};
    vg_metrics_render(&b);
    vg_http_reply_raw(req, 200, "text/plain; version=0.0.4", b.data, b.len);
    vg_buf_free(&b);
}

static void async_reply(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    vg_http_reply_json(arg, 200, json_pack("{s:b}", "async", 1));
}

/* Replies 150 ms later, from a timer. */
static void h_async(vg_http_req *req, void *arg)
{
    (void)arg;
    struct timeval tv = {0, 150000};
    event_base_once(base, -1, EV_TIMEOUT, async_reply, req, &tv);
}

static vg_http_req *held_req;
static atomic_int held_count;

/* Keeps the request; the test replies to it by hand. */
static void h_hold(vg_http_req *req, void *arg)
{
    (void)arg;
    held_req = req;
    atomic_fetch_add(&held_count, 1);
}

static vg_http_server *server_start(const char *cert, const char *key)
{
    vg_http_opts opts = {.addr = "127.0.0.1:0",
                         .max_body = MAX_BODY,
                         .tls_cert = cert,
                         .tls_key = key,
                         .timeout_s = 10};
    char err[256] = "";
    vg_http_server *srv = vg_http_server_new(base, &opts, err, sizeof err);
    if (srv == NULL) {
        fprintf(stderr, "server_start: %s\n", err);
        abort();
    }
    vg_http_route(srv, "GET", "/items/{id}", h_item, NULL);
    vg_http_route(srv, "PUT", "/items/{id}", h_item, NULL);
    vg_http_route(srv, "POST", "/echo", h_echo, NULL);
    vg_http_route(srv, "GET", "/files/*", h_rest, NULL);
    vg_http_route(srv, "GET", "/metrics", h_metrics, NULL);
    vg_http_route(srv, "GET", "/async", h_async, NULL);
    vg_http_route(srv, "GET", "/hold", h_hold, NULL);
    return srv;
}

static vg_http_server *srv_main; /* plain server shared by most tests */
static int port_main;

/* ---- tests ---------------------------------------------------------------------------- */

static void client_routes(void *arg)
{
    (void)arg;
    resp r;
    http_get(port_main, "/items/42?q=a%20b&x=1", &r);
    CHECK_INT_EQ(r.rc, CURLE_OK);
    CHECK_INT_EQ(r.status, 200);
    CHECK_STR_EQ(body_str(&r, "id", NULL), "42");
    CHECK_STR_EQ(body_str(&r, "q", NULL), "a b");
    CHECK_STR_EQ(body_str(&r, "path", NULL), "/items/42");
    CHECK_STR_EQ(body_str(&r, "client_ip", NULL), "127.0.0.1");
    CHECK_INT_EQ(body_bool(&r, "tls"), 0);
    CHECK_STR_EQ(resp_header(&r, "Content-Type"), "application/json");
    CHECK_STR_EQ(resp_header(&r, "X-Content-Type-Options"), "nosniff");
    CHECK_STR_EQ(resp_header(&r, "Cache-Control"), "no-store");
    resp_free(&r);

    http_get(port_main, "/items/a%2Fb%20c", &r); /* %2F stays inside the segment */
    CHECK_INT_EQ(r.status, 200);
    CHECK_STR_EQ(body_str(&r, "id", NULL), "a/b c");
    resp_free(&r);

    http_get(port_main, "/files/x/y/z.txt", &r);
    CHECK_INT_EQ(r.status, 200);
    CHECK_STR_EQ(body_str(&r, "rest", NULL), "x/y/z.txt");
    resp_free(&r);

    http_get(port_main, "/files/", &r);
    CHECK_INT_EQ(r.status, 200);
    CHECK_STR_EQ(body_str(&r, "rest", NULL), "");
    resp_free(&r);

    call head = {.method = "HEAD", .path = "/items/1"};
    http_call(port_main, false, &head, &r, NULL);
    CHECK_INT_EQ(r.status, 200);
    CHECK_INT_EQ(r.body.len, 0);
    resp_free(&r);

    http_get(port_main, "/items/", &r); /* {id} needs a non-empty segment */
    CHECK_INT_EQ(r.status, 404);
    resp_free(&r);
}

static void test_routes_and_params(void)
{
    run_client(client_routes, NULL);
}

static void client_errors(void *arg)
{
    (void)arg;
    resp r;
    http_get(port_main, "/nope?token=secret", &r);
    CHECK_INT_EQ(r.status, 404);
    CHECK_STR_EQ(body_str(&r, "error", "code"), "not_found");
    CHECK(body_str(&r, "error", "message") != NULL);
    CHECK_STR_EQ(resp_header(&r, "Content-Type"), "application/json");
    resp_free(&r);

    call del = {.method = "DELETE", .path = "/items/1"};
    http_call(port_main, false, &del, &r, NULL);
    CHECK_INT_EQ(r.status, 405);
    CHECK_STR_EQ(body_str(&r, "error", "code"), "method_not_allowed");
    CHECK_STR_EQ(resp_header(&r, "Allow"), "GET, HEAD, PUT");
    resp_free(&r);

    call patch = {.method = "PATCH", .path = "/echo", .body = "{}", .body_len = 2};
    http_call(port_main, false, &patch, &r, NULL);
    CHECK_INT_EQ(r.status, 405);
    CHECK_STR_EQ(resp_header(&r, "Allow"), "POST");
    resp_free(&r);

    call bad = {.method = "POST", .path = "/echo", .body = "{\"a\": 1,", .body_len = 8};
    http_call(port_main, false, &bad, &r, NULL);
    CHECK_INT_EQ(r.status, 400);
    CHECK_STR_EQ(body_str(&r, "error", "code"), "invalid_json");
    resp_free(&r);

    call dup = {.method = "POST", .path = "/echo", .body = "{\"a\":1,\"a\":2}", .body_len = 13};
    http_call(port_main, false, &dup, &r, NULL);
    CHECK_INT_EQ(r.status, 400);
    resp_free(&r);

    call good = {.method = "POST", .path = "/echo", .body = "{\"a\":[1,2]}", .body_len = 11};
    http_call(port_main, false, &good, &r, NULL);
    CHECK_INT_EQ(r.status, 200);
    CHECK_STR_EQ(r.body.data, "{\"a\":[1,2]}");
    resp_free(&r);

    http_get(port_main, "/items/a%00b", &r);
    CHECK_INT_EQ(r.status, 400);
    CHECK_STR_EQ(body_str(&r, "error", "code"), "bad_request");
    resp_free(&r);
}

static void test_errors_are_json(void)
{
    run_client(client_errors, NULL);
}

static void client_413(void *arg)
{
    (void)arg;
    char *big = vg_malloc(MAX_BODY * 4 + 1);
    memset(big, 'x', MAX_BODY * 4);
    big[MAX_BODY * 4] = '\0';
    resp r;
    call c = {.method = "POST", .path = "/echo", .body = big, .body_len = MAX_BODY + 1};
    http_call(port_main, false, &c, &r, NULL);
    CHECK_INT_EQ(r.rc, CURLE_OK);
    CHECK_INT_EQ(r.status, 413);
    CHECK_STR_EQ(body_str(&r, "error", "code"), "payload_too_large");
    CHECK_STR_EQ(resp_header(&r, "Content-Type"), "application/json");
    resp_free(&r);

    call chunked = {.method = "POST", .path = "/echo", .body = big, .chunked = true};
    http_call(port_main, false, &chunked, &r, NULL);
    CHECK_INT_EQ(r.status, 413);
    CHECK_STR_EQ(body_str(&r, "error", "code"), "payload_too_large");
    resp_free(&r);

    call fits = {.method = "POST", .path = "/echo", .body = "[1]", .body_len = 3};
    http_call(port_main, false, &fits, &r, NULL);
    CHECK_INT_EQ(r.status, 200);
    resp_free(&r);

    /* the limit applies to every route, matched before the body is handed over */
    call put = {.method = "PUT", .path = "/items/1", .body = big, .body_len = MAX_BODY * 4};
    http_call(port_main, false, &put, &r, NULL);
    CHECK_INT_EQ(r.status, 413);
    CHECK_STR_EQ(body_str(&r, "error", "code"), "payload_too_large");
    resp_free(&r);
    free(big);
}

static void test_oversized_body_gets_json_413(void)
{
    run_client(client_413, NULL);
}

static void client_request_id(void *arg)
{
    (void)arg;
    resp r;
    call c = {.method = "GET", .path = "/items/1", .header = "X-Request-Id: abc-123.DEF_9"};
    http_call(port_main, false, &c, &r, NULL);
    CHECK_STR_EQ(resp_header(&r, "X-Request-Id"), "abc-123.DEF_9");
    resp_free(&r);

    char longest[96], too_long[96]; /* 64 characters are accepted, 65 are not */
    snprintf(longest, sizeof longest, "X-Request-Id: %064d", 7);
    snprintf(too_long, sizeof too_long, "X-Request-Id: %065d", 7);
    c.header = longest;
    http_call(port_main, false, &c, &r, NULL);
    CHECK_STR_EQ(resp_header(&r, "X-Request-Id"), longest + strlen("X-Request-Id: "));
    resp_free(&r);

    const char *bad[] = {"X-Request-Id: bad id", "X-Request-Id: a\"b", too_long};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c.header = bad[i];
        http_call(port_main, false, &c, &r, NULL);
        CHECK(vg_uuid_valid(resp_header(&r, "X-Request-Id")));
        resp_free(&r);
    }
    http_get(port_main, "/nope", &r); /* errors carry it too */
    CHECK(vg_uuid_valid(resp_header(&r, "X-Request-Id")));
    resp_free(&r);
}

static void test_request_id(void)
{
    run_client(client_request_id, NULL);
}

static void client_nodelay_keepalive(void *arg)
{
    (void)arg;
    CURL *h = curl_easy_init();
    call c = {.method = "GET", .path = "/items/1"};
    for (int i = 0; i < 3; i++) {
        resp r;
        http_call(port_main, false, &c, &r, h);
        CHECK_INT_EQ(r.status, 200);
        CHECK_INT_EQ(body_bool(&r, "nodelay"), 1);
        long reused = -1;
        curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &reused);
        CHECK_INT_EQ(reused, i == 0 ? 1 : 0); /* one connection for all three */
        resp_free(&r);
    }
    curl_easy_cleanup(h);

    /* pipelined: the second request waits in evhttp until the first is answered */
    int fd = raw_connect(port_main);
    CHECK(fd >= 0);
    CHECK(raw_send(fd, "GET /async HTTP/1.1\r\nHost: x\r\n\r\nGET /items/7 HTTP/1.1\r\nHost: x\r\n"
                       "Connection: close\r\n\r\n"));
    char buf[8192];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof buf - 1 && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0) {
        len += (size_t)n;
    }
    buf[len] = '\0';
    close(fd);
    char *second = strstr(buf, "\"async\":true");
    CHECK(second != NULL);
    CHECK(second != NULL && strstr(second, "HTTP/1.1 200") != NULL);
    CHECK(strstr(buf, "\"id\":\"7\"") != NULL);
}

static void test_nodelay_and_keepalive(void)
{
    run_client(client_nodelay_keepalive, NULL);
}

static void client_async(void *arg)
{
    (void)arg;
    resp r;
    http_get(port_main, "/async", &r);
    CHECK_INT_EQ(r.status, 200);
    CHECK_INT_EQ(body_bool(&r, "async"), 1);
    CHECK(r.secs >= 0.14);
    resp_free(&r);
}

static void test_async_reply(void)
{
    run_client(client_async, NULL);
    CHECK_INT_EQ(vg_http_server_inflight(srv_main), 0);
}

static void client_gone(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++) {
        int fd = raw_connect(port_main);
        CHECK(fd >= 0);
        CHECK(raw_send(fd, "GET /async HTTP/1.1\r\nHost: x\r\n\r\n"));
        if (i == 1) {
            struct linger lg = {1, 0}; /* close with RST */
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        sleep_ms(20);
        close(fd);
    }
    sleep_ms(400); /* the replies go out to closed sockets */
    resp r;
    http_get(port_main, "/items/1", &r);
    CHECK_INT_EQ(r.status, 200);
    resp_free(&r);
}

static void test_client_gone_before_async_reply(void)
{
    run_client(client_gone, NULL);
    CHECK_INT_EQ(vg_http_server_inflight(srv_main), 0);
}

static void client_metrics(void *arg)
{
    (void)arg;
    resp r;
    http_get(port_main, "/metrics", &r);
    CHECK_INT_EQ(r.status, 200);
    CHECK_STR_EQ(resp_header(&r, "Content-Type"), "text/plain; version=0.0.4");
    CHECK(resp_header(&r, "Cache-Control") == NULL);
    const char *t = r.body.data ? r.body.data : "";
    CHECK(strstr(t, "# TYPE vigil_http_requests_total counter\n") != NULL);
    CHECK(strstr(t,
                 "vigil_http_requests_total{route=\"/items/{id}\",method=\"GET\",code=\"200\"} ") !=
          NULL);
    CHECK(
        strstr(t, "vigil_http_requests_total{route=\"unmatched\",method=\"GET\",code=\"404\"} ") !=
        NULL);
    CHECK(strstr(t, "vigil_http_requests_total{route=\"/echo\",method=\"POST\",code=\"413\"} ") !=
          NULL);
    CHECK(strstr(t,
                 "vigil_http_request_duration_seconds_bucket{route=\"/items/{id}\",le=\"+Inf\"}") !=
          NULL);
    CHECK(strstr(t, "/items/42") == NULL); /* raw paths never become labels */
    CHECK(strstr(t, "secret") == NULL);
    resp_free(&r);
}

static void test_metrics_render(void)
{
    run_client(client_metrics, NULL);
}

/* Drain: the listener closes at once, the held request still gets its reply, and done runs
 * only after that reply is written. */
static vg_http_server *srv_drain;
static int port_drain;
static double drained_at, replied_at;
static int drained_calls;
static size_t inflight_at_done = 99;

static void on_drained(void *arg)
{
    (void)arg;
    drained_at = now_s();
    drained_calls++;
    inflight_at_done = vg_http_server_inflight(srv_drain);
}

static void drain_reply(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    replied_at = now_s();
    vg_http_reply_json(arg, 200, json_pack("{s:s}", "slow", "done"));
}

static void h_slow_drain(vg_http_req *req, void *arg)
{
    (void)arg;
    vg_http_server_drain(srv_drain, 5, on_drained, NULL);
    vg_http_server_drain(srv_drain, 5, on_drained, NULL); /* a second call is ignored */
    struct timeval tv = {0, 300000};
    event_base_once(base, -1, EV_TIMEOUT, drain_reply, req, &tv);
}

static void client_drain(void *arg)
{
    (void)arg;
    resp r;
    http_get(port_drain, "/slow", &r);
    CHECK_INT_EQ(r.status, 200);
    CHECK_STR_EQ(body_str(&r, "slow", NULL), "done");
    CHECK_STR_EQ(resp_header(&r, "Connection"), "close");
    resp_free(&r);
    CHECK(raw_connect(port_drain) < 0); /* no longer listening */
    sleep_ms(50);
}

static void test_drain_waits_for_inflight(void)
{
    srv_drain = server_start(NULL, NULL);
    port_drain = vg_http_server_port(srv_drain);
    CHECK(port_drain > 0);
    vg_http_route(srv_drain, "GET", "/slow", h_slow_drain, NULL);
    run_client(client_drain, NULL);
    CHECK_INT_EQ(drained_calls, 1);
    CHECK(replied_at > 0 && drained_at >= replied_at);
    CHECK_INT_EQ(inflight_at_done, 0);
    vg_http_server_destroy(srv_drain);
}

/* Drain with a request that never finishes: done after the timeout; then the server is
 * destroyed under the held request, whose late reply must only free it. */
static int timeout_done_calls;

static void on_timeout_done(void *arg)
{
    (void)arg;
    timeout_done_calls++;
    event_base_loopexit(base, NULL);
}

static void client_hold(void *arg)
{
    int port = *(int *)arg;
    int fd = raw_connect(port);
    CHECK(fd >= 0);
    CHECK(raw_send(fd, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n"));
    for (int i = 0; i < 200 && atomic_load(&held_count) == 0; i++) {
        sleep_ms(5);
    }
    CHECK_INT_EQ(atomic_load(&held_count), 1);
    close(fd);
}

static void test_drain_timeout_and_destroy_with_pending(void)
{
    vg_http_server *srv = server_start(NULL, NULL);
    int port = vg_http_server_port(srv);
    run_client(client_hold, &port);
    CHECK(held_req != NULL);
    CHECK_INT_EQ(vg_http_server_inflight(srv), 1);
    double t0 = now_s();
    vg_http_server_drain(srv, 1, on_timeout_done, NULL);
    event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
    CHECK_INT_EQ(timeout_done_calls, 1);
    CHECK(now_s() - t0 >= 0.9);
    vg_http_server_destroy(srv);
    vg_http_set_header(held_req, "X-After", "destroy"); /* no-ops on an orphan */
    CHECK(vg_http_header(held_req, "Host") == NULL);
    vg_http_reply_error(held_req, 503, "unavailable", "gone"); /* only frees it */
    held_req = NULL;
}

/* TLS with a certificate made for this run. */
static bool make_cert(void)
{
    snprintf(tls_dir, sizeof tls_dir, "/tmp/vigil-test-http-XXXXXX");
    if (mkdtemp(tls_dir) == NULL) {
        return false;
    }
    snprintf(tls_cert, sizeof tls_cert, "%s/cert.pem", tls_dir);
    snprintf(tls_key, sizeof tls_key, "%s/key.pem", tls_dir);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
             "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout %s -out %s "
             ">/dev/null 2>&1",
             tls_key, tls_cert);
    return system(cmd) == 0;
}

static void client_tls(void *arg)
{
    int port = *(int *)arg;
    resp r;
    call c = {.method = "GET", .path = "/items/7?q=x"};
    http_call(port, true, &c, &r, NULL);
    CHECK_INT_EQ(r.rc, CURLE_OK);
    CHECK_INT_EQ(r.status, 200);
    CHECK_STR_EQ(body_str(&r, "id", NULL), "7");
    CHECK_INT_EQ(body_bool(&r, "tls"), 1);
    CHECK_INT_EQ(body_bool(&r, "nodelay"), 1);
    resp_free(&r);

    char *big = vg_malloc(MAX_BODY * 2);
    memset(big, 'y', MAX_BODY * 2);
    call post = {.method = "POST", .path = "/echo", .body = big, .body_len = MAX_BODY * 2};
    http_call(port, true, &post, &r, NULL);
    CHECK_INT_EQ(r.status, 413);
    CHECK_STR_EQ(body_str(&r, "error", "code"), "payload_too_large");
    resp_free(&r);
    free(big);

    http_get(port, "/items/7", &r); /* plain HTTP on the TLS port gets nothing */
    CHECK(r.rc != CURLE_OK || r.status != 200);
    resp_free(&r);

    http_call(port, true, &c, &r, NULL); /* the server still serves TLS afterwards */
    CHECK_INT_EQ(r.status, 200);
    resp_free(&r);
}

static void test_tls(void)
{
    if (!make_cert()) {
        fprintf(stderr, "  FAIL cannot generate a test certificate with openssl\n");
        harness_current_failed++;
        return;
    }
    vg_http_server *srv = server_start(tls_cert, tls_key);
    int port = vg_http_server_port(srv);
    run_client(client_tls, &port);
    CHECK_INT_EQ(vg_http_server_inflight(srv), 0);
    vg_http_server_destroy(srv);
}

static void test_bad_options(void)
{
    char err[256] = "";
    vg_http_opts opts = {.addr = "127.0.0.1", .max_body = 10};
    CHECK(vg_http_server_new(base, &opts, err, sizeof err) == NULL);
    CHECK(strstr(err, "invalid listen address") != NULL);

    opts.addr = "127.0.0.1:0";
    opts.tls_cert = "/nonexistent/cert.pem";
    opts.tls_key = "/nonexistent/key.pem";
    err[0] = '\0';
    CHECK(vg_http_server_new(base, &opts, err, sizeof err) == NULL);
    CHECK(strstr(err, "cannot load TLS certificate") != NULL);

    opts.tls_key = NULL;
    CHECK(vg_http_server_new(base, &opts, err, sizeof err) == NULL);

    opts.tls_cert = NULL;
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port_main); /* taken */
    opts.addr = addr;
    err[0] = '\0';
    CHECK(vg_http_server_new(base, &opts, err, sizeof err) == NULL);
    CHECK(strstr(err, "cannot listen") != NULL);
}

int main(void)
{
    evthread_use_pthreads(); /* the client thread ends the loop with event_base_loopexit */
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    base = event_base_new();
    srv_main = server_start(NULL, NULL);
    port_main = vg_http_server_port(srv_main);
    CHECK(port_main > 0);

    RUN(test_routes_and_params);
    RUN(test_errors_are_json);
    RUN(test_oversized_body_gets_json_413);
    RUN(test_request_id);
    RUN(test_nodelay_and_keepalive);
    RUN(test_async_reply);
    RUN(test_client_gone_before_async_reply);
    RUN(test_metrics_render);
    RUN(test_drain_waits_for_inflight);
    RUN(test_drain_timeout_and_destroy_with_pending);
    RUN(test_tls);
    RUN(test_bad_options);

    vg_http_server_destroy(srv_main);
    event_base_free(base);
    curl_global_cleanup();
    if (tls_dir[0] != '\0') {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tls_dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "cannot remove %s\n", tls_dir);
        }
    }
    return harness_report("http");
}
