/* Posture findings of one evaluation, and their finding.observed / finding.scope data. */
#ifndef VIGIL_INVENTORY_FINDINGS_H
#define VIGIL_INVENTORY_FINDINGS_H

#include <jansson.h>
#include <stddef.h>

struct inv_rule;

/* The object a finding names (borrowed strings). */
typedef struct inv_objref {
    const char *kind;
    const char *namespace;
    const char *name;
    const char *uid;
} inv_objref;

typedef struct inv_finding {
    const struct inv_rule *rule;
    char *kind, *namespace, *name, *uid; /* owned copies */
    char *field;                         /* owned */
    json_t *evidence;                    /* owned */
} inv_finding;

typedef struct inv_findings {
    inv_finding *v;
    size_t n, cap;
} inv_findings;

/* Adds a finding; field and evidence are stolen (evidence may be NULL: {}). */
void inv_findings_add(inv_findings *f, const struct inv_rule *rule, const inv_objref *obj,
                      char *field, json_t *evidence);
/* Frees the findings (the struct itself is the caller's); leaves it empty. */
void inv_findings_clear(inv_findings *f);

/* Hex SHA-256 of "tenant|cluster|rule|uid|field" into out[65]. */
void inv_fingerprint(const char *tenant_id, const char *cluster_id, const char *rule_id,
                     const char *uid, const char *field, char out[65]);

/* The finding.observed data of f (new reference). */
json_t *inv_finding_data(const inv_finding *f, const char *tenant_id, const char *cluster_id,
                         const char *detected_at);

#endif
