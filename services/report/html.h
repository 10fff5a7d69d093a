/* HTML escaping for the pages and e-mails the report service writes. */
#ifndef REPORT_HTML_H
#define REPORT_HTML_H

#include "vigil/alloc.h"

/* Appends s with & < > " ' escaped (NULL appends nothing). */
void report_html_escape(vg_buf *out, const char *s);

#endif
