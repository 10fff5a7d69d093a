/* Token cache and rate buckets: two open-addressing tables keyed by text. */
#include "auth.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/alloc.h"
#include "vigil/log.h"

#define KEY_MAX 65 /* hex SHA-256 + NUL; cluster ids are shorter */

typedef struct slot {
    char key[KEY_MAX]; /* "" = empty */
    int64_t stamp_ms;  /* cache: expiry; bucket: last refill */
    ingest_auth_status status;
    ingest_principal who;
    double tokens;
} slot;

typedef struct table {
    slot *slots;
    size_t cap; /* power of two */
    size_t used;
} table;

struct ingest_auth {
    ingest_auth_opts opts;
    table cache;   /* token hash -> lookup result */
    table buckets; /* cluster id -> token bucket */
};

static uint64_t key_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s != '\0'; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    }
    return h;
}

static void table_init(table *t, size_t cap)
{
    t->slots = vg_calloc(cap, sizeof *t->slots);
    t->cap = cap;
    t->used = 0;
}

static slot *table_find(table *t, const char *key, bool *found)
{
    size_t i = (size_t)key_hash(key) & (t->cap - 1);
    for (;;) {
        slot *s = &t->slots[i];
        if (s->key[0] == '\0' || strcmp(s->key, key) == 0) {
            *found = s->key[0] != '\0';
            return s;
        }
        i = (i + 1) & (t->cap - 1);
    }
}

/* Keeps the table at most half full: rebuilds it (at most a quarter full), dropping the
 * entries that keep() rejects (expired cache entries, idle buckets). */
static void table_make_room(table *t, bool (*keep)(const slot *, int64_t, double), int64_t now_ms,
                            double burst)
{
    if ((t->used + 1) * 2 <= t->cap) {
        return;
    }
    table old = *t;
    size_t kept = 0;
    for (size_t i = 0; i < old.cap; i++) {
        kept += old.slots[i].key[0] != '\0' && keep(&old.slots[i], now_ms, burst);
    }
    size_t cap = 256;
    while (cap < kept * 4) {
        cap *= 2;
    }
    table_init(t, cap);
    for (size_t i = 0; i < old.cap; i++) {
        if (old.slots[i].key[0] != '\0' && keep(&old.slots[i], now_ms, burst)) {
            bool found;
            *table_find(t, old.slots[i].key, &found) = old.slots[i];
            t->used++;
        }
    }
    free(old.slots);
}

static bool keep_cached(const slot *s, int64_t now_ms, double burst)
{
    (void)burst;
    return s->stamp_ms > now_ms;
}

ingest_auth *ingest_auth_new(const ingest_auth_opts *opts)
{
    ingest_auth *a = vg_calloc(1, sizeof *a);
    a->opts = *opts;
    table_init(&a->cache, 256);
    table_init(&a->buckets, 256);
    return a;
}

void ingest_auth_destroy(ingest_auth *a)
{
    if (a == NULL) {
        return;
    }
    free(a->cache.slots);
    free(a->buckets.slots);
    free(a);
}

static const char LOOKUP_SQL[] =
    "SELECT c.id, c.tenant_id, t.plan, "
    "       (SELECT count(*) FROM clusters o WHERE o.tenant_id = c.tenant_id "
    "          AND (o.created_at, o.id) < (c.created_at, c.id)) AS earlier "
    "FROM clusters c JOIN tenants t ON t.id = c.tenant_id "
    "WHERE c.ingest_token_hash = $1";

static ingest_auth_status auth_lookup(ingest_auth *a, vg_db *db, const char *hash,
                                      ingest_principal *who)
{
    const char *params[] = {hash};
    PGresult *res = vg_db_exec(db, LOOKUP_SQL, 1, params);
    if (res == NULL) {
        return INGEST_AUTH_UNAVAILABLE;
    }
    ingest_auth_status st = INGEST_AUTH_UNKNOWN;
    if (PQntuples(res) == 1) {
        snprintf(who->cluster_id, sizeof who->cluster_id, "%s", PQgetvalue(res, 0, 0));
        snprintf(who->tenant_id, sizeof who->tenant_id, "%s", PQgetvalue(res, 0, 1));
        bool free_plan = strcmp(PQgetvalue(res, 0, 2), "free") == 0;
        long earlier = atol(PQgetvalue(res, 0, 3));
        st = (free_plan && earlier >= a->opts.free_clusters) ? INGEST_AUTH_PLAN : INGEST_AUTH_OK;
    }
    PQclear(res);
    return st;
}

ingest_auth_status ingest_auth_check(ingest_auth *a, vg_db *db, const char *token, int64_t now_ms,
                                     ingest_principal *out)
{
    char hash[65];
    vg_sha256_hex(token, strlen(token), hash);
    bool found;
    slot *s = table_find(&a->cache, hash, &found);
    if (found && s->stamp_ms > now_ms) {
        *out = s->who;
        return s->status;
    }
    ingest_principal who = {{0}, {0}};
    ingest_auth_status st = auth_lookup(a, db, hash, &who);
    if (st == INGEST_AUTH_UNAVAILABLE) {
        return st; /* not cached: the next request tries again */
    }
    if (!found) {
        table_make_room(&a->cache, keep_cached, now_ms, 0);
        s = table_find(&a->cache, hash, &found);
        a->cache.used++;
    }
    memcpy(s->key, hash, sizeof hash);
    s->stamp_ms = now_ms + a->opts.ttl_ms;
    s->status = st;
    s->who = who;
    *out = who;
    return st;
}

static bool keep_bucket(const slot *s, int64_t now_ms, double burst)
{
    (void)burst;
    return now_ms - s->stamp_ms < 60000; /* idle for a minute: it would be full again */
}

bool ingest_rate_take(ingest_auth *a, const char *cluster_id, int64_t now_ms, int *retry_after_s)
{
    bool found;
    slot *s = table_find(&a->buckets, cluster_id, &found);
    if (!found) {
        table_make_room(&a->buckets, keep_bucket, now_ms, a->opts.burst);
        s = table_find(&a->buckets, cluster_id, &found);
        snprintf(s->key, sizeof s->key, "%s", cluster_id);
        s->tokens = a->opts.burst;
        s->stamp_ms = now_ms;
        a->buckets.used++;
    }
    double elapsed = (double)(now_ms - s->stamp_ms) / 1000.0;
    if (elapsed > 0) {
        s->tokens = fmin(a->opts.burst, s->tokens + elapsed * a->opts.rate);
        s->stamp_ms = now_ms;
    }
    if (s->tokens >= 1.0) {
        s->tokens -= 1.0;
        return true;
    }
    double wait = (1.0 - s->tokens) / a->opts.rate;
    *retry_after_s = (int)ceil(wait) < 1 ? 1 : (int)ceil(wait);
    return false;
}
