/* Load generation for tritonc-perf (see load.h). */
#include "load.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perf_shm.h"
#include "perf_util.h"

/* A worker buffer holds at most this many records between two takes
 * (about 130 MB); beyond it records are counted as dropped. */
#define MAX_RECORDS_PER_WORKER ((size_t)1 << 22)
/* Sleeps are cut into slices this long so that stop is prompt. */
#define SLEEP_SLICE_NS 50000000u

typedef struct worker worker;

/* One outstanding request's bookkeeping; slots are allocated per step, so
 * nothing is allocated per request. */
typedef struct slot {
    worker *w;
    uint32_t index;
    uint64_t start_ns;
    uint64_t sched_ns;
    bool delayed;
    struct slot *next_free;
} slot;

struct worker {
    perf_load *load;
    tc_client *client;
    tc_stream *stream;
    tc_request **reqs;
    size_t nreqs;
    size_t next_req;    /* guarded by mu */
    pthread_mutex_t mu; /* serializes every call on client and stream */
    pthread_mutex_t rec_mu;
    perf_record_buf recs; /* guarded by rec_mu */
    uint64_t dropped;     /* guarded by rec_mu */
    pthread_t thread;
    bool has_thread;
};

struct perf_load {
    perf_load_config cfg;
    atomic_bool running;
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cond;
    size_t inflight;
    slot *free_slots;
    uint64_t errors;
    char first_error[256];
    uint64_t sent;
    uint64_t delayed;
    uint64_t max_lag_ns;
    double rate;
    uint64_t sched_base_ns;
    double sched_offset_ns;
    uint64_t rng;
    /* Set up by start, torn down by stop (main thread only). */
    worker *workers;
    size_t nworkers;
    slot *slots;
    size_t nslots;
    pthread_t sched_thread;
    bool has_sched;
    perf_shm_set *shm; /* --shared-memory: per-slot regions and requests, else NULL */
};

/* ---- records ----------------------------------------------------------------- */

bool perf_record_buf_push(perf_record_buf *buf, const perf_record *r)
{
    if (buf->n == buf->cap) {
        size_t ncap = buf->cap == 0 ? 1024 : buf->cap * 2;
        perf_record *grown = perf_realloc_array(buf->v, ncap, sizeof *grown);
        if (grown == NULL)
            return false;
        buf->v = grown;
        buf->cap = ncap;
    }
    buf->v[buf->n++] = *r;
    return true;
}

void perf_record_buf_cleanup(perf_record_buf *buf)
{
    free(buf->v);
    memset(buf, 0, sizeof *buf);
}

void perf_record_set_timers(perf_record *r, const tc_result *result)
{
    uint64_t t[TC_TIMER_REQUEST_END + 1];
    r->timed = 0;
    for (int k = TC_TIMER_REQUEST_START; k <= TC_TIMER_REQUEST_END; k++) {
        if (tc_result_timer_ns(result, (tc_timer_kind)k, &t[k]) != TC_OK)
            return;
    }
    r->send_ns = t[TC_TIMER_SEND_END] - t[TC_TIMER_SEND_START];
    r->recv_ns = t[TC_TIMER_RECV_END] - t[TC_TIMER_RECV_START];
    r->wait_ns = t[TC_TIMER_RECV_START] - t[TC_TIMER_SEND_END];
    r->request_ns = t[TC_TIMER_REQUEST_END] - t[TC_TIMER_REQUEST_START];
    r->timed = 1;
}

static void record(worker *w, const perf_record *r)
{
    (void)pthread_mutex_lock(&w->rec_mu);
    if (w->recs.n >= MAX_RECORDS_PER_WORKER || !perf_record_buf_push(&w->recs, r))
        w->dropped++;
    (void)pthread_mutex_unlock(&w->rec_mu);
}

/* Count one send; `due` 0 means it had no schedule. */
static void count_send(perf_load *load, uint64_t start_ns, uint64_t due, bool delayed)
{
    (void)pthread_mutex_lock(&load->mu);
    load->sent++;
    if (delayed)
        load->delayed++;
    if (due != 0 && start_ns > due && start_ns - due > load->max_lag_ns)
        load->max_lag_ns = start_ns - due;
    (void)pthread_mutex_unlock(&load->mu);
}

static void fail(perf_load *load, const char *what, const char *msg)
{
    (void)pthread_mutex_lock(&load->mu);
    if (load->errors++ == 0)
        (void)snprintf(load->first_error, sizeof load->first_error, "%s: %s", what, msg);
    (void)pthread_mutex_unlock(&load->mu);
}

/* ---- clients and requests ---------------------------------------------------- */

tc_code perf_client_new(const perf_options *opts, uint32_t connections, tc_client **out, char *err,
                        size_t errlen)
{
    tc_code rc;
    if (opts->protocol == PERF_PROTOCOL_GRPC) {
        tc_grpc_options *g = NULL;
        rc = tc_grpc_options_new(&g);
        if (rc == TC_OK)
            rc = tc_grpc_client_new(out, opts->url, g);
        tc_grpc_options_free(g);
    } else {
        tc_http_options *h = NULL;
        rc = tc_http_options_new(&h);
        if (rc == TC_OK)
            rc = tc_http_options_set_max_connections(
                h, connections < 1 ? 1 : (connections > 1024 ? 1024 : connections));
        if (rc == TC_OK)
            rc = tc_http_client_new(out, opts->url, h);
        tc_http_options_free(h);
    }
    if (rc != TC_OK)
        (void)snprintf(err, errlen, "cannot create a client for '%s': %s", opts->url,
                       tc_code_str(rc));
    return rc;
}

static tc_code add_tensor(tc_request *req, const perf_load_config *cfg, const perf_input_info *in,
                          const perf_tensor *t)
{
    int64_t shape[PERF_MAX_DIMS + 1];
    size_t ndim = 0;
    uint32_t copies = cfg->batching ? cfg->opts->batch : 1;
    if (cfg->batching)
        shape[ndim++] = (int64_t)cfg->opts->batch;
    for (size_t d = 0; d < t->ndim; d++)
        shape[ndim++] = t->shape[d];
    tc_code rc = tc_request_add_input(req, in->name, in->dtype, shape, ndim);
    for (uint32_t b = 0; rc == TC_OK && b < copies && t->byte_size > 0; b++)
        rc = tc_request_input_append(req, in->name, t->data, t->byte_size, TC_BORROW);
    return rc;
}

tc_code perf_request_build(const perf_load_config *cfg, size_t step, tc_request **out)
{
    tc_request *req = NULL;
    tc_code rc = tc_request_new(&req, cfg->opts->model);
    if (rc == TC_OK && cfg->opts->version[0] != '\0')
        rc = tc_request_set_model_version(req, cfg->opts->version);
    for (size_t i = 0; rc == TC_OK && i < cfg->ninputs; i++)
        rc = add_tensor(req, cfg, &cfg->inputs[i], perf_dataset_tensor(cfg->data, step, i));
    if (rc == TC_OK)
        rc = tc_request_set_binary_outputs(req, true);
    if (rc != TC_OK) {
        tc_request_free(req);
        req = NULL;
    }
    *out = req;
    return rc;
}

static void worker_cleanup(worker *w)
{
    if (w->stream != NULL) {
        (void)tc_stream_stop(w->stream, false);
        tc_stream_free(w->stream);
    }
    (void)tc_client_free(w->client);
    for (size_t i = 0; i < w->nreqs; i++)
        tc_request_free(w->reqs[i]);
    free(w->reqs);
    perf_record_buf_cleanup(&w->recs);
    (void)pthread_mutex_destroy(&w->mu);
    (void)pthread_mutex_destroy(&w->rec_mu);
    memset(w, 0, sizeof *w);
}

static void on_stream(tc_stream *stream, tc_result *result, bool final, void *user_data);

static bool worker_init(worker *w, perf_load *load, uint32_t connections, char *err, size_t errlen)
{
    memset(w, 0, sizeof *w);
    w->load = load;
    (void)pthread_mutex_init(&w->mu, NULL);
    (void)pthread_mutex_init(&w->rec_mu, NULL);
    const perf_load_config *cfg = &load->cfg;
    if (perf_client_new(cfg->opts, connections, &w->client, err, errlen) != TC_OK)
        return false;
    w->reqs = perf_calloc(cfg->data->nsteps, sizeof(tc_request *));
    if (w->reqs == NULL)
        return false;
    /* With shared memory every slot has its own requests (perf_shm.c). */
    size_t nsteps = cfg->opts->shared_memory == PERF_SHM_NONE ? cfg->data->nsteps : 0;
    for (size_t s = 0; s < nsteps; s++) {
        tc_code rc = perf_request_build(cfg, s, &w->reqs[s]);
        if (rc != TC_OK) {
            (void)snprintf(err, errlen, "cannot build the request: %s", tc_code_str(rc));
            return false;
        }
        w->nreqs++;
    }
    if (cfg->opts->streaming) {
        tc_code rc = tc_client_stream_start(w->client, on_stream, w, NULL, &w->stream);
        if (rc != TC_OK) {
            (void)snprintf(err, errlen, "cannot open a stream: %s: %s", tc_code_str(rc),
                           tc_client_last_error(w->client));
            return false;
        }
    }
    return true;
}

/* The next request in data order; caller holds w->mu. */
static tc_request *next_request(worker *w)
{
    tc_request *req = w->reqs[w->next_req];
    w->next_req = (w->next_req + 1) % w->nreqs;
    return req;
}

/* ---- async issue and completion --------------------------------------------- */

static void release_slot(slot *s)
{
    perf_load *load = s->w->load;
    (void)pthread_mutex_lock(&load->mu);
    load->inflight--;
    s->next_free = load->free_slots;
    load->free_slots = s;
    (void)pthread_cond_broadcast(&load->cond);
    (void)pthread_mutex_unlock(&load->mu);
}

static void on_async_done(tc_result *result, void *user_data);

static void issue(slot *s)
{
    worker *w = s->w;
    tc_code rc;
    (void)pthread_mutex_lock(&w->mu);
    tc_request *req = w->load->shm != NULL ? perf_shm_next_request(w->load->shm, s->index)
                                           : next_request(w);
    /* Once sent, the slot belongs to its completion (which may re-issue it
     * on the I/O thread), so keep what counting needs in locals. */
    uint64_t start_ns = perf_now_ns();
    uint64_t due = s->sched_ns;
    bool delayed = s->delayed;
    s->start_ns = start_ns;
    if (w->stream != NULL) {
        char id[24];
        (void)snprintf(id, sizeof id, "%u", s->index);
        rc = tc_request_set_id(req, id);
        if (rc == TC_OK)
            rc = tc_stream_send(w->stream, req);
    } else {
        rc = tc_client_infer_async(w->client, req, on_async_done, s);
    }
    const char *msg = rc == TC_OK ? "" : tc_client_last_error(w->client);
    if (rc != TC_OK)
        fail(w->load, "cannot send a request", msg[0] != '\0' ? msg : tc_code_str(rc));
    (void)pthread_mutex_unlock(&w->mu);
    if (rc != TC_OK)
        release_slot(s);
    else
        count_send(w->load, start_ns, due, delayed);
}

static void complete(slot *s, tc_result *result)
{
    perf_load *load = s->w->load;
    perf_record r = {.start_ns = s->start_ns,
                     .end_ns = perf_now_ns(),
                     .sched_ns = s->sched_ns,
                     .delayed = s->delayed ? 1u : 0u};
    r.ok = tc_result_status(result) == TC_OK ? 1u : 0u;
    perf_record_set_timers(&r, result);
    record(s->w, &r);
    if (!r.ok)
        fail(load, "inference request failed", tc_result_error_message(result));
    tc_result_free(result);
    /* Concurrency mode keeps the slot busy: the answer triggers the next request. */
    if (r.ok && load->cfg.opts->mode == PERF_MODE_CONCURRENCY && atomic_load(&load->running))
        issue(s);
    else
        release_slot(s);
}

static void on_async_done(tc_result *result, void *user_data)
{
    complete(user_data, result);
}

static void on_stream(tc_stream *stream, tc_result *result, bool final, void *user_data)
{
    worker *w = user_data;
    if (result == NULL) { /* end of stream: tc_stream_stop() waits for it */
        if (atomic_load(&w->load->running) && tc_stream_status(stream) != TC_OK)
            fail(w->load, "the stream ended", tc_stream_error_message(stream));
        return;
    }
    char *end = NULL;
    unsigned long index = strtoul(tc_result_id(result), &end, 10);
    if (end == tc_result_id(result) || index >= w->load->nslots) {
        fail(w->load, "stream response", "unknown request id");
        tc_result_free(result);
        return;
    }
    if (!final) { /* decoupled models: the request ends with its final response */
        tc_result_free(result);
        return;
    }
    complete(&w->load->slots[index], result);
}

/* ---- schedule ------------------------------------------------------------------ */

/* The next due time; caller holds load->mu. */
static uint64_t next_due_locked(perf_load *load)
{
    uint64_t due = load->sched_base_ns + (uint64_t)load->sched_offset_ns;
    double interval = 1e9 / load->rate;
    if (load->cfg.opts->distribution == PERF_DIST_POISSON) {
        /* splitmix64 to a uniform (0, 1], then an exponential gap. */
        uint64_t z = (load->rng += 0x9e3779b97f4a7c15u);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        z ^= z >> 31;
        double u = ((double)(z >> 11) + 1.0) / 9007199254740992.0;
        interval *= -log(u);
    }
    load->sched_offset_ns += interval;
    return due;
}

/* Sleep until `due` unless the load stops first; false when it stopped. */
static bool wait_until(perf_load *load, uint64_t due)
{
    for (;;) {
        if (!atomic_load(&load->running))
            return false;
        uint64_t now = perf_now_ns();
        if (now >= due)
            return true;
        perf_sleep_until_ns(due - now > SLEEP_SLICE_NS ? now + SLEEP_SLICE_NS : due);
    }
}

static void *scheduler_main(void *arg)
{
    perf_load *load = arg;
    for (;;) {
        (void)pthread_mutex_lock(&load->mu);
        while (load->free_slots == NULL && atomic_load(&load->running))
            (void)pthread_cond_wait(&load->cond, &load->mu);
        if (!atomic_load(&load->running)) {
            (void)pthread_mutex_unlock(&load->mu);
            break;
        }
        slot *s = load->free_slots;
        load->free_slots = s->next_free;
        load->inflight++;
        uint64_t due = next_due_locked(load);
        (void)pthread_mutex_unlock(&load->mu);
        /* As perf_analyzer: a request is delayed when its sender was not
         * ready before the time it was due. */
        s->delayed = perf_now_ns() > due;
        s->sched_ns = due;
        if (!wait_until(load, due)) {
            release_slot(s);
            break;
        }
        issue(s);
    }
    return NULL;
}

/* ---- blocking workers ---------------------------------------------------------- */

static bool sync_one(worker *w, uint64_t due, bool delayed)
{
    tc_result *result = NULL;
    /* Only this thread uses w (and, with shared memory, its slot: blocking
     * workers and slots pair up one to one). */
    perf_load *load = w->load;
    tc_request *req = load->shm != NULL
                          ? perf_shm_next_request(load->shm, (size_t)(w - load->workers))
                          : next_request(w);
    perf_record r = {.start_ns = perf_now_ns(), .sched_ns = due, .delayed = delayed ? 1u : 0u};
    count_send(w->load, r.start_ns, due, delayed);
    tc_code rc = tc_client_infer(w->client, req, &result);
    r.end_ns = perf_now_ns();
    r.ok = rc == TC_OK ? 1u : 0u;
    if (result != NULL)
        perf_record_set_timers(&r, result);
    record(w, &r);
    if (rc != TC_OK) {
        const char *msg =
            result != NULL ? tc_result_error_message(result) : tc_client_last_error(w->client);
        fail(w->load, "inference request failed", msg[0] != '\0' ? msg : tc_code_str(rc));
    }
    tc_result_free(result);
    return rc == TC_OK;
}

static void *sync_main(void *arg)
{
    worker *w = arg;
    perf_load *load = w->load;
    bool rate = load->cfg.opts->mode == PERF_MODE_REQUEST_RATE;
    while (atomic_load(&load->running)) {
        uint64_t due = 0;
        bool delayed = false;
        if (rate) {
            (void)pthread_mutex_lock(&load->mu);
            due = next_due_locked(load);
            (void)pthread_mutex_unlock(&load->mu);
            delayed = perf_now_ns() > due;
            if (!wait_until(load, due))
                break;
        }
        if (!sync_one(w, due, delayed))
            break;
    }
    return NULL;
}

/* ---- start and stop ------------------------------------------------------------ */

perf_load *perf_load_new(const perf_load_config *cfg)
{
    perf_load *load = perf_calloc(1, sizeof *load);
    if (load == NULL)
        return NULL;
    load->cfg = *cfg;
    atomic_init(&load->running, false);
    (void)pthread_mutex_init(&load->mu, NULL);
    (void)pthread_cond_init(&load->cond, NULL);
    load->rng = 0x70657266u;
    return load;
}

static bool make_workers(perf_load *load, size_t nworkers, size_t nslots, char *err, size_t errlen)
{
    load->workers = perf_calloc(nworkers, sizeof *load->workers);
    load->slots = perf_calloc(nslots, sizeof *load->slots);
    if (load->workers == NULL || load->slots == NULL) {
        (void)snprintf(err, errlen, "out of memory");
        return false;
    }
    load->nslots = nslots;
    uint32_t per_worker = (uint32_t)((nslots + nworkers - 1) / nworkers);
    for (size_t i = 0; i < nworkers; i++) {
        if (!worker_init(&load->workers[i], load, per_worker, err, errlen)) {
            worker_cleanup(&load->workers[i]);
            return false;
        }
        load->nworkers++;
    }
    for (size_t i = 0; i < nslots; i++) {
        slot *s = &load->slots[i];
        s->w = &load->workers[i % nworkers];
        s->index = (uint32_t)i;
    }
    if (load->cfg.opts->shared_memory != PERF_SHM_NONE &&
        !perf_shm_new(&load->shm, &load->cfg, nslots, load->workers[0].client, err, errlen))
        return false;
    return true;
}

static bool start_threads(perf_load *load, char *err, size_t errlen)
{
    for (size_t i = 0; i < load->nworkers; i++) {
        worker *w = &load->workers[i];
        if (pthread_create(&w->thread, NULL, sync_main, w) != 0) {
            (void)snprintf(err, errlen, "cannot start thread %zu", i);
            return false;
        }
        w->has_thread = true;
    }
    return true;
}

static bool start_async(perf_load *load, char *err, size_t errlen)
{
    if (load->cfg.opts->mode == PERF_MODE_REQUEST_RATE) {
        (void)pthread_mutex_lock(&load->mu);
        for (size_t i = load->nslots; i-- > 0;) {
            load->slots[i].next_free = load->free_slots;
            load->free_slots = &load->slots[i];
        }
        (void)pthread_mutex_unlock(&load->mu);
        if (pthread_create(&load->sched_thread, NULL, scheduler_main, load) != 0) {
            (void)snprintf(err, errlen, "cannot start the scheduler thread");
            return false;
        }
        load->has_sched = true;
        return true;
    }
    (void)pthread_mutex_lock(&load->mu);
    load->inflight = load->nslots;
    (void)pthread_mutex_unlock(&load->mu);
    for (size_t i = 0; i < load->nslots; i++)
        issue(&load->slots[i]);
    return true;
}

bool perf_load_start(perf_load *load, double value, char *err, size_t errlen)
{
    const perf_options *o = load->cfg.opts;
    bool rate = o->mode == PERF_MODE_REQUEST_RATE;
    bool async = o->async || o->streaming;
    size_t nslots;
    size_t nworkers;
    if (!async) {
        nworkers = rate ? o->max_threads : (size_t)value;
        nslots = nworkers;
    } else {
        nslots = rate ? o->max_inflight : (size_t)value;
        nworkers = nslots < o->max_threads ? nslots : o->max_threads;
    }
    load->rate = value;
    load->sched_base_ns = perf_now_ns() + 1000000u;
    load->sched_offset_ns = 0;
    load->free_slots = NULL;
    load->inflight = 0;
    atomic_store(&load->running, true);
    if (!make_workers(load, nworkers, nslots, err, errlen)) {
        perf_load_stop(load);
        return false;
    }
    bool ok = async ? start_async(load, err, errlen) : start_threads(load, err, errlen);
    if (!ok)
        perf_load_stop(load);
    return ok;
}

bool perf_load_take(perf_load *load, perf_record_buf *out)
{
    bool ok = true;
    for (size_t i = 0; i < load->nworkers; i++) {
        worker *w = &load->workers[i];
        (void)pthread_mutex_lock(&w->rec_mu);
        for (size_t j = 0; j < w->recs.n && ok; j++)
            ok = perf_record_buf_push(out, &w->recs.v[j]);
        w->recs.n = 0;
        (void)pthread_mutex_unlock(&w->rec_mu);
    }
    return ok;
}

uint64_t perf_load_errors(perf_load *load, char *msg, size_t msglen)
{
    (void)pthread_mutex_lock(&load->mu);
    uint64_t n = load->errors;
    if (msg != NULL)
        (void)snprintf(msg, msglen, "%s", load->first_error);
    (void)pthread_mutex_unlock(&load->mu);
    return n;
}

void perf_load_counters(perf_load *load, perf_send_counters *out)
{
    (void)pthread_mutex_lock(&load->mu);
    out->sent = load->sent;
    out->delayed = load->delayed;
    out->max_lag_ns = load->max_lag_ns;
    load->max_lag_ns = 0;
    (void)pthread_mutex_unlock(&load->mu);
}

uint64_t perf_load_dropped(perf_load *load)
{
    uint64_t n = 0;
    for (size_t i = 0; i < load->nworkers; i++) {
        (void)pthread_mutex_lock(&load->workers[i].rec_mu);
        n += load->workers[i].dropped;
        (void)pthread_mutex_unlock(&load->workers[i].rec_mu);
    }
    return n;
}

void perf_load_stop(perf_load *load)
{
    atomic_store(&load->running, false);
    (void)pthread_mutex_lock(&load->mu);
    (void)pthread_cond_broadcast(&load->cond);
    (void)pthread_mutex_unlock(&load->mu);
    if (load->has_sched)
        (void)pthread_join(load->sched_thread, NULL);
    load->has_sched = false;
    for (size_t i = 0; i < load->nworkers; i++) {
        if (load->workers[i].has_thread)
            (void)pthread_join(load->workers[i].thread, NULL);
        load->workers[i].has_thread = false;
    }
    /* Streams half-close: every queued request gets its answer before the
     * stop returns. A stream that ended early leaves its slots unanswered. */
    for (size_t i = 0; i < load->nworkers; i++) {
        if (load->workers[i].stream != NULL)
            (void)tc_stream_stop(load->workers[i].stream, false);
    }
    /* Async requests still in flight finish (their callbacks do not re-issue). */
    (void)pthread_mutex_lock(&load->mu);
    if (load->cfg.opts->streaming)
        load->inflight = 0;
    while (load->inflight > 0)
        (void)pthread_cond_wait(&load->cond, &load->mu);
    (void)pthread_mutex_unlock(&load->mu);
    perf_shm_free(load->shm, load->nworkers > 0 ? load->workers[0].client : NULL);
    load->shm = NULL;
    for (size_t i = 0; i < load->nworkers; i++)
        worker_cleanup(&load->workers[i]);
    free(load->workers);
    free(load->slots);
    load->workers = NULL;
    load->slots = NULL;
    load->nworkers = 0;
    load->nslots = 0;
    load->free_slots = NULL;
}

void perf_load_free(perf_load *load)
{
    if (load == NULL)
        return;
    perf_load_stop(load);
    (void)pthread_mutex_destroy(&load->mu);
    (void)pthread_cond_destroy(&load->cond);
    free(load);
}
