/* Target domains (see domains.h). The challenge is fetched off the loop (offload.c), without
 * redirects or proxies, https first then http, and only from addresses vg_url_target_check
 * allows. */
#include "domains.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "json_util.h"
#include "offload.h"
#include "vigil/alloc.h"
#include "vigil/log.h"
#include "vigil/netaddr.h"
#include "vigil/util.h"

#define CHALLENGE_PATH "/.well-known/vigil-challenge/"
#define CHALLENGE_MAX 1024
#define DOMAIN_JSON                                                                                \
    "jsonb_build_object('id', d.id, 'host', d.host, 'token', d.token, 'verified', "                \
    "d.verified_at IS NOT NULL, 'verified_at', d.verified_at, 'last_error', d.last_error, "        \
    "'challenge_path', '" CHALLENGE_PATH "' || d.id, 'created_at', d.created_at)"

bool portal_domain_host_valid(const char *s)
{
    size_t len = strcspn(s, ":");
    if (len == 0 || len > 253 || s[0] == '.' || s[0] == '-' || s[len - 1] == '.' ||
        strstr(s, "..") != NULL) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(islower(c) || isdigit(c) || c == '.' || c == '-')) {
            return false;
        }
    }
    if (s[len] == '\0') {
        return true;
    }
    char *end = NULL;
    long port = strtol(s + len + 1, &end, 10);
    return isdigit((unsigned char)s[len + 1]) && *end == '\0' && port > 0 && port <= 65535;
}

void portal_domain_create(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    json_t *body = portal_body_object(req);
    const char *host;
    if (body == NULL || !portal_field_string(req, body, "host", true, 260, &host)) {
        json_decref(body);
        return;
    }
    char *lower = portal_lower(host);
    if (!portal_domain_host_valid(lower)) {
        vg_http_reply_error(req, 400, "invalid_field",
                            "field \"host\" must be a host name with an optional port, e.g. "
                            "api.example.com or api.example.com:8443");
    } else {
        char *token = vg_token_new("vgc");
        portal_query q = {.sql = "INSERT INTO portal_target_domains AS d (tenant_id, host, token) "
                                 "VALUES ($1, $2, $3) RETURNING " DOMAIN_JSON,
                          .nparams = 3,
                          .params = {auth.tenant_id, lower, token}};
        if (portal_query_run(ctx->db, auth.tenant_id, &q) != 0 || q.out == NULL) {
            json_decref(q.out);
            portal_reply_db_error(req, ctx->db, "this host is already registered");
        } else {
            vg_http_reply_json(req, 201, q.out);
        }
        free(token);
    }
    free(lower);
    json_decref(body);
}

void portal_domain_list(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    portal_query q = {.sql = "SELECT coalesce(jsonb_agg(" DOMAIN_JSON
                             " ORDER BY d.created_at, d.id), '[]') FROM portal_target_domains d"};
    if (portal_query_run(ctx->db, auth.tenant_id, &q) != 0) {
        portal_reply_db_error(req, ctx->db, NULL);
        return;
    }
    vg_http_reply_json(req, 200, json_pack("{s:o}", "domains", q.out));
}

void portal_domain_delete(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    json_t *gone = portal_query_by_id(
        ctx->db, req, auth.tenant_id,
        "DELETE FROM portal_target_domains d WHERE d.id = $1 RETURNING to_jsonb(d.id)", "domain");
    if (gone != NULL) {
        json_decref(gone);
        vg_http_reply_json(req, 204, NULL);
    }
}

/* A verification in flight. */
typedef struct domain_job {
    portal_ctx *ctx;
    vg_http_req *req;
    char tenant_id[VG_UUID_LEN + 1];
    char id[VG_UUID_LEN + 1];
    char *urls[2]; /* https then http; NULL when refused by the target policy */
    char *token;
    bool ok;
    char why[300];
} domain_job;

static size_t on_challenge(char *data, size_t size, size_t n, void *arg)
{
    vg_buf *b = arg;
    if (b->len + size * n > CHALLENGE_MAX) {
        return 0;
    }
    vg_buf_append(b, data, size * n);
    return size * n;
}

/* Fetches url; true when it answers 200 with the token (surrounding whitespace ignored). */
static bool challenge_fetch(const char *url, const char *token, char *why, size_t whylen)
{
    vg_buf body = {0};
    char err[CURL_ERROR_SIZE] = "";
    long status = 0;
    CURL *curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_PROXY, "");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 5L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_challenge);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    CURLcode rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    size_t len = body.len;
    while (len > 0 && isspace((unsigned char)body.data[len - 1])) {
        len--;
    }
    size_t start = 0;
    while (start < len && isspace((unsigned char)body.data[start])) {
        start++;
    }
    bool ok = rc == CURLE_OK && status == 200 && len - start == strlen(token) &&
              memcmp(body.data + start, token, len - start) == 0;
    if (rc != CURLE_OK) {
        snprintf(why, whylen, "%s: %s", url, err[0] ? err : curl_easy_strerror(rc));
    } else if (status != 200) {
        snprintf(why, whylen, "%s answered HTTP %ld", url, status);
    } else if (!ok) {
        snprintf(why, whylen, "%s does not contain the challenge token", url);
    }
    vg_buf_free(&body);
    return ok;
}

static void domain_work(void *arg)
{
    domain_job *job = arg;
    for (int i = 0; i < 2 && !job->ok; i++) {
        if (job->urls[i] != NULL) {
            job->ok = challenge_fetch(job->urls[i], job->token, job->why, sizeof job->why);
        }
    }
}

static void domain_job_free(domain_job *job)
{
    free(job->urls[0]);
    free(job->urls[1]);
    free(job->token);
    free(job);
}

static void domain_done(void *arg)
{
    domain_job *job = arg;
    portal_query q = {.sql = "UPDATE portal_target_domains d SET verified_at = CASE WHEN $2 THEN "
                             "now() ELSE d.verified_at END, last_error = nullif($3, '') "
                             "WHERE d.id = $1 RETURNING " DOMAIN_JSON,
                      .nparams = 3,
                      .params = {job->id, job->ok ? "true" : "false", job->ok ? "" : job->why}};
    if (portal_query_run(job->ctx->db, job->tenant_id, &q) != 0 || q.out == NULL) {
        json_decref(q.out);
        portal_reply_db_error(job->req, job->ctx->db, NULL);
    } else if (!job->ok) {
        json_decref(q.out);
        vg_http_reply_error(job->req, 400, "challenge_failed", "%s", job->why);
    } else {
        vg_info("target domain verified", "tenant_id", job->tenant_id, "domain_id", job->id);
        vg_http_reply_json(job->req, 200, q.out);
    }
    domain_job_free(job);
}

/* Fills the job's URLs from the domain row; replies 404/400 and returns false on failure. */
static bool domain_job_prepare(portal_ctx *ctx, vg_http_req *req, const portal_auth *auth,
                               domain_job *job)
{
    portal_query q = {.sql = "SELECT jsonb_build_object('host', d.host, 'token', d.token) "
                             "FROM portal_target_domains d WHERE d.id = $1",
                      .nparams = 1,
                      .params = {job->id}};
    if (portal_query_run(ctx->db, auth->tenant_id, &q) != 0) {
        portal_reply_db_error(req, ctx->db, NULL);
        return false;
    }
    if (q.out == NULL) {
        vg_http_reply_error(req, 404, "not_found", "no such domain");
        return false;
    }
    const char *host = json_string_value(json_object_get(q.out, "host"));
    job->token = vg_strdup(json_string_value(json_object_get(q.out, "token")));
    char err[300] = "";
    static const char *const schemes[] = {"https", "http"};
    for (int i = 0; i < 2; i++) {
        char *url = vg_asprintf("%s://%s" CHALLENGE_PATH "%s", schemes[i], host, job->id);
        if (vg_url_target_check(url, ctx->set.allow_private, err, sizeof err) == 0) {
            job->urls[i] = url;
        } else {
            free(url);
        }
    }
    json_decref(q.out);
    if (job->urls[0] == NULL && job->urls[1] == NULL) {
        vg_http_reply_error(req, 400, "target_refused", "%s", err);
        return false;
    }
    return true;
}

void portal_domain_verify(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    const char *id = portal_param_uuid(req, "id");
    if (id == NULL) {
        return;
    }
    domain_job *job = vg_calloc(1, sizeof *job);
    job->ctx = ctx;
    job->req = req;
    snprintf(job->tenant_id, sizeof job->tenant_id, "%s", auth.tenant_id);
    snprintf(job->id, sizeof job->id, "%s", id);
    if (!domain_job_prepare(ctx, req, &auth, job)) {
        domain_job_free(job);
        return;
    }
    if (portal_offload(ctx->base, domain_work, domain_done, job) != 0) {
        portal_reply_busy(req);
        domain_job_free(job);
    }
}
