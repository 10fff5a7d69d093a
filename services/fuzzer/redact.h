/* Evidence hygiene: secrets never leave the fuzzer. Header values of credentials
 * (Authorization, Cookie, Set-Cookie, API keys, anything named *token* / *secret*), bearer
 * tokens and JWTs in text, and JSON values of password/secret/token fields are replaced;
 * the curl line that reproduces a request uses placeholders for them.
 * Every returned string is new (free()). */
#ifndef FUZZER_REDACT_H
#define FUZZER_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#include "engine.h"

/* True when a header of this name carries a credential. */
bool fz_header_is_secret(const char *name);
/* "Name: value" with the value replaced by "<redacted>" when the header is secret. */
char *fz_redact_header_line(const char *line);
/* text (len bytes, may lack a NUL) cut to max bytes (a "…[n bytes]" note appended), with JWTs,
 * "Bearer x" values and JSON values of secret-named keys replaced by "<redacted>". */
char *fz_redact_text(const char *text, size_t len, size_t max);
/* A shell-safe curl command reproducing req; secret header values become placeholders
 * "<identity:Header>" (or "<Header>" without identity); bodies over 2 KiB are described
 * instead of inlined. */
char *fz_curl_line(const fz_req *req);
/* Single-quotes s for a POSIX shell. */
char *fz_shell_quote(const char *s);

#endif
