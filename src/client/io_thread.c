/* The async engine of the HTTP client: one lazily started thread per client
 * drives a curl multi handle. Submissions go through a locked queue plus
 * curl_multi_wakeup(); each accepted transfer completes exactly once, with
 * its callback run on this thread after the transfer is freed.
 *
 * Invariants: a transfer is in exactly one place at a time: the queue
 * (guarded by mu), the active list (I/O thread only), or being completed.
 * Once `stopping` is set no submission is accepted, so the final drain on
 * the I/O thread sees every transfer that will ever exist. */
#include "client/http_internal.h"

#include <pthread.h>
#include <string.h>

#include "client/result_internal.h"
#include "common/alloc.h"

#define POLL_MAX_MS 1000

struct tc__io {
    tc__http_client *hc;
    pthread_t thread;
    CURLM *multi;
    pthread_mutex_t mu;
    tc__xfer *queue_head; /* lock: mu */
    tc__xfer *queue_tail; /* lock: mu */
    bool stopping;        /* lock: mu */
    tc__xfer *active;     /* I/O thread only: transfers added to `multi` */
};

/* The engine whose thread this is; set by the thread itself, so no other
 * thread ever writes it (pthread_create may store io->thread late). */
static _Thread_local const tc__io *t_current;

bool tc__io_is_current(const tc__io *io)
{
    return t_current == io;
}

/* Free the transfer, then hand its result to the callback (never under a lock). */
static void complete(tc__io *io, tc__xfer *x)
{
    tc_infer_cb cb = x->cb;
    void *ud = x->user_data;
    tc_result *r = x->result;
    x->result = NULL;
    tc__result_finish_timers(r, &x->timers);
    tc__xfer_free(io->hc, x);
    cb(r, ud);
}

static void fail(tc__io *io, tc__xfer *x, tc_code code, const char *msg)
{
    tc__result_set_error(x->result, code, 0, msg);
    complete(io, x);
}

static void unlink_active(tc__io *io, tc__xfer *x)
{
    for (tc__xfer **p = &io->active; *p != NULL; p = &(*p)->next) {
        if (*p == x) {
            *p = x->next;
            break;
        }
    }
    x->next = NULL;
}

/* Move newly queued transfers into the multi handle. Returns true to stop. */
static bool take_queue(tc__io *io)
{
    (void)pthread_mutex_lock(&io->mu);
    tc__xfer *q = io->queue_head;
    bool stop = io->stopping;
    io->queue_head = NULL;
    io->queue_tail = NULL;
    (void)pthread_mutex_unlock(&io->mu);
    while (q != NULL) {
        tc__xfer *x = q;
        q = q->next;
        x->next = NULL;
        if (stop) {
            fail(io, x, TC_E_CANCELLED, "the client was freed with the request in flight");
            continue;
        }
        tc__timers_set(&x->timers, TC_TIMER_SEND_START);
        CURLMcode mc = curl_multi_add_handle(io->multi, x->easy);
        if (mc != CURLM_OK) {
            fail(io, x, TC_E_TRANSPORT, curl_multi_strerror(mc));
            continue;
        }
        x->next = io->active;
        io->active = x;
    }
    return stop;
}

static void reap(tc__io *io)
{
    int left;
    CURLMsg *m;
    while ((m = curl_multi_info_read(io->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *e = m->easy_handle;
        CURLcode cc = m->data.result;
        char *priv = NULL;
        (void)curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
        tc__xfer *x = (tc__xfer *)(void *)priv;
        (void)curl_multi_remove_handle(io->multi, e);
        unlink_active(io, x);
        tc__http_infer_finish(x, cc, x->result);
        complete(io, x);
    }
}

static void cancel_active(tc__io *io)
{
    while (io->active != NULL) {
        tc__xfer *x = io->active;
        io->active = x->next;
        x->next = NULL;
        (void)curl_multi_remove_handle(io->multi, x->easy);
        fail(io, x, TC_E_CANCELLED, "the client was freed with the request in flight");
    }
}

static void *io_main(void *arg)
{
    tc__io *io = arg;
    t_current = io;
    for (;;) {
        if (take_queue(io))
            break;
        int running = 0;
        (void)curl_multi_perform(io->multi, &running);
        reap(io);
        (void)curl_multi_poll(io->multi, NULL, 0, POLL_MAX_MS, NULL);
    }
    cancel_active(io);
    (void)take_queue(io); /* callbacks above may not queue more: stopping is set */
    return NULL;
}

static tc_code io_start(tc__http_client *hc, tc__error *err)
{
    tc__io *io = tc__calloc(1, sizeof *io);
    if (io == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    io->hc = hc;
    io->multi = curl_multi_init();
    if (io->multi == NULL || pthread_mutex_init(&io->mu, NULL) != 0) {
        if (io->multi != NULL)
            curl_multi_cleanup(io->multi);
        tc__free(io);
        return tc__error_set(err, TC_E_TRANSPORT, "cannot create the async engine");
    }
    long n = (long)hc->opts.max_connections;
    (void)curl_multi_setopt(io->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, n);
    (void)curl_multi_setopt(io->multi, CURLMOPT_MAX_HOST_CONNECTIONS, n);
    (void)curl_multi_setopt(io->multi, CURLMOPT_MAXCONNECTS, n);
    if (pthread_create(&io->thread, NULL, io_main, io) != 0) {
        (void)pthread_mutex_destroy(&io->mu);
        curl_multi_cleanup(io->multi);
        tc__free(io);
        return tc__error_set(err, TC_E_TRANSPORT, "cannot start the I/O thread");
    }
    hc->io = io;
    return TC_OK;
}

tc_code tc__io_submit(tc__http_client *hc, tc__xfer *x, tc__error *err)
{
    tc_code rc = tc__http_xfer_apply(hc, x, err);
    if (rc != TC_OK)
        return rc;
    if (hc->io == NULL) {
        rc = io_start(hc, err);
        if (rc != TC_OK)
            return rc;
    }
    tc__io *io = hc->io;
    (void)pthread_mutex_lock(&io->mu);
    bool stopping = io->stopping;
    if (!stopping) {
        x->next = NULL;
        if (io->queue_tail != NULL)
            io->queue_tail->next = x;
        else
            io->queue_head = x;
        io->queue_tail = x;
    }
    (void)pthread_mutex_unlock(&io->mu);
    if (stopping)
        return tc__error_set(err, TC_E_CANCELLED, "the client is being freed");
    (void)curl_multi_wakeup(io->multi);
    return TC_OK;
}

void tc__io_destroy(tc__http_client *hc)
{
    tc__io *io = hc->io;
    if (io == NULL)
        return;
    (void)pthread_mutex_lock(&io->mu);
    io->stopping = true;
    (void)pthread_mutex_unlock(&io->mu);
    (void)curl_multi_wakeup(io->multi);
    (void)pthread_join(io->thread, NULL);
    curl_multi_cleanup(io->multi);
    (void)pthread_mutex_destroy(&io->mu);
    tc__free(io);
    hc->io = NULL;
}
