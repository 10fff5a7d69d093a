/* Accessors for Kubernetes objects as jansson trees. */
#include "kobj.h"

#include <ctype.h>
#include <string.h>

json_t *kobj_get(json_t *obj, const char *path)
{
    const char *p = path;
    while (obj != NULL && *p != '\0') {
        const char *dot = strchr(p, '.');
        size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);
        if (!json_is_object(obj)) {
            return NULL;
        }
        obj = json_object_getn(obj, p, n);
        p += n;
        if (*p == '.') {
            p++;
        }
    }
    return obj;
}

const char *kobj_str(json_t *obj, const char *path)
{
    return json_string_value(kobj_get(obj, path));
}

const char *kobj_str0(json_t *obj, const char *path)
{
    const char *s = kobj_str(obj, path);
    return s != NULL ? s : "";
}

bool kobj_true(json_t *obj, const char *path)
{
    return json_is_true(kobj_get(obj, path));
}

bool kobj_false(json_t *obj, const char *path)
{
    return json_is_false(kobj_get(obj, path));
}

const char *kobj_label(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(kobj_get(obj, "metadata.labels"), key));
}

const char *kobj_annotation(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(kobj_get(obj, "metadata.annotations"), key));
}

bool kobj_selector_matches(json_t *selector, json_t *labels, bool empty_matches)
{
    if (!json_is_object(selector) || json_object_size(selector) == 0) {
        return empty_matches;
    }
    const char *key;
    json_t *want;
    json_object_foreach(selector, key, want)
    {
        const char *have = json_string_value(json_object_get(labels, key));
        const char *w = json_string_value(want);
        if (have == NULL || w == NULL || strcmp(have, w) != 0) {
            return false;
        }
    }
    return true;
}

/* Lower-cases name without '-', '_' and '.' into out (truncated). */
static void normalize_name(const char *name, char *out, size_t outlen)
{
    size_t j = 0;
    for (size_t i = 0; name[i] != '\0' && j + 1 < outlen; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '-' || c == '_' || c == '.') {
            continue;
        }
        out[j++] = (char)tolower(c);
    }
    out[j] = '\0';
}

bool kobj_name_is_credential(const char *name)
{
    static const char *const words[] = {"password", "passwd",     "secret",    "token",
                                        "apikey",   "privatekey", "accesskey", "credential"};
    char norm[256];
    normalize_name(name, norm, sizeof norm);
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (strstr(norm, words[i]) != NULL) {
            return true;
        }
    }
    return false;
}
