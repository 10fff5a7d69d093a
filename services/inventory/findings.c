/* Posture findings and their message data. */
#include "findings.h"

#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "vigil/alloc.h"
#include "vigil/util.h"

void inv_findings_add(inv_findings *f, const inv_rule *rule, const inv_objref *obj, char *field,
                      json_t *evidence)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 64;
        f->v = vg_realloc(f->v, f->cap * sizeof *f->v);
    }
    inv_finding *x = &f->v[f->n++];
    x->rule = rule;
    x->kind = vg_strdup(obj->kind != NULL ? obj->kind : "");
    x->namespace = vg_strdup(obj->namespace != NULL ? obj->namespace : "");
    x->name = vg_strdup(obj->name != NULL ? obj->name : "");
    x->uid = vg_strdup(obj->uid != NULL ? obj->uid : "");
    x->field = field != NULL ? field : vg_strdup("");
    x->evidence = evidence != NULL ? evidence : json_object();
}

void inv_findings_clear(inv_findings *f)
{
    for (size_t i = 0; i < f->n; i++) {
        inv_finding *x = &f->v[i];
        free(x->kind);
        free(x->namespace);
        free(x->name);
        free(x->uid);
        free(x->field);
        json_decref(x->evidence);
    }
    free(f->v);
    memset(f, 0, sizeof *f);
}

void inv_fingerprint(const char *tenant_id, const char *cluster_id, const char *rule_id,
                     const char *uid, const char *field, char out[65])
{
    char *s = vg_asprintf("%s|%s|%s|%s|%s", tenant_id, cluster_id, rule_id, uid, field);
    vg_sha256_hex(s, strlen(s), out);
    free(s);
}

static json_t *rule_refs(const inv_rule *r)
{
    json_t *refs = json_object();
    if (r->kubescape != NULL) {
        json_object_set_new(refs, "kubescape", json_string(r->kubescape));
    }
    if (r->pss != NULL) {
        json_object_set_new(refs, "pss", json_string(r->pss));
    }
    if (r->cis != NULL) {
        json_object_set_new(refs, "cis", json_string(r->cis));
    }
    return refs;
}

json_t *inv_finding_data(const inv_finding *f, const char *tenant_id, const char *cluster_id,
                         const char *detected_at)
{
    char fp[65];
    inv_fingerprint(tenant_id, cluster_id, f->rule->id, f->uid, f->field, fp);
    json_t *object = json_pack("{s:s, s:s, s:s, s:s}", "kind", f->kind, "namespace", f->namespace,
                               "name", f->name, "uid", f->uid);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:O, s:s, s:o, s:s}",
                     "fingerprint", fp, "source", "posture", "scope", "posture", "rule_id",
                     f->rule->id, "title", f->rule->title, "severity", f->rule->severity,
                     "category", f->rule->category, "object", object, "field", f->field, "evidence",
                     f->evidence, "remediation", f->rule->remediation, "refs", rule_refs(f->rule),
                     "detected_at", detected_at);
}
