/* Pod rules: one function per rule, run on each analysed workload's pod template. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "kobj.h"
#include "rules.h"
#include "vigil/alloc.h"

/* One container of the pod spec: its object, its field path and its name. */
typedef struct container_ref {
    json_t *c;
    char path[128]; /* e.g. spec.template.spec.containers[0] */
    const char *name;
} container_ref;

typedef void (*container_fn)(const inv_rule *r, const inv_podctx *p, const container_ref *c,
                             inv_findings *out);

/* Calls fn for each container and init container of the pod spec. */
static void each_container(const inv_rule *r, const inv_podctx *p, container_fn fn,
                           inv_findings *out)
{
    static const char *const lists[] = {"containers", "initContainers"};
    for (size_t l = 0; l < 2; l++) {
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(p->spec, lists[l]), i, c)
        {
            container_ref ref = {.c = c, .name = kobj_str0(c, "name")};
            snprintf(ref.path, sizeof ref.path, "%s.%s[%zu]", p->path, lists[l], i);
            fn(r, p, &ref, out);
        }
    }
}

static void add_container_finding(const inv_rule *r, const inv_podctx *p, const container_ref *c,
                                  const char *suffix, json_t *evidence, inv_findings *out)
{
    if (evidence == NULL) {
        evidence = json_object();
    }
    json_object_set_new(evidence, "container", json_string(c->name));
    inv_findings_add(out, r, &p->ref, vg_asprintf("%s.%s", c->path, suffix), evidence);
}

static void add_pod_finding(const inv_rule *r, const inv_podctx *p, const char *suffix,
                            json_t *evidence, inv_findings *out)
{
    inv_findings_add(out, r, &p->ref, vg_asprintf("%s.%s", p->path, suffix), evidence);
}

static void privileged_one(const inv_rule *r, const inv_podctx *p, const container_ref *c,
                           inv_findings *out)
{
    if (kobj_true(c->c, "securityContext.privileged")) {
        add_container_finding(r, p, c, "securityContext.privileged",
                              json_pack("{s:b}", "privileged", 1), out);
    }
}

void rule_pod_privileged(const inv_rule *r, const inv_podctx *p, inv_findings *out)
{
    each_container(r, p, privileged_one, out);
}

static void host_namespace(const inv_rule *r, const inv_podctx *p, const char *field,
                           inv_findings *out)
{
    if (kobj_true(p->spec, field)) {
        add_pod_finding(r, p, field, json_pack("{s:b}", field, 1), out);
    }
}

void rule_pod_host_network(const inv_rule *r, const inv_podctx *p, inv_findings *out)
{
    host_namespace(r, p, "hostNetwork", out);
}

void rule_pod_host_pid(const inv_rule *r, const inv_podctx *p, inv_findings *out)
{
    host_namespace(r, p, "hostPID", out);
}

void rule_pod_host_ipc(const inv_rule *r, const inv_podctx *p, inv_findings *out)
{
    host_namespace(r, p, "hostIPC", out);
}

static void host_port_one(const inv_rule *r, const inv_podctx *p, const container_ref *c,
                          inv_findings *out)
{
    size_t i;
    json_t *port;
    json_array_foreach(json_object_get(c->c, "ports"), i, port)
    {
        json_int_t hp = json_integer_value(json_object_get(port, "hostPort"));
        if (hp > 0) {
            char suffix[64];
            snprintf(suffix, sizeof suffix, "ports[%zu].hostPort", i);
            add_container_finding(r, p, c, suffix, json_pack("{s:I}", "hostPort", hp), out);
        }
    }
}

void rule_pod_host_port(const inv_rule *r, const inv_podctx *p, inv_findings *out)
{
    each_container(r, p, host_port_one, out);
}

static bool path_is_runtime_socket(const char *path)
{
    static const char *const dirs[] = {"/var/run",
                                       "/run",
                                       "/var/run/docker",
                                       "/run/containerd",
                                       "/var/run/containerd",
                                       "/var/lib/docker",
                                       "/var/run/crio"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        size_t n = strlen(dirs[i]);
        if (strncmp(path, dirs[i], n) == 0 && (path[n] == '\0' || strcmp(path + n, "/") == 0)) {
            return true;
        }
    }
    size_t len = strlen(path);
    return len > 5 && strcmp(path + len - 5, ".sock") == 0 &&
           (strstr(path, "docker") != NULL || strstr(path, "containerd") != NULL ||
            strstr(path, "crio") != NULL || strstr(path, "cri-") != NULL);
}

/* The first container mounting volume `name` writable (readOnly not true), or NULL;
 * sets *mount_path. */
static json_t *writable_mount(json_t *spec, const char *name, const char **mount_path)
{
    static const char *const lists[] = {"containers", "initContainers"};
    for (size_t l = 0; l < 2; l++) {
        size_t i, j;
        json_t *c, *vm;
        json_array_foreach(json_object_get(spec, lists[l]), i, c)
        {
            json_array_foreach(json_object_get(c, "volumeMounts"), j, vm)
            {
                if (strcmp(kobj_str0(vm, "name"), name) == 0 && !kobj_true(vm, "readOnly")) {
                    *mount_path = kobj_str0(vm, "mountPath");
                    return c;
                }
            }
        }
    }
    return NULL;
}

/* Calls the hostPath checks: runtime == true for the socket rule, else the writable rule. */
static void hostpath_rule(const inv_rule *r, const inv_podctx *p, bool runtime, inv_findings *out)
{
    size_t i;
    json_t *vol;
    json_array_foreach(json_object_get(p->spec, "volumes"), i, vol)
    {
        const char *path = kobj_str(vol, "hostPath.path");
        if (path == NULL || path_is_runtime_socket(path) != runtime) {
            continue;
        }
        const char *mount = "";
        json_t *c = writable_mount(p->spec, kobj_str0(vol, "name"), &mount);
        if (!runtime && c == NULL) {
            continue; /* mounted read-only everywhere */
        }
        char suffix[64];
        snprintf(suffix, sizeof suffix, "volumes[%zu].hostPath.path", i);
        add_pod_finding(r, p, suffix,
                        json_pack("{s:s, s:s, s:s}", "volume", kobj_str0(vol, "name"), "path", path,
                                  "writable", c != NULL ? "true" : "false"),
                        out);
    }
}

void rule_pod_hostpath_writable(const inv_rule *r, const inv_podctx *p, inv_findings *out)
{
    hostpath_rule(r, p, false, out);
}

void rule_pod_runtime_socket(const inv_rule *r, const inv_podctx *p, inv_findings *out)
{
    hostpath_rule(r, p, true, out);
}

static bool cap_is_dangerous(const char *cap)
{
    static const char *const caps[] = {"ALL",        "SYS_ADMIN", "NET_ADMIN",       "SYS_PTRACE",
                                       "SYS_MODULE", "SYS_RAWIO", "DAC_READ_SEARCH", "BPF",
                                       "PERFMON",    "SYS_BOOT",  "SYS_TIME",        "NET_RAW"};
    if (strncasecmp(cap, "CAP_", 4) == 0) {
        cap += 4;
    }
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        if (strcasecmp(cap, caps[i]) == 0) {
            return true;
        }
    }
    return false;
}

static void caps_one(const inv_rule *r, const inv_podctx *p, const container_ref *c,
                     inv_findings *out)
{
    json_t *found = json_array();
    size_t i;
    json_t *cap;
    json_array_foreach(kobj_get(c->c, "securityContext.capabilities.add"), i, cap)
    {
        if (json_is_string(cap) && cap_is_dangerous(json_string_value(cap))) {
            json_array_append(found, cap);
        }
    }
    if (json_array_size(found) > 0) {
        add_container_finding(r, p, c, "securityContext.capabilities.add",
                              json_pack("{s:o}", "added", found), out);
    } else {
        json_decref(found);
    }
}

void rule_pod_dangerous_caps(const inv_rule *r, const inv_podctx *p, inv_findings *out)
{
    each_container(r, p, caps_one, out);
}

static void drop_all_one(const inv_rule *r, const inv_podctx *p, const container_ref *c,
                         inv_findings *out)
{
    size_t i;
    json_t *cap;
    json_t *drop = kobj_get(c->c, "securityContext.capabilities.drop");
    json_array_foreach(drop, i, cap)
    {
        if (json_is_string(cap) && strcasecmp(json_string_value(cap), "ALL") == 0) {
            return;
        }
    }
    add_container_finding(r, p, c, "securityContext.capabilities.drop",
                          json_pack("{s:O?}", "drop", drop), out);
}

void rule_pod_no_drop_all(const inv_rule *r, const inv_podctx *p, inv_findings *out)
{
    each_container(r, p, drop_all_one, out);
}

static void escalation_one(const inv_rule *r, const inv_podctx *p, const container_ref *c,
                           inv_findings *out)
{
    if (!kobj_false(c->c, "securityContext.allowPrivilegeEscalation")) {
        add_container_finding(r, p, c, "securityContext.allowPrivilegeEscalation",
                              json_pack("{s:O?}", "allowPrivilegeEscalation",
                                        kobj_get(c->c, "securityContext.allowPrivilegeEscalation")),
                              out);
    }
}

void rule_pod_priv_escalation(const inv_rule *r, const inv_podctx *p, inv_findings *out)
{
    each_container(r, p, escalation_one, out);
}

static void root_one(const inv_rule *r, const inv_podctx *p, const container_ref *c,
                     inv_findings *out)
{
    json_t *user = kobj_get(c->c, "securityContext.runAsUser");
    if (user == NULL) {
        user = kobj_get(p->spec, "securityContext.runAsUser");
    }
    json_t *nonroot = kobj_get(c->c, "securityContext.runAsNonRoot");
    if (nonroot == NULL) {
        nonroot = kobj_get(p->spec, "securityContext.runAsNonRoot");
    }
    bool root = user != NULL ? json_integer_value(user) == 0 : !json_is_true(nonroot);
    if (root) {
        add_container_finding(
            r, p, c, user != NULL ? "securityContext.runAsUser" : "securityContext.runAsNonRoot",
            json_pack("{s:O?, s:O?}", "runAsUser", user, "runAsNonRoot", nonroot), out);
    }
}

void rule_pod_run_as_root(const inv_rule *r, const inv_podctx *p, inv_findings *out)
{
    each_container(r, p, root_one, out);
}

static void rootfs_one(const inv_rule *r, const inv_podctx *p, const container_ref *c,
                       inv_findings *out)
{
    if (!kobj_true(c->c, "securityContext.readOnlyRootFilesystem")) {
        add_container_finding(r, p, c, "securityContext.readOnlyRootFilesystem",
                              json_pack("{s:O?}", "readOnlyRootFilesystem",
                                        kobj_get(c->c, "securityContext.readOnlyRootFilesystem")),
                              out);
    }
}

void rule_pod_writable_rootfs(const inv_rule *r, const inv_podctx *p, inv_findings *out)
{
    each_container(r, p, rootfs_one, out);
}

static void seccomp_one(const inv_rule *r, const inv_podctx *p, const container_ref *c,
                        inv_findings *out)
{
    const char *type = kobj_str(c->c, "securityContext.seccompProfile.type");
    if (type == NULL) {
        type = kobj_str(p->spec, "securityContext.seccompProfile.type");
    }
    if (type == NULL || strcmp(type, "Unconfined") == 0) {
        add_container_finding(r, p, c, "securityContext.seccompProfile.type",
                              json_pack("{s:s?}", "seccompProfile", type), out);
    }
}

void rule_pod_seccomp(const inv_rule *r, const inv_podctx *p, inv_findings *out)
{
    each_container(r, p, seccomp_one, out);
}

static void limits_one(const inv_rule *r, const inv_podctx *p, const container_ref *c,
                       inv_findings *out)
{
    json_t *missing = json_array();
    if (kobj_get(c->c, "resources.limits.cpu") == NULL) {
        json_array_append_new(missing, json_string("cpu"));
    }
    if (kobj_get(c->c, "resources.limits.memory") == NULL) {
        json_array_append_new(missing, json_string("memory"));
    }
    if (json_array_size(missing) > 0) {
        add_container_finding(r, p, c, "resources.limits", json_pack("{s:o}", "missing", missing),
                              out);
    } else {
        json_decref(missing);
    }
}

void rule_pod_no_limits(const inv_rule *r, const inv_podctx *p, inv_findings *out)
{
    each_container(r, p, limits_one, out);
}

void rule_pod_token_automount(const inv_rule *r, const inv_podctx *p, inv_findings *out)
{
    json_t *pod_value = json_object_get(p->spec, "automountServiceAccountToken");
    if (pod_value != NULL) {
        if (json_is_true(pod_value)) {
            add_pod_finding(
                r, p, "automountServiceAccountToken",
                json_pack("{s:b, s:s}", "automountServiceAccountToken", 1, "set_by", "pod"), out);
        }
        return;
    }
    json_t *sa =
        inv_model_find(p->model, INV_R_SERVICEACCOUNTS, p->wl->namespace, p->wl->service_account);
    if (sa != NULL && kobj_false(sa, "automountServiceAccountToken")) {
        return;
    }
    add_pod_finding(r, p, "automountServiceAccountToken",
                    json_pack("{s:b, s:s, s:s}", "automountServiceAccountToken", 1, "set_by",
                              "default", "serviceAccount", p->wl->service_account),
                    out);
}

void rule_pod_default_sa(const inv_rule *r, const inv_podctx *p, inv_findings *out)
{
    if (strcmp(p->wl->service_account, "default") == 0) {
        add_pod_finding(r, p, "serviceAccountName",
                        json_pack("{s:s}", "serviceAccountName", "default"), out);
    }
}

/* A literal value that has the shape of a credential (never copied into evidence). */
static bool value_looks_secret(const char *v)
{
    static const char *const prefixes[] = {"AKIA",  "ghp_",     "gho_",       "xoxb-",
                                           "xoxp-", "sk_live_", "-----BEGIN", "glpat-"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        if (strncmp(v, prefixes[i], strlen(prefixes[i])) == 0) {
            return true;
        }
    }
    return strstr(v, "://") != NULL && strchr(v, '@') != NULL && strchr(v, ':') != NULL &&
           strstr(strstr(v, "://") + 3, ":") != NULL &&
           strstr(strstr(v, "://") + 3, ":") < strchr(v, '@'); /* scheme://user:pass@host */
}

/* Values that cannot be a credential whatever the name: numbers, booleans, file paths
 * (PASSWORD=/run/secrets/db is a reference). */
static bool value_is_not_secret(const char *v)
{
    if (v[0] == '/' || strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
        return true;
    }
    for (; *v != '\0'; v++) {
        if (!isdigit((unsigned char)*v)) {
            return false;
        }
    }
    return true;
}

static void env_one(const inv_rule *r, const inv_podctx *p, const container_ref *c,
                    inv_findings *out)
{
    size_t i;
    json_t *env;
    json_array_foreach(json_object_get(c->c, "env"), i, env)
    {
        const char *name = kobj_str0(env, "name");
        const char *value = kobj_str(env, "value");
        if (value == NULL || value[0] == '\0' || value_is_not_secret(value)) {
            continue; /* valueFrom (secretKeyRef...) is the right way */
        }
        if (kobj_name_is_credential(name) || value_looks_secret(value)) {
            char suffix[64];
            snprintf(suffix, sizeof suffix, "env[%zu].value", i);
            add_container_finding(r, p, c, suffix,
                                  json_pack("{s:s, s:s}", "env", name, "value", "<redacted>"), out);
        }
    }
}

void rule_pod_env_credentials(const inv_rule *r, const inv_podctx *p, inv_findings *out)
{
    each_container(r, p, env_one, out);
}

/* True when namespace ns has sidecar injection enabled. */
static bool ns_injected(const inv_model *m, const char *ns)
{
    json_t *obj = inv_model_namespace(m, ns);
    const char *inj = obj != NULL ? kobj_label(obj, "istio-injection") : NULL;
    return (inj != NULL && strcmp(inj, "enabled") == 0) ||
           (obj != NULL && kobj_label(obj, "istio.io/rev") != NULL);
}

void rule_pod_sidecar_disabled(const inv_rule *r, const inv_podctx *p, inv_findings *out)
{
    if (!inv_model_has_mesh(p->model) || !ns_injected(p->model, p->wl->namespace)) {
        return;
    }
    const char *where = "annotations";
    const char *v = json_string_value(json_object_get(
        json_object_get(p->wl->pod_meta, "annotations"), "sidecar.istio.io/inject"));
    if (v == NULL) {
        where = "labels";
        v = json_string_value(
            json_object_get(json_object_get(p->wl->pod_meta, "labels"), "sidecar.istio.io/inject"));
    }
    if (v == NULL || strcmp(v, "false") != 0) {
        return;
    }
    /* the template metadata sits next to the spec: "x.spec" -> "x.metadata" */
    size_t n = strlen(p->path) >= 4 ? strlen(p->path) - 4 : 0;
    char *field = vg_asprintf("%.*smetadata.%s[sidecar.istio.io/inject]", (int)n, p->path, where);
    inv_findings_add(out, r, &p->ref, field,
                     json_pack("{s:s}", "sidecar.istio.io/inject", "false"));
}
