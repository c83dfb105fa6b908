/* Parameter lists and the cleanup functions of the v2 message structs. */
#include "proto/v2_types.h"

#include <string.h>

#include "common/alloc.h"

/* Append a slot for `key`; the caller fills type and value. NULL on failure. */
static tc__param *params_push(tc__params *p, const char *key)
{
    if (p == NULL || key == NULL)
        return NULL;
    char *k = tc__strdup(key);
    if (k == NULL)
        return NULL;
    tc__param *items = tc__reallocarray(p->items, p->count + 1, sizeof *items);
    if (items == NULL) {
        tc__free(k);
        return NULL;
    }
    p->items = items;
    tc__param *slot = &items[p->count++];
    memset(slot, 0, sizeof *slot);
    slot->key = k;
    return slot;
}

tc_code tc__params_add_bool(tc__params *p, const char *key, bool v)
{
    tc__param *slot = params_push(p, key);
    if (slot == NULL)
        return TC_E_NOMEM;
    slot->type = TC__PARAM_BOOL;
    slot->v.b = v;
    return TC_OK;
}

tc_code tc__params_add_int64(tc__params *p, const char *key, int64_t v)
{
    tc__param *slot = params_push(p, key);
    if (slot == NULL)
        return TC_E_NOMEM;
    slot->type = TC__PARAM_INT64;
    slot->v.i64 = v;
    return TC_OK;
}

tc_code tc__params_add_uint64(tc__params *p, const char *key, uint64_t v)
{
    tc__param *slot = params_push(p, key);
    if (slot == NULL)
        return TC_E_NOMEM;
    slot->type = TC__PARAM_UINT64;
    slot->v.u64 = v;
    return TC_OK;
}

tc_code tc__params_add_double(tc__params *p, const char *key, double v)
{
    tc__param *slot = params_push(p, key);
    if (slot == NULL)
        return TC_E_NOMEM;
    slot->type = TC__PARAM_DOUBLE;
    slot->v.d = v;
    return TC_OK;
}

tc_code tc__params_add_string(tc__params *p, const char *key, const char *v)
{
    if (v == NULL)
        return TC_E_INVALID_ARG;
    char *copy = tc__strdup(v);
    if (copy == NULL)
        return TC_E_NOMEM;
    tc__param *slot = params_push(p, key);
    if (slot == NULL) {
        tc__free(copy);
        return TC_E_NOMEM;
    }
    slot->type = TC__PARAM_STRING;
    slot->v.s = copy;
    return TC_OK;
}

const tc__param *tc__params_find(const tc__params *p, const char *key)
{
    if (p == NULL || key == NULL)
        return NULL;
    /* Later entries win, as they do for duplicate JSON keys. */
    for (size_t i = p->count; i > 0; i--) {
        if (strcmp(p->items[i - 1].key, key) == 0)
            return &p->items[i - 1];
    }
    return NULL;
}

void tc__params_cleanup(tc__params *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->count; i++) {
        tc__free(p->items[i].key);
        if (p->items[i].type == TC__PARAM_STRING)
            tc__free(p->items[i].v.s);
    }
    tc__free(p->items);
    p->items = NULL;
    p->count = 0;
}

static void shm_ref_cleanup(tc__shm_ref *s)
{
    tc__free(s->region);
    s->region = NULL;
    s->offset = 0;
    s->byte_size = 0;
}

void tc__tensor_cleanup(tc__tensor *t)
{
    if (t == NULL)
        return;
    tc__free(t->name);
    tc__free(t->shape);
    tc__free(t->owned);
    shm_ref_cleanup(&t->shm);
    tc__params_cleanup(&t->params);
    memset(t, 0, sizeof *t);
}

void tc__requested_output_cleanup(tc__requested_output *o)
{
    if (o == NULL)
        return;
    tc__free(o->name);
    shm_ref_cleanup(&o->shm);
    tc__params_cleanup(&o->params);
    memset(o, 0, sizeof *o);
    o->binary = -1;
}

void tc__infer_request_cleanup(tc__infer_request *r)
{
    if (r == NULL)
        return;
    tc__free(r->model_name);
    tc__free(r->model_version);
    tc__free(r->id);
    for (size_t i = 0; i < r->input_count; i++)
        tc__tensor_cleanup(&r->inputs[i]);
    tc__free(r->inputs);
    for (size_t i = 0; i < r->output_count; i++)
        tc__requested_output_cleanup(&r->outputs[i]);
    tc__free(r->outputs);
    tc__free(r->sequence_id_str);
    tc__params_cleanup(&r->params);
    memset(r, 0, sizeof *r);
    r->binary_data_output = -1;
}

void tc__infer_response_cleanup(tc__infer_response *r)
{
    if (r == NULL)
        return;
    tc__free(r->model_name);
    tc__free(r->model_version);
    tc__free(r->id);
    for (size_t i = 0; i < r->output_count; i++)
        tc__tensor_cleanup(&r->outputs[i]);
    tc__free(r->outputs);
    tc__params_cleanup(&r->params);
    memset(r, 0, sizeof *r);
}

static void tensor_metas_free(tc__tensor_meta *m, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        tc__free(m[i].name);
        tc__free(m[i].shape);
    }
    tc__free(m);
}

static void strings_free(char **s, size_t count)
{
    for (size_t i = 0; i < count; i++)
        tc__free(s[i]);
    tc__free(s);
}

void tc__server_metadata_cleanup(tc__server_metadata *m)
{
    if (m == NULL)
        return;
    tc__free(m->name);
    tc__free(m->version);
    strings_free(m->extensions, m->extension_count);
    memset(m, 0, sizeof *m);
}

void tc__model_metadata_cleanup(tc__model_metadata *m)
{
    if (m == NULL)
        return;
    tc__free(m->name);
    strings_free(m->versions, m->version_count);
    tc__free(m->platform);
    tensor_metas_free(m->inputs, m->input_count);
    tensor_metas_free(m->outputs, m->output_count);
    memset(m, 0, sizeof *m);
}

void tc__repo_index_cleanup(tc__repo_index *idx)
{
    if (idx == NULL)
        return;
    for (size_t i = 0; i < idx->count; i++) {
        tc__free(idx->entries[i].name);
        tc__free(idx->entries[i].version);
        tc__free(idx->entries[i].state);
        tc__free(idx->entries[i].reason);
    }
    tc__free(idx->entries);
    memset(idx, 0, sizeof *idx);
}
