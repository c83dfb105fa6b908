/* The resilient client: one tc_client over one or more endpoints (each an
 * ordinary HTTP or gRPC client) that adds retries with backoff and
 * round-robin failover. It implements the client vtable by delegating to the
 * endpoint clients, so every transport gets the same semantics.
 *
 * Threads: the caller's thread runs sync calls (sleeping between attempts);
 * each endpoint's I/O thread completes async attempts; one timer thread per
 * client resubmits async retries when their backoff has passed, probes the
 * endpoints marked down (a `live` check) and, when the client is freed, ends
 * the retries still waiting with TC_E_CANCELLED.
 *
 * Locks: `mu` guards the endpoint states, the round-robin cursor, the random
 * state, the timer list and the list of async calls; `submit_mu` serializes
 * async submissions into the endpoint clients (their submit paths expect one
 * thread at a time); each endpoint's `sync_mu` serializes its sync calls
 * (the caller's and the timer thread's probes). Order: sync_mu, then
 * submit_mu, then mu; no lock is held while a user callback runs. */
#include "client/multi_client.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "client/request_internal.h"
#include "client/result_internal.h"
#include "common/alloc.h"
#include "common/log.h"
#include "common/timeutil.h"

#define NS_PER_US 1000ull
/* Probe schedule of endpoints marked down when no retry policy is set. */
static const tc__retry_cfg k_probe_default = {2, 50000, 1000000};

typedef struct endpoint {
    tc_client *c;
    char *url;
    pthread_mutex_t sync_mu;
    bool down;            /* lock: mu */
    uint32_t failures;    /* lock: mu; consecutive transport failures */
    uint64_t recheck_ns;  /* lock: mu; a down endpoint is probed from then on */
} endpoint;

typedef struct pending pending;

typedef struct multi {
    tc_client base; /* first */
    tc__multi_make_fn make;
    endpoint *eps;
    size_t n;
    tc__retry_cfg retry;
    uint64_t network_timeout_us;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_mutex_t submit_mu;
    size_t rr;             /* lock: mu */
    uint64_t rng;          /* lock: mu */
    uint64_t next_id;      /* lock: mu */
    pending *timers;       /* lock: mu; sorted by due_ns */
    pending *active;       /* lock: mu; every async call not yet completed */
    bool stopping;         /* lock: mu */
    bool has_timer;
    pthread_t timer;
} multi;

struct pending {
    multi *m;
    tc_request *req; /* copy for resends; NULL when the policy allows no retry */
    tc_infer_cb cb;
    void *ud;
    uint64_t id;
    uint64_t deadline_ns; /* 0 = none */
    uint32_t attempt;     /* attempts started */
    size_t ep;            /* endpoint of the current attempt */
    uint64_t inner_id;    /* lock: mu; id of the attempt on its endpoint (0 = none) */
    bool cancelled;       /* lock: mu */
    uint64_t due_ns;      /* lock: mu; when queued on `timers` */
    tc_result *last;      /* the failed result kept while waiting on `timers` */
    pending *tnext;       /* lock: mu */
    pending *anext, *aprev; /* lock: mu */
};

static _Thread_local const multi *t_timer;

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* ---- endpoint state (lock: mu) ---------------------------------------------------- */

static const tc__retry_cfg *probe_cfg(const multi *m)
{
    return m->retry.max_attempts > 1 ? &m->retry : &k_probe_default;
}

static void mark_up_locked(multi *m, size_t i)
{
    endpoint *ep = &m->eps[i];
    if (ep->down)
        tc__log(TC_LOG_INFO, "endpoint %s is up again", ep->url);
    ep->down = false;
    ep->failures = 0;
}

static void mark_down_locked(multi *m, size_t i, const char *why)
{
    endpoint *ep = &m->eps[i];
    if (!ep->down && m->n > 1)
        tc__log(TC_LOG_WARNING, "endpoint %s marked down: %s", ep->url, why);
    ep->down = true;
    if (ep->failures < 64)
        ep->failures++;
    ep->recheck_ns =
        tc__now_ns() + tc__retry_backoff_us(probe_cfg(m), ep->failures, &m->rng) * NS_PER_US;
    if (m->has_timer)
        (void)pthread_cond_broadcast(&m->cv);
}

static void note_outcome(multi *m, size_t i, tc_code code, const char *msg)
{
    tc__fail_kind k = tc__retry_classify(code, msg);
    (void)pthread_mutex_lock(&m->mu);
    if (k == TC__FAIL_FINAL)
        mark_up_locked(m, i);
    else
        mark_down_locked(m, i, msg);
    (void)pthread_mutex_unlock(&m->mu);
}

/* Round robin over the endpoints that are up; when every one is down, the
 * one due for a recheck first (the call then serves as its probe). */
static size_t pick(multi *m)
{
    (void)pthread_mutex_lock(&m->mu);
    size_t best = 0;
    bool found = false;
    for (size_t k = 0; k < m->n; k++) {
        size_t i = (m->rr + k) % m->n;
        if (!m->eps[i].down) {
            best = i;
            found = true;
            break;
        }
    }
    if (!found) {
        for (size_t i = 1; i < m->n; i++) {
            if (m->eps[i].recheck_ns < m->eps[best].recheck_ns)
                best = i;
        }
    }
    m->rr = (best + 1) % m->n;
    (void)pthread_mutex_unlock(&m->mu);
    return best;
}

/* ---- sync calls ----------------------------------------------------------------------- */

typedef tc_code (*op_fn)(tc_client *inner, void *args);

/* Run `fn` on endpoints under the retry policy. The deadline (timeout_us,
 * 0 = none) bounds the whole call: no attempt starts after it. */
static tc_code run_sync(multi *m, bool idempotent, uint64_t timeout_us, op_fn fn, void *args)
{
    uint64_t deadline = timeout_us > 0 ? tc__now_ns() + timeout_us * NS_PER_US : 0;
    uint32_t max = m->retry.max_attempts > 1 ? m->retry.max_attempts : 1;
    for (uint32_t attempt = 1;; attempt++) {
        size_t i = pick(m);
        endpoint *ep = &m->eps[i];
        (void)pthread_mutex_lock(&ep->sync_mu);
        tc_code rc = fn(ep->c, args);
        tc__error err = ep->c->last;
        (void)pthread_mutex_unlock(&ep->sync_mu);
        if (rc == TC_OK) {
            note_outcome(m, i, TC_OK, NULL);
            return TC_OK;
        }
        if (err.code == TC_OK)
            tc__error_set(&err, rc, "%s", tc_code_str(rc));
        tc__client_fail_err(&m->base, &err);
        tc__fail_kind kind = tc__retry_classify(rc, err.msg);
        note_outcome(m, i, rc, err.msg);
        if (!tc__retry_allowed(kind, idempotent) || attempt >= max)
            return rc;
        (void)pthread_mutex_lock(&m->mu);
        uint64_t wait_us = tc__retry_backoff_us(&m->retry, attempt, &m->rng);
        (void)pthread_mutex_unlock(&m->mu);
        uint64_t now = tc__now_ns();
        if (deadline != 0 && now + wait_us * NS_PER_US >= deadline)
            return rc;
        tc__log(TC_LOG_INFO, "retrying a call to %s (attempt %u of %u) in %llu us: %s", ep->url,
                attempt + 1, max, (unsigned long long)wait_us, err.msg);
        sleep_ns(wait_us * NS_PER_US);
    }
}

typedef struct call_args {
    int which;
    const char *model;
    const char *version;
    const char *body;
    const tc__hlist *h;
    bool flag;
    void *out;
    const tc_request *req;
    const tc_load_options *lo;
    int kind;
    const tc__shm_reg *reg;
} call_args;

static tc_code op_health(tc_client *c, void *p)
{
    call_args *a = p;
    return c->vt->health(c, a->which, a->model, a->version, a->h, a->out);
}

static tc_code op_server_metadata(tc_client *c, void *p)
{
    call_args *a = p;
    return c->vt->server_metadata(c, a->h, a->out);
}

static tc_code op_model_metadata(tc_client *c, void *p)
{
    call_args *a = p;
    return c->vt->model_metadata(c, a->model, a->version, a->h, a->out);
}

static tc_code op_document(tc_client *c, void *p)
{
    call_args *a = p;
    return c->vt->document(c, a->which, a->model, a->version, a->body, a->h, a->out);
}

static tc_code op_repository_index(tc_client *c, void *p)
{
    call_args *a = p;
    return c->vt->repository_index(c, a->flag, a->h, a->out);
}

static tc_code op_load(tc_client *c, void *p)
{
    call_args *a = p;
    return c->vt->load(c, a->model, a->lo, a->h);
}

static tc_code op_unload(tc_client *c, void *p)
{
    call_args *a = p;
    return c->vt->unload(c, a->model, a->flag, a->h);
}

static tc_code op_infer(tc_client *c, void *p)
{
    call_args *a = p;
    tc_result **out = a->out;
    tc_result_free(*out); /* the failed result of an earlier attempt */
    *out = NULL;
    return c->vt->infer(c, a->req, out);
}

static tc_code op_shm_status(tc_client *c, void *p)
{
    call_args *a = p;
    return c->vt->shm_status(c, a->kind, a->model, a->h, a->out);
}

static tc_code m_health(tc_client *c, int which, const char *model, const char *version,
                        const tc__hlist *h, bool *ok)
{
    multi *m = (multi *)c;
    call_args a = {.which = which, .model = model, .version = version, .h = h, .out = ok};
    return run_sync(m, true, m->network_timeout_us, op_health, &a);
}

static tc_code m_server_metadata(tc_client *c, const tc__hlist *h, tc_server_metadata **out)
{
    multi *m = (multi *)c;
    call_args a = {.h = h, .out = out};
    return run_sync(m, true, m->network_timeout_us, op_server_metadata, &a);
}

static tc_code m_model_metadata(tc_client *c, const char *model, const char *version,
                                const tc__hlist *h, tc_model_metadata **out)
{
    multi *m = (multi *)c;
    call_args a = {.model = model, .version = version, .h = h, .out = out};
    return run_sync(m, true, m->network_timeout_us, op_model_metadata, &a);
}

static tc_code m_document(tc_client *c, int which, const char *model, const char *version,
                          const char *body, const tc__hlist *h, char **json)
{
    multi *m = (multi *)c;
    bool idempotent = which != TC__DOC_TRACE_UPDATE && which != TC__DOC_LOG_UPDATE;
    call_args a = {.which = which, .model = model, .version = version, .body = body, .h = h,
                   .out = json};
    return run_sync(m, idempotent, m->network_timeout_us, op_document, &a);
}

static tc_code m_repository_index(tc_client *c, bool ready_only, const tc__hlist *h,
                                  tc_repository_index **out)
{
    multi *m = (multi *)c;
    call_args a = {.flag = ready_only, .h = h, .out = out};
    return run_sync(m, true, m->network_timeout_us, op_repository_index, &a);
}

static tc_code m_load(tc_client *c, const char *model, const tc_load_options *o,
                      const tc__hlist *h)
{
    multi *m = (multi *)c;
    call_args a = {.model = model, .lo = o, .h = h};
    return run_sync(m, false, m->network_timeout_us, op_load, &a);
}

static tc_code m_unload(tc_client *c, const char *model, bool dependents, const tc__hlist *h)
{
    multi *m = (multi *)c;
    call_args a = {.model = model, .flag = dependents, .h = h};
    return run_sync(m, false, m->network_timeout_us, op_unload, &a);
}

static uint64_t request_timeout_us(const multi *m, const tc_request *req)
{
    return req->client_timeout_us > 0 ? req->client_timeout_us : m->network_timeout_us;
}

static tc_code m_infer(tc_client *c, const tc_request *req, tc_result **out)
{
    multi *m = (multi *)c;
    *out = NULL;
    call_args a = {.req = req, .out = out};
    return run_sync(m, false, request_timeout_us(m, req), op_infer, &a);
}

/* Shared memory: registrations go to every endpoint (a region must be known
 * wherever a call may land); the first failure is returned. */
static tc_code m_shm_register(tc_client *c, int kind, const tc__shm_reg *reg, const tc__hlist *h)
{
    multi *m = (multi *)c;
    for (size_t i = 0; i < m->n; i++) {
        endpoint *ep = &m->eps[i];
        (void)pthread_mutex_lock(&ep->sync_mu);
        tc_code rc = ep->c->vt->shm_register(ep->c, kind, reg, h);
        if (rc != TC_OK)
            tc__client_fail_err(c, &ep->c->last);
        (void)pthread_mutex_unlock(&ep->sync_mu);
        if (rc != TC_OK)
            return rc;
    }
    return TC_OK;
}

static tc_code m_shm_unregister(tc_client *c, int kind, const char *name, const tc__hlist *h)
{
    multi *m = (multi *)c;
    tc_code first = TC_OK;
    for (size_t i = 0; i < m->n; i++) {
        endpoint *ep = &m->eps[i];
        (void)pthread_mutex_lock(&ep->sync_mu);
        tc_code rc = ep->c->vt->shm_unregister(ep->c, kind, name, h);
        if (rc != TC_OK && first == TC_OK) {
            first = rc;
            tc__client_fail_err(c, &ep->c->last);
        }
        (void)pthread_mutex_unlock(&ep->sync_mu);
    }
    return first;
}

static tc_code m_shm_status(tc_client *c, int kind, const char *name, const tc__hlist *h,
                            tc_shm_status **out)
{
    multi *m = (multi *)c;
    call_args a = {.kind = kind, .model = name, .h = h, .out = out};
    return run_sync(m, true, m->network_timeout_us, op_shm_status, &a);
}

static tc_code m_stream_start(tc_client *c, tc_stream_cb cb, void *ud, const tc__hlist *h,
                              tc_stream **out)
{
    /* A stream stays on the endpoint it starts on; it is never retried. */
    multi *m = (multi *)c;
    size_t i = pick(m);
    endpoint *ep = &m->eps[i];
    if (ep->c->vt->stream_start == NULL)
        return tc__client_fail(c, TC_E_NOT_SUPPORTED, "streams need a gRPC client");
    (void)pthread_mutex_lock(&m->submit_mu);
    tc_code rc = ep->c->vt->stream_start(ep->c, cb, ud, h, out);
    if (rc != TC_OK)
        tc__client_fail_err(c, &ep->c->last);
    (void)pthread_mutex_unlock(&m->submit_mu);
    return rc;
}

/* ---- async calls -------------------------------------------------------------------- */

static void active_unlink_locked(multi *m, pending *p)
{
    if (p->aprev != NULL)
        p->aprev->anext = p->anext;
    else
        m->active = p->anext;
    if (p->anext != NULL)
        p->anext->aprev = p->aprev;
    p->anext = p->aprev = NULL;
}

static void pending_free(pending *p)
{
    tc_request_free(p->req);
    tc_result_free(p->last);
    tc__free(p);
}

/* Complete the call with `r` (never under a lock). */
static void deliver(pending *p, tc_result *r)
{
    multi *m = p->m;
    (void)pthread_mutex_lock(&m->mu);
    active_unlink_locked(m, p);
    (void)pthread_mutex_unlock(&m->mu);
    tc_infer_cb cb = p->cb;
    void *ud = p->ud;
    pending_free(p);
    cb(r, ud);
}

static void deliver_error(pending *p, tc_code code, const char *msg)
{
    tc_result *r = p->last;
    p->last = NULL;
    if (r == NULL)
        r = tc__result_new();
    if (r == NULL) {
        /* Out of memory with no result to report with: drop the call. */
        multi *m = p->m;
        (void)pthread_mutex_lock(&m->mu);
        active_unlink_locked(m, p);
        (void)pthread_mutex_unlock(&m->mu);
        pending_free(p);
        return;
    }
    if (code != TC_OK)
        tc__result_set_error(r, code, 0, msg);
    deliver(p, r);
}

static void on_attempt_done(tc_result *r, void *ud);

/* Start one attempt of `p` (whose request is `req`). On failure nothing was
 * queued and the error is in `err`. */
static tc_code attempt(pending *p, const tc_request *req, tc__error *err)
{
    multi *m = p->m;
    size_t i = pick(m);
    endpoint *ep = &m->eps[i];
    p->ep = i;
    p->attempt++;
    uint64_t inner_id = 0;
    (void)pthread_mutex_lock(&m->submit_mu);
    tc_code rc;
    if (ep->c->vt->infer_async_id != NULL)
        rc = ep->c->vt->infer_async_id(ep->c, req, on_attempt_done, p, &inner_id);
    else
        rc = ep->c->vt->infer_async(ep->c, req, on_attempt_done, p);
    if (rc != TC_OK)
        *err = ep->c->last;
    (void)pthread_mutex_unlock(&m->submit_mu);
    if (rc != TC_OK) {
        if (err->code == TC_OK)
            tc__error_set(err, rc, "%s", tc_code_str(rc));
        return rc;
    }
    if (inner_id != 0) {
        /* p may already be complete and freed: only touch it if still listed. */
        (void)pthread_mutex_lock(&m->mu);
        for (pending *q = m->active; q != NULL; q = q->anext) {
            if (q == p) {
                p->inner_id = inner_id;
                break;
            }
        }
        (void)pthread_mutex_unlock(&m->mu);
    }
    return TC_OK;
}

/* Queue `p` for a resend after its backoff; false when the client stops. */
static bool schedule_locked(multi *m, pending *p, uint64_t due_ns)
{
    if (m->stopping || !m->has_timer)
        return false;
    p->due_ns = due_ns;
    pending **pp = &m->timers;
    while (*pp != NULL && (*pp)->due_ns <= due_ns)
        pp = &(*pp)->tnext;
    p->tnext = *pp;
    *pp = p;
    (void)pthread_cond_broadcast(&m->cv);
    return true;
}

/* An attempt finished (on an endpoint's I/O thread): retry or deliver. */
static void on_attempt_done(tc_result *r, void *ud)
{
    pending *p = ud;
    multi *m = p->m;
    tc_code code = tc_result_status(r);
    const char *msg = tc_result_error_message(r);
    tc__fail_kind kind = tc__retry_classify(code, msg);
    if (code != TC_E_CANCELLED)
        note_outcome(m, p->ep, code, msg);
    uint32_t max = m->retry.max_attempts > 1 ? m->retry.max_attempts : 1;
    if (p->req != NULL && tc__retry_allowed(kind, false) && p->attempt < max) {
        (void)pthread_mutex_lock(&m->mu);
        uint64_t wait_us = tc__retry_backoff_us(&m->retry, p->attempt, &m->rng);
        uint64_t due = tc__now_ns() + wait_us * NS_PER_US;
        bool queued = false;
        if (!p->cancelled && (p->deadline_ns == 0 || due < p->deadline_ns)) {
            p->inner_id = 0;
            p->last = r;
            queued = schedule_locked(m, p, due);
            if (!queued)
                p->last = NULL;
        }
        (void)pthread_mutex_unlock(&m->mu);
        if (queued) {
            tc__log(TC_LOG_INFO, "retrying an inference (attempt %u of %u) in %llu us: %s",
                    p->attempt + 1, max, (unsigned long long)wait_us, msg);
            return;
        }
    }
    deliver(p, r);
}

static tc_code m_infer_async_id(tc_client *c, const tc_request *req, tc_infer_cb cb, void *ud,
                                uint64_t *call_id)
{
    multi *m = (multi *)c;
    tc__error err;
    tc__error_clear(&err);
    pending *p = tc__calloc(1, sizeof *p);
    if (p == NULL)
        return tc__client_fail(c, TC_E_NOMEM, "out of memory");
    p->m = m;
    p->cb = cb;
    p->ud = ud;
    uint64_t t = request_timeout_us(m, req);
    p->deadline_ns = t > 0 ? tc__now_ns() + t * NS_PER_US : 0;
    if (m->retry.max_attempts > 1 && tc__request_clone(req, &p->req) != TC_OK) {
        tc__free(p);
        return tc__client_fail(c, TC_E_NOMEM, "out of memory");
    }
    (void)pthread_mutex_lock(&m->mu);
    p->id = ++m->next_id;
    p->anext = m->active;
    if (m->active != NULL)
        m->active->aprev = p;
    m->active = p;
    uint64_t id = p->id;
    (void)pthread_mutex_unlock(&m->mu);
    tc_code rc = attempt(p, req, &err);
    if (rc != TC_OK) {
        (void)pthread_mutex_lock(&m->mu);
        active_unlink_locked(m, p);
        (void)pthread_mutex_unlock(&m->mu);
        pending_free(p);
        return tc__client_fail_err(c, &err);
    }
    if (call_id != NULL)
        *call_id = id;
    return TC_OK;
}

static tc_code m_infer_async(tc_client *c, const tc_request *req, tc_infer_cb cb, void *ud)
{
    return m_infer_async_id(c, req, cb, ud, NULL);
}

static tc_code m_cancel(tc_client *c, uint64_t call_id)
{
    multi *m = (multi *)c;
    (void)pthread_mutex_lock(&m->mu);
    pending *p = m->active;
    while (p != NULL && p->id != call_id)
        p = p->anext;
    if (p == NULL) {
        (void)pthread_mutex_unlock(&m->mu);
        return TC_OK; /* done already */
    }
    tc_client *inner = m->eps[p->ep].c;
    uint64_t inner_id = p->inner_id;
    bool waiting = false;
    for (pending **pp = &m->timers; *pp != NULL; pp = &(*pp)->tnext) {
        if (*pp == p) {
            /* Waiting for a resend: the timer thread ends it at once. */
            *pp = p->tnext;
            p->tnext = NULL;
            p->cancelled = true;
            (void)schedule_locked(m, p, 0);
            waiting = true;
            break;
        }
    }
    bool can_cancel = !waiting && inner->vt->cancel != NULL && inner_id != 0;
    if (can_cancel)
        p->cancelled = true; /* no resend after the cancelled attempt */
    (void)pthread_mutex_unlock(&m->mu);
    if (waiting)
        return TC_OK;
    if (!can_cancel)
        return TC_E_NOT_SUPPORTED; /* an HTTP attempt in flight */
    return inner->vt->cancel(inner, inner_id);
}

/* ---- the timer thread ---------------------------------------------------------------- */

/* Probe down endpoints that are due (lock: mu held on entry and exit);
 * returns the next recheck time (0 = none). */
static uint64_t probe_due_locked(multi *m)
{
    uint64_t next = 0;
    for (size_t i = 0; i < m->n && !m->stopping; i++) {
        endpoint *ep = &m->eps[i];
        if (!ep->down)
            continue;
        uint64_t now = tc__now_ns();
        if (ep->recheck_ns > now) {
            next = next == 0 || ep->recheck_ns < next ? ep->recheck_ns : next;
            continue;
        }
        (void)pthread_mutex_unlock(&m->mu);
        bool live = false;
        tc_code rc = TC_E_BUSY;
        if (pthread_mutex_trylock(&ep->sync_mu) == 0) {
            rc = ep->c->vt->health(ep->c, TC__HEALTH_LIVE, NULL, NULL, NULL, &live);
            (void)pthread_mutex_unlock(&ep->sync_mu);
        }
        (void)pthread_mutex_lock(&m->mu);
        if (rc == TC_OK && live) {
            mark_up_locked(m, i);
        } else if (ep->down) {
            mark_down_locked(m, i, "the live probe failed");
            next = next == 0 || ep->recheck_ns < next ? ep->recheck_ns : next;
        }
    }
    return next;
}

static void *timer_main(void *arg)
{
    multi *m = arg;
    t_timer = m;
    (void)pthread_mutex_lock(&m->mu);
    while (!m->stopping) {
        uint64_t now = tc__now_ns();
        if (m->timers != NULL && m->timers->due_ns <= now) {
            pending *p = m->timers;
            m->timers = p->tnext;
            p->tnext = NULL;
            bool cancelled = p->cancelled;
            bool expired = p->deadline_ns != 0 && now >= p->deadline_ns;
            (void)pthread_mutex_unlock(&m->mu);
            tc__error err;
            tc__error_clear(&err);
            if (cancelled) {
                deliver_error(p, TC_E_CANCELLED, "the call was cancelled");
            } else if (expired) {
                deliver_error(p, TC_OK, NULL); /* the last failure stands */
            } else {
                tc_result *last = p->last;
                p->last = NULL;
                if (attempt(p, p->req, &err) == TC_OK) {
                    tc_result_free(last);
                } else {
                    p->last = last;
                    deliver_error(p, err.code, err.msg);
                }
            }
            (void)pthread_mutex_lock(&m->mu);
            continue;
        }
        uint64_t next = probe_due_locked(m);
        if (m->stopping)
            break;
        if (m->timers != NULL && (next == 0 || m->timers->due_ns < next))
            next = m->timers->due_ns;
        if (next == 0) {
            (void)pthread_cond_wait(&m->cv, &m->mu);
        } else if (next > tc__now_ns()) {
            struct timespec ts;
            (void)clock_gettime(CLOCK_MONOTONIC, &ts);
            uint64_t wait = next - tc__now_ns();
            uint64_t ns = (uint64_t)ts.tv_nsec + wait % 1000000000ull;
            ts.tv_sec += (time_t)(wait / 1000000000ull + ns / 1000000000ull);
            ts.tv_nsec = (long)(ns % 1000000000ull);
            (void)pthread_cond_timedwait(&m->cv, &m->mu, &ts);
        }
    }
    /* Stopping: no retry is queued any more; end those still waiting. */
    while (m->timers != NULL) {
        pending *p = m->timers;
        m->timers = p->tnext;
        (void)pthread_mutex_unlock(&m->mu);
        deliver_error(p, TC_E_CANCELLED, "the client was freed with the request in flight");
        (void)pthread_mutex_lock(&m->mu);
    }
    (void)pthread_mutex_unlock(&m->mu);
    return NULL;
}

/* ---- lifetime ---------------------------------------------------------------------------- */

static bool m_on_io_thread(const tc_client *c)
{
    const multi *m = (const multi *)c;
    if (t_timer == m)
        return true;
    for (size_t i = 0; i < m->n; i++) {
        if (m->eps[i].c != NULL && m->eps[i].c->vt->on_io_thread(m->eps[i].c))
            return true;
    }
    return false;
}

static void m_destroy(tc_client *c)
{
    multi *m = (multi *)c;
    (void)pthread_mutex_lock(&m->mu);
    m->stopping = true;
    (void)pthread_cond_broadcast(&m->cv);
    (void)pthread_mutex_unlock(&m->mu);
    if (m->has_timer)
        (void)pthread_join(m->timer, NULL);
    /* Endpoint clients end their calls in flight (TC_E_CANCELLED); with
     * `stopping` set those are delivered, never queued again. */
    for (size_t i = 0; i < m->n; i++) {
        (void)tc_client_free(m->eps[i].c);
        tc__free(m->eps[i].url);
        (void)pthread_mutex_destroy(&m->eps[i].sync_mu);
    }
    tc__free(m->eps);
    (void)pthread_cond_destroy(&m->cv);
    (void)pthread_mutex_destroy(&m->submit_mu);
    (void)pthread_mutex_destroy(&m->mu);
    tc__free(m);
}

static const tc__client_vtable k_multi_vtable = {
    .destroy = m_destroy,
    .on_io_thread = m_on_io_thread,
    .health = m_health,
    .server_metadata = m_server_metadata,
    .model_metadata = m_model_metadata,
    .document = m_document,
    .repository_index = m_repository_index,
    .load = m_load,
    .unload = m_unload,
    .infer = m_infer,
    .infer_async = m_infer_async,
    .infer_async_id = m_infer_async_id,
    .cancel = m_cancel,
    .stream_start = m_stream_start,
    .shm_register = m_shm_register,
    .shm_unregister = m_shm_unregister,
    .shm_status = m_shm_status,
};

tc_code tc__multi_client_new(tc_client **out, const char *const *urls, size_t n,
                             const tc__multi_cfg *cfg)
{
    if (out == NULL)
        return TC_E_INVALID_ARG;
    *out = NULL;
    if (urls == NULL || n == 0 || cfg == NULL || cfg->make == NULL)
        return TC_E_INVALID_ARG;
    for (size_t i = 0; i < n; i++) {
        if (urls[i] == NULL || urls[i][0] == '\0')
            return TC_E_INVALID_ARG;
    }
    multi *m = tc__calloc(1, sizeof *m);
    if (m == NULL)
        return TC_E_NOMEM;
    m->eps = tc__calloc(n, sizeof *m->eps);
    if (m->eps == NULL) {
        tc__free(m);
        return TC_E_NOMEM;
    }
    m->base.vt = &k_multi_vtable;
    m->make = cfg->make;
    m->retry = cfg->retry;
    m->network_timeout_us = cfg->network_timeout_us;
    m->rng = tc__now_ns() ^ (uint64_t)(uintptr_t)m;
    tc_code rc = TC_OK;
    bool mu_ok = pthread_mutex_init(&m->mu, NULL) == 0;
    bool smu_ok = pthread_mutex_init(&m->submit_mu, NULL) == 0;
    pthread_condattr_t ca;
    bool cv_ok = false;
    if (pthread_condattr_init(&ca) == 0) {
        cv_ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
                pthread_cond_init(&m->cv, &ca) == 0;
        (void)pthread_condattr_destroy(&ca);
    }
    if (!mu_ok || !smu_ok || !cv_ok) {
        if (mu_ok)
            (void)pthread_mutex_destroy(&m->mu);
        if (smu_ok)
            (void)pthread_mutex_destroy(&m->submit_mu);
        if (cv_ok)
            (void)pthread_cond_destroy(&m->cv);
        tc__free(m->eps);
        tc__free(m);
        return TC_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        endpoint *ep = &m->eps[i];
        if (pthread_mutex_init(&ep->sync_mu, NULL) != 0) {
            rc = TC_E_NOMEM;
            break;
        }
        m->n = i + 1;
        ep->url = tc__strdup(urls[i]);
        if (ep->url == NULL) {
            rc = TC_E_NOMEM;
            break;
        }
        rc = cfg->make(&ep->c, urls[i], cfg->opts);
        if (rc != TC_OK)
            break;
    }
    if (rc == TC_OK) {
        if (pthread_create(&m->timer, NULL, timer_main, m) == 0)
            m->has_timer = true;
        else
            rc = TC_E_TRANSPORT;
    }
    if (rc != TC_OK) {
        m_destroy(&m->base);
        return rc;
    }
    *out = &m->base;
    return TC_OK;
}
