/* vigil-fuzzer: OWASP API Security Top 10 active testing
 * Wiring only: configuration, the service skeleton (HTTP health/metrics, database, Kafka),
 * the job runner thread, the consumer, and the loop. */
#include <stdio.h>
#include <stdlib.h>

#include "consumer.h"
#include "runner.h"
#include "vigil/config.h"
#include "vigil/crypto.h"
#include "vigil/log.h"
#include "vigil/service.h"

typedef struct fuzzer_conf {
    vg_base_conf base;
    char *master_key;
    char *canary_addr;
    char *canary_url;
    long lease_s;
    long concurrency;
    long timeout_ms;
    long poll_ms;
} fuzzer_conf;

static const vg_cfg_entry fuzzer_table[] = {
    VG_CFG_BASE_ENTRIES(fuzzer_conf, "VIGIL_FUZZER_ADDR", "127.0.0.1:8083"),
    {"VIGIL_MASTER_KEY", VG_CFG_SECRET, NULL, offsetof(fuzzer_conf, master_key),
     "base64 32-byte key that opens the identities' sealed header values", 0, 0},
    {"VIGIL_FUZZER_CANARY_ADDR", VG_CFG_ADDR, "127.0.0.1:0", offsetof(fuzzer_conf, canary_addr),
     "listen address of the SSRF canary server (port 0 = any)", 0, 0},
    {"VIGIL_FUZZER_CANARY_URL", VG_CFG_STRING, NULL, offsetof(fuzzer_conf, canary_url),
     "URL targets use to reach the canary (default http://<canary addr>)", 0, 0},
    {"VIGIL_FUZZER_LEASE", VG_CFG_INT, "15", offsetof(fuzzer_conf, lease_s),
     "seconds without heartbeat after which a running job is resumed by any fuzzer", 2, 3600},
    {"VIGIL_FUZZER_CONCURRENCY", VG_CFG_INT, "8", offsetof(fuzzer_conf, concurrency),
     "requests in flight per target", 1, 256},
    {"VIGIL_FUZZER_TIMEOUT_MS", VG_CFG_INT, "10000", offsetof(fuzzer_conf, timeout_ms),
     "per-request timeout in milliseconds", 100, 120000},
    {"VIGIL_FUZZER_POLL_MS", VG_CFG_INT, "2000", offsetof(fuzzer_conf, poll_ms),
     "how often the runner looks for queued or abandoned jobs", 100, 60000},
    VG_CFG_END,
};

static void on_drain(void *arg)
{
    fz_runner_shutdown(arg);
}

static int run(fuzzer_conf *conf, const vg_master_key *mk)
{
    char err[512];
    static const char *const topics[] = {VG_TOPIC_COMMANDS, VG_TOPIC_API_EVENTS, VG_TOPIC_FINDINGS,
                                         VG_TOPIC_DLQ};
    vg_service_opts opts = {
        .name = "fuzzer", .conf = &conf->base, .db_role = NULL, .topics = topics, .ntopics = 4};
    vg_service *svc = vg_service_new(&opts, err, sizeof err);
    if (svc == NULL) {
        vg_error("cannot start", "error", err);
        return 1;
    }
    fz_runner_opts ro = {.database_url = conf->base.database_url,
                         .producer = svc->producer,
                         .mk = mk,
                         .allow_private = conf->base.allow_private_targets,
                         .canary_addr = conf->canary_addr,
                         .canary_url = conf->canary_url,
                         .lease_s = (int)conf->lease_s,
                         .concurrency = (int)conf->concurrency,
                         .timeout_ms = (int)conf->timeout_ms,
                         .poll_ms = (int)conf->poll_ms};
    fz_runner *runner = fz_runner_start(&ro, err, sizeof err);
    if (runner == NULL) {
        vg_error("cannot start the job runner", "error", err);
        vg_service_destroy(svc);
        return 1;
    }
    vg_service_on_drain(svc, on_drain, runner);
    static const char *const in[] = {VG_TOPIC_COMMANDS, VG_TOPIC_API_EVENTS};
    if (vg_service_add_consumer(svc, "vigil-fuzzer", in, 2, fz_consumer_handle, runner, err,
                                sizeof err) != 0) {
        vg_error("cannot start the consumer", "error", err);
        fz_runner_stop(runner, (int)conf->base.shutdown_timeout_s);
        vg_service_destroy(svc);
        return 1;
    }
    int rc = vg_service_run(svc);
    if (!fz_runner_stop(runner, (int)conf->base.shutdown_timeout_s)) {
        return rc; /* the runner still uses the producer: exit without tearing it down */
    }
    vg_service_destroy(svc);
    return rc;
}

int main(int argc, char **argv)
{
    vg_service_block_signals();
    int args = vg_config_args(argc, argv, "vigil-fuzzer",
                              "OWASP API Security Top 10 active testing", fuzzer_table);
    if (args != 0) {
        return args > 0 ? 0 : 2;
    }
    fuzzer_conf conf = {0};
    char err[512];
    if (vg_config_load(fuzzer_table, &conf, err, sizeof err) != 0) {
        fprintf(stderr, "vigil-fuzzer: %s\n", err);
        return 2;
    }
    vg_master_key mk;
    if (vg_master_key_load(&mk, conf.master_key, conf.base.dev_mode, err, sizeof err) != 0) {
        fprintf(stderr, "vigil-fuzzer: %s\n", err);
        vg_config_free(fuzzer_table, &conf);
        return 2;
    }
    int rc = run(&conf, &mk);
    vg_wipe(&mk, sizeof mk);
    vg_config_free(fuzzer_table, &conf);
    return rc;
}
