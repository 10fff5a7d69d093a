/* RBAC rules: dangerous grants of roles bound to non-system subjects, cluster-admin and
 * anonymous bindings. */
#include <stdio.h>
#include <string.h>

#include "kobj.h"
#include "rules.h"
#include "vigil/alloc.h"

static bool subject_is_system(json_t *subject)
{
    const char *name = kobj_str0(subject, "name");
    if (strncmp(name, "system:", 7) == 0) {
        return true;
    }
    return strcmp(kobj_str0(subject, "kind"), "ServiceAccount") == 0 &&
           inv_namespace_is_system(kobj_str0(subject, "namespace"));
}

/* Does binding (RoleBinding or ClusterRoleBinding) grant role (Role or ClusterRole)? */
static bool binding_grants(json_t *binding, json_t *role)
{
    const char *rkind = kobj_str0(role, "kind");
    if (strcmp(kobj_str0(binding, "roleRef.kind"), rkind) != 0 ||
        strcmp(kobj_str0(binding, "roleRef.name"), kobj_str0(role, "metadata.name")) != 0) {
        return false;
    }
    if (strcmp(rkind, "Role") == 0) {
        return strcmp(kobj_str0(binding, "metadata.namespace"),
                      kobj_str0(role, "metadata.namespace")) == 0;
    }
    return true;
}

static void collect_subjects(json_t *binding, json_t *out)
{
    size_t i;
    json_t *s;
    json_array_foreach(kobj_get(binding, "subjects"), i, s)
    {
        if (!subject_is_system(s)) {
            json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s}", "kind",
                                                 kobj_str0(s, "kind"), "name", kobj_str0(s, "name"),
                                                 "namespace", kobj_str0(s, "namespace"), "binding",
                                                 kobj_str0(binding, "metadata.name")));
        }
    }
}

/* Non-system subjects the role is bound to (new array, possibly empty). */
static json_t *role_subjects(const inv_model *m, json_t *role)
{
    json_t *out = json_array();
    static const inv_resource kinds[] = {INV_R_ROLEBINDINGS, INV_R_CLUSTERROLEBINDINGS};
    for (size_t k = 0; k < 2; k++) {
        size_t i;
        json_t *b;
        json_array_foreach(m->items[kinds[k]], i, b)
        {
            if (binding_grants(b, role)) {
                collect_subjects(b, out);
            }
        }
    }
    return out;
}

static bool list_has(json_t *list, const char *value)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *s = json_string_value(v);
        if (s != NULL && strcmp(s, value) == 0) {
            return true;
        }
    }
    return false;
}

static bool verbs_any(json_t *verbs, const char *const *want)
{
    for (; *want != NULL; want++) {
        if (list_has(verbs, *want)) {
            return true;
        }
    }
    return false;
}

typedef bool (*rbac_rule_match)(json_t *rule);

/* Runs match on every rule of every bound role (cluster-admin is RBAC-001's). */
static void each_bound_rule(const inv_rule *r, const inv_model *m, rbac_rule_match match,
                            inv_findings *out)
{
    static const inv_resource kinds[] = {INV_R_ROLES, INV_R_CLUSTERROLES};
    for (size_t k = 0; k < 2; k++) {
        size_t i, j;
        json_t *role, *rule;
        json_array_foreach(m->items[kinds[k]], i, role)
        {
            const char *name = kobj_str0(role, "metadata.name");
            if (strcmp(name, "cluster-admin") == 0 || strncmp(name, "system:", 7) == 0) {
                continue;
            }
            json_t *subjects = NULL;
            json_array_foreach(kobj_get(role, "rules"), j, rule)
            {
                if (!match(rule)) {
                    continue;
                }
                if (subjects == NULL) {
                    subjects = role_subjects(m, role);
                }
                if (json_array_size(subjects) == 0) {
                    break;
                }
                inv_objref ref = inv_rules_ref(role);
                inv_findings_add(out, r, &ref, vg_asprintf("rules[%zu]", j),
                                 json_pack("{s:O?, s:O?, s:O?, s:O}", "apiGroups",
                                           json_object_get(rule, "apiGroups"), "resources",
                                           json_object_get(rule, "resources"), "verbs",
                                           json_object_get(rule, "verbs"), "subjects", subjects));
            }
            json_decref(subjects);
        }
    }
}

static bool match_wildcard(json_t *rule)
{
    return list_has(json_object_get(rule, "verbs"), "*") ||
           list_has(json_object_get(rule, "resources"), "*");
}

static bool match_secrets_read(json_t *rule)
{
    static const char *const verbs[] = {"get", "list", "watch", "*", NULL};
    return list_has(json_object_get(rule, "resources"), "secrets") &&
           verbs_any(json_object_get(rule, "verbs"), verbs);
}

static bool match_pod_create(json_t *rule)
{
    static const char *const verbs[] = {"create", "*", NULL};
    return list_has(json_object_get(rule, "resources"), "pods") &&
           verbs_any(json_object_get(rule, "verbs"), verbs);
}

static bool match_pod_exec(json_t *rule)
{
    static const char *const verbs[] = {"create", "get", "*", NULL};
    json_t *res = json_object_get(rule, "resources");
    return (list_has(res, "pods/exec") || list_has(res, "pods/attach") ||
            list_has(res, "pods/portforward")) &&
           verbs_any(json_object_get(rule, "verbs"), verbs);
}

static bool match_bind_escalate(json_t *rule)
{
    static const char *const verbs[] = {"bind", "escalate", "impersonate", NULL};
    return verbs_any(json_object_get(rule, "verbs"), verbs);
}

void rule_rbac_wildcard(const inv_rule *r, const inv_model *m, inv_findings *out)
{
    each_bound_rule(r, m, match_wildcard, out);
}

void rule_rbac_secrets_read(const inv_rule *r, const inv_model *m, inv_findings *out)
{
    each_bound_rule(r, m, match_secrets_read, out);
}

void rule_rbac_pod_create(const inv_rule *r, const inv_model *m, inv_findings *out)
{
    each_bound_rule(r, m, match_pod_create, out);
}

void rule_rbac_pod_exec(const inv_rule *r, const inv_model *m, inv_findings *out)
{
    each_bound_rule(r, m, match_pod_exec, out);
}

void rule_rbac_bind_escalate(const inv_rule *r, const inv_model *m, inv_findings *out)
{
    each_bound_rule(r, m, match_bind_escalate, out);
}

typedef bool (*subject_match)(json_t *binding, json_t *subject);

static void each_binding_subject(const inv_rule *r, const inv_model *m, subject_match match,
                                 inv_findings *out)
{
    static const inv_resource kinds[] = {INV_R_ROLEBINDINGS, INV_R_CLUSTERROLEBINDINGS};
    for (size_t k = 0; k < 2; k++) {
        size_t i, j;
        json_t *b, *s;
        json_array_foreach(m->items[kinds[k]], i, b)
        {
            json_array_foreach(kobj_get(b, "subjects"), j, s)
            {
                if (match(b, s)) {
                    inv_objref ref = inv_rules_ref(b);
                    inv_findings_add(out, r, &ref, vg_asprintf("subjects[%zu]", j),
                                     json_pack("{s:s, s:s, s:s}", "roleRef",
                                               kobj_str0(b, "roleRef.name"), "subjectKind",
                                               kobj_str0(s, "kind"), "subject",
                                               kobj_str0(s, "name")));
                }
            }
        }
    }
}

static bool match_cluster_admin(json_t *binding, json_t *subject)
{
    return strcmp(kobj_str0(binding, "roleRef.kind"), "ClusterRole") == 0 &&
           strcmp(kobj_str0(binding, "roleRef.name"), "cluster-admin") == 0 &&
           !subject_is_system(subject);
}

static bool match_anonymous(json_t *binding, json_t *subject)
{
    /* the defaults every cluster binds to these groups (discovery, version, self-review) */
    static const char *const defaults[] = {"system:basic-user", "system:discovery",
                                           "system:public-info-viewer", NULL};
    const char *name = kobj_str0(subject, "name");
    if (strcmp(name, "system:anonymous") != 0 && strcmp(name, "system:unauthenticated") != 0 &&
        strcmp(name, "system:authenticated") != 0) {
        return false;
    }
    const char *role = kobj_str0(binding, "roleRef.name");
    const char *bootstrap = kobj_label(binding, "kubernetes.io/bootstrapping");
    if (bootstrap != NULL && strcmp(bootstrap, "rbac-defaults") == 0 &&
        strncmp(role, "system:", 7) == 0) {
        return false; /* a default the API server itself creates and reconciles */
    }
    for (size_t i = 0; defaults[i] != NULL; i++) {
        if (strcmp(role, defaults[i]) == 0) {
            return false;
        }
    }
    return true;
}

void rule_rbac_cluster_admin(const inv_rule *r, const inv_model *m, inv_findings *out)
{
    each_binding_subject(r, m, match_cluster_admin, out);
}

void rule_rbac_anonymous(const inv_rule *r, const inv_model *m, inv_findings *out)
{
    each_binding_subject(r, m, match_anonymous, out);
}
