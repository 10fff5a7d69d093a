/* The web page's static files: GET / (index.html) and GET /static/<path> from the folder
 * VIGIL_PORTAL_WWW, with content types by extension and no way out of that folder. */
#ifndef PORTAL_STATIC_FILES_H
#define PORTAL_STATIC_FILES_H

#include <stdbool.h>

#include "portal.h"

/* True when rel (a '/'-separated relative path) has only safe segments: no empty, ".", ".."
 * or dot-files, no backslashes or control characters. */
bool portal_static_path_safe(const char *rel);
/* The Content-Type for a file name, by extension. */
const char *portal_static_content_type(const char *name);

void portal_static_index(vg_http_req *req, void *arg); /* GET / */
void portal_static_file(vg_http_req *req, void *arg);  /* GET /static/<path> */

#endif
