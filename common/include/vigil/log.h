/* JSON-lines logging to stderr: {"ts","level","service","msg", context keys...}.
 * Never pass secrets (tokens, keys, passwords, credentials) as values. */
#ifndef VIGIL_LOG_H
#define VIGIL_LOG_H

#include <stdbool.h>

typedef enum { VG_LOG_DEBUG = 0, VG_LOG_INFO, VG_LOG_WARN, VG_LOG_ERROR } vg_log_level;

extern vg_log_level vg_log_threshold;

/* Sets the service name written in every line. The string must outlive logging. */
void vg_log_init(const char *service, vg_log_level level);
/* Parses "debug|info|warn|error"; returns false on an unknown name. */
bool vg_log_level_parse(const char *name, vg_log_level *out);

/* Writes one line: msg, then key/value string pairs ending with NULL.
 * A NULL value after a key is written as JSON null. Thread-safe. */
void vg_log_kv(vg_log_level level, const char *msg, ...);

/* Arguments are not evaluated when the level is filtered out.
 * Usage: vg_info("cluster synced", "cluster_id", id, "objects", countbuf); */
#define vg_log_at(lvl, ...)                                                                        \
    do {                                                                                           \
        if ((lvl) >= vg_log_threshold) {                                                           \
            vg_log_kv((lvl), __VA_ARGS__, (const char *)0);                                        \
        }                                                                                          \
    } while (0)
#define vg_debug(...) vg_log_at(VG_LOG_DEBUG, __VA_ARGS__)
#define vg_info(...) vg_log_at(VG_LOG_INFO, __VA_ARGS__)
#define vg_warn(...) vg_log_at(VG_LOG_WARN, __VA_ARGS__)
#define vg_error(...) vg_log_at(VG_LOG_ERROR, __VA_ARGS__)

#endif
