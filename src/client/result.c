/* tc_result: status and outputs of one inference call. */
#include "client/result_internal.h"

#include <stdint.h>
#include <string.h>

#include <tritonc/tensor.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/timeutil.h"
#include "proto/bytes.h"
#include "proto/v2_json.h"
#include "proto/v2_pb.h"

tc_result *tc__result_new(void)
{
    tc_result *r = tc__calloc(1, sizeof *r);
    if (r != NULL)
        r->status = TC_E_UNKNOWN;
    return r;
}

void tc__timers_mark(tc__timers *t, tc_timer_kind kind)
{
    if (t != NULL && (unsigned)kind < TC__TIMER_COUNT && t->ns[kind] == 0)
        t->ns[kind] = tc__now_ns();
}

void tc__timers_set(tc__timers *t, tc_timer_kind kind)
{
    if (t != NULL && (unsigned)kind < TC__TIMER_COUNT)
        t->ns[kind] = tc__now_ns();
}

void tc__result_finish_timers(tc_result *r, const tc__timers *t)
{
    if (r == NULL)
        return;
    if (t != NULL) {
        for (int i = 0; i < TC__TIMER_COUNT; i++)
            if (t->ns[i] != 0)
                r->timers.ns[i] = t->ns[i];
    }
    tc__timers_set(&r->timers, TC_TIMER_REQUEST_END);
    uint64_t last = 0;
    for (int i = 0; i < TC__TIMER_COUNT; i++) {
        if (r->timers.ns[i] == 0)
            continue;
        if (r->timers.ns[i] < last)
            r->timers.ns[i] = last;
        last = r->timers.ns[i];
    }
}

tc_code tc_result_timer_ns(const tc_result *result, tc_timer_kind kind, uint64_t *ns)
{
    if (ns != NULL)
        *ns = 0;
    if (result == NULL || ns == NULL || (unsigned)kind >= TC__TIMER_COUNT)
        return TC_E_INVALID_ARG;
    *ns = result->timers.ns[kind];
    return *ns != 0 ? TC_OK : TC_E_NOT_FOUND;
}

void tc__result_set_error(tc_result *r, tc_code code, long http_status, const char *msg)
{
    r->status = code;
    r->http_status = http_status;
    tc__free(r->message);
    r->message = (msg != NULL && msg[0] != '\0') ? tc__strdup(msg) : NULL;
    if (r->message == NULL && msg != NULL && msg[0] != '\0')
        r->status = code == TC_OK ? TC_E_NOMEM : code;
}

/* Output data handed to users must be safe to read as its element type.
 * Binary blobs follow a JSON header of any length, so a blob may start at
 * an odd address; move such a blob into its own allocation (tc__malloc
 * memory suits any type). Servers that pad their header (ours does) need
 * no copy. */
static tc_code align_outputs(tc__infer_response *resp)
{
    for (size_t i = 0; i < resp->output_count; i++) {
        tc__tensor *t = &resp->outputs[i];
        size_t elem = tc_dtype_size(t->dtype);
        if (t->data == NULL || t->owned != NULL || elem <= 1 ||
            (uintptr_t)t->data % elem == 0)
            continue;
        uint8_t *copy = tc__memdup(t->data, t->byte_size);
        if (copy == NULL)
            return TC_E_NOMEM;
        t->owned = copy;
        t->data = copy;
    }
    return TC_OK;
}

void tc__result_from_http(tc_result *r, long http_status, uint8_t *body, size_t len,
                          size_t header_len)
{
    tc__error err;
    tc__error_clear(&err);
    r->body = body;
    if (http_status < 200 || http_status >= 300) {
        tc_code code = tc__code_from_http_status(http_status);
        tc__v2_error_decode(body, len, code, &err);
        if (err.msg[0] == '\0')
            tc__error_set(&err, code, "HTTP status %ld", http_status);
        tc__result_set_error(r, code, http_status, err.msg);
        return;
    }
    tc_code rc = tc__v2_http_response_decode(body, len, header_len, &r->resp, &err);
    if (rc == TC_OK && align_outputs(&r->resp) != TC_OK) {
        tc__infer_response_cleanup(&r->resp);
        rc = tc__error_set(&err, TC_E_NOMEM, "out of memory aligning output data");
    }
    if (rc != TC_OK) {
        memset(&r->resp, 0, sizeof r->resp);
        tc__result_set_error(r, rc == TC_E_NOMEM ? TC_E_NOMEM : TC_E_PROTOCOL, http_status,
                             err.msg[0] != '\0' ? err.msg : "unparsable inference response");
        return;
    }
    tc__result_set_error(r, TC_OK, http_status, NULL);
}

void tc_result_free(tc_result *result)
{
    if (result == NULL)
        return;
    if (result->bytes != NULL) {
        for (size_t i = 0; i < result->resp.output_count; i++)
            tc__free(result->bytes[i].offsets);
        tc__free(result->bytes);
    }
    tc__infer_response_cleanup(&result->resp);
    tc__pb_backing_free(result->pb_backing);
    tc__free(result->body);
    tc__free(result->message);
    tc__free(result);
}

tc_code tc_result_status(const tc_result *result)
{
    return result == NULL ? TC_E_INVALID_ARG : result->status;
}

const char *tc_result_error_message(const tc_result *result)
{
    if (result == NULL)
        return "NULL result";
    return result->message != NULL ? result->message : "";
}

long tc_result_http_status(const tc_result *result)
{
    return result == NULL ? 0 : result->http_status;
}

static const char *or_empty(const char *s)
{
    return s != NULL ? s : "";
}

const char *tc_result_model_name(const tc_result *result)
{
    return result == NULL ? "" : or_empty(result->resp.model_name);
}

const char *tc_result_model_version(const tc_result *result)
{
    return result == NULL ? "" : or_empty(result->resp.model_version);
}

const char *tc_result_id(const tc_result *result)
{
    return result == NULL ? "" : or_empty(result->resp.id);
}

size_t tc_result_output_count(const tc_result *result)
{
    return result == NULL ? 0 : result->resp.output_count;
}

const char *tc_result_output_name(const tc_result *result, size_t index)
{
    if (result == NULL || index >= result->resp.output_count)
        return NULL;
    return result->resp.outputs[index].name;
}

static tc_code find(const tc_result *r, const char *name, size_t *index)
{
    if (r == NULL || name == NULL)
        return TC_E_INVALID_ARG;
    for (size_t i = 0; i < r->resp.output_count; i++) {
        if (r->resp.outputs[i].name != NULL && strcmp(r->resp.outputs[i].name, name) == 0) {
            *index = i;
            return TC_OK;
        }
    }
    return TC_E_NOT_FOUND;
}

tc_code tc_result_output_dtype(const tc_result *result, const char *name, tc_dtype *dtype)
{
    size_t i;
    if (dtype == NULL)
        return TC_E_INVALID_ARG;
    tc_code rc = find(result, name, &i);
    if (rc == TC_OK)
        *dtype = result->resp.outputs[i].dtype;
    return rc;
}

tc_code tc_result_output_shape(const tc_result *result, const char *name, const int64_t **shape,
                               size_t *ndim)
{
    size_t i;
    if (shape == NULL || ndim == NULL)
        return TC_E_INVALID_ARG;
    tc_code rc = find(result, name, &i);
    if (rc == TC_OK) {
        *shape = result->resp.outputs[i].shape;
        *ndim = result->resp.outputs[i].ndim;
    }
    return rc;
}

tc_code tc_result_output_data(const tc_result *result, const char *name, const uint8_t **data,
                              size_t *byte_size)
{
    size_t i;
    if (data == NULL || byte_size == NULL)
        return TC_E_INVALID_ARG;
    tc_code rc = find(result, name, &i);
    if (rc == TC_OK) {
        *data = result->resp.outputs[i].data;
        *byte_size = result->resp.outputs[i].byte_size;
    }
    return rc;
}

/* Build the element offsets of output `i` once. */
static tc_code bytes_index(tc_result *r, size_t i, tc__bytes_index **out)
{
    const tc__tensor *t = &r->resp.outputs[i];
    if (t->dtype != TC_DTYPE_BYTES)
        return TC_E_INVALID_ARG;
    if (r->bytes == NULL) {
        r->bytes = tc__calloc(r->resp.output_count, sizeof *r->bytes);
        if (r->bytes == NULL)
            return TC_E_NOMEM;
    }
    tc__bytes_index *bi = &r->bytes[i];
    *out = bi;
    if (bi->built)
        return TC_OK;
    size_t count;
    if (tc__bytes_count(t->data, t->byte_size, &count) != TC_OK)
        return TC_E_PROTOCOL;
    size_t *offsets = tc__calloc(count + 1, sizeof *offsets);
    if (offsets == NULL)
        return TC_E_NOMEM;
    size_t pos = 0;
    for (size_t k = 0; k < count; k++) {
        const uint8_t *elem;
        size_t len;
        offsets[k] = pos;
        if (tc__bytes_next(t->data, t->byte_size, &pos, &elem, &len) != TC_OK) {
            tc__free(offsets);
            return TC_E_PROTOCOL;
        }
    }
    offsets[count] = pos;
    bi->offsets = offsets;
    bi->count = count;
    bi->built = true;
    return TC_OK;
}

tc_code tc_result_output_bytes_count(tc_result *result, const char *name, size_t *count)
{
    size_t i;
    tc__bytes_index *bi;
    if (count == NULL)
        return TC_E_INVALID_ARG;
    tc_code rc = find(result, name, &i);
    if (rc == TC_OK)
        rc = bytes_index(result, i, &bi);
    if (rc == TC_OK)
        *count = bi->count;
    return rc;
}

tc_code tc_result_output_bytes_element(tc_result *result, const char *name, size_t index,
                                       const uint8_t **elem, size_t *len)
{
    size_t i;
    tc__bytes_index *bi;
    if (elem == NULL || len == NULL)
        return TC_E_INVALID_ARG;
    tc_code rc = find(result, name, &i);
    if (rc == TC_OK)
        rc = bytes_index(result, i, &bi);
    if (rc != TC_OK)
        return rc;
    if (index >= bi->count)
        return TC_E_INVALID_ARG;
    size_t start = bi->offsets[index] + 4;
    *elem = result->resp.outputs[i].data + start;
    *len = bi->offsets[index + 1] - start;
    return TC_OK;
}

/* ---- outputs written to shared memory ------------------------------------------- */

/* A numeric output parameter as an unsigned value (0 when absent or negative). */
static uint64_t param_u64(const tc__params *p, const char *key)
{
    const tc__param *v = tc__params_find(p, key);
    if (v == NULL)
        return 0;
    switch (v->type) {
    case TC__PARAM_INT64:
        return v->v.i64 > 0 ? (uint64_t)v->v.i64 : 0;
    case TC__PARAM_UINT64:
        return v->v.u64;
    case TC__PARAM_DOUBLE:
        return v->v.d > 0 && v->v.d < 18446744073709551616.0 ? (uint64_t)v->v.d : 0;
    default:
        return 0;
    }
}

/* The shm reference of output `t`: the server's parameters, else the
 * request's (set by tc__result_note_shm). false when not in shared memory. */
static bool output_shm(const tc__tensor *t, const char **region, uint64_t *byte_size,
                       uint64_t *offset)
{
    const tc__param *r = tc__params_find(&t->params, "shared_memory_region");
    if (r != NULL && r->type == TC__PARAM_STRING) {
        *region = r->v.s;
        *byte_size = param_u64(&t->params, "shared_memory_byte_size");
        *offset = param_u64(&t->params, "shared_memory_offset");
        return true;
    }
    if (t->shm.region == NULL)
        return false;
    *region = t->shm.region;
    *byte_size = t->shm.byte_size;
    *offset = t->shm.offset;
    return true;
}

void tc__result_note_shm(tc_result *r, const tc__infer_request *req)
{
    if (r == NULL || r->status != TC_OK)
        return;
    for (size_t k = 0; k < req->output_count; k++) {
        const tc__requested_output *o = &req->outputs[k];
        size_t i;
        if (o->shm.region == NULL || find(r, o->name, &i) != TC_OK)
            continue;
        tc__tensor *t = &r->resp.outputs[i];
        const char *region;
        uint64_t size;
        uint64_t off;
        if (output_shm(t, &region, &size, &off))
            continue;
        t->shm.region = tc__strdup(o->shm.region);
        t->shm.byte_size = o->shm.byte_size;
        t->shm.offset = o->shm.offset;
    }
}

tc_code tc_result_output_is_shm(const tc_result *result, const char *name, bool *is_shm)
{
    size_t i;
    if (is_shm == NULL)
        return TC_E_INVALID_ARG;
    tc_code rc = find(result, name, &i);
    if (rc != TC_OK)
        return rc;
    const char *region;
    uint64_t size;
    uint64_t off;
    *is_shm = output_shm(&result->resp.outputs[i], &region, &size, &off);
    return TC_OK;
}

tc_code tc_result_output_shm(const tc_result *result, const char *name, const char **region_name,
                             size_t *byte_size, size_t *offset)
{
    size_t i;
    tc_code rc = find(result, name, &i);
    if (rc != TC_OK)
        return rc;
    const char *region;
    uint64_t size;
    uint64_t off;
    if (!output_shm(&result->resp.outputs[i], &region, &size, &off) || size > SIZE_MAX ||
        off > SIZE_MAX)
        return TC_E_INVALID_ARG;
    if (region_name != NULL)
        *region_name = region;
    if (byte_size != NULL)
        *byte_size = (size_t)size;
    if (offset != NULL)
        *offset = (size_t)off;
    return TC_OK;
}
