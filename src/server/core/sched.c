/* Scheduling: the version's queues and its instance threads. A plain model
 * runs one queued job per execution; dynamic batching gathers queued jobs
 * into one execution; sequence models keep one queue per instance (each
 * sequence is bound to an instance) and batch at most one job per sequence
 * into an execution, so a sequence's requests run in arrival order. */
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/timeutil.h"
#include "core/internal.h"

/* Most jobs gathered into one execution. */
#define MAX_GATHER 1024u

static uint64_t largest_preferred(const int32_t *sizes, size_t n, uint64_t max_batch)
{
    uint64_t best = 0;
    for (size_t i = 0; i < n; i++) {
        if (sizes[i] > 0 && (uint64_t)sizes[i] <= max_batch && (uint64_t)sizes[i] > best)
            best = (uint64_t)sizes[i];
    }
    return best > 0 ? best : max_batch;
}

void tc__sched_init(tc__model_handle *mv)
{
    const Inference__ModelConfig *cfg = mv->config;
    tc__sched *s = &mv->sched;
    memset(s, 0, sizeof *s);
    s->max_batch = cfg->max_batch_size > 0 ? (uint64_t)cfg->max_batch_size : 1;
    s->preferred = s->max_batch;
    const Inference__ModelSequenceBatching *sb = cfg->sequence_batching;
    const Inference__ModelDynamicBatching *db = cfg->dynamic_batching;
    if (cfg->scheduling_choice_case ==
            INFERENCE__MODEL_CONFIG__SCHEDULING_CHOICE_SEQUENCE_BATCHING &&
        sb != NULL) {
        s->sequence = true;
        uint64_t idle_us = sb->max_sequence_idle_microseconds;
        s->idle_ns = (idle_us > 0 ? idle_us : 1000000u) * 1000u;
        if (sb->strategy_choice_case ==
                INFERENCE__MODEL_SEQUENCE_BATCHING__STRATEGY_CHOICE_OLDEST &&
            sb->oldest != NULL) {
            s->oldest = true;
            s->preferred = largest_preferred(sb->oldest->preferred_batch_size,
                                             sb->oldest->n_preferred_batch_size, s->max_batch);
            s->delay_ns = sb->oldest->max_queue_delay_microseconds * 1000u;
        } else if (sb->strategy_choice_case ==
                       INFERENCE__MODEL_SEQUENCE_BATCHING__STRATEGY_CHOICE_DIRECT &&
                   sb->direct != NULL) {
            s->delay_ns = sb->direct->max_queue_delay_microseconds * 1000u;
        }
    } else if (cfg->scheduling_choice_case ==
                   INFERENCE__MODEL_CONFIG__SCHEDULING_CHOICE_DYNAMIC_BATCHING &&
               db != NULL) {
        s->dynamic = true;
        s->preferred =
            largest_preferred(db->preferred_batch_size, db->n_preferred_batch_size, s->max_batch);
        s->delay_ns = db->max_queue_delay_microseconds * 1000u;
        s->db = db;
        s->levels = db->priority_levels;
        s->default_level = db->default_priority_level;
        if (s->levels > 0 && (s->default_level == 0 || s->default_level > s->levels))
            s->default_level = s->levels;
        const Inference__ModelQueuePolicy *p = db->default_queue_policy;
        for (size_t i = 0; i <= db->n_priority_queue_policy; i++) {
            if (i > 0)
                p = db->priority_queue_policy[i - 1]->value;
            if (p == NULL)
                continue;
            s->timeouts =
                s->timeouts || p->default_timeout_microseconds > 0 || p->allow_timeout_override;
        }
    }
}

/* ---- dynamic batching queue policy ------------------------------------------ */

/* The policy of `level`: its priority_queue_policy entry, else the default
 * one, else none (no timeout, unbounded). */
static const Inference__ModelQueuePolicy *policy_of(const tc__sched *s, uint64_t level)
{
    for (size_t i = 0; i < s->db->n_priority_queue_policy; i++) {
        const Inference__ModelDynamicBatching__PriorityQueuePolicyEntry *e =
            s->db->priority_queue_policy[i];
        if (e->key == level && e->value != NULL)
            return e->value;
    }
    return s->db->default_queue_policy;
}

/* Queue order: priority level, delayed jobs last, arrival within each. */
static uint64_t rank(const tc__job *job)
{
    return job->delayed ? UINT64_MAX : job->level;
}

static void insert_ranked(tc__jobq *q, tc__job *job)
{
    if (q->tail == NULL || rank(q->tail) <= rank(job)) {
        tc__jobq_push(q, job); /* the common case: one level */
        return;
    }
    tc__job *prev = NULL;
    tc__job *j = q->head;
    while (j != NULL && rank(j) <= rank(job)) {
        prev = j;
        j = j->next;
    }
    job->next = j;
    if (prev != NULL)
        prev->next = job;
    else
        q->head = job;
}

tc_code tc__sched_admit(tc__model_handle *mv, tc__job *job, tc__error *err)
{
    const tc__sched *s = &mv->sched;
    uint64_t level = 0;
    if (s->levels > 0) {
        level = job->req->priority;
        if (level == 0 || level > s->levels)
            level = s->default_level;
    }
    const Inference__ModelQueuePolicy *p = policy_of(s, level);
    if (p != NULL && p->max_queue_size > 0) {
        uint64_t queued = 0;
        for (const tc__job *j = mv->queue.head; j != NULL; j = j->next)
            queued += j->level == level;
        if (queued >= p->max_queue_size)
            return tc__error_set(err, TC_E_UNAVAILABLE, "Exceeds maximum queue size");
    }
    uint64_t timeout_us = p != NULL ? p->default_timeout_microseconds : 0;
    uint64_t asked = job->req->timeout_us;
    if (p != NULL && p->allow_timeout_override && asked != 0 &&
        (timeout_us == 0 || asked < timeout_us))
        timeout_us = asked;
    job->level = level;
    job->delay_on_timeout =
        p != NULL && p->timeout_action == INFERENCE__MODEL_QUEUE_POLICY__TIMEOUT_ACTION__DELAY;
    job->delayed = false;
    job->deadline_ns = 0;
    if (timeout_us > 0 && timeout_us < (UINT64_MAX - job->enqueue_ns) / 1000u)
        job->deadline_ns = job->enqueue_ns + timeout_us * 1000u;
    insert_ranked(&mv->queue, job);
    return TC_OK;
}

/* qlock held. Deal with queued jobs whose deadline passed: REJECT ones are
 * unlinked onto *expired (the caller fails them outside the lock), DELAY
 * ones move behind everything else. Returns the next deadline, or 0. */
static uint64_t expire(tc__model_handle *mv, tc__job **expired)
{
    tc__jobq *q = &mv->queue;
    uint64_t now = tc__now_ns();
    uint64_t next = 0;
    tc__jobq late = {NULL, NULL};
    tc__job *prev = NULL;
    tc__job *j = q->head;
    while (j != NULL) {
        tc__job *following = j->next;
        if (j->deadline_ns == 0 || now < j->deadline_ns) {
            if (j->deadline_ns != 0 && (next == 0 || j->deadline_ns < next))
                next = j->deadline_ns;
            prev = j;
            j = following;
            continue;
        }
        if (prev != NULL)
            prev->next = following;
        else
            q->head = following;
        if (q->tail == j)
            q->tail = prev;
        j->deadline_ns = 0;
        if (j->delay_on_timeout) {
            j->delayed = true;
            tc__jobq_push(&late, j);
        } else {
            atomic_fetch_sub(&mv->pending, 1);
            j->next = *expired;
            *expired = j;
        }
        j = following;
    }
    for (tc__job *d = late.head; d != NULL;) {
        tc__job *following = d->next;
        tc__jobq_push(q, d); /* delayed jobs rank last: the tail is their place */
        d = following;
    }
    return next;
}

void tc__jobq_push(tc__jobq *q, tc__job *job)
{
    job->next = NULL;
    if (q->tail != NULL)
        q->tail->next = job;
    else
        q->head = job;
    q->tail = job;
}

static tc__jobq *queue_of(tc__model_handle *mv, uint32_t me)
{
    return mv->sched.sequence ? &mv->iqueues[me] : &mv->queue;
}

static bool picked(tc__job *const *out, size_t n, const tc__job *job)
{
    for (size_t i = 0; i < n; i++) {
        if (out[i] == job)
            return true;
    }
    return false;
}

/* A job is eligible when no chosen job belongs to its sequence. */
static bool seq_seen(tc__job *const *out, size_t n, const tc__seq *seq)
{
    for (size_t i = 0; i < n; i++) {
        if (out[i]->seq == seq)
            return true;
    }
    return false;
}

/* Choose the jobs of the next execution into out[0..n) without unlinking
 * them; *items is their total batch size. */
static size_t choose(const tc__model_handle *mv, tc__jobq *q, tc__job **out, size_t cap,
                     uint64_t *items)
{
    const tc__sched *s = &mv->sched;
    size_t n = 0;
    *items = 0;
    for (tc__job *j = q->head; j != NULL && n < cap; j = j->next) {
        /* A later job of a chosen sequence waits for the next execution
         * (sequence jobs have batch size 1, so nothing else is skipped). */
        if (s->sequence && seq_seen(out, n, j->seq))
            continue;
        if (n > 0 && *items + j->batch_size > s->max_batch)
            break;
        out[n++] = j;
        *items += j->batch_size;
        if (*items >= s->max_batch)
            break;
    }
    return n;
}

static void unlink_chosen(tc__jobq *q, tc__job *const *out, size_t n)
{
    tc__job *prev = NULL;
    tc__job *j = q->head;
    while (j != NULL) {
        tc__job *next = j->next;
        if (picked(out, n, j)) {
            if (prev != NULL)
                prev->next = next;
            else
                q->head = next;
            if (q->tail == j)
                q->tail = prev;
            j->next = NULL;
        } else {
            prev = j;
        }
        j = next;
    }
}

/* The earlier of two wake times (0 = none). */
static uint64_t earlier(uint64_t a, uint64_t b)
{
    return a == 0 ? b : (b == 0 || a < b ? a : b);
}

/* qlock held. Take the jobs of the next execution on `me`; 0 when there is
 * nothing to run yet (*wake_ns: when a partial batch becomes due or a queue
 * deadline passes, or 0). Jobs whose deadline passed under REJECT go to
 * *expired for the caller to fail. */
static size_t gather(tc__model_handle *mv, uint32_t me, tc__job **out, size_t cap,
                     uint64_t *wake_ns, tc__job **expired)
{
    *wake_ns = 0;
    tc__jobq *q = queue_of(mv, me);
    uint64_t deadline = mv->sched.timeouts ? expire(mv, expired) : 0;
    *wake_ns = deadline;
    if (q->head == NULL)
        return 0;
    const tc__sched *s = &mv->sched;
    if (s->max_batch <= 1 || (!s->dynamic && !s->sequence) || cap == 1) {
        out[0] = q->head;
        q->head = q->head->next;
        if (q->head == NULL)
            q->tail = NULL;
        out[0]->next = NULL;
        atomic_fetch_sub(&mv->pending, 1);
        return 1;
    }
    uint64_t items = 0;
    size_t n = choose(mv, q, out, cap, &items);
    if (n == 0)
        return 0;
    uint64_t due = out[0]->enqueue_ns + s->delay_ns;
    if (items < s->preferred && s->delay_ns > 0 && !mv->stopping && tc__now_ns() < due) {
        *wake_ns = earlier(due, deadline);
        return 0;
    }
    unlink_chosen(q, out, n);
    atomic_fetch_sub(&mv->pending, n);
    return n;
}

static void wait_until(tc__model_handle *mv, uint64_t wake_ns)
{
    if (wake_ns == 0) {
        pthread_cond_wait(&mv->qcond, &mv->qlock);
        return;
    }
    uint64_t now = tc__now_ns();
    uint64_t left = wake_ns > now ? wake_ns - now : 0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t ns = (uint64_t)ts.tv_nsec + left;
    ts.tv_sec += (time_t)(ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    (void)pthread_cond_timedwait(&mv->qcond, &mv->qlock, &ts);
}

/* An instance thread takes queued jobs while its instance is not busy with
 * an inline execution (tc__core_infer_inline), so execute() never runs
 * twice at once on one instance. */
void *tc__sched_instance_main(void *arg)
{
    struct tc__instance *inst = arg;
    tc__model_handle *mv = inst->mv;
    uint32_t me = inst->index;
    size_t cap = mv->sched.max_batch < MAX_GATHER ? (size_t)mv->sched.max_batch : MAX_GATHER;
    tc__job *one[1];
    tc__job **batch = cap > 1 ? tc__calloc(cap, sizeof *batch) : NULL;
    if (batch == NULL) {
        batch = one;
        cap = 1;
    }
    for (;;) {
        pthread_mutex_lock(&mv->qlock);
        size_t n = 0;
        tc__job *expired = NULL;
        for (;;) {
            uint64_t wake = 0;
            if (!mv->busy[me])
                n = gather(mv, me, batch, cap, &wake, &expired);
            if (n > 0 || expired != NULL || (mv->stopping && queue_of(mv, me)->head == NULL))
                break;
            wait_until(mv, wake);
        }
        if (n == 0 && expired == NULL) {
            pthread_mutex_unlock(&mv->qlock);
            break; /* stopping and drained */
        }
        if (n > 0)
            mv->busy[me] = true;
        pthread_mutex_unlock(&mv->qlock);
        while (expired != NULL) {
            tc__job *j = expired;
            expired = j->next;
            tc__job_expire(j);
        }
        if (n == 0)
            continue;
        tc__run_batch(mv, me, batch, n);
        pthread_mutex_lock(&mv->qlock);
        mv->busy[me] = false;
        pthread_mutex_unlock(&mv->qlock);
    }
    if (batch != one)
        tc__free(batch);
    return NULL;
}
