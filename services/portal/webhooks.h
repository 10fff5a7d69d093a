/* Webhook targets: create (secret generated or given, returned once, stored sealed), list,
 * delete, and a test delivery (webhook.test command). */
#ifndef PORTAL_WEBHOOKS_H
#define PORTAL_WEBHOOKS_H

#include "portal.h"

void portal_webhook_create(vg_http_req *req, void *arg); /* POST /api/v1/webhooks */
void portal_webhook_list(vg_http_req *req, void *arg);   /* GET /api/v1/webhooks */
void portal_webhook_delete(vg_http_req *req, void *arg); /* DELETE /api/v1/webhooks/{id} */
void portal_webhook_test(vg_http_req *req, void *arg);   /* POST /api/v1/webhooks/{id}/test */

#endif
