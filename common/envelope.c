/* The message envelope (DESIGN section 2): parsing with strict validation, and building.
 * Error texts never quote the payload (it can hold tokens), so callers may log them. */
#include "vigil/envelope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/alloc.h"
#include "vigil/util.h"

/* A short description of a jansson error, without the "near '<token>'" part. */
static const char *envelope_json_error(const json_error_t *error)
{
    switch (json_error_code(error)) {
    case json_error_invalid_utf8:
        return "invalid UTF-8";
    case json_error_premature_end_of_input:
        return "premature end of input";
    case json_error_end_of_input_expected:
        return "trailing data after the value";
    case json_error_invalid_syntax:
        return "invalid syntax";
    case json_error_invalid_format:
        return "invalid format";
    case json_error_wrong_type:
        return "not an object";
    case json_error_null_character:
        return "NUL character in a string";
    case json_error_duplicate_key:
        return "duplicate key";
    case json_error_out_of_memory:
        return "out of memory";
    case json_error_stack_overflow:
        return "nested too deeply";
    case json_error_numeric_overflow:
        return "numeric overflow";
    default:
        return "cannot parse";
    }
}

/* Copies the string member `name` of root into out[outlen]. Absent or null members give ""
 * when optional; returns false (with errbuf set) when the member is missing, not a string or
 * too long. */
static bool envelope_get_string(json_t *root, const char *name, bool optional, char *out,
                                size_t outlen, char *errbuf, size_t errlen)
{
    json_t *val = json_object_get(root, name);
    out[0] = '\0';
    if (val == NULL || json_is_null(val)) {
        if (!optional) {
            snprintf(errbuf, errlen, "%s is missing", name);
        }
        return optional;
    }
    if (!json_is_string(val)) {
        snprintf(errbuf, errlen, "%s is not a string", name);
        return false;
    }
    size_t len = json_string_length(val);
    if (len >= outlen || strlen(json_string_value(val)) != len) {
        snprintf(errbuf, errlen, "%s is too long or holds a NUL character", name);
        return false;
    }
    memcpy(out, json_string_value(val), len + 1);
    return true;
}

/* A UUID member (absent or null gives "" when optional; "" itself is not a UUID). */
static bool envelope_get_uuid(json_t *root, const char *name, bool optional,
                              char out[VG_UUID_LEN + 1], char *errbuf, size_t errlen)
{
    if (!envelope_get_string(root, name, optional, out, VG_UUID_LEN + 1, errbuf, errlen)) {
        return false;
    }
    json_t *val = json_object_get(root, name);
    if (val != NULL && !json_is_null(val) && !vg_uuid_valid(out)) {
        snprintf(errbuf, errlen, "%s is not a UUID", name);
        return false;
    }
    return true;
}

static bool envelope_type_valid(const char *type)
{
    if (type[0] == '\0') {
        return false;
    }
    for (const char *s = type; *s != '\0'; s++) {
        bool ok = (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
                  *s == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* Checks the members of an already-parsed object and fills env (but not root/data). */
static int envelope_check(json_t *root, vg_envelope *env, char *errbuf, size_t errlen)
{
    json_t *v = json_object_get(root, "v");
    if (v == NULL) {
        snprintf(errbuf, errlen, "v is missing");
        return -1;
    }
    if (!json_is_integer(v) || json_integer_value(v) != 1) {
        snprintf(errbuf, errlen, "v is not the integer 1");
        return -1;
    }
    env->v = 1;
    if (!envelope_get_uuid(root, "id", false, env->id, errbuf, errlen)) {
        return -1;
    }
    if (!envelope_get_string(root, "type", false, env->type, sizeof env->type, errbuf, errlen)) {
        return -1;
    }
    if (!envelope_type_valid(env->type)) {
        snprintf(errbuf, errlen, "type is empty or not made of [a-z0-9._-]");
        return -1;
    }
    if (!envelope_get_uuid(root, "tenant_id", true, env->tenant_id, errbuf, errlen) ||
        !envelope_get_uuid(root, "cluster_id", true, env->cluster_id, errbuf, errlen)) {
        return -1;
    }
    if (!envelope_get_string(root, "ts", false, env->ts, sizeof env->ts, errbuf, errlen)) {
        return -1;
    }
    struct timespec when;
    if (!vg_time_parse(env->ts, &when)) {
        snprintf(errbuf, errlen, "ts is not an RFC 3339 timestamp");
        return -1;
    }
    if (!json_is_object(json_object_get(root, "data"))) {
        snprintf(errbuf, errlen, "data is missing or not an object");
        return -1;
    }
    return 0;
}

int vg_envelope_parse(const void *buf, size_t len, vg_envelope *env, char *errbuf, size_t errlen)
{
    json_error_t error;
    memset(env, 0, sizeof *env);
    if (buf == NULL || len == 0) {
        snprintf(errbuf, errlen, "empty message");
        return -1;
    }
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &error);
    if (root == NULL) {
        snprintf(errbuf, errlen, "invalid JSON (%s at line %d, column %d)",
                 envelope_json_error(&error), error.line, error.column);
        return -1;
    }
    if (!json_is_object(root)) {
        snprintf(errbuf, errlen, "not a JSON object");
        goto fail;
    }
    if (envelope_check(root, env, errbuf, errlen) != 0) {
        goto fail;
    }
    env->root = root; /* owned by env until vg_envelope_clear */
    env->data = json_object_get(root, "data");
    return 0;
fail:
    json_decref(root);
    memset(env, 0, sizeof *env);
    return -1;
}

void vg_envelope_clear(vg_envelope *env)
{
    if (env == NULL) {
        return;
    }
    json_decref(env->root);
    memset(env, 0, sizeof *env);
}

char *vg_envelope_build(const char *type, const char *tenant_id, const char *cluster_id,
                        json_t *data)
{
    char id[VG_UUID_LEN + 1];
    char ts[32];
    vg_uuid_v4(id);
    vg_time_rfc3339(ts);

    json_t *root = json_object();
    json_object_set_new(root, "v", json_integer(1));
    json_object_set_new(root, "id", json_string(id));
    json_object_set_new(root, "type", json_string(type));
    if (tenant_id != NULL) {
        json_object_set_new(root, "tenant_id", json_string(tenant_id));
    }
    if (cluster_id != NULL) {
        json_object_set_new(root, "cluster_id", json_string(cluster_id));
    }
    json_object_set_new(root, "ts", json_string(ts));
    json_object_set_new(root, "data", data != NULL ? data : json_object()); /* data stolen */

    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (text == NULL) {
        /* only out of memory (or a non-UTF-8 type/id, a caller bug): abort like vg_malloc */
        fprintf(stderr, "{\"level\":\"error\",\"msg\":\"envelope serialization failed\"}\n");
        abort();
    }
    return text; /* the caller free()s it */
}
