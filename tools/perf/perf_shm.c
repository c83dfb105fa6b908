/* Shared-memory mode of tritonc-perf (see perf_shm.h). */
#include "perf_shm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perf_util.h"

/* Step data inside an input region starts on this boundary. */
#define STEP_ALIGN 64u

typedef struct region {
    char name[96]; /* registered name; the system key is "/" + name */
    size_t byte_size;
    tc_shm_region *sys;
    tc_cuda_shm_region *cuda;
    bool registered;
} region;

typedef struct slot_reqs {
    tc_request **reqs; /* one per data step */
    size_t next;
} slot_reqs;

struct perf_shm_set {
    bool cuda;
    size_t nslots;
    size_t nsteps;
    size_t per_slot; /* regions per slot: inputs, then outputs */
    region *regions; /* nslots * per_slot */
    slot_reqs *slots;
    size_t *offsets; /* nsteps * ninputs: where step s of input i starts */
    size_t *sizes;   /* nsteps * ninputs: its byte size (all batch copies) */
};

void perf_shm_prefix(char *buf, size_t len)
{
    (void)snprintf(buf, len, "tcperf_%ld_", (long)getpid());
}

static uint32_t copies(const perf_load_config *cfg)
{
    return cfg->batching ? cfg->opts->batch : 1;
}

/* Offsets of each step's data inside every input region; the region sizes. */
static bool layout(perf_shm_set *s, const perf_load_config *cfg, size_t *input_sizes, char *err,
                   size_t errlen)
{
    size_t ni = cfg->ninputs;
    s->offsets = perf_calloc(s->nsteps * (ni ? ni : 1), sizeof *s->offsets);
    s->sizes = perf_calloc(s->nsteps * (ni ? ni : 1), sizeof *s->sizes);
    if (s->offsets == NULL || s->sizes == NULL) {
        (void)snprintf(err, errlen, "out of memory");
        return false;
    }
    for (size_t i = 0; i < ni; i++) {
        size_t off = 0;
        for (size_t st = 0; st < s->nsteps; st++) {
            const perf_tensor *t = perf_dataset_tensor(cfg->data, st, i);
            size_t bytes = t->byte_size * copies(cfg);
            s->offsets[st * ni + i] = off;
            s->sizes[st * ni + i] = bytes;
            off += (bytes + STEP_ALIGN - 1) / STEP_ALIGN * STEP_ALIGN;
        }
        input_sizes[i] = off > 0 ? off : STEP_ALIGN;
    }
    return true;
}

static bool region_write(region *r, bool cuda, size_t off, const void *data, size_t n)
{
    if (n == 0)
        return true;
    tc_code rc = cuda ? tc_cuda_shm_region_write(r->cuda, off, data, n)
                      : tc_shm_region_write(r->sys, off, data, n);
    return rc == TC_OK;
}

/* Create, fill (inputs) and register one region. */
static bool region_make(perf_shm_set *s, region *r, const perf_load_config *cfg, long input,
                        tc_client *client, char *err, size_t errlen)
{
    tc_code rc;
    if (s->cuda) {
        rc = tc_cuda_shm_region_new(&r->cuda, r->byte_size, 0);
        if (rc != TC_OK) {
            (void)snprintf(err, errlen,
                           "--shared-memory cuda: cannot allocate a CUDA buffer: %s%s%s",
                           rc == TC_E_NOT_SUPPORTED ? "CUDA is not available (no CUDA runtime "
                                                      "or no device)"
                                                    : tc_code_str(rc),
                           tc_shm_last_error()[0] != '\0' ? ": " : "", tc_shm_last_error());
            return false;
        }
    } else {
        char key[128];
        (void)snprintf(key, sizeof key, "/%s", r->name);
        rc = tc_shm_region_new(&r->sys, key, r->byte_size);
        if (rc != TC_OK) {
            (void)snprintf(err, errlen, "cannot create shared memory '%s': %s: %s", key,
                           tc_code_str(rc), tc_shm_last_error());
            return false;
        }
    }
    if (input >= 0) {
        size_t i = (size_t)input;
        for (size_t st = 0; st < s->nsteps; st++) {
            const perf_tensor *t = perf_dataset_tensor(cfg->data, st, i);
            size_t off = s->offsets[st * cfg->ninputs + i];
            for (uint32_t b = 0; b < copies(cfg); b++) {
                if (!region_write(r, s->cuda, off + b * t->byte_size, t->data, t->byte_size)) {
                    (void)snprintf(err, errlen, "cannot write region '%s': %s", r->name,
                                   tc_shm_last_error());
                    return false;
                }
            }
        }
    }
    if (s->cuda) {
        uint8_t handle[TC_CUDA_IPC_HANDLE_SIZE];
        rc = tc_cuda_shm_region_ipc_handle(r->cuda, handle);
        if (rc == TC_OK)
            rc = tc_client_cuda_shm_register(client, r->name, handle,
                                             tc_cuda_shm_region_device_id(r->cuda), r->byte_size,
                                             NULL);
    } else {
        char key[128];
        (void)snprintf(key, sizeof key, "/%s", r->name);
        rc = tc_client_system_shm_register(client, r->name, key, 0, r->byte_size, NULL);
    }
    if (rc != TC_OK) {
        (void)snprintf(err, errlen, "cannot register shared memory region '%s': %s: %s", r->name,
                       tc_code_str(rc), tc_client_last_error(client));
        return false;
    }
    r->registered = true;
    return true;
}

/* The request of data step `st` for the slot whose regions start at `rg`. */
static tc_code build_request(const perf_shm_set *s, const perf_load_config *cfg, const region *rg,
                             size_t st, tc_request **out)
{
    tc_request *req = NULL;
    tc_code rc = tc_request_new(&req, cfg->opts->model);
    if (rc == TC_OK && cfg->opts->version[0] != '\0')
        rc = tc_request_set_model_version(req, cfg->opts->version);
    for (size_t i = 0; rc == TC_OK && i < cfg->ninputs; i++) {
        const perf_input_info *in = &cfg->inputs[i];
        const perf_tensor *t = perf_dataset_tensor(cfg->data, st, i);
        int64_t shape[PERF_MAX_DIMS + 1];
        size_t ndim = 0;
        if (cfg->batching)
            shape[ndim++] = (int64_t)cfg->opts->batch;
        for (size_t d = 0; d < t->ndim; d++)
            shape[ndim++] = t->shape[d];
        rc = tc_request_add_input(req, in->name, in->dtype, shape, ndim);
        if (rc == TC_OK)
            rc = tc_request_input_set_shm(req, in->name, rg[i].name,
                                          s->sizes[st * cfg->ninputs + i],
                                          s->offsets[st * cfg->ninputs + i]);
    }
    for (size_t o = 0; rc == TC_OK && o < cfg->noutputs; o++) {
        const region *r = &rg[cfg->ninputs + o];
        rc = tc_request_add_output(req, cfg->outputs[o]);
        if (rc == TC_OK)
            rc = tc_request_output_set_shm(req, cfg->outputs[o], r->name, r->byte_size, 0);
    }
    if (rc != TC_OK) {
        tc_request_free(req);
        req = NULL;
    }
    *out = req;
    return rc;
}

bool perf_shm_new(perf_shm_set **out, const perf_load_config *cfg, size_t nslots, tc_client *client,
                  char *err, size_t errlen)
{
    *out = NULL;
    perf_shm_set *s = perf_calloc(1, sizeof *s);
    size_t *input_sizes = perf_calloc(cfg->ninputs ? cfg->ninputs : 1, sizeof *input_sizes);
    bool ok = s != NULL && input_sizes != NULL;
    if (!ok)
        (void)snprintf(err, errlen, "out of memory");
    if (ok) {
        s->cuda = cfg->opts->shared_memory == PERF_SHM_CUDA;
        s->nslots = nslots;
        s->nsteps = cfg->data->nsteps;
        s->per_slot = cfg->ninputs + cfg->noutputs;
        ok = layout(s, cfg, input_sizes, err, errlen);
    }
    if (ok && s->cuda) {
        int count = 0;
        tc_code rc = tc_cuda_device_count(&count);
        if (rc != TC_OK || count <= 0) {
            (void)snprintf(err, errlen,
                           "--shared-memory cuda needs a CUDA device, and CUDA is not available "
                           "here (%s%s%s)",
                           tc_code_str(rc != TC_OK ? rc : TC_E_NOT_SUPPORTED),
                           tc_shm_last_error()[0] != '\0' ? ": " : "", tc_shm_last_error());
            ok = false;
        }
    }
    if (ok) {
        s->regions = perf_calloc(nslots * (s->per_slot ? s->per_slot : 1), sizeof *s->regions);
        s->slots = perf_calloc(nslots, sizeof *s->slots);
        ok = s->regions != NULL && s->slots != NULL;
        if (!ok)
            (void)snprintf(err, errlen, "out of memory");
    }
    char prefix[48];
    perf_shm_prefix(prefix, sizeof prefix);
    for (size_t sl = 0; ok && sl < nslots; sl++) {
        region *rg = &s->regions[sl * s->per_slot];
        for (size_t k = 0; ok && k < s->per_slot; k++) {
            bool input = k < cfg->ninputs;
            region *r = &rg[k];
            (void)snprintf(r->name, sizeof r->name, "%s%zu_%s%zu", prefix, sl,
                           input ? "in" : "out", input ? k : k - cfg->ninputs);
            r->byte_size = input ? input_sizes[k] : (size_t)cfg->opts->output_shm_size;
            ok = region_make(s, r, cfg, input ? (long)k : -1, client, err, errlen);
        }
        s->slots[sl].reqs = ok ? perf_calloc(s->nsteps, sizeof(tc_request *)) : NULL;
        if (ok && s->slots[sl].reqs == NULL) {
            (void)snprintf(err, errlen, "out of memory");
            ok = false;
        }
        for (size_t st = 0; ok && st < s->nsteps; st++) {
            tc_code rc = build_request(s, cfg, rg, st, &s->slots[sl].reqs[st]);
            if (rc != TC_OK) {
                (void)snprintf(err, errlen, "cannot build the request: %s", tc_code_str(rc));
                ok = false;
            }
        }
    }
    free(input_sizes);
    if (!ok) {
        perf_shm_free(s, client);
        return false;
    }
    *out = s;
    return true;
}

tc_request *perf_shm_next_request(perf_shm_set *shm, size_t slot)
{
    slot_reqs *sr = &shm->slots[slot];
    tc_request *req = sr->reqs[sr->next];
    sr->next = (sr->next + 1) % shm->nsteps;
    return req;
}

void perf_shm_free(perf_shm_set *shm, tc_client *client)
{
    if (shm == NULL)
        return;
    for (size_t sl = 0; shm->slots != NULL && sl < shm->nslots; sl++) {
        for (size_t st = 0; shm->slots[sl].reqs != NULL && st < shm->nsteps; st++)
            tc_request_free(shm->slots[sl].reqs[st]);
        free(shm->slots[sl].reqs);
    }
    for (size_t i = 0; shm->regions != NULL && i < shm->nslots * shm->per_slot; i++) {
        region *r = &shm->regions[i];
        if (r->registered && client != NULL) {
            if (shm->cuda)
                (void)tc_client_cuda_shm_unregister(client, r->name, NULL);
            else
                (void)tc_client_system_shm_unregister(client, r->name, NULL);
        }
        (void)tc_shm_region_destroy(r->sys);
        tc_cuda_shm_region_free(r->cuda);
    }
    free(shm->regions);
    free(shm->slots);
    free(shm->offsets);
    free(shm->sizes);
    free(shm);
}
