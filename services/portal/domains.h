/* Target domains: a tenant proves it controls a public host by serving a challenge token at
 * http(s)://<host>/.well-known/vigil-challenge/<id>; verified hosts are accepted as fuzz job
 * targets. */
#ifndef PORTAL_DOMAINS_H
#define PORTAL_DOMAINS_H

#include <stdbool.h>

#include "portal.h"

/* True when s is "host" or "host:port" with a DNS name or IPv4 literal (lowercase). */
bool portal_domain_host_valid(const char *s);

void portal_domain_create(vg_http_req *req, void *arg); /* POST /api/v1/target-domains */
void portal_domain_list(vg_http_req *req, void *arg);   /* GET /api/v1/target-domains */
void portal_domain_delete(vg_http_req *req, void *arg); /* DELETE /api/v1/target-domains/{id} */
void portal_domain_verify(vg_http_req *req, void *arg); /* POST …/target-domains/{id}/verify */

#endif
