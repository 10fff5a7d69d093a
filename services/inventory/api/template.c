/* Path templating: see template.h. */
#include "template.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/alloc.h"

typedef struct api_node {
    char *seg; /* literal text (owned); NULL for the parameter child */
    uint32_t seglen;
    uint8_t kind;  /* api_seg_kind of a parameter node */
    bool merged;   /* literal children beyond the threshold go to the parameter */
    bool slugs;    /* slug-like literal children go to the parameter */
    bool terminal; /* a request path ends here */
    uint64_t hits;
    struct api_node *param; /* owned */
    struct api_node **kids; /* owned literal children */
    uint32_t nkids, cap;
} api_node;

struct api_tree {
    api_node root;
    bool dirty;
    size_t nodes;
};

/* ---- segment classification ---- */

static bool all_of(const char *s, size_t len, int (*pred)(int))
{
    for (size_t i = 0; i < len; i++) {
        if (!pred((unsigned char)s[i])) {
            return false;
        }
    }
    return len > 0;
}

static bool is_uuid(const char *s, size_t len)
{
    if (len != 36) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

static bool is_date(const char *s, size_t len)
{
    /* 2024-01-31, optionally followed by a time (2024-01-31T10:00:00Z) */
    if (len < 10 || s[4] != '-' || s[7] != '-') {
        return false;
    }
    for (size_t i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return len == 10 || s[10] == 'T' || s[10] == 't';
}

static bool is_email(const char *s, size_t len)
{
    const char *at = memchr(s, '@', len);
    size_t off = 1;
    if (at == NULL) {
        /* percent-encoded @ */
        for (size_t i = 0; i + 2 < len; i++) {
            if (s[i] == '%' && s[i + 1] == '4' && s[i + 2] == '0') {
                at = s + i;
                off = 3;
                break;
            }
        }
    }
    if (at == NULL || at == s) {
        return false;
    }
    const char *dom = at + off;
    size_t domlen = len - (size_t)(dom - s);
    const char *dot = memchr(dom, '.', domlen);
    return dot != NULL && dot != dom && dot < dom + domlen - 1;
}

static bool is_version(const char *s, size_t len)
{
    /* v1, v2, v1.2, v2beta1, v1alpha */
    if (len < 2 || len > 12 || (s[0] != 'v' && s[0] != 'V') || !isdigit((unsigned char)s[1])) {
        return false;
    }
    return all_of(s + 1, len - 1, isalnum) || strspn(s + 1, "0123456789.") >= len - 1;
}

static bool word_in(const char *s, size_t len, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++) {
        if (strlen(list[i]) == len && strncasecmp(list[i], s, len) == 0) {
            return true;
        }
    }
    return false;
}

/* words with digits that are route names, not identifiers */
static const char *const digit_words[] = {
    "oauth2", "oauth1", "s3",      "ipv4",    "ipv6",    "base64", "md5",  "sha1",
    "sha256", "sha512", "x509",    "utf8",    "http2",   "k8s",    "2fa",  "b2b",
    "b2c",    "e2e",    "p2p",     "i18n",    "l10n",    "h2",     "web3", "mp3",
    "mp4",    "ec2",    "openid2", "v1beta1", "v2beta1", NULL};

static bool is_identifier_like(const char *s, size_t len)
{
    size_t digits = 0, letters = 0, other = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isdigit(c)) {
            digits++;
        } else if (isalpha(c)) {
            letters++;
        } else if (c == '-' || c == '_' || c == '.' || c == '~' || c == '%' || c == '+' ||
                   c == ':') {
            other++;
        } else {
            return false;
        }
    }
    if (digits == 0 || letters == 0 || len <= 3) {
        return false;
    }
    return !word_in(s, len, digit_words);
}

static bool is_random_token(const char *s, size_t len)
{
    /* long mixed-case base64url-ish tokens without digits */
    if (len < 20) {
        return false;
    }
    size_t upper = 0, lower = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isupper(c)) {
            upper++;
        } else if (islower(c)) {
            lower++;
        } else if (c != '-' && c != '_' && !isdigit(c)) {
            return false;
        }
    }
    return upper > 2 && lower > 2;
}

api_seg_kind api_segment_classify(const char *seg, size_t len)
{
    if (len == 0) {
        return API_SEG_LITERAL;
    }
    if (len > 128) {
        return API_SEG_ID;
    }
    if (all_of(seg, len, isdigit) || is_uuid(seg, len)) {
        return API_SEG_ID;
    }
    if (is_date(seg, len)) {
        return API_SEG_DATE;
    }
    if (is_email(seg, len)) {
        return API_SEG_EMAIL;
    }
    if (is_version(seg, len)) {
        return API_SEG_LITERAL;
    }
    if (all_of(seg, len, isxdigit) && (len >= 16 || (len >= 8 && strpbrk(seg, "0123456789")))) {
        return API_SEG_ID;
    }
    if (is_identifier_like(seg, len) || is_random_token(seg, len)) {
        return API_SEG_ID;
    }
    return API_SEG_LITERAL;
}

static const char *const keepwords[] = {
    "me",          "self",         "current",      "mine",        "my",          "new",
    "latest",      "search",       "count",        "all",         "export",      "import",
    "batch",       "bulk",         "stats",        "statistics",  "summary",     "default",
    "settings",    "config",       "profile",      "health",      "healthz",     "readyz",
    "status",      "login",        "logout",       "register",    "signup",      "admin",
    "metrics",     "recent",       "popular",      "featured",    "trending",    "top",
    "random",      "first",        "last",         "next",        "previous",    "info",
    "version",     "openapi.json", "swagger.json", "docs",        "preferences", "notifications",
    "permissions", "roles",        "members",      "invitations", NULL};

bool api_segment_keepword(const char *seg, size_t len)
{
    return word_in(seg, len, keepwords);
}

size_t api_utf8_cut(const char *s, size_t n)
{
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) {
        n--;
    }
    return n;
}

/* ---- parameter names ---- */

static size_t singular_len(const char *s, size_t len, char *out, size_t outcap)
{
    /* categories -> category, addresses -> address, statuses -> status, users -> user */
    size_t n = len < outcap - 1 ? len : outcap - 1;
    memcpy(out, s, n);
    out[n] = '\0';
    static const char *const es[] = {"sses", "uses", "xes", "ches", "shes", "zes", NULL};
    if (n > 3 && strcasecmp(out + n - 3, "ies") == 0) {
        strcpy(out + n - 3, "y");
        return n - 2;
    }
    for (size_t i = 0; es[i] != NULL; i++) {
        size_t el = strlen(es[i]);
        if (n > el && strcasecmp(out + n - el, es[i]) == 0) {
            out[n - 2] = '\0';
            return n - 2;
        }
    }
    if (n > 2 && (out[n - 1] == 's' || out[n - 1] == 'S') && out[n - 2] != 's' &&
        out[n - 2] != 'S') {
        out[n - 1] = '\0';
        return n - 1;
    }
    return n;
}

void api_param_name(const char *prev, size_t prevlen, api_seg_kind kind, char out[64])
{
    const char *suffix = kind == API_SEG_EMAIL ? "Email" : kind == API_SEG_DATE ? "Date" : "Id";
    char word[48];
    size_t n = 0;
    if (prev != NULL && prevlen > 0) {
        n = singular_len(prev, prevlen, word, sizeof word);
    }
    /* camelCase over - _ . separators, letters and digits only */
    size_t o = 0;
    bool upper = false;
    for (size_t i = 0; i < n && o < 40; i++) {
        unsigned char c = (unsigned char)word[i];
        if (!isalnum(c)) {
            upper = o > 0;
            continue;
        }
        if (o == 0 && isdigit(c)) {
            out[o++] = 'p';
        }
        char ch = (char)(upper ? toupper(c) : (o == 0 ? tolower(c) : c));
        out[o++] = ch;
        upper = false;
    }
    if (o == 0) {
        memcpy(out, "param", 5);
        o = 5;
    }
    size_t sl = strlen(suffix);
    memcpy(out + o, suffix, sl + 1);
}

/* ---- the tree ---- */

typedef struct seg_view {
    const char *seg; /* NULL for a parameter */
    size_t len;
    api_seg_kind kind;
} seg_view;

static api_node *node_new(api_tree *t, const char *seg, size_t len, api_seg_kind kind)
{
    api_node *n = vg_calloc(1, sizeof *n);
    if (seg != NULL) {
        n->seg = vg_strndup(seg, len);
        n->seglen = (uint32_t)len;
    }
    n->kind = (uint8_t)kind;
    t->nodes++;
    t->dirty = true;
    return n;
}

static void node_free_kids(api_tree *t, api_node *n)
{
    for (uint32_t i = 0; i < n->nkids; i++) {
        node_free_kids(t, n->kids[i]);
        free(n->kids[i]->seg);
        free(n->kids[i]);
        t->nodes--;
    }
    free(n->kids);
    n->kids = NULL;
    n->nkids = n->cap = 0;
    if (n->param != NULL) {
        node_free_kids(t, n->param);
        free(n->param);
        n->param = NULL;
        t->nodes--;
    }
}

api_tree *api_tree_new(void)
{
    api_tree *t = vg_calloc(1, sizeof *t);
    t->nodes = 1;
    return t;
}

void api_tree_destroy(api_tree *t)
{
    if (t == NULL) {
        return;
    }
    node_free_kids(t, &t->root);
    free(t);
}

bool api_tree_dirty(const api_tree *t)
{
    return t->dirty;
}

size_t api_tree_nodes(const api_tree *t)
{
    return t->nodes;
}

static api_node *find_kid(const api_node *n, const char *seg, size_t len)
{
    for (uint32_t i = 0; i < n->nkids; i++) {
        api_node *k = n->kids[i];
        if (k->seglen == len && memcmp(k->seg, seg, len) == 0) {
            return k;
        }
    }
    return NULL;
}

static void add_kid(api_node *n, api_node *k)
{
    if (n->nkids == n->cap) {
        n->cap = n->cap ? n->cap * 2 : 4;
        n->kids = vg_realloc(n->kids, n->cap * sizeof *n->kids);
    }
    n->kids[n->nkids++] = k;
}

static api_node *ensure_param(api_tree *t, api_node *n, api_seg_kind kind)
{
    if (n->param == NULL) {
        n->param = node_new(t, NULL, 0, kind);
    }
    return n->param;
}

/* Renders views as "/a/{aId}/b"; parameter names are made unique with a counter. */
static size_t render(const seg_view *v, int n, char *out)
{
    size_t o = 0;
    char names[API_TEMPLATE_SEGMENTS][64];
    int nnames = 0;
    if (n == 0) {
        memcpy(out, "/", 2);
        return 1;
    }
    for (int i = 0; i < n && o < API_TEMPLATE_MAX - 70; i++) {
        out[o++] = '/';
        if (v[i].seg != NULL) {
            size_t len = v[i].len < API_TEMPLATE_MAX - 70 - o
                             ? v[i].len
                             : api_utf8_cut(v[i].seg, API_TEMPLATE_MAX - 70 - o);
            for (size_t c = 0; c < len; c++) {
                char ch = v[i].seg[c];
                out[o++] = ch == '{' || ch == '}' ? '_' : ch; /* keep templates unambiguous */
            }
            continue;
        }
        const char *prev = NULL;
        size_t prevlen = 0;
        for (int j = i - 1; j >= 0 && prev == NULL; j--) {
            if (v[j].seg != NULL) {
                prev = v[j].seg;
                prevlen = v[j].len;
            }
        }
        char name[64];
        api_param_name(prev, prevlen, v[i].kind, name);
        size_t base = strlen(name);
        base = base > 56 ? 56 : base;
        for (int k = 0, dup = 1; k < nnames && dup < 99; k++) {
            if (strcmp(names[k], name) == 0) {
                dup++; /* userId, userId2, userId3, ... */
                name[base] = (char)(dup >= 10 ? '0' + dup / 10 : '0' + dup);
                name[base + 1] = dup >= 10 ? (char)('0' + dup % 10) : '\0';
                name[base + 2] = '\0';
                k = -1;
            }
        }
        size_t nl = strlen(name);
        memcpy(names[nnames++], name, nl + 1);
        out[o++] = '{';
        memcpy(out + o, name, nl);
        o += nl;
        out[o++] = '}';
    }
    out[o] = '\0';
    return o;
}

static void view_of(const api_node *n, seg_view *v)
{
    v->seg = n->seg;
    v->len = n->seglen;
    v->kind = (api_seg_kind)n->kind;
}

/* ---- merging a high-cardinality position ---- */

typedef struct key_path {
    seg_view keys[API_TEMPLATE_SEGMENTS];
    int n;
    char old[API_TEMPLATE_MAX];
} key_path;

typedef struct merge_ctx {
    seg_view prefix[API_TEMPLATE_SEGMENTS + 1]; /* chain up to and including the position */
    int nprefix;
    key_path *paths;
    size_t npaths, cap;
} merge_ctx;

/* Collects every terminal under k (k included) with its old template and a copy of its keys
 * (freed by merge_ctx_free). */
static void collect_terminals(merge_ctx *mc, const api_node *k, seg_view *stack, int depth)
{
    if (depth >= API_TEMPLATE_SEGMENTS) {
        return;
    }
    view_of(k, &stack[depth]);
    if (k->terminal) {
        if (mc->npaths == mc->cap) {
            mc->cap = mc->cap ? mc->cap * 2 : 8;
            mc->paths = vg_realloc(mc->paths, mc->cap * sizeof *mc->paths);
        }
        key_path *kp = &mc->paths[mc->npaths++];
        seg_view all[2 * API_TEMPLATE_SEGMENTS + 1];
        int n = 0;
        for (int i = 0; i < mc->nprefix && n < API_TEMPLATE_SEGMENTS; i++) {
            all[n++] = mc->prefix[i];
        }
        kp->n = 0;
        for (int i = 0; i <= depth && n < API_TEMPLATE_SEGMENTS; i++) {
            all[n++] = stack[i];
            kp->keys[kp->n] = stack[i];
            if (stack[i].seg != NULL) {
                kp->keys[kp->n].seg = vg_strndup(stack[i].seg, stack[i].len);
            }
            kp->n++;
        }
        render(all, n, kp->old);
    }
    for (uint32_t i = 0; i < k->nkids; i++) {
        collect_terminals(mc, k->kids[i], stack, depth + 1);
    }
    if (k->param != NULL) {
        collect_terminals(mc, k->param, stack, depth + 1);
    }
}

/* Moves src's counts and subtree into dst; src is emptied (its seg stays). */
static void merge_node(api_tree *t, api_node *dst, api_node *src)
{
    dst->hits += src->hits;
    dst->terminal = dst->terminal || src->terminal;
    dst->merged = dst->merged || src->merged;
    dst->slugs = dst->slugs || src->slugs;
    for (uint32_t i = 0; i < src->nkids; i++) {
        api_node *k = src->kids[i];
        api_node *d = find_kid(dst, k->seg, k->seglen);
        if (d == NULL) {
            add_kid(dst, k);
            continue;
        }
        merge_node(t, d, k);
        free(k->seg);
        free(k);
        t->nodes--;
    }
    free(src->kids);
    src->kids = NULL;
    src->nkids = src->cap = 0;
    if (src->param != NULL) {
        if (dst->param == NULL) {
            dst->param = src->param;
        } else {
            merge_node(t, dst->param, src->param);
            free(src->param);
            t->nodes--;
        }
        src->param = NULL;
    }
}

static uint64_t median_hits(const api_node *n)
{
    uint64_t *h = vg_malloc(n->nkids * sizeof *h);
    size_t m = 0;
    for (uint32_t i = 0; i < n->nkids; i++) {
        h[m++] = n->kids[i]->hits;
    }
    /* insertion sort: at most threshold + 1 values */
    for (size_t i = 1; i < m; i++) {
        for (size_t j = i; j > 0 && h[j - 1] > h[j]; j--) {
            uint64_t x = h[j];
            h[j] = h[j - 1];
            h[j - 1] = x;
        }
    }
    uint64_t med = m ? h[m / 2] : 0;
    free(h);
    return med;
}

/* Renders the new template of kp after the merge, walking from the parameter node. */
static void render_new(const merge_ctx *mc, const api_node *param, const key_path *kp, char *out)
{
    seg_view all[API_TEMPLATE_SEGMENTS + 1];
    int n = 0;
    for (int i = 0; i < mc->nprefix; i++) {
        all[n++] = mc->prefix[i];
    }
    const api_node *cur = param;
    view_of(cur, &all[n++]);
    for (int i = 1; i < kp->n && cur != NULL && n < API_TEMPLATE_SEGMENTS; i++) {
        cur =
            kp->keys[i].seg != NULL ? find_kid(cur, kp->keys[i].seg, kp->keys[i].len) : cur->param;
        if (cur != NULL) {
            view_of(cur, &all[n++]);
        }
    }
    render(all, n, out);
}

/* Multi-word slugs ("blue-running-shoes"): lowercase words joined by at least two hyphens. */
static bool is_slug(const char *s, size_t len)
{
    if (len < 12 || s[0] == '-' || s[len - 1] == '-') {
        return false;
    }
    int hyphens = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '-') {
            if (s[i - 1] == '-') {
                return false;
            }
            hyphens++;
        } else if (s[i] < 'a' || s[i] > 'z') {
            return false;
        }
    }
    return hyphens >= 2;
}

/* Merges the literal children of n into its parameter: all of them but route words and
 * dominant siblings, or (slugs_only) the slug-like ones. */
static void merge_position(api_tree *t, api_node *n, const seg_view *prefix, int nprefix,
                           bool slugs_only, api_repoint_fn repoint, void *arg)
{
    merge_ctx mc = {.nprefix = nprefix};
    memcpy(mc.prefix, prefix, (size_t)nprefix * sizeof *prefix);
    uint64_t med = median_hits(n);
    uint64_t keep = med * 4 > 8 ? med * 4 : 8;
    api_node *param = ensure_param(t, n, API_SEG_ID);
    if (slugs_only) {
        n->slugs = true;
    } else {
        n->merged = true;
    }
    t->dirty = true;
    uint32_t w = 0;
    api_node **gone = vg_malloc((n->nkids + 1) * sizeof *gone);
    uint32_t ngone = 0;
    for (uint32_t i = 0; i < n->nkids; i++) {
        api_node *k = n->kids[i];
        if (api_segment_keepword(k->seg, k->seglen) || k->hits >= keep ||
            (slugs_only && !is_slug(k->seg, k->seglen))) {
            n->kids[w++] = k;
            continue;
        }
        seg_view stack[API_TEMPLATE_SEGMENTS];
        size_t first = mc.npaths;
        collect_terminals(&mc, k, stack, 0);
        merge_node(t, param, k);
        for (size_t j = first; j < mc.npaths; j++) {
            char to[API_TEMPLATE_MAX];
            render_new(&mc, param, &mc.paths[j], to);
            if (repoint != NULL && strcmp(mc.paths[j].old, to) != 0) {
                repoint(mc.paths[j].old, to, arg);
            }
        }
        gone[ngone++] = k;
    }
    n->nkids = w;
    for (uint32_t i = 0; i < ngone; i++) {
        free(gone[i]->seg);
        free(gone[i]);
        t->nodes--;
    }
    free(gone);
    for (size_t j = 0; j < mc.npaths; j++) {
        for (int i = 0; i < mc.paths[j].n; i++) {
            free((char *)mc.paths[j].keys[i].seg);
        }
    }
    free(mc.paths);
}

/* ---- learning ---- */

static api_node *step(api_tree *t, api_node *n, const char *seg, size_t len, seg_view *chain,
                      int depth, api_repoint_fn repoint, void *arg)
{
    api_seg_kind kind = api_segment_classify(seg, len);
    if (kind != API_SEG_LITERAL) {
        return ensure_param(t, n, kind);
    }
    api_node *c = find_kid(n, seg, len);
    if (c != NULL) {
        return c;
    }
    bool keepword = api_segment_keepword(seg, len);
    bool slug = !keepword && is_slug(seg, len);
    if ((n->merged && !keepword) || (n->slugs && slug)) {
        return ensure_param(t, n, API_SEG_ID);
    }
    c = node_new(t, seg, len, API_SEG_LITERAL);
    add_kid(n, c);
    if (keepword) {
        return c;
    }
    uint32_t mergeable = 0, slugs = 0;
    for (uint32_t i = 0; i < n->nkids; i++) {
        mergeable += !api_segment_keepword(n->kids[i]->seg, n->kids[i]->seglen);
        slugs += is_slug(n->kids[i]->seg, n->kids[i]->seglen);
    }
    bool by_slugs = slug && slugs >= API_SLUG_THRESHOLD && mergeable <= API_MERGE_THRESHOLD;
    if (mergeable <= API_MERGE_THRESHOLD && !by_slugs) {
        return c;
    }
    c->hits = 1; /* counted as seen, so a merge that keeps dominant siblings treats it fairly */
    merge_position(t, n, chain, depth, by_slugs, repoint, arg);
    api_node *k = find_kid(n, seg, len);
    if (k != NULL) {
        k->hits--;
        return k;
    }
    n->param->hits--;
    return n->param;
}

size_t api_tree_learn(api_tree *t, const char *path, size_t len, char *out, api_repoint_fn repoint,
                      void *arg)
{
    seg_view chain[API_TEMPLATE_SEGMENTS + 1];
    int depth = 0;
    api_node *n = &t->root;
    size_t i = 0;
    n->hits++;
    while (i < len && path[i] != '?' && path[i] != '#') {
        size_t start = i;
        while (i < len && path[i] != '/' && path[i] != '?' && path[i] != '#') {
            i++;
        }
        size_t seglen = i - start;
        if (i < len && path[i] == '/') {
            i++;
        }
        if (seglen == 0) {
            continue;
        }
        if (depth == API_TEMPLATE_SEGMENTS - 1) {
            n = ensure_param(t, n, API_SEG_ID);
            n->hits++;
            view_of(n, &chain[depth++]);
            break;
        }
        n = step(t, n, path + start, seglen, chain, depth, repoint, arg);
        n->hits++;
        view_of(n, &chain[depth++]);
    }
    if (!n->terminal) {
        n->terminal = true;
        t->dirty = true;
    }
    return render(chain, depth, out);
}

/* ---- JSON form: {"s":seg | "y":kind, "h":hits, "m":1, "t":1, "p":{...}, "k":[...]} ---- */

static json_t *node_to_json(const api_node *n)
{
    json_t *o = json_object();
    if (n->seg != NULL) {
        json_object_set_new(o, "s", json_stringn(n->seg, n->seglen));
    } else {
        json_object_set_new(o, "y", json_integer(n->kind));
    }
    json_object_set_new(o, "h", json_integer((json_int_t)n->hits));
    if (n->merged) {
        json_object_set_new(o, "m", json_true());
    }
    if (n->slugs) {
        json_object_set_new(o, "g", json_true());
    }
    if (n->terminal) {
        json_object_set_new(o, "t", json_true());
    }
    if (n->param != NULL) {
        json_object_set_new(o, "p", node_to_json(n->param));
    }
    if (n->nkids > 0) {
        json_t *k = json_array();
        for (uint32_t i = 0; i < n->nkids; i++) {
            json_array_append_new(k, node_to_json(n->kids[i]));
        }
        json_object_set_new(o, "k", k);
    }
    return o;
}

json_t *api_tree_to_json(const api_tree *t)
{
    return node_to_json(&t->root);
}

static int node_from_json(api_tree *t, api_node *n, const json_t *o, int depth)
{
    if (!json_is_object(o) || depth > API_TEMPLATE_SEGMENTS) {
        return -1;
    }
    json_int_t hits = json_integer_value(json_object_get(o, "h"));
    n->hits = hits > 0 ? (uint64_t)hits : 0;
    n->merged = json_is_true(json_object_get(o, "m"));
    n->slugs = json_is_true(json_object_get(o, "g"));
    n->terminal = json_is_true(json_object_get(o, "t"));
    const json_t *p = json_object_get(o, "p");
    if (p != NULL) {
        json_int_t kind = json_integer_value(json_object_get(p, "y"));
        if (kind < API_SEG_ID || kind > API_SEG_DATE) {
            return -1;
        }
        n->param = node_new(t, NULL, 0, (api_seg_kind)kind);
        if (node_from_json(t, n->param, p, depth + 1) != 0) {
            return -1;
        }
    }
    const json_t *kids = json_object_get(o, "k");
    size_t i;
    const json_t *k;
    json_array_foreach(kids, i, k)
    {
        const json_t *s = json_object_get(k, "s");
        if (!json_is_string(s) || json_string_length(s) == 0 ||
            find_kid(n, json_string_value(s), json_string_length(s)) != NULL) {
            return -1;
        }
        api_node *c = node_new(t, json_string_value(s), json_string_length(s), API_SEG_LITERAL);
        add_kid(n, c);
        if (node_from_json(t, c, k, depth + 1) != 0) {
            return -1;
        }
    }
    return 0;
}

api_tree *api_tree_from_json(const json_t *json)
{
    api_tree *t = api_tree_new();
    if (node_from_json(t, &t->root, json, 0) != 0) {
        api_tree_destroy(t);
        return NULL;
    }
    t->dirty = false;
    return t;
}
