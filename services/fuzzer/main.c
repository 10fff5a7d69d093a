/* vigil-fuzzer: OWASP API Security Top 10 active testing
 * Wiring only: configuration, the service skeleton (HTTP health/metrics, database, Kafka),
 * consumers, and the loop. */
#include <stdio.h>
#include <stdlib.h>

#include "vigil/config.h"
#include "vigil/log.h"
#include "vigil/service.h"

typedef struct fuzzer_conf {
    vg_base_conf base;
} fuzzer_conf;

static const vg_cfg_entry fuzzer_table[] = {
    VG_CFG_BASE_ENTRIES(fuzzer_conf, "VIGIL_FUZZER_ADDR", "127.0.0.1:8083"),
    VG_CFG_END,
};

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
    static const char *const topics[] = {VG_TOPIC_COMMANDS, VG_TOPIC_API_EVENTS, VG_TOPIC_FINDINGS,
                                         VG_TOPIC_DLQ};
    vg_service_opts opts = {.name = "fuzzer",
                            .conf = &conf.base,
                            .db_role = NULL,
                            .topics = topics,
                            .ntopics = (int)(sizeof topics / sizeof topics[0])};
    vg_service *svc = vg_service_new(&opts, err, sizeof err);
    if (svc == NULL) {
        vg_error("cannot start", "error", err);
        vg_config_free(fuzzer_table, &conf);
        return 1;
    }
    int rc = vg_service_run(svc);
    vg_service_destroy(svc);
    vg_config_free(fuzzer_table, &conf);
    return rc;
}
