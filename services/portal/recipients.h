/* Email recipients of findings: add, list, remove. */
#ifndef PORTAL_RECIPIENTS_H
#define PORTAL_RECIPIENTS_H

#include "portal.h"

void portal_recipient_create(vg_http_req *req, void *arg); /* POST /api/v1/email-recipients */
void portal_recipient_list(vg_http_req *req, void *arg);   /* GET /api/v1/email-recipients */
/* DELETE /api/v1/email-recipients?email=… and DELETE /api/v1/email-recipients/{id} */
void portal_recipient_delete(vg_http_req *req, void *arg);

#endif
