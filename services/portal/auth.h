/* Request authentication: `Authorization: Bearer <API key>` or the `vigil_session` cookie,
 * with CSRF protection (X-CSRF-Token) on cookie-authenticated writes. */
#ifndef PORTAL_AUTH_H
#define PORTAL_AUTH_H

#include <stdbool.h>

#include "portal.h"
#include "vigil/util.h"

#define PORTAL_SESSION_COOKIE "vigil_session"

typedef struct portal_auth {
    char tenant_id[VG_UUID_LEN + 1];
    char user_id[VG_UUID_LEN + 1];    /* "" for an API key without a user */
    char session_id[VG_UUID_LEN + 1]; /* "" unless authenticated by the cookie */
    bool cookie;
    char csrf[64]; /* the session's CSRF token when cookie is true */
} portal_auth;

/* Authenticates req. On failure replies 401 (no or unknown credential) or 403 (cookie
 * write without a matching X-CSRF-Token) and returns false: the handler must return. */
bool portal_auth_require(portal_ctx *ctx, vg_http_req *req, portal_auth *auth);

/* The CSRF token of a session: base64url HMAC-SHA256 of its cookie value under the master
 * key, into out[64]. */
void portal_csrf_token(const portal_ctx *ctx, const char *session_token, char out[64]);

/* The value of cookie `name` in the request's Cookie header, as a new string, or NULL. */
char *portal_cookie_get(const vg_http_req *req, const char *name);

/* Creates a session for the user (inside the tenant's transaction), sets the cookie on the
 * response and writes its CSRF token into csrf. Returns 0 or -1 (database error). */
int portal_session_start(portal_ctx *ctx, vg_http_req *req, const char *tenant_id,
                         const char *user_id, char csrf[64]) __attribute__((warn_unused_result));

/* Sets a cookie that clears the session cookie. */
void portal_session_cookie_clear(vg_http_req *req);

#endif
