/* Payloads and signatures; see payloads.h. */
#include "payloads.h"

#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/alloc.h"
#include "vigil/util.h"

char *fz_payload_sql_bool(const char *value, bool truth)
{
    return vg_asprintf("%s' AND 'vg'='%s", value, truth ? "vg" : "vx");
}

char *fz_payload_sql_error(const char *value)
{
    return vg_asprintf("%s'\"", value);
}

char *fz_payload_sql_time(const char *value, int variant, int seconds)
{
    switch (variant) {
    case 0:
        return vg_asprintf("%s'||(SELECT 1 FROM pg_sleep(%d))||'", value, seconds);
    case 1:
        return vg_asprintf("%s' AND SLEEP(%d) AND 'vg'='vg", value, seconds);
    default:
        return vg_asprintf("%s';WAITFOR DELAY '0:0:%d'--", value, seconds);
    }
}

char *fz_payload_cmd_echo(const char *value, int variant, long a, long b, char **expect)
{
    *expect = vg_asprintf("%ld", a * b);
    if (variant == 0) {
        return vg_asprintf("%s;echo $((%ld*%ld))", value, a, b);
    }
    return vg_asprintf("%s|echo $((%ld*%ld))", value, a, b);
}

char *fz_payload_cmd_sleep(const char *value, int variant, int seconds)
{
    if (variant == 0) {
        return vg_asprintf("%s;sleep %d", value, seconds);
    }
    return vg_asprintf("%s$(sleep %d)", value, seconds);
}

char *fz_payload_redos(size_t n)
{
    char *s = vg_malloc(n + 2);
    memset(s, 'a', n);
    s[n] = '!';
    s[n + 1] = '\0';
    return s;
}

char *fz_payload_big(size_t n)
{
    char *s = vg_malloc(n + 1);
    memset(s, 'A', n);
    s[n] = '\0';
    return s;
}

char *fz_payload_marker(const char *prefix)
{
    unsigned char raw[12];
    vg_random_bytes(raw, sizeof raw);
    char *hex = vg_hex_encode(raw, sizeof raw);
    char *out = vg_asprintf("%s%s", prefix, hex);
    free(hex);
    return out;
}

static json_t *string_sample(const char *format)
{
    if (format == NULL) {
        return json_string("vigil");
    }
    if (strcmp(format, "email") == 0) {
        return json_string("vigil@example.com");
    }
    if (strcmp(format, "uri") == 0 || strcmp(format, "url") == 0) {
        return json_string("https://example.com/");
    }
    if (strcmp(format, "date-time") == 0) {
        return json_string("2026-01-01T00:00:00Z");
    }
    if (strcmp(format, "date") == 0) {
        return json_string("2026-01-01");
    }
    if (strcmp(format, "uuid") == 0) {
        return json_string("00000000-0000-4000-8000-000000000000");
    }
    return json_string("vigil");
}

static json_t *object_sample(const json_t *schema, int depth)
{
    json_t *obj = json_object();
    const json_t *props = json_object_get(schema, "properties");
    const char *key;
    json_t *sub;
    json_object_foreach((json_t *)props, key, sub)
    {
        if (json_is_true(json_object_get(sub, "readOnly"))) {
            continue;
        }
        json_object_set_new(obj, key, fz_payload_from_schema(sub, depth + 1));
    }
    return obj;
}

json_t *fz_payload_from_schema(const json_t *schema, int depth)
{
    if (!json_is_object(schema) || depth > 6) {
        return json_string("vigil");
    }
    const json_t *ex = json_object_get(schema, "example");
    if (ex == NULL) {
        ex = json_object_get(schema, "default");
    }
    if (ex == NULL && json_array_size(json_object_get(schema, "enum")) > 0) {
        ex = json_array_get(json_object_get(schema, "enum"), 0);
    }
    if (ex != NULL) {
        return json_deep_copy(ex);
    }
    const char *type = json_string_value(json_object_get(schema, "type"));
    const char *format = json_string_value(json_object_get(schema, "format"));
    if (type == NULL) {
        type = json_object_get(schema, "properties") ? "object" : "string";
    }
    if (strcmp(type, "object") == 0) {
        return object_sample(schema, depth);
    }
    if (strcmp(type, "array") == 0) {
        json_t *arr = json_array();
        json_array_append_new(arr,
                              fz_payload_from_schema(json_object_get(schema, "items"), depth + 1));
        return arr;
    }
    if (strcmp(type, "integer") == 0) {
        return json_integer(1);
    }
    if (strcmp(type, "number") == 0) {
        return json_real(1.0);
    }
    if (strcmp(type, "boolean") == 0) {
        return json_false();
    }
    return string_sample(format);
}

char *fz_payload_param_value(const char *type, const char *format, const char *example)
{
    if (example != NULL) {
        return vg_strdup(example);
    }
    if (type != NULL && (strcmp(type, "integer") == 0 || strcmp(type, "number") == 0)) {
        return vg_strdup("1");
    }
    if (type != NULL && strcmp(type, "boolean") == 0) {
        return vg_strdup("false");
    }
    json_t *j = string_sample(format);
    char *s = vg_strdup(json_string_value(j));
    json_decref(j);
    return s;
}

static const char *const sql_error_patterns[] = {
    "syntax error at or near",
    "unterminated quoted string",
    "pg_query\\(\\)",
    "you have an error in your sql syntax",
    "warning: mysql",
    "sqlite_error",
    "sqlite3\\.operationalerror",
    "ora-[0-9]{5}",
    "unclosed quotation mark after the character",
    "quoted string not properly terminated",
    "sqlstate\\[",
    "odbc sql server driver",
    "psqlexception",
    "invalid input syntax for type",
};

static const char *const stack_patterns[] = {
    "traceback \\(most recent call last\\)",
    "exception in thread \"",
    "at "
    "[a-z_$][a-z0-9_$.<>]*\\([a-z0-9_./-]+\\.(java|kt|scala|cs|js|ts|c|cc|cpp|go|rb|py|php):[0-9]+",
    "file \"[^\"]+\\.py\", line [0-9]+",
    "goroutine [0-9]+ \\[running\\]",
    "panic: ",
    "\\.php on line [0-9]+",
    "stack trace:",
    "system\\.[a-z]+exception",
    "[a-z0-9_/.-]+\\.(c|cc|cpp|go|rb|js|ts|java):[0-9]+:[0-9]*",
};

static regex_t sql_re[sizeof sql_error_patterns / sizeof sql_error_patterns[0]];
static regex_t stack_re[sizeof stack_patterns / sizeof stack_patterns[0]];
static pthread_once_t re_once = PTHREAD_ONCE_INIT;

static void compile_all(void)
{
    for (size_t i = 0; i < sizeof sql_re / sizeof sql_re[0]; i++) {
        if (regcomp(&sql_re[i], sql_error_patterns[i], REG_EXTENDED | REG_ICASE | REG_NOSUB)) {
            abort();
        }
    }
    for (size_t i = 0; i < sizeof stack_re / sizeof stack_re[0]; i++) {
        if (regcomp(&stack_re[i], stack_patterns[i], REG_EXTENDED | REG_ICASE | REG_NOSUB)) {
            abort();
        }
    }
}

static bool match_any(regex_t *res, size_t n, const char *text)
{
    pthread_once(&re_once, compile_all);
    for (size_t i = 0; i < n; i++) {
        if (regexec(&res[i], text, 0, NULL, 0) == 0) {
            return true;
        }
    }
    return false;
}

bool fz_match_sql_error(const char *text)
{
    return text != NULL && match_any(sql_re, sizeof sql_re / sizeof sql_re[0], text);
}

bool fz_match_stack_trace(const char *text)
{
    return text != NULL && match_any(stack_re, sizeof stack_re / sizeof stack_re[0], text);
}
