/* API2:2023 Broken Authentication: missing, invalid, expired, alg=none and weak-key tokens;
 * user enumeration and missing lockout on login endpoints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../jwt.h"
#include "../payloads.h"
#include "../redact.h"
#include "checks.h"
#include "vigil/alloc.h"

#define D(id, title, sev, conf, sends, proof, fix)                                                 \
    {                                                                                              \
        id, "API2:2023", "Broken Authentication", title, sev, conf, sends, proof, fix              \
    }

const fz_check_def fz_defs_api2[] = {
    D("API2-AUTH-001", "Endpoint requiring authentication answers without credentials", "high",
      "high",
      "Requests an operation the spec marks as secured, once with and once without "
      "credentials",
      "The anonymous request gets the same 2xx answer as the authenticated one",
      "Require and verify credentials on every secured operation (deny by default)."),
    D("API2-AUTH-002", "Invalid token accepted", "critical", "high",
      "Sends the identity's credentials altered: its JWT with a changed signature, other "
      "tokens, keys and cookies replaced by random values",
      "The altered token gets the same 2xx answer as the valid one while no token is refused",
      "Verify the token signature (and issuer/audience) on every request."),
    D("API2-AUTH-003", "Expired token accepted", "high", "high",
      "Re-signs the identity's claims with an exp one hour in the past",
      "The expired token gets a 2xx answer on an endpoint that refuses invalid tokens",
      "Reject tokens whose exp (and nbf) claims are not valid; keep clock skew small."),
    D("API2-AUTH-004", "JWT with alg=none accepted", "critical", "high",
      "Re-encodes the identity's JWT with {\"alg\":\"none\"} and an empty signature",
      "The unsigned token gets a 2xx answer on an endpoint that refuses invalid tokens",
      "Pin the accepted algorithms in the verifier; never accept alg=none."),
    D("API2-AUTH-005", "JWT signed with a weak HMAC secret", "critical", "high",
      "Tries a wordlist of common HS256 secrets offline against the identity's token, then "
      "signs new claims with the secret found",
      "A token forged with the cracked secret gets a 2xx answer",
      "Use a random key of at least 256 bits (or asymmetric keys) and rotate it."),
    D("API2-AUTH-006", "User enumeration through differing login answers", "medium", "high",
      "Logs in twice with an existing user name and twice with unknown ones, all with wrong "
      "passwords",
      "Answers for the existing user consistently differ (status or body) from those for "
      "unknown users",
      "Answer every failed login with the same status, body and timing."),
    D("API2-AUTH-007", "No lockout or throttling after repeated failed logins", "medium", "medium",
      "Sends 12 failed logins for one user name",
      "Every attempt is answered the same way: no 429/423, no Retry-After, no lockout",
      "Throttle or temporarily lock an account (and a client) after a few failed logins."),
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

/* The endpoint used for the token checks: it answers the identity, refuses anonymous and
 * invalid tokens. */
typedef struct auth_ref {
    const fz_endpoint *ep;
    char *url;
} auth_ref;

static bool refused(const fz_req *req)
{
    return req->status == 401 || req->status == 403;
}

static void set_bearer(fz_req *req, const char *token)
{
    char *v = vg_asprintf("Bearer %s", token);
    fz_req_set_header(req, "Authorization", v);
    free(v);
}

/* A request carrying the identity's headers with every credential replaced by an invalid one
 * (a JWT with an altered signature, else a random value); NULL when it has no credential. */
static fz_req *invalid_credentials_req(fz_ctx *ctx, int u, const char *url)
{
    const fz_identity *id = &ctx->tgt->ids[u];
    fz_req *req = fz_ctx_req(ctx, "GET", url, fz_ctx_anon(ctx));
    int replaced = 0;
    for (int i = 0; i < id->nheaders; i++) {
        const char *line = id->headers[i];
        size_t n = strcspn(line, ":");
        char *name = vg_strndup(line, n);
        if (!fz_header_is_secret(name)) {
            fz_req_add_header(req, line);
        } else if (strcasecmp(name, "Authorization") == 0 && id->jwt != NULL) {
            char *bad = fz_jwt_tamper(id->jwt);
            set_bearer(req, bad);
            free(bad);
            replaced++;
        } else {
            char *bad = fz_payload_marker("vigil-invalid-");
            bool bearer = strcasestr(line + n, "bearer ") != NULL;
            char *value = bearer ? vg_asprintf("Bearer %s", bad) : vg_strdup(bad);
            fz_req_set_header(req, name, value);
            free(value);
            free(bad);
            replaced++;
        }
        free(name);
    }
    req->identity = id->name;
    if (replaced == 0) {
        fz_req_destroy(req);
        return NULL;
    }
    return req;
}

static void invalid_token_probe(fz_ctx *ctx, int u, fz_req **ok, const fz_endpoint **eps, size_t n,
                                auth_ref *ref)
{
    fz_req **bad = vg_calloc(n + 1, sizeof *bad);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        fz_req *req = invalid_credentials_req(ctx, u, ok[i]->url);
        if (req == NULL) {
            break;
        }
        bad[m++] = req;
    }
    fz_run(ctx, bad, m);
    for (size_t i = 0; i < m; i++) {
        if (fz_is_2xx(bad[i]) && fz_same_answer(bad[i], ok[i])) {
            fz_finding f = {.def = &fz_defs_api2[1],
                            .method = "GET",
                            .path = eps[i]->path,
                            .req = bad[i],
                            .baseline = ok[i]};
            fz_report(ctx, &f);
        } else if (refused(bad[i]) && ref->ep == NULL) {
            ref->ep = eps[i];
            ref->url = vg_strdup(ok[i]->url);
        }
    }
    fz_reqs_free(bad, m);
    free(bad);
}

static void missing_auth(fz_ctx *ctx, int u, auth_ref *ref)
{
    size_t cap = ctx->tgt->neps + 1, n = 0, nref = 0;
    fz_req **reqs = vg_calloc(cap * 2, sizeof *reqs);
    const fz_endpoint **eps = vg_calloc(cap, sizeof *eps);
    fz_req **ok = vg_calloc(cap, sizeof *ok);
    const fz_endpoint **okeps = vg_calloc(cap, sizeof *okeps);
    int anon = fz_ctx_anon(ctx);
    for (size_t e = 0; e < ctx->tgt->neps; e++) {
        const fz_endpoint *ep = &ctx->tgt->eps[e];
        if (strcmp(ep->method, "GET") != 0 || !ep->auth_required || fz_path_is_login(ep->path)) {
            continue;
        }
        char *url = fz_ctx_url(ctx, ep, u >= 0 ? u : anon, NULL, NULL);
        reqs[2 * n] = fz_ctx_req(ctx, "GET", url, u >= 0 ? u : anon);
        reqs[2 * n + 1] = fz_ctx_req(ctx, "GET", url, anon);
        eps[n++] = ep;
        free(url);
    }
    fz_run(ctx, reqs, 2 * n);
    for (size_t i = 0; i < n; i++) {
        fz_req *with = reqs[2 * i], *without = reqs[2 * i + 1];
        bool anon_ok = fz_is_2xx(without) && without->resp_body.len > 2;
        if (anon_ok && (u < 0 || fz_same_answer(with, without))) {
            fz_finding f = {.def = &fz_defs_api2[0],
                            .method = "GET",
                            .path = eps[i]->path,
                            .req = without,
                            .baseline = u >= 0 ? with : NULL,
                            .confidence = u >= 0 ? "high" : "medium"};
            fz_report(ctx, &f);
        } else if (u >= 0 && fz_is_2xx(with) && refused(without)) {
            ok[nref] = with;
            okeps[nref++] = eps[i];
        }
    }
    if (u >= 0 && nref > 0) {
        invalid_token_probe(ctx, u, ok, okeps, nref, ref);
    }
    fz_reqs_free(reqs, 2 * n);
    free(reqs);
    free(eps);
    free(ok);
    free(okeps);
}

/* The forged token alone: no other credential of the identity (cookies, API keys) is sent. */
static void token_probe(fz_ctx *ctx, int u, const auth_ref *ref, const char *token,
                        const fz_check_def *def, const char *detail)
{
    fz_req *req = fz_ctx_req(ctx, "GET", ref->url, fz_ctx_anon(ctx));
    req->identity = ctx->tgt->ids[u].name;
    set_bearer(req, token);
    fz_engine_send(ctx->eng, req);
    if (fz_is_2xx(req)) {
        fz_finding f = {
            .def = def, .method = "GET", .path = ref->ep->path, .req = req, .detail = detail};
        fz_report(ctx, &f);
    }
    fz_req_destroy(req);
}

static void jwt_checks(fz_ctx *ctx, int u, const auth_ref *ref)
{
    const char *jwt = ctx->tgt->ids[u].jwt;
    if (jwt == NULL || ref->ep == NULL) {
        return;
    }
    char *none = fz_jwt_forge_none(jwt);
    if (none != NULL) {
        token_probe(ctx, u, ref, none, &fz_defs_api2[3], NULL);
    }
    free(none);
    int idx = fz_jwt_crack_hs256(jwt, fz_jwt_weak_secrets);
    if (idx < 0) {
        return;
    }
    json_t *payload = NULL;
    if (!fz_jwt_parse(jwt, NULL, &payload)) {
        return;
    }
    time_t now = time(NULL);
    char *jti = fz_payload_marker("vigil-");
    json_object_set_new(payload, "jti", json_string(jti));
    json_object_set_new(payload, "iat", json_integer((json_int_t)now));
    json_object_set_new(payload, "exp", json_integer((json_int_t)now + 600));
    char *forged = fz_jwt_sign_hs256(payload, fz_jwt_weak_secrets[idx]);
    char detail[160];
    snprintf(detail, sizeof detail,
             "the HS256 key is entry %d of the fuzzer's weak-secret wordlist; a token with new "
             "claims signed with it was accepted",
             idx);
    token_probe(ctx, u, ref, forged, &fz_defs_api2[4], detail);
    json_object_set_new(payload, "iat", json_integer((json_int_t)now - 7200));
    json_object_set_new(payload, "exp", json_integer((json_int_t)now - 3600));
    char *expired = fz_jwt_sign_hs256(payload, fz_jwt_weak_secrets[idx]);
    token_probe(ctx, u, ref, expired, &fz_defs_api2[2], "exp was one hour in the past");
    free(forged);
    free(expired);
    free(jti);
    json_decref(payload);
}

/* Which body properties of a login endpoint carry the user name and the password. */
static bool login_fields(const fz_endpoint *ep, const char **user, const char **pass)
{
    const json_t *props = json_object_get(ep->body_schema, "properties");
    const char *key;
    json_t *v;
    *user = *pass = NULL;
    json_object_foreach((json_t *)props, key, v)
    {
        if (strcasestr(key, "pass") != NULL) {
            *pass = key;
        } else if (strcasecmp(key, "username") == 0 || strcasecmp(key, "email") == 0 ||
                   strcasecmp(key, "login") == 0 || strcasecmp(key, "user") == 0) {
            *user = key;
        }
    }
    return *user != NULL && *pass != NULL;
}

static fz_req *login_req(fz_ctx *ctx, const fz_endpoint *ep, const char *ufield, const char *user,
                         const char *pfield)
{
    char *pw = fz_payload_marker("Vigil-wrong-");
    json_t *body = json_object();
    json_object_set_new(body, ufield, json_string(user));
    json_object_set_new(body, pfield, json_string(pw));
    char *text = json_dumps(body, JSON_COMPACT);
    char *url = fz_ctx_url_path(ctx, ep->path);
    fz_req *req = fz_ctx_req(ctx, "POST", url, fz_ctx_anon(ctx));
    fz_req_set_body(req, "application/json", text, strlen(text));
    free(url);
    free(text);
    free(pw);
    json_decref(body);
    return req;
}

/* Body with every occurrence of user replaced, for comparing answers about different users. */
static char *normalized(const fz_req *req, const char *user)
{
    vg_buf out = {0};
    const char *p = req->resp_body.data ? req->resp_body.data : "";
    size_t ul = strlen(user);
    while (*p != '\0') {
        if (ul > 0 && strncmp(p, user, ul) == 0) {
            vg_buf_puts(&out, "<user>");
            p += ul;
        } else {
            vg_buf_append(&out, p++, 1);
        }
    }
    vg_buf_puts(&out, "");
    return vg_buf_steal(&out);
}

static void enumeration(fz_ctx *ctx, const fz_endpoint *ep, const char *uf, const char *pf,
                        const char *known)
{
    char *u1 = fz_payload_marker("vigil-nouser-"), *u2 = fz_payload_marker("vigil-nouser-");
    fz_req *r[4] = {login_req(ctx, ep, uf, known, pf), login_req(ctx, ep, uf, known, pf),
                    login_req(ctx, ep, uf, u1, pf), login_req(ctx, ep, uf, u2, pf)};
    fz_run(ctx, r, 4);
    char *n[4] = {normalized(r[0], known), normalized(r[1], known), normalized(r[2], u1),
                  normalized(r[3], u2)};
    bool stable = r[0]->status == r[1]->status && r[2]->status == r[3]->status &&
                  strcmp(n[0], n[1]) == 0 && strcmp(n[2], n[3]) == 0;
    bool differs = r[0]->status != r[2]->status || strcmp(n[0], n[2]) != 0;
    bool failed = r[0]->status >= 400 && r[0]->status < 500 && r[2]->status >= 400 &&
                  r[2]->status < 500 && r[0]->status != 429 && r[2]->status != 429;
    if (stable && differs && failed) {
        fz_finding f = {.def = &fz_defs_api2[5],
                        .method = "POST",
                        .path = ep->path,
                        .req = r[0],
                        .baseline = r[2]};
        fz_report(ctx, &f);
    }
    for (int i = 0; i < 4; i++) {
        free(n[i]);
        fz_req_destroy(r[i]);
    }
    free(u1);
    free(u2);
}

#define LOCKOUT_TRIES 12

static void lockout(fz_ctx *ctx, const fz_endpoint *ep, const char *uf, const char *pf,
                    const char *user)
{
    fz_req *r[LOCKOUT_TRIES];
    for (int i = 0; i < LOCKOUT_TRIES; i++) {
        r[i] = login_req(ctx, ep, uf, user, pf);
    }
    fz_run(ctx, r, LOCKOUT_TRIES);
    bool throttled = false;
    for (int i = 0; i < LOCKOUT_TRIES; i++) {
        char *retry = fz_req_resp_header(r[i], "Retry-After");
        throttled = throttled || retry != NULL || r[i]->status != r[0]->status ||
                    r[i]->status == 429 || r[i]->status == 423 || r[i]->status == 0;
        free(retry);
    }
    if (!throttled && r[0]->status >= 400 && r[0]->status < 500) {
        fz_finding f = {.def = &fz_defs_api2[6],
                        .method = "POST",
                        .path = ep->path,
                        .req = r[LOCKOUT_TRIES - 1],
                        .detail = "12 failed logins in a row were all answered alike"};
        fz_report(ctx, &f);
    }
    for (int i = 0; i < LOCKOUT_TRIES; i++) {
        fz_req_destroy(r[i]);
    }
}

static void login_checks(fz_ctx *ctx, const fz_endpoint *ep)
{
    const char *uf, *pf;
    if (!login_fields(ep, &uf, &pf)) {
        return;
    }
    char *known[4];
    int nk = 0;
    for (int u = 0; u < ctx->tgt->nids && nk == 0; u++) {
        nk = fz_ctx_collect_key(ctx, u, uf, known, 4);
    }
    if (nk > 0) {
        enumeration(ctx, ep, uf, pf, known[0]);
    }
    char *probe = fz_payload_marker("vigil-lockout-");
    lockout(ctx, ep, uf, pf, nk > 0 ? known[0] : probe);
    free(probe);
    fz_strs_free(known, nk);
}

int fz_check_api2(fz_ctx *ctx)
{
    int u = fz_ctx_user(ctx, -1);
    auth_ref ref = {0};
    missing_auth(ctx, u, &ref);
    if (u >= 0) {
        jwt_checks(ctx, u, &ref);
    }
    free(ref.url);
    for (size_t e = 0; e < ctx->tgt->neps && !fz_engine_expired(ctx->eng); e++) {
        const fz_endpoint *ep = &ctx->tgt->eps[e];
        if (strcmp(ep->method, "POST") == 0 && fz_path_is_login(ep->path) && ep->body_schema) {
            login_checks(ctx, ep);
        }
    }
    return fz_engine_expired(ctx->eng) ? -1 : 0;
}
