/* vigil-report: findings lifecycle and delivery by webhook and email
 * Wiring only: configuration, the service skeleton (HTTP health/metrics, database, Kafka),
 * consumers, and the loop. */
#include <stdio.h>
#include <stdlib.h>

#include "vigil/config.h"
#include "vigil/log.h"
#include "vigil/service.h"

typedef struct report_conf {
    vg_base_conf base;
} report_conf;

static const vg_cfg_entry report_table[] = {
    VG_CFG_BASE_ENTRIES(report_conf, "VIGIL_REPORT_ADDR", "127.0.0.1:8084"),
    VG_CFG_END,
};

int main(int argc, char **argv)
{
    vg_service_block_signals();
    int args = vg_config_args(argc, argv, "vigil-report",
                              "findings lifecycle and delivery by webhook and email", report_table);
    if (args != 0) {
        return args > 0 ? 0 : 2;
    }
    report_conf conf = {0};
    char err[512];
    if (vg_config_load(report_table, &conf, err, sizeof err) != 0) {
        fprintf(stderr, "vigil-report: %s\n", err);
        return 2;
    }
    static const char *const topics[] = {VG_TOPIC_FINDINGS, VG_TOPIC_SCANS, VG_TOPIC_COMMANDS,
                                         VG_TOPIC_DLQ};
    vg_service_opts opts = {.name = "report",
                            .conf = &conf.base,
                            .db_role = NULL,
                            .topics = topics,
                            .ntopics = (int)(sizeof topics / sizeof topics[0])};
    vg_service *svc = vg_service_new(&opts, err, sizeof err);
    if (svc == NULL) {
        vg_error("cannot start", "error", err);
        vg_config_free(report_table, &conf);
        return 1;
    }
    int rc = vg_service_run(svc);
    vg_service_destroy(svc);
    vg_config_free(report_table, &conf);
    return rc;
}
