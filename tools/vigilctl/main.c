/* vigilctl: the operators' CLI. Tenants and plans, dead letters, migrations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/config.h"
#include "vigil/db.h"
#include "vigil/kafka.h"
#include "vigil/log.h"
#include "vigil/migrate.h"
#include "vigilctl.h"

typedef struct ctl_conf {
    char *database_url;
    char *kafka_brokers;
    char *topic_prefix;
    char *sql_dir;
} ctl_conf;

static const vg_cfg_entry ctl_table[] = {
    {"VIGIL_DATABASE_URL", VG_CFG_SECRET, "postgresql://postgres@127.0.0.1:55432/vigil",
     offsetof(ctl_conf, database_url), "PostgreSQL connection URI (libpq)", 0, 0},
    {"VIGIL_KAFKA_BROKERS", VG_CFG_STRING, "127.0.0.1:9092", offsetof(ctl_conf, kafka_brokers),
     "Kafka bootstrap servers", 0, 0},
    {"VIGIL_TOPIC_PREFIX", VG_CFG_STRING, "", offsetof(ctl_conf, topic_prefix),
     "prefix added to every Kafka topic name", 0, 0},
    {"VIGIL_SQL_DIR", VG_CFG_STRING, "sql", offsetof(ctl_conf, sql_dir),
     "folder of the NNN_*.sql migrations", 0, 0},
    VG_CFG_END,
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vigilctl <command> [args]\n\n"
            "  migrate                                 apply pending SQL migrations\n"
            "  tenants list                            list tenants with plan and usage\n"
            "  tenants set-plan <tenant-id> <free|pro|enterprise> [--workload-limit N]\n"
            "                                          change a tenant's plan\n"
            "  dlq list [--max N]                      list dead letters (oldest first)\n"
            "  dlq replay <partition:offset>|--all     send dead letters back to their topic\n"
            "  help                                    this text, and the environment below\n\n");
    vg_config_print(out, "vigilctl", ctl_table, false);
}

static int cmd_migrate(const ctl_conf *conf)
{
    vg_db *db = vg_db_new(conf->database_url, NULL);
    char err[512] = "";
    int n = -1;
    if (vg_db_conn(db, 10000) == NULL) {
        fprintf(stderr, "vigilctl: database unreachable: %s\n", vg_db_error(db));
    } else if ((n = vg_migrate_run(db, conf->sql_dir, err, sizeof err)) < 0) {
        fprintf(stderr, "vigilctl: %s\n", err);
    } else {
        printf("%d migration(s) applied\n", n);
    }
    vg_db_destroy(db);
    return n < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    vg_log_init("vigilctl", VG_LOG_WARN);
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    ctl_conf conf = {0};
    char err[512];
    if (vg_config_load(ctl_table, &conf, err, sizeof err) != 0) {
        fprintf(stderr, "vigilctl: %s\n", err);
        return 2;
    }
    vg_topic_prefix_set(conf.topic_prefix);
    int rc = 2;
    if (strcmp(argv[1], "migrate") == 0) {
        rc = cmd_migrate(&conf);
    } else if (strcmp(argv[1], "tenants") == 0) {
        rc = ctl_tenants(conf.database_url, argc - 2, argv + 2);
    } else if (strcmp(argv[1], "dlq") == 0) {
        rc = ctl_dlq(conf.kafka_brokers, argc - 2, argv + 2);
    } else {
        fprintf(stderr, "vigilctl: unknown command \"%s\"\n\n", argv[1]);
        usage(stderr);
    }
    vg_config_free(ctl_table, &conf);
    return rc;
}
