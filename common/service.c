#include "vigil/service.h"

#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/alloc.h"
#include "vigil/log.h"
#include "vigil/metrics.h"
#include "vigil/migrate.h"
#include "vigil/util.h"

#define MAX_CONSUMERS 8
#define MAX_DRAIN_HOOKS 8

typedef struct drain_hook {
    void (*fn)(void *);
    void *arg;
} drain_hook;

struct vg_service_priv {
    struct event *sigterm;
    struct event *sigint;
    struct event *poll_timer;
    int signals_seen;
    bool draining;
    vg_consumer *consumers[MAX_CONSUMERS];
    int nconsumers;
    drain_hook hooks[MAX_DRAIN_HOOKS];
    int nhooks;
    int exit_code;
    int64_t ready_checked_ms; /* readiness is probed at most once a second */
    bool ready_db;
    bool ready_kafka;
};

void vg_service_block_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void reply_healthz(vg_http_req *req, void *arg)
{
    (void)arg;
    vg_http_reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

static void reply_readyz(vg_http_req *req, void *arg)
{
    vg_service *svc = arg;
    struct vg_service_priv *priv = svc->priv;
    int64_t now = vg_now_ms();
    if (priv->ready_checked_ms == 0 || now - priv->ready_checked_ms >= 1000) {
        /* both probes block the loop (at most ~1.5 s when Kafka is down): rate-limit them */
        priv->ready_db = vg_db_ping(svc->db);
        priv->ready_kafka = vg_producer_ping(svc->producer, 1500);
        priv->ready_checked_ms = vg_now_ms();
    }
    bool db_ok = priv->ready_db, kafka_ok = priv->ready_kafka;
    bool ok = db_ok && kafka_ok && !svc->priv->draining;
    json_t *body = json_pack("{s:s,s:{s:s,s:s},s:b}", "status", ok ? "ready" : "unavailable",
                             "checks", "database", db_ok ? "ok" : "unreachable", "kafka",
                             kafka_ok ? "ok" : "unreachable", "draining", svc->priv->draining);
    if (!ok) {
        char msg[160];
        snprintf(msg, sizeof msg, "not ready:%s%s%s", db_ok ? "" : " database unreachable;",
                 kafka_ok ? "" : " kafka unreachable;", svc->priv->draining ? " draining;" : "");
        json_object_set_new(body, "error",
                            json_pack("{s:s,s:s}", "code", "not_ready", "message", msg));
    }
    vg_http_reply_json(req, ok ? 200 : 503, body);
}

static void reply_metrics(vg_http_req *req, void *arg)
{
    vg_service *svc = arg;
    for (int i = 0; i < svc->priv->nconsumers; i++) {
        (void)vg_consumer_lag(svc->priv->consumers[i]); /* refreshes the lag gauge */
    }
    vg_buf out = {0};
    vg_metrics_render(&out);
    vg_http_reply_raw(req, 200, "text/plain; version=0.0.4", out.data, out.len);
    vg_buf_free(&out);
}

static void on_poll_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    vg_service *svc = arg;
    vg_producer_poll(svc->producer, 0);
}

static void finish_drain(void *arg)
{
    vg_service *svc = arg;
    for (int i = 0; i < svc->priv->nconsumers; i++) {
        vg_consumer_stop(svc->priv->consumers[i]);
        svc->priv->consumers[i] = NULL;
    }
    svc->priv->nconsumers = 0;
    if (vg_producer_flush(svc->producer, 5000) != 0) {
        vg_error("producer flush timed out: messages may be lost");
        svc->priv->exit_code = 1;
    }
    vg_info("drained, exiting");
    event_base_loopexit(svc->base, NULL);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    vg_service *svc = arg;
    if (++svc->priv->signals_seen > 1) {
        vg_warn("second signal: exiting now");
        _exit(1);
    }
    vg_info("shutting down", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    svc->priv->draining = true;
    for (int i = 0; i < svc->priv->nhooks; i++) {
        svc->priv->hooks[i].fn(svc->priv->hooks[i].arg);
    }
    vg_http_server_drain(svc->http, (int)svc->conf->shutdown_timeout_s, finish_drain, svc);
}

static int run_migrations(const vg_service_opts *opts, char *errbuf, size_t errlen)
{
    const vg_base_conf *conf = opts->conf;
    vg_db *owner = vg_db_new(conf->database_url, NULL);
    int rc = -1;
    if (vg_db_conn(owner, 30000) == NULL) {
        snprintf(errbuf, errlen, "database unreachable: %s", vg_db_error(owner));
        goto out;
    }
    int n = conf->migrate ? vg_migrate_run(owner, conf->sql_dir, errbuf, errlen)
                          : vg_migrate_pending(owner, conf->sql_dir, errbuf, errlen);
    if (n < 0) {
        goto out;
    }
    if (!conf->migrate && n > 0) {
        snprintf(errbuf, errlen, "%d migrations pending: run `vigilctl migrate`", n);
        goto out;
    }
    rc = 0;
out:
    vg_db_destroy(owner);
    return rc;
}

static int setup_kafka(vg_service *svc, const vg_service_opts *opts, char *errbuf, size_t errlen)
{
    const vg_base_conf *conf = opts->conf;
    svc->producer = vg_producer_new(conf->kafka_brokers, opts->name, errbuf, errlen);
    if (svc->producer == NULL) {
        return -1;
    }
    /* the broker may still be starting: retry topic creation for up to 30 s */
    for (int attempt = 0;; attempt++) {
        if (vg_kafka_ensure_topics(conf->kafka_brokers, opts->topics, opts->ntopics, 3, errbuf,
                                   errlen) == 0) {
            return 0;
        }
        if (attempt >= 15) {
            return -1;
        }
        vg_warn("kafka not ready, retrying", "error", errbuf);
        sleep(2);
    }
}

static void register_routes(vg_service *svc)
{
    vg_http_route(svc->http, "GET", "/healthz", reply_healthz, svc);
    vg_http_route(svc->http, "GET", "/readyz", reply_readyz, svc);
    vg_http_route(svc->http, "GET", "/metrics", reply_metrics, svc);
}

vg_service *vg_service_new(const vg_service_opts *opts, char *errbuf, size_t errlen)
{
    const vg_base_conf *conf = opts->conf;
    vg_log_level level = VG_LOG_INFO;
    if (!vg_log_level_parse(conf->log_level, &level)) {
        snprintf(errbuf, errlen, "VIGIL_LOG_LEVEL: expected debug, info, warn or error");
        return NULL;
    }
    vg_log_init(opts->name, level);
    vg_topic_prefix_set(conf->topic_prefix);
    signal(SIGPIPE, SIG_IGN);
    vg_service *svc = vg_calloc(1, sizeof *svc);
    svc->name = opts->name;
    svc->conf = conf;
    svc->priv = vg_calloc(1, sizeof *svc->priv);
    if (run_migrations(opts, errbuf, errlen) != 0 || setup_kafka(svc, opts, errbuf, errlen) != 0) {
        goto fail;
    }
    svc->db = vg_db_new(conf->database_url, opts->db_role);
    svc->base = event_base_new();
    vg_http_opts hopts = {.addr = conf->http_addr,
                          .max_body = opts->max_body ? opts->max_body : 1024 * 1024,
                          .tls_cert = opts->tls_cert,
                          .tls_key = opts->tls_key,
                          .timeout_s = 30};
    svc->http = vg_http_server_new(svc->base, &hopts, errbuf, errlen);
    if (svc->http == NULL) {
        goto fail;
    }
    register_routes(svc);
    svc->priv->sigterm = evsignal_new(svc->base, SIGTERM, on_signal, svc);
    svc->priv->sigint = evsignal_new(svc->base, SIGINT, on_signal, svc);
    svc->priv->poll_timer = event_new(svc->base, -1, EV_PERSIST, on_poll_timer, svc);
    struct timeval tick = {0, 20000};
    event_add(svc->priv->sigterm, NULL);
    event_add(svc->priv->sigint, NULL);
    event_add(svc->priv->poll_timer, &tick);
    return svc;
fail:
    vg_service_destroy(svc);
    return NULL;
}

int vg_service_add_consumer(vg_service *svc, const char *group, const char *const *topics,
                            int ntopics, vg_consumer_handler fn, void *arg, char *errbuf,
                            size_t errlen)
{
    if (svc->priv->nconsumers == MAX_CONSUMERS) {
        snprintf(errbuf, errlen, "too many consumers");
        return -1;
    }
    char *full_group = vg_asprintf("%s%s", svc->conf->topic_prefix, group);
    vg_consumer_opts copts = {.brokers = svc->conf->kafka_brokers,
                              .group = full_group,
                              .topics = topics,
                              .ntopics = ntopics,
                              .handler = fn,
                              .arg = arg,
                              .database_url = svc->conf->database_url,
                              .dlq = svc->producer,
                              .max_attempts = 3};
    vg_consumer *c = vg_consumer_start(&copts, errbuf, errlen);
    free(full_group);
    if (c == NULL) {
        return -1;
    }
    svc->priv->consumers[svc->priv->nconsumers++] = c;
    return 0;
}

void vg_service_on_drain(vg_service *svc, void (*fn)(void *), void *arg)
{
    if (svc->priv->nhooks < MAX_DRAIN_HOOKS) {
        svc->priv->hooks[svc->priv->nhooks++] = (drain_hook){fn, arg};
    }
}

int vg_service_run(vg_service *svc)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    char port[16];
    snprintf(port, sizeof port, "%d", vg_http_server_port(svc->http));
    vg_info("started", "addr", svc->conf->http_addr, "port", port);
    event_base_dispatch(svc->base);
    return svc->priv->exit_code;
}

void vg_service_destroy(vg_service *svc)
{
    if (svc == NULL) {
        return;
    }
    for (int i = 0; i < svc->priv->nconsumers; i++) {
        vg_consumer_stop(svc->priv->consumers[i]);
    }
    if (svc->priv->sigterm) {
        event_free(svc->priv->sigterm);
    }
    if (svc->priv->sigint) {
        event_free(svc->priv->sigint);
    }
    if (svc->priv->poll_timer) {
        event_free(svc->priv->poll_timer);
    }
    vg_http_server_destroy(svc->http);
    vg_producer_destroy(svc->producer);
    vg_db_destroy(svc->db);
    if (svc->base) {
        event_base_free(svc->base);
    }
    free(svc->priv);
    free(svc);
}
