/* Kafka handler; see consumer.h. */
#include "consumer.h"

#include <stdio.h>
#include <string.h>

#include "jobstore.h"
#include "vigil/log.h"

static vg_handle_result on_fuzz_run(const vg_envelope *env, vg_db *db, fz_runner *r, char *errbuf,
                                    size_t errlen)
{
    const char *job_id = json_string_value(json_object_get(env->data, "job_id"));
    if (job_id == NULL || env->tenant_id[0] == '\0') {
        snprintf(errbuf, errlen, "fuzz.run needs tenant_id and data.job_id");
        return VG_HANDLE_REJECT;
    }
    int found = fz_jobstore_job_exists(db, env->tenant_id, job_id);
    if (found < 0) {
        snprintf(errbuf, errlen, "database error: %s", vg_db_error(db));
        return VG_HANDLE_RETRY;
    }
    if (found == 0) {
        snprintf(errbuf, errlen, "fuzz job %.40s does not exist for this tenant", job_id);
        return VG_HANDLE_REJECT;
    }
    vg_info("fuzz.run received", "job_id", job_id, "tenant_id", env->tenant_id);
    fz_runner_wake(r);
    return VG_HANDLE_OK;
}

static vg_handle_result on_api_endpoint(const vg_envelope *env, vg_db *db, fz_runner *r,
                                        char *errbuf, size_t errlen)
{
    const char *api_id = json_string_value(json_object_get(env->data, "api_id"));
    const char *host = json_string_value(json_object_get(env->data, "host"));
    if (api_id == NULL || host == NULL || !vg_uuid_valid(api_id) || env->tenant_id[0] == '\0' ||
        strpbrk(host, "/?#@ ") != NULL) {
        snprintf(errbuf, errlen, "api.endpoint needs tenant_id, data.api_id and data.host");
        return VG_HANDLE_REJECT;
    }
    int rc = fz_jobstore_auto_job(db, env->tenant_id, env->cluster_id, api_id, host);
    if (rc < 0) {
        snprintf(errbuf, errlen, "database error: %s", vg_db_error(db));
        return VG_HANDLE_RETRY;
    }
    if (rc > 0) {
        vg_info("automatic fuzz job queued", "tenant_id", env->tenant_id, "host", host);
        fz_runner_wake(r);
    } else {
        vg_debug("api.endpoint: no automatic job (disabled, or one is pending)", "tenant_id",
                 env->tenant_id, "api_id", api_id);
    }
    return VG_HANDLE_OK;
}

vg_handle_result fz_consumer_handle(const vg_message *msg, vg_db *db, void *arg, char *errbuf,
                                    size_t errlen)
{
    const vg_envelope *env = msg->env;
    if (strcmp(env->type, "fuzz.run") == 0) {
        return on_fuzz_run(env, db, arg, errbuf, errlen);
    }
    if (strcmp(env->type, "api.endpoint") == 0) {
        return on_api_endpoint(env, db, arg, errbuf, errlen);
    }
    return VG_HANDLE_OK;
}
