/* API3:2023 Broken Object Property Level Authorization: mass assignment and excessive data
 * exposure. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checks.h"
#include "vigil/alloc.h"

const fz_check_def fz_defs_api3[] = {
    {"API3-PROP-001", "API3:2023", "Broken Object Property Level Authorization",
     "Mass assignment of privileged properties", "high", "high",
     "Sends the object's update (PATCH/PUT, only with allow_unsafe_methods) with privileged "
     "properties role=admin, is_admin=true, admin=true added, then reads the object back",
     "The read-back object carries a privileged value it did not have before (the fuzzer then "
     "restores the previous values)",
     "Bind request bodies to an explicit allow-list of client-writable properties."},
    {"API3-PROP-002", "API3:2023", "Broken Object Property Level Authorization",
     "Excessive data exposure of sensitive properties", "high", "high",
     "Reads every parameterless GET operation as each identity and inspects the JSON answers",
     "An answer contains password hashes, secrets, API keys, tokens or card/SSN data (by "
     "property name, or by a password-hash format)",
     "Return only the properties the client needs; filter sensitive ones on the server."},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static const char *const sensitive_keys[] = {
    "password",
    "password_hash",
    "passwordhash",
    "passwd",
    "pwd",
    "pwdhash",
    "hash_password",
    "secret",
    "client_secret",
    "api_key",
    "apikey",
    "api_secret",
    "private_key",
    "secret_key",
    "access_key",
    "mfa_secret",
    "totp_secret",
    "otp_secret",
    "reset_token",
    "refresh_token",
    "session_token",
    "ssn",
    "social_security_number",
    "credit_card",
    "card_number",
    "cvv",
    "cvc",
    "pin",
    NULL,
};

static bool key_sensitive(const char *key)
{
    for (int i = 0; sensitive_keys[i] != NULL; i++) {
        if (strcasecmp(key, sensitive_keys[i]) == 0) {
            return true;
        }
    }
    return false;
}

static bool value_is_hash(const char *v)
{
    return strncmp(v, "$2a$", 4) == 0 || strncmp(v, "$2b$", 4) == 0 || strncmp(v, "$2y$", 4) == 0 ||
           strncmp(v, "$argon2", 7) == 0 || strncmp(v, "$scrypt$", 8) == 0 ||
           strncmp(v, "pbkdf2_", 7) == 0 || strncmp(v, "$6$", 3) == 0 || strncmp(v, "$5$", 3) == 0;
}

static void scan(const json_t *j, json_t *found, int depth)
{
    if (depth > 8 || json_array_size(found) >= 10) {
        return;
    }
    if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v)
        {
            scan(v, found, depth + 1);
        }
        return;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)j, key, v)
    {
        bool nonempty = (json_is_string(v) && json_string_length(v) > 0) || json_is_integer(v);
        if (nonempty &&
            (key_sensitive(key) || (json_is_string(v) && value_is_hash(json_string_value(v))))) {
            json_array_append_new(found, json_string(key));
        } else if (json_is_object(v) || json_is_array(v)) {
            scan(v, found, depth + 1);
        }
    }
}

static void exposure(fz_ctx *ctx)
{
    for (int w = 0; w <= ctx->tgt->nids; w++) {
        for (size_t i = 0; i < ctx->ncrawl[w]; i++) {
            const fz_crawl_entry *ce = &ctx->crawl[w][i];
            if (ce->status < 200 || ce->status >= 300 || ce->body == NULL) {
                continue;
            }
            json_t *found = json_array();
            scan(ce->body, found, 0);
            if (json_array_size(found) == 0) {
                json_decref(found);
                continue;
            }
            /* re-fetch to attach the exchange as evidence (values redacted) */
            char *url = fz_ctx_url(ctx, ce->ep, w, NULL, NULL);
            fz_req *req = fz_ctx_req(ctx, "GET", url, w);
            fz_engine_send(ctx->eng, req);
            json_t *extra = json_pack("{s:o}", "sensitive_properties", found);
            fz_finding f = {.def = &fz_defs_api3[1],
                            .method = "GET",
                            .path = ce->path,
                            .req = req,
                            .extra = extra};
            fz_report(ctx, &f);
            fz_req_destroy(req);
            free(url);
        }
    }
}

static const char *const priv_keys[] = {"role", "is_admin", "admin", "isAdmin", NULL};

static json_t *priv_values(void)
{
    return json_pack("{s:s,s:b,s:b,s:b}", "role", "admin", "is_admin", 1, "admin", 1, "isAdmin", 1);
}

static json_t *read_back(fz_ctx *ctx, const char *url, int u)
{
    fz_req *req = fz_ctx_req(ctx, "GET", url, u);
    fz_engine_send(ctx->eng, req);
    json_t *j = fz_is_2xx(req) ? fz_resp_json(req) : NULL;
    fz_req_destroy(req);
    return j;
}

/* Privileged keys whose value changed to the injected one. */
static json_t *escalated(const json_t *before, const json_t *after, const json_t *injected)
{
    json_t *keys = json_array();
    for (int i = 0; priv_keys[i] != NULL; i++) {
        const json_t *b = json_object_get(before, priv_keys[i]);
        const json_t *a = json_object_get(after, priv_keys[i]);
        const json_t *want = json_object_get(injected, priv_keys[i]);
        if (a != NULL && json_equal(a, want) && (b == NULL || !json_equal(a, b))) {
            json_array_append_new(keys, json_string(priv_keys[i]));
        }
    }
    return keys;
}

static void restore(fz_ctx *ctx, const fz_endpoint *ep, const char *url, int u,
                    const json_t *before, const json_t *keys)
{
    json_t *body = json_object();
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        const json_t *old = json_object_get(before, json_string_value(k));
        json_object_set_new(body, json_string_value(k), old ? json_deep_copy(old) : json_null());
    }
    char *text = json_dumps(body, JSON_COMPACT);
    fz_req *req = fz_ctx_req(ctx, ep->method, url, u);
    fz_req_set_body(req, "application/json", text, strlen(text));
    fz_engine_send(ctx->eng, req);
    fz_req_destroy(req);
    free(text);
    json_decref(body);
}

static void mass_assignment(fz_ctx *ctx, const fz_endpoint *ep, int u)
{
    char *url = fz_ctx_url(ctx, ep, u, NULL, NULL);
    json_t *before = read_back(ctx, url, u);
    if (!json_is_object(before)) {
        json_decref(before);
        free(url);
        return;
    }
    json_t *injected = priv_values();
    char *text = json_dumps(injected, JSON_COMPACT);
    fz_req *req = fz_ctx_req(ctx, ep->method, url, u);
    fz_req_set_body(req, "application/json", text, strlen(text));
    fz_engine_send(ctx->eng, req);
    json_t *after = fz_is_2xx(req) ? read_back(ctx, url, u) : NULL;
    json_t *keys = escalated(before, after, injected);
    if (json_array_size(keys) > 0) {
        fz_finding f = {.def = &fz_defs_api3[0],
                        .method = ep->method,
                        .path = ep->path,
                        .req = req,
                        .extra = json_pack("{s:O}", "escalated_properties", keys)};
        fz_report(ctx, &f);
        restore(ctx, ep, url, u, before, keys);
    }
    json_decref(keys);
    json_decref(after);
    json_decref(before);
    json_decref(injected);
    fz_req_destroy(req);
    free(text);
    free(url);
}

int fz_check_api3(fz_ctx *ctx)
{
    exposure(ctx);
    int u = fz_ctx_user(ctx, -1);
    for (size_t e = 0; u >= 0 && e < ctx->tgt->neps && !fz_engine_expired(ctx->eng); e++) {
        const fz_endpoint *ep = &ctx->tgt->eps[e];
        bool update = strcmp(ep->method, "PATCH") == 0 || strcmp(ep->method, "PUT") == 0;
        if (update && fz_target_method_allowed(ctx->tgt, ep->method, ep->path) &&
            fz_target_find(ctx->tgt, "GET", ep->path) != NULL) {
            mass_assignment(ctx, ep, u);
        }
    }
    return fz_engine_expired(ctx->eng) ? -1 : 0;
}
