/* Backend plugins (include/tritonc/backend.h): shared objects found by
 * backend name, loaded with dlopen and adapted to the internal vtable.
 *
 * A loaded plugin is a tc__backend of its own (`base`, first member, so the
 * core's `const tc__backend *` leads back to it) whose trampolines carry a
 * per-version state {plugin, the plugin's state, the model handle}. Plugins
 * are listed once per path and reference-counted: each model version using
 * one holds a reference, and the last release closes the library. The
 * public opaque types are the internal ones under another name:
 * tc_backend_request is a tc__backend_request, tc_backend_response a
 * tc__infer_response; they are never dereferenced as the opaque type. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define TC_BUILDING_SERVER 1
#include <tritonc/backend.h>

#include "backend/backend.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/log.h"
#include "proto/model_config.h"

typedef struct plugin {
    tc__backend base; /* first: what the core holds */
    const tc_backend_vtable *vt;
    void *dl;
    char *path;
    char *name;
    unsigned refs; /* guarded by g_lock */
    struct plugin *next;
} plugin;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static plugin *g_plugins;

/* The handle init() gets; lives in the version's state until fini(). */
struct tc_backend_model {
    const char *name;
    int64_t version;
    const char *path;
    const Inference__ModelConfig *config;
    char *config_json; /* rendered on first use */
    tc__error *err;    /* init() only */
};

typedef struct pstate {
    const plugin *p;
    void *state;
    struct tc_backend_model model;
} pstate;

static tc__backend_request *req_of(tc_backend_request *r)
{
    return (tc__backend_request *)(void *)r;
}

static const tc__backend_request *creq_of(const tc_backend_request *r)
{
    return (const tc__backend_request *)(const void *)r;
}

/* ---- trampolines ------------------------------------------------------------------------ */

static tc_code p_init(const tc__backend_model *model, void **state, tc__error *err)
{
    const plugin *p = (const plugin *)model->backend;
    pstate *ps = tc__calloc(1, sizeof *ps);
    if (ps == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    ps->p = p;
    ps->model.name = model->name;
    ps->model.version = model->version;
    ps->model.path = model->path;
    ps->model.config = model->config;
    ps->model.err = err;
    tc__error_clear(err);
    tc_code rc = p->vt->init(&ps->model, &ps->state);
    ps->model.err = NULL;
    if (rc != TC_OK) {
        if (err->code == TC_OK)
            tc__error_set(err, rc, "backend '%s' failed to initialise model '%s': %s", p->name,
                          model->name, tc_code_str(rc));
        tc__free(ps->model.config_json);
        tc__free(ps);
        return err->code;
    }
    *state = ps;
    return TC_OK;
}

static void p_execute(void *state, uint32_t instance, tc__backend_request *reqs, size_t count)
{
    pstate *ps = state;
    tc_backend_request *one[8] = {NULL};
    tc_backend_request **v = count <= 8 ? one : tc__calloc(count, sizeof *v);
    if (v == NULL) {
        for (size_t i = 0; i < count; i++)
            tc__error_set(&reqs[i].error, TC_E_NOMEM, "out of memory");
        return;
    }
    for (size_t i = 0; i < count; i++)
        v[i] = (tc_backend_request *)(void *)&reqs[i];
    ps->p->vt->execute(ps->state, instance, v, count);
    if (v != one)
        tc__free(v);
}

static void p_fini(void *state)
{
    pstate *ps = state;
    ps->p->vt->fini(ps->state);
    tc__free(ps->model.config_json);
    tc__free(ps);
}

/* ---- loading ---------------------------------------------------------------------------- */

/* Backend names become file names: letters, digits, '_', '-' and '.' (not
 * leading), so a config cannot point outside the searched directories. */
static bool safe_name(const char *name)
{
    if (name[0] == '\0' || name[0] == '.' || strlen(name) > 128)
        return false;
    for (const char *c = name; *c != '\0'; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' || *c == '.';
        if (!ok)
            return false;
    }
    return true;
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* g_lock held. */
static tc_code open_plugin(const char *name, const char *path, plugin **out, tc__error *err)
{
    for (plugin *p = g_plugins; p != NULL; p = p->next) {
        if (strcmp(p->path, path) == 0) {
            p->refs++;
            *out = p;
            return TC_OK;
        }
    }
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "unable to load backend '%s' from %s: %s", name,
                             path, dlerror());
    tc_backend_entry_fn entry = NULL;
    void *sym = dlsym(dl, TC_BACKEND_ENTRY_SYMBOL);
    memcpy(&entry, &sym, sizeof entry); /* object to function pointer, as POSIX allows */
    const tc_backend_vtable *vt = entry != NULL ? entry() : NULL;
    const char *why = NULL;
    if (entry == NULL)
        why = "it does not export " TC_BACKEND_ENTRY_SYMBOL "()";
    else if (vt == NULL)
        why = TC_BACKEND_ENTRY_SYMBOL "() returned NULL";
    else if (vt->api_version > TC_BACKEND_API_VERSION)
        why = "it was built for another backend API version (newer than this server)";
    else if (vt->api_version < TC_BACKEND_API_VERSION)
        why = "it was built for another backend API version (older than this server)";
    else if (vt->init == NULL || vt->execute == NULL || vt->fini == NULL)
        why = "its vtable lacks init, execute or fini";
    if (why != NULL) {
        tc__error_set(err, TC_E_INVALID_ARG, "unable to load backend '%s' from %s: %s", name, path,
                      why);
        dlclose(dl);
        return err->code;
    }
    plugin *p = tc__calloc(1, sizeof *p);
    if (p != NULL) {
        p->path = tc__strdup(path);
        p->name = tc__strdup(name);
    }
    if (p == NULL || p->path == NULL || p->name == NULL) {
        if (p != NULL) {
            tc__free(p->path);
            tc__free(p->name);
        }
        tc__free(p);
        dlclose(dl);
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    }
    p->base.name = p->name;
    p->base.init = p_init;
    p->base.execute = p_execute;
    p->base.fini = p_fini;
    p->vt = vt;
    p->dl = dl;
    p->refs = 1;
    p->next = g_plugins;
    g_plugins = p;
    tc__log(TC_LOG_INFO, "loaded backend '%s' from %s", name, path);
    *out = p;
    return TC_OK;
}

tc_code tc__backend_plugin_find(const char *name, const char *const *dirs, size_t dir_count,
                                const tc__backend **out, tc__error *err)
{
    *out = NULL;
    if (name == NULL || !safe_name(name))
        return TC_E_NOT_FOUND;
    tc_code rc = TC_E_NOT_FOUND;
    tc__buf path = TC__BUF_INIT;
    for (size_t i = 0; i < dir_count && rc == TC_E_NOT_FOUND; i++) {
        if (dirs[i] == NULL)
            continue;
        /* <dir>/<name>/libtritonc_<name>.so, then <dir>/libtritonc_<name>.so */
        for (int nested = 1; nested >= 0 && rc == TC_E_NOT_FOUND; nested--) {
            tc__buf_reset(&path);
            tc_code prc = nested
                              ? tc__buf_printf(&path, "%s/%s/libtritonc_%s.so", dirs[i], name, name)
                              : tc__buf_printf(&path, "%s/libtritonc_%s.so", dirs[i], name);
            if (prc != TC_OK) {
                rc = tc__error_set(err, TC_E_NOMEM, "out of memory");
                break;
            }
            if (!is_file((const char *)path.data))
                continue;
            plugin *p = NULL;
            pthread_mutex_lock(&g_lock);
            rc = open_plugin(name, (const char *)path.data, &p, err);
            pthread_mutex_unlock(&g_lock);
            if (rc == TC_OK)
                *out = &p->base;
        }
    }
    tc__buf_cleanup(&path);
    return rc;
}

void tc__backend_retain(const tc__backend *b)
{
    pthread_mutex_lock(&g_lock);
    for (plugin *p = g_plugins; p != NULL; p = p->next) {
        if (&p->base == b) {
            p->refs++;
            break;
        }
    }
    pthread_mutex_unlock(&g_lock);
}

void tc__backend_release(const tc__backend *b)
{
    plugin *gone = NULL;
    pthread_mutex_lock(&g_lock);
    for (plugin **pp = &g_plugins; *pp != NULL; pp = &(*pp)->next) {
        if (&(*pp)->base == b) {
            if (--(*pp)->refs == 0) {
                gone = *pp;
                *pp = gone->next;
            }
            break;
        }
    }
    pthread_mutex_unlock(&g_lock);
    if (gone == NULL)
        return; /* a built-in, or still in use */
    tc__log(TC_LOG_INFO, "unloaded backend '%s'", gone->name);
    dlclose(gone->dl);
    tc__free(gone->path);
    tc__free(gone->name);
    tc__free(gone);
}

/* ---- the model -------------------------------------------------------------------------- */

const char *tc_backend_model_name(const tc_backend_model *model)
{
    return model->name;
}

int64_t tc_backend_model_version(const tc_backend_model *model)
{
    return model->version;
}

const char *tc_backend_model_path(const tc_backend_model *model)
{
    return model->path;
}

const char *tc_backend_model_config_json(tc_backend_model *model)
{
    if (model->config_json == NULL) {
        tc__buf b = TC__BUF_INIT;
        /* An all-default config renders as nothing: still a JSON object. */
        if (tc__model_config_to_json(model->config, &b) == TC_OK &&
            (b.len > 0 || tc__buf_append_str(&b, "{}") == TC_OK))
            model->config_json = (char *)tc__buf_steal(&b, NULL);
        tc__buf_cleanup(&b);
    }
    return model->config_json;
}

const char *tc_backend_model_parameter(const tc_backend_model *model, const char *key)
{
    return key != NULL ? tc__backend_config_param(model->config, key) : NULL;
}

int32_t tc_backend_model_max_batch_size(const tc_backend_model *model)
{
    return model->config->max_batch_size;
}

bool tc_backend_model_decoupled(const tc_backend_model *model)
{
    const Inference__ModelTransactionPolicy *p = model->config->model_transaction_policy;
    return p != NULL && p->decoupled;
}

void tc_backend_model_set_error(tc_backend_model *model, const char *fmt, ...)
{
    if (model->err == NULL || fmt == NULL)
        return; /* outside init(): nobody would read it */
    char msg[TC__ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tc__error_set(model->err, TC_E_INVALID_ARG, "%s", msg);
}

/* ---- requests --------------------------------------------------------------------------- */

static void tensor_out(const tc__tensor *t, tc_backend_tensor *out)
{
    out->name = t->name;
    out->dtype = t->dtype;
    out->shape = t->shape;
    out->ndim = t->ndim;
    out->data = t->data;
    out->byte_size = t->byte_size;
}

size_t tc_backend_request_input_count(const tc_backend_request *request)
{
    return creq_of(request)->request->input_count;
}

tc_code tc_backend_request_input(const tc_backend_request *request, size_t index,
                                 tc_backend_tensor *out)
{
    const tc__infer_request *r = creq_of(request)->request;
    if (out == NULL || index >= r->input_count)
        return TC_E_INVALID_ARG;
    tensor_out(&r->inputs[index], out);
    return TC_OK;
}

tc_code tc_backend_request_input_by_name(const tc_backend_request *request, const char *name,
                                         tc_backend_tensor *out)
{
    if (name == NULL || out == NULL)
        return TC_E_INVALID_ARG;
    const tc__tensor *t = tc__backend_input(creq_of(request)->request, name);
    if (t == NULL)
        return TC_E_NOT_FOUND;
    tensor_out(t, out);
    return TC_OK;
}

uint64_t tc_backend_request_batch_size(const tc_backend_request *request)
{
    return creq_of(request)->batch_size;
}

const char *tc_backend_request_id(const tc_backend_request *request)
{
    const char *id = creq_of(request)->request->id;
    return id != NULL ? id : "";
}

/* Fixed-size types: the byte size must match the shape (the frontends
 * encode `byte_size` bytes as that many elements). */
static bool size_matches(tc_dtype dtype, const int64_t *shape, size_t ndim, size_t byte_size)
{
    size_t elem = tc_dtype_size(dtype);
    if (elem == 0)
        return true; /* BYTES: serialized strings, any length */
    size_t n = 0;
    return tc__shape_elements(shape, ndim, &n) && n <= SIZE_MAX / elem && n * elem == byte_size;
}

/* Append output `name` to `resp` and hand out its buffer: the client's
 * shared-memory window when `br` offers one, else a fresh allocation the
 * response owns. */
static tc_code add_output(const tc__backend_request *br, tc__infer_response *resp, const char *name,
                          tc_dtype dtype, const int64_t *shape, size_t ndim, size_t byte_size,
                          void **buffer)
{
    if (buffer == NULL)
        return TC_E_INVALID_ARG;
    *buffer = NULL;
    if (resp == NULL || name == NULL || (ndim > 0 && shape == NULL) ||
        tc_dtype_name(dtype) == NULL || !size_matches(dtype, shape, ndim, byte_size))
        return TC_E_INVALID_ARG;
    uint8_t *placed =
        br != NULL && byte_size > 0 ? tc__backend_output_place(br, name, byte_size) : NULL;
    if (placed != NULL) {
        tc_code rc =
            tc__backend_output_add_placed(resp, name, dtype, shape, ndim, placed, byte_size);
        if (rc == TC_OK)
            *buffer = placed;
        return rc;
    }
    uint8_t *owned = tc__malloc(byte_size > 0 ? byte_size : 1);
    if (owned == NULL)
        return TC_E_NOMEM;
    tc_code rc = tc__backend_output_add(resp, name, dtype, shape, ndim, owned, byte_size);
    if (rc == TC_OK)
        *buffer = owned;
    return rc;
}

tc_code tc_backend_request_output(tc_backend_request *request, const char *name, tc_dtype dtype,
                                  const int64_t *shape, size_t ndim, size_t byte_size,
                                  void **buffer)
{
    tc__backend_request *br = req_of(request);
    return add_output(br, br->response, name, dtype, shape, ndim, byte_size, buffer);
}

void tc_backend_request_set_error(tc_backend_request *request, tc_code code, const char *fmt, ...)
{
    char msg[TC__ERROR_MSG_MAX] = "backend error";
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
    }
    tc__error_set(&req_of(request)->error, code != TC_OK ? code : TC_E_INTERNAL, "%s", msg);
}

/* ---- decoupled responses ---------------------------------------------------------------- */

tc_backend_response *tc_backend_response_new(tc_backend_request *request)
{
    const tc__backend_request *br = req_of(request);
    if (!br->decoupled)
        return NULL;
    return (tc_backend_response *)(void *)tc__backend_response_new(br);
}

tc_code tc_backend_response_output(tc_backend_response *response, const char *name, tc_dtype dtype,
                                   const int64_t *shape, size_t ndim, size_t byte_size,
                                   void **buffer)
{
    return add_output(NULL, (tc__infer_response *)(void *)response, name, dtype, shape, ndim,
                      byte_size, buffer);
}

tc_code tc_backend_response_send(tc_backend_request *request, tc_backend_response *response)
{
    if (response == NULL)
        return TC_E_INVALID_ARG;
    return tc__backend_send(req_of(request), (tc__infer_response *)(void *)response);
}

void tc_backend_response_free(tc_backend_response *response)
{
    tc__infer_response *r = (tc__infer_response *)(void *)response;
    if (r == NULL)
        return;
    tc__infer_response_cleanup(r);
    tc__free(r);
}
