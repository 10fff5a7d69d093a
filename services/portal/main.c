/* vigil-portal: the tenant-facing API and web page
 * Wiring only: configuration, the service skeleton (HTTP health/metrics, database, Kafka),
 * consumers, and the loop. */
#include <stdio.h>
#include <stdlib.h>

#include "vigil/config.h"
#include "vigil/log.h"
#include "vigil/service.h"

typedef struct portal_conf {
    vg_base_conf base;
} portal_conf;

static const vg_cfg_entry portal_table[] = {
    VG_CFG_BASE_ENTRIES(portal_conf, "VIGIL_PORTAL_ADDR", "127.0.0.1:8080"),
    VG_CFG_END,
};

int main(int argc, char **argv)
{
    vg_service_block_signals();
    int args = vg_config_args(argc, argv, "vigil-portal", "the tenant-facing API and web page",
                              portal_table);
    if (args != 0) {
        return args > 0 ? 0 : 2;
    }
    portal_conf conf = {0};
    char err[512];
    if (vg_config_load(portal_table, &conf, err, sizeof err) != 0) {
        fprintf(stderr, "vigil-portal: %s\n", err);
        return 2;
    }
    static const char *const topics[] = {VG_TOPIC_COMMANDS};
    vg_service_opts opts = {.name = "portal",
                            .conf = &conf.base,
                            .db_role = "vigil_portal",
                            .topics = topics,
                            .ntopics = (int)(sizeof topics / sizeof topics[0])};
    vg_service *svc = vg_service_new(&opts, err, sizeof err);
    if (svc == NULL) {
        vg_error("cannot start", "error", err);
        vg_config_free(portal_table, &conf);
        return 1;
    }
    int rc = vg_service_run(svc);
    vg_service_destroy(svc);
    vg_config_free(portal_table, &conf);
    return rc;
}
