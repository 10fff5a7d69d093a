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

/* Splits a name into lower-case words at '-', '_', '.', '/' and camelCase boundaries
 * ("awsSecretAccess_KEY" -> aws secret access key). Returns the number of words. */
static size_t name_words(const char *name, char words[][32], size_t max)
{
    size_t n = 0, len = 0;
    for (size_t i = 0; name[i] != '\0'; i++) {
        unsigned char c = (unsigned char)name[i];
        bool sep = c == '-' || c == '_' || c == '.' || c == '/';
        bool camel = i > 0 && isupper(c) && islower((unsigned char)name[i - 1]);
        if ((sep || camel) && len > 0) {
            words[n][len] = '\0';
            n++;
            len = 0;
        }
        if (n == max) {
            return n;
        }
        if (!sep && len + 1 < 32) {
            words[n][len++] = (char)tolower(c);
        }
    }
    if (len > 0 && n < max) {
        words[n][len] = '\0';
        n++;
    }
    return n;
}

bool kobj_name_is_credential(const char *name)
{
    /* the name must END in a credential word: DB_PASSWORD, apiKey, AWS_SECRET_ACCESS_KEY;
     * not PASSWORD_MIN_LENGTH, TOKEN_TTL, SECRET_NAME, PASSWORD_FILE */
    static const char *const last[] = {"password", "passwd", "pass",       "secret",
                                       "token",    "apikey", "credential", "credentials"};
    static const char *const pairs[] = {"api",  "private", "access",     "secret",
                                        "auth", "signing", "encryption", "master"};
    char words[16][32];
    size_t n = name_words(name, words, 16);
    if (n == 0) {
        return false;
    }
    for (size_t i = 0; i < sizeof last / sizeof last[0]; i++) {
        if (strcmp(words[n - 1], last[i]) == 0) {
            return true;
        }
    }
    if (n >= 2 && strcmp(words[n - 1], "key") == 0) {
        for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
            if (strcmp(words[n - 2], pairs[i]) == 0) {
                return true;
            }
        }
    }
    return false;
}
