/* tc_request: building and reusing inference requests. */
#include "client/request_internal.h"

#include <tritonc/grpc.h>

#include <string.h>

#include "common/alloc.h"

#define SEQUENCE_ID_MAX 128

tc_code tc_request_new(tc_request **out, const char *model_name)
{
    if (out == NULL)
        return TC_E_INVALID_ARG;
    *out = NULL;
    if (model_name == NULL || model_name[0] == '\0')
        return TC_E_INVALID_ARG;
    tc_request *req = tc__calloc(1, sizeof *req);
    if (req == NULL)
        return TC_E_NOMEM;
    req->base.model_name = tc__strdup(model_name);
    if (req->base.model_name == NULL) {
        tc__free(req);
        return TC_E_NOMEM;
    }
    req->base.binary_data_output = -1;
    req->binary_outputs = true;
    *out = req;
    return TC_OK;
}

static void input_data_cleanup(tc__input_data *d)
{
    for (size_t i = 0; i < d->count; i++)
        tc__free(d->chunks[i].owned);
    tc__free(d->chunks);
    memset(d, 0, sizeof *d);
}

void tc_request_free(tc_request *req)
{
    if (req == NULL)
        return;
    for (size_t i = 0; i < req->base.input_count; i++)
        input_data_cleanup(&req->data[i]);
    tc__free(req->data);
    tc__infer_request_cleanup(&req->base);
    tc__hlist_cleanup(&req->headers);
    tc__free(req);
}

/* Replace *slot with a copy of `s` (NULL or "" store NULL). */
static tc_code replace_str(char **slot, const char *s)
{
    char *copy = NULL;
    if (s != NULL && s[0] != '\0') {
        copy = tc__strdup(s);
        if (copy == NULL)
            return TC_E_NOMEM;
    }
    tc__free(*slot);
    *slot = copy;
    return TC_OK;
}

tc_code tc_request_set_model_name(tc_request *req, const char *model_name)
{
    if (req == NULL || model_name == NULL || model_name[0] == '\0')
        return TC_E_INVALID_ARG;
    return replace_str(&req->base.model_name, model_name);
}

tc_code tc_request_set_model_version(tc_request *req, const char *version)
{
    if (req == NULL)
        return TC_E_INVALID_ARG;
    for (const char *p = version; p != NULL && *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return TC_E_INVALID_ARG;
    }
    return replace_str(&req->base.model_version, version);
}

tc_code tc_request_set_id(tc_request *req, const char *id)
{
    if (req == NULL)
        return TC_E_INVALID_ARG;
    return replace_str(&req->base.id, id);
}

tc_code tc_request_set_sequence_id(tc_request *req, uint64_t sequence_id)
{
    if (req == NULL)
        return TC_E_INVALID_ARG;
    tc__free(req->base.sequence_id_str);
    req->base.sequence_id_str = NULL;
    req->base.sequence_id = sequence_id;
    return TC_OK;
}

tc_code tc_request_set_sequence_id_str(tc_request *req, const char *sequence_id)
{
    if (req == NULL)
        return TC_E_INVALID_ARG;
    if (sequence_id != NULL && strlen(sequence_id) > SEQUENCE_ID_MAX)
        return TC_E_INVALID_ARG;
    tc_code rc = replace_str(&req->base.sequence_id_str, sequence_id);
    if (rc == TC_OK)
        req->base.sequence_id = 0;
    return rc;
}

tc_code tc_request_set_sequence_flags(tc_request *req, bool start, bool end)
{
    if (req == NULL)
        return TC_E_INVALID_ARG;
    req->base.sequence_start = start;
    req->base.sequence_end = end;
    return TC_OK;
}

tc_code tc_request_set_priority(tc_request *req, uint64_t priority)
{
    if (req == NULL)
        return TC_E_INVALID_ARG;
    req->base.priority = priority;
    return TC_OK;
}

tc_code tc_request_set_timeout_us(tc_request *req, uint64_t timeout_us)
{
    if (req == NULL)
        return TC_E_INVALID_ARG;
    req->base.timeout_us = timeout_us;
    return TC_OK;
}

tc_code tc_request_set_client_timeout_us(tc_request *req, uint64_t timeout_us)
{
    if (req == NULL)
        return TC_E_INVALID_ARG;
    req->client_timeout_us = timeout_us;
    return TC_OK;
}

/* ---- custom parameters --------------------------------------------------- */

static bool reserved_key(const char *key)
{
    static const char *const k_reserved[] = {"sequence_id",       "sequence_start", "sequence_end",
                                             "priority",          "timeout",        "headers",
                                             "binary_data_output"};
    if (strncmp(key, "triton_", 7) == 0)
        return true;
    for (size_t i = 0; i < sizeof k_reserved / sizeof k_reserved[0]; i++) {
        if (strcmp(key, k_reserved[i]) == 0)
            return true;
    }
    return false;
}

static void param_free(tc__param *p)
{
    if (p->type == TC__PARAM_STRING)
        tc__free(p->v.s);
    tc__free(p->key);
}

/* Validate `key` and drop any parameter already stored under it. */
static tc_code param_prepare(tc_request *req, const char *key)
{
    if (req == NULL || key == NULL || key[0] == '\0' || reserved_key(key))
        return TC_E_INVALID_ARG;
    tc__params *ps = &req->base.params;
    for (size_t i = 0; i < ps->count; i++) {
        if (strcmp(ps->items[i].key, key) == 0) {
            param_free(&ps->items[i]);
            memmove(&ps->items[i], &ps->items[i + 1], (ps->count - i - 1) * sizeof ps->items[0]);
            ps->count--;
            break;
        }
    }
    return TC_OK;
}

tc_code tc_request_set_parameter_string(tc_request *req, const char *key, const char *value)
{
    if (value == NULL)
        return TC_E_INVALID_ARG;
    tc_code rc = param_prepare(req, key);
    if (rc != TC_OK)
        return rc;
    return tc__params_add_string(&req->base.params, key, value);
}

tc_code tc_request_set_parameter_int(tc_request *req, const char *key, int64_t value)
{
    tc_code rc = param_prepare(req, key);
    if (rc != TC_OK)
        return rc;
    return tc__params_add_int64(&req->base.params, key, value);
}

tc_code tc_request_set_parameter_bool(tc_request *req, const char *key, bool value)
{
    tc_code rc = param_prepare(req, key);
    if (rc != TC_OK)
        return rc;
    return tc__params_add_bool(&req->base.params, key, value);
}

tc_code tc_request_set_parameter_double(tc_request *req, const char *key, double value)
{
    tc_code rc = param_prepare(req, key);
    if (rc != TC_OK)
        return rc;
    return tc__params_add_double(&req->base.params, key, value);
}

tc_code tc_request_clear_parameters(tc_request *req)
{
    if (req == NULL)
        return TC_E_INVALID_ARG;
    tc__params_cleanup(&req->base.params);
    memset(&req->base.params, 0, sizeof req->base.params);
    return TC_OK;
}

tc_code tc_request_add_header(tc_request *req, const char *name, const char *value)
{
    if (req == NULL)
        return TC_E_INVALID_ARG;
    return tc__hlist_add(&req->headers, name, value);
}

/* ---- inputs ---------------------------------------------------------------- */

static tc_code find_input(const tc_request *req, const char *name, size_t *index)
{
    if (req == NULL || name == NULL)
        return TC_E_INVALID_ARG;
    for (size_t i = 0; i < req->base.input_count; i++) {
        if (strcmp(req->base.inputs[i].name, name) == 0) {
            *index = i;
            return TC_OK;
        }
    }
    return TC_E_NOT_FOUND;
}

static tc_code copy_shape(const int64_t *shape, size_t ndim, int64_t **out)
{
    *out = NULL;
    if (ndim > 0 && shape == NULL)
        return TC_E_INVALID_ARG;
    for (size_t i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return TC_E_INVALID_ARG;
    }
    if (ndim == 0)
        return TC_OK;
    *out = tc__memdup(shape, ndim * sizeof *shape);
    return *out == NULL ? TC_E_NOMEM : TC_OK;
}

tc_code tc_request_add_input(tc_request *req, const char *name, tc_dtype dtype,
                             const int64_t *shape, size_t ndim)
{
    size_t index;
    if (req == NULL || name == NULL || name[0] == '\0' || tc_dtype_name(dtype) == NULL)
        return TC_E_INVALID_ARG;
    if (find_input(req, name, &index) == TC_OK)
        return TC_E_ALREADY_EXISTS;
    tc__tensor t = {0};
    tc_code rc = copy_shape(shape, ndim, &t.shape);
    if (rc != TC_OK)
        return rc;
    t.name = tc__strdup(name);
    size_t n = req->base.input_count + 1;
    tc__tensor *inputs = tc__reallocarray(req->base.inputs, n, sizeof *inputs);
    if (inputs != NULL)
        req->base.inputs = inputs;
    tc__input_data *data = tc__reallocarray(req->data, n, sizeof *data);
    if (data != NULL)
        req->data = data;
    if (t.name == NULL || inputs == NULL || data == NULL) {
        tc__free(t.name);
        tc__free(t.shape);
        return TC_E_NOMEM;
    }
    t.dtype = dtype;
    t.ndim = ndim;
    t.binary = true;
    inputs[n - 1] = t;
    memset(&data[n - 1], 0, sizeof data[0]);
    req->base.input_count = n;
    return TC_OK;
}

tc_code tc_request_input_set_shape(tc_request *req, const char *name, const int64_t *shape,
                                   size_t ndim)
{
    size_t i;
    tc_code rc = find_input(req, name, &i);
    if (rc != TC_OK)
        return rc;
    int64_t *copy;
    rc = copy_shape(shape, ndim, &copy);
    if (rc != TC_OK)
        return rc;
    tc__free(req->base.inputs[i].shape);
    req->base.inputs[i].shape = copy;
    req->base.inputs[i].ndim = ndim;
    return TC_OK;
}

static tc_code push_chunk(tc__input_data *d, const tc__chunk *c)
{
    tc__chunk *chunks = tc__reallocarray(d->chunks, d->count + 1, sizeof *chunks);
    if (chunks == NULL)
        return TC_E_NOMEM;
    d->chunks = chunks;
    chunks[d->count++] = *c;
    d->byte_size += c->len;
    return TC_OK;
}

/* Drop a shared-memory reference (the tensor goes back to inline data). */
static void shm_clear(tc__shm_ref *s)
{
    tc__free(s->region);
    memset(s, 0, sizeof *s);
}

/* Replace a shared-memory reference with a copy of region/size/offset. */
static tc_code shm_set(tc__shm_ref *s, const char *region, size_t byte_size, size_t offset)
{
    char *copy = tc__strdup(region);
    if (copy == NULL)
        return TC_E_NOMEM;
    shm_clear(s);
    s->region = copy;
    s->byte_size = (uint64_t)byte_size;
    s->offset = (uint64_t)offset;
    return TC_OK;
}

tc_code tc_request_input_append(tc_request *req, const char *name, const void *data,
                                size_t byte_size, tc_ownership ownership)
{
    size_t i;
    tc_code rc = find_input(req, name, &i);
    if (rc != TC_OK)
        return rc;
    if (data == NULL && byte_size > 0)
        return TC_E_INVALID_ARG;
    if (ownership != TC_BORROW && ownership != TC_COPY)
        return TC_E_INVALID_ARG;
    shm_clear(&req->base.inputs[i].shm);
    if (byte_size == 0)
        return TC_OK;
    tc__chunk c = {data, byte_size, NULL, 0};
    if (ownership == TC_COPY) {
        c.owned = tc__memdup(data, byte_size);
        if (c.owned == NULL)
            return TC_E_NOMEM;
        c.data = c.owned;
        c.cap = byte_size;
    }
    rc = push_chunk(&req->data[i], &c);
    if (rc != TC_OK)
        tc__free(c.owned);
    return rc;
}

/* Make room for `extra` bytes at the end of an owned last chunk, adding a
 * new owned chunk when the last one is borrowed. */
static tc_code reserve_tail(tc__input_data *d, size_t extra)
{
    tc__chunk *last = d->count > 0 ? &d->chunks[d->count - 1] : NULL;
    if (last != NULL && last->owned != NULL) {
        if (last->cap - last->len >= extra)
            return TC_OK;
        size_t cap = last->cap * 2 > last->len + extra ? last->cap * 2 : last->len + extra;
        uint8_t *p = tc__realloc(last->owned, cap);
        if (p == NULL)
            return TC_E_NOMEM;
        last->owned = p;
        last->data = p;
        last->cap = cap;
        return TC_OK;
    }
    size_t cap = extra < 256 ? 256 : extra;
    tc__chunk c = {NULL, 0, tc__malloc(cap), cap};
    if (c.owned == NULL)
        return TC_E_NOMEM;
    c.data = c.owned;
    tc_code rc = push_chunk(d, &c);
    if (rc != TC_OK)
        tc__free(c.owned);
    return rc;
}

tc_code tc_request_input_append_bytes(tc_request *req, const char *name, const void *elem,
                                      size_t len)
{
    size_t i;
    tc_code rc = find_input(req, name, &i);
    if (rc != TC_OK)
        return rc;
    if (req->base.inputs[i].dtype != TC_DTYPE_BYTES || (elem == NULL && len > 0) ||
        len > UINT32_MAX || len > SIZE_MAX - 4)
        return TC_E_INVALID_ARG;
    shm_clear(&req->base.inputs[i].shm);
    tc__input_data *d = &req->data[i];
    rc = reserve_tail(d, len + 4);
    if (rc != TC_OK)
        return rc;
    tc__chunk *last = &d->chunks[d->count - 1];
    uint32_t n = (uint32_t)len;
    uint8_t prefix[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
    memcpy(last->owned + last->len, prefix, 4);
    if (len > 0)
        memcpy(last->owned + last->len + 4, elem, len);
    last->len += len + 4;
    d->byte_size += len + 4;
    return TC_OK;
}

tc_code tc_request_input_set_binary(tc_request *req, const char *name, bool binary)
{
    size_t i;
    tc_code rc = find_input(req, name, &i);
    if (rc == TC_OK)
        req->base.inputs[i].binary = binary;
    return rc;
}

tc_code tc_request_input_reset(tc_request *req, const char *name)
{
    size_t i;
    tc_code rc = find_input(req, name, &i);
    if (rc == TC_OK) {
        int typed = req->data[i].typed;
        input_data_cleanup(&req->data[i]);
        req->data[i].typed = typed;
        shm_clear(&req->base.inputs[i].shm);
    }
    return rc;
}

tc_code tc_request_input_set_shm(tc_request *req, const char *name, const char *region_name,
                                 size_t byte_size, size_t offset)
{
    size_t i;
    if (region_name == NULL || region_name[0] == '\0')
        return TC_E_INVALID_ARG;
    tc_code rc = find_input(req, name, &i);
    if (rc != TC_OK)
        return rc;
    rc = shm_set(&req->base.inputs[i].shm, region_name, byte_size, offset);
    if (rc == TC_OK) {
        int typed = req->data[i].typed;
        input_data_cleanup(&req->data[i]);
        req->data[i].typed = typed;
    }
    return rc;
}

tc_code tc_request_input_unset_shm(tc_request *req, const char *name)
{
    size_t i;
    tc_code rc = find_input(req, name, &i);
    if (rc == TC_OK)
        shm_clear(&req->base.inputs[i].shm);
    return rc;
}

tc_code tc_request_input_is_shm(const tc_request *req, const char *name, bool *is_shm)
{
    size_t i;
    if (is_shm == NULL)
        return TC_E_INVALID_ARG;
    tc_code rc = find_input(req, name, &i);
    if (rc == TC_OK)
        *is_shm = req->base.inputs[i].shm.region != NULL;
    return rc;
}

tc_code tc_request_input_set_typed_contents(tc_request *req, const char *name, bool typed)
{
    size_t i;
    tc_code rc = find_input(req, name, &i);
    if (rc == TC_OK)
        req->data[i].typed = typed ? TC__TYPED_TYPED : TC__TYPED_RAW;
    return rc;
}

tc_code tc_request_set_enable_empty_final_response(tc_request *req, bool enable)
{
    if (req == NULL)
        return TC_E_INVALID_ARG;
    req->base.enable_empty_final_response = enable;
    return TC_OK;
}

tc_code tc_request_remove_input(tc_request *req, const char *name)
{
    size_t i;
    tc_code rc = find_input(req, name, &i);
    if (rc != TC_OK)
        return rc;
    input_data_cleanup(&req->data[i]);
    tc__tensor_cleanup(&req->base.inputs[i]);
    size_t tail = req->base.input_count - i - 1;
    memmove(&req->base.inputs[i], &req->base.inputs[i + 1], tail * sizeof req->base.inputs[0]);
    memmove(&req->data[i], &req->data[i + 1], tail * sizeof req->data[0]);
    req->base.input_count--;
    return TC_OK;
}

tc_code tc_request_clear_inputs(tc_request *req)
{
    if (req == NULL)
        return TC_E_INVALID_ARG;
    while (req->base.input_count > 0) {
        size_t i = req->base.input_count - 1;
        input_data_cleanup(&req->data[i]);
        tc__tensor_cleanup(&req->base.inputs[i]);
        req->base.input_count = i;
    }
    return TC_OK;
}

size_t tc_request_input_count(const tc_request *req)
{
    return req == NULL ? 0 : req->base.input_count;
}

tc_code tc_request_input_byte_size(const tc_request *req, const char *name, size_t *byte_size)
{
    size_t i;
    if (byte_size == NULL)
        return TC_E_INVALID_ARG;
    tc_code rc = find_input(req, name, &i);
    if (rc == TC_OK)
        *byte_size = req->data[i].byte_size;
    return rc;
}

/* ---- requested outputs ----------------------------------------------------- */

static tc_code find_output(const tc_request *req, const char *name, size_t *index)
{
    if (req == NULL || name == NULL)
        return TC_E_INVALID_ARG;
    for (size_t i = 0; i < req->base.output_count; i++) {
        if (strcmp(req->base.outputs[i].name, name) == 0) {
            *index = i;
            return TC_OK;
        }
    }
    return TC_E_NOT_FOUND;
}

tc_code tc_request_add_output(tc_request *req, const char *name)
{
    size_t index;
    if (req == NULL || name == NULL || name[0] == '\0')
        return TC_E_INVALID_ARG;
    if (find_output(req, name, &index) == TC_OK)
        return TC_E_ALREADY_EXISTS;
    char *copy = tc__strdup(name);
    if (copy == NULL)
        return TC_E_NOMEM;
    size_t n = req->base.output_count + 1;
    tc__requested_output *outs = tc__reallocarray(req->base.outputs, n, sizeof *outs);
    if (outs == NULL) {
        tc__free(copy);
        return TC_E_NOMEM;
    }
    req->base.outputs = outs;
    memset(&outs[n - 1], 0, sizeof outs[0]);
    outs[n - 1].name = copy;
    outs[n - 1].binary = 1;
    req->base.output_count = n;
    return TC_OK;
}

tc_code tc_request_output_set_binary(tc_request *req, const char *name, bool binary)
{
    size_t i;
    tc_code rc = find_output(req, name, &i);
    if (rc == TC_OK)
        req->base.outputs[i].binary = binary ? 1 : 0;
    return rc;
}

tc_code tc_request_output_set_class_count(tc_request *req, const char *name, uint32_t class_count)
{
    size_t i;
    tc_code rc = find_output(req, name, &i);
    if (rc == TC_OK)
        req->base.outputs[i].class_count = class_count;
    return rc;
}

tc_code tc_request_output_set_shm(tc_request *req, const char *name, const char *region_name,
                                  size_t byte_size, size_t offset)
{
    size_t i;
    if (region_name == NULL || region_name[0] == '\0')
        return TC_E_INVALID_ARG;
    tc_code rc = find_output(req, name, &i);
    if (rc == TC_OK)
        rc = shm_set(&req->base.outputs[i].shm, region_name, byte_size, offset);
    return rc;
}

tc_code tc_request_output_unset_shm(tc_request *req, const char *name)
{
    size_t i;
    tc_code rc = find_output(req, name, &i);
    if (rc == TC_OK)
        shm_clear(&req->base.outputs[i].shm);
    return rc;
}

tc_code tc_request_remove_output(tc_request *req, const char *name)
{
    size_t i;
    tc_code rc = find_output(req, name, &i);
    if (rc != TC_OK)
        return rc;
    tc__requested_output_cleanup(&req->base.outputs[i]);
    size_t tail = req->base.output_count - i - 1;
    memmove(&req->base.outputs[i], &req->base.outputs[i + 1], tail * sizeof req->base.outputs[0]);
    req->base.output_count--;
    return TC_OK;
}

tc_code tc_request_clear_outputs(tc_request *req)
{
    if (req == NULL)
        return TC_E_INVALID_ARG;
    for (size_t i = 0; i < req->base.output_count; i++)
        tc__requested_output_cleanup(&req->base.outputs[i]);
    req->base.output_count = 0;
    return TC_OK;
}

tc_code tc_request_set_binary_outputs(tc_request *req, bool binary)
{
    if (req == NULL)
        return TC_E_INVALID_ARG;
    req->binary_outputs = binary;
    return TC_OK;
}
