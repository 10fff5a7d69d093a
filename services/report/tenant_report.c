/* Tenant reports: one SQL statement computes the JSON, C renders the page. */
#include "tenant_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "vigil/alloc.h"
#include "vigil/log.h"

#define TS_FMT "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'"

static const char report_sql[] =
    "WITH f AS (SELECT * FROM findings WHERE tenant_id = $1), "
    "o AS (SELECT * FROM f WHERE status = 'open') "
    "SELECT jsonb_build_object("
    "'tenant_id', $1::uuid, "
    "'tenant', (SELECT name FROM tenants WHERE id = $1), "
    "'generated_at', to_char(now() AT TIME ZONE 'UTC', " TS_FMT "), "
    "'previous_report_at', (SELECT to_char(max(generated_at) AT TIME ZONE 'UTC', " TS_FMT ") "
    "  FROM tenant_reports WHERE tenant_id = $1), "
    "'totals', jsonb_build_object('open', (SELECT count(*) FROM o), "
    "  'resolved', (SELECT count(*) FROM f WHERE status = 'resolved'), "
    "  'suppressed', (SELECT count(*) FROM f WHERE status = 'suppressed')), "
    "'by_severity', (SELECT jsonb_build_object("
    "  'critical', count(*) FILTER (WHERE severity = 'critical'), "
    "  'high', count(*) FILTER (WHERE severity = 'high'), "
    "  'medium', count(*) FILTER (WHERE severity = 'medium'), "
    "  'low', count(*) FILTER (WHERE severity = 'low'), "
    "  'info', count(*) FILTER (WHERE severity = 'info')) FROM o), "
    "'by_category', (SELECT coalesce(jsonb_agg(jsonb_build_object('category', category, "
    "  'count', n) ORDER BY n DESC, category), '[]') "
    "  FROM (SELECT category, count(*) AS n FROM o GROUP BY category) s), "
    "'by_cluster', (SELECT coalesce(jsonb_agg(jsonb_build_object('cluster_id', cluster_id, "
    "  'cluster', coalesce(name, '(no cluster)'), 'count', n) ORDER BY n DESC, name), '[]') "
    "  FROM (SELECT o.cluster_id, c.name, count(*) AS n FROM o LEFT JOIN clusters c "
    "  ON c.id = o.cluster_id GROUP BY o.cluster_id, c.name) s), "
    "'top_risks', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'rule_id', rule_id, "
    "  'title', title, 'severity', severity, 'category', category, 'source', source, "
    "  'object', object, 'occurrences', occurrences, "
    "  'first_seen', to_char(first_seen AT TIME ZONE 'UTC', " TS_FMT ")) ORDER BY rank DESC, "
    "  last_seen DESC, id), '[]') FROM (SELECT *, array_position(ARRAY['info', 'low', "
    "  'medium', 'high', 'critical'], severity) AS rank FROM o "
    "  ORDER BY rank DESC, last_seen DESC, id LIMIT 10) t), "
    "'changes', jsonb_build_object('window_days', 7, "
    "  'opened', (SELECT count(*) FROM f WHERE first_seen > now() - interval '7 days'), "
    "  'resolved', (SELECT count(*) FROM f WHERE status = 'resolved' "
    "    AND resolved_at > now() - interval '7 days'), "
    "  'opened_previous_week', (SELECT count(*) FROM f WHERE first_seen <= now() - "
    "    interval '7 days' AND first_seen > now() - interval '14 days'), "
    "  'resolved_previous_week', (SELECT count(*) FROM f WHERE status = 'resolved' AND "
    "    resolved_at <= now() - interval '7 days' AND resolved_at > now() - interval '14 days'))"
    ")::text";

static void html_row(vg_buf *out, const char *label, json_int_t n, const char *cls)
{
    vg_buf_printf(out, "<tr><td class=\"%s\">", cls);
    report_html_escape(out, label);
    vg_buf_printf(out, "</td><td class=\"n\">%lld</td></tr>\n", (long long)n);
}

static void html_counts(vg_buf *out, const char *title, const json_t *list, const char *key)
{
    vg_buf_puts(out, "<h2>");
    report_html_escape(out, title);
    vg_buf_puts(out, "</h2>\n<table>\n");
    size_t i;
    const json_t *item;
    json_array_foreach(list, i, item)
    {
        html_row(out, json_string_value(json_object_get(item, key)),
                 json_integer_value(json_object_get(item, "count")), "");
    }
    if (json_array_size(list) == 0) {
        vg_buf_puts(out, "<tr><td>No open findings.</td><td></td></tr>\n");
    }
    vg_buf_puts(out, "</table>\n");
}

static void html_top(vg_buf *out, const json_t *top)
{
    vg_buf_puts(out, "<h2>Top risks</h2>\n<table>\n<tr><th>Severity</th><th>Rule</th>"
                     "<th>Finding</th><th>Object</th></tr>\n");
    size_t i;
    const json_t *f;
    json_array_foreach(top, i, f)
    {
        const char *sev = json_string_value(json_object_get(f, "severity"));
        const json_t *obj = json_object_get(f, "object");
        vg_buf_puts(out, "<tr><td class=\"sev-");
        report_html_escape(out, sev);
        vg_buf_puts(out, "\">");
        report_html_escape(out, sev);
        vg_buf_puts(out, "</td><td>");
        report_html_escape(out, json_string_value(json_object_get(f, "rule_id")));
        vg_buf_puts(out, "</td><td>");
        report_html_escape(out, json_string_value(json_object_get(f, "title")));
        vg_buf_puts(out, "</td><td>");
        const char *parts[] = {"kind", "namespace", "name", "service", "method", "path"};
        for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) {
            const char *v = json_string_value(json_object_get(obj, parts[k]));
            if (v != NULL && v[0] != '\0') {
                report_html_escape(out, v);
                vg_buf_puts(out, " ");
            }
        }
        vg_buf_puts(out, "</td></tr>\n");
    }
    vg_buf_puts(out, "</table>\n");
}

static const char page_css[] =
    "body{font-family:system-ui,sans-serif;margin:2em;color:#1d2330}"
    "table{border-collapse:collapse;margin-bottom:1.5em}"
    "td,th{border:1px solid #d0d4dc;padding:.3em .7em;text-align:left}"
    "td.n{text-align:right}.sev-critical{color:#fff;background:#8b0000}"
    ".sev-high{color:#fff;background:#c0392b}.sev-medium{background:#f5b041}"
    ".sev-low{background:#f9e79f}.sev-info{background:#eaecee}";

char *report_tenant_html(const json_t *data)
{
    vg_buf out = {0};
    const char *tenant = json_string_value(json_object_get(data, "tenant"));
    vg_buf_puts(&out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                      "<title>Vigil security report</title><style>");
    vg_buf_puts(&out, page_css);
    vg_buf_puts(&out, "</style></head><body>\n<h1>Security report: ");
    report_html_escape(&out, tenant ? tenant : "tenant");
    vg_buf_puts(&out, "</h1>\n<p>Generated ");
    report_html_escape(&out, json_string_value(json_object_get(data, "generated_at")));
    vg_buf_puts(&out, "</p>\n<h2>Open findings by severity</h2>\n<table>\n");
    const json_t *sev = json_object_get(data, "by_severity");
    static const char *const names[] = {"critical", "high", "medium", "low", "info"};
    for (size_t i = 0; i < 5; i++) {
        char cls[32];
        snprintf(cls, sizeof cls, "sev-%s", names[i]);
        html_row(&out, names[i], json_integer_value(json_object_get(sev, names[i])), cls);
    }
    vg_buf_puts(&out, "</table>\n");
    html_counts(&out, "By category", json_object_get(data, "by_category"), "category");
    html_counts(&out, "By cluster", json_object_get(data, "by_cluster"), "cluster");
    html_top(&out, json_object_get(data, "top_risks"));
    const json_t *ch = json_object_get(data, "changes");
    vg_buf_printf(&out,
                  "<h2>Changes</h2>\n<table>\n<tr><th></th><th>Last 7 days</th>"
                  "<th>Previous 7 days</th></tr>\n<tr><td>Opened</td><td class=\"n\">%lld</td>"
                  "<td class=\"n\">%lld</td></tr>\n<tr><td>Resolved</td><td class=\"n\">%lld"
                  "</td><td class=\"n\">%lld</td></tr>\n</table>\n</body></html>\n",
                  (long long)json_integer_value(json_object_get(ch, "opened")),
                  (long long)json_integer_value(json_object_get(ch, "opened_previous_week")),
                  (long long)json_integer_value(json_object_get(ch, "resolved")),
                  (long long)json_integer_value(json_object_get(ch, "resolved_previous_week")));
    return vg_buf_steal(&out);
}

int report_tenant_generate(vg_db *db, const report_ctx *ctx, const char *tenant_id)
{
    (void)ctx;
    const char *params[] = {tenant_id, NULL, NULL};
    PGresult *res = vg_db_exec(db, report_sql, 1, params);
    if (res == NULL || PQntuples(res) != 1) {
        PQclear(res);
        return -1;
    }
    json_t *data = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
    PQclear(res);
    if (data == NULL) {
        return -1;
    }
    char *text = json_dumps(data, JSON_COMPACT);
    char *html = report_tenant_html(data);
    json_decref(data);
    params[1] = text;
    params[2] = html;
    int rc = vg_db_cmd(db,
                       "INSERT INTO tenant_reports (tenant_id, data, html) "
                       "VALUES ($1, $2::jsonb, $3)",
                       3, params);
    free(text);
    free(html);
    if (rc == 0) {
        vg_info("tenant report generated", "tenant_id", tenant_id);
    }
    return rc;
}

typedef struct gen_arg {
    const report_ctx *ctx;
    const char *tenant_id;
} gen_arg;

static int gen_tx(vg_db *db, void *arg)
{
    gen_arg *g = arg;
    return report_tenant_generate(db, g->ctx, g->tenant_id);
}

int report_tenant_generate_due(vg_db *db, const report_ctx *ctx, long max_age_s)
{
    char age[32];
    snprintf(age, sizeof age, "%ld", max_age_s);
    const char *params[] = {age};
    PGresult *res = vg_db_exec(
        db,
        "SELECT t.id FROM tenants t WHERE NOT EXISTS (SELECT 1 FROM tenant_reports r "
        "WHERE r.tenant_id = t.id AND r.generated_at > now() - make_interval(secs => $1::int)) "
        "ORDER BY t.id LIMIT 200",
        1, params);
    if (res == NULL) {
        return -1;
    }
    int done = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        gen_arg g = {ctx, PQgetvalue(res, i, 0)};
        if (vg_db_tx(db, NULL, gen_tx, &g) == 0) {
            done++;
        }
    }
    PQclear(res);
    return done;
}
