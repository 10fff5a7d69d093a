/* The tenant's latest report (written by the report service into tenant_reports):
 * GET /api/v1/report (JSON) and GET /api/v1/report.html. 404 until one exists. */
#ifndef PORTAL_REPORT_H
#define PORTAL_REPORT_H

#include "portal.h"

void portal_report_json(vg_http_req *req, void *arg);
void portal_report_html(vg_http_req *req, void *arg);

/* POST /api/v1/report: asks the report service for a fresh report (report.generate). */
void portal_report_generate(vg_http_req *req, void *arg);

#endif
