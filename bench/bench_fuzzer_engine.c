/* Fuzzer benchmarks.
 * 1. Engine throughput: requests/s that the libcurl-multi-on-libevent engine sustains on one
 *    core (pinned to CPU 0) against a trivial local HTTP target (a child process pinned to
 *    CPU 1), keep-alive, no rate limit.
 * 2. Plan wall time: the whole check plan (every family, no database or Kafka) against
 *    bin/fixture-vulnapi, vulnerable and fixed, at the default 50 req/s and at 1000 req/s.
 * Usage: bin/bench_fuzzer_engine [requests] [concurrency] [engine]
 * (run from the repository root; a third argument "engine" skips the plan runs) */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../services/fuzzer/canary.h"
#include "../services/fuzzer/check.h"
#include "../services/fuzzer/jwt.h"
#include "vigil/alloc.h"
#include "vigil/util.h"

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
}

static void on_trivial(struct evhttp_request *req, void *arg)
{
    (void)arg;
    struct evbuffer *out = evbuffer_new();
    evbuffer_add(out, "{\"ok\":true}", 11);
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
}

/* A trivial target in a child process; returns its pid, port in *port. */
static pid_t trivial_target(int *port)
{
    int fds[2];
    if (pipe(fds) != 0) {
        exit(1);
    }
    pid_t pid = fork();
    if (pid == 0) {
        pin(1);
        struct event_base *b = event_base_new();
        struct evhttp *http = evhttp_new(b);
        evhttp_set_gencb(http, on_trivial, NULL);
        struct evhttp_bound_socket *s = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
        struct sockaddr_in sin;
        socklen_t len = sizeof sin;
        getsockname(evhttp_bound_socket_get_fd(s), (struct sockaddr *)&sin, &len);
        int p = ntohs(sin.sin_port);
        if (write(fds[1], &p, sizeof p) != sizeof p) {
            _exit(1);
        }
        event_base_dispatch(b);
        _exit(0);
    }
    if (read(fds[0], port, sizeof *port) != sizeof *port) {
        exit(1);
    }
    close(fds[0]);
    close(fds[1]);
    return pid;
}

static void bench_engine(int n, int conc)
{
    int port = 0;
    pid_t child = trivial_target(&port);
    pin(0);
    struct event_base *base = event_base_new();
    fz_engine_opts o = {.concurrency = conc, .timeout_ms = 10000};
    fz_engine *eng = fz_engine_new(base, &o);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", port);
    fz_req **reqs = vg_calloc((size_t)n, sizeof *reqs);
    for (int i = 0; i < n; i++) {
        reqs[i] = fz_req_new("GET", url);
        fz_req_add_header(reqs[i], "Accept: application/json");
    }
    fz_engine_run(eng, reqs, (size_t)(n / 10 < 1000 ? n / 10 : 1000)); /* warm-up */
    for (int i = 0; i < n; i++) {
        vg_buf_reset(&reqs[i]->resp_body);
    }
    int64_t t0 = vg_now_ms();
    size_t ok = fz_engine_run(eng, reqs, (size_t)n);
    int64_t ms = vg_now_ms() - t0;
    printf(
        "| engine, 1 core, keep-alive, concurrency %d | %d requests, %zu answered | %.0f req/s |\n",
        conc, n, ok, (double)n * 1000.0 / (double)(ms ? ms : 1));
    for (int i = 0; i < n; i++) {
        fz_req_destroy(reqs[i]);
    }
    free(reqs);
    fz_engine_destroy(eng);
    event_base_free(base);
    kill(child, SIGTERM);
    waitpid(child, NULL, 0);
    cpu_set_t all;
    CPU_ZERO(&all);
    CPU_SET(0, &all);
    CPU_SET(1, &all);
    sched_setaffinity(0, sizeof all, &all);
}

static pid_t start_vulnapi(int port, bool fixed)
{
    pid_t pid = fork();
    if (pid == 0) {
        char p[16];
        snprintf(p, sizeof p, "%d", port);
        int devnull = open("/dev/null", 1);
        dup2(devnull, 2);
        execl("bin/fixture-vulnapi", "fixture-vulnapi", p, fixed ? "--fixed" : NULL, (char *)NULL);
        _exit(127);
    }
    usleep(200000);
    return pid;
}

static char *login(fz_engine *eng, const char *base_url, const char *user)
{
    char *u = vg_asprintf("%s/api/v2/login", base_url);
    char *body = vg_asprintf("{\"username\":\"%s\",\"password\":\"%s-pass-1\"}", user, user);
    fz_req *req = fz_req_new("POST", u);
    fz_req_set_body(req, "application/json", body, strlen(body));
    fz_engine_send(eng, req);
    json_t *j =
        json_loadb(req->resp_body.data ? req->resp_body.data : "", req->resp_body.len, 0, NULL);
    char *tok = vg_strdup(json_string_value(json_object_get(j, "token")));
    json_decref(j);
    fz_req_destroy(req);
    free(u);
    free(body);
    return tok;
}

static int count_emit(void *arg, const char *fp, const char *id, const char *ep, json_t *data)
{
    (void)fp;
    (void)id;
    (void)ep;
    (*(int *)arg)++;
    json_decref(data);
    return 1;
}

static void add_identities(fz_target *tgt, fz_engine *eng)
{
    static const char *const users[3] = {"alice", "bob", "admin"};
    tgt->ids = vg_calloc(3, sizeof *tgt->ids);
    for (int i = 0; i < 3; i++) {
        char *tok = login(eng, tgt->base_url, users[i]);
        fz_identity *id = &tgt->ids[tgt->nids++];
        id->name = vg_strdup(users[i]);
        id->admin = i == 2;
        id->headers = vg_calloc(1, sizeof(char *));
        id->headers[0] = vg_asprintf("Authorization: Bearer %s", tok ? tok : "");
        id->nheaders = 1;
        id->jwt = fz_jwt_from_header(id->headers[0]);
        free(tok);
    }
}

static void bench_plan(bool fixed, double rate)
{
    int port = 20000 + (int)(vg_now_ms() % 20000);
    pid_t child = start_vulnapi(port, fixed);
    char base_url[64], err[256];
    snprintf(base_url, sizeof base_url, "http://127.0.0.1:%d", port);
    struct event_base *base = event_base_new();
    fz_canary *canary = fz_canary_new(base, "127.0.0.1:0", NULL, err, sizeof err);
    fz_engine_opts o = {.concurrency = 8, .rate = rate, .timeout_ms = 10000, .retries = 2};
    fz_engine *eng = fz_engine_new(base, &o);
    fz_target *tgt = fz_target_new(base_url, err, sizeof err);
    tgt->allow_unsafe = true;
    json_t *doc = json_load_file("tests/fixtures/vulnapi/openapi.json", 0, NULL);
    fz_target_add_openapi(tgt, doc);
    json_decref(doc);
    add_identities(tgt, eng);
    int findings = 0;
    fz_ctx ctx;
    fz_ctx_init(&ctx, tgt, eng);
    ctx.canary = canary;
    ctx.tenant_id = "bench";
    ctx.job_id = "bench";
    ctx.emit = count_emit;
    ctx.emit_arg = &findings;
    uint64_t sent0 = fz_engine_sent(eng);
    int64_t t0 = vg_now_ms();
    fz_ctx_crawl(&ctx);
    for (int i = 0; fz_families[i].name != NULL; i++) {
        fz_families[i].run(&ctx);
    }
    int64_t ms = vg_now_ms() - t0;
    printf(
        "| whole plan vs vulnapi (%s), rate %.0f req/s | %llu requests, %d findings | %.1f s |\n",
        fixed ? "fixed" : "vulnerable", rate, (unsigned long long)(fz_engine_sent(eng) - sent0),
        findings, (double)ms / 1000.0);
    fz_ctx_clear(&ctx);
    fz_target_destroy(tgt);
    fz_engine_destroy(eng);
    fz_canary_destroy(canary);
    event_base_free(base);
    kill(child, SIGTERM);
    waitpid(child, NULL, 0);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 50000;
    int conc = argc > 2 ? atoi(argv[2]) : 32;
    signal(SIGPIPE, SIG_IGN);
    printf("| benchmark | work | result |\n| --- | --- | --- |\n");
    bench_engine(n, conc);
    bench_engine(n, 8);
    if (argc > 3 && strcmp(argv[3], "engine") == 0) {
        return 0;
    }
    bench_plan(false, 50);
    bench_plan(true, 50);
    bench_plan(false, 1000);
    bench_plan(true, 1000);
    return 0;
}
