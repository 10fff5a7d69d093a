/* Sending one batch of deliveries: webhooks (signed POST) and e-mails (SMTP), all at once
 * on one curl multi handle. */
#include "delivery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/alloc.h"
#include "vigil/log.h"
#include "vigil/netaddr.h"
#include "vigil/util.h"
#include "webhook.h"

void report_delivery_clear(delivery *d)
{
    if (d->easy != NULL) {
        curl_easy_cleanup(d->easy);
    }
    curl_slist_free_all(d->list);
    free(d->id);
    free(d->tenant_id);
    free(d->target_id);
    free(d->channel);
    free(d->event_type);
    free(d->body);
    free(d->url);
    free(d->secret);
    free(d->email);
    free(d->message);
    free(d->error);
    memset(d, 0, sizeof *d);
}

static void fail(delivery *d, const char *why)
{
    free(d->error);
    d->error = vg_strdup(why);
}

static int prepare_webhook(const report_ctx *ctx, delivery *d)
{
    char err[300];
    if (vg_url_target_check(d->url, ctx->allow_private, err, sizeof err) != 0) {
        char why[400];
        snprintf(why, sizeof why, "target refused: %s", err);
        fail(d, why);
        return -1;
    }
    char *aad = vg_asprintf("%s/%s", d->tenant_id, d->target_id);
    size_t slen = 0;
    unsigned char *secret = vg_secret_open(&ctx->mk, d->secret, aad, &slen);
    free(aad);
    if (secret == NULL) {
        fail(d, "cannot open the webhook secret (wrong master key or aad)");
        return -1;
    }
    char ts[32];
    snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
    size_t blen = strlen(d->body);
    char *sig = report_webhook_signature(secret, slen, ts, d->body, blen);
    vg_wipe(secret, slen);
    free(secret);
    d->list = report_webhook_headers(d->event_type, d->id, ts, sig);
    free(sig);
    report_webhook_setup(d->easy, d->url, d->body, blen, d->list, ctx->timeout_ms,
                         ctx->allow_private);
    return 0;
}

/* Stores the hash of the recipient's unsubscribe token (the link in the mail). */
static int store_token_hash(vg_db *db, const char *recipient_id, const char *token)
{
    char hash[65];
    vg_sha256_hex(token, strlen(token), hash);
    const char *params[] = {recipient_id, hash};
    return vg_db_cmd(db,
                     "UPDATE email_recipients SET unsubscribe_token_hash = $2 WHERE id = $1 "
                     "AND unsubscribe_token_hash IS DISTINCT FROM $2",
                     2, params);
}

static int prepare_email(const report_ctx *ctx, vg_db *db, delivery *d)
{
    if (ctx->smtp_url == NULL || ctx->smtp_url[0] == '\0') {
        fail(d, "e-mail is not configured (VIGIL_SMTP_URL)");
        return -1;
    }
    json_t *payload = json_loads(d->body, 0, NULL);
    if (payload == NULL) {
        fail(d, "unreadable payload");
        return -1;
    }
    char *token = report_unsubscribe_token(&ctx->mk, d->target_id);
    int rc = store_token_hash(db, d->target_id, token);
    char *link = vg_asprintf("%s/unsubscribe?token=%s", ctx->public_url, token);
    free(token);
    if (rc == 0) {
        report_mail m = {.from = ctx->mail_from,
                         .to = d->email,
                         .delivery_id = d->id,
                         .event_type = d->event_type,
                         .unsubscribe_url = link,
                         .payload = payload};
        d->message = report_mail_compose(&m);
        d->up = (report_mail_upload){d->message, strlen(d->message), 0};
        char *rcpt = vg_asprintf("<%s>", d->email);
        d->list = curl_slist_append(NULL, rcpt);
        free(rcpt);
        char *from = vg_asprintf("<%s>", ctx->mail_from);
        report_mail_setup(d->easy, ctx->smtp_url, from, d->list, &d->up, ctx->timeout_ms);
        if (ctx->smtp_ca_file != NULL && ctx->smtp_ca_file[0] != '\0') {
            curl_easy_setopt(d->easy, CURLOPT_CAINFO, ctx->smtp_ca_file);
        }
        free(from); /* libcurl copies string options */
    } else {
        fail(d, "database error storing the unsubscribe token");
    }
    free(link);
    json_decref(payload);
    return rc;
}

static void finish(delivery *d, CURLcode code)
{
    long status = 0;
    curl_easy_getinfo(d->easy, CURLINFO_RESPONSE_CODE, &status);
    d->code = status;
    bool webhook = strcmp(d->channel, "webhook") == 0;
    char why[CURL_ERROR_SIZE + 64];
    if (code != CURLE_OK) {
        snprintf(why, sizeof why, "%s%s%s", curl_easy_strerror(code), d->curl_err[0] ? ": " : "",
                 d->curl_err);
        fail(d, why);
    } else if (webhook && (status < 200 || status > 299)) {
        snprintf(why, sizeof why, "HTTP %ld%s", status,
                 status >= 300 && status < 400 ? " (redirects are not followed)" : "");
        fail(d, why);
    } else {
        d->ok = true;
    }
}

static void read_done(CURLM *multi)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        delivery *d = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&d);
        finish(d, msg->data.result);
        curl_multi_remove_handle(multi, msg->easy_handle);
    }
}

static void run_multi(CURLM *multi)
{
    int running = 0;
    for (;;) {
        if (curl_multi_perform(multi, &running) != CURLM_OK) {
            break;
        }
        read_done(multi);
        if (running == 0 || curl_multi_poll(multi, NULL, 0, 1000, NULL) != CURLM_OK) {
            break;
        }
    }
}

void report_deliveries_send(const report_ctx *ctx, vg_db *db, delivery *items, int n)
{
    CURLM *multi = curl_multi_init();
    for (int i = 0; i < n; i++) {
        delivery *d = &items[i];
        d->easy = curl_easy_init();
        curl_easy_setopt(d->easy, CURLOPT_PRIVATE, d);
        curl_easy_setopt(d->easy, CURLOPT_ERRORBUFFER, d->curl_err);
        int rc = strcmp(d->channel, "webhook") == 0 ? prepare_webhook(ctx, d)
                                                    : prepare_email(ctx, db, d);
        if (rc == 0 && curl_multi_add_handle(multi, d->easy) == CURLM_OK) {
            d->started = true;
        } else if (d->error == NULL) {
            fail(d, "cannot start the transfer");
        }
    }
    run_multi(multi);
    for (int i = 0; i < n; i++) {
        if (items[i].started && !items[i].ok && items[i].error == NULL) {
            fail(&items[i], "transfer did not complete");
            curl_multi_remove_handle(multi, items[i].easy);
        }
    }
    curl_multi_cleanup(multi);
}
