/* Thread offload with a pipe back to the loop (see offload.h). libevent is not set up for
 * cross-thread calls, so the worker only writes one byte to a pipe the loop watches. */
#include "offload.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/alloc.h"
#include "vigil/log.h"

typedef struct offload_job {
    portal_offload_fn work, done;
    void *arg;
    int fds[2];
    pthread_t thread;
    struct event *ev;
} offload_job;

static int offload_limit = 8;
static int offload_running; /* touched on the loop thread only */

void portal_offload_limit_set(int limit)
{
    offload_limit = limit > 0 ? limit : 1;
}

static void *offload_thread(void *p)
{
    offload_job *job = p;
    job->work(job->arg);
    ssize_t w;
    do {
        w = write(job->fds[1], "x", 1);
    } while (w < 0 && errno == EINTR);
    return NULL;
}

static void offload_job_free(offload_job *job)
{
    if (job->ev != NULL) {
        event_free(job->ev);
    }
    if (job->fds[0] >= 0) {
        close(job->fds[0]);
        close(job->fds[1]);
    }
    free(job);
}

static void offload_done(evutil_socket_t fd, short what, void *p)
{
    (void)fd;
    (void)what;
    offload_job *job = p;
    pthread_join(job->thread, NULL);
    offload_running--;
    portal_offload_fn done = job->done;
    void *arg = job->arg;
    offload_job_free(job);
    done(arg);
}

int portal_offload(struct event_base *base, portal_offload_fn work, portal_offload_fn done,
                   void *arg)
{
    if (offload_running >= offload_limit) {
        char limit[16];
        snprintf(limit, sizeof limit, "%d", offload_limit);
        vg_warn("background work limit reached", "limit", limit);
        return -1;
    }
    offload_job *job = vg_calloc(1, sizeof *job);
    *job = (offload_job){.work = work, .done = done, .arg = arg, .fds = {-1, -1}};
    if (pipe2(job->fds, O_CLOEXEC) != 0) {
        job->fds[0] = job->fds[1] = -1;
        goto fail;
    }
    job->ev = event_new(base, job->fds[0], EV_READ, offload_done, job);
    if (job->ev == NULL || event_add(job->ev, NULL) != 0) {
        goto fail;
    }
    if (pthread_create(&job->thread, NULL, offload_thread, job) != 0) {
        goto fail;
    }
    offload_running++;
    return 0;
fail:
    vg_error("cannot start background work", "error", strerror(errno));
    offload_job_free(job);
    return -1;
}

void portal_reply_busy(vg_http_req *req)
{
    vg_http_set_header(req, "Retry-After", "1");
    vg_http_reply_error(req, 503, "busy", "the server is busy; try again in a second");
}
