/* API inventory learned from mesh traffic: the vigil.traces consumer (trace.batch in,
 * api.endpoint and finding.observed out). */
#ifndef VIGIL_INVENTORY_API_TRACES_H
#define VIGIL_INVENTORY_API_TRACES_H

#include <stddef.h>

#include "vigil/config.h"
#include "vigil/db.h"
#include "vigil/kafka.h"

/* Call once before consumers start. producer is borrowed (svc->producer) and must outlive
 * the consumers. Returns 0 or -1 with errbuf set. */
int api_inventory_init(const vg_base_conf *conf, vg_producer *producer, char *errbuf,
                       size_t errlen);

/* Consumer handler for vigil.traces (group "vigil-inventory-traces", arg NULL). */
vg_handle_result api_traces_handle(const vg_message *msg, vg_db *db, void *arg, char *errbuf,
                                   size_t errlen);

#endif
