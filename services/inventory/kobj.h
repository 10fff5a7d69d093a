/* Small accessors for Kubernetes objects held as jansson trees (borrowed references). */
#ifndef VIGIL_INVENTORY_KOBJ_H
#define VIGIL_INVENTORY_KOBJ_H

#include <jansson.h>
#include <stdbool.h>

/* Follows a dotted path ("metadata.name"); NULL when a step is missing. Borrowed. */
json_t *kobj_get(json_t *obj, const char *path);
/* The string at path, or NULL. */
const char *kobj_str(json_t *obj, const char *path);
/* The string at path, or "" (never NULL). */
const char *kobj_str0(json_t *obj, const char *path);
/* True when the value at path is JSON true. */
bool kobj_true(json_t *obj, const char *path);
/* True when the value at path is JSON false (absent is not false). */
bool kobj_false(json_t *obj, const char *path);
/* The label/annotation value, or NULL. */
const char *kobj_label(json_t *obj, const char *key);
const char *kobj_annotation(json_t *obj, const char *key);
/* True when every selector key/value (a matchLabels-style object) is in labels.
 * An empty or missing selector matches nothing unless empty_matches is true. */
bool kobj_selector_matches(json_t *selector, json_t *labels, bool empty_matches);
/* Does the name end in a credential word, case and separators aside: DB_PASSWORD,
 * clientSecret, GITHUB_TOKEN, api-key, AWS_SECRET_ACCESS_KEY, private.key (but not
 * PASSWORD_MIN_LENGTH, TOKEN_TTL, SECRET_NAME, PASSWORD_FILE)? */
bool kobj_name_is_credential(const char *name);

#endif
