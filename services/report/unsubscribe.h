/* GET /unsubscribe?token=... (the link in every e-mail) and POST /unsubscribe?token=...
 * (RFC 8058 one-click, List-Unsubscribe-Post) on the report service's HTTP server. The
 * portal's public URL must route /unsubscribe here (docs/report.md). */
#ifndef REPORT_UNSUBSCRIBE_H
#define REPORT_UNSUBSCRIBE_H

#include "vigil/db.h"
#include "vigil/http.h"

/* db is the loop thread's connection (borrowed). */
void report_unsubscribe_register(vg_http_server *http, vg_db *db);

#endif
