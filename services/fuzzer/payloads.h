/* Payload generation and response signatures for the active checks. Returned strings are
 * new (free()); returned JSON values are new references. */
#ifndef FUZZER_PAYLOADS_H
#define FUZZER_PAYLOADS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* SQL boolean pair: value' AND 'x'='x (truth true) / value' AND 'x'='y (truth false). */
char *fz_payload_sql_bool(const char *value, bool truth);
/* Error-based probe: the value followed by an unbalanced quote. */
char *fz_payload_sql_error(const char *value);
/* Time-based probes for several databases; variant 0..FZ_SQL_TIME_VARIANTS-1. */
#define FZ_SQL_TIME_VARIANTS 3
char *fz_payload_sql_time(const char *value, int variant, int seconds);
/* OS command probes: echo of an arithmetic product (the product, not in the payload, proves
 * execution) and a sleep; variant 0..FZ_CMD_VARIANTS-1. *expect gets the product string. */
#define FZ_CMD_VARIANTS 2
char *fz_payload_cmd_echo(const char *value, int variant, long a, long b, char **expect);
char *fz_payload_cmd_sleep(const char *value, int variant, int seconds);
/* ReDoS-style input: n copies of 'a' then a character that forces backtracking. */
char *fz_payload_redos(size_t n);
/* A string of n bytes ('A'). */
char *fz_payload_big(size_t n);
/* "<prefix><24 random hex chars>" */
char *fz_payload_marker(const char *prefix);
/* A sample value for a JSON schema (example/default/enum first, then by type and format);
 * NULL schema gives "vigil". */
json_t *fz_payload_from_schema(const json_t *schema, int depth);
/* A sample text value for a parameter of type/format (example wins when given). */
char *fz_payload_param_value(const char *type, const char *format, const char *example);

/* Database error messages (PostgreSQL, MySQL, SQLite, Oracle, SQL Server, ODBC). */
bool fz_match_sql_error(const char *text);
/* Stack traces and source locations (Python, Java, .NET, Go, Node, PHP, Ruby, C). */
bool fz_match_stack_trace(const char *text);

#endif
