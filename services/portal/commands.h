/* Commands the portal publishes on vigil.commands (docs/messages.md). */
#ifndef PORTAL_COMMANDS_H
#define PORTAL_COMMANDS_H

#include <jansson.h>

#include "portal.h"

/* Publishes an envelope of `type` with data (stolen) to vg_topic(VG_TOPIC_COMMANDS), keyed by
 * cluster_id (or tenant_id when cluster_id is NULL), and waits for the acknowledgement.
 * Returns 0 or -1 (logged). */
int portal_command_send(portal_ctx *ctx, const char *type, const char *tenant_id,
                        const char *cluster_id, json_t *data) __attribute__((warn_unused_result));

#endif
