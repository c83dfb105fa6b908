/* Model version lifecycle, the per-version instance threads and queue, the
 * inference path and statistics recording. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "core/internal.h"
#include "proto/model_config.h"

#define MAX_INSTANCES 16

/* ---- version objects ---------------------------------------------------------- */

tc__model_handle *tc__mv_new(tc__core *core, const char *name, int64_t version, const char *dir)
{
    tc__model_handle *mv = tc__calloc(1, sizeof *mv);
    if (mv == NULL)
        return NULL;
    atomic_init(&mv->refs, 1u);
    mv->core = core;
    mv->version = version;
    mv->name = tc__strdup(name);
    mv->dir = tc__strdup(dir);
    tc__buf v = TC__BUF_INIT;
    if (tc__buf_printf(&v, "%" PRId64, version) == TC_OK)
        mv->version_str = (char *)tc__buf_steal(&v, NULL);
    tc__buf_cleanup(&v);
    pthread_mutex_init(&mv->qlock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* batching deadlines use tc__now_ns */
    pthread_cond_init(&mv->qcond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&mv->slock, NULL);
    if (mv->name == NULL || mv->dir == NULL || mv->version_str == NULL) {
        tc__mv_unref(mv);
        return NULL;
    }
    return mv;
}

void tc__mv_ref(tc__model_handle *mv)
{
    atomic_fetch_add(&mv->refs, 1u);
}

/* The last reference goes after tc__mv_stop (the owners stop first). */
void tc__mv_unref(tc__model_handle *mv)
{
    if (mv == NULL || atomic_fetch_sub(&mv->refs, 1u) != 1u)
        return;
    tc__mv_stop(mv);
    tc__mv_labels_free(mv);
    tc__model_config_free(mv->config);
    pthread_mutex_destroy(&mv->qlock);
    pthread_cond_destroy(&mv->qcond);
    pthread_mutex_destroy(&mv->slock);
    tc__free(mv->stats.batches);
    tc__free(mv->name);
    tc__free(mv->dir);
    tc__free(mv->version_str);
    tc__free(mv->reason);
    tc__free(mv);
}

/* ---- execution ----------------------------------------------------------------- */

static const tc__requested_output *find_requested(const tc__infer_request *req, const char *name)
{
    for (size_t i = 0; i < req->output_count; i++) {
        if (strcmp(req->outputs[i].name, name) == 0)
            return &req->outputs[i];
    }
    return NULL;
}

static size_t config_output_index(const Inference__ModelConfig *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_output; i++) {
        if (strcmp(cfg->output[i]->name, name) == 0)
            return i;
    }
    return SIZE_MAX;
}

/* Keep the requested outputs (all when none listed), apply classification
 * and the binary choice. */
static tc_code postprocess(const tc__model_handle *mv, const tc__infer_request *req,
                           tc__infer_response *resp, tc__error *err)
{
    tc_code rc = TC_OK;
    size_t kept = 0;
    for (size_t i = 0; i < resp->output_count; i++) {
        tc__tensor *t = &resp->outputs[i];
        const tc__requested_output *o = find_requested(req, t->name);
        if (req->output_count > 0 && o == NULL) {
            tc__tensor_cleanup(t);
            continue;
        }
        if (rc == TC_OK && o != NULL && o->class_count > 0) {
            size_t ci = config_output_index(mv->config, t->name);
            const tc__labels *labels =
                mv->labels != NULL && ci != SIZE_MAX ? &mv->labels[ci] : NULL;
            rc = tc__classify(t, o->class_count, mv->config->max_batch_size > 0, labels, err);
        }
        if (o != NULL && o->binary >= 0)
            t->binary = o->binary == 1;
        else
            t->binary = req->binary_data_output == 1;
        if (kept != i)
            resp->outputs[kept] = *t;
        kept++;
    }
    resp->output_count = kept;
    return rc;
}

static void add_duration(tc__stat_duration *d, uint64_t ns)
{
    d->count++;
    d->ns += ns;
}

static void record_batch(tc__vstats *s, uint64_t batch, uint64_t in_ns, uint64_t infer_ns,
                         uint64_t out_ns)
{
    size_t i = 0;
    while (i < s->batch_count && s->batches[i].batch_size < batch)
        i++;
    if (i == s->batch_count || s->batches[i].batch_size != batch) {
        tc__batch_stat *grown = tc__reallocarray(s->batches, s->batch_count + 1, sizeof *grown);
        if (grown == NULL)
            return;
        s->batches = grown;
        memmove(&grown[i + 1], &grown[i], (s->batch_count - i) * sizeof *grown);
        memset(&grown[i], 0, sizeof *grown);
        grown[i].batch_size = batch;
        s->batch_count++;
    }
    add_duration(&s->batches[i].compute_input, in_ns);
    add_duration(&s->batches[i].compute_infer, infer_ns);
    add_duration(&s->batches[i].compute_output, out_ns);
}

static void flight_done(tc__core *core)
{
    pthread_mutex_lock(&core->flight_lock);
    core->inflight--;
    if (core->inflight == 0)
        pthread_cond_broadcast(&core->flight_cond);
    pthread_mutex_unlock(&core->flight_lock);
}

static tc__infer_response *response_new(const tc__model_handle *mv, const tc__infer_request *req)
{
    tc__infer_response *r = tc__calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->model_name = tc__strdup(mv->name);
    r->model_version = tc__strdup(mv->version_str);
    if (req->id != NULL && req->id[0] != '\0')
        r->id = tc__strdup(req->id);
    if (r->model_name == NULL || r->model_version == NULL ||
        (req->id != NULL && req->id[0] != '\0' && r->id == NULL)) {
        tc__core_response_free(r);
        return NULL;
    }
    return r;
}

static bool is_decoupled(const Inference__ModelConfig *cfg)
{
    return cfg->model_transaction_policy != NULL && cfg->model_transaction_policy->decoupled;
}

/* Decoupled responses sent from execute() (tc__backend_send). */
static tc_code send_response(tc__backend_request *br, tc__infer_response *resp)
{
    tc__job *job = br->core_data;
    tc__error e;
    tc__error_clear(&e);
    tc_code rc =
        job->stream_cb != NULL ? postprocess(job->mv, job->req, resp, &e) : TC_E_INVALID_ARG;
    if (rc == TC_OK && job->shm != NULL)
        rc = tc__shm_binding_write(job->shm, resp, &e);
    if (rc != TC_OK) {
        tc__core_response_free(resp);
        return rc;
    }
    job->stream_cb(resp, NULL, false, job->user_data);
    return TC_OK;
}

/* Hand the outcome to the frontend and release what the job holds. */
static void job_complete(tc__job *job, tc__infer_response *resp, const tc__error *err)
{
    tc__model_handle *mv = job->mv;
    tc__core *core = mv->core;
    if (job->seq != NULL)
        tc__seq_job_done(mv, job);
    if (job->trace != NULL)
        tc__trace_stamp(job->trace, "REQUEST_END");
    if (job->cb != NULL) {
        job->cb(resp, err, job->user_data);
    } else if (err != NULL) {
        job->stream_cb(NULL, err, true, job->user_data);
    } else if (is_decoupled(mv->config) && resp->output_count == 0) {
        tc__core_response_free(resp); /* final flag without payload */
        job->stream_cb(NULL, NULL, true, job->user_data);
    } else {
        job->stream_cb(resp, NULL, true, job->user_data);
    }
    /* After the callback: its regions stay mapped until the request is over. */
    tc__shm_binding_free(job->shm);
    tc__free(job);
    tc__mv_unref(mv);
    flight_done(core);
}

/* Fill br for `job`; false (with br->error set) when it cannot run. */
static bool cancelled(const tc__job *job)
{
    /* A shm binding's copy of the request keeps the frontend's flag. */
    const atomic_bool *flag = job->req->cancelled;
    return flag != NULL && atomic_load(flag);
}

static bool prepare(tc__model_handle *mv, tc__job *job, tc__backend_request *br)
{
    memset(br, 0, sizeof *br);
    tc__error_clear(&br->error);
    if (cancelled(job)) {
        tc__error_set(&br->error, TC_E_CANCELLED, "request cancelled: the client has gone");
        return false;
    }
    br->batch_size = job->batch_size;
    br->decoupled = is_decoupled(mv->config);
    br->send = send_response;
    br->core_data = job;
    br->request = job->req;
    br->response = response_new(mv, job->req);
    if (br->response == NULL) {
        tc__error_set(&br->error, TC_E_NOMEM, "out of memory");
        return false;
    }
    if (job->seq == NULL)
        return true;
    tc__infer_request *r = NULL;
    if (tc__seq_request(mv, job, &r, &br->error) != TC_OK)
        return false;
    br->request = r;
    return true;
}

static void record_stats(tc__model_handle *mv, tc__job **jobs, const tc__backend_request *brs,
                         const size_t *slot, size_t n, const uint64_t t[4])
{
    uint64_t items = 0;
    pthread_mutex_lock(&mv->slock);
    tc__vstats *s = &mv->stats;
    for (size_t i = 0; i < n; i++) {
        tc__job *job = jobs[i];
        if (brs[slot[i]].error.code != TC_OK) {
            add_duration(&s->fail, t[3] - job->start_ns);
            s->fail_by_reason[job->fail_reason]++;
            continue;
        }
        add_duration(&s->success, t[3] - job->start_ns);
        add_duration(&s->queue, t[0] - job->enqueue_ns);
        add_duration(&s->compute_input, t[1] - t[0]);
        add_duration(&s->compute_infer, t[2] - t[1]);
        add_duration(&s->compute_output, t[3] - t[2]);
        items += job->batch_size;
    }
    if (items > 0) {
        s->inference_count += items;
        s->execution_count++;
        s->last_inference_ms = tc__wall_ms();
        record_batch(s, items, t[1] - t[0], t[2] - t[1], t[3] - t[2]);
    }
    pthread_mutex_unlock(&mv->slock);
}

static void stamp_compute(tc__trace *trace, const uint64_t t[4])
{
    tc__trace_stamp_at(trace, "COMPUTE_START", t[0]);
    tc__trace_stamp_at(trace, "COMPUTE_INPUT_END", t[1]);
    tc__trace_stamp_at(trace, "COMPUTE_OUTPUT_START", t[2]);
    tc__trace_stamp_at(trace, "COMPUTE_END", t[3]);
}

/* One execution of jobs[0..n) on `instance`: prepared requests go to the
 * backend together (brs[0..k)); those that failed to prepare sit at the
 * end of brs. slot[i] is job i's place in brs. */
void tc__run_batch(tc__model_handle *mv, uint32_t instance, tc__job **jobs, size_t n)
{
    uint64_t t[4];
    t[0] = tc__now_ns();
    tc__backend_request *brs = tc__calloc(n, sizeof *brs);
    size_t *slot = tc__calloc(n, sizeof *slot);
    if (brs == NULL || slot == NULL) {
        tc__free(brs);
        tc__free(slot);
        tc__error e;
        tc__error_set(&e, TC_E_NOMEM, "out of memory");
        for (size_t i = 0; i < n; i++)
            job_complete(jobs[i], NULL, &e);
        return;
    }
    size_t k = 0;
    size_t back = n;
    for (size_t i = 0; i < n; i++) {
        tc__backend_request br;
        bool ok = prepare(mv, jobs[i], &br);
        slot[i] = ok ? k++ : --back;
        brs[slot[i]] = br;
        brs[slot[i]].core_data = jobs[i];
    }
    t[1] = tc__now_ns();
    if (k > 0)
        mv->backend->execute(mv->backend_state, instance, brs, k);
    t[2] = tc__now_ns();
    for (size_t i = 0; i < n; i++) {
        tc__backend_request *br = &brs[slot[i]];
        /* Failed before execute() (cancelled or not), in it, or after it
         * (outputs, shm). */
        if (br->error.code == TC_E_CANCELLED && slot[i] >= k)
            jobs[i]->fail_reason = TC__FAIL_CANCELED;
        else if (slot[i] < k && br->error.code != TC_OK)
            jobs[i]->fail_reason = TC__FAIL_BACKEND;
        else
            jobs[i]->fail_reason = TC__FAIL_OTHER;
        if (br->request != jobs[i]->req)
            tc__seq_request_free(jobs[i], (tc__infer_request *)br->request);
        if (br->error.code == TC_OK && jobs[i]->seq != NULL)
            tc__seq_capture_state(mv, jobs[i], br->response);
        if (br->error.code == TC_OK)
            (void)postprocess(mv, jobs[i]->req, br->response, &br->error);
        if (br->error.code == TC_OK && jobs[i]->shm != NULL)
            (void)tc__shm_binding_write(jobs[i]->shm, br->response, &br->error);
    }
    t[3] = tc__now_ns();
    record_stats(mv, jobs, brs, slot, n, t);
    for (size_t i = 0; i < n; i++) {
        if (jobs[i]->trace != NULL)
            stamp_compute(jobs[i]->trace, t);
    }
    for (size_t i = 0; i < n; i++) {
        tc__backend_request *br = &brs[slot[i]];
        bool ok = br->error.code == TC_OK;
        if (!ok) {
            tc__core_response_free(br->response);
            br->response = NULL;
        }
        job_complete(jobs[i], br->response, ok ? NULL : &br->error);
    }
    tc__free(brs);
    tc__free(slot);
}

static size_t instance_count(const Inference__ModelConfig *cfg)
{
    size_t n = 0;
    for (size_t i = 0; i < cfg->n_instance_group; i++)
        n += cfg->instance_group[i]->count > 0 ? (size_t)cfg->instance_group[i]->count : 1;
    if (n == 0)
        n = 1;
    return n > MAX_INSTANCES ? MAX_INSTANCES : n;
}

tc_code tc__mv_start(tc__model_handle *mv, tc__error *err)
{
    tc__backend_model bm = {mv->name, mv->version, mv->dir, mv->config, mv->backend};
    void *state = NULL;
    tc_code rc = mv->backend->init(&bm, &state, err);
    if (rc != TC_OK) {
        tc__backend_release(mv->backend); /* the version will never run */
        mv->backend = NULL;
        return rc;
    }
    mv->backend_state = state;
    size_t n = instance_count(mv->config);
    mv->cheap = mv->backend->is_cheap != NULL && mv->backend->is_cheap(state);
    tc__sched_init(mv);
    mv->threads = tc__calloc(n, sizeof *mv->threads);
    mv->instances = tc__calloc(n, sizeof *mv->instances);
    mv->busy = tc__calloc(n, sizeof *mv->busy);
    mv->iqueues = tc__calloc(n, sizeof *mv->iqueues);
    mv->iseqs = tc__calloc(n, sizeof *mv->iseqs);
    if (mv->threads == NULL || mv->instances == NULL || mv->busy == NULL || mv->iqueues == NULL ||
        mv->iseqs == NULL) {
        tc__mv_stop(mv);
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    }
    mv->stopping = false;
    for (size_t i = 0; i < n; i++) {
        mv->instances[i].mv = mv;
        mv->instances[i].index = (uint32_t)i;
        if (pthread_create(&mv->threads[i], NULL, tc__sched_instance_main, &mv->instances[i]) !=
            0) {
            tc__mv_stop(mv);
            return tc__error_set(err, TC_E_INTERNAL, "unable to start instance thread");
        }
        mv->thread_count++;
    }
    return TC_OK;
}

static bool any_busy(const tc__model_handle *mv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (mv->busy[i])
            return true;
    }
    return false;
}

void tc__mv_stop(tc__model_handle *mv)
{
    pthread_mutex_lock(&mv->qlock);
    mv->stopping = true;
    pthread_cond_broadcast(&mv->qcond);
    pthread_mutex_unlock(&mv->qlock);
    size_t n = mv->thread_count;
    for (size_t i = 0; i < n; i++)
        pthread_join(mv->threads[i], NULL);
    /* An inline execution (tc__core_infer_inline) claimed before `stopping`
     * may still run on an instance: fini() must wait for it. */
    pthread_mutex_lock(&mv->qlock);
    while (n > 0 && any_busy(mv, n))
        pthread_cond_wait(&mv->qcond, &mv->qlock);
    pthread_mutex_unlock(&mv->qlock);
    mv->thread_count = 0;
    pthread_mutex_lock(&mv->qlock);
    tc__seq_clear(mv); /* every job ran: only the table holds sequences */
    pthread_mutex_unlock(&mv->qlock);
    tc__free(mv->threads);
    tc__free(mv->instances);
    tc__free(mv->busy);
    tc__free(mv->iqueues);
    tc__free(mv->iseqs);
    mv->threads = NULL;
    mv->instances = NULL;
    mv->busy = NULL;
    mv->iqueues = NULL;
    mv->iseqs = NULL;
    if (mv->backend_state != NULL) {
        mv->backend->fini(mv->backend_state);
        mv->backend_state = NULL;
    }
    if (mv->backend != NULL) {
        tc__backend_release(mv->backend); /* a plugin closes with its last version */
        mv->backend = NULL;
    }
}

/* ---- the inference entry point ------------------------------------------------- */

void tc__core_response_free(tc__infer_response *resp)
{
    if (resp == NULL)
        return;
    tc__infer_response_cleanup(resp);
    tc__free(resp);
}

static void record_fail(tc__model_handle *mv, uint64_t start_ns, tc__fail_reason reason)
{
    pthread_mutex_lock(&mv->slock);
    add_duration(&mv->stats.fail, tc__now_ns() - start_ns);
    mv->stats.fail_by_reason[reason]++;
    pthread_mutex_unlock(&mv->slock);
}

void tc__job_expire(tc__job *job)
{
    record_fail(job->mv, job->start_ns, TC__FAIL_REJECTED);
    tc__error e;
    tc__error_set(&e, TC_E_UNAVAILABLE, "Request timeout expired");
    job_complete(job, NULL, &e);
}

static tc_code enqueue(tc__model_handle *mv, tc__job *job, tc__error *err)
{
    pthread_mutex_lock(&mv->qlock);
    bool stopping = mv->stopping || mv->thread_count == 0;
    tc_code rc = TC_OK;
    if (!stopping) {
        job->enqueue_ns = tc__now_ns();
        /* Before the push: once queued, an instance thread may stamp it. */
        if (job->trace != NULL) {
            tc__trace_stamp_at(job->trace, "REQUEST_START", job->start_ns);
            tc__trace_stamp_at(job->trace, "QUEUE_START", job->enqueue_ns);
        }
        if (mv->sched.sequence) {
            rc = tc__seq_bind(mv, job, err);
            if (rc == TC_OK)
                tc__jobq_push(&mv->iqueues[job->seq->instance], job);
        } else if (mv->sched.dynamic) {
            rc = tc__sched_admit(mv, job, err);
        } else {
            tc__jobq_push(&mv->queue, job);
        }
        /* Broadcast: the thread a signal would wake may be busy inline, or
         * not the one the job's sequence is bound to. */
        if (rc == TC_OK) {
            atomic_fetch_add(&mv->pending, 1);
            pthread_cond_broadcast(&mv->qcond);
        }
    }
    pthread_mutex_unlock(&mv->qlock);
    if (stopping)
        return tc__error_set(err, TC_E_UNAVAILABLE, "model '%s' version %s is unloading", mv->name,
                             mv->version_str);
    return rc;
}

/* The common submission path of the unary and streaming entry points. */
static tc_code submit(tc__core *core, const tc__infer_request *req, tc__trace *trace,
                      tc__infer_done_cb cb, tc__infer_stream_cb stream_cb, void *user_data,
                      tc__error *err)
{
    uint64_t start = tc__now_ns();
    pthread_mutex_lock(&core->flight_lock);
    bool accepting = core->accepting;
    if (accepting)
        core->inflight++;
    pthread_mutex_unlock(&core->flight_lock);
    if (!accepting)
        return tc__error_set(err, TC_E_UNAVAILABLE, "Server not ready: shutting down");

    tc__model_handle *mv = NULL;
    tc__job *job = NULL;
    tc_code rc = tc__core_model_acquire(core, req->model_name, req->model_version, &mv, err);
    if (rc != TC_OK)
        goto out;
    const Inference__ModelConfig *cfg = mv->config;
    if (cb != NULL && is_decoupled(cfg)) {
        rc = tc__error_set(err, TC_E_NOT_SUPPORTED,
                           "model '%s' uses the decoupled transaction policy, which needs a "
                           "streaming endpoint",
                           mv->name);
        goto out;
    }
    job = tc__calloc(1, sizeof *job);
    if (job == NULL) {
        rc = tc__error_set(err, TC_E_NOMEM, "out of memory");
        goto out;
    }
    job->mv = mv;
    job->req = req;
    job->cb = cb;
    job->stream_cb = stream_cb;
    job->user_data = user_data;
    job->start_ns = start;
    job->trace = trace;
    tc__trace_set_version(trace, mv->version);
    rc = tc__shm_bind(core, req, &job->shm, err);
    if (job->shm != NULL)
        job->req = tc__shm_binding_request(job->shm);
    if (rc == TC_OK)
        rc = tc__validate_request(cfg, mv->name, job->req, &job->batch_size, err);
    if (rc != TC_OK) {
        record_fail(mv, start, TC__FAIL_OTHER);
        goto out;
    }
    rc = enqueue(mv, job, err);
    if (rc != TC_OK) {
        record_fail(mv, start, TC__FAIL_REJECTED);
        goto out;
    }
    return TC_OK; /* the job owns `mv` and the in-flight count now */
out:
    if (job != NULL)
        tc__shm_binding_free(job->shm);
    tc__free(job);
    tc__model_handle_release(mv);
    flight_done(core);
    return rc;
}

tc_code tc__core_infer_async_traced(tc__core *core, const tc__infer_request *req, tc__trace *trace,
                                    tc__infer_done_cb cb, void *user_data, tc__error *err)
{
    if (cb == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "a completion callback is required");
    return submit(core, req, trace, cb, NULL, user_data, err);
}

tc_code tc__core_infer_async(tc__core *core, const tc__infer_request *req, tc__infer_done_cb cb,
                             void *user_data, tc__error *err)
{
    return tc__core_infer_async_traced(core, req, NULL, cb, user_data, err);
}

tc_code tc__core_infer_stream_traced(tc__core *core, const tc__infer_request *req, tc__trace *trace,
                                     tc__infer_stream_cb cb, void *user_data, tc__error *err)
{
    if (cb == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "a response callback is required");
    return submit(core, req, trace, NULL, cb, user_data, err);
}

tc_code tc__core_infer_stream(tc__core *core, const tc__infer_request *req, tc__infer_stream_cb cb,
                              void *user_data, tc__error *err)
{
    return tc__core_infer_stream_traced(core, req, NULL, cb, user_data, err);
}

/* ---- inline execution ----------------------------------------------------------- */

typedef struct inline_result {
    tc__infer_response *response;
    tc__error *err;
} inline_result;

static void inline_done(tc__infer_response *response, const tc__error *err, void *user_data)
{
    inline_result *res = user_data;
    res->response = response;
    if (err != NULL)
        *res->err = *err;
}

static size_t input_bytes(const tc__infer_request *req)
{
    size_t total = 0;
    for (size_t i = 0; i < req->input_count; i++) {
        const tc__tensor *t = &req->inputs[i];
        uint64_t n = t->shm.region != NULL ? t->shm.byte_size : t->byte_size;
        total += n > SIZE_MAX - total ? SIZE_MAX - total : (size_t)n;
    }
    return total;
}

/* Claim an idle instance when nothing is queued; SIZE_MAX when none. */
static size_t claim_idle_instance(tc__model_handle *mv)
{
    size_t claimed = SIZE_MAX;
    pthread_mutex_lock(&mv->qlock);
    if (!mv->stopping && mv->queue.head == NULL) {
        for (size_t i = 0; i < mv->thread_count && claimed == SIZE_MAX; i++) {
            if (!mv->busy[i]) {
                mv->busy[i] = true;
                claimed = i;
            }
        }
    }
    pthread_mutex_unlock(&mv->qlock);
    return claimed;
}

static void release_instance(tc__model_handle *mv, size_t instance)
{
    pthread_mutex_lock(&mv->qlock);
    mv->busy[instance] = false;
    /* Its thread may have work waiting, or tc__mv_stop waits for it. */
    if (mv->queue.head != NULL || mv->stopping)
        pthread_cond_broadcast(&mv->qcond);
    pthread_mutex_unlock(&mv->qlock);
}

tc_code tc__core_infer_inline(tc__core *core, const tc__infer_request *req,
                              tc__infer_response **response, tc__error *err)
{
    return tc__core_infer_inline_traced(core, req, NULL, response, err);
}

tc_code tc__core_infer_inline_traced(tc__core *core, const tc__infer_request *req, tc__trace *trace,
                                     tc__infer_response **response, tc__error *err)
{
    *response = NULL;
    if (input_bytes(req) > TC__CORE_INLINE_MAX_BYTES)
        return TC_E_BUSY;
    tc__error local;
    tc__error_clear(&local);
    tc__model_handle *mv = NULL;
    if (tc__core_model_acquire(core, req->model_name, req->model_version, &mv, &local) != TC_OK)
        return TC_E_BUSY; /* the async path reports the error */
    const Inference__ModelConfig *cfg = mv->config;
    /* Decoupled models stream; batching and sequence models go through
     * their scheduler. */
    bool scheduled = mv->sched.sequence || mv->sched.dynamic;
    size_t instance = SIZE_MAX;
    if (mv->cheap && !is_decoupled(cfg) && !scheduled)
        instance = claim_idle_instance(mv);
    if (instance == SIZE_MAX) {
        tc__model_handle_release(mv);
        return TC_E_BUSY;
    }
    pthread_mutex_lock(&core->flight_lock);
    bool accepting = core->accepting;
    if (accepting)
        core->inflight++;
    pthread_mutex_unlock(&core->flight_lock);
    if (!accepting) {
        release_instance(mv, instance);
        tc__model_handle_release(mv);
        return TC_E_BUSY;
    }
    uint64_t start = tc__now_ns();
    tc__job job;
    memset(&job, 0, sizeof job);
    inline_result res = {NULL, err};
    tc__error_clear(err);
    tc_code rc = tc__shm_bind(core, req, &job.shm, err);
    const tc__infer_request *run = job.shm != NULL ? tc__shm_binding_request(job.shm) : req;
    if (rc == TC_OK)
        rc = tc__validate_request(cfg, mv->name, run, &job.batch_size, err);
    if (rc != TC_OK) {
        tc__shm_binding_free(job.shm);
        record_fail(mv, start, TC__FAIL_OTHER);
        release_instance(mv, instance);
        tc__model_handle_release(mv);
        flight_done(core);
        return rc;
    }
    /* tc__run_batch consumes a heap job, one model reference and the flight count. */
    tc__job *heap = tc__memdup(&job, sizeof job);
    if (heap == NULL) {
        tc__shm_binding_free(job.shm);
        release_instance(mv, instance);
        tc__model_handle_release(mv);
        flight_done(core);
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    }
    heap->mv = mv;
    heap->req = run;
    heap->cb = inline_done;
    heap->user_data = &res;
    heap->start_ns = start;
    heap->enqueue_ns = start;
    heap->trace = trace;
    if (trace != NULL) {
        tc__trace_set_version(trace, mv->version);
        tc__trace_stamp_at(trace, "REQUEST_START", start);
        tc__trace_stamp_at(trace, "QUEUE_START", start);
    }
    tc__mv_ref(mv); /* consumed by the job; ours keeps `mv` alive until released */
    tc__run_batch(mv, (uint32_t)instance, &heap, 1);
    release_instance(mv, instance);
    tc__model_handle_release(mv);
    *response = res.response;
    return res.response != NULL ? TC_OK : (err->code != TC_OK ? err->code : TC_E_INTERNAL);
}
