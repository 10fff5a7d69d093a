/* What every check module shares: the run context (target, engine, canary, what the crawl
 * learned per identity), request builders, and the finding reporter (evidence with secrets
 * redacted, a curl line, a confidence, a stable fingerprint). */
#ifndef FUZZER_CHECK_H
#define FUZZER_CHECK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "canary.h"
#include "engine.h"
#include "target.h"

/* One check: its id, OWASP category, what it sends and what proves it (docs/fuzzer.md). */
typedef struct fz_check_def {
    const char *id;       /* e.g. API1-BOLA-001 */
    const char *owasp;    /* e.g. API1:2023 */
    const char *category; /* e.g. Broken Object Level Authorization */
    const char *title;
    const char *severity;   /* info|low|medium|high|critical */
    const char *confidence; /* high|medium|low (default for its findings) */
    const char *sends;
    const char *proof;
    const char *remediation;
} fz_check_def;

/* Publishes one finding. data is the finding.observed data (stolen). Returns 1 when
 * published, 0 when this job already published that fingerprint, -1 on failure. */
typedef int (*fz_emit_fn)(void *arg, const char *fingerprint, const char *check_id,
                          const char *endpoint, json_t *data);

typedef struct fz_crawl_entry {
    char *path; /* concrete path requested */
    const fz_endpoint *ep;
    int status;
    json_t *body; /* parsed JSON answer or NULL */
} fz_crawl_entry;

typedef struct fz_ctx {
    fz_target *tgt;
    fz_engine *eng;
    fz_canary *canary; /* may be NULL: SSRF checks are then skipped */
    const char *tenant_id;
    const char *job_id;
    fz_emit_fn emit;
    void *emit_arg;
    int findings; /* published during this run */
    int failures; /* emit failures */
    /* crawl results: per identity index (nids + 1 slots, the last = anonymous) */
    fz_crawl_entry **crawl;
    size_t *ncrawl;
} fz_ctx;

/* A check family: runs every check of one OWASP category. Returns 0, or -1 when it could not
 * complete (the job then fails or, on a deadline, ends early). */
typedef int (*fz_family_fn)(fz_ctx *ctx);
typedef struct fz_family {
    const char *name; /* API1, API2, ..., INJ */
    fz_family_fn run;
    const fz_check_def *checks; /* terminated by an entry with id NULL */
} fz_family;

/* The families in run order (NULL-terminated name). */
extern const fz_family fz_families[];

void fz_ctx_init(fz_ctx *ctx, fz_target *tgt, fz_engine *eng);
void fz_ctx_clear(fz_ctx *ctx);
/* GETs every parameterless GET endpoint as each identity (and anonymously) and keeps the
 * answers for id harvesting and exposure checks. */
void fz_ctx_crawl(fz_ctx *ctx);
/* Index of the anonymous slot (== nids). */
int fz_ctx_anon(const fz_ctx *ctx);
/* The crawl answer of identity `who` for a concrete path, or NULL. */
const fz_crawl_entry *fz_ctx_crawled(const fz_ctx *ctx, int who, const char *path);
/* Candidate values of path/query parameter p of ep for identity `who` (harvested ids first),
 * at most max; returns the count; values are new strings. */
int fz_ctx_param_values(const fz_ctx *ctx, int who, const fz_endpoint *ep, const fz_param *p,
                        char **out, int max);
/* Only the harvested values (ids seen in who's own crawl answers). */
int fz_ctx_harvested(const fz_ctx *ctx, int who, const fz_endpoint *ep, const fz_param *p,
                     char **out, int max);
/* Values of JSON keys named like key (case, '_' and '-' ignored) in who's crawl answers. */
int fz_ctx_collect_key(const fz_ctx *ctx, int who, const char *key, char **out, int max);
/* The last path parameter of ep (the object id), or NULL. */
const fz_param *fz_endpoint_object_param(const fz_endpoint *ep);
/* True when s is one of the n strings. */
bool fz_str_in(const char *s, char *const *list, int n);
void fz_strs_free(char **list, int n);
/* The concrete URL of ep for identity `who` with parameter `name` (when not NULL) set to
 * value (raw; it is percent-encoded here). New string. */
char *fz_ctx_url(const fz_ctx *ctx, const fz_endpoint *ep, int who, const char *name,
                 const char *value);
/* Same with a path given literally (relative to the base URL). */
char *fz_ctx_url_path(const fz_ctx *ctx, const char *path);
/* A request with identity who's headers (who == anon: none) and Accept: application/json. */
fz_req *fz_ctx_req(const fz_ctx *ctx, const char *method, const char *url, int who);
/* A sample JSON body for ep (new string) or NULL. */
char *fz_ctx_body(const fz_endpoint *ep);
/* The first non-admin identity (or -1), the next non-admin after `after`, the first admin. */
int fz_ctx_user(const fz_ctx *ctx, int after);
int fz_ctx_admin(const fz_ctx *ctx);
/* A GET endpoint every identity-0 request answered 2xx (crawl), for per-target probes. */
const fz_crawl_entry *fz_ctx_reference(const fz_ctx *ctx, int who);

/* Parses a response body as JSON (new reference) or NULL. */
json_t *fz_resp_json(const fz_req *req);
bool fz_is_2xx(const fz_req *req);
/* Same status and byte-identical bodies. */
bool fz_same_answer(const fz_req *a, const fz_req *b);
/* Runs n requests and frees nothing. */
void fz_run(fz_ctx *ctx, fz_req **reqs, size_t n);
void fz_reqs_free(fz_req **reqs, size_t n);

typedef struct fz_finding {
    const fz_check_def *def;
    const char *method;     /* endpoint the finding is about */
    const char *path;       /* its template */
    const fz_req *req;      /* the request that proves it (with its answer) */
    const fz_req *baseline; /* a comparison request, or NULL */
    const char *detail;     /* what proved it, in words */
    const char *confidence; /* NULL = def's */
    json_t *extra;          /* more evidence (stolen), or NULL */
} fz_finding;

/* Fingerprint: hex sha256 of tenant|authority|path|method|check id into out[65]. */
void fz_fingerprint(const char *tenant, const char *authority, const char *path, const char *method,
                    const char *check_id, char out[65]);
/* Builds the finding.observed data (new reference). */
json_t *fz_finding_data(const fz_ctx *ctx, const fz_finding *f, const char *fingerprint);
/* Builds and publishes; returns what emit returned. */
int fz_report(fz_ctx *ctx, const fz_finding *f);
/* The definition with this id in defs. */
const fz_check_def *fz_check_find(const fz_check_def *defs, const char *id);

#endif
