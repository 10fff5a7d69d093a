/* JSON and database helpers shared by the portal's handlers: tenant-scoped queries whose
 * result is built as JSON by PostgreSQL, request-body field checks that answer 400 themselves,
 * and uniform replies for database failures. */
#ifndef PORTAL_JSON_UTIL_H
#define PORTAL_JSON_UTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "portal.h"

#define PORTAL_MAX_PARAMS 16

/* One statement whose first column of the first row is JSON text (to_jsonb, jsonb_agg...). */
typedef struct portal_query {
    const char *sql;
    int nparams;
    const char *params[PORTAL_MAX_PARAMS];
    json_t *out; /* parsed result, NULL when no row or SQL NULL; owned by the caller */
} portal_query;

/* Runs q inside vg_db_tx(db, tenant_id, ...). Returns 0 (q->out set) or -1 (database error,
 * see vg_db_sqlstate). */
int portal_query_run(vg_db *db, const char *tenant_id, portal_query *q)
    __attribute__((warn_unused_result));
/* Runs one statement inside an already open transaction; same result convention. */
int portal_query_in_tx(vg_db *db, portal_query *q) __attribute__((warn_unused_result));

/* Runs sql with $1 = the request's {id} (a UUID, else 400) in the tenant's transaction and
 * returns its JSON; NULL after replying 400, 500, or 404 "no such <what>" when no row. */
json_t *portal_query_by_id(vg_db *db, vg_http_req *req, const char *tenant_id, const char *sql,
                           const char *what);

/* Runs the list query q in the tenant's transaction and replies 200 {key: rows} (rows: [] when
 * NULL), or 500. */
void portal_reply_list(vg_db *db, vg_http_req *req, const char *tenant_id, portal_query *q,
                       const char *key);

/* Replies 409 with conflict_msg on a unique violation, else 500; logs the failure. */
void portal_reply_db_error(vg_http_req *req, vg_db *db, const char *conflict_msg);

/* The body as a JSON object, or NULL after replying 400 (invalid JSON or not an object). */
json_t *portal_body_object(vg_http_req *req);

/* A string field: returns true with *out borrowed (NULL when absent and optional); replies
 * 400 and returns false when it is missing (required), not a string, empty, longer than
 * maxlen or contains control characters. */
bool portal_field_string(vg_http_req *req, json_t *obj, const char *key, bool required,
                         size_t maxlen, const char **out);

/* True when s looks like an email address (one '@', non-empty local part, a dotted domain,
 * no spaces or control characters, at most 254 bytes). */
bool portal_email_valid(const char *s);

/* Lowercased copy of s (ASCII). */
char *portal_lower(const char *s);

/* The UUID path parameter `name`, or NULL after replying 404 (a malformed id names nothing). */
const char *portal_param_uuid(vg_http_req *req, const char *name);

#endif
