/* The request engine (libcurl multi on libevent) against a local evhttp server on the same
 * event base: answers and bodies, methods, concurrency, rate limit, timeouts, retries on
 * transport errors only, the deadline. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../services/fuzzer/engine.h"
#include "harness.h"
#include "vigil/util.h"

static struct event_base *base;
static int port;
static int hits;

static void on_hold_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evhttp_send_reply(arg, 200, "OK", NULL);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    (void)arg;
    hits++;
    const char *uri = evhttp_request_get_uri(req);
    struct evbuffer *out = evbuffer_new();
    if (strcmp(uri, "/slow") == 0) {
        struct timeval tv = {1, 0};
        event_base_once(base, -1, EV_TIMEOUT, on_hold_done, req, &tv);
        evbuffer_free(out);
        return;
    }
    if (strcmp(uri, "/500") == 0) {
        evhttp_send_reply(req, 500, "ERR", out);
        evbuffer_free(out);
        return;
    }
    const char *m = evhttp_request_get_command(req) == EVHTTP_REQ_POST ? "POST" : "OTHER";
    if (evhttp_request_get_command(req) == EVHTTP_REQ_GET) {
        m = "GET";
    } else if (evhttp_request_get_command(req) == EVHTTP_REQ_PATCH) {
        m = "PATCH";
    }
    const char *x = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Test");
    evbuffer_add_printf(out, "%s %s x=%s body=", m, uri, x ? x : "");
    evbuffer_add_buffer(out, evhttp_request_get_input_buffer(req));
    evhttp_add_header(evhttp_request_get_output_headers(req), "X-Reply", "yes");
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
}

static char *url(const char *path)
{
    char *u = malloc(64);
    snprintf(u, 64, "http://127.0.0.1:%d%s", port, path);
    return u;
}

static void test_basic(void)
{
    fz_engine_opts o = {.concurrency = 4};
    fz_engine *eng = fz_engine_new(base, &o);
    char *u = url("/a?b=1");
    fz_req *get = fz_req_new("GET", u);
    fz_req_add_header(get, "X-Test: one");
    fz_req *post = fz_req_new("POST", u);
    fz_req_set_body(post, "application/json", "{\"k\":1}", 7);
    fz_req *patch = fz_req_new("PATCH", u);
    fz_req_set_body(patch, NULL, "p", 1);
    fz_req *reqs[3] = {get, post, patch};
    CHECK_INT_EQ(fz_engine_run(eng, reqs, 3), 3);
    CHECK_INT_EQ(get->status, 200);
    CHECK_STR_EQ(get->resp_body.data, "GET /a?b=1 x=one body=");
    CHECK_STR_EQ(post->resp_body.data, "POST /a?b=1 x= body={\"k\":1}");
    CHECK_STR_EQ(patch->resp_body.data, "PATCH /a?b=1 x= body=p");
    char *h = fz_req_resp_header(get, "x-reply");
    CHECK_STR_EQ(h, "yes");
    free(h);
    CHECK(fz_req_resp_header(get, "X-Missing") == NULL);
    fz_req_set_header(get, "X-Test", "two");
    CHECK_INT_EQ(get->nheaders, 1);
    CHECK(fz_engine_send(eng, get));
    CHECK_STR_EQ(get->resp_body.data, "GET /a?b=1 x=two body=");
    char *e = url("/500");
    fz_req *err = fz_req_new("GET", e);
    CHECK(fz_engine_send(eng, err)); /* an HTTP error is an answer: never retried */
    CHECK_INT_EQ(err->status, 500);
    CHECK_INT_EQ(err->attempts, 1);
    for (int i = 0; i < 3; i++) {
        fz_req_destroy(reqs[i]);
    }
    fz_req_destroy(err);
    free(e);
    free(u);
    fz_engine_destroy(eng);
}

static void test_rate_limit(void)
{
    fz_engine_opts o = {.concurrency = 8, .rate = 100};
    fz_engine *eng = fz_engine_new(base, &o);
    char *u = url("/r");
    fz_req *reqs[30];
    for (int i = 0; i < 30; i++) {
        reqs[i] = fz_req_new("GET", u);
    }
    int64_t t0 = vg_now_ms();
    CHECK_INT_EQ(fz_engine_run(eng, reqs, 30), 30);
    int64_t ms = vg_now_ms() - t0;
    CHECK(ms >= 270); /* 30 requests at 100/s with a burst of 2: >= 0.28 s */
    CHECK(ms < 1500);
    CHECK_INT_EQ(fz_engine_sent(eng), 30);
    for (int i = 0; i < 30; i++) {
        fz_req_destroy(reqs[i]);
    }
    free(u);
    fz_engine_destroy(eng);
}

static void test_retries_and_timeouts(void)
{
    fz_engine_opts o = {.concurrency = 2, .timeout_ms = 300, .retries = 2};
    fz_engine *eng = fz_engine_new(base, &o);
    fz_req *refused = fz_req_new("GET", "http://127.0.0.1:1/");
    CHECK(!fz_engine_send(eng, refused));
    CHECK_INT_EQ(refused->status, 0);
    CHECK_INT_EQ(refused->attempts, 3); /* connection refused is retried */
    CHECK(refused->error[0] != '\0');
    char *u = url("/slow");
    fz_req *slow = fz_req_new("GET", u);
    int before = hits;
    CHECK(!fz_engine_send(eng, slow));
    CHECK_INT_EQ(slow->attempts, 1); /* a timeout is not retried */
    CHECK_INT_EQ(hits - before, 1);
    fz_engine_idle(eng, 1100); /* let the held reply go */
    fz_req_destroy(refused);
    fz_req_destroy(slow);
    free(u);
    fz_engine_destroy(eng);
}

static void test_deadline(void)
{
    fz_engine_opts o = {.concurrency = 1, .rate = 10, .deadline_ms = vg_now_ms() + 150};
    fz_engine *eng = fz_engine_new(base, &o);
    char *u = url("/d");
    fz_req *reqs[10];
    for (int i = 0; i < 10; i++) {
        reqs[i] = fz_req_new("GET", u);
    }
    size_t answered = fz_engine_run(eng, reqs, 10);
    CHECK(answered >= 1 && answered <= 3);
    CHECK(fz_engine_expired(eng));
    CHECK_STR_EQ(reqs[9]->error, "time budget exhausted");
    for (int i = 0; i < 10; i++) {
        fz_req_destroy(reqs[i]);
    }
    free(u);
    fz_engine_destroy(eng);
}

int main(void)
{
    base = event_base_new();
    struct evhttp *http = evhttp_new(base);
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PATCH);
    evhttp_set_gencb(http, on_request, NULL);
    struct evhttp_bound_socket *s = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    getsockname(evhttp_bound_socket_get_fd(s), (struct sockaddr *)&sin, &len);
    port = ntohs(sin.sin_port);
    RUN(test_basic);
    RUN(test_rate_limit);
    RUN(test_retries_and_timeouts);
    RUN(test_deadline);
    evhttp_free(http);
    event_base_free(base);
    return harness_report("test_fuzzer_engine");
}
