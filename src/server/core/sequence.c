/* The sequence batcher's bookkeeping (EXTENSIONS.md section sequence):
 * correlation ids, the live-sequence table, idle expiry, the control
 * inputs fed to the backend and the implicit per-sequence state. Job
 * ordering lives in sched.c (one queue per instance; a sequence is bound
 * to one instance). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/timeutil.h"
#include "core/internal.h"

#define MAX_SEQUENCE_ID_STR 128u

typedef Inference__ModelSequenceBatching__Control seq_control;

static const Inference__ModelSequenceBatching *batching_of(const Inference__ModelConfig *cfg)
{
    return cfg->scheduling_choice_case ==
                   INFERENCE__MODEL_CONFIG__SCHEDULING_CHOICE_SEQUENCE_BATCHING
               ? cfg->sequence_batching
               : NULL;
}

/* The CORRID control, or NULL. `*input` gets its input name. */
static const seq_control *corrid_control(const Inference__ModelSequenceBatching *sb,
                                         const char **input)
{
    for (size_t i = 0; sb != NULL && i < sb->n_control_input; i++) {
        const Inference__ModelSequenceBatching__ControlInput *ci = sb->control_input[i];
        for (size_t j = 0; j < ci->n_control; j++) {
            if (ci->control[j]->kind ==
                INFERENCE__MODEL_SEQUENCE_BATCHING__CONTROL__KIND__CONTROL_SEQUENCE_CORRID) {
                *input = ci->name;
                return ci->control[j];
            }
        }
    }
    return NULL;
}

static void seq_unref(tc__seq *seq)
{
    if (--seq->refs > 0)
        return;
    tc__free(seq->sid);
    tc__free(seq->state);
    tc__free(seq->state_shape);
    tc__free(seq);
}

/* qlock held. Drop `seq` from the table (it lives on while jobs hold it). */
static void unlist(tc__model_handle *mv, size_t index)
{
    tc__seq *seq = mv->seqs[index];
    mv->seqs[index] = mv->seqs[--mv->seq_count];
    seq->listed = false;
    mv->iseqs[seq->instance]--;
    seq_unref(seq);
}

/* qlock held. Forget sequences idle for longer than the configured time. */
static void expire_idle(tc__model_handle *mv, uint64_t now)
{
    for (size_t i = mv->seq_count; i-- > 0;) {
        const tc__seq *seq = mv->seqs[i];
        if (seq->pending == 0 && now - seq->last_ns > mv->sched.idle_ns)
            unlist(mv, i);
    }
}

static size_t find_seq(const tc__model_handle *mv, const tc__infer_request *r)
{
    bool is_str = r->sequence_id_str != NULL && r->sequence_id_str[0] != '\0';
    for (size_t i = 0; i < mv->seq_count; i++) {
        const tc__seq *seq = mv->seqs[i];
        if (seq->is_str != is_str)
            continue;
        if (is_str ? strcmp(seq->sid, r->sequence_id_str) == 0 : seq->id == r->sequence_id)
            return i;
    }
    return SIZE_MAX;
}

static uint32_t least_loaded(const tc__model_handle *mv)
{
    uint32_t best = 0;
    for (uint32_t i = 1; i < (uint32_t)mv->thread_count; i++) {
        if (mv->iseqs[i] < mv->iseqs[best])
            best = i;
    }
    return best;
}

/* The correlation id's form against the request and the CORRID control. */
static tc_code check_id(const tc__model_handle *mv, const tc__job *job, tc__error *err)
{
    const tc__infer_request *r = job->req;
    bool is_str = r->sequence_id_str != NULL && r->sequence_id_str[0] != '\0';
    if (!is_str && r->sequence_id == 0)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "inference request to model '%s' must specify a non-zero or "
                             "non-empty correlation ID",
                             mv->name);
    if (is_str && strlen(r->sequence_id_str) > MAX_SEQUENCE_ID_STR)
        return tc__error_set(err, TC_E_NOT_SUPPORTED,
                             "sequence ID string for model '%s' is longer than %u characters",
                             mv->name, MAX_SEQUENCE_ID_STR);
    if (job->batch_size != 1)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "inference request to model '%s' must specify batch-size 1 due to "
                             "requirements of sequence batcher",
                             mv->name);
    const char *input = NULL;
    const seq_control *c = corrid_control(batching_of(mv->config), &input);
    if (c == NULL)
        return TC_OK;
    bool want_str = c->data_type == INFERENCE__DATA_TYPE__TYPE_STRING;
    if (is_str != want_str) {
        const char *expects = tc_dtype_name((tc_dtype)c->data_type);
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "sequence batching control '%s' data-type is '%s', but model '%s' "
                             "expects '%s'",
                             input, is_str ? "BYTES" : "UINT64", mv->name,
                             expects != NULL ? expects : "INVALID");
    }
    return TC_OK;
}

static tc__seq *seq_new(const tc__infer_request *r, uint32_t instance)
{
    tc__seq *seq = tc__calloc(1, sizeof *seq);
    if (seq == NULL)
        return NULL;
    seq->refs = 1;
    seq->listed = true;
    seq->instance = instance;
    seq->is_str = r->sequence_id_str != NULL && r->sequence_id_str[0] != '\0';
    seq->id = r->sequence_id;
    if (seq->is_str) {
        seq->sid = tc__strdup(r->sequence_id_str);
        if (seq->sid == NULL) {
            tc__free(seq);
            return NULL;
        }
    }
    return seq;
}

/* qlock held. A new sequence for `r` (restarting a live one keeps its
 * instance, so the old sequence's queued jobs still run first). */
static tc_code start_seq(tc__model_handle *mv, const tc__infer_request *r, size_t found,
                         tc__seq **out, tc__error *err)
{
    uint32_t instance = found != SIZE_MAX ? mv->seqs[found]->instance : least_loaded(mv);
    tc__seq **grown = tc__reallocarray(mv->seqs, mv->seq_count + 1, sizeof *grown);
    if (grown == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    mv->seqs = grown;
    tc__seq *seq = seq_new(r, instance);
    if (seq == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    if (found != SIZE_MAX)
        unlist(mv, found);
    mv->seqs[mv->seq_count++] = seq;
    mv->iseqs[instance]++;
    *out = seq;
    return TC_OK;
}

tc_code tc__seq_bind(tc__model_handle *mv, tc__job *job, tc__error *err)
{
    tc_code rc = check_id(mv, job, err);
    if (rc != TC_OK)
        return rc;
    const tc__infer_request *r = job->req;
    uint64_t now = tc__now_ns();
    expire_idle(mv, now);
    size_t found = find_seq(mv, r);
    tc__seq *seq = NULL;
    if (r->sequence_start) {
        rc = start_seq(mv, r, found, &seq, err);
        if (rc != TC_OK)
            return rc;
        found = mv->seq_count - 1;
    } else if (found == SIZE_MAX) {
        char id[32];
        (void)snprintf(id, sizeof id, "%" PRIu64, r->sequence_id);
        bool is_str = r->sequence_id_str != NULL && r->sequence_id_str[0] != '\0';
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "inference request for sequence %s to model '%s' must specify the "
                             "START flag on the first request of the sequence",
                             is_str ? r->sequence_id_str : id, mv->name);
    } else {
        seq = mv->seqs[found];
    }
    seq->refs++;
    seq->pending++;
    seq->last_ns = now;
    job->seq = seq;
    job->seq_start = r->sequence_start;
    job->seq_end = r->sequence_end;
    if (r->sequence_end)
        unlist(mv, found); /* the id is free for a new sequence */
    return TC_OK;
}

void tc__seq_job_done(tc__model_handle *mv, tc__job *job)
{
    pthread_mutex_lock(&mv->qlock);
    job->seq->pending--;
    job->seq->last_ns = tc__now_ns();
    seq_unref(job->seq);
    job->seq = NULL;
    pthread_mutex_unlock(&mv->qlock);
}

void tc__seq_clear(tc__model_handle *mv)
{
    while (mv->seq_count > 0)
        unlist(mv, mv->seq_count - 1);
    tc__free(mv->seqs);
    mv->seqs = NULL;
}

/* ---- what the backend sees ---------------------------------------------------- */

static tc_code tensor_init(tc__tensor *t, const char *name, tc_dtype dtype, const int64_t *shape,
                           size_t ndim, size_t byte_size)
{
    memset(t, 0, sizeof *t);
    t->name = tc__strdup(name);
    t->shape = tc__memdup(shape, ndim * sizeof *shape);
    t->owned = tc__calloc(byte_size > 0 ? byte_size : 1, 1);
    if (t->name == NULL || t->shape == NULL || t->owned == NULL) {
        tc__tensor_cleanup(t);
        return TC_E_NOMEM;
    }
    t->dtype = dtype;
    t->ndim = ndim;
    t->data = t->owned;
    t->byte_size = byte_size;
    return TC_OK;
}

/* A START / END / READY control tensor holding the false or true value. */
static tc_code flag_tensor(tc__tensor *t, const char *name, const seq_control *c, bool on,
                           const int64_t *shape, size_t ndim)
{
    size_t v = on ? 1 : 0;
    tc_code rc;
    if (c->n_fp32_false_true >= 2) {
        rc = tensor_init(t, name, TC_DTYPE_FP32, shape, ndim, sizeof(float));
        if (rc == TC_OK)
            memcpy(t->owned, &c->fp32_false_true[v], sizeof(float));
    } else if (c->n_bool_false_true >= 2) {
        rc = tensor_init(t, name, TC_DTYPE_BOOL, shape, ndim, 1);
        if (rc == TC_OK)
            t->owned[0] = c->bool_false_true[v] ? 1 : 0;
    } else {
        int32_t x = c->n_int32_false_true >= 2 ? c->int32_false_true[v] : (int32_t)v;
        rc = tensor_init(t, name, TC_DTYPE_INT32, shape, ndim, sizeof x);
        if (rc == TC_OK)
            memcpy(t->owned, &x, sizeof x);
    }
    return rc;
}

static tc_code corrid_tensor(tc__tensor *t, const char *name, const seq_control *c,
                             const tc__seq *seq, const int64_t *shape, size_t ndim)
{
    if (seq->is_str) {
        size_t len = strlen(seq->sid);
        tc_code rc = tensor_init(t, name, TC_DTYPE_BYTES, shape, ndim, 4 + len);
        if (rc == TC_OK) {
            uint32_t n = (uint32_t)len; /* little-endian host (backends assume it too) */
            memcpy(t->owned, &n, 4);
            memcpy(t->owned + 4, seq->sid, len);
        }
        return rc;
    }
    tc_dtype dt = (tc_dtype)c->data_type;
    size_t size = dt == TC_DTYPE_UINT32 || dt == TC_DTYPE_INT32 ? 4 : 8;
    if (dt != TC_DTYPE_UINT32 && dt != TC_DTYPE_INT32 && dt != TC_DTYPE_INT64)
        dt = TC_DTYPE_UINT64;
    tc_code rc = tensor_init(t, name, dt, shape, ndim, size);
    if (rc == TC_OK)
        memcpy(t->owned, &seq->id, size); /* low bytes: the low bits of the id */
    return rc;
}

static tc_code control_tensor(tc__tensor *t, const char *name, const seq_control *c,
                              const tc__job *job, bool batching)
{
    static const int64_t shape[2] = {1, 1};
    size_t ndim = batching ? 2 : 1;
    switch (c->kind) {
    case INFERENCE__MODEL_SEQUENCE_BATCHING__CONTROL__KIND__CONTROL_SEQUENCE_START:
        return flag_tensor(t, name, c, job->seq_start, shape, ndim);
    case INFERENCE__MODEL_SEQUENCE_BATCHING__CONTROL__KIND__CONTROL_SEQUENCE_END:
        return flag_tensor(t, name, c, job->seq_end, shape, ndim);
    case INFERENCE__MODEL_SEQUENCE_BATCHING__CONTROL__KIND__CONTROL_SEQUENCE_CORRID:
        return corrid_tensor(t, name, c, job->seq, shape, ndim);
    default:
        return flag_tensor(t, name, c, true, shape, ndim); /* READY: a real request */
    }
}

/* The state input: the stored state, or zeros of the configured shape. */
static tc_code state_tensor(tc__tensor *t, const Inference__ModelSequenceBatching__State *st,
                            const tc__seq *seq, bool batching)
{
    if (seq->state_shape != NULL) {
        tc_code rc = tensor_init(t, st->input_name, (tc_dtype)st->data_type, seq->state_shape,
                                 seq->state_ndim, seq->state_size);
        if (rc == TC_OK && seq->state_size > 0)
            memcpy(t->owned, seq->state, seq->state_size);
        return rc;
    }
    int64_t shape[33];
    size_t ndim = 0;
    if (batching)
        shape[ndim++] = 1;
    size_t elems = 1;
    for (size_t i = 0; i < st->n_dims && ndim < 33; i++) {
        int64_t d = st->dims[i] > 0 ? st->dims[i] : 1;
        shape[ndim++] = d;
        elems *= (size_t)d;
    }
    tc_dtype dt = (tc_dtype)st->data_type;
    size_t es = dt == TC_DTYPE_BYTES ? 4 : tc_dtype_size(dt); /* BYTES: empty strings */
    return tensor_init(t, st->input_name, dt, shape, ndim, elems * es);
}

static size_t extra_inputs(const Inference__ModelSequenceBatching *sb)
{
    size_t n = sb->n_state > 0 ? 1 : 0;
    for (size_t i = 0; i < sb->n_control_input; i++)
        n += sb->control_input[i]->n_control > 0 ? 1 : 0;
    return n;
}

tc_code tc__seq_request(const tc__model_handle *mv, const tc__job *job, tc__infer_request **out,
                        tc__error *err)
{
    const Inference__ModelSequenceBatching *sb = batching_of(mv->config);
    *out = (tc__infer_request *)job->req;
    size_t extra = sb != NULL ? extra_inputs(sb) : 0;
    if (extra == 0)
        return TC_OK;
    const tc__infer_request *orig = job->req;
    bool batching = mv->config->max_batch_size > 0;
    tc__infer_request *r = tc__calloc(1, sizeof *r);
    tc__tensor *inputs = tc__calloc(orig->input_count + extra, sizeof *inputs);
    if (r == NULL || inputs == NULL) {
        tc__free(r);
        tc__free(inputs);
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    }
    *r = *orig; /* borrows everything but `inputs` */
    memcpy(inputs, orig->inputs, orig->input_count * sizeof *inputs);
    r->inputs = inputs;
    r->input_count = orig->input_count;
    tc_code rc = TC_OK;
    for (size_t i = 0; rc == TC_OK && i < sb->n_control_input; i++) {
        const Inference__ModelSequenceBatching__ControlInput *ci = sb->control_input[i];
        if (ci->n_control == 0)
            continue;
        rc = control_tensor(&inputs[r->input_count], ci->name, ci->control[0], job, batching);
        if (rc == TC_OK)
            r->input_count++;
    }
    if (rc == TC_OK && sb->n_state > 0) {
        rc = state_tensor(&inputs[r->input_count], sb->state[0], job->seq, batching);
        if (rc == TC_OK)
            r->input_count++;
    }
    if (rc != TC_OK) {
        tc__seq_request_free(job, r);
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    }
    *out = r;
    return TC_OK;
}

void tc__seq_request_free(const tc__job *job, tc__infer_request *r)
{
    if (r == NULL || r == job->req)
        return;
    for (size_t i = job->req->input_count; i < r->input_count; i++)
        tc__tensor_cleanup(&r->inputs[i]);
    tc__free(r->inputs);
    tc__free(r);
}

static bool is_config_output(const Inference__ModelConfig *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_output; i++) {
        if (strcmp(cfg->output[i]->name, name) == 0)
            return true;
    }
    return false;
}

void tc__seq_capture_state(const tc__model_handle *mv, tc__job *job, tc__infer_response *resp)
{
    const Inference__ModelSequenceBatching *sb = batching_of(mv->config);
    if (sb == NULL || sb->n_state == 0 || resp == NULL)
        return;
    const char *name = sb->state[0]->output_name;
    for (size_t i = 0; i < resp->output_count; i++) {
        tc__tensor *t = &resp->outputs[i];
        if (strcmp(t->name, name) != 0)
            continue;
        tc__seq *seq = job->seq;
        uint8_t *data = tc__memdup(t->data, t->byte_size);
        int64_t *shape = tc__memdup(t->shape, t->ndim * sizeof *shape);
        if (data != NULL && shape != NULL) {
            tc__free(seq->state);
            tc__free(seq->state_shape);
            seq->state = data;
            seq->state_size = t->byte_size;
            seq->state_shape = shape;
            seq->state_ndim = t->ndim;
        } else {
            tc__free(data);
            tc__free(shape);
        }
        if (!is_config_output(mv->config, name)) {
            tc__tensor_cleanup(t);
            memmove(t, t + 1, (resp->output_count - i - 1) * sizeof *t);
            resp->output_count--;
        }
        return;
    }
}
