/* Kafka input of the fuzzer: fuzz.run commands on vigil.commands (wake the runner for a job
 * the portal created) and api.endpoint events on vigil.api-events (queue an automatic job
 * when the tenant enabled it). Other message types are ignored. */
#ifndef FUZZER_CONSUMER_H
#define FUZZER_CONSUMER_H

#include "runner.h"
#include "vigil/kafka.h"

/* arg is the fz_runner. */
vg_handle_result fz_consumer_handle(const vg_message *msg, vg_db *db, void *arg, char *errbuf,
                                    size_t errlen);

#endif
