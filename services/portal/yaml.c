/* A YAML subset parser for OpenAPI documents (see yaml.h).
 *
 * The text is split into physical lines first (indent, content, number). Block structure is
 * parsed by indentation: parse_block looks at the first content line deeper than its parent
 * and dispatches to a sequence, a mapping or a scalar. Compact forms ("- key: v", "- - v")
 * are handled by re-basing the line: its content starts after "- " with a deeper indent.
 * Flow collections and quoted scalars may span lines: their text is gathered until it is
 * complete, then parsed by the flow parser (yaml_flow.c). */
#include "yaml.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/alloc.h"
#include "yaml_internal.h"

static void yaml_line_init(yline *l, const char *s, size_t len, int no)
{
    l->s = s;
    l->len = len;
    l->no = no;
    l->indent = 0;
    while ((size_t)l->indent < len && s[l->indent] == ' ') {
        l->indent++;
    }
    size_t k = (size_t)l->indent;
    while (k < len && (s[k] == ' ' || s[k] == '\t')) {
        k++;
    }
    l->blank = k == len || s[k] == '#';
    l->tab_indent = !l->blank && (size_t)l->indent < len && s[l->indent] == '\t';
    l->empty = k == len;
}

static bool yaml_split(yparser *p, const char *data, size_t len)
{
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        len -= 3;
    }
    if (memchr(data, '\0', len) != NULL) {
        yaml_fail(p, 1, "NUL bytes are not allowed in a YAML document");
        return false;
    }
    size_t cap = 16;
    p->lines = vg_malloc(cap * sizeof *p->lines);
    const char *s = data, *end = data + len;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t l = nl ? (size_t)(nl - s) : (size_t)(end - s);
        size_t content = l > 0 && s[l - 1] == '\r' ? l - 1 : l;
        if (p->n == cap) {
            cap *= 2;
            p->lines = vg_realloc(p->lines, cap * sizeof *p->lines);
        }
        yaml_line_init(&p->lines[p->n], s, content, (int)p->n + 1);
        p->n++;
        s = nl ? nl + 1 : end;
    }
    return true;
}

/* Index of the next non-blank line from p->i (p->n when none). */
static size_t next_content(const yparser *p, size_t i)
{
    while (i < p->n && p->lines[i].blank) {
        i++;
    }
    return i;
}

static const char *line_text(const yline *l)
{
    return l->s + l->indent;
}

static size_t line_text_len(const yline *l)
{
    return l->len - (size_t)l->indent;
}

/* True for "---" or "..." at column 0 (optionally followed by spaces or a comment). */
static bool is_doc_marker(const yline *l, const char *marker)
{
    if (l->indent != 0 || l->len < 3 || memcmp(l->s, marker, 3) != 0) {
        return false;
    }
    size_t k = 3;
    while (k < l->len && (l->s[k] == ' ' || l->s[k] == '\t')) {
        k++;
    }
    return k == l->len || (k > 3 && l->s[k] == '#');
}

static bool line_ends_node(const yline *l)
{
    return is_doc_marker(l, "---") || is_doc_marker(l, "...");
}

bool yaml_is_seq_item(const char *s, size_t len)
{
    return len >= 1 && s[0] == '-' && (len == 1 || s[1] == ' ' || s[1] == '\t');
}

static json_t *parse_block(yparser *p, int parent);

static bool check_line(yparser *p, const yline *l)
{
    if (l->tab_indent) {
        yaml_fail(p, l->no, "tabs are not allowed in indentation");
        return false;
    }
    return true;
}

/* "key: value" entries of a mapping whose keys sit at column ind. */
static json_t *parse_map(yparser *p, int ind)
{
    json_t *obj = json_object();
    for (;;) {
        size_t i = next_content(p, p->i);
        if (i >= p->n || p->failed) {
            break;
        }
        yline *l = &p->lines[i];
        if (l->indent < ind || line_ends_node(l)) {
            break;
        }
        if (!check_line(p, l)) {
            break;
        }
        if (l->indent > ind) {
            yaml_fail(p, l->no, "unexpected indentation (expected a key at column %d)", ind + 1);
            break;
        }
        if (!yaml_map_entry(p, obj, ind, i)) {
            break;
        }
    }
    if (p->failed) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/* "- item" entries of a sequence whose dashes sit at column ind. */
static json_t *parse_seq(yparser *p, int ind)
{
    json_t *arr = json_array();
    for (;;) {
        size_t i = next_content(p, p->i);
        if (i >= p->n || p->failed) {
            break;
        }
        yline *l = &p->lines[i];
        if (l->indent < ind || line_ends_node(l) || !check_line(p, l)) {
            break;
        }
        if (l->indent > ind) {
            yaml_fail(p, l->no, "unexpected indentation (expected \"- \" at column %d)", ind + 1);
            break;
        }
        if (!yaml_is_seq_item(line_text(l), line_text_len(l))) {
            break; /* the next key of an enclosing mapping at the same column */
        }
        json_t *item = yaml_seq_item(p, ind, i);
        if (item == NULL) {
            break;
        }
        json_array_append_new(arr, item);
    }
    if (p->failed) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

json_t *yaml_seq_item(yparser *p, int ind, size_t i)
{
    yline *l = &p->lines[i];
    const char *text = line_text(l);
    size_t len = line_text_len(l);
    size_t off = 1;
    while (off < len && (text[off] == ' ' || text[off] == '\t')) {
        off++;
    }
    if (off == len || text[off] == '#') {
        p->i = i + 1;
        return parse_block(p, ind);
    }
    if (yaml_is_seq_item(text + off, len - off) || yaml_find_colon(text + off, len - off) >= 0) {
        /* compact nested node: re-base this line to start after "- " */
        l->indent += (int)off;
        p->i = i;
        return parse_block(p, ind);
    }
    p->i = i + 1;
    return yaml_value(p, ind, text + off, len - off, l->no, false);
}

static json_t *parse_block(yparser *p, int parent)
{
    if (++p->depth > YAML_MAX_DEPTH) {
        yaml_fail(p, p->i < p->n ? p->lines[p->i].no : (int)p->n, "nesting deeper than %d levels",
                  YAML_MAX_DEPTH);
        return NULL;
    }
    json_t *out = NULL;
    size_t i = next_content(p, p->i);
    if (i >= p->n || p->lines[i].indent <= parent || line_ends_node(&p->lines[i])) {
        out = json_null();
    } else if (check_line(p, &p->lines[i])) {
        yline *l = &p->lines[i];
        const char *text = line_text(l);
        size_t len = line_text_len(l);
        p->i = i;
        if (yaml_is_seq_item(text, len)) {
            out = parse_seq(p, l->indent);
        } else if (yaml_find_colon(text, len) >= 0) {
            out = parse_map(p, l->indent);
        } else {
            p->i = i + 1;
            out = yaml_value(p, parent, text, len, l->no, false);
        }
    }
    p->depth--;
    return out;
}

json_t *yaml_parse_block(yparser *p, int parent)
{
    return parse_block(p, parent);
}

json_t *yaml_parse_seq_at(yparser *p, int ind)
{
    return parse_seq(p, ind);
}

void yaml_fail(yparser *p, int line, const char *fmt, ...)
{
    if (p->failed) {
        return;
    }
    p->failed = true;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "line %d: %s", line, msg);
}

/* Skips %directives and a leading "---"; returns false on a marker followed by content. */
static void skip_prologue(yparser *p)
{
    size_t i = next_content(p, 0);
    while (i < p->n && p->lines[i].indent == 0 && p->lines[i].s[0] == '%') {
        i = next_content(p, i + 1);
    }
    if (i < p->n && is_doc_marker(&p->lines[i], "---")) {
        i++;
    }
    p->i = i;
}

static void check_epilogue(yparser *p)
{
    size_t i = next_content(p, p->i);
    if (i < p->n && is_doc_marker(&p->lines[i], "...")) {
        i = next_content(p, i + 1);
    }
    if (i < p->n) {
        if (is_doc_marker(&p->lines[i], "---")) {
            yaml_fail(p, p->lines[i].no, "only one YAML document is supported");
        } else {
            yaml_fail(p, p->lines[i].no, "unexpected content (check the indentation)");
        }
    }
}

json_t *portal_yaml_parse(const char *data, size_t len, char *errbuf, size_t errlen)
{
    yparser p = {.err = errbuf, .errlen = errlen};
    errbuf[0] = '\0';
    json_t *root = NULL;
    if (!yaml_split(&p, data, len)) {
        goto out;
    }
    skip_prologue(&p);
    if (next_content(&p, p.i) >= p.n) {
        yaml_fail(&p, p.n > 0 ? (int)p.n : 1, "the document is empty");
        goto out;
    }
    root = parse_block(&p, -1);
    if (!p.failed) {
        check_epilogue(&p);
    }
out:
    if (p.failed) {
        json_decref(root);
        root = NULL;
    }
    free(p.lines);
    return root;
}
