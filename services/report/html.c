/* HTML escaping. */
#include "html.h"

#include <string.h>

void report_html_escape(vg_buf *out, const char *s)
{
    if (s == NULL) {
        return;
    }
    for (const char *p = s; *p != '\0'; p++) {
        switch (*p) {
        case '&':
            vg_buf_puts(out, "&amp;");
            break;
        case '<':
            vg_buf_puts(out, "&lt;");
            break;
        case '>':
            vg_buf_puts(out, "&gt;");
            break;
        case '"':
            vg_buf_puts(out, "&quot;");
            break;
        case '\'':
            vg_buf_puts(out, "&#39;");
            break;
        default:
            vg_buf_append(out, p, 1);
        }
    }
}
