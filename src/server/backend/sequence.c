/* Built-in sequence backends (control inputs come from the core's sequence
 * batcher; see backend.h):
 *   "tritonc_sequence": OUTPUT = (INPUT + START + END x CORRID) x READY,
 *     element-wise on INT32 (models simple_sequence, simple_dyna_sequence;
 *     controls a config lacks count as 0, READY as 1). With implicit state
 *     (sequence_batching.state, INT32, same shape as INPUT) the state is
 *     added as well and the result becomes the next state. Stateless.
 *   "tritonc_sequence_accumulate": a per-sequence accumulator (model
 *     simple_string_dyna_sequence): START sets it to INPUT, later requests
 *     add INPUT, END adds the numeric value of the correlation id and
 *     forgets the sequence; OUTPUT is the accumulator. Its table is shared
 *     by the instances and locked.
 * Both honour the config parameter `execute_delay_ms` (once per execute()).
 * Control false values must be 0 (int32_false_true [0, 1] and the like). */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "common/alloc.h"
#include "proto/bytes.h"

enum { CTL_START, CTL_READY, CTL_END, CTL_CORRID, CTL_COUNT };

typedef struct acc_entry {
    char *key;
    int64_t value;
} acc_entry;

typedef struct seq_state {
    const char *in_name; /* point into the config, valid until fini */
    const char *out_name;
    const char *ctl[CTL_COUNT];
    const char *state_in; /* implicit state, or NULL */
    const char *state_out;
    uint64_t delay_ms;
    pthread_mutex_t lock; /* guards entries, entry_count (accumulator) */
    acc_entry *entries;
    size_t entry_count;
} seq_state;

static void seq_fini(void *state)
{
    seq_state *s = state;
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->entry_count; i++)
        tc__free(s->entries[i].key);
    tc__free(s->entries);
    pthread_mutex_destroy(&s->lock);
    tc__free(s);
}

static tc_code seq_init(const tc__backend_model *model, void **state, tc__error *err)
{
    const Inference__ModelConfig *cfg = model->config;
    if (cfg->scheduling_choice_case !=
            INFERENCE__MODEL_CONFIG__SCHEDULING_CHOICE_SEQUENCE_BATCHING ||
        cfg->n_input != 1 || cfg->n_output != 1 ||
        cfg->input[0]->data_type != INFERENCE__DATA_TYPE__TYPE_INT32 ||
        cfg->output[0]->data_type != INFERENCE__DATA_TYPE__TYPE_INT32)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "the built-in sequence backends need sequence_batching, one INT32 "
                             "input and one INT32 output in model '%s'",
                             model->name);
    const Inference__ModelSequenceBatching *sb = cfg->sequence_batching;
    if (sb->n_state > 0 && sb->state[0]->data_type != INFERENCE__DATA_TYPE__TYPE_INT32)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "the built-in sequence backends need an INT32 state in model '%s'",
                             model->name);
    seq_state *s = tc__calloc(1, sizeof *s);
    if (s == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    pthread_mutex_init(&s->lock, NULL);
    s->in_name = cfg->input[0]->name;
    s->out_name = cfg->output[0]->name;
    for (int k = 0; k < CTL_COUNT; k++)
        s->ctl[k] = tc__backend_control_input(cfg, k);
    if (sb->n_state > 0) {
        s->state_in = sb->state[0]->input_name;
        s->state_out = sb->state[0]->output_name;
    }
    const char *delay = tc__backend_config_param(cfg, "execute_delay_ms");
    if (delay != NULL)
        s->delay_ms = strtoull(delay, NULL, 10);
    *state = s;
    return TC_OK;
}

static size_t elements(const tc__tensor *t)
{
    return t->byte_size / sizeof(int32_t);
}

static int32_t element(const tc__tensor *t, size_t i)
{
    int32_t v = 0;
    if (t != NULL && (i + 1) * sizeof v <= t->byte_size)
        memcpy(&v, t->data + i * sizeof v, sizeof v);
    return v;
}

/* The correlation id as a number (string ids: their decimal value). */
static int64_t corrid_value(const tc__tensor *t)
{
    if (t == NULL || t->dtype != TC_DTYPE_BYTES)
        return tc__backend_scalar(t, 0);
    size_t pos = 0;
    const uint8_t *e;
    size_t len;
    if (tc__bytes_next(t->data, t->byte_size, &pos, &e, &len) != TC_OK)
        return 0;
    char tmp[32];
    len = len < sizeof tmp - 1 ? len : sizeof tmp - 1;
    memcpy(tmp, e, len);
    tmp[len] = '\0';
    return (int64_t)strtoll(tmp, NULL, 10);
}

/* Append OUTPUT (and the state output) holding `vals`, shaped like `in`. */
static tc_code emit(const seq_state *s, tc__backend_request *br, const tc__tensor *in,
                    const int32_t *vals, size_t n, bool with_state)
{
    for (int k = 0; k < (with_state ? 2 : 1); k++) {
        uint8_t *p = tc__memdup(vals, n * sizeof *vals);
        if (p == NULL)
            return tc__error_set(&br->error, TC_E_NOMEM, "out of memory");
        tc_code rc =
            tc__backend_output_add(br->response, k == 0 ? s->out_name : s->state_out,
                                   TC_DTYPE_INT32, in->shape, in->ndim, p, n * sizeof *vals);
        if (rc != TC_OK)
            return tc__error_set(&br->error, rc, "out of memory");
    }
    return TC_OK;
}

static tc_code formula_one(const seq_state *s, tc__backend_request *br)
{
    const tc__infer_request *r = br->request;
    const tc__tensor *in = tc__backend_input(r, s->in_name);
    if (in == NULL)
        return tc__error_set(&br->error, TC_E_INVALID_ARG, "sequence: missing input '%s'",
                             s->in_name);
    int64_t start = tc__backend_scalar(tc__backend_input(r, s->ctl[CTL_START]), 0);
    int64_t ready = tc__backend_scalar(tc__backend_input(r, s->ctl[CTL_READY]), 1);
    int64_t end = tc__backend_scalar(tc__backend_input(r, s->ctl[CTL_END]), 0);
    int64_t corrid = corrid_value(tc__backend_input(r, s->ctl[CTL_CORRID]));
    const tc__tensor *st = s->state_in != NULL ? tc__backend_input(r, s->state_in) : NULL;
    size_t n = elements(in);
    int32_t *vals = tc__calloc(n > 0 ? n : 1, sizeof *vals);
    if (vals == NULL)
        return tc__error_set(&br->error, TC_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        /* Unsigned arithmetic wraps like the int32 tensors it ends in. */
        uint64_t v = (uint64_t)element(in, i) + (uint64_t)start + (uint64_t)end * (uint64_t)corrid;
        if (st != NULL)
            v += (uint64_t)element(st, i);
        vals[i] = (int32_t)(uint32_t)(v * (uint64_t)ready);
    }
    tc_code rc = emit(s, br, in, vals, n, s->state_out != NULL);
    tc__free(vals);
    return rc;
}

static void seq_execute(void *state, uint32_t instance, tc__backend_request *reqs, size_t count)
{
    (void)instance;
    const seq_state *s = state;
    if (s->delay_ms > 0)
        tc__backend_sleep_ms(s->delay_ms);
    for (size_t i = 0; i < count; i++)
        (void)formula_one(s, &reqs[i]);
}

/* ---- accumulator ------------------------------------------------------------- */

/* The correlation id as text (the table key). */
static void corrid_key(const tc__tensor *t, char *buf, size_t size)
{
    size_t pos = 0;
    const uint8_t *e;
    size_t len;
    if (t != NULL && t->dtype == TC_DTYPE_BYTES &&
        tc__bytes_next(t->data, t->byte_size, &pos, &e, &len) == TC_OK) {
        len = len < size - 1 ? len : size - 1;
        memcpy(buf, e, len);
        buf[len] = '\0';
        return;
    }
    (void)snprintf(buf, size, "%" PRId64, tc__backend_scalar(t, 0));
}

/* lock held. The entry for `key`, created (value 0) when `create`. */
static acc_entry *acc_find(seq_state *s, const char *key, bool create)
{
    for (size_t i = 0; i < s->entry_count; i++) {
        if (strcmp(s->entries[i].key, key) == 0)
            return &s->entries[i];
    }
    if (!create)
        return NULL;
    acc_entry *grown = tc__reallocarray(s->entries, s->entry_count + 1, sizeof *grown);
    if (grown == NULL)
        return NULL;
    s->entries = grown;
    acc_entry *e = &grown[s->entry_count];
    e->key = tc__strdup(key);
    e->value = 0;
    if (e->key == NULL)
        return NULL;
    s->entry_count++;
    return e;
}

/* lock held. Forget the entry (END). */
static void acc_remove(seq_state *s, acc_entry *e)
{
    tc__free(e->key);
    *e = s->entries[--s->entry_count];
}

static tc_code accumulate_one(seq_state *s, tc__backend_request *br)
{
    const tc__infer_request *r = br->request;
    const tc__tensor *in = tc__backend_input(r, s->in_name);
    if (in == NULL || elements(in) == 0)
        return tc__error_set(&br->error, TC_E_INVALID_ARG, "sequence: missing input '%s'",
                             s->in_name);
    bool start = tc__backend_scalar(tc__backend_input(r, s->ctl[CTL_START]), 0) != 0;
    bool end = tc__backend_scalar(tc__backend_input(r, s->ctl[CTL_END]), 0) != 0;
    bool ready = tc__backend_scalar(tc__backend_input(r, s->ctl[CTL_READY]), 1) != 0;
    const tc__tensor *cid = tc__backend_input(r, s->ctl[CTL_CORRID]);
    char key[160];
    corrid_key(cid, key, sizeof key);
    int32_t out = 0;
    pthread_mutex_lock(&s->lock);
    acc_entry *e = ready ? acc_find(s, key, true) : NULL;
    if (e != NULL) {
        uint64_t v = start ? 0 : (uint64_t)e->value;
        v += (uint64_t)(int64_t)element(in, 0);
        if (end)
            v += (uint64_t)corrid_value(cid);
        e->value = (int64_t)(int32_t)(uint32_t)v;
        out = (int32_t)e->value;
        if (end)
            acc_remove(s, e);
    }
    pthread_mutex_unlock(&s->lock);
    if (ready && e == NULL)
        return tc__error_set(&br->error, TC_E_NOMEM, "out of memory");
    return emit(s, br, in, &out, 1, false);
}

static void accumulate_execute(void *state, uint32_t instance, tc__backend_request *reqs,
                               size_t count)
{
    (void)instance;
    seq_state *s = state;
    if (s->delay_ms > 0)
        tc__backend_sleep_ms(s->delay_ms);
    for (size_t i = 0; i < count; i++)
        (void)accumulate_one(s, &reqs[i]);
}

static bool seq_is_cheap(const void *state)
{
    return ((const seq_state *)state)->delay_ms == 0;
}

const tc__backend tc__backend_sequence = {
    .name = "tritonc_sequence",
    .is_cheap = seq_is_cheap,
    .init = seq_init,
    .execute = seq_execute,
    .fini = seq_fini,
};

const tc__backend tc__backend_sequence_accumulate = {
    .name = "tritonc_sequence_accumulate",
    .is_cheap = seq_is_cheap,
    .init = seq_init,
    .execute = accumulate_execute,
    .fini = seq_fini,
};
