/* Accounts: signup, login (throttled), logout and the current session. */
#ifndef PORTAL_SIGNUP_H
#define PORTAL_SIGNUP_H

#include "portal.h"

void portal_signup_handle(vg_http_req *req, void *arg);  /* POST /api/v1/signup */
void portal_login_handle(vg_http_req *req, void *arg);   /* POST /api/v1/login */
void portal_logout_handle(vg_http_req *req, void *arg);  /* POST /api/v1/logout */
void portal_session_handle(vg_http_req *req, void *arg); /* GET /api/v1/session */

#define PORTAL_PASSWORD_MIN 12
#define PORTAL_PASSWORD_MAX 1024

#endif
