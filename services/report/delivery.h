/* One claimed outbox row and its transfer (private to the outbox worker). */
#ifndef REPORT_DELIVERY_H
#define REPORT_DELIVERY_H

#include <curl/curl.h>
#include <stdbool.h>

#include "mail.h"
#include "report.h"
#include "vigil/db.h"

typedef struct delivery {
    char *id; /* the delivery id */
    char *tenant_id;
    char *target_id;
    char *channel;    /* webhook or email */
    char *event_type; /* finding.opened, ..., webhook.test, digest */
    char *body;       /* webhook: the JSON event; email: the payload JSON */
    char *url;        /* webhook URL */
    char *secret;     /* sealed webhook secret */
    char *email;      /* recipient address */
    int attempts;     /* including the one in progress */
    long age_s;       /* since the row was created */
    /* the transfer */
    CURL *easy;
    struct curl_slist *list; /* webhook headers or mail recipients */
    char *message;           /* composed e-mail */
    report_mail_upload up;
    char curl_err[CURL_ERROR_SIZE];
    bool started;
    bool ok;
    long code;   /* HTTP status or SMTP reply code */
    char *error; /* why the attempt failed */
} delivery;

/* Prepares and runs every delivery of the batch concurrently with one curl multi handle,
 * setting ok/code/error on each. db is the worker's connection (e-mail token hashes). */
void report_deliveries_send(const report_ctx *ctx, vg_db *db, delivery *items, int n);

/* Frees the fields of one delivery (not the struct). */
void report_delivery_clear(delivery *d);

#endif
