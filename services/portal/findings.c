/* Findings (see findings.h). Pages are ordered by (first_seen DESC, id DESC); the cursor is
 * the base64url JSON {"t": first_seen, "id": id} of the last finding of the previous page. */
#include "findings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "json_util.h"
#include "vigil/alloc.h"
#include "vigil/log.h"
#include "vigil/util.h"

static const char *const severities[] = {"info", "low", "medium", "high", "critical", NULL};
static const char *const statuses[] = {"open", "resolved", "suppressed", NULL};

static bool word_allowed(const char *w, size_t len, const char *const *allowed)
{
    for (size_t i = 0; allowed[i]; i++) {
        if (strlen(allowed[i]) == len && strncmp(allowed[i], w, len) == 0) {
            return true;
        }
    }
    return false;
}

bool portal_filter_list(const char *value, const char *const *allowed, char *out, size_t outlen)
{
    vg_buf b = {0};
    vg_buf_puts(&b, "{");
    bool ok = value[0] != '\0';
    for (const char *p = value; ok && *p;) {
        size_t len = strcspn(p, ",");
        ok = word_allowed(p, len, allowed);
        vg_buf_printf(&b, "%s%.*s", b.len > 1 ? "," : "", (int)len, p);
        p += len;
        if (*p == ',') {
            p++;
            ok = ok && *p != '\0';
        }
    }
    vg_buf_puts(&b, "}");
    ok = ok && b.len < outlen;
    if (ok) {
        snprintf(out, outlen, "%s", b.data);
    }
    vg_buf_free(&b);
    return ok;
}

typedef struct findings_filter {
    char severity[128], status[64];
    const char *category, *source, *cluster_id;
    char cursor_t[64], cursor_id[VG_UUID_LEN + 1];
    char limit[16];
    long nlimit;
} findings_filter;

/* Decodes the cursor; false when it is not one of ours. */
static bool cursor_decode(const char *cursor, findings_filter *f)
{
    size_t len = 0;
    unsigned char *raw = vg_base64_decode(cursor, strlen(cursor), &len);
    json_t *j = raw ? json_loadb((const char *)raw, len, 0, NULL) : NULL;
    free(raw);
    const char *t = json_string_value(json_object_get(j, "t"));
    const char *id = json_string_value(json_object_get(j, "id"));
    bool ok = t && id && vg_uuid_valid(id) && strlen(t) < sizeof f->cursor_t &&
              strspn(t, "0123456789-:.+ T") == strlen(t) && t[0] != '\0';
    if (ok) {
        snprintf(f->cursor_t, sizeof f->cursor_t, "%s", t);
        snprintf(f->cursor_id, sizeof f->cursor_id, "%s", id);
    }
    json_decref(j);
    return ok;
}

static bool filter_parse(vg_http_req *req, findings_filter *f)
{
    memset(f, 0, sizeof *f);
    const char *sev = vg_http_query(req, "severity"), *st = vg_http_query(req, "status");
    const char *limit = vg_http_query(req, "limit"), *cursor = vg_http_query(req, "cursor");
    f->category = vg_http_query(req, "category");
    f->source = vg_http_query(req, "source");
    f->cluster_id = vg_http_query(req, "cluster_id");
    f->nlimit = 50;
    const char *bad = NULL;
    if (sev && !portal_filter_list(sev, severities, f->severity, sizeof f->severity)) {
        bad = "severity must be info, low, medium, high or critical (comma-separated)";
    } else if (st && !portal_filter_list(st, statuses, f->status, sizeof f->status)) {
        bad = "status must be open, resolved or suppressed (comma-separated)";
    } else if ((f->category && strlen(f->category) > 200) ||
               (f->source && strlen(f->source) > 100)) {
        bad = "category or source is too long";
    } else if (f->cluster_id && !vg_uuid_valid(f->cluster_id)) {
        bad = "cluster_id must be a UUID";
    } else if (limit &&
               (sscanf(limit, "%ld", &f->nlimit) != 1 || f->nlimit < 1 || f->nlimit > 500)) {
        bad = "limit must be between 1 and 500";
    } else if (cursor && !cursor_decode(cursor, f)) {
        bad = "invalid cursor (use next_cursor of the previous page)";
    }
    if (bad != NULL) {
        vg_http_reply_error(req, 400, "invalid_query", "%s", bad);
        return false;
    }
    snprintf(f->limit, sizeof f->limit, "%ld", f->nlimit);
    return true;
}

#define FINDING_JSON "(to_jsonb(f) - 'tenant_id')"

static const char findings_sql[] =
    "WITH page AS (SELECT f.* FROM findings f "
    "WHERE ($1::text[] IS NULL OR f.severity = ANY($1::text[])) "
    "AND ($2::text[] IS NULL OR f.status = ANY($2::text[])) "
    "AND ($3::text IS NULL OR f.category = $3) AND ($4::text IS NULL OR f.source = $4) "
    "AND ($5::uuid IS NULL OR f.cluster_id = $5::uuid) "
    "AND ($6::timestamptz IS NULL OR (f.first_seen, f.id) < ($6::timestamptz, $7::uuid)) "
    "ORDER BY f.first_seen DESC, f.id DESC LIMIT $8::int + 1), "
    "shown AS (SELECT * FROM page f ORDER BY f.first_seen DESC, f.id DESC LIMIT $8::int) "
    "SELECT jsonb_build_object("
    "'findings', coalesce((SELECT jsonb_agg(" FINDING_JSON
    " ORDER BY f.first_seen DESC, f.id DESC) FROM shown f), '[]'), "
    "'next', CASE WHEN (SELECT count(*) FROM page) > $8::int THEN "
    "(SELECT jsonb_build_object('t', f.first_seen::text, 'id', f.id) FROM shown f "
    "ORDER BY f.first_seen ASC, f.id ASC LIMIT 1) END)";

void portal_findings_list(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    findings_filter f;
    if (!portal_auth_require(ctx, req, &auth) || !filter_parse(req, &f)) {
        return;
    }
    portal_query q = {.sql = findings_sql,
                      .nparams = 8,
                      .params = {f.severity[0] ? f.severity : NULL, f.status[0] ? f.status : NULL,
                                 f.category, f.source, f.cluster_id,
                                 f.cursor_t[0] ? f.cursor_t : NULL,
                                 f.cursor_id[0] ? f.cursor_id : NULL, f.limit}};
    if (portal_query_run(ctx->db, auth.tenant_id, &q) != 0 || q.out == NULL) {
        json_decref(q.out);
        portal_reply_db_error(req, ctx->db, NULL);
        return;
    }
    json_t *next = json_object_get(q.out, "next");
    if (json_is_object(next)) {
        char *text = json_dumps(next, JSON_COMPACT);
        char *cursor = vg_base64url_encode((const unsigned char *)text, strlen(text));
        json_object_set_new(q.out, "next_cursor", json_string(cursor));
        free(cursor);
        free(text);
    } else {
        json_object_set_new(q.out, "next_cursor", json_null());
    }
    json_object_del(q.out, "next");
    vg_http_reply_json(req, 200, q.out);
}

void portal_finding_get(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    json_t *f =
        portal_query_by_id(ctx->db, req, auth.tenant_id,
                           "SELECT " FINDING_JSON " FROM findings f WHERE f.id = $1", "finding");
    if (f != NULL) {
        vg_http_reply_json(req, 200, f);
    }
}

void portal_finding_patch(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    const char *id = portal_param_uuid(req, "id");
    json_t *body = id ? portal_body_object(req) : NULL;
    const char *status;
    if (body == NULL || !portal_field_string(req, body, "status", true, 20, &status)) {
        json_decref(body);
        return;
    }
    if (!word_allowed(status, strlen(status), statuses)) {
        vg_http_reply_error(req, 400, "invalid_field",
                            "field \"status\" must be open, resolved or suppressed");
    } else {
        portal_query q = {
            .sql =
                "UPDATE findings f SET status = $2, resolved_at = CASE WHEN $2 = 'resolved' "
                "THEN coalesce(f.resolved_at, now()) END WHERE f.id = $1 RETURNING " FINDING_JSON,
            .nparams = 2,
            .params = {id, status}};
        if (portal_query_run(ctx->db, auth.tenant_id, &q) != 0) {
            portal_reply_db_error(req, ctx->db, NULL);
        } else if (q.out == NULL) {
            vg_http_reply_error(req, 404, "not_found", "no such finding");
        } else {
            vg_info("finding status changed", "tenant_id", auth.tenant_id, "finding_id", id,
                    "status", status);
            vg_http_reply_json(req, 200, q.out);
        }
    }
    json_decref(body);
}
