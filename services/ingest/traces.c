/* Parsing and validation of trace bodies, and packing of trace.batch messages. */
#include "traces.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "traces_fields.h"
#include "vigil/util.h"

static bool text_is_dash_or_empty(const char *s)
{
    return s[0] == '\0' || (s[0] == '-' && s[1] == '\0');
}

/* A value that carries information: a string other than "" and "-". */
static const char *meaningful_text(const envoy_fields *ef, int k)
{
    const fv *v = &ef->f[k];
    return (v->t == FV_STRING && !text_is_dash_or_empty(v->s)) ? v->s : NULL;
}

static bool text_is_number(const char *s)
{
    if (*s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (!isdigit((unsigned char)*s) && *s != '.') {
            return false;
        }
    }
    return true;
}

static void fields_from_json(json_t *rec, envoy_fields *ef)
{
    for (int k = 0; k < EF_COUNT; k++) {
        json_t *v = json_object_get(rec, ingest_envoy_field_names[k]);
        fv *f = &ef->f[k];
        *f = (fv){.t = FV_ABSENT};
        if (v == NULL) {
            continue;
        }
        switch (json_typeof(v)) {
        case JSON_NULL:
            f->t = FV_NULL;
            break;
        case JSON_STRING:
            *f = (fv){.t = FV_STRING, .s = json_string_value(v)};
            break;
        case JSON_INTEGER:
            *f = (fv){.t = FV_INT, .i = (long long)json_integer_value(v)};
            break;
        case JSON_REAL:
            *f = (fv){.t = FV_REAL, .d = json_real_value(v)};
            break;
        default:
            f->t = FV_OTHER;
        }
    }
}

static bool check_envoy_types(const envoy_fields *ef, char *msg, size_t msglen)
{
    for (int k = 0; k < EF_TEXT_END; k++) {
        fv_type t = ef->f[k].t;
        if (t != FV_ABSENT && t != FV_NULL && t != FV_STRING) {
            snprintf(msg, msglen, "%s: expected a string or null", ingest_envoy_field_names[k]);
            return false;
        }
    }
    for (int k = EF_TEXT_END; k < EF_COUNT; k++) {
        const fv *v = &ef->f[k];
        bool ok = v->t == FV_ABSENT || v->t == FV_NULL || (v->t == FV_INT && v->i >= 0) ||
                  (v->t == FV_REAL && v->d >= 0) ||
                  (v->t == FV_STRING && (text_is_dash_or_empty(v->s) || text_is_number(v->s)));
        if (!ok) {
            snprintf(msg, msglen, "%s: expected a non-negative number or null",
                     ingest_envoy_field_names[k]);
            return false;
        }
    }
    return true;
}

static bool method_valid(const char *m)
{
    size_t n = strlen(m);
    if (n == 0 || n > 32) {
        return false;
    }
    for (; *m != '\0'; m++) {
        if (!isalpha((unsigned char)*m) && *m != '-' && *m != '_') {
            return false;
        }
    }
    return true;
}

static bool path_valid(const char *p)
{
    if (p[0] == '/' || strcmp(p, "*") == 0 || strstr(p, "://") != NULL) {
        for (; *p != '\0'; p++) {
            if ((unsigned char)*p < 0x20 || *p == 0x7f) {
                return false;
            }
        }
        return true;
    }
    return false;
}

bool ingest_envoy_validate(const envoy_fields *ef, char *msg, size_t msglen)
{
    if (!check_envoy_types(ef, msg, msglen)) {
        return false;
    }
    const char *start = meaningful_text(ef, EF_START_TIME);
    struct timespec ts;
    if (start != NULL && !vg_time_parse(start, &ts)) {
        snprintf(msg, msglen, "start_time: not an RFC 3339 timestamp");
        return false;
    }
    if (start == NULL && meaningful_text(ef, EF_AUTHORITY) == NULL &&
        meaningful_text(ef, EF_UPSTREAM_CLUSTER) == NULL &&
        meaningful_text(ef, EF_REQUESTED_SERVER_NAME) == NULL) {
        snprintf(msg, msglen,
                 "not an access-log record: needs start_time, authority, "
                 "upstream_cluster or requested_server_name");
        return false;
    }
    const char *method = meaningful_text(ef, EF_METHOD);
    if (method != NULL && !method_valid(method)) {
        snprintf(msg, msglen, "method: not an HTTP method");
        return false;
    }
    const char *path = meaningful_text(ef, EF_PATH);
    if (path != NULL && !path_valid(path)) {
        snprintf(msg, msglen, "path: must start with '/'");
        return false;
    }
    const fv *code = &ef->f[EF_RESPONSE_CODE];
    if (code->t == FV_INT && code->i > 999) {
        snprintf(msg, msglen, "response_code: out of range");
        return false;
    }
    return true;
}

/* common: {headers: [{key, value}], body: base64, time, TruncatedBody, version} */
static bool validate_apiclarity_common(json_t *common, const char *where, char *msg, size_t msglen)
{
    if (common == NULL || json_is_null(common)) {
        return true;
    }
    if (!json_is_object(common)) {
        snprintf(msg, msglen, "%s.common: expected an object", where);
        return false;
    }
    json_t *headers = json_object_get(common, "headers");
    if (headers != NULL && !json_is_null(headers)) {
        size_t i;
        json_t *h;
        if (!json_is_array(headers)) {
            snprintf(msg, msglen, "%s.common.headers: expected an array", where);
            return false;
        }
        json_array_foreach(headers, i, h)
        {
            if (!json_is_string(json_object_get(h, "key"))) {
                snprintf(msg, msglen, "%s.common.headers[%zu]: expected {key, value}", where, i);
                return false;
            }
        }
    }
    json_t *body = json_object_get(common, "body");
    if (body != NULL && !json_is_null(body)) {
        const char *b = json_string_value(body);
        size_t n = 0;
        unsigned char *raw = b != NULL ? vg_base64_decode(b, strlen(b), &n) : NULL;
        if (raw == NULL && (b == NULL || b[0] != '\0')) {
            snprintf(msg, msglen, "%s.common.body: expected base64 text", where);
            return false;
        }
        free(raw);
    }
    return true;
}

static bool status_code_valid(json_t *v)
{
    if (json_is_integer(v)) {
        return json_integer_value(v) >= 0 && json_integer_value(v) <= 999;
    }
    const char *s = json_string_value(v);
    return s != NULL && strlen(s) <= 3 && text_is_number(s) && strchr(s, '.') == NULL;
}

static bool validate_apiclarity(json_t *rec, char *msg, size_t msglen)
{
    json_t *req = json_object_get(rec, "request");
    json_t *resp = json_object_get(rec, "response");
    if (!json_is_object(req) || !json_is_object(resp)) {
        snprintf(msg, msglen, "APIClarity telemetry needs request and response objects");
        return false;
    }
    json_t *rid = json_object_get(rec, "requestID");
    if (rid != NULL && !json_is_string(rid)) {
        snprintf(msg, msglen, "requestID: expected a string");
        return false;
    }
    const char *method = json_string_value(json_object_get(req, "method"));
    if (method == NULL || !method_valid(method)) {
        snprintf(msg, msglen, "request.method: expected an HTTP method");
        return false;
    }
    const char *path = json_string_value(json_object_get(req, "path"));
    if (path == NULL || !path_valid(path)) {
        snprintf(msg, msglen, "request.path: expected a path starting with '/'");
        return false;
    }
    json_t *host = json_object_get(req, "host");
    if (host != NULL && !json_is_string(host)) {
        snprintf(msg, msglen, "request.host: expected a string");
        return false;
    }
    if (!status_code_valid(json_object_get(resp, "statusCode"))) {
        snprintf(msg, msglen, "response.statusCode: expected an HTTP status code");
        return false;
    }
    return validate_apiclarity_common(json_object_get(req, "common"), "request", msg, msglen) &&
           validate_apiclarity_common(json_object_get(resp, "common"), "response", msg, msglen);
}

bool ingest_trace_validate(json_t *rec, ingest_trace_format *fmt, char *msg, size_t msglen)
{
    if (!json_is_object(rec)) {
        snprintf(msg, msglen, "record is not a JSON object");
        return false;
    }
    if (json_object_get(rec, "request") != NULL || json_object_get(rec, "response") != NULL ||
        json_object_get(rec, "requestID") != NULL) {
        *fmt = INGEST_FMT_APICLARITY;
        return validate_apiclarity(rec, msg, msglen);
    }
    *fmt = INGEST_FMT_ENVOY;
    envoy_fields *ef = vg_malloc(sizeof *ef);
    fields_from_json(rec, ef);
    bool ok = ingest_envoy_validate(ef, msg, msglen);
    free(ef);
    return ok;
}

static void set_reject(ingest_trace_set *set, size_t index, const char *message)
{
    set->rejected++;
    if (json_array_size(set->errors) >= INGEST_TRACE_MAX_ERRORS) {
        set->errors_dropped++;
        return;
    }
    json_array_append_new(set->errors,
                          json_pack("{s:I,s:s}", "index", (json_int_t)index, "message", message));
}

static void set_accept(ingest_trace_set *set, const char *text, size_t len, ingest_trace_format fmt)
{
    if (set->nrecs == set->caprecs) {
        set->caprecs = set->caprecs ? set->caprecs * 2 : 64;
        set->recs = vg_realloc(set->recs, set->caprecs * sizeof *set->recs);
    }
    set->recs[set->nrecs++] = (ingest_trace_rec){text, len, fmt};
}

/* Checks one decoded record (rec borrowed), accepting or rejecting it. */
static void take_decoded(ingest_trace_set *set, size_t index, json_t *rec, const char *text,
                         size_t len)
{
    char msg[200];
    ingest_trace_format fmt;
    if (len > INGEST_TRACE_MAX_RECORD) {
        set_reject(set, index, "record larger than 1 MiB");
    } else if (ingest_trace_validate(rec, &fmt, msg, sizeof msg)) {
        set_accept(set, text, len, fmt);
    } else {
        set_reject(set, index, msg);
    }
}

/* Decodes and checks one record text (already trimmed). */
static void take_record(ingest_trace_set *set, size_t index, const char *text, size_t len)
{
    char msg[200];
    if (len > INGEST_TRACE_MAX_RECORD) {
        set_reject(set, index, "record larger than 1 MiB");
        return;
    }
    if (memchr(text, '\0', len) != NULL) { /* jansson would stop there, ignoring the rest */
        set_reject(set, index, "invalid JSON: NUL byte");
        return;
    }
    envoy_fields ef;
    if (ingest_envoy_fast(text, len, &ef) == FAST_ENVOY) {
        if (ingest_envoy_validate(&ef, msg, sizeof msg)) {
            set_accept(set, text, len, INGEST_FMT_ENVOY);
        } else {
            set_reject(set, index, msg);
        }
        return;
    }
    json_error_t error;
    json_t *rec = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
    if (rec == NULL) {
        snprintf(msg, sizeof msg, "invalid JSON: %s", error.text);
        set_reject(set, index, msg);
        return;
    }
    take_decoded(set, index, rec, text, len);
    json_decref(rec);
}

static size_t skip_ws(const char *s, size_t len, size_t pos)
{
    while (pos < len && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\r' || s[pos] == '\n')) {
        pos++;
    }
    return pos;
}

static void parse_ndjson(const char *body, size_t len, ingest_trace_set *set)
{
    size_t index = 0, pos = 0;
    while (pos < len) {
        const char *nl = memchr(body + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - body) : len;
        size_t start = skip_ws(body, end, pos);
        size_t stop = end;
        while (stop > start &&
               (body[stop - 1] == ' ' || body[stop - 1] == '\t' || body[stop - 1] == '\r')) {
            stop--;
        }
        if (stop > start) {
            take_record(set, index++, body + start, stop - start);
        }
        pos = end + 1;
    }
}

/* The jansson path for one array element at pos: decodes it (finding its extent), checks it.
 * Returns 0 with *used set, or -1 when the array is not well-formed. */
static int array_element_slow(const char *body, size_t len, size_t pos, ingest_trace_set *set,
                              size_t *index, size_t *used, char *errbuf, size_t errlen)
{
    json_error_t error;
    const char *msg = NULL;
    json_t *rec =
        json_loadb(body + pos, len - pos,
                   JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &error);
    if (rec == NULL && json_error_code(&error) == json_error_duplicate_key) {
        /* find the element's extent again, then reject it alone */
        msg = "invalid JSON: duplicate object key";
        rec = json_loadb(body + pos, len - pos, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, &error);
    }
    if (rec == NULL) {
        snprintf(errbuf, errlen, "invalid JSON in element %zu: %s", *index, error.text);
        return -1;
    }
    *used = (size_t)error.position;
    size_t start = skip_ws(body, len, pos);
    if (msg != NULL) {
        set_reject(set, (*index)++, msg);
    } else {
        take_decoded(set, (*index)++, rec, body + start, pos + *used - start);
    }
    json_decref(rec);
    return 0;
}

/* Splits a top-level array into its elements, each checked on its own so that one bad record
 * does not sink the others: the fast scanner finds and checks plain access-log records, the
 * jansson path everything else. */
static int parse_array(const char *body, size_t len, size_t pos, ingest_trace_set *set,
                       char *errbuf, size_t errlen)
{
    size_t index = 0;
    pos = skip_ws(body, len, pos + 1);
    if (pos < len && body[pos] == ']') {
        return skip_ws(body, len, pos + 1) == len
                   ? 0
                   : (snprintf(errbuf, errlen, "text after the array"), -1);
    }
    envoy_fields *ef = vg_malloc(sizeof *ef);
    int rc = -1;
    for (;;) {
        size_t used = 0;
        if (ingest_envoy_fast_prefix(body + pos, len - pos, ef, &used) == FAST_ENVOY) {
            char msg[200];
            size_t start = skip_ws(body, len, pos);
            if (pos + used - start > INGEST_TRACE_MAX_RECORD) {
                set_reject(set, index, "record larger than 1 MiB");
            } else if (ingest_envoy_validate(ef, msg, sizeof msg)) {
                set_accept(set, body + start, pos + used - start, INGEST_FMT_ENVOY);
            } else {
                set_reject(set, index, msg);
            }
            index++;
        } else if (array_element_slow(body, len, pos, set, &index, &used, errbuf, errlen) != 0) {
            break;
        }
        pos = skip_ws(body, len, pos + used);
        if (pos < len && body[pos] == ',') {
            pos = skip_ws(body, len, pos + 1);
            continue;
        }
        if (pos < len && body[pos] == ']') {
            if (skip_ws(body, len, pos + 1) != len) {
                snprintf(errbuf, errlen, "text after the array");
                break;
            }
            rc = 0;
            break;
        }
        snprintf(errbuf, errlen, "expected ',' or ']' after element %zu", index - 1);
        break;
    }
    free(ef);
    return rc;
}

int ingest_traces_parse(const char *body, size_t len, ingest_trace_set *set, char *errbuf,
                        size_t errlen)
{
    memset(set, 0, sizeof *set);
    set->errors = json_array();
    size_t pos = skip_ws(body, len, 0);
    if (pos == len) {
        snprintf(errbuf, errlen, "empty body: expected a JSON array or NDJSON records");
        return -1;
    }
    if (body[pos] == '[') {
        return parse_array(body, len, pos, set, errbuf, errlen);
    }
    parse_ndjson(body, len, set);
    return 0;
}

void ingest_trace_set_free(ingest_trace_set *set)
{
    free(set->recs);
    json_decref(set->errors);
    memset(set, 0, sizeof *set);
}

void ingest_envelope_open(vg_buf *b, const char *type, const char *tenant_id,
                          const char *cluster_id)
{
    char id[VG_UUID_LEN + 1], ts[32];
    vg_uuid_v4(id);
    vg_time_rfc3339(ts);
    vg_buf_printf(b, "{\"v\":1,\"id\":\"%s\",\"type\":\"%s\"", id, type);
    if (tenant_id != NULL) {
        vg_buf_printf(b, ",\"tenant_id\":\"%s\"", tenant_id);
    }
    if (cluster_id != NULL) {
        vg_buf_printf(b, ",\"cluster_id\":\"%s\"", cluster_id);
    }
    vg_buf_printf(b, ",\"ts\":\"%s\",\"data\":", ts);
}

static void batch_open(vg_buf *b, const char *tenant_id, const char *cluster_id,
                       const char *received_at)
{
    ingest_envelope_open(b, "trace.batch", tenant_id, cluster_id);
    vg_buf_printf(b, "{\"received_at\":\"%s\",\"records\":[", received_at);
}

size_t ingest_traces_batches(const ingest_trace_set *set, const char *tenant_id,
                             const char *cluster_id, size_t max_records, size_t max_bytes,
                             char ***out)
{
    char received_at[32];
    vg_time_rfc3339(received_at);
    size_t nout = 0, cap = 0, in_batch = 0;
    char **msgs = NULL;
    vg_buf b = {0};
    for (size_t i = 0; i < set->nrecs; i++) {
        const ingest_trace_rec *r = &set->recs[i];
        if (in_batch > 0 && (in_batch >= max_records || b.len + r->len + 64 > max_bytes)) {
            vg_buf_puts(&b, "]}}");
            if (nout == cap) {
                cap = cap ? cap * 2 : 4;
                msgs = vg_realloc(msgs, cap * sizeof *msgs);
            }
            msgs[nout++] = vg_buf_steal(&b);
            in_batch = 0;
        }
        if (in_batch == 0) {
            batch_open(&b, tenant_id, cluster_id, received_at);
        } else {
            vg_buf_puts(&b, ",");
        }
        vg_buf_puts(&b, r->fmt == INGEST_FMT_ENVOY ? "{\"format\":\"envoy\",\"record\":"
                                                   : "{\"format\":\"apiclarity\",\"record\":");
        vg_buf_append(&b, r->text, r->len);
        vg_buf_puts(&b, "}");
        in_batch++;
    }
    if (in_batch > 0) {
        vg_buf_puts(&b, "]}}");
        if (nout == cap) {
            msgs = vg_realloc(msgs, (cap + 1) * sizeof *msgs);
        }
        msgs[nout++] = vg_buf_steal(&b);
    }
    vg_buf_free(&b);
    *out = msgs;
    return nout;
}
