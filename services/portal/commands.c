/* Publishing of vigil.commands messages (see commands.h). */
#include "commands.h"

#include <stdlib.h>
#include <string.h>

#include "vigil/envelope.h"
#include "vigil/log.h"

int portal_command_send(portal_ctx *ctx, const char *type, const char *tenant_id,
                        const char *cluster_id, json_t *data)
{
    char *msg = vg_envelope_build(type, tenant_id, cluster_id, data);
    char err[256] = "";
    const char *key = cluster_id ? cluster_id : tenant_id;
    int rc = vg_producer_send_sync(ctx->producer, vg_topic(VG_TOPIC_COMMANDS), key, msg,
                                   strlen(msg), 10000, err, sizeof err);
    if (rc != 0) {
        vg_error("cannot publish a command", "type", type, "tenant_id", tenant_id, "error", err);
    } else {
        vg_info("command published", "type", type, "tenant_id", tenant_id, "cluster_id",
                cluster_id);
    }
    free(msg);
    return rc;
}
