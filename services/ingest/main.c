/* vigil-ingest: the machine-facing edge: traces, scanner reports and the cluster collector
 * Wiring only: configuration, the service skeleton (HTTP health/metrics, database, Kafka),
 * consumers, and the loop. */
#include <stdio.h>
#include <stdlib.h>

#include "vigil/config.h"
#include "vigil/log.h"
#include "vigil/service.h"

typedef struct ingest_conf {
    vg_base_conf base;
} ingest_conf;

static const vg_cfg_entry ingest_table[] = {
    VG_CFG_BASE_ENTRIES(ingest_conf, "VIGIL_INGEST_ADDR", "127.0.0.1:8081"),
    VG_CFG_END,
};

int main(int argc, char **argv)
{
    vg_service_block_signals();
    int args = vg_config_args(
        argc, argv, "vigil-ingest",
        "the machine-facing edge: traces, scanner reports and the cluster collector", ingest_table);
    if (args != 0) {
        return args > 0 ? 0 : 2;
    }
    ingest_conf conf = {0};
    char err[512];
    if (vg_config_load(ingest_table, &conf, err, sizeof err) != 0) {
        fprintf(stderr, "vigil-ingest: %s\n", err);
        return 2;
    }
    static const char *const topics[] = {VG_TOPIC_TRACES, VG_TOPIC_INVENTORY, VG_TOPIC_SCANS,
                                         VG_TOPIC_COMMANDS, VG_TOPIC_DLQ};
    vg_service_opts opts = {.name = "ingest",
                            .conf = &conf.base,
                            .db_role = NULL,
                            .topics = topics,
                            .ntopics = (int)(sizeof topics / sizeof topics[0])};
    vg_service *svc = vg_service_new(&opts, err, sizeof err);
    if (svc == NULL) {
        vg_error("cannot start", "error", err);
        vg_config_free(ingest_table, &conf);
        return 1;
    }
    int rc = vg_service_run(svc);
    vg_service_destroy(svc);
    vg_config_free(ingest_table, &conf);
    return rc;
}
