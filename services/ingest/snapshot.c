/* Snapshot resources, object preparation and chunking. */
#include "snapshot.h"

#include <stdlib.h>
#include <string.h>

#include "traces.h" /* ingest_envelope_open */

#define LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

const ingest_resource ingest_resources[] = {
    {"namespaces", "/api/v1/namespaces", "Namespace", "v1", false},
    {"nodes", "/api/v1/nodes", "Node", "v1", false},
    {"pods", "/api/v1/pods", "Pod", "v1", false},
    {"deployments", "/apis/apps/v1/deployments", "Deployment", "apps/v1", false},
    {"replicasets", "/apis/apps/v1/replicasets", "ReplicaSet", "apps/v1", false},
    {"replicationcontrollers", "/api/v1/replicationcontrollers", "ReplicationController", "v1",
     false}, /* DESIGN 5: an owner-less one is a controlled workload */
    {"statefulsets", "/apis/apps/v1/statefulsets", "StatefulSet", "apps/v1", false},
    {"daemonsets", "/apis/apps/v1/daemonsets", "DaemonSet", "apps/v1", false},
    {"jobs", "/apis/batch/v1/jobs", "Job", "batch/v1", false},
    {"cronjobs", "/apis/batch/v1/cronjobs", "CronJob", "batch/v1", false},
    {"services", "/api/v1/services", "Service", "v1", false},
    {"endpoints", "/api/v1/endpoints", "Endpoints", "v1", false},
    {"ingresses", "/apis/networking.k8s.io/v1/ingresses", "Ingress", "networking.k8s.io/v1", false},
    {"networkpolicies", "/apis/networking.k8s.io/v1/networkpolicies", "NetworkPolicy",
     "networking.k8s.io/v1", false},
    {"serviceaccounts", "/api/v1/serviceaccounts", "ServiceAccount", "v1", false},
    {"roles", "/apis/rbac.authorization.k8s.io/v1/roles", "Role", "rbac.authorization.k8s.io/v1",
     false},
    {"rolebindings", "/apis/rbac.authorization.k8s.io/v1/rolebindings", "RoleBinding",
     "rbac.authorization.k8s.io/v1", false},
    {"clusterroles", "/apis/rbac.authorization.k8s.io/v1/clusterroles", "ClusterRole",
     "rbac.authorization.k8s.io/v1", false},
    {"clusterrolebindings", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
     "ClusterRoleBinding", "rbac.authorization.k8s.io/v1", false},
    {"configmaps", "/api/v1/configmaps", "ConfigMap", "v1", false},
    {"peerauthentications", "/apis/security.istio.io/v1beta1/peerauthentications",
     "PeerAuthentication", "security.istio.io/v1beta1", true},
    {"authorizationpolicies", "/apis/security.istio.io/v1beta1/authorizationpolicies",
     "AuthorizationPolicy", "security.istio.io/v1beta1", true},
    {"requestauthentications", "/apis/security.istio.io/v1beta1/requestauthentications",
     "RequestAuthentication", "security.istio.io/v1beta1", true},
    {"virtualservices", "/apis/networking.istio.io/v1beta1/virtualservices", "VirtualService",
     "networking.istio.io/v1beta1", true},
    {"destinationrules", "/apis/networking.istio.io/v1beta1/destinationrules", "DestinationRule",
     "networking.istio.io/v1beta1", true},
    {"gateways", "/apis/networking.istio.io/v1beta1/gateways", "Gateway",
     "networking.istio.io/v1beta1", true},
    {"serviceentries", "/apis/networking.istio.io/v1beta1/serviceentries", "ServiceEntry",
     "networking.istio.io/v1beta1", true},
    {"sidecars", "/apis/networking.istio.io/v1beta1/sidecars", "Sidecar",
     "networking.istio.io/v1beta1", true},
};
const size_t ingest_nresources = sizeof ingest_resources / sizeof ingest_resources[0];

static void blank_values(json_t *map)
{
    const char *key;
    json_t *value;
    if (!json_is_object(map)) {
        return;
    }
    json_object_foreach(map, key, value)
    {
        (void)value;
        json_object_set_new(map, key, json_string(""));
    }
}

void ingest_snapshot_item_prepare(const ingest_resource *r, json_t *item)
{
    if (!json_is_object(item)) {
        return;
    }
    if (!json_is_string(json_object_get(item, "kind"))) {
        json_object_set_new(item, "kind", json_string(r->kind));
    }
    if (!json_is_string(json_object_get(item, "apiVersion"))) {
        json_object_set_new(item, "apiVersion", json_string(r->api_version));
    }
    if (strcmp(r->name, "configmaps") == 0) {
        blank_values(json_object_get(item, "data"));
        blank_values(json_object_get(item, "binaryData"));
        json_t *ann = json_object_get(json_object_get(item, "metadata"), "annotations");
        if (json_is_object(ann)) {
            json_object_del(ann, LAST_APPLIED);
        }
    }
}

int ingest_chunker_flush(ingest_chunker *ch)
{
    if (ch->nitems == 0) {
        return 0;
    }
    vg_buf b = {0};
    ingest_envelope_open(&b, "snapshot.chunk", ch->tenant_id, ch->cluster_id);
    vg_buf_printf(&b, "{\"snapshot_id\":\"%s\",\"seq\":%ld,\"resource\":\"%s\",\"items\":[",
                  ch->snapshot_id, ch->chunks, ch->resource);
    vg_buf_append(&b, ch->items.data, ch->items.len);
    vg_buf_puts(&b, "]}}");
    int rc = ch->emit(b.data, b.len, ch->arg);
    vg_buf_free(&b);
    vg_buf_reset(&ch->items);
    ch->nitems = 0;
    if (rc == 0) {
        ch->chunks++;
    }
    return rc;
}

int ingest_chunker_add(ingest_chunker *ch, const char *resource, json_t *item)
{
    if (ch->resource != NULL && strcmp(ch->resource, resource) != 0 &&
        ingest_chunker_flush(ch) != 0) {
        return -1;
    }
    ch->resource = resource;
    char *text = json_dumps(item, JSON_COMPACT);
    if (text == NULL) {
        return -1;
    }
    size_t len = strlen(text);
    if (ch->nitems > 0 &&
        (ch->nitems >= ch->max_items || ch->items.len + len + 1 > ch->max_bytes)) {
        if (ingest_chunker_flush(ch) != 0) {
            free(text);
            return -1;
        }
    }
    if (ch->nitems > 0) {
        vg_buf_puts(&ch->items, ",");
    }
    vg_buf_append(&ch->items, text, len);
    ch->nitems++;
    free(text);
    return 0;
}

void ingest_chunker_free(ingest_chunker *ch)
{
    vg_buf_free(&ch->items);
    ch->nitems = 0;
}

char *ingest_snapshot_complete(const ingest_chunker *ch, json_t *counts, json_t *absent,
                               const char *started_at, const char *finished_at)
{
    json_t *data = json_pack("{s:s,s:I,s:O,s:O,s:s,s:s}", "snapshot_id", ch->snapshot_id, "chunks",
                             (json_int_t)ch->chunks, "counts", counts, "absent", absent,
                             "started_at", started_at, "finished_at", finished_at);
    char *text = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    vg_buf b = {0};
    ingest_envelope_open(&b, "snapshot.complete", ch->tenant_id, ch->cluster_id);
    vg_buf_puts(&b, text);
    vg_buf_puts(&b, "}");
    free(text);
    return vg_buf_steal(&b);
}
