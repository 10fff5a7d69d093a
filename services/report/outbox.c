/* The delivery worker thread: claim, send, record; plus the digest and report timers. */
#include "outbox.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "delivery.h"
#include "digest.h"
#include "tenant_report.h"
#include "vigil/alloc.h"
#include "vigil/db.h"
#include "vigil/log.h"
#include "vigil/metrics.h"
#include "vigil/util.h"

#define BATCH 64 /* rows sent per batch */

struct report_outbox {
    const report_ctx *ctx;
    vg_db *db;
    pthread_t thread;
    atomic_bool stop;
    int64_t next_digest_ms;
    int64_t next_report_ms;
    int64_t next_gauge_ms;
};

typedef struct claim {
    const report_ctx *ctx;
    delivery items[BATCH];
    int n;
    vg_buf cancelled; /* "{id,id}" uuid array literals */
    vg_buf throttled;
} claim;

long report_retry_delay_ms(long base_ms, long max_ms, int attempts, uint32_t rnd)
{
    long delay = base_ms;
    for (int i = 1; i < attempts && delay < max_ms; i++) {
        delay *= 2;
    }
    if (delay > max_ms) {
        delay = max_ms;
    }
    long half = delay / 2;
    return half + (long)(rnd % (uint32_t)(delay - half + 1));
}

/* The targets with due rows, oldest first; for each, its next rows (at most the
 * per-endpoint limit) locked with SKIP LOCKED; with the deliveries each target has in flight
 * and, for e-mails, what the tenant was sent in the last hour. */
static const char claim_sql[] =
    "WITH targets AS (SELECT target_id FROM report_outbox WHERE status = 'pending' "
    " AND next_attempt_at <= now() AND (leased_until IS NULL OR leased_until <= now()) "
    " GROUP BY target_id ORDER BY min(next_attempt_at) LIMIT 64), "
    "busy AS (SELECT target_id, count(*) AS n FROM report_outbox WHERE status = 'pending' "
    " AND leased_until IS NOT NULL AND leased_until > now() GROUP BY target_id) "
    "SELECT o.id, o.tenant_id, o.channel, o.target_id, o.event_type, o.attempts + 1, "
    "extract(epoch FROM now() - o.created_at)::bigint, "
    "CASE WHEN o.channel = 'webhook' THEN jsonb_build_object('id', o.id, 'type', o.event_type, "
    "'created_at', to_char(o.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
    "'tenant_id', o.tenant_id, 'finding', o.payload)::text ELSE o.payload::text END, "
    "w.url, w.secret, w.enabled, r.email, r.unsubscribed, coalesce(busy.n, 0), "
    "CASE WHEN o.channel = 'email' AND o.event_type <> 'digest' THEN (SELECT count(*) "
    " FROM report_outbox e WHERE e.tenant_id = o.tenant_id AND e.channel = 'email' "
    " AND e.event_type <> 'digest' AND e.status = 'delivered' "
    " AND e.delivered_at > now() - interval '1 hour') ELSE 0 END "
    "FROM targets t CROSS JOIN LATERAL (SELECT * FROM report_outbox x "
    " WHERE x.target_id = t.target_id AND x.status = 'pending' AND x.next_attempt_at <= now() "
    " AND (x.leased_until IS NULL OR x.leased_until <= now()) "
    " ORDER BY x.next_attempt_at, x.created_at LIMIT $1 FOR UPDATE SKIP LOCKED) o "
    "LEFT JOIN busy ON busy.target_id = o.target_id "
    "LEFT JOIN webhooks w ON o.channel = 'webhook' AND w.id = o.target_id "
    "LEFT JOIN email_recipients r ON o.channel = 'email' AND r.id = o.target_id "
    "ORDER BY o.next_attempt_at, o.created_at";

static void id_list_add(vg_buf *list, const char *id)
{
    vg_buf_puts(list, list->len == 0 ? "{" : ",");
    vg_buf_puts(list, id);
}

static int count_chosen(const claim *c, const char *key, bool by_tenant)
{
    int n = 0;
    for (int i = 0; i < c->n; i++) {
        const char *v = by_tenant ? c->items[i].tenant_id : c->items[i].target_id;
        bool email = strcmp(c->items[i].channel, "email") == 0 &&
                     strcmp(c->items[i].event_type, "digest") != 0;
        n += strcmp(v, key) == 0 && (!by_tenant || email);
    }
    return n;
}

static char *value(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : vg_strdup(PQgetvalue(res, row, col));
}

/* Decides one candidate row: 0 = take it, 1 = leave it for later, 2 = handled (cancelled or
 * throttled). */
static int claim_decide(claim *c, const PGresult *res, int row)
{
    const char *id = PQgetvalue(res, row, 0);
    bool webhook = strcmp(PQgetvalue(res, row, 2), "webhook") == 0;
    const char *event = PQgetvalue(res, row, 4);
    bool gone = webhook ? PQgetisnull(res, row, 8) || (strcmp(PQgetvalue(res, row, 10), "t") != 0 &&
                                                       strcmp(event, "webhook.test") != 0)
                        : PQgetisnull(res, row, 11) || strcmp(PQgetvalue(res, row, 12), "t") == 0;
    if (gone) {
        id_list_add(&c->cancelled, id);
        return 2;
    }
    long inflight = atol(PQgetvalue(res, row, 13));
    if (c->n == BATCH ||
        inflight + count_chosen(c, PQgetvalue(res, row, 3), false) >= c->ctx->per_endpoint) {
        return 1;
    }
    if (!webhook && strcmp(event, "digest") != 0 &&
        atol(PQgetvalue(res, row, 14)) + count_chosen(c, PQgetvalue(res, row, 1), true) >=
            c->ctx->email_hourly) {
        id_list_add(&c->throttled, id); /* the finding goes into the next digest instead */
        return 2;
    }
    return 0;
}

static void claim_take(claim *c, const PGresult *res, int row)
{
    delivery *d = &c->items[c->n++];
    memset(d, 0, sizeof *d);
    d->id = value(res, row, 0);
    d->tenant_id = value(res, row, 1);
    d->channel = value(res, row, 2);
    d->target_id = value(res, row, 3);
    d->event_type = value(res, row, 4);
    d->attempts = atoi(PQgetvalue(res, row, 5));
    d->age_s = atol(PQgetvalue(res, row, 6));
    d->body = value(res, row, 7);
    d->url = value(res, row, 8);
    d->secret = value(res, row, 9);
    d->email = value(res, row, 11);
}

static void claim_reset(claim *c)
{
    for (int i = 0; i < c->n; i++) {
        report_delivery_clear(&c->items[i]);
    }
    c->n = 0;
    vg_buf_reset(&c->cancelled);
    vg_buf_reset(&c->throttled);
}

static int mark_list(vg_db *db, const char *sql, vg_buf *list, const char *arg2)
{
    if (list->len == 0) {
        return 0;
    }
    vg_buf_puts(list, "}");
    const char *params[] = {list->data, arg2};
    return vg_db_cmd(db, sql, arg2 ? 2 : 1, params);
}

static int claim_tx(vg_db *db, void *arg)
{
    claim *c = arg;
    claim_reset(c); /* a retried transaction starts over */
    char limit[16];
    snprintf(limit, sizeof limit, "%ld", c->ctx->per_endpoint);
    const char *params[] = {limit};
    PGresult *res = vg_db_exec(db, claim_sql, 1, params);
    if (res == NULL) {
        return -1;
    }
    vg_buf ids = {0};
    for (int row = 0; row < PQntuples(res); row++) {
        if (claim_decide(c, res, row) == 0) {
            claim_take(c, res, row);
            id_list_add(&ids, PQgetvalue(res, row, 0));
        }
    }
    PQclear(res);
    char lease[32];
    snprintf(lease, sizeof lease, "%ld", c->ctx->lease_s);
    int rc = mark_list(db,
                       "UPDATE report_outbox SET attempts = attempts + 1, "
                       "leased_until = now() + make_interval(secs => $2::int) "
                       "WHERE id = ANY($1::uuid[])",
                       &ids, lease);
    vg_buf_free(&ids);
    if (rc == 0) {
        rc = mark_list(db,
                       "UPDATE report_outbox SET status = 'cancelled', leased_until = NULL, "
                       "last_error = 'target removed, disabled or unsubscribed' "
                       "WHERE id = ANY($1::uuid[])",
                       &c->cancelled, NULL);
    }
    if (rc == 0) {
        rc = mark_list(db,
                       "UPDATE report_outbox SET status = 'throttled', leased_until = NULL, "
                       "last_error = 'tenant e-mail limit reached: in the next digest' "
                       "WHERE id = ANY($1::uuid[])",
                       &c->throttled, NULL);
    }
    return rc;
}

static void record(report_outbox *ob, const delivery *d)
{
    const report_ctx *ctx = ob->ctx;
    char code[16];
    snprintf(code, sizeof code, "%ld", d->code);
    int rc;
    if (d->ok) {
        const char *params[] = {d->id, code};
        rc = vg_db_cmd(ob->db,
                       "UPDATE report_outbox SET status = 'delivered', delivered_at = now(), "
                       "leased_until = NULL, last_status = $2::int, last_error = NULL "
                       "WHERE id = $1",
                       2, params);
    } else {
        uint32_t rnd;
        vg_random_bytes(&rnd, sizeof rnd);
        long delay = report_retry_delay_ms(ctx->retry_base_ms, ctx->retry_max_ms, d->attempts, rnd);
        bool dead = d->age_s * 1000 + delay > ctx->max_age_s * 1000;
        char delay_s[32];
        snprintf(delay_s, sizeof delay_s, "%.3f", (double)delay / 1000.0);
        const char *params[] = {d->id, code, d->error, delay_s, dead ? "dead" : "pending"};
        rc = vg_db_cmd(ob->db,
                       "UPDATE report_outbox SET status = $5, leased_until = NULL, "
                       "last_status = NULLIF($2::int, 0), last_error = $3, "
                       "next_attempt_at = now() + make_interval(secs => $4::float8) "
                       "WHERE id = $1",
                       5, params);
        if (dead) {
            vg_counter_inc(vg_counter_get("vigil_report_deliveries_dead_total",
                                          "deliveries marked dead (too old to retry)", NULL));
        }
        vg_warn(dead ? "delivery dead" : "delivery failed, will retry", "delivery_id", d->id,
                "tenant_id", d->tenant_id, "channel", d->channel, "error", d->error);
    }
    char labels[96];
    snprintf(labels, sizeof labels, "channel=\"%s\",outcome=\"%s\"", d->channel,
             d->ok ? "delivered" : "failed");
    vg_counter_inc(vg_counter_get("vigil_report_deliveries_total", "delivery attempts", labels));
    if (rc != 0) {
        vg_error("cannot record a delivery outcome (the lease will expire and it is retried)",
                 "delivery_id", d->id, "error", vg_db_error(ob->db));
    }
}

/* One claim + send + record round. Returns the number of deliveries attempted. */
static int outbox_round(report_outbox *ob, claim *c)
{
    int64_t t0 = vg_now_ms();
    if (vg_db_tx(ob->db, NULL, claim_tx, c) != 0) {
        claim_reset(c);
        return -1;
    }
    if (c->n > 0) {
        int64_t t1 = vg_now_ms();
        report_deliveries_send(ob->ctx, ob->db, c->items, c->n);
        int64_t t2 = vg_now_ms();
        for (int i = 0; i < c->n; i++) {
            record(ob, &c->items[i]);
        }
        char n[16], claim_ms[24], send_ms[24], record_ms[24];
        snprintf(n, sizeof n, "%d", c->n);
        snprintf(claim_ms, sizeof claim_ms, "%lld", (long long)(t1 - t0));
        snprintf(send_ms, sizeof send_ms, "%lld", (long long)(t2 - t1));
        snprintf(record_ms, sizeof record_ms, "%lld", (long long)(vg_now_ms() - t2));
        vg_debug("delivery batch", "count", n, "claim_ms", claim_ms, "send_ms", send_ms,
                 "record_ms", record_ms);
    }
    int n = c->n;
    claim_reset(c);
    return n;
}

static void sleep_ms(report_outbox *ob, long ms)
{
    while (ms > 0 && !atomic_load(&ob->stop)) {
        long step = ms < 50 ? ms : 50;
        struct timespec ts = {0, step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

/* The pending backlog as a gauge (cheap: a partial index holds exactly those rows). */
static void update_gauge(report_outbox *ob)
{
    PGresult *res =
        vg_db_exec(ob->db, "SELECT count(*) FROM report_outbox WHERE status = 'pending'", 0, NULL);
    if (res != NULL && PQntuples(res) == 1) {
        vg_gauge_set(vg_gauge_get("vigil_report_outbox_pending", "deliveries waiting", NULL),
                     atoll(PQgetvalue(res, 0, 0)));
    }
    PQclear(res);
}

static void run_timers(report_outbox *ob)
{
    int64_t now = vg_now_ms();
    const report_ctx *ctx = ob->ctx;
    if (now >= ob->next_gauge_ms) {
        ob->next_gauge_ms = now + 5000;
        update_gauge(ob);
    }
    if (now >= ob->next_digest_ms) {
        long period = ctx->digest_interval_s < 60 ? ctx->digest_interval_s : 60;
        ob->next_digest_ms = now + period * 1000;
        if (report_digest_queue_due(ob->db, ctx) < 0) {
            vg_warn("digest round failed", "error", vg_db_error(ob->db));
        }
    }
    if (now >= ob->next_report_ms) {
        long period = ctx->report_interval_s < 60 ? ctx->report_interval_s : 60;
        ob->next_report_ms = now + period * 1000;
        if (report_tenant_generate_due(ob->db, ctx, ctx->report_interval_s) < 0) {
            vg_warn("tenant report round failed", "error", vg_db_error(ob->db));
        }
        /* envelope ids older than any Kafka redelivery can be (retention 7 days) */
        if (vg_db_cmd(ob->db,
                      "DELETE FROM report_processed WHERE processed_at < now() - "
                      "interval '14 days'",
                      0, NULL) != 0) {
            vg_warn("pruning processed envelope ids failed", "error", vg_db_error(ob->db));
        }
    }
}

static void *outbox_main(void *arg)
{
    report_outbox *ob = arg;
    claim *c = vg_calloc(1, sizeof *c);
    c->ctx = ob->ctx;
    vg_info("delivery worker started");
    while (!atomic_load(&ob->stop)) {
        run_timers(ob);
        int n = outbox_round(ob, c);
        if (n <= 0) {
            sleep_ms(ob, n < 0 ? 1000 : ob->ctx->poll_ms);
        }
    }
    claim_reset(c);
    vg_buf_free(&c->cancelled);
    vg_buf_free(&c->throttled);
    free(c);
    vg_info("delivery worker stopped");
    return NULL;
}

report_outbox *report_outbox_start(const report_ctx *ctx, const char *database_url, char *errbuf,
                                   size_t errlen)
{
    report_outbox *ob = vg_calloc(1, sizeof *ob);
    ob->ctx = ctx;
    ob->db = vg_db_new(database_url, NULL);
    atomic_init(&ob->stop, false);
    int64_t now = vg_now_ms();
    ob->next_digest_ms = now + (ctx->digest_interval_s < 60 ? ctx->digest_interval_s : 60) * 1000;
    ob->next_report_ms = now + 2000; /* a first report soon after start-up */
    if (pthread_create(&ob->thread, NULL, outbox_main, ob) != 0) {
        snprintf(errbuf, errlen, "cannot start the delivery thread");
        vg_db_destroy(ob->db);
        free(ob);
        return NULL;
    }
    return ob;
}

void report_outbox_stop(report_outbox *ob)
{
    if (ob == NULL) {
        return;
    }
    atomic_store(&ob->stop, true);
    pthread_join(ob->thread, NULL);
    vg_db_destroy(ob->db);
    free(ob);
}
