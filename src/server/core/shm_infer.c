/* Inference through shared memory (HTTP.md 6.8, GRPC.md 5.5): resolve the
 * regions a request names before it is validated, hold them until it
 * completes, and write shm outputs into their regions after execution.
 *
 * System regions are zero-copy for inputs: the tensor the backend sees
 * points into the mapping. CUDA regions are staged through host copies
 * (the built-in backends run on the CPU). Every window is checked before
 * any byte of it is touched. Outputs are written after the backend has
 * returned, so an output window overlapping an input window is safe; a
 * backend may build an output directly in its window
 * (tc__backend_output_place) only when that window aliases no input. */
#include <string.h>

#include "common/alloc.h"
#include "core/internal.h"
#include "core/shm_registry.h"

typedef struct shm_out {
    const char *name; /* the requested output's (the frontend's request owns it) */
    tc__shm_region *region;
    uint64_t offset;
    uint64_t capacity;
    uint8_t *direct; /* host window the backend may fill in place, or NULL */
} shm_out;

struct tc__shm_binding {
    tc__infer_request req;       /* shallow copy of the frontend's request */
    tc__tensor *inputs;          /* req.inputs: shallow copies, shm inputs resolved */
    tc__shm_region **in_regions; /* per input: its region, or NULL */
    uint8_t **staged;            /* per input: host copy of a CUDA window, or NULL */
    shm_out *outs;
    size_t out_count;
};

static bool uses_shm(const tc__infer_request *req)
{
    for (size_t i = 0; i < req->input_count; i++) {
        if (req->inputs[i].shm.region != NULL)
            return true;
    }
    for (size_t i = 0; i < req->output_count; i++) {
        if (req->outputs[i].shm.region != NULL)
            return true;
    }
    return false;
}

void tc__shm_binding_free(tc__shm_binding *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->req.input_count; i++) {
        if (b->in_regions != NULL)
            tc__shm_region_release(b->in_regions[i]);
        if (b->staged != NULL)
            tc__free(b->staged[i]);
    }
    for (size_t i = 0; i < b->out_count; i++)
        tc__shm_region_release(b->outs[i].region);
    tc__free(b->inputs);
    tc__free(b->in_regions);
    tc__free(b->staged);
    tc__free(b->outs);
    tc__free(b);
}

/* Point input i of the copy at its window (system) or a host copy (CUDA). */
static tc_code bind_input(tc__core *core, tc__shm_binding *b, size_t i, tc__error *err)
{
    tc__tensor *t = &b->inputs[i];
    const tc__shm_ref ref = t->shm;
    tc__shm_region *r = tc__shm_acquire(core->shm, ref.region, err);
    if (r == NULL)
        return TC_E_NOT_FOUND;
    b->in_regions[i] = r;
    tc_code rc = tc__shm_region_check(r, ref.offset, ref.byte_size, err);
    if (rc != TC_OK)
        return rc;
    if (ref.byte_size > SIZE_MAX)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "Invalid offset + byte size for shared memory region: '%.200s'",
                             ref.region);
    size_t size = (size_t)ref.byte_size;
    if (tc__shm_region_is_cuda(r)) {
        b->staged[i] = tc__malloc(size > 0 ? size : 1);
        if (b->staged[i] == NULL)
            return tc__error_set(err, TC_E_NOMEM, "out of memory");
        rc = tc__shm_region_read(r, ref.offset, b->staged[i], size, err);
        if (rc != TC_OK)
            return rc;
        t->data = b->staged[i];
    } else {
        t->data = tc__shm_region_host(r, ref.offset);
    }
    t->byte_size = size;
    t->owned = NULL;
    /* From here on the tensor is like inline data: validation checks its
     * size against shape and datatype, BYTES prefixes within the window. */
    memset(&t->shm, 0, sizeof t->shm);
    return TC_OK;
}

/* Whether output window `o` shares bytes with any input window. */
static bool aliases_input(const tc__shm_binding *b, const tc__infer_request *req, const shm_out *o)
{
    for (size_t i = 0; i < req->input_count; i++) {
        const tc__shm_region *r = b->in_regions[i];
        if (r != NULL &&
            tc__shm_windows_alias(r, req->inputs[i].shm.offset, req->inputs[i].shm.byte_size,
                                  o->region, o->offset, o->capacity))
            return true;
    }
    return false;
}

static tc_code bind_output(tc__core *core, tc__shm_binding *b, const tc__infer_request *req,
                           const tc__requested_output *ro, tc__error *err)
{
    shm_out *o = &b->outs[b->out_count];
    o->name = ro->name;
    o->region = tc__shm_acquire(core->shm, ro->shm.region, err);
    if (o->region == NULL)
        return TC_E_NOT_FOUND;
    b->out_count++;
    o->offset = ro->shm.offset;
    o->capacity = ro->shm.byte_size;
    tc_code rc = tc__shm_region_check(o->region, o->offset, o->capacity, err);
    if (rc != TC_OK)
        return rc;
    if (!tc__shm_region_is_cuda(o->region) && !aliases_input(b, req, o))
        o->direct = tc__shm_region_host(o->region, o->offset);
    return TC_OK;
}

tc_code tc__shm_bind(tc__core *core, const tc__infer_request *req, tc__shm_binding **out,
                     tc__error *err)
{
    *out = NULL;
    if (!uses_shm(req))
        return TC_OK;
    tc__shm_binding *b = tc__calloc(1, sizeof *b);
    if (b == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    b->req = *req;
    size_t n = req->input_count > 0 ? req->input_count : 1;
    b->inputs = tc__memdup(req->inputs, req->input_count * sizeof *req->inputs);
    b->in_regions = tc__calloc(n, sizeof *b->in_regions);
    b->staged = tc__calloc(n, sizeof *b->staged);
    b->outs = tc__calloc(req->output_count > 0 ? req->output_count : 1, sizeof *b->outs);
    b->req.inputs = b->inputs;
    tc_code rc = TC_OK;
    if (b->inputs == NULL || b->in_regions == NULL || b->staged == NULL || b->outs == NULL)
        rc = tc__error_set(err, TC_E_NOMEM, "out of memory");
    for (size_t i = 0; rc == TC_OK && i < req->input_count; i++) {
        if (req->inputs[i].shm.region != NULL)
            rc = bind_input(core, b, i, err);
    }
    for (size_t i = 0; rc == TC_OK && i < req->output_count; i++) {
        if (req->outputs[i].shm.region != NULL)
            rc = bind_output(core, b, req, &req->outputs[i], err);
    }
    if (rc != TC_OK) {
        tc__shm_binding_free(b);
        return rc;
    }
    *out = b;
    return TC_OK;
}

const tc__infer_request *tc__shm_binding_request(const tc__shm_binding *b)
{
    return &b->req;
}

static const shm_out *find_out(const tc__shm_binding *b, const char *name)
{
    for (size_t i = 0; i < b->out_count; i++) {
        if (strcmp(b->outs[i].name, name) == 0)
            return &b->outs[i];
    }
    return NULL;
}

uint8_t *tc__shm_binding_place(const tc__shm_binding *b, const char *name, size_t byte_size)
{
    const shm_out *o = b != NULL ? find_out(b, name) : NULL;
    if (o == NULL || o->direct == NULL || (uint64_t)byte_size > o->capacity)
        return NULL;
    return o->direct;
}

tc_code tc__shm_binding_write(const tc__shm_binding *b, tc__infer_response *resp, tc__error *err)
{
    for (size_t i = 0; i < resp->output_count; i++) {
        tc__tensor *t = &resp->outputs[i];
        const shm_out *o = find_out(b, t->name);
        if (o == NULL)
            continue;
        if ((uint64_t)t->byte_size > o->capacity)
            return tc__error_set(err, TC_E_INTERNAL,
                                 "shared memory size specified with the request for output "
                                 "'%.200s' (%llu bytes) should be at least %zu bytes to hold the "
                                 "results",
                                 t->name, (unsigned long long)o->capacity, t->byte_size);
        bool placed = o->direct != NULL && t->owned == NULL && t->data == o->direct;
        if (!placed && t->byte_size > 0) {
            tc_code rc = tc__shm_region_write(o->region, o->offset, t->data, t->byte_size, err);
            if (rc != TC_OK)
                return rc;
        }
        char *region = tc__strdup(tc__shm_region_name(o->region));
        if (region == NULL)
            return tc__error_set(err, TC_E_NOMEM, "out of memory");
        tc__free(t->shm.region);
        t->shm.region = region;
        t->shm.offset = o->offset;
        t->shm.byte_size = t->byte_size;
        tc__free(t->owned);
        t->owned = NULL;
        t->data = NULL;
        t->byte_size = 0;
        t->binary = false;
    }
    return TC_OK;
}

uint8_t *tc__backend_output_place(const tc__backend_request *br, const char *name, size_t byte_size)
{
    const tc__job *job = br->core_data;
    return job != NULL ? tc__shm_binding_place(job->shm, name, byte_size) : NULL;
}
