/* Active tests: job creation (validated, target policy, identities' header values sealed,
 * fuzz.run published), listing and progress. */
#ifndef PORTAL_FUZZJOBS_H
#define PORTAL_FUZZJOBS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "portal.h"

/* Checks the request body (base_url, identities, categories, api_ids, options) and builds the
 * normalised request (header values still in clear). NULL with a message when invalid. */
json_t *portal_fuzz_request_parse(const json_t *body, char *errbuf, size_t errlen);

void portal_fuzzjob_create(vg_http_req *req, void *arg); /* POST /api/v1/fuzz-jobs */
void portal_fuzzjob_list(vg_http_req *req, void *arg);   /* GET /api/v1/fuzz-jobs */
void portal_fuzzjob_get(vg_http_req *req, void *arg);    /* GET /api/v1/fuzz-jobs/{id} */

#endif
