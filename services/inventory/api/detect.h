/* Content analysis of API traffic: sensitive-data detectors (email, phone, card numbers with
 * Luhn, SSN, JWT, API keys, IBAN with mod-97), string formats (date, date-time, email, uuid,
 * ipv4, ipv6), JSON schema inference and merging, and the authentication scheme. */
#ifndef VIGIL_INVENTORY_API_DETECT_H
#define VIGIL_INVENTORY_API_DETECT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum {
    API_SENS_EMAIL = 1 << 0,
    API_SENS_PHONE = 1 << 1,
    API_SENS_CARD = 1 << 2,
    API_SENS_SSN = 1 << 3,
    API_SENS_JWT = 1 << 4,
    API_SENS_APIKEY = 1 << 5,
    API_SENS_IBAN = 1 << 6,
};
#define API_SENS_KINDS 7

/* Bit set of the sensitive kinds found in s (len bytes, need not be NUL-terminated). */
unsigned api_sensitive_scan(const char *s, size_t len);
/* "email", "phone", ... for one bit. */
const char *api_sensitive_name(unsigned bit);

bool api_luhn_valid(const char *digits, size_t n);
bool api_iban_valid(const char *s, size_t len);

/* "date", "date-time", "email", "uuid", "ipv4", "ipv6" or NULL. */
const char *api_string_format(const char *s, size_t len);

/* An OpenAPI 3.0 schema object describing value (new reference); depth-limited. */
json_t *api_schema_infer(const json_t *value);
/* Merges src into dst (both schema objects): union of properties, type widening, formats
 * kept only when both agree. */
void api_schema_merge(json_t *dst, const json_t *src);

/* The scheme of a request from its headers (APIClarity [{key,value}], may be NULL) and query:
 * "none", "basic", "bearer", "jwt" or "apikey". */
const char *api_auth_scheme(const json_t *headers, const char *query);

#endif
