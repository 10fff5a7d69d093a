/* Accounts: signup, login, logout, session (see signup.h). */
#include "signup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "json_util.h"
#include "offload.h"
#include "password.h"
#include "vigil/alloc.h"
#include "vigil/crypto.h"
#include "vigil/log.h"
#include "vigil/util.h"

typedef struct signup_tx {
    char tenant_id[VG_UUID_LEN + 1];
    char user_id[VG_UUID_LEN + 1];
    const char *org, *email, *pw_hash, *key_prefix, *key_hash;
} signup_tx;

static int signup_insert(vg_db *db, void *arg)
{
    signup_tx *s = arg;
    const char *tp[] = {s->tenant_id, s->org};
    if (vg_db_cmd(db, "INSERT INTO tenants (id, name) VALUES ($1, $2)", 2, tp) != 0) {
        return -1;
    }
    const char *up[] = {s->user_id, s->tenant_id, s->email, s->pw_hash};
    if (vg_db_cmd(db,
                  "INSERT INTO users (id, tenant_id, email, password_hash, role) "
                  "VALUES ($1, $2, $3, $4, 'owner')",
                  4, up) != 0) {
        return -1;
    }
    const char *kp[] = {s->tenant_id, s->user_id, s->key_prefix, s->key_hash};
    return vg_db_cmd(db,
                     "INSERT INTO api_keys (tenant_id, user_id, name, prefix, key_hash) "
                     "VALUES ($1, $2, 'signup', $3, $4)",
                     4, kp);
}

/* Validates the signup body; replies 400 and returns false on bad input. */
static bool signup_check(vg_http_req *req, json_t *body, const char **email, const char **pw,
                         const char **org)
{
    if (!portal_field_string(req, body, "email", true, 254, email) ||
        !portal_field_string(req, body, "password", true, PORTAL_PASSWORD_MAX, pw) ||
        !portal_field_string(req, body, "organization", true, 200, org)) {
        return false;
    }
    if (!portal_email_valid(*email)) {
        vg_http_reply_error(req, 400, "invalid_field", "field \"email\" is not an email address");
        return false;
    }
    if (strlen(*pw) < PORTAL_PASSWORD_MIN) {
        vg_http_reply_error(req, 400, "weak_password",
                            "the password must have at least %d characters", PORTAL_PASSWORD_MIN);
        return false;
    }
    return true;
}

static void signup_reply(portal_ctx *ctx, vg_http_req *req, signup_tx *s, const char *key)
{
    char csrf[64];
    if (portal_session_start(ctx, req, s->tenant_id, s->user_id, csrf) != 0) {
        portal_reply_db_error(req, ctx->db, NULL);
        return;
    }
    json_t *out =
        json_pack("{s:s, s:s, s:s, s:s, s:s}", "tenant_id", s->tenant_id, "user_id", s->user_id,
                  "api_key", key, "api_key_prefix", s->key_prefix, "csrf_token", csrf);
    vg_info("tenant signed up", "tenant_id", s->tenant_id, "request_id", req->request_id);
    vg_http_reply_json(req, 201, out);
}

/* A signup whose password is being hashed off the loop. */
typedef struct signup_job {
    portal_ctx *ctx;
    vg_http_req *req;
    json_t *body; /* owns email, pw, org */
    const char *pw;
    char *lower, *pw_hash;
    signup_tx s;
} signup_job;

static void signup_work(void *arg)
{
    signup_job *job = arg;
    job->pw_hash = portal_password_hash(job->pw);
}

static void signup_done(void *arg)
{
    signup_job *job = arg;
    char *key = vg_token_new("vgk");
    char key_hash[65], prefix[16];
    vg_sha256_hex(key, strlen(key), key_hash);
    snprintf(prefix, sizeof prefix, "%.12s", key);
    job->s.pw_hash = job->pw_hash;
    job->s.key_prefix = prefix;
    job->s.key_hash = key_hash;
    if (job->pw_hash == NULL) {
        vg_http_reply_error(job->req, 500, "internal", "password hashing failed");
    } else if (vg_db_tx(job->ctx->db, job->s.tenant_id, signup_insert, &job->s) != 0) {
        portal_reply_db_error(job->req, job->ctx->db, "an account with this email already exists");
    } else {
        signup_reply(job->ctx, job->req, &job->s, key);
    }
    vg_wipe(key, strlen(key));
    free(key);
    free(job->pw_hash);
    free(job->lower);
    json_decref(job->body);
    free(job);
}

void portal_signup_handle(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    json_t *body = portal_body_object(req);
    const char *email, *pw, *org;
    if (body == NULL || !signup_check(req, body, &email, &pw, &org)) {
        json_decref(body);
        return;
    }
    signup_job *job = vg_calloc(1, sizeof *job);
    job->ctx = ctx;
    job->req = req;
    job->body = body;
    job->pw = pw;
    job->lower = portal_lower(email);
    job->s.org = org;
    job->s.email = job->lower;
    vg_uuid_v4(job->s.tenant_id);
    vg_uuid_v4(job->s.user_id);
    if (portal_offload(ctx->base, signup_work, signup_done, job) != 0) {
        portal_reply_busy(req);
        free(job->lower);
        json_decref(body);
        free(job);
    }
}

/* Seconds to wait before another attempt (0 = go on), -1 on a database error. */
static int login_throttle(portal_ctx *ctx, const char *email, const char *ip)
{
    char window[24], max_email[24], max_ip[24];
    snprintf(window, sizeof window, "%ld", ctx->set.login_window_s);
    snprintf(max_email, sizeof max_email, "%ld", ctx->set.login_max_email);
    snprintf(max_ip, sizeof max_ip, "%ld", ctx->set.login_max_ip);
    const char *params[] = {email, ip, window, max_email, max_ip};
    PGresult *res =
        vg_db_exec(ctx->db, "SELECT portal_login_throttle($1, $2, $3, $4, $5)", 5, params);
    if (res == NULL) {
        return -1;
    }
    int wait_s = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return wait_s;
}

typedef struct login_user {
    char user_id[VG_UUID_LEN + 1];
    char tenant_id[VG_UUID_LEN + 1];
    char *pw_hash;
} login_user;

/* 1 found, 0 unknown, -1 database error. */
static int login_lookup(portal_ctx *ctx, const char *email, login_user *u)
{
    const char *params[] = {email};
    PGresult *res = vg_db_exec(ctx->db, "SELECT * FROM portal_login_lookup($1)", 1, params);
    if (res == NULL) {
        return -1;
    }
    int found = PQntuples(res) == 1;
    if (found) {
        snprintf(u->user_id, sizeof u->user_id, "%s", PQgetvalue(res, 0, 0));
        snprintf(u->tenant_id, sizeof u->tenant_id, "%s", PQgetvalue(res, 0, 1));
        u->pw_hash = vg_strdup(PQgetvalue(res, 0, 2));
    }
    PQclear(res);
    return found;
}

static void login_failed(portal_ctx *ctx, vg_http_req *req, const char *email)
{
    const char *params[] = {email, req->client_ip};
    if (vg_db_cmd(ctx->db, "SELECT portal_login_failed($1, $2)", 2, params) != 0) {
        vg_warn("cannot record a failed login", "request_id", req->request_id);
    }
    vg_http_reply_error(req, 401, "invalid_credentials", "invalid email or password");
}

static void login_succeeded(portal_ctx *ctx, vg_http_req *req, const char *email,
                            const login_user *u)
{
    const char *params[] = {email};
    if (vg_db_cmd(ctx->db, "SELECT portal_login_succeeded($1)", 1, params) != 0) {
        vg_warn("cannot clear login failures", "request_id", req->request_id);
    }
    char csrf[64];
    if (portal_session_start(ctx, req, u->tenant_id, u->user_id, csrf) != 0) {
        portal_reply_db_error(req, ctx->db, NULL);
        return;
    }
    vg_info("user logged in", "tenant_id", u->tenant_id, "user_id", u->user_id);
    vg_http_reply_json(req, 200,
                       json_pack("{s:s, s:s, s:s}", "tenant_id", u->tenant_id, "user_id",
                                 u->user_id, "csrf_token", csrf));
}

/* A login whose password check runs off the loop. */
typedef struct login_job {
    portal_ctx *ctx;
    vg_http_req *req;
    json_t *body; /* owns pw */
    const char *pw;
    char *email;
    login_user u;
    bool found, ok;
} login_job;

static void login_work(void *arg)
{
    login_job *job = arg;
    job->ok = job->found ? portal_password_verify(job->pw, job->u.pw_hash)
                         : portal_password_verify_dummy(job->pw);
}

static void login_done(void *arg)
{
    login_job *job = arg;
    if (job->ok) {
        login_succeeded(job->ctx, job->req, job->email, &job->u);
    } else {
        login_failed(job->ctx, job->req, job->email);
    }
    free(job->u.pw_hash);
    free(job->email);
    json_decref(job->body);
    free(job);
}

/* Replies 429 when throttled; returns true when the attempt may go on. */
static bool login_allowed(portal_ctx *ctx, vg_http_req *req, const char *email)
{
    int wait_s = login_throttle(ctx, email, req->client_ip);
    if (wait_s < 0) {
        portal_reply_db_error(req, ctx->db, NULL);
        return false;
    }
    if (wait_s > 0) {
        char retry[24];
        snprintf(retry, sizeof retry, "%d", wait_s);
        vg_http_set_header(req, "Retry-After", retry);
        vg_http_reply_error(req, 429, "too_many_attempts",
                            "too many failed logins; try again in %d seconds", wait_s);
        return false;
    }
    return true;
}

void portal_login_handle(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    json_t *body = portal_body_object(req);
    const char *email, *pw;
    if (body == NULL || !portal_field_string(req, body, "email", true, 254, &email) ||
        !portal_field_string(req, body, "password", true, PORTAL_PASSWORD_MAX, &pw)) {
        json_decref(body);
        return;
    }
    login_job *job = vg_calloc(1, sizeof *job);
    *job =
        (login_job){.ctx = ctx, .req = req, .body = body, .pw = pw, .email = portal_lower(email)};
    int found = login_allowed(ctx, req, job->email) ? login_lookup(ctx, job->email, &job->u) : -2;
    if (found == -1) {
        portal_reply_db_error(req, ctx->db, NULL);
    }
    job->found = found == 1;
    if (found >= 0 && portal_offload(ctx->base, login_work, login_done, job) == 0) {
        return;
    }
    if (found >= 0) {
        portal_reply_busy(req);
    }
    free(job->u.pw_hash);
    free(job->email);
    json_decref(body);
    free(job);
}

static int session_delete(vg_db *db, void *arg)
{
    const char *params[] = {arg};
    return vg_db_cmd(db, "DELETE FROM portal_sessions WHERE id = $1", 1, params);
}

void portal_logout_handle(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    if (auth.cookie && vg_db_tx(ctx->db, auth.tenant_id, session_delete, auth.session_id) != 0) {
        portal_reply_db_error(req, ctx->db, NULL);
        return;
    }
    portal_session_cookie_clear(req);
    vg_http_reply_json(req, 204, NULL);
}

void portal_session_handle(vg_http_req *req, void *arg)
{
    portal_ctx *ctx = arg;
    portal_auth auth;
    if (!portal_auth_require(ctx, req, &auth)) {
        return;
    }
    portal_query q = {.sql = "SELECT jsonb_build_object('tenant_id', t.id, 'organization', t.name, "
                             "'plan', t.plan, 'user_id', u.id, 'email', u.email, 'role', u.role) "
                             "FROM tenants t LEFT JOIN users u ON u.id = nullif($1, '')::uuid",
                      .nparams = 1,
                      .params = {auth.user_id}};
    if (portal_query_run(ctx->db, auth.tenant_id, &q) != 0 || q.out == NULL) {
        json_decref(q.out);
        portal_reply_db_error(req, ctx->db, NULL);
        return;
    }
    json_object_set_new(q.out, "auth", json_string(auth.cookie ? "session" : "api_key"));
    if (ctx->set.ingest_public_url[0] != '\0') {
        json_object_set_new(q.out, "ingest_url", json_string(ctx->set.ingest_public_url));
    }
    if (auth.cookie) {
        json_object_set_new(q.out, "csrf_token", json_string(auth.csrf));
    }
    vg_http_reply_json(req, 200, q.out);
}
