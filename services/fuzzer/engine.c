/* Request engine on libcurl multi + libevent; see engine.h. */
#include "engine.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ratelimit.h"
#include "vigil/util.h"

typedef struct fz_engine {
    struct event_base *base;
    CURLM *multi;
    struct event *curl_timer;
    struct event *rate_timer;
    fz_engine_opts o;
    fz_bucket bucket;
    fz_req **queue; /* pending requests, FIFO from qhead */
    size_t qhead, qlen, qcap;
    CURL **pool; /* idle easy handles (their connections stay in the multi's cache) */
    size_t npool, poolcap;
    int inflight;
    size_t completed;
    size_t answered;
    uint64_t sent;
    bool rate_armed;
} fz_engine;

typedef struct sock_ctx {
    struct event *ev;
} sock_ctx;

/* One attempt in flight: the request and the header list libcurl reads until it is done. */
typedef struct attempt {
    fz_engine *eng;
    fz_req *req;
    struct curl_slist *hdrs;
} attempt;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void pump(fz_engine *eng);

fz_req *fz_req_new(const char *method, const char *url)
{
    fz_req *req = vg_calloc(1, sizeof *req);
    req->method = vg_strdup(method);
    req->url = vg_strdup(url);
    return req;
}

void fz_req_destroy(fz_req *req)
{
    if (req == NULL) {
        return;
    }
    for (int i = 0; i < req->nheaders; i++) {
        free(req->headers[i]);
    }
    free(req->headers);
    free(req->method);
    free(req->url);
    free(req->body);
    vg_buf_free(&req->resp_headers);
    vg_buf_free(&req->resp_body);
    free(req);
}

void fz_req_add_header(fz_req *req, const char *line)
{
    req->headers = vg_realloc(req->headers, sizeof(char *) * (size_t)(req->nheaders + 1));
    req->headers[req->nheaders++] = vg_strdup(line);
}

void fz_req_del_header(fz_req *req, const char *name)
{
    size_t nlen = strlen(name);
    int j = 0;
    for (int i = 0; i < req->nheaders; i++) {
        char *h = req->headers[i];
        if (strncasecmp(h, name, nlen) == 0 && h[nlen] == ':') {
            free(h);
        } else {
            req->headers[j++] = h;
        }
    }
    req->nheaders = j;
}

void fz_req_set_header(fz_req *req, const char *name, const char *value)
{
    fz_req_del_header(req, name);
    char *line = vg_asprintf("%s: %s", name, value);
    fz_req_add_header(req, line);
    free(line);
}

void fz_req_set_body(fz_req *req, const char *ctype, const void *body, size_t len)
{
    free(req->body);
    req->body = vg_malloc(len + 1);
    memcpy(req->body, body, len);
    req->body[len] = '\0';
    req->body_len = len;
    if (ctype != NULL) {
        fz_req_set_header(req, "Content-Type", ctype);
    }
}

char *fz_req_resp_header(const fz_req *req, const char *name)
{
    size_t nlen = strlen(name);
    const char *p = req->resp_headers.data;
    while (p != NULL && *p != '\0') {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            const char *end = p + len;
            while (v < end && (*v == ' ' || *v == '\t')) {
                v++;
            }
            while (end > v && (end[-1] == '\r' || end[-1] == ' ')) {
                end--;
            }
            return vg_strndup(v, (size_t)(end - v));
        }
        p = eol ? eol + 1 : NULL;
    }
    return NULL;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    fz_req *req = userp;
    size_t n = size * nmemb;
    req->resp_size += n;
    size_t max = 256 * 1024;
    if (req->resp_body.len < max) {
        size_t room = max - req->resp_body.len;
        vg_buf_append(&req->resp_body, data, n < room ? n : room);
    }
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
    fz_req *req = userp;
    size_t n = size * nmemb;
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        vg_buf_reset(&req->resp_headers); /* a new response (after 100 Continue or a retry) */
    }
    vg_buf_append(&req->resp_headers, data, n);
    return n;
}

static void on_sock_event(evutil_socket_t fd, short kind, void *arg)
{
    fz_engine *eng = arg;
    int action =
        ((kind & EV_READ) ? CURL_CSELECT_IN : 0) | ((kind & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    int running = 0;
    curl_multi_socket_action(eng->multi, fd, action, &running);
    pump(eng);
}

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    fz_engine *eng = userp;
    sock_ctx *sc = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (sc != NULL) {
            event_free(sc->ev);
            free(sc);
            curl_multi_assign(eng->multi, s, NULL);
        }
        return 0;
    }
    short kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
                 ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
    if (sc == NULL) {
        sc = vg_calloc(1, sizeof *sc);
        curl_multi_assign(eng->multi, s, sc);
    } else {
        event_free(sc->ev);
    }
    sc->ev = event_new(eng->base, s, kind, on_sock_event, eng);
    event_add(sc->ev, NULL);
    return 0;
}

static void on_curl_timeout(evutil_socket_t fd, short kind, void *arg)
{
    (void)fd;
    (void)kind;
    fz_engine *eng = arg;
    int running = 0;
    curl_multi_socket_action(eng->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    pump(eng);
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    fz_engine *eng = userp;
    if (timeout_ms < 0) {
        evtimer_del(eng->curl_timer);
        return 0;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(eng->curl_timer, &tv);
    return 0;
}

static void on_rate_timer(evutil_socket_t fd, short kind, void *arg)
{
    (void)fd;
    (void)kind;
    fz_engine *eng = arg;
    eng->rate_armed = false;
    pump(eng);
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

fz_engine *fz_engine_new(struct event_base *base, const fz_engine_opts *opts)
{
    pthread_once(&curl_once, curl_init_once);
    fz_engine *eng = vg_calloc(1, sizeof *eng);
    eng->base = base;
    eng->o = *opts;
    if (eng->o.concurrency <= 0) {
        eng->o.concurrency = 16;
    }
    if (eng->o.timeout_ms <= 0) {
        eng->o.timeout_ms = 10000;
    }
    if (eng->o.retries < 0) {
        eng->o.retries = 0;
    }
    fz_bucket_init(&eng->bucket, eng->o.rate, fz_bucket_default_burst(eng->o.rate), now_us());
    eng->multi = curl_multi_init();
    curl_multi_setopt(eng->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(eng->multi, CURLMOPT_SOCKETDATA, eng);
    curl_multi_setopt(eng->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(eng->multi, CURLMOPT_TIMERDATA, eng);
    curl_multi_setopt(eng->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    curl_multi_setopt(eng->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)eng->o.concurrency);
    curl_multi_setopt(eng->multi, CURLMOPT_MAXCONNECTS, (long)eng->o.concurrency * 2);
    eng->curl_timer = evtimer_new(base, on_curl_timeout, eng);
    eng->rate_timer = evtimer_new(base, on_rate_timer, eng);
    return eng;
}

void fz_engine_destroy(fz_engine *eng)
{
    if (eng == NULL) {
        return;
    }
    for (size_t i = 0; i < eng->npool; i++) {
        curl_easy_cleanup(eng->pool[i]);
    }
    free(eng->pool);
    curl_multi_cleanup(eng->multi); /* closes cached connections, REMOVE callbacks free ctxs */
    event_free(eng->curl_timer);
    event_free(eng->rate_timer);
    free(eng->queue);
    free(eng);
}

static void queue_push(fz_engine *eng, fz_req *req)
{
    if (eng->qhead > 0 && eng->qhead == eng->qlen) {
        eng->qhead = eng->qlen = 0;
    }
    if (eng->qlen == eng->qcap) {
        eng->qcap = eng->qcap ? eng->qcap * 2 : 64;
        eng->queue = vg_realloc(eng->queue, eng->qcap * sizeof *eng->queue);
    }
    eng->queue[eng->qlen++] = req;
}

static CURL *easy_get(fz_engine *eng)
{
    if (eng->npool > 0) {
        CURL *easy = eng->pool[--eng->npool];
        curl_easy_reset(easy);
        return easy;
    }
    return curl_easy_init();
}

static void easy_put(fz_engine *eng, CURL *easy)
{
    if (eng->npool == eng->poolcap) {
        eng->poolcap = eng->poolcap ? eng->poolcap * 2 : 32;
        eng->pool = vg_realloc(eng->pool, eng->poolcap * sizeof *eng->pool);
    }
    eng->pool[eng->npool++] = easy;
}

static void set_method(CURL *easy, const fz_req *req)
{
    if (strcmp(req->method, "GET") == 0 && req->body == NULL) {
        curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
        return;
    }
    if (strcmp(req->method, "HEAD") == 0) {
        curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
        return;
    }
    if (req->body != NULL) {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    } else if (strcmp(req->method, "POST") == 0) {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    }
    if (strcmp(req->method, "POST") != 0) {
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
    }
}

static void start(fz_engine *eng, fz_req *req)
{
    CURL *easy = easy_get(eng);
    attempt *at = vg_calloc(1, sizeof *at);
    at->eng = eng;
    at->req = req;
    for (int i = 0; i < req->nheaders; i++) {
        at->hdrs = curl_slist_append(at->hdrs, req->headers[i]);
    }
    at->hdrs = curl_slist_append(at->hdrs, "Expect:");
    vg_buf_reset(&req->resp_headers);
    vg_buf_reset(&req->resp_body);
    req->resp_size = 0;
    req->attempts++;
    curl_easy_setopt(easy, CURLOPT_URL, req->url);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, at);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, at->hdrs);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, req);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, req);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)eng->o.timeout_ms);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "vigil-fuzzer/1");
    curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);
    set_method(easy, req);
    eng->inflight++;
    eng->sent++;
    curl_multi_add_handle(eng->multi, easy);
}

static bool transport_retryable(CURLcode rc)
{
    return rc == CURLE_COULDNT_CONNECT || rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR ||
           rc == CURLE_GOT_NOTHING || rc == CURLE_PARTIAL_FILE || rc == CURLE_HTTP2 ||
           rc == CURLE_HTTP2_STREAM;
}

static void finish(fz_engine *eng, CURL *easy, CURLcode rc)
{
    attempt *at = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&at);
    fz_req *req = at->req;
    long code = 0;
    curl_off_t total_us = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total_us);
    curl_multi_remove_handle(eng->multi, easy);
    curl_slist_free_all(at->hdrs);
    free(at);
    easy_put(eng, easy);
    eng->inflight--;
    if (rc != CURLE_OK && transport_retryable(rc) && req->attempts <= eng->o.retries &&
        !fz_engine_expired(eng)) {
        queue_push(eng, req);
        return;
    }
    req->elapsed_ms = (double)total_us / 1000.0;
    if (rc == CURLE_OK) {
        req->status = (int)code;
        req->error[0] = '\0';
        eng->answered++;
    } else {
        req->status = 0;
        snprintf(req->error, sizeof req->error, "%s", curl_easy_strerror(rc));
    }
    eng->completed++;
}

static void reap(fz_engine *eng)
{
    CURLMsg *msg;
    int left = 0;
    while ((msg = curl_multi_info_read(eng->multi, &left)) != NULL) {
        if (msg->msg == CURLMSG_DONE) {
            finish(eng, msg->easy_handle, msg->data.result);
        }
    }
}

static void pump(fz_engine *eng)
{
    reap(eng);
    while (eng->inflight < eng->o.concurrency && eng->qhead < eng->qlen) {
        fz_req *req = eng->queue[eng->qhead];
        if (fz_engine_expired(eng)) {
            eng->qhead++;
            req->status = 0;
            snprintf(req->error, sizeof req->error, "time budget exhausted");
            eng->completed++;
            continue;
        }
        int64_t now = now_us();
        if (!fz_bucket_take(&eng->bucket, now)) {
            if (!eng->rate_armed) {
                int64_t wait = fz_bucket_wait_us(&eng->bucket, now);
                struct timeval tv = {(time_t)(wait / 1000000), (suseconds_t)(wait % 1000000)};
                evtimer_add(eng->rate_timer, &tv);
                eng->rate_armed = true;
            }
            return;
        }
        eng->qhead++;
        start(eng, req);
    }
}

size_t fz_engine_run(fz_engine *eng, fz_req **reqs, size_t n)
{
    eng->completed = 0;
    eng->answered = 0;
    for (size_t i = 0; i < n; i++) {
        reqs[i]->status = 0;
        reqs[i]->attempts = 0;
        reqs[i]->error[0] = '\0';
        queue_push(eng, reqs[i]);
    }
    pump(eng);
    while (eng->completed < n) {
        event_base_loop(eng->base, EVLOOP_ONCE);
        pump(eng);
    }
    return eng->answered;
}

bool fz_engine_send(fz_engine *eng, fz_req *req)
{
    return fz_engine_run(eng, &req, 1) == 1;
}

static void on_idle_done(evutil_socket_t fd, short kind, void *arg)
{
    (void)fd;
    (void)kind;
    *(bool *)arg = true;
}

void fz_engine_idle(fz_engine *eng, int ms)
{
    bool done = false;
    struct event *ev = evtimer_new(eng->base, on_idle_done, &done);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(ev, &tv);
    while (!done) {
        event_base_loop(eng->base, EVLOOP_ONCE);
    }
    event_free(ev);
}

bool fz_engine_expired(const fz_engine *eng)
{
    if (eng->o.stop != NULL && atomic_load(eng->o.stop)) {
        return true;
    }
    return eng->o.deadline_ms > 0 && vg_now_ms() >= eng->o.deadline_ms;
}

uint64_t fz_engine_sent(const fz_engine *eng)
{
    return eng->sent;
}
