/* POST /v1/traces and POST /v1/scans: admission, body decoding, validation, publishing. */
#include "edge.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gzip.h"
#include "scans.h"
#include "traces.h"
#include "vigil/alloc.h"
#include "vigil/kafka.h"
#include "vigil/log.h"
#include "vigil/metrics.h"

#define SCAN_MESSAGE_MAX (4 * 1024 * 1024 - 4096)

struct ingest_edge {
    ingest_edge_opts opts;
    ingest_auth *auth;
    ingest_producer *producer;
    vg_db *db;
    vg_counter *accepted;
    vg_counter *rejected;
    vg_counter *scans;
};

/* A request waiting for Kafka's acknowledgements of its messages. */
typedef struct pending {
    ingest_edge *edge;
    vg_http_req *req;
    size_t total;     /* messages produced for the request */
    size_t remaining; /* reports still expected */
    size_t failed;
    size_t records;  /* accepted records (traces) */
    char error[160]; /* first failure */
    json_t *summary; /* the 202 body */
} pending;

ingest_edge *ingest_edge_new(const ingest_edge_opts *opts, ingest_auth *auth,
                             ingest_producer *producer, vg_db *db)
{
    ingest_edge *e = vg_calloc(1, sizeof *e);
    e->opts = *opts;
    e->auth = auth;
    e->producer = producer;
    e->db = db;
    /* Auth lookups run on the loop thread: never sleep on a dead database (503 instead). */
    if (db) {
        vg_db_set_exec_wait(db, 0);
    }
    e->accepted = vg_counter_get("vigil_ingest_records_total",
                                 "Trace records by outcome (accepted = acknowledged by Kafka).",
                                 "result=\"accepted\"");
    e->rejected = vg_counter_get("vigil_ingest_records_total",
                                 "Trace records by outcome (accepted = acknowledged by Kafka).",
                                 "result=\"rejected\"");
    e->scans = vg_counter_get("vigil_ingest_scan_reports_total",
                              "Scanner reports acknowledged by Kafka.", NULL);
    return e;
}

void ingest_edge_destroy(ingest_edge *edge)
{
    free(edge);
}

/* ---- admission ----------------------------------------------------------------------- */

static const char *bearer_token(vg_http_req *req)
{
    const char *h = vg_http_header(req, "Authorization");
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
        return NULL;
    }
    const char *t = h + 7;
    while (*t == ' ') {
        t++;
    }
    size_t n = strlen(t);
    if (n == 0 || n > 512) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isgraph((unsigned char)t[i])) {
            return NULL;
        }
    }
    return t;
}

/* Authenticates and rate-limits; replies itself and returns false when refused. */
static bool edge_admit(ingest_edge *e, vg_http_req *req, ingest_principal *who)
{
    const char *token = bearer_token(req);
    if (token == NULL) {
        vg_http_set_header(req, "WWW-Authenticate", "Bearer");
        vg_http_reply_error(req, 401, "unauthorized",
                            "missing or malformed Authorization: Bearer <ingest token>");
        return false;
    }
    int64_t now = vg_now_ms();
    switch (ingest_auth_check(e->auth, e->db, token, now, who)) {
    case INGEST_AUTH_OK:
        break;
    case INGEST_AUTH_UNKNOWN:
        vg_http_set_header(req, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
        vg_http_reply_error(req, 401, "unauthorized", "unknown or revoked ingest token");
        return false;
    case INGEST_AUTH_PLAN:
        vg_http_reply_error(req, 402, "plan_limit",
                            "this cluster is beyond the clusters the tenant's free plan "
                            "covers: upgrade the plan or remove a cluster");
        return false;
    default:
        vg_http_reply_error(req, 503, "unavailable", "database unavailable, retry later");
        return false;
    }
    int retry = 1;
    if (!ingest_rate_take(e->auth, who->cluster_id, now, &retry)) {
        char value[16];
        snprintf(value, sizeof value, "%d", retry);
        vg_http_set_header(req, "Retry-After", value);
        vg_http_reply_error(req, 429, "rate_limited",
                            "too many requests for this cluster: retry after %d s", retry);
        return false;
    }
    return true;
}

/* Points *body at the decoded body (gunzipped into buf when needed); replies and returns
 * false on a bad encoding or an oversized result. */
static bool edge_body(ingest_edge *e, vg_http_req *req, vg_buf *buf, const char **body, size_t *len)
{
    const char *enc = vg_http_header(req, "Content-Encoding");
    if (enc == NULL || enc[0] == '\0' || strcasecmp(enc, "identity") == 0) {
        if (req->body_len > e->opts.max_decoded) {
            vg_http_reply_error(req, 413, "payload_too_large",
                                "request body is larger than %zu bytes", e->opts.max_decoded);
            return false;
        }
        *body = (const char *)req->body;
        *len = req->body_len;
        return true;
    }
    if (strcasecmp(enc, "gzip") != 0 && strcasecmp(enc, "x-gzip") != 0) {
        vg_http_reply_error(req, 415, "unsupported_encoding",
                            "Content-Encoding %s is not supported (use gzip or none)", enc);
        return false;
    }
    int rc = ingest_gunzip(req->body, req->body_len, e->opts.max_decoded, buf);
    if (rc == INGEST_GUNZIP_TOO_LARGE) {
        vg_http_reply_error(req, 413, "payload_too_large",
                            "decompressed body is larger than %zu bytes", e->opts.max_decoded);
        return false;
    }
    if (rc != 0) {
        vg_http_reply_error(req, 400, "invalid_encoding", "body is not valid gzip data");
        return false;
    }
    *body = buf->data != NULL ? buf->data : "";
    *len = buf->len;
    return true;
}

/* ---- acknowledgements -------------------------------------------------------------------- */

static void pending_finish(pending *pd)
{
    if (pd->failed == 0) {
        if (pd->records > 0) {
            vg_counter_add(pd->edge->accepted, pd->records);
        } else if (pd->summary != NULL && json_object_get(pd->summary, "tool") != NULL) {
            vg_counter_inc(pd->edge->scans);
        }
        vg_http_reply_json(pd->req, 202, pd->summary);
    } else {
        json_decref(pd->summary);
        vg_http_reply_error(pd->req, 503, "kafka_unavailable",
                            "Kafka did not acknowledge %zu of %zu messages (%s): nothing of "
                            "this request is accepted, retry it later",
                            pd->failed, pd->total, pd->error);
    }
    free(pd);
}

static void pending_fail(pending *pd, const char *err)
{
    if (pd->failed++ == 0) {
        snprintf(pd->error, sizeof pd->error, "%s", err);
    }
}

static void on_delivered(const char *err, void *opaque)
{
    pending *pd = opaque;
    if (err != NULL) {
        pending_fail(pd, err);
    }
    if (--pd->remaining == 0) {
        pending_finish(pd);
    }
}

/* Produces every message (each string taken) and replies once all are settled. */
static void publish_all(ingest_edge *e, pending *pd, const char *topic, const char *key,
                        char **msgs, size_t n)
{
    pd->total = pd->remaining = n;
    for (size_t i = 0; i < n; i++) {
        if (ingest_producer_send(e->producer, topic, key, msgs[i], strlen(msgs[i]), on_delivered,
                                 pd) != 0) {
            pending_fail(pd, "local producer queue full");
            pd->remaining--;
        }
    }
    if (pd->remaining == 0) {
        pending_finish(pd);
    }
}

/* ---- routes -------------------------------------------------------------------------------- */

static json_t *trace_summary(const ingest_trace_set *set)
{
    json_t *s = json_pack("{s:I,s:I,s:O}", "accepted", (json_int_t)set->nrecs, "rejected",
                          (json_int_t)set->rejected, "errors", set->errors);
    if (set->errors_dropped > 0) {
        json_object_set_new(s, "errors_truncated", json_true());
    }
    return s;
}

static void handle_traces(vg_http_req *req, void *arg)
{
    ingest_edge *e = arg;
    ingest_principal who;
    vg_buf buf = {0};
    const char *body;
    size_t len;
    if (!edge_admit(e, req, &who) || !edge_body(e, req, &buf, &body, &len)) {
        vg_buf_free(&buf);
        return;
    }
    ingest_trace_set set;
    char err[256];
    if (ingest_traces_parse(body, len, &set, err, sizeof err) != 0) {
        vg_http_reply_error(req, 400, "invalid_body", "%s", err);
        goto out;
    }
    vg_counter_add(e->rejected, set.rejected);
    pending *pd = vg_calloc(1, sizeof *pd);
    pd->edge = e;
    pd->req = req;
    pd->records = set.nrecs;
    pd->summary = trace_summary(&set);
    if (set.nrecs == 0) {
        pending_finish(pd);
        goto out;
    }
    char **msgs = NULL;
    size_t n = ingest_traces_batches(&set, who.tenant_id, who.cluster_id, e->opts.batch_records,
                                     e->opts.batch_bytes, &msgs);
    publish_all(e, pd, vg_topic(VG_TOPIC_TRACES), who.cluster_id, msgs, n);
    free(msgs);
out:
    ingest_trace_set_free(&set);
    vg_buf_free(&buf);
}

static char *scan_message(const ingest_principal *who, const char *tool, json_t *report)
{
    char received_at[32];
    vg_time_rfc3339(received_at);
    json_t *data =
        json_pack("{s:s,s:o,s:s}", "tool", tool, "report", report, "received_at", received_at);
    char *text = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    if (text == NULL) {
        return NULL;
    }
    vg_buf b = {0};
    ingest_envelope_open(&b, "scan.report", who->tenant_id, who->cluster_id);
    vg_buf_puts(&b, text);
    vg_buf_puts(&b, "}");
    free(text);
    return vg_buf_steal(&b);
}

static void handle_scans(vg_http_req *req, void *arg)
{
    ingest_edge *e = arg;
    ingest_principal who;
    vg_buf buf = {0};
    const char *body;
    size_t len;
    if (!edge_admit(e, req, &who)) {
        return;
    }
    const char *tool = vg_http_query(req, "tool");
    if (!ingest_scan_tool_known(tool)) {
        vg_http_reply_error(req, 400, "invalid_tool",
                            "query parameter tool must be kube-bench, kube-hunter, kubeaudit "
                            "or trivy");
        return;
    }
    if (!edge_body(e, req, &buf, &body, &len)) {
        vg_buf_free(&buf);
        return;
    }
    char err[256];
    json_t *report = ingest_scan_parse(tool, body, len, err, sizeof err);
    vg_buf_free(&buf);
    if (report == NULL) {
        vg_http_reply_error(req, 400, "invalid_report", "%s", err);
        return;
    }
    char *msg = scan_message(&who, tool, report); /* report stolen */
    if (msg == NULL || strlen(msg) > SCAN_MESSAGE_MAX) {
        free(msg);
        vg_http_reply_error(req, 413, "payload_too_large",
                            "the report does not fit in one message (%d bytes)", SCAN_MESSAGE_MAX);
        return;
    }
    pending *pd = vg_calloc(1, sizeof *pd);
    pd->edge = e;
    pd->req = req;
    pd->summary = json_pack("{s:b,s:s}", "accepted", 1, "tool", tool);
    publish_all(e, pd, vg_topic(VG_TOPIC_SCANS), who.cluster_id, &msg, 1);
}

void ingest_edge_routes(ingest_edge *edge, vg_http_server *srv)
{
    vg_http_route(srv, "POST", "/v1/traces", handle_traces, edge);
    vg_http_route(srv, "POST", "/v1/scans", handle_scans, edge);
}
