/* vigil-inventory: the cluster model, posture rules and the API inventory
 * Wiring only: configuration, the service skeleton (HTTP health/metrics, database, Kafka),
 * consumers, and the loop. */
#include <stdio.h>
#include <stdlib.h>

#include "vigil/config.h"
#include "vigil/log.h"
#include "vigil/service.h"

typedef struct inventory_conf {
    vg_base_conf base;
} inventory_conf;

static const vg_cfg_entry inventory_table[] = {
    VG_CFG_BASE_ENTRIES(inventory_conf, "VIGIL_INVENTORY_ADDR", "127.0.0.1:8082"),
    VG_CFG_END,
};

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
    vg_service *svc = vg_service_new(&opts, err, sizeof err);
    if (svc == NULL) {
        vg_error("cannot start", "error", err);
        vg_config_free(inventory_table, &conf);
        return 1;
    }
    int rc = vg_service_run(svc);
    vg_service_destroy(svc);
    vg_config_free(inventory_table, &conf);
    return rc;
}
