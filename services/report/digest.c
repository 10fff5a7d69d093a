/* Digest scheduling: the outbox sends what this queues. */
#include "digest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/log.h"

typedef struct digest_job {
    const report_ctx *ctx;
    const char *recipient_id;
    const char *tenant_id;
    char interval[32];
    bool queued;
} digest_job;

static int digest_tx(vg_db *db, void *arg)
{
    digest_job *j = arg;
    j->queued = false;
    /* the state row, locked: another replica doing the same recipient waits, then sees
     * that it is no longer due */
    const char *p3[] = {j->recipient_id, j->tenant_id, j->interval};
    PGresult *res = vg_db_exec(
        db,
        "INSERT INTO report_digest_state AS s (recipient_id, tenant_id, last_sent_at) "
        "SELECT r.id, r.tenant_id, r.created_at FROM email_recipients r WHERE r.id = $1 "
        "ON CONFLICT (recipient_id) DO UPDATE SET last_sent_at = s.last_sent_at "
        "RETURNING to_char(last_sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
        "last_sent_at <= now() - make_interval(secs => $3::int) AND $2::uuid = tenant_id",
        3, p3);
    if (res == NULL || PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
        int rc = res == NULL ? -1 : 0;
        PQclear(res);
        return rc;
    }
    char since[40];
    snprintf(since, sizeof since, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    const char *p4[] = {j->recipient_id, j->tenant_id, j->ctx->public_url, since};
    res = vg_db_exec(
        db,
        "INSERT INTO report_outbox (tenant_id, channel, target_id, event_type, payload) "
        "SELECT $2, 'email', $1, 'digest', jsonb_build_object('since', $4::text, 'findings', "
        "jsonb_agg(report_finding_json(f, $3) ORDER BY f.first_seen, f.id)) "
        "FROM findings f WHERE f.tenant_id = $2 AND f.status = 'open' "
        "AND f.first_seen > $4::timestamptz AND NOT EXISTS (SELECT 1 FROM report_outbox o "
        "WHERE o.finding_id = f.id AND o.channel = 'email' AND o.target_id = $1 "
        "AND o.status IN ('pending', 'delivered')) HAVING count(*) > 0 RETURNING id",
        4, p4);
    if (res == NULL) {
        return -1;
    }
    j->queued = PQntuples(res) == 1;
    PQclear(res);
    const char *p1[] = {j->recipient_id};
    return vg_db_cmd(
        db, "UPDATE report_digest_state SET last_sent_at = now() WHERE recipient_id = $1", 1, p1);
}

int report_digest_queue_due(vg_db *db, const report_ctx *ctx)
{
    char interval[32];
    snprintf(interval, sizeof interval, "%ld", ctx->digest_interval_s);
    const char *params[] = {interval};
    PGresult *res = vg_db_exec(
        db,
        "SELECT r.id, r.tenant_id FROM email_recipients r LEFT JOIN report_digest_state s "
        "ON s.recipient_id = r.id WHERE NOT r.unsubscribed "
        "AND coalesce(s.last_sent_at, r.created_at) <= now() - make_interval(secs => $1::int) "
        "ORDER BY r.id LIMIT 500",
        1, params);
    if (res == NULL) {
        return -1;
    }
    int queued = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        digest_job j = {
            .ctx = ctx, .recipient_id = PQgetvalue(res, i, 0), .tenant_id = PQgetvalue(res, i, 1)};
        snprintf(j.interval, sizeof j.interval, "%s", interval);
        if (vg_db_tx(db, NULL, digest_tx, &j) == 0 && j.queued) {
            queued++;
            vg_info("digest queued", "tenant_id", j.tenant_id, "recipient_id", j.recipient_id);
        }
    }
    PQclear(res);
    return queued;
}
