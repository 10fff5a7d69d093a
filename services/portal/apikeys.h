/* API keys of the organization: list, create (the key is shown once), revoke. */
#ifndef PORTAL_APIKEYS_H
#define PORTAL_APIKEYS_H

#include "portal.h"

void portal_apikey_list(vg_http_req *req, void *arg);   /* GET /api/v1/api-keys */
void portal_apikey_create(vg_http_req *req, void *arg); /* POST /api/v1/api-keys */
void portal_apikey_revoke(vg_http_req *req, void *arg); /* DELETE /api/v1/api-keys/{id} */

#endif
