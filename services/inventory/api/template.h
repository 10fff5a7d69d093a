/* Path templating (DESIGN section 6): a per-service tree of path segments learned
 * incrementally. Typed segments (integer, UUID, hex/ObjectId, email, date, mixed alphanumeric
 * with digits) become parameters; words and versions stay literal; a position whose distinct
 * literal values exceed a threshold is merged into a parameter, except well-known literal
 * routes (/users/me, /products/search) and dominant siblings; multi-word slugs
 * (blue-running-shoes) merge from a lower threshold, leaving other literals alone. Parameters are
 * named after the preceding segment (/users/{userId}). */
#ifndef VIGIL_INVENTORY_API_TEMPLATE_H
#define VIGIL_INVENTORY_API_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define API_TEMPLATE_MAX 1024    /* longest template produced (bytes, with NUL) */
#define API_TEMPLATE_SEGMENTS 32 /* deeper paths end in one {rest} parameter */
#define API_MERGE_THRESHOLD 24   /* distinct literal values at one position before merging */
#define API_SLUG_THRESHOLD 6     /* distinct multi-word slugs at one position before merging */

typedef enum {
    API_SEG_LITERAL = 0,
    API_SEG_ID, /* integer, UUID, hex, ObjectId, mixed alphanumeric with digits */
    API_SEG_EMAIL,
    API_SEG_DATE,
} api_seg_kind;

/* Classifies one raw path segment (percent-encoded as it came). */
api_seg_kind api_segment_classify(const char *seg, size_t len);
/* True for words that are literal routes even at a merged position (me, self, search...). */
bool api_segment_keepword(const char *seg, size_t len);

typedef struct api_tree api_tree;

api_tree *api_tree_new(void);
void api_tree_destroy(api_tree *t); /* NULL is a no-op */

/* Called for every endpoint template a merge re-points: from (old) -> to (new). */
typedef void (*api_repoint_fn)(const char *from, const char *to, void *arg);

/* Learns path (without the query string; len bytes) and writes its template into
 * out[API_TEMPLATE_MAX]. Merges caused by this path call repoint (may be NULL). Returns the
 * template length. */
size_t api_tree_learn(api_tree *t, const char *path, size_t len, char *out, api_repoint_fn repoint,
                      void *arg);

/* Serialises the tree (new reference) and rebuilds one from that form (NULL when invalid). */
json_t *api_tree_to_json(const api_tree *t);
api_tree *api_tree_from_json(const json_t *json);
/* True when the tree changed since created/loaded or since the last call to clear it. */
bool api_tree_dirty(const api_tree *t);
size_t api_tree_nodes(const api_tree *t);

/* Where to cut s to at most n bytes without splitting a UTF-8 character: the largest m <= n
 * such that s[m] does not continue a character (s[n] must be readable). */
size_t api_utf8_cut(const char *s, size_t n);

/* Renders the name "userId" for a parameter after segment prev (prev may be NULL) into
 * out[64]. */
void api_param_name(const char *prev, size_t prevlen, api_seg_kind kind, char out[64]);

#endif
