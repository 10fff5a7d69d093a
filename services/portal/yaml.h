/* A careful YAML subset parser for OpenAPI documents, into jansson values: block mappings
 * and sequences (including "- key: value" compact forms), plain, single- and double-quoted
 * scalars, block scalars (| and > with chomping and indentation indicators), flow [] and {}
 * collections (may span lines), comments, the core schema's null/bool/int/float, one
 * document (optional --- and ... markers, %directives). Anchors, aliases, tags and complex
 * keys are refused with a message. Errors name the line: "line 12: ...". */
#ifndef PORTAL_YAML_H
#define PORTAL_YAML_H

#include <jansson.h>
#include <stddef.h>

/* Parses len bytes of data. Returns a new JSON value, or NULL with the reason in errbuf. */
json_t *portal_yaml_parse(const char *data, size_t len, char *errbuf, size_t errlen);

#endif
