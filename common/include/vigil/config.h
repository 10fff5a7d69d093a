/* Configuration from environment variables through one declarative table per service:
 * each entry gives the variable, its type, default, where it is stored and its help text,
 * so parsing, defaults, --help and the README table come from one place. */
#ifndef VIGIL_CONFIG_H
#define VIGIL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum {
    VG_CFG_STRING, /* char * (owned by the config, free with vg_config_free) */
    VG_CFG_SECRET, /* char *, never printed */
    VG_CFG_INT,    /* long, checked against [min, max] */
    VG_CFG_BOOL,   /* bool: 1/0/true/false/yes/no/on/off */
    VG_CFG_ADDR,   /* char * "host:port" */
} vg_cfg_type;

typedef struct vg_cfg_entry {
    const char *name; /* environment variable, e.g. "VIGIL_PORTAL_ADDR" */
    vg_cfg_type type;
    const char *def; /* default as text, NULL = unset/empty */
    size_t offset;   /* offsetof the field in the service's config struct */
    const char *help;
    long min, max; /* for VG_CFG_INT */
} vg_cfg_entry;

#define VG_CFG_END                                                                                 \
    {                                                                                              \
        NULL, VG_CFG_STRING, NULL, 0, NULL, 0, 0                                                   \
    }

/* Settings every service has. Embed as the first member `base` of a service's config. */
typedef struct vg_base_conf {
    char *http_addr;
    char *database_url;
    char *kafka_brokers;
    char *topic_prefix;
    char *log_level;
    char *sql_dir;
    bool migrate;
    bool dev_mode;
    bool allow_private_targets;
    long shutdown_timeout_s;
} vg_base_conf;

/* Expands to the table entries of vg_base_conf for struct `type` (member `base`),
 * with the service's HTTP address variable and default. */
#define VG_CFG_BASE_ENTRIES(type, addr_var, addr_def)                                              \
    {addr_var,                                                                                     \
     VG_CFG_ADDR,                                                                                  \
     addr_def,                                                                                     \
     offsetof(type, base.http_addr),                                                               \
     "HTTP listen address (host:port)",                                                            \
     0,                                                                                            \
     0},                                                                                           \
        {"VIGIL_DATABASE_URL",                                                                     \
         VG_CFG_SECRET,                                                                            \
         "postgresql://postgres@127.0.0.1:55432/vigil",                                            \
         offsetof(type, base.database_url),                                                        \
         "PostgreSQL connection URI (libpq)",                                                      \
         0,                                                                                        \
         0},                                                                                       \
        {"VIGIL_KAFKA_BROKERS",                                                                    \
         VG_CFG_STRING,                                                                            \
         "127.0.0.1:9092",                                                                         \
         offsetof(type, base.kafka_brokers),                                                       \
         "Kafka bootstrap servers",                                                                \
         0,                                                                                        \
         0},                                                                                       \
        {"VIGIL_TOPIC_PREFIX",                                                                     \
         VG_CFG_STRING,                                                                            \
         "",                                                                                       \
         offsetof(type, base.topic_prefix),                                                        \
         "prefix added to every Kafka topic name (test isolation)",                                \
         0,                                                                                        \
         0},                                                                                       \
        {"VIGIL_LOG_LEVEL",                                                                        \
         VG_CFG_STRING,                                                                            \
         "info",                                                                                   \
         offsetof(type, base.log_level),                                                           \
         "debug, info, warn or error",                                                             \
         0,                                                                                        \
         0},                                                                                       \
        {"VIGIL_SQL_DIR",                                                                          \
         VG_CFG_STRING,                                                                            \
         "sql",                                                                                    \
         offsetof(type, base.sql_dir),                                                             \
         "folder of the NNN_*.sql migrations",                                                     \
         0,                                                                                        \
         0},                                                                                       \
        {"VIGIL_MIGRATE",                                                                          \
         VG_CFG_BOOL,                                                                              \
         "1",                                                                                      \
         offsetof(type, base.migrate),                                                             \
         "apply pending migrations at start-up",                                                   \
         0,                                                                                        \
         0},                                                                                       \
        {"VIGIL_DEV_MODE",                                                                         \
         VG_CFG_BOOL,                                                                              \
         "0",                                                                                      \
         offsetof(type, base.dev_mode),                                                            \
         "development mode (relaxed checks, generated keys allowed)",                              \
         0,                                                                                        \
         0},                                                                                       \
        {"VIGIL_ALLOW_PRIVATE_TARGETS",                                                            \
         VG_CFG_BOOL,                                                                              \
         "0",                                                                                      \
         offsetof(type, base.allow_private_targets),                                               \
         "allow loopback/private addresses as webhook, fuzzing and cluster targets",               \
         0,                                                                                        \
         0},                                                                                       \
    {                                                                                              \
        "VIGIL_SHUTDOWN_TIMEOUT", VG_CFG_INT, "8", offsetof(type, base.shutdown_timeout_s),        \
            "seconds to drain in-flight work on SIGTERM", 1, 300                                   \
    }

/* Fills conf from the environment (defaults for unset variables).
 * Returns 0, or -1 with a message naming the variable in errbuf. */
int vg_config_load(const vg_cfg_entry *table, void *conf, char *errbuf, size_t errlen)
    __attribute__((warn_unused_result));
/* Frees the strings vg_config_load stored in conf. */
void vg_config_free(const vg_cfg_entry *table, void *conf);
/* Prints the table as help text, or as a Markdown table when markdown is true. */
void vg_config_print(FILE *out, const char *service, const vg_cfg_entry *table, bool markdown);
/* Handles --help and --config-markdown; returns 1 when the program should exit 0,
 * 0 to go on, -1 on an unknown argument (message printed). */
int vg_config_args(int argc, char **argv, const char *service, const char *summary,
                   const vg_cfg_entry *table);

#endif
