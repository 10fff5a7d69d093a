/* Private to traces*.c: the Istio/Envoy fields a record is validated on, filled either from a
 * jansson object or by the fast scanner (traces_fast.c), so one validator serves both. */
#ifndef INGEST_TRACES_FIELDS_H
#define INGEST_TRACES_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

enum {
    EF_START_TIME = 0,
    EF_METHOD,
    EF_PATH,
    EF_PROTOCOL,
    EF_AUTHORITY,
    EF_UPSTREAM_HOST,
    EF_UPSTREAM_CLUSTER,
    EF_DOWNSTREAM_REMOTE_ADDRESS,
    EF_X_FORWARDED_FOR,
    EF_USER_AGENT,
    EF_REQUEST_ID,
    EF_REQUESTED_SERVER_NAME,
    EF_ROUTE_NAME,
    EF_RESPONSE_FLAGS,
    EF_DOWNSTREAM_LOCAL_ADDRESS,
    EF_UPSTREAM_LOCAL_ADDRESS,
    EF_UPSTREAM_TRANSPORT_FAILURE_REASON,
    EF_TEXT_END, /* fields before this are text (or null) */
    EF_RESPONSE_CODE = EF_TEXT_END,
    EF_DURATION,
    EF_BYTES_RECEIVED,
    EF_BYTES_SENT,
    EF_COUNT,
};

typedef enum { FV_ABSENT = 0, FV_NULL, FV_STRING, FV_INT, FV_REAL, FV_OTHER } fv_type;

typedef struct fv {
    fv_type t;
    const char *s; /* FV_STRING: NUL-terminated */
    long long i;   /* FV_INT */
    double d;      /* FV_REAL */
} fv;

#define EF_ARENA 8192

typedef struct envoy_fields {
    fv f[EF_COUNT];
    char arena[EF_ARENA]; /* fast path: copies of the string values */
    size_t used;
} envoy_fields;

extern const char *const ingest_envoy_field_names[EF_COUNT];

/* The Istio/Envoy record checks (traces.c); false with a message when the record is bad. */
bool ingest_envoy_validate(const envoy_fields *ef, char *msg, size_t msglen);

/* Outcome of the fast scanner for one record text. */
typedef enum {
    FAST_ENVOY,    /* valid JSON (as strict as jansson with JSON_REJECT_DUPLICATES), a top-level
                      object that is not APIClarity telemetry: ef is filled */
    FAST_FALLBACK, /* anything else (invalid, escapes, APIClarity, deep...): use jansson */
} fast_result;

fast_result ingest_envoy_fast(const char *text, size_t len, envoy_fields *ef);
/* Same for one object at the start of text (leading whitespace skipped); *used gets the bytes
 * up to and including its closing brace. What follows is not looked at. */
fast_result ingest_envoy_fast_prefix(const char *text, size_t len, envoy_fields *ef, size_t *used);

#endif
