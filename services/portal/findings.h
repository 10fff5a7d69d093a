/* Findings: filtered listing with cursor pagination, one finding, and status changes. */
#ifndef PORTAL_FINDINGS_H
#define PORTAL_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "portal.h"

/* Checks a comma-separated filter against the allowed words and writes it as a PostgreSQL
 * text array literal ("{a,b}") into out; false when a word is not allowed. */
bool portal_filter_list(const char *value, const char *const *allowed, char *out, size_t outlen);

void portal_findings_list(vg_http_req *req, void *arg); /* GET /api/v1/findings */
void portal_finding_get(vg_http_req *req, void *arg);   /* GET /api/v1/findings/{id} */
void portal_finding_patch(vg_http_req *req, void *arg); /* PATCH /api/v1/findings/{id} */

#endif
