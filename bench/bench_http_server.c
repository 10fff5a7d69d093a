/* Benchmark of common/http.c: one event loop (one core) serving GET /ping, loaded by wrk.
 *
 *   bin/bench_http_server [-d SECONDS] [-c CONNECTIONS] [--tls CERT KEY]
 *
 * Starts the server on 127.0.0.1 (ephemeral port) pinned to CPU 0, runs
 * `wrk -t1 -cCONNECTIONS -dSECONDS --latency` pinned to CPU 1 (when there are two CPUs),
 * prints wrk's report, then drains the server and exits with wrk's status. wrk must be on
 * PATH. With --tls the server speaks HTTPS with the given PEM files. */
#include <errno.h>
#include <event2/event.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vigil/http.h"

extern char **environ;

typedef struct bench {
    struct event_base *base;
    vg_http_server *srv;
    pid_t wrk;
    int wrk_status;
} bench;

typedef struct bench_opts {
    int seconds;
    int connections;
    const char *cert;
    const char *key;
} bench_opts;

static void h_ping(vg_http_req *req, void *arg)
{
    (void)arg;
    vg_http_reply_json(req, 200, json_pack("{s:b}", "ok", 1));
}

static void on_drained(void *arg)
{
    bench *b = arg;
    event_base_loopexit(b->base, NULL);
}

static void on_sigchld(evutil_socket_t sig, short what, void *arg)
{
    bench *b = arg;
    (void)sig;
    (void)what;
    int status = 0;
    if (waitpid(b->wrk, &status, WNOHANG) == b->wrk) {
        b->wrk_status = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
        vg_http_server_drain(b->srv, 2, on_drained, b);
    }
}

static void pin(pid_t pid, int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(pid, sizeof set, &set) != 0) {
        fprintf(stderr, "bench_http_server: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
    }
}

static int spawn_wrk(bench *b, const bench_opts *o, int port)
{
    char conns[32], dur[32], url[128];
    snprintf(conns, sizeof conns, "-c%d", o->connections);
    snprintf(dur, sizeof dur, "-d%ds", o->seconds);
    snprintf(url, sizeof url, "%s://127.0.0.1:%d/ping", o->cert ? "https" : "http", port);
    char *argv[] = {"wrk", "-t1", conns, dur, "--latency", url, NULL};
    int rc = posix_spawnp(&b->wrk, "wrk", NULL, NULL, argv, environ);
    if (rc != 0) {
        fprintf(stderr, "bench_http_server: cannot run wrk: %s\n", strerror(rc));
        return -1;
    }
    if (sysconf(_SC_NPROCESSORS_ONLN) >= 2) {
        pin(0, 0);
        pin(b->wrk, 1);
    }
    printf("server on 127.0.0.1:%d (%s), wrk %s %s\n", port, o->cert ? "TLS" : "plain", conns, dur);
    fflush(stdout);
    return 0;
}

static int parse_args(int argc, char **argv, bench_opts *o)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
            o->seconds = atoi(argv[++i]);
        } else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            o->connections = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--tls") == 0 && i + 2 < argc) {
            o->cert = argv[++i];
            o->key = argv[++i];
        } else {
            fprintf(stderr, "usage: %s [-d SECONDS] [-c CONNECTIONS] [--tls CERT KEY]\n", argv[0]);
            return -1;
        }
    }
    return o->seconds > 0 && o->connections > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    bench_opts o = {.seconds = 10, .connections = 64};
    bench b = {0};
    int rc = 1;
    if (parse_args(argc, argv, &o) != 0) {
        return 2;
    }
    b.base = event_base_new();
    vg_http_opts hopts = {.addr = "127.0.0.1:0",
                          .max_body = 65536,
                          .tls_cert = o.cert,
                          .tls_key = o.key,
                          .timeout_s = 30};
    char err[256] = "";
    b.srv = vg_http_server_new(b.base, &hopts, err, sizeof err);
    if (b.srv == NULL) {
        fprintf(stderr, "bench_http_server: %s\n", err);
        goto out;
    }
    vg_http_route(b.srv, "GET", "/ping", h_ping, NULL);
    struct event *chld = evsignal_new(b.base, SIGCHLD, on_sigchld, &b);
    evsignal_add(chld, NULL);
    if (spawn_wrk(&b, &o, vg_http_server_port(b.srv)) == 0) {
        event_base_dispatch(b.base);
        rc = b.wrk_status;
    }
    event_free(chld);
out:
    vg_http_server_destroy(b.srv);
    event_base_free(b.base);
    return rc;
}
