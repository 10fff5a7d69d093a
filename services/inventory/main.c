/* vigil-inventory: the cluster model, posture rules and the API inventory
 * Wiring only: configuration, the service skeleton (HTTP health/metrics, database, Kafka),
 * consumers, and the loop. */
#include <stdio.h>
#include <stdlib.h>

#include "api/traces.h"
#include "snapshot.h"
#include "vigil/config.h"
#include "vigil/log.h"
#include "vigil/service.h"

#define MAX_SNAPSHOT_CONSUMERS 8

typedef struct inventory_conf {
    vg_base_conf base;
    long free_workloads;
    long snapshot_consumers;
} inventory_conf;

static const vg_cfg_entry inventory_table[] = {
    VG_CFG_BASE_ENTRIES(inventory_conf, "VIGIL_INVENTORY_ADDR", "127.0.0.1:8082"),
    {"VIGIL_FREE_WORKLOADS", VG_CFG_INT, "25", offsetof(inventory_conf, free_workloads),
     "controlled workloads per tenant on the free plan (tenants.workload_limit overrides)", 0,
     1000000},
    {"VIGIL_INVENTORY_SNAPSHOT_CONSUMERS", VG_CFG_INT, "2",
     offsetof(inventory_conf, snapshot_consumers),
     "parallel consumers of vigil.inventory in this process (one cluster stays on one)", 1,
     MAX_SNAPSHOT_CONSUMERS},
    VG_CFG_END,
};

/* Starts the snapshot consumers (one context each) and the traces consumer. */
static int start_consumers(vg_service *svc, const inventory_conf *conf, inv_snapshot_ctx **ctxs,
                           char *err, size_t errlen)
{
    static const char *const snapshot_topics[] = {VG_TOPIC_INVENTORY};
    static const char *const trace_topics[] = {VG_TOPIC_TRACES};
    for (long i = 0; i < conf->snapshot_consumers; i++) {
        ctxs[i] = inv_snapshot_ctx_new(&conf->base, conf->free_workloads, err, errlen);
        if (ctxs[i] == NULL ||
            vg_service_add_consumer(svc, "vigil-inventory-snapshots", snapshot_topics, 1,
                                    inv_snapshot_handle, ctxs[i], err, errlen) != 0) {
            return -1;
        }
    }
    if (api_inventory_init(&conf->base, svc->producer, err, errlen) != 0) {
        return -1;
    }
    return vg_service_add_consumer(svc, "vigil-inventory-traces", trace_topics, 1,
                                   api_traces_handle, NULL, err, errlen);
}

int main(int argc, char **argv)
{
    vg_service_block_signals();
    int args =
        vg_config_args(argc, argv, "vigil-inventory",
                       "the cluster model, posture rules and the API inventory", inventory_table);
    if (args != 0) {
        return args > 0 ? 0 : 2;
    }
    inventory_conf conf = {0};
    char err[512];
    if (vg_config_load(inventory_table, &conf, err, sizeof err) != 0) {
        fprintf(stderr, "vigil-inventory: %s\n", err);
        return 2;
    }
    static const char *const topics[] = {VG_TOPIC_INVENTORY, VG_TOPIC_TRACES, VG_TOPIC_API_EVENTS,
                                         VG_TOPIC_FINDINGS, VG_TOPIC_DLQ};
    vg_service_opts opts = {.name = "inventory",
                            .conf = &conf.base,
                            .db_role = NULL,
                            .topics = topics,
                            .ntopics = (int)(sizeof topics / sizeof topics[0])};
    inv_snapshot_ctx *ctxs[MAX_SNAPSHOT_CONSUMERS] = {0};
    int rc = 1;
    vg_service *svc = vg_service_new(&opts, err, sizeof err);
    if (svc == NULL) {
        vg_error("cannot start", "error", err);
        goto out;
    }
    if (start_consumers(svc, &conf, ctxs, err, sizeof err) != 0) {
        vg_error("cannot start consumers", "error", err);
        goto out;
    }
    rc = vg_service_run(svc);
out:
    vg_service_destroy(svc); /* stops the consumers before their contexts go */
    for (int i = 0; i < MAX_SNAPSHOT_CONSUMERS; i++) {
        inv_snapshot_ctx_destroy(ctxs[i]);
    }
    vg_config_free(inventory_table, &conf);
    return rc;
}
