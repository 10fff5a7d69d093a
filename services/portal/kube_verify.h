/* Verifies a cluster credential against its API server: TLS verified with the given CA, the
 * token authenticates, and a SelfSubjectRulesReview shows a read-only identity that cannot
 * read Secrets. */
#ifndef PORTAL_KUBE_VERIFY_H
#define PORTAL_KUBE_VERIFY_H

#include <jansson.h>
#include <stdbool.h>

typedef struct kube_verdict {
    int status;        /* 0 accepted, 400 unusable credential, 422 over-privileged */
    char message[512]; /* why, for the client (never contains the token) */
    json_t *offending; /* 422: array of {verbs, apiGroups, resources|nonResourceURLs, reason};
                          owned, json_decref */
} kube_verdict;

/* Classifies the status of a SelfSubjectRulesReview (its "status" object). Returns a new
 * array of the offending rules (empty when the identity is read-only without Secrets). */
json_t *portal_kube_classify(const json_t *status);

/* Posts a SelfSubjectRulesReview to server with token, trusting only ca_pem. Fills v. The
 * server's addresses are resolved and checked once (private ones refused unless allow_private)
 * and pinned for every request, so a second DNS answer cannot redirect the token. */
void portal_kube_verify(const char *server, const char *ca_pem, const char *token, long timeout_s,
                        bool allow_private, kube_verdict *v);

#endif
