/* Core internals shared by the core sources. Frontends include only core.h. */
#ifndef TC_SRC_SERVER_CORE_INTERNAL_H
#define TC_SRC_SERVER_CORE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "backend/backend.h"
#include "core/core.h"

typedef enum tc__mv_state {
    TC__MV_UNKNOWN = 0,
    TC__MV_READY,
    TC__MV_UNAVAILABLE,
    TC__MV_LOADING,
    TC__MV_UNLOADING
} tc__mv_state;

const char *tc__mv_state_name(tc__mv_state s);

typedef struct tc__seq tc__seq;
typedef struct tc__shm_registry tc__shm_registry;
/* The shared-memory regions one request uses (shm_infer.c). */
typedef struct tc__shm_binding tc__shm_binding;

/* A queued inference. Exactly one of `cb` (unary) and `stream_cb` is set. */
typedef struct tc__job {
    struct tc__job *next;
    struct tc__model_handle *mv; /* the job holds one reference */
    const tc__infer_request *req;
    tc__infer_done_cb cb;
    tc__infer_stream_cb stream_cb;
    void *user_data;
    uint64_t batch_size;
    uint64_t start_ns;           /* entered the core */
    uint64_t enqueue_ns;         /* entered the queue */
    tc__seq *seq;                /* sequence models: its sequence (holds one reference) */
    bool seq_start;              /* the request starts its sequence */
    bool seq_end;                /* the request ends its sequence */
    tc__shm_binding *shm;        /* its shm regions (held until completion), or NULL */
    tc__trace *trace;            /* sampled: the frontend's trace (stamped until the callback) */
    tc__fail_reason fail_reason; /* set by tc__run_batch when the job fails */
    /* Dynamic batching (sched.c): priority level (1 = highest; 0 without
     * levels), queue deadline (0 = none) and what happens when it passes. */
    uint64_t level;
    uint64_t deadline_ns;
    bool delay_on_timeout; /* DELAY: move behind the other work instead of failing */
    bool delayed;          /* its deadline passed under DELAY: runs after the rest */
} tc__job;

/* A FIFO of jobs. */
typedef struct tc__jobq {
    tc__job *head;
    tc__job *tail;
} tc__jobq;

/* One live sequence (sequence.c). The table, `refs`, `pending` and
 * `last_ns` are guarded by the version's qlock. `state` is touched only by
 * the instance thread running the sequence's jobs: a sequence stays on one
 * instance and at most one of its jobs runs at a time. */
struct tc__seq {
    uint32_t refs;     /* the table's (while listed) + one per job */
    uint32_t pending;  /* jobs queued or running */
    uint32_t instance; /* every job of the sequence runs here */
    bool listed;       /* still in the table (not ended, restarted or idle) */
    bool is_str;
    uint64_t id;
    char *sid;        /* string correlation id when is_str */
    uint64_t last_ns; /* last request accepted or finished */
    uint8_t *state;   /* implicit state (sequence_batching.state[0]); NULL = zeros */
    size_t state_size;
    int64_t *state_shape;
    size_t state_ndim;
};

/* Scheduling of a version, fixed at start from its config. */
typedef struct tc__sched {
    bool sequence;      /* sequence_batching: per-instance queues, controls */
    bool oldest;        /* oldest strategy (else direct) */
    bool dynamic;       /* dynamic_batching (non-sequence models) */
    uint64_t max_batch; /* most batch items per execution (1 without batching) */
    uint64_t preferred; /* gather until this many, then run at once */
    uint64_t delay_ns;  /* most the oldest queued job waits for a fuller batch */
    uint64_t idle_ns;   /* sequences: max_sequence_idle_microseconds */
    /* Dynamic batching queue policy (EXTENSIONS.md schedule_policy). */
    const Inference__ModelDynamicBatching *db; /* the config's; NULL without */
    uint64_t levels;                           /* priority_levels (0 = priorities off) */
    uint64_t default_level;                    /* for requests without a valid priority */
    bool timeouts;                             /* some policy sets or allows queue timeouts */
} tc__sched;

typedef struct tc__labels {
    char **lines;
    size_t count;
} tc__labels;

struct tc__model_handle;
/* What an instance thread runs for. */
struct tc__instance {
    struct tc__model_handle *mv;
    uint32_t index;
};

/* Statistics of one version; every field guarded by tc__model_handle.slock. */
typedef struct tc__vstats {
    uint64_t last_inference_ms;
    uint64_t inference_count;
    uint64_t execution_count;
    tc__stat_duration success, fail, queue, compute_input, compute_infer, compute_output;
    uint64_t fail_by_reason[TC__FAIL_REASON_COUNT];
    tc__batch_stat *batches;
    size_t batch_count;
} tc__vstats;

/* One model version (the handle frontends hold). Freed when `refs` drops
 * to 0: the version list, each queued job and each acquired handle hold one. */
struct tc__model_handle {
    atomic_uint refs;
    tc__core *core;
    char *name;
    int64_t version;
    char *version_str;
    char *dir;                      /* model directory */
    Inference__ModelConfig *config; /* NULL when the load failed before parsing */
    const tc__backend *backend;
    void *backend_state; /* non-NULL while initialised */
    tc__labels *labels;  /* per config output, or NULL */

    tc__mv_state state; /* guarded by core->lock */
    char *reason;       /* guarded by core->lock */

    pthread_mutex_t qlock; /* guards queue, iqueues, stopping, busy, seqs, seq_count, iseqs */
    pthread_cond_t qcond;
    atomic_size_t pending; /* jobs queued and not yet taken by an instance */
    tc__jobq queue;        /* jobs any instance may run */
    tc__jobq *iqueues;     /* per instance: jobs of the sequences bound to it */
    bool stopping;
    bool *busy;      /* per instance: an execute() is running on it */
    tc__sched sched; /* set before the threads start, then read-only */
    tc__seq **seqs;  /* live sequences (sequence models) */
    size_t seq_count;
    uint32_t *iseqs;    /* per instance: live sequences bound to it */
    bool cheap;         /* backend->is_cheap(): small requests may run inline */
    pthread_t *threads; /* instance threads, one per instance */
    struct tc__instance *instances;
    size_t thread_count;

    pthread_mutex_t slock; /* guards stats */
    tc__vstats stats;
};

/* A model directory known to the core. */
typedef struct tc__model_entry {
    char *name;
    char *dir;                   /* in a repository; NULL when gone */
    char *override_dir;          /* temp dir built from file: overrides; removed on free */
    int dir_count;               /* repositories holding this name (> 1: duplicate) */
    bool attempted;              /* a load was tried: listed with versions */
    char *reason;                /* model-level failure (no versions), or NULL */
    char *stamp;                 /* poll fingerprint of the last load */
    tc__model_handle **versions; /* sorted by version */
    size_t version_count;
} tc__model_entry;

typedef struct tc__trace_override {
    char *model;
    tc__trace_settings s;
    bool has_level, has_rate, has_count, has_log_frequency;
    uint64_t seen; /* requests counted for the rate while the rate is the model's own */
} tc__trace_override;

/* The trace file writer (trace.c). */
typedef struct tc__trace_log tc__trace_log;

struct tc__core {
    char **repos;
    size_t repo_count;
    tc__control_mode mode;
    bool strict_readiness;
    bool strict_model_config;
    uint32_t poll_secs;
    char *server_id;
    char *backend_dir; /* NULL = none */

    pthread_mutex_t lock; /* guards models, model_count, version states and reasons */
    tc__model_entry **models;
    size_t model_count;

    pthread_mutex_t load_lock; /* serialises loads, unloads and rescans */

    pthread_mutex_t flight_lock; /* guards inflight, accepting, stop_poll */
    pthread_cond_t flight_cond;
    uint64_t inflight;
    bool accepting;
    bool stop_poll;
    bool poll_started;
    pthread_t poll_thread;

    tc__shm_registry *shm; /* shared-memory regions; has its own lock */

    pthread_mutex_t trace_lock; /* guards trace_global, trace_models, trace_seen */
    tc__trace_settings trace_global;
    tc__trace_override *trace_models;
    size_t trace_model_count;
    uint64_t trace_seen;  /* requests counted for the global rate */
    atomic_bool trace_on; /* some setting may sample: the hot path's one check */
    atomic_uint_fast64_t trace_next_id;
    tc__trace_log *trace_log; /* has its own lock */
};

/* repo.c */
tc_code tc__repo_sync(tc__core *core, tc__error *err);
tc_code tc__repo_load(tc__core *core, const char *name, const char *config_json, size_t config_len,
                      const char *dir_override, tc__error *err);
void tc__repo_unload(tc__core *core, tc__model_entry *e);
tc__model_entry *tc__repo_find(tc__core *core, const char *name); /* core->lock held */
void tc__repo_entry_free(tc__model_entry *e);
void tc__repo_poll_once(tc__core *core);
void tc__repo_remove_tree(const char *path);

/* version lifecycle (infer.c) */
tc__model_handle *tc__mv_new(tc__core *core, const char *name, int64_t version, const char *dir);
void tc__mv_labels_free(tc__model_handle *mv);              /* repo.c */
tc_code tc__mv_start(tc__model_handle *mv, tc__error *err); /* backend init + threads */
void tc__mv_stop(tc__model_handle *mv);                     /* drain, join, fini */
void tc__mv_unref(tc__model_handle *mv);
void tc__mv_ref(tc__model_handle *mv);

/* scheduling (sched.c): queue a job, run instance threads. */
void tc__sched_init(tc__model_handle *mv);
void tc__jobq_push(tc__jobq *q, tc__job *job);
/* qlock held; dynamic batching. Apply the queue policy of the job's
 * priority level (full queue: TC_E_UNAVAILABLE "Exceeds maximum queue
 * size"; its deadline) and queue it behind the jobs of its level and above. */
tc_code tc__sched_admit(tc__model_handle *mv, tc__job *job, tc__error *err);
/* Fail a job whose queue deadline passed (REJECT): UNAVAILABLE "Request
 * timeout expired", counted as a REJECTED failure. Runs its callback. */
void tc__job_expire(tc__job *job);
/* Instance thread body; `arg` is a struct tc__instance. */
void *tc__sched_instance_main(void *arg);
/* Execute jobs[0..n) on `instance` and complete each (infer.c). */
void tc__run_batch(tc__model_handle *mv, uint32_t instance, tc__job **jobs, size_t n);

/* sequences (sequence.c) */
/* Check the sequence parameters of a job's request, find or start its
 * sequence and bind the job to it (qlock held by the caller). */
tc_code tc__seq_bind(tc__model_handle *mv, tc__job *job, tc__error *err);
/* A job of the sequence finished or was dropped (takes qlock). */
void tc__seq_job_done(tc__model_handle *mv, tc__job *job);
/* Forget every sequence (version stopping; qlock held). */
void tc__seq_clear(tc__model_handle *mv);
/* The request the backend sees: `job->req` plus control and state inputs.
 * `*out` is job->req itself when nothing is added. */
tc_code tc__seq_request(const tc__model_handle *mv, const tc__job *job, tc__infer_request **out,
                        tc__error *err);
void tc__seq_request_free(const tc__job *job, tc__infer_request *r);
/* Store the state output of `resp` and drop it from the response. */
void tc__seq_capture_state(const tc__model_handle *mv, tc__job *job, tc__infer_response *resp);

/* tracing (trace.c) */
tc__trace_log *tc__trace_log_new(const char *file);
/* Write what is still pending to the trace file and free. */
void tc__trace_log_free(tc__trace_log *log);
/* Recompute core->trace_on from the settings (trace_lock held). */
void tc__trace_refresh(tc__core *core);
/* Count a request to `model` against the effective settings (*eff); true
 * when it is sampled (its count is then taken from the remaining count). */
bool tc__trace_sample(tc__core *core, const char *model, tc__trace_settings *eff);
/* The version the request runs on (set by the core at submission). */
void tc__trace_set_version(tc__trace *t, int64_t version);

/* validation (validate.c) */
tc_code tc__validate_request(const Inference__ModelConfig *cfg, const char *model,
                             const tc__infer_request *req, uint64_t *batch_size, tc__error *err);

/* shared memory in inference (shm_infer.c) */
/* Resolve and check every shm reference of `req` and hold its regions;
 * *out stays NULL when the request uses no shared memory. */
tc_code tc__shm_bind(tc__core *core, const tc__infer_request *req, tc__shm_binding **out,
                     tc__error *err);
/* The request to validate and execute: `req` with shm inputs pointing at
 * their data (valid until the binding is freed). */
const tc__infer_request *tc__shm_binding_request(const tc__shm_binding *b);
/* The host window output `name` may be built in (byte_size fits, the
 * window is system memory aliasing no input), or NULL. `b` may be NULL. */
uint8_t *tc__shm_binding_place(const tc__shm_binding *b, const char *name, size_t byte_size);
/* After execution: copy each shm output of `resp` into its region and
 * leave the tensor without data (shm set). INTERNAL when one is too big. */
tc_code tc__shm_binding_write(const tc__shm_binding *b, tc__infer_response *resp, tc__error *err);
/* Release the regions (the last reference unmaps an unregistered one). */
void tc__shm_binding_free(tc__shm_binding *b);

/* classification (classify.c): replace `t` by its top-k BYTES tensor. */
tc_code tc__classify(tc__tensor *t, uint32_t k, bool batched, const tc__labels *labels,
                     tc__error *err);

#endif /* TC_SRC_SERVER_CORE_INTERNAL_H */
