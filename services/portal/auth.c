/* Sessions, API-key authentication and CSRF checks (see auth.h). */
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"
#include "vigil/alloc.h"
#include "vigil/crypto.h"
#include "vigil/log.h"

void portal_csrf_token(const portal_ctx *ctx, const char *session_token, char out[64])
{
    unsigned char mac[32];
    vg_buf msg = {0};
    vg_buf_printf(&msg, "vigil-csrf:%s", session_token);
    vg_hmac_sha256(ctx->mk->key, sizeof ctx->mk->key, msg.data, msg.len, mac);
    vg_buf_free(&msg);
    char *b64 = vg_base64url_encode(mac, sizeof mac);
    snprintf(out, 64, "%s", b64);
    free(b64);
}

char *portal_cookie_get(const vg_http_req *req, const char *name)
{
    const char *hdr = vg_http_header(req, "Cookie");
    size_t nlen = strlen(name);
    for (const char *p = hdr; p != NULL && *p;) {
        while (*p == ' ' || *p == ';') {
            p++;
        }
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            return vg_strndup(p + nlen + 1, len - nlen - 1);
        }
        p = end;
    }
    return NULL;
}

/* Copies the row (id, tenant_id, user_id) of a lookup; false when there is no row. For a
 * session the id is the session's; for an API key it is not kept. */
static bool auth_from_row(PGresult *res, portal_auth *auth, bool session)
{
    if (res == NULL || PQntuples(res) != 1) {
        return false;
    }
    if (session) {
        snprintf(auth->session_id, sizeof auth->session_id, "%s", PQgetvalue(res, 0, 0));
    }
    snprintf(auth->tenant_id, sizeof auth->tenant_id, "%s", PQgetvalue(res, 0, 1));
    snprintf(auth->user_id, sizeof auth->user_id, "%s",
             PQgetisnull(res, 0, 2) ? "" : PQgetvalue(res, 0, 2));
    return true;
}

/* Looks a bearer token or session token up by its hash; -1 on a database error. */
static int auth_lookup(portal_ctx *ctx, const char *token, bool session, portal_auth *auth)
{
    char hash[65];
    vg_sha256_hex(token, strlen(token), hash);
    const char *params[] = {hash};
    const char *sql = session ? "SELECT * FROM portal_session_lookup($1)"
                              : "SELECT * FROM portal_api_key_lookup($1)";
    PGresult *res = vg_db_exec(ctx->db, sql, 1, params);
    if (res == NULL) {
        return -1;
    }
    int found = auth_from_row(res, auth, session) ? 1 : 0;
    PQclear(res);
    return found;
}

static bool method_is_safe(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
           strcmp(method, "OPTIONS") == 0;
}

static bool auth_bearer(portal_ctx *ctx, vg_http_req *req, const char *hdr, portal_auth *auth)
{
    if (strncasecmp(hdr, "Bearer ", 7) != 0 || hdr[7] == '\0') {
        vg_http_reply_error(req, 401, "unauthorized",
                            "the Authorization header must be \"Bearer <API key>\"");
        return false;
    }
    int rc = auth_lookup(ctx, hdr + 7, false, auth);
    if (rc < 0) {
        portal_reply_db_error(req, ctx->db, NULL);
        return false;
    }
    if (rc == 0) {
        vg_http_reply_error(req, 401, "unauthorized", "unknown or revoked API key");
        return false;
    }
    return true;
}

static bool auth_cookie(portal_ctx *ctx, vg_http_req *req, char *token, portal_auth *auth)
{
    int rc = auth_lookup(ctx, token, true, auth);
    if (rc < 0) {
        portal_reply_db_error(req, ctx->db, NULL);
        return false;
    }
    if (rc == 0) {
        vg_http_reply_error(req, 401, "unauthorized", "the session has expired; log in again");
        return false;
    }
    auth->cookie = true;
    portal_csrf_token(ctx, token, auth->csrf);
    if (!method_is_safe(req->method)) {
        const char *sent = vg_http_header(req, "X-CSRF-Token");
        size_t len = strlen(auth->csrf);
        if (sent == NULL || strlen(sent) != len || !vg_ct_equal(sent, auth->csrf, len)) {
            vg_http_reply_error(req, 403, "csrf",
                                "missing or wrong X-CSRF-Token header for a session request");
            return false;
        }
    }
    return true;
}

bool portal_auth_require(portal_ctx *ctx, vg_http_req *req, portal_auth *auth)
{
    memset(auth, 0, sizeof *auth);
    const char *hdr = vg_http_header(req, "Authorization");
    if (hdr != NULL) {
        return auth_bearer(ctx, req, hdr, auth);
    }
    char *token = portal_cookie_get(req, PORTAL_SESSION_COOKIE);
    if (token == NULL || token[0] == '\0') {
        free(token);
        vg_http_reply_error(req, 401, "unauthorized",
                            "authentication required: an API key (Authorization: Bearer) or "
                            "a session cookie");
        return false;
    }
    bool ok = auth_cookie(ctx, req, token, auth);
    vg_wipe(token, strlen(token));
    free(token);
    return ok;
}

typedef struct session_new {
    const char *tenant_id, *user_id, *hash, *ttl;
} session_new;

static int session_insert(vg_db *db, void *arg)
{
    session_new *s = arg;
    const char *params[] = {s->tenant_id, s->user_id, s->hash, s->ttl};
    /* the tenant's expired sessions go when a new one starts */
    if (vg_db_cmd(db, "DELETE FROM portal_sessions WHERE expires_at < now()", 0, NULL) != 0) {
        return -1;
    }
    return vg_db_cmd(db,
                     "INSERT INTO portal_sessions (tenant_id, user_id, token_hash, expires_at) "
                     "VALUES ($1, $2, $3, now() + make_interval(secs => $4::integer))",
                     4, params);
}

int portal_session_start(portal_ctx *ctx, vg_http_req *req, const char *tenant_id,
                         const char *user_id, char csrf[64])
{
    char *token = vg_token_new("vgs");
    char hash[65], ttl[32];
    vg_sha256_hex(token, strlen(token), hash);
    snprintf(ttl, sizeof ttl, "%ld", ctx->set.session_ttl_s);
    session_new s = {tenant_id, user_id, hash, ttl};
    int rc = vg_db_tx(ctx->db, tenant_id, session_insert, &s);
    if (rc == 0) {
        char *cookie = vg_asprintf("%s=%s; Path=/; Max-Age=%ld; HttpOnly; SameSite=Strict%s",
                                   PORTAL_SESSION_COOKIE, token, ctx->set.session_ttl_s,
                                   req->tls ? "; Secure" : "");
        vg_http_set_header(req, "Set-Cookie", cookie);
        vg_wipe(cookie, strlen(cookie));
        free(cookie);
        portal_csrf_token(ctx, token, csrf);
    }
    vg_wipe(token, strlen(token));
    free(token);
    return rc;
}

void portal_session_cookie_clear(vg_http_req *req)
{
    char cookie[160];
    snprintf(cookie, sizeof cookie, "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
             PORTAL_SESSION_COOKIE, req->tls ? "; Secure" : "");
    vg_http_set_header(req, "Set-Cookie", cookie);
}
