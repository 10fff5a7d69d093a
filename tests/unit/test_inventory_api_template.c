/* Path templating of the API inventory: segment classes, parameter names, literal siblings,
 * cardinality merges with re-pointing, persistence, and precision/recall on traffic generated
 * from three OpenAPI specs (tests/fixtures/apispecs). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../services/inventory/api/template.h"
#include "harness.h"

static const char *learn(api_tree *t, const char *path)
{
    static char out[API_TEMPLATE_MAX];
    api_tree_learn(t, path, strlen(path), out, NULL, NULL);
    return out;
}

static void test_classify(void)
{
    CHECK_INT_EQ(api_segment_classify("12345", 5), API_SEG_ID);
    CHECK_INT_EQ(api_segment_classify("3f2b8c1e-4d5a-4b6c-9d7e-8f9a0b1c2d3e", 36), API_SEG_ID);
    CHECK_INT_EQ(api_segment_classify("507f1f77bcf86cd799439011", 24), API_SEG_ID);
    CHECK_INT_EQ(api_segment_classify("alice@example.com", 17), API_SEG_EMAIL);
    CHECK_INT_EQ(api_segment_classify("alice%40example.com", 19), API_SEG_EMAIL);
    CHECK_INT_EQ(api_segment_classify("2024-02-29", 10), API_SEG_DATE);
    CHECK_INT_EQ(api_segment_classify("ABC-12345", 9), API_SEG_ID);
    CHECK_INT_EQ(api_segment_classify("v1", 2), API_SEG_LITERAL);
    CHECK_INT_EQ(api_segment_classify("v2beta1", 7), API_SEG_LITERAL);
    CHECK_INT_EQ(api_segment_classify("oauth2", 6), API_SEG_LITERAL);
    CHECK_INT_EQ(api_segment_classify("users", 5), API_SEG_LITERAL);
    CHECK_INT_EQ(api_segment_classify("api-keys", 8), API_SEG_LITERAL);
    CHECK_INT_EQ(api_segment_classify("me", 2), API_SEG_LITERAL);
    CHECK_INT_EQ(api_segment_classify("DE89370400440532013000", 22), API_SEG_ID);
}

static void test_utf8_cut(void)
{
    const char *s = "ab\xc3\xbc\xe2\x82\xac"; /* a b u-umlaut euro */
    CHECK_INT_EQ(api_utf8_cut(s, 2), 2);
    CHECK_INT_EQ(api_utf8_cut(s, 3), 2); /* inside the 2-byte character */
    CHECK_INT_EQ(api_utf8_cut(s, 4), 4);
    CHECK_INT_EQ(api_utf8_cut(s, 6), 4); /* inside the 3-byte character */
    CHECK_INT_EQ(api_utf8_cut(s, 7), 7);
    /* a very long path of non-ASCII words still renders valid UTF-8 */
    char path[4096] = "";
    for (int i = 0; i < 30; i++) {
        strcat(path, "/\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"
                     "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"
                     "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc");
    }
    api_tree *t = api_tree_new();
    const char *tmpl = learn(t, path);
    json_t *js = json_string(tmpl);
    CHECK(js != NULL);
    CHECK(strlen(tmpl) < API_TEMPLATE_MAX);
    json_decref(js);
    api_tree_destroy(t);
}

static void test_names(void)
{
    char name[64];
    api_param_name("users", 5, API_SEG_ID, name);
    CHECK_STR_EQ(name, "userId");
    api_param_name("categories", 10, API_SEG_ID, name);
    CHECK_STR_EQ(name, "categoryId");
    api_param_name("addresses", 9, API_SEG_ID, name);
    CHECK_STR_EQ(name, "addressId");
    api_param_name("api-keys", 8, API_SEG_ID, name);
    CHECK_STR_EQ(name, "apiKeyId");
    api_param_name("members", 7, API_SEG_EMAIL, name);
    CHECK_STR_EQ(name, "memberEmail");
    api_param_name(NULL, 0, API_SEG_DATE, name);
    CHECK_STR_EQ(name, "paramDate");
}

static void test_basic_templates(void)
{
    api_tree *t = api_tree_new();
    CHECK_STR_EQ(learn(t, "/users/42"), "/users/{userId}");
    CHECK_STR_EQ(learn(t, "/users/me"), "/users/me");
    CHECK_STR_EQ(learn(t, "/users/43/orders/9b2f3c1e-4d5a-4b6c-9d7e-8f9a0b1c2d3e?x=1"),
                 "/users/{userId}/orders/{orderId}");
    CHECK_STR_EQ(learn(t, "/api/v2/files/2024-01-05"), "/api/v2/files/{fileDate}");
    CHECK_STR_EQ(learn(t, "/"), "/");
    CHECK_STR_EQ(learn(t, "//users//44/"), "/users/{userId}");
    CHECK_STR_EQ(learn(t, "/a/1/2"), "/a/{aId}/{aId2}");
    CHECK_STR_EQ(learn(t, "/a/1/2/3"), "/a/{aId}/{aId2}/{aId3}");
    CHECK_STR_EQ(learn(t, "/files/x{y}"), "/files/x_y_"); /* braces never reach a template */
    api_tree_destroy(t);
}

typedef struct repoints {
    int n;
    char from[64][API_TEMPLATE_MAX];
    char to[64][API_TEMPLATE_MAX];
} repoints;

static void on_repoint(const char *from, const char *to, void *arg)
{
    repoints *r = arg;
    if (r->n < 64) {
        snprintf(r->from[r->n], API_TEMPLATE_MAX, "%s", from);
        snprintf(r->to[r->n], API_TEMPLATE_MAX, "%s", to);
        r->n++;
    }
}

static void test_cardinality_merge(void)
{
    static const char *const names[] = {
        "alice",  "bob",     "carol",   "dave",   "erin",   "frank",  "grace", "heidi", "ivan",
        "judy",   "mallory", "niaj",    "olivia", "peggy",  "rupert", "sybil", "trent", "victor",
        "walter", "xena",    "yolanda", "zoe",    "arthur", "bella",  "cyril", "dora"};
    api_tree *t = api_tree_new();
    repoints rp = {0};
    char out[API_TEMPLATE_MAX], path[128];
    for (int round = 0; round < 10; round++) {
        api_tree_learn(t, "/people/search", 14, out, on_repoint, &rp);
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "/people/%s/posts", names[i]);
        api_tree_learn(t, path, strlen(path), out, on_repoint, &rp);
    }
    CHECK_STR_EQ(out, "/people/{peopleId}/posts");
    CHECK_STR_EQ(learn(t, "/people/zed/posts"), "/people/{peopleId}/posts");
    CHECK_STR_EQ(learn(t, "/people/search"), "/people/search");
    CHECK_STR_EQ(learn(t, "/people/me"), "/people/me");
    CHECK_INT_EQ(rp.n, 24); /* the 25th distinct value merges; it was not an endpoint yet */
    CHECK_STR_EQ(rp.from[0], "/people/alice/posts");
    CHECK_STR_EQ(rp.to[0], "/people/{peopleId}/posts");
    api_tree_destroy(t);
}

static void test_slug_merge(void)
{
    static const char *const slugs[] = {
        "how-to-use-istio",    "zero-trust-in-practice",      "scaling-kafka-consumers",
        "the-cost-of-retries", "postgres-row-level-security", "writing-fuzz-targets"};
    api_tree *t = api_tree_new();
    repoints rp = {0};
    char out[API_TEMPLATE_MAX], path[128];
    CHECK_STR_EQ(learn(t, "/posts/audit-logs"), "/posts/audit-logs");
    for (size_t i = 0; i < 6; i++) {
        snprintf(path, sizeof path, "/posts/%s/comments", slugs[i]);
        api_tree_learn(t, path, strlen(path), out, on_repoint, &rp);
    }
    CHECK_STR_EQ(out, "/posts/{postId}/comments");
    CHECK_INT_EQ(rp.n, 5); /* the five earlier slugs */
    CHECK_STR_EQ(learn(t, "/posts/a-brand-new-article/comments"), "/posts/{postId}/comments");
    CHECK_STR_EQ(learn(t, "/posts/audit-logs"), "/posts/audit-logs"); /* not a slug: kept */
    CHECK_STR_EQ(learn(t, "/posts/drafts"), "/posts/drafts");
    json_t *j = api_tree_to_json(t);
    api_tree *u = api_tree_from_json(j);
    CHECK_STR_EQ(learn(u, "/posts/yet-another-long-story/comments"), "/posts/{postId}/comments");
    CHECK_STR_EQ(learn(u, "/posts/archive"), "/posts/archive");
    json_decref(j);
    api_tree_destroy(u);
    api_tree_destroy(t);
}

static void test_persistence_stable(void)
{
    api_tree *t = api_tree_new();
    learn(t, "/orders/17");
    learn(t, "/orders/17/items/3");
    learn(t, "/orders/featured");
    json_t *j = api_tree_to_json(t);
    api_tree *u = api_tree_from_json(j);
    CHECK(u != NULL);
    CHECK(!api_tree_dirty(u));
    CHECK_INT_EQ(api_tree_nodes(u), api_tree_nodes(t));
    CHECK_STR_EQ(learn(u, "/orders/99"), "/orders/{orderId}");
    CHECK_STR_EQ(learn(u, "/orders/featured"), "/orders/featured");
    CHECK_STR_EQ(learn(u, "/orders/100/items/4"), "/orders/{orderId}/items/{itemId}");
    json_t *bad = json_pack("{s:{s:i}}", "p", "y", 9);
    CHECK(api_tree_from_json(bad) == NULL);
    json_decref(bad);
    json_decref(j);
    api_tree_destroy(t);
    api_tree_destroy(u);
}

/* ---- traffic generated from the fixture specs ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static const char *const adjectives[] = {"blue",  "quick", "silent", "golden", "rapid", "bright",
                                         "calm",  "wild",  "smart",  "bold",   "green", "lucky",
                                         "north", "urban", "happy",  "solid",  "prime", "cosy"};
static const char *const nouns[] = {"running", "shoes",  "river",  "falcon",  "labs",   "garden",
                                    "systems", "coffee", "studio", "works",   "forest", "jacket",
                                    "lamp",    "harbor", "pixel",  "orchard", "summit", "anchor"};

/* Writes a realistic value for a path parameter schema. */
static void gen_value(const json_t *schema, char *out, size_t cap)
{
    const char *format = json_string_value(json_object_get(schema, "format"));
    const char *type = json_string_value(json_object_get(schema, "type"));
    const char *pattern = json_string_value(json_object_get(schema, "pattern"));
    uint64_t r = rnd();
    if (format != NULL && strcmp(format, "uuid") == 0) {
        snprintf(out, cap, "%08x-%04x-4%03x-a%03x-%012llx", (unsigned)r,
                 (unsigned)(r >> 32) & 0xffff, (unsigned)(r >> 48) & 0xfff, (unsigned)rnd() & 0xfff,
                 (unsigned long long)(rnd() & 0xffffffffffffULL));
    } else if (format != NULL && strcmp(format, "email") == 0) {
        snprintf(out, cap, "%s.%s%u@example-%s.com", adjectives[r % 18], nouns[(r >> 8) % 18],
                 (unsigned)(r >> 16) % 100, nouns[(r >> 24) % 18]);
    } else if (format != NULL && strcmp(format, "date") == 0) {
        snprintf(out, cap, "20%02u-%02u-%02u", 20 + (unsigned)(r % 6), 1 + (unsigned)(r >> 8) % 12,
                 1 + (unsigned)(r >> 16) % 28);
    } else if (type != NULL && strcmp(type, "integer") == 0) {
        snprintf(out, cap, "%u", 1 + (unsigned)(r % 999999));
    } else if (pattern != NULL && strstr(pattern, "[0-9a-f]{24}") != NULL) {
        snprintf(out, cap, "%016llx%08x", (unsigned long long)r, (unsigned)rnd());
    } else if (pattern != NULL && strstr(pattern, "[A-Z]{3}") != NULL) {
        snprintf(out, cap, "%c%c%c-%05u", 'A' + (int)(r % 26), 'A' + (int)((r >> 8) % 26),
                 'A' + (int)((r >> 16) % 26), (unsigned)((r >> 24) % 100000));
    } else if (pattern != NULL && strstr(pattern, "[A-Z]{2}[0-9]{2}") != NULL) {
        snprintf(out, cap, "DE%02u%010llu%08u", (unsigned)(r % 100),
                 (unsigned long long)(rnd() % 10000000000ULL), (unsigned)(r >> 20) % 100000000);
    } else {
        /* slugs: words only, no digits (merged by cardinality) */
        snprintf(out, cap, "%s-%s-%s", adjectives[r % 18], nouns[(r >> 8) % 18],
                 nouns[(r >> 16) % 18]);
    }
}

/* Concrete path for a spec path template. */
static void gen_path(const char *tmpl, const json_t *params, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = tmpl; *p != '\0' && o < cap - 1;) {
        if (*p != '{') {
            out[o++] = *p++;
            continue;
        }
        const char *end = strchr(p, '}');
        char name[64] = "";
        snprintf(name, sizeof name, "%.*s", (int)(end - p - 1), p + 1);
        const json_t *schema = NULL;
        size_t i;
        const json_t *prm;
        json_array_foreach(params, i, prm)
        {
            if (strcmp(json_string_value(json_object_get(prm, "name")), name) == 0) {
                schema = json_object_get(prm, "schema");
            }
        }
        char value[128];
        gen_value(schema, value, sizeof value);
        o += (size_t)snprintf(out + o, cap - o, "%s", value);
        p = end + 1;
    }
    out[o] = '\0';
    if (rnd() % 4 == 0) {
        snprintf(out + o, cap - o, "?page=%u&limit=50", (unsigned)(rnd() % 9));
    }
}

typedef struct ep_set {
    int n;
    char key[512][API_TEMPLATE_MAX + 16]; /* "GET /users/{}" */
} ep_set;

/* "/users/{userId}" -> "/users/{}" */
static void normalise(const char *method, const char *tmpl, char *out, size_t cap)
{
    size_t o = (size_t)snprintf(out, cap, "%s ", method);
    for (const char *p = tmpl; *p != '\0' && o < cap - 3;) {
        if (*p == '{') {
            memcpy(out + o, "{}", 2);
            o += 2;
            p = strchr(p, '}') + 1;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
}

static bool set_has(const ep_set *s, const char *key)
{
    for (int i = 0; i < s->n; i++) {
        if (strcmp(s->key[i], key) == 0) {
            return true;
        }
    }
    return false;
}

static void set_add(ep_set *s, const char *key)
{
    if (!set_has(s, key) && s->n < 512) {
        snprintf(s->key[s->n++], sizeof s->key[0], "%s", key);
    }
}

/* The learned endpoints: method + template, re-pointed on merges like the database rows. */
typedef struct learned {
    int n;
    char method[4096][8];
    char tmpl[4096][API_TEMPLATE_MAX];
} learned;

static void learned_add(learned *l, const char *method, const char *tmpl)
{
    for (int i = 0; i < l->n; i++) {
        if (strcmp(l->method[i], method) == 0 && strcmp(l->tmpl[i], tmpl) == 0) {
            return;
        }
    }
    if (l->n < 4096) {
        snprintf(l->method[l->n], 8, "%s", method);
        snprintf(l->tmpl[l->n], API_TEMPLATE_MAX, "%s", tmpl);
        l->n++;
    }
}

static void learned_repoint(const char *from, const char *to, void *arg)
{
    learned *l = arg;
    for (int i = 0; i < l->n; i++) {
        if (strcmp(l->tmpl[i], from) != 0) {
            continue;
        }
        char method[8];
        snprintf(method, sizeof method, "%s", l->method[i]);
        l->n--;
        memmove(l->method[i], l->method[l->n], sizeof l->method[0]);
        memmove(l->tmpl[i], l->tmpl[l->n], sizeof l->tmpl[0]);
        learned_add(l, method, to);
        i = -1;
    }
}

typedef struct spec_op {
    char method[8];
    const char *path;
    const json_t *params;
} spec_op;

static void upper(const char *in, char *out)
{
    size_t i = 0;
    for (; in[i] != '\0' && i < 7; i++) {
        out[i] = (char)(in[i] >= 'a' && in[i] <= 'z' ? in[i] - 32 : in[i]);
    }
    out[i] = '\0';
}

static void run_spec(const char *file)
{
    json_error_t jerr;
    json_t *doc = json_load_file(file, 0, &jerr);
    CHECK(doc != NULL);
    if (doc == NULL) {
        fprintf(stderr, "  %s: %s\n", file, jerr.text);
        return;
    }
    static spec_op ops[256];
    static ep_set truth;
    static learned got;
    int nops = 0;
    truth.n = 0;
    got.n = 0;
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(doc, "paths"), path, item)
    {
        const char *method;
        json_t *op;
        json_object_foreach(item, method, op)
        {
            spec_op *so = &ops[nops++];
            upper(method, so->method);
            so->path = path;
            so->params = json_object_get(op, "parameters");
            char key[API_TEMPLATE_MAX + 16];
            normalise(so->method, path, key, sizeof key);
            set_add(&truth, key);
        }
    }
    api_tree *t = api_tree_new();
    char concrete[512], tmpl[API_TEMPLATE_MAX];
    const char *per = getenv("API_TEST_PER_OP"); /* requests per operation, default 40 */
    int per_op = per != NULL && atoi(per) > 0 ? atoi(per) : 40;
    for (int i = 0; i < nops * per_op; i++) {
        const spec_op *so = &ops[rnd() % (uint64_t)nops];
        gen_path(so->path, so->params, concrete, sizeof concrete);
        api_tree_learn(t, concrete, strlen(concrete), tmpl, learned_repoint, &got);
        learned_add(&got, so->method, tmpl);
    }
    int hit = 0;
    for (int i = 0; i < got.n; i++) {
        char key[API_TEMPLATE_MAX + 16];
        normalise(got.method[i], got.tmpl[i], key, sizeof key);
        if (set_has(&truth, key)) {
            hit++;
        } else {
            fprintf(stderr, "  %s: learned but not in spec: %s\n", file, key);
        }
    }
    double precision = got.n ? (double)hit / got.n : 0.0;
    double recall = truth.n ? (double)hit / truth.n : 0.0;
    printf("%s: operations %d, requests %d, learned %d, matched %d, precision %.3f, "
           "recall %.3f\n",
           file, truth.n, nops * per_op, got.n, hit, precision, recall);
    CHECK(precision >= 0.95);
    CHECK(recall >= 0.95);
    api_tree_destroy(t);
    json_decref(doc);
}

static void test_spec_shop(void)
{
    run_spec("tests/fixtures/apispecs/shop.json");
}

static void test_spec_bank(void)
{
    run_spec("tests/fixtures/apispecs/bank.json");
}

static void test_spec_saas_admin(void)
{
    run_spec("tests/fixtures/apispecs/saas-admin.json");
}

int main(void)
{
    const char *seed = getenv("API_TEST_SEED"); /* other traffic draws; default fixed */
    if (seed != NULL && strtoull(seed, NULL, 10) != 0) {
        rng_state = strtoull(seed, NULL, 10);
    }
    RUN(test_classify);
    RUN(test_names);
    RUN(test_utf8_cut);
    RUN(test_basic_templates);
    RUN(test_cardinality_merge);
    RUN(test_slug_merge);
    RUN(test_persistence_stable);
    RUN(test_spec_shop);
    RUN(test_spec_bank);
    RUN(test_spec_saas_admin);
    return harness_report("test_inventory_api_template");
}
