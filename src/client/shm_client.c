/* The transport-neutral shared-memory client calls (argument checks and
 * dispatch through the vtable), the status list, and marking the outputs a
 * request sent to shared memory on its result. */
#include "client/client_internal.h"
#include "client/request_internal.h"
#include "client/result_internal.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

/* ---- status list ---------------------------------------------------------- */

tc_code tc__shm_status_add(tc_shm_status *s, const char *name, const char *key, uint64_t offset,
                           uint64_t byte_size, int64_t device_id)
{
    tc__shm_entry e = {tc__strdup(name != NULL ? name : ""), tc__strdup(key != NULL ? key : ""),
                       offset, byte_size, device_id};
    tc__shm_entry *items = NULL;
    if (e.name != NULL && e.key != NULL)
        items = tc__reallocarray(s->items, s->count + 1, sizeof *items);
    if (items == NULL) {
        tc__free(e.name);
        tc__free(e.key);
        return TC_E_NOMEM;
    }
    items[s->count++] = e;
    s->items = items;
    return TC_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const tc__shm_entry *)a)->name, ((const tc__shm_entry *)b)->name);
}

void tc__shm_status_sort(tc_shm_status *s)
{
    if (s->count > 1)
        qsort(s->items, s->count, sizeof s->items[0], by_name);
}

void tc_shm_status_free(tc_shm_status *status)
{
    if (status == NULL)
        return;
    for (size_t i = 0; i < status->count; i++) {
        tc__free(status->items[i].name);
        tc__free(status->items[i].key);
    }
    tc__free(status->items);
    tc__free(status);
}

size_t tc_shm_status_count(const tc_shm_status *status)
{
    return status != NULL ? status->count : 0;
}

static const tc__shm_entry *entry(const tc_shm_status *s, size_t i)
{
    return s != NULL && i < s->count ? &s->items[i] : NULL;
}

const char *tc_shm_status_name(const tc_shm_status *status, size_t i)
{
    const tc__shm_entry *e = entry(status, i);
    return e != NULL ? e->name : NULL;
}

const char *tc_shm_status_key(const tc_shm_status *status, size_t i)
{
    const tc__shm_entry *e = entry(status, i);
    return e != NULL ? e->key : "";
}

uint64_t tc_shm_status_offset(const tc_shm_status *status, size_t i)
{
    const tc__shm_entry *e = entry(status, i);
    return e != NULL ? e->offset : 0;
}

uint64_t tc_shm_status_byte_size(const tc_shm_status *status, size_t i)
{
    const tc__shm_entry *e = entry(status, i);
    return e != NULL ? e->byte_size : 0;
}

int64_t tc_shm_status_device_id(const tc_shm_status *status, size_t i)
{
    const tc__shm_entry *e = entry(status, i);
    return e != NULL ? e->device_id : -1;
}

/* ---- client calls ----------------------------------------------------------- */

static bool empty(const char *s)
{
    return s == NULL || s[0] == '\0';
}

static const tc__hlist *hl(const tc_headers *h)
{
    return h == NULL ? NULL : &h->list;
}

/* Common entry: reset the last error, check the transport has shm calls. */
static tc_code enter(tc_client *c)
{
    if (c == NULL)
        return TC_E_INVALID_ARG;
    tc__error_clear(&c->last);
    if (c->vt->shm_register == NULL || c->vt->shm_unregister == NULL || c->vt->shm_status == NULL)
        return tc__client_fail(c, TC_E_NOT_SUPPORTED, "this transport has no shared memory calls");
    return TC_OK;
}

static tc_code bad_arg(tc_client *c, const char *what)
{
    return tc__client_fail(c, TC_E_INVALID_ARG, "invalid argument: %s", what);
}

tc_code tc_client_system_shm_register(tc_client *client, const char *name, const char *key,
                                      size_t offset, size_t byte_size, const tc_headers *headers)
{
    tc_code rc = enter(client);
    if (rc != TC_OK)
        return rc;
    if (empty(name) || empty(key))
        return bad_arg(client, "name or key is empty");
    tc__shm_reg reg = {name, key, (uint64_t)offset, (uint64_t)byte_size, NULL, -1};
    return client->vt->shm_register(client, TC__SHM_SYSTEM, &reg, hl(headers));
}

tc_code tc_client_cuda_shm_register(tc_client *client, const char *name,
                                    const uint8_t raw_handle[TC_CUDA_IPC_HANDLE_SIZE],
                                    int64_t device_id, size_t byte_size, const tc_headers *headers)
{
    tc_code rc = enter(client);
    if (rc != TC_OK)
        return rc;
    if (empty(name) || raw_handle == NULL || device_id < 0)
        return bad_arg(client, "name, raw_handle or device_id");
    tc__shm_reg reg = {name, NULL, 0, (uint64_t)byte_size, raw_handle, device_id};
    return client->vt->shm_register(client, TC__SHM_CUDA, &reg, hl(headers));
}

static tc_code unregister(tc_client *c, int kind, const char *name, const tc_headers *headers)
{
    tc_code rc = enter(c);
    if (rc != TC_OK)
        return rc;
    return c->vt->shm_unregister(c, kind, empty(name) ? NULL : name, hl(headers));
}

tc_code tc_client_system_shm_unregister(tc_client *client, const char *name,
                                        const tc_headers *headers)
{
    return unregister(client, TC__SHM_SYSTEM, name, headers);
}

tc_code tc_client_cuda_shm_unregister(tc_client *client, const char *name,
                                      const tc_headers *headers)
{
    return unregister(client, TC__SHM_CUDA, name, headers);
}

static tc_code status(tc_client *c, int kind, const char *name, const tc_headers *headers,
                      tc_shm_status **out)
{
    if (out != NULL)
        *out = NULL;
    tc_code rc = enter(c);
    if (rc != TC_OK)
        return rc;
    if (out == NULL)
        return bad_arg(c, "out is NULL");
    rc = c->vt->shm_status(c, kind, empty(name) ? NULL : name, hl(headers), out);
    if (rc == TC_OK)
        tc__shm_status_sort(*out);
    return rc;
}

tc_code tc_client_system_shm_status(tc_client *client, const char *name, const tc_headers *headers,
                                    tc_shm_status **out)
{
    return status(client, TC__SHM_SYSTEM, name, headers, out);
}

tc_code tc_client_cuda_shm_status(tc_client *client, const char *name, const tc_headers *headers,
                                  tc_shm_status **out)
{
    return status(client, TC__SHM_CUDA, name, headers, out);
}

/* ---- results of requests with outputs in shared memory ----------------------------- */

static bool has_shm_output(const tc__infer_request *req)
{
    for (size_t i = 0; i < req->output_count; i++) {
        if (req->outputs[i].shm.region != NULL)
            return true;
    }
    return false;
}

/* What an async call needs to mark its result: the user's callback and a
 * copy of the requested outputs' shm references. */
typedef struct shm_wrap {
    tc_infer_cb cb;
    void *user_data;
    tc__infer_request outs; /* only outputs/output_count are used */
} shm_wrap;

static void wrap_free(shm_wrap *w)
{
    for (size_t i = 0; i < w->outs.output_count; i++)
        tc__requested_output_cleanup(&w->outs.outputs[i]);
    tc__free(w->outs.outputs);
    tc__free(w);
}

static void wrapped_cb(tc_result *result, void *user_data)
{
    shm_wrap *w = user_data;
    tc_infer_cb cb = w->cb;
    void *ud = w->user_data;
    tc__result_note_shm(result, &w->outs);
    wrap_free(w);
    cb(result, ud);
}

static tc_code copy_outputs(const tc__infer_request *req, shm_wrap *w)
{
    w->outs.outputs = tc__calloc(req->output_count, sizeof *w->outs.outputs);
    if (w->outs.outputs == NULL)
        return TC_E_NOMEM;
    for (size_t i = 0; i < req->output_count; i++) {
        const tc__requested_output *o = &req->outputs[i];
        tc__requested_output *c = &w->outs.outputs[w->outs.output_count++];
        c->name = tc__strdup(o->name);
        c->shm = o->shm;
        c->shm.region = o->shm.region != NULL ? tc__strdup(o->shm.region) : NULL;
        if (c->name == NULL || (o->shm.region != NULL && c->shm.region == NULL))
            return TC_E_NOMEM;
    }
    return TC_OK;
}

tc_code tc__shm_async_wrap(const tc_request *req, tc_infer_cb *cb, void **user_data, void **wrap)
{
    *wrap = NULL;
    if (!has_shm_output(&req->base))
        return TC_OK;
    shm_wrap *w = tc__calloc(1, sizeof *w);
    if (w == NULL)
        return TC_E_NOMEM;
    if (copy_outputs(&req->base, w) != TC_OK) {
        wrap_free(w);
        return TC_E_NOMEM;
    }
    w->cb = *cb;
    w->user_data = *user_data;
    *cb = wrapped_cb;
    *user_data = w;
    *wrap = w;
    return TC_OK;
}

void tc__shm_async_unwrap(void *wrap)
{
    if (wrap != NULL)
        wrap_free(wrap);
}
