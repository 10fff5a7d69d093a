/* vigil-ingest: the machine-facing edge: traces, scanner reports and the cluster collector
 * Wiring only: configuration, the service skeleton (HTTP health/metrics, database, Kafka),
 * the edge routes with their producer, the collector and its consumer, and the loop. */
#include <stdio.h>
#include <stdlib.h>

#include "auth.h"
#include "collector.h"
#include "edge.h"
#include "producer.h"
#include "vigil/config.h"
#include "vigil/crypto.h"
#include "vigil/log.h"
#include "vigil/service.h"

typedef struct ingest_conf {
    vg_base_conf base;
    char *master_key;
    long max_body;
    long ack_timeout_ms;
    long rate;
    long burst;
    long auth_ttl_ms;
    long free_clusters;
    long batch_records;
    long collect_interval_s;
    long page_size;
    long lease_s;
    long kube_timeout_s;
    long collect_workers;
    bool collect;
} ingest_conf;

#define INT_ENTRY(var, def, field, help, min, max)                                                 \
    {                                                                                              \
        var, VG_CFG_INT, def, offsetof(ingest_conf, field), help, min, max                         \
    }

static const vg_cfg_entry ingest_table[] = {
    VG_CFG_BASE_ENTRIES(ingest_conf, "VIGIL_INGEST_ADDR", "127.0.0.1:8081"),
    {"VIGIL_MASTER_KEY", VG_CFG_SECRET, NULL, offsetof(ingest_conf, master_key),
     "secret-encryption key (32 bytes, base64) that opens the cluster credentials", 0, 0},
    INT_ENTRY("VIGIL_INGEST_MAX_BODY", "10485760", max_body,
              "largest request body, and largest decompressed body (bytes): 413 beyond", 1024,
              1073741824),
    INT_ENTRY("VIGIL_INGEST_ACK_TIMEOUT_MS", "10000", ack_timeout_ms,
              "how long a request waits for Kafka's acknowledgement before 503", 500, 300000),
    INT_ENTRY("VIGIL_INGEST_RATE", "50", rate, "requests per second per cluster (token bucket)", 1,
              1000000),
    INT_ENTRY("VIGIL_INGEST_BURST", "100", burst, "token bucket size per cluster", 1, 1000000),
    INT_ENTRY("VIGIL_INGEST_AUTH_TTL_MS", "5000", auth_ttl_ms,
              "ingest-token cache lifetime: a revoked token stops working within it", 0, 60000),
    INT_ENTRY("VIGIL_FREE_CLUSTERS", "3", free_clusters,
              "clusters a free-plan tenant may connect; later ones (creation order) get 402 "
              "and are not collected",
              0, 100000),
    INT_ENTRY("VIGIL_INGEST_BATCH_RECORDS", "500", batch_records,
              "trace records per trace.batch message", 1, 10000),
    INT_ENTRY("VIGIL_COLLECT_INTERVAL", "300", collect_interval_s,
              "seconds between scheduled syncs of a cluster", 1, 86400),
    INT_ENTRY("VIGIL_COLLECT_PAGE_SIZE", "500", page_size,
              "limit= of the collector's list requests", 1, 10000),
    INT_ENTRY("VIGIL_COLLECT_LEASE", "120", lease_s,
              "seconds a collector replica holds a cluster's lease (renewed while listing)", 5,
              3600),
    INT_ENTRY("VIGIL_COLLECT_TIMEOUT", "30", kube_timeout_s,
              "timeout in seconds of one request to a cluster's API server", 1, 600),
    INT_ENTRY("VIGIL_COLLECT_WORKERS", "2", collect_workers,
              "scheduler threads syncing clusters in parallel (one lease each)", 1, 16),
    {"VIGIL_COLLECT_ENABLED", VG_CFG_BOOL, "1", offsetof(ingest_conf, collect),
     "run the cluster collector (scheduler and cluster.sync consumer)", 0, 0},
    VG_CFG_END,
};

typedef struct ingest_app {
    ingest_conf conf;
    vg_master_key mk;
    vg_service *svc;
    ingest_producer *producer;
    ingest_auth *auth;
    ingest_edge *edge;
    ingest_collector *collector;
} ingest_app;

static void on_drain(void *arg)
{
    ingest_app *app = arg;
    if (app->collector != NULL) {
        ingest_collector_request_stop(app->collector);
    }
}

static int app_collector(ingest_app *app, char *err, size_t errlen)
{
    ingest_collector_opts copts = {.database_url = app->conf.base.database_url,
                                   .producer = app->svc->producer,
                                   .mk = &app->mk,
                                   .interval_s = app->conf.collect_interval_s,
                                   .page_size = app->conf.page_size,
                                   .lease_s = app->conf.lease_s,
                                   .timeout_s = app->conf.kube_timeout_s,
                                   .free_clusters = app->conf.free_clusters,
                                   .chunk_items = 500,
                                   .chunk_bytes = 512 * 1024,
                                   .allow_private = app->conf.base.allow_private_targets,
                                   .schedule = true,
                                   .workers = (int)app->conf.collect_workers};
    app->collector = ingest_collector_start(&copts, err, errlen);
    if (app->collector == NULL) {
        return -1;
    }
    static const char *const topics[] = {VG_TOPIC_COMMANDS};
    return vg_service_add_consumer(app->svc, "vigil-ingest", topics, 1, ingest_collector_on_command,
                                   app->collector, err, errlen);
}

static int app_start(ingest_app *app, char *err, size_t errlen)
{
    if (vg_master_key_load(&app->mk, app->conf.master_key, app->conf.base.dev_mode, err, errlen) !=
        0) {
        return -1;
    }
    static const char *const topics[] = {VG_TOPIC_TRACES,   VG_TOPIC_INVENTORY, VG_TOPIC_SCANS,
                                         VG_TOPIC_COMMANDS, VG_TOPIC_FINDINGS,  VG_TOPIC_DLQ};
    vg_service_opts opts = {.name = "ingest",
                            .conf = &app->conf.base,
                            .db_role = NULL,
                            .max_body = (size_t)app->conf.max_body,
                            .topics = topics,
                            .ntopics = (int)(sizeof topics / sizeof topics[0])};
    app->svc = vg_service_new(&opts, err, errlen);
    if (app->svc == NULL) {
        return -1;
    }
    app->producer = ingest_producer_new(app->svc->base, app->conf.base.kafka_brokers,
                                        app->conf.ack_timeout_ms, err, errlen);
    if (app->producer == NULL) {
        return -1;
    }
    ingest_auth_opts aopts = {.ttl_ms = app->conf.auth_ttl_ms,
                              .free_clusters = app->conf.free_clusters,
                              .rate = (double)app->conf.rate,
                              .burst = (double)app->conf.burst};
    app->auth = ingest_auth_new(&aopts);
    ingest_edge_opts eopts = {.max_decoded = (size_t)app->conf.max_body,
                              .batch_records = (size_t)app->conf.batch_records,
                              .batch_bytes = 900 * 1024};
    app->edge = ingest_edge_new(&eopts, app->auth, app->producer, app->svc->db);
    ingest_edge_routes(app->edge, app->svc->http);
    vg_service_on_drain(app->svc, on_drain, app);
    return app->conf.collect ? app_collector(app, err, errlen) : 0;
}

/* After the loop: the drain already stopped the consumer (and with it the cluster.sync
 * handler); the scheduler is joined before the producer it uses goes away. */
static void app_stop(ingest_app *app)
{
    ingest_collector_destroy(app->collector);
    ingest_producer_destroy(app->producer, 5000);
    ingest_edge_destroy(app->edge);
    ingest_auth_destroy(app->auth);
    vg_service_destroy(app->svc);
    vg_wipe(&app->mk, sizeof app->mk);
    vg_config_free(ingest_table, &app->conf);
}

int main(int argc, char **argv)
{
    vg_service_block_signals();
    int args = vg_config_args(
        argc, argv, "vigil-ingest",
        "the machine-facing edge: traces, scanner reports and the cluster collector", ingest_table);
    if (args != 0) {
        return args > 0 ? 0 : 2;
    }
    static ingest_app app;
    char err[512];
    if (vg_config_load(ingest_table, &app.conf, err, sizeof err) != 0) {
        fprintf(stderr, "vigil-ingest: %s\n", err);
        return 2;
    }
    int rc = 1;
    if (app_start(&app, err, sizeof err) != 0) {
        vg_error("cannot start", "error", err);
        goto out;
    }
    rc = vg_service_run(app.svc);
out:
    app_stop(&app);
    return rc;
}
