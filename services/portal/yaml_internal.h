/* Private parts of the YAML parser shared by yaml.c (block structure), yaml_scalar.c
 * (scalars and mapping entries) and yaml_flow.c (flow collections, quoted scalars). */
#ifndef PORTAL_YAML_INTERNAL_H
#define PORTAL_YAML_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define YAML_MAX_DEPTH 64

typedef struct yline {
    const char *s; /* the physical line, without its line break */
    size_t len;
    int indent;      /* leading spaces (re-based for compact "- key: v" forms) */
    int no;          /* 1-based line number */
    bool blank;      /* empty or only a comment */
    bool empty;      /* only whitespace */
    bool tab_indent; /* a tab where indentation is expected */
} yline;

typedef struct yparser {
    yline *lines;
    size_t n;
    size_t i; /* next line to read */
    int depth;
    bool failed;
    char *err;
    size_t errlen;
} yparser;

void yaml_fail(yparser *p, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool yaml_is_seq_item(const char *s, size_t len);
/* Offset of the ':' that ends a mapping key on this line, or -1 when it is not "key: ...". */
long yaml_find_colon(const char *s, size_t len);

json_t *yaml_parse_block(yparser *p, int parent);
json_t *yaml_parse_seq_at(yparser *p, int ind);
json_t *yaml_seq_item(yparser *p, int ind, size_t i);
/* Parses the mapping entry on line i into obj; false on failure (p->failed set). */
bool yaml_map_entry(yparser *p, json_t *obj, int ind, size_t i);
/* The value whose text starts at s on line no (after "key:" or "- "), with its parent
 * node at column ind; reads continuation lines from p->i. NULL on failure. */
json_t *yaml_value(yparser *p, int ind, const char *s, size_t len, int no, bool in_map);

/* null/bool/int/float of the core schema, else a string. NULL on invalid UTF-8. */
json_t *yaml_resolve_plain(const char *s, size_t len);
/* True when the quoted scalar or flow collection starting at s[0] ends within len bytes. */
bool yaml_complete(const char *s, size_t len);
/* Decodes the quoted scalar at s[0] ('"' or '\''); *used = bytes consumed including the
 * quotes. NULL on failure (p->failed set). */
json_t *yaml_quoted(yparser *p, int no, const char *s, size_t len, size_t *used);
/* Parses the flow collection in s (which may span lines starting at line no); only
 * whitespace and comments may follow it. NULL on failure. */
json_t *yaml_flow(yparser *p, int no, const char *s, size_t len);

#endif
