/* OpenAPI spec uploads: JSON or YAML, validated as OpenAPI 3.x, stored with the hosts its
 * servers name (and the service it is uploaded for). */
#ifndef PORTAL_SPECS_H
#define PORTAL_SPECS_H

#include <jansson.h>
#include <stddef.h>

#include "portal.h"

/* "host[:port]" (lowercase, port only when not the scheme's default) of an http(s) URL, as a
 * new string; NULL when url is not an absolute http(s) URL. */
char *portal_url_hostkey(const char *url);

/* Parses body as JSON (content_type names JSON, or it starts with '{') or YAML, and checks it
 * is an OpenAPI 3.x document (openapi, info.title, info.version, paths). Returns the document
 * or NULL with a precise message in errbuf. */
json_t *portal_spec_parse(const char *body, size_t len, const char *content_type, char *errbuf,
                          size_t errlen);
/* The hosts named by the document's servers URLs (server variables replaced by their
 * defaults): a new array of unique strings. */
json_t *portal_spec_hosts(const json_t *doc);

void portal_spec_upload(vg_http_req *req, void *arg); /* POST /api/v1/clusters/{id}/specs */
void portal_spec_list(vg_http_req *req, void *arg);   /* GET /api/v1/clusters/{id}/specs */

#endif
