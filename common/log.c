#include "vigil/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vigil/alloc.h"
#include "vigil/util.h"

vg_log_level vg_log_threshold = VG_LOG_INFO;
static const char *log_service = "vigil";
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void vg_log_init(const char *service, vg_log_level level)
{
    log_service = service;
    vg_log_threshold = level;
}

bool vg_log_level_parse(const char *name, vg_log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (vg_log_level)i;
            return true;
        }
    }
    return false;
}

/* Appends s as a JSON string (with quotes), escaping control characters. */
static void json_quote(vg_buf *b, const char *s)
{
    vg_buf_append(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            vg_buf_puts(b, "\\\"");
            break;
        case '\\':
            vg_buf_puts(b, "\\\\");
            break;
        case '\n':
            vg_buf_puts(b, "\\n");
            break;
        case '\r':
            vg_buf_puts(b, "\\r");
            break;
        case '\t':
            vg_buf_puts(b, "\\t");
            break;
        default:
            if (*p < 0x20) {
                vg_buf_printf(b, "\\u%04x", *p);
            } else {
                vg_buf_append(b, p, 1);
            }
        }
    }
    vg_buf_append(b, "\"", 1);
}

void vg_log_kv(vg_log_level level, const char *msg, ...)
{
    char ts[32];
    vg_time_rfc3339(ts);
    vg_buf b = {0};
    vg_buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"service\":", ts,
                  level_names[level < 4 ? level : 3]);
    json_quote(&b, log_service);
    vg_buf_puts(&b, ",\"msg\":");
    json_quote(&b, msg);
    va_list ap;
    va_start(ap, msg);
    for (;;) {
        const char *key = va_arg(ap, const char *);
        if (key == NULL) {
            break;
        }
        const char *val = va_arg(ap, const char *);
        vg_buf_append(&b, ",", 1);
        json_quote(&b, key);
        vg_buf_append(&b, ":", 1);
        if (val) {
            json_quote(&b, val);
        } else {
            vg_buf_puts(&b, "null");
        }
    }
    va_end(ap);
    vg_buf_puts(&b, "}\n");
    pthread_mutex_lock(&log_lock);
    fwrite(b.data, 1, b.len, stderr);
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
    vg_buf_free(&b);
}
