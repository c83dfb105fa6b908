/* Core object: lifetime, health, metadata, model lookup, repository API
 * wrappers, statistics snapshots and trace settings. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <tritonc/version.h>

#include "common/alloc.h"
#include "common/log.h"
#include "core/internal.h"
#include "core/shm_registry.h"
#include "proto/model_config.h"

static const char *const k_extensions[] = {
    "classification",
    "sequence",
    "model_repository",
    "model_repository(unload_dependents)",
    "schedule_policy",
    "model_configuration",
    "binary_tensor_data",
    "parameters",
    "statistics",
    "trace",
    "logging",
    "system_shared_memory",
    "cuda_shared_memory",
};

const char *tc__mv_state_name(tc__mv_state s)
{
    switch (s) {
    case TC__MV_READY:
        return "READY";
    case TC__MV_UNAVAILABLE:
        return "UNAVAILABLE";
    case TC__MV_LOADING:
        return "LOADING";
    case TC__MV_UNLOADING:
        return "UNLOADING";
    default:
        return "UNKNOWN";
    }
}

/* ---- lifetime ------------------------------------------------------------------- */

static void *poll_main(void *arg)
{
    tc__core *core = arg;
    for (;;) {
        pthread_mutex_lock(&core->flight_lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)core->poll_secs;
        while (!core->stop_poll) {
            if (pthread_cond_timedwait(&core->flight_cond, &core->flight_lock, &until) != 0)
                break;
        }
        bool stop = core->stop_poll;
        pthread_mutex_unlock(&core->flight_lock);
        if (stop)
            return NULL;
        tc__repo_poll_once(core);
    }
}

static bool wants_load(const tc__core_options *o, const char *name)
{
    for (size_t i = 0; i < o->load_model_count; i++) {
        if (strcmp(o->load_models[i], "*") == 0 || strcmp(o->load_models[i], name) == 0)
            return true;
    }
    return false;
}

static void initial_load(tc__core *core, const tc__core_options *o)
{
    for (size_t i = 0;; i++) {
        pthread_mutex_lock(&core->lock);
        char *name = i < core->model_count ? tc__strdup(core->models[i]->name) : NULL;
        pthread_mutex_unlock(&core->lock);
        if (name == NULL)
            break;
        tc__error err;
        if (core->mode != TC__CONTROL_EXPLICIT || wants_load(o, name))
            (void)tc__repo_load(core, name, NULL, 0, NULL, &err);
        tc__free(name);
    }
    /* Explicit --load-model names absent from every repository. */
    for (size_t i = 0; core->mode == TC__CONTROL_EXPLICIT && i < o->load_model_count; i++) {
        pthread_mutex_lock(&core->lock);
        bool known =
            strcmp(o->load_models[i], "*") == 0 || tc__repo_find(core, o->load_models[i]) != NULL;
        pthread_mutex_unlock(&core->lock);
        if (!known)
            tc__log(TC_LOG_ERROR, "failed to load '%s': not found in any model repository",
                    o->load_models[i]);
    }
}

static void trace_defaults(tc__trace_settings *t)
{
    memset(t, 0, sizeof *t);
    t->level = 0;
    t->rate = 1000;
    t->count = -1;
    t->log_frequency = 0;
    (void)snprintf(t->mode, sizeof t->mode, "triton");
}

tc_code tc__core_new(const tc__core_options *opts, tc__core **out, tc__error *err)
{
    *out = NULL;
    tc__core *core = tc__calloc(1, sizeof *core);
    if (core == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    pthread_mutex_init(&core->lock, NULL);
    pthread_mutex_init(&core->load_lock, NULL);
    pthread_mutex_init(&core->flight_lock, NULL);
    pthread_cond_init(&core->flight_cond, NULL);
    pthread_mutex_init(&core->trace_lock, NULL);
    trace_defaults(&core->trace_global);
    if (opts->trace != NULL) {
        core->trace_global = *opts->trace;
        (void)snprintf(core->trace_global.mode, sizeof core->trace_global.mode, "triton");
    }
    atomic_init(&core->trace_on, false);
    atomic_init(&core->trace_next_id, 0u);
    core->trace_log = tc__trace_log_new(core->trace_global.file);
    if (core->trace_log == NULL) {
        tc__core_free(core);
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    }
    tc__trace_refresh(core); /* single-threaded yet: no lock needed */
    core->accepting = true;
    core->mode = opts->control_mode;
    core->strict_readiness = opts->strict_readiness;
    core->strict_model_config = opts->strict_model_config;
    core->poll_secs = opts->poll_secs > 0 ? opts->poll_secs : 15;
    core->server_id = tc__strdup(opts->server_id != NULL ? opts->server_id : "triton");
    if (opts->backend_directory != NULL && opts->backend_directory[0] != '\0')
        core->backend_dir = tc__strdup(opts->backend_directory);
    core->repos = tc__calloc(opts->repository_count + 1, sizeof *core->repos);
    core->shm = tc__shm_registry_new();
    tc_code rc =
        core->server_id != NULL && core->repos != NULL && core->shm != NULL ? TC_OK : TC_E_NOMEM;
    for (size_t i = 0; rc == TC_OK && i < opts->repository_count; i++) {
        core->repos[i] = tc__strdup(opts->repositories[i]);
        rc = core->repos[i] != NULL ? TC_OK : TC_E_NOMEM;
        core->repo_count++;
    }
    if (rc != TC_OK)
        tc__error_set(err, rc, "out of memory");
    else
        rc = tc__repo_sync(core, err);
    if (rc != TC_OK) {
        tc__core_free(core);
        return rc;
    }
    pthread_mutex_lock(&core->load_lock);
    initial_load(core, opts);
    pthread_mutex_unlock(&core->load_lock);
    if (core->mode == TC__CONTROL_POLL) {
        core->poll_started = pthread_create(&core->poll_thread, NULL, poll_main, core) == 0;
        if (!core->poll_started)
            tc__log(TC_LOG_ERROR, "unable to start the repository poll thread");
    }
    *out = core;
    return TC_OK;
}

void tc__core_drain(tc__core *core)
{
    pthread_mutex_lock(&core->flight_lock);
    core->accepting = false;
    core->stop_poll = true;
    pthread_cond_broadcast(&core->flight_cond);
    while (core->inflight > 0)
        pthread_cond_wait(&core->flight_cond, &core->flight_lock);
    pthread_mutex_unlock(&core->flight_lock);
}

void tc__core_free(tc__core *core)
{
    if (core == NULL)
        return;
    tc__core_drain(core);
    if (core->poll_started)
        pthread_join(core->poll_thread, NULL);
    pthread_mutex_lock(&core->load_lock);
    for (size_t i = 0; i < core->model_count; i++) {
        tc__repo_unload(core, core->models[i]);
        tc__repo_entry_free(core->models[i]);
    }
    pthread_mutex_unlock(&core->load_lock);
    tc__free(core->models);
    for (size_t i = 0; i < core->repo_count; i++)
        tc__free(core->repos[i]);
    tc__free(core->repos);
    tc__free(core->server_id);
    tc__free(core->backend_dir);
    for (size_t i = 0; i < core->trace_model_count; i++)
        tc__free(core->trace_models[i].model);
    tc__free(core->trace_models);
    tc__trace_log_free(core->trace_log); /* writes the traces still pending */
    tc__shm_registry_free(core->shm);    /* after drain: no request holds a region */
    pthread_mutex_destroy(&core->lock);
    pthread_mutex_destroy(&core->load_lock);
    pthread_mutex_destroy(&core->flight_lock);
    pthread_cond_destroy(&core->flight_cond);
    pthread_mutex_destroy(&core->trace_lock);
    tc__free(core);
}

/* ---- health and metadata --------------------------------------------------------- */

bool tc__core_is_live(tc__core *core)
{
    (void)core;
    return true;
}

bool tc__core_is_ready(tc__core *core)
{
    pthread_mutex_lock(&core->flight_lock);
    bool ready = core->accepting;
    pthread_mutex_unlock(&core->flight_lock);
    if (!ready || !core->strict_readiness)
        return ready;
    /* Strict readiness: nothing is half loaded. Failed or unloaded models do
     * not hold the server back (it keeps serving the rest). */
    pthread_mutex_lock(&core->lock);
    for (size_t i = 0; i < core->model_count && ready; i++) {
        const tc__model_entry *e = core->models[i];
        for (size_t j = 0; j < e->version_count && ready; j++) {
            tc__mv_state st = e->versions[j]->state;
            ready = st != TC__MV_LOADING && st != TC__MV_UNLOADING;
        }
    }
    pthread_mutex_unlock(&core->lock);
    return ready;
}

tc_code tc__core_server_metadata(tc__core *core, tc__server_metadata *out)
{
    size_t n = sizeof k_extensions / sizeof k_extensions[0];
    memset(out, 0, sizeof *out);
    out->name = tc__strdup(core->server_id);
    out->version = tc__strdup(TC_VERSION_STRING);
    out->extensions = tc__calloc(n, sizeof *out->extensions);
    if (out->name == NULL || out->version == NULL || out->extensions == NULL)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        out->extensions[i] = tc__strdup(k_extensions[i]);
        if (out->extensions[i] == NULL)
            goto oom;
        out->extension_count++;
    }
    return TC_OK;
oom:
    tc__server_metadata_cleanup(out);
    return TC_E_NOMEM;
}

/* ---- model lookup ------------------------------------------------------------------ */

static tc_code parse_version(const char *version, int64_t *v, tc__error *err)
{
    *v = -1;
    if (version == NULL || version[0] == '\0')
        return TC_OK;
    char *end = NULL;
    errno = 0;
    long long x = strtoll(version, &end, 10);
    if (errno != 0 || end == version || *end != '\0' || x < 0)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "failed to get model version from specified version string '%s'",
                             version);
    *v = (int64_t)x;
    return TC_OK;
}

/* core->lock held. The version `v` (-1 = highest READY) of `e`. */
static tc_code pick_version(const tc__model_entry *e, const char *name, int64_t v, bool need_ready,
                            tc__model_handle **out, tc__error *err)
{
    *out = NULL;
    if (e == NULL || !e->attempted)
        return tc__error_set(err, TC_E_NOT_FOUND, "Request for unknown model: '%s' is not found",
                             name);
    for (size_t i = e->version_count; i-- > 0;) {
        tc__model_handle *mv = e->versions[i];
        if (v >= 0 && mv->version != v)
            continue;
        if (v < 0 && mv->state != TC__MV_READY)
            continue;
        if (need_ready && mv->state != TC__MV_READY)
            return tc__error_set(err, TC_E_NOT_FOUND,
                                 "Request for unknown model: '%s' version %" PRId64
                                 " is not at ready state",
                                 name, v);
        *out = mv;
        return TC_OK;
    }
    if (v >= 0)
        return tc__error_set(err, TC_E_NOT_FOUND,
                             "Request for unknown model: '%s' version %" PRId64 " is not found",
                             name, v);
    return tc__error_set(err, TC_E_NOT_FOUND,
                         "Request for unknown model: '%s' has no available versions", name);
}

tc_code tc__core_model_acquire(tc__core *core, const char *name, const char *version,
                               tc__model_handle **out, tc__error *err)
{
    int64_t v;
    *out = NULL;
    if (name == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "model name is required");
    tc_code rc = parse_version(version, &v, err);
    if (rc != TC_OK)
        return rc;
    pthread_mutex_lock(&core->lock);
    rc = pick_version(tc__repo_find(core, name), name, v, true, out, err);
    if (rc == TC_OK)
        tc__mv_ref(*out);
    pthread_mutex_unlock(&core->lock);
    return rc;
}

void tc__model_handle_release(tc__model_handle *h)
{
    tc__mv_unref(h);
}

const Inference__ModelConfig *tc__model_handle_config(const tc__model_handle *h)
{
    return h->config;
}

int64_t tc__model_handle_version(const tc__model_handle *h)
{
    return h->version;
}

tc_code tc__core_model_is_ready(tc__core *core, const char *name, const char *version, bool *ready,
                                tc__error *err)
{
    int64_t v;
    *ready = false;
    tc_code rc = parse_version(version, &v, err);
    if (rc != TC_OK)
        return rc;
    pthread_mutex_lock(&core->lock);
    const tc__model_entry *e = tc__repo_find(core, name);
    tc__model_handle *mv = NULL;
    rc = pick_version(e, name, v, false, &mv, err);
    if (rc == TC_OK) {
        *ready = mv->state == TC__MV_READY;
    } else if (e != NULL && e->attempted && v < 0) {
        rc = TC_OK; /* known, nothing ready */
        tc__error_clear(err);
    }
    pthread_mutex_unlock(&core->lock);
    return rc;
}

tc_code tc__core_model_metadata(tc__core *core, const char *name, const char *version,
                                tc__model_metadata *out, tc__error *err)
{
    tc__model_handle *mv = NULL;
    memset(out, 0, sizeof *out);
    tc_code rc = tc__core_model_acquire(core, name, version, &mv, err);
    if (rc != TC_OK)
        return rc;
    char **versions = NULL;
    size_t n = 0;
    pthread_mutex_lock(&core->lock);
    const tc__model_entry *e = tc__repo_find(core, name);
    versions =
        tc__calloc(e != NULL && e->version_count > 0 ? e->version_count : 1, sizeof *versions);
    for (size_t i = 0; versions != NULL && e != NULL && i < e->version_count; i++) {
        const tc__model_handle *x = e->versions[i];
        bool pick = version != NULL && version[0] != '\0' ? x == mv : x->state == TC__MV_READY;
        if (pick)
            versions[n++] = x->version_str; /* borrowed; copied below */
    }
    pthread_mutex_unlock(&core->lock);
    if (versions == NULL)
        rc = tc__error_set(err, TC_E_NOMEM, "out of memory");
    else
        rc = tc__model_config_metadata(mv->config, (const char *const *)versions, n, out);
    if (rc != TC_OK && versions != NULL)
        tc__error_set(err, rc, "unable to build the metadata of '%s'", name);
    tc__free(versions);
    tc__model_handle_release(mv);
    return rc;
}

/* ---- repository API ------------------------------------------------------------------ */

static bool safe_rel_path(const char *p)
{
    if (p[0] == '\0' || p[0] == '/')
        return false;
    const char *s = p;
    while (*s != '\0') {
        const char *slash = strchr(s, '/');
        size_t len = slash != NULL ? (size_t)(slash - s) : strlen(s);
        if (len == 0 || (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
            return false;
        s += len;
        if (*s == '/')
            s++;
    }
    return true;
}

static tc_code mkdirs_for(char *path)
{
    for (char *p = strchr(path + 1, '/'); p != NULL; p = strchr(p + 1, '/')) {
        *p = '\0';
        int r = mkdir(path, 0700);
        *p = '/';
        if (r != 0 && errno != EEXIST)
            return TC_E_INTERNAL;
    }
    return TC_OK;
}

static tc_code write_overrides(const tc__load_file *files, size_t n, char **dir_out, tc__error *err)
{
    char tmpl[] = "/tmp/tritonc-model-XXXXXX";
    if (mkdtemp(tmpl) == NULL)
        return tc__error_set(err, TC_E_INTERNAL, "failed to create an override directory: %s",
                             strerror(errno));
    *dir_out = tc__strdup(tmpl);
    if (*dir_out == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (!safe_rel_path(files[i].path))
            return tc__error_set(err, TC_E_INVALID_ARG, "invalid file override path 'file:%s'",
                                 files[i].path);
        tc__buf p = TC__BUF_INIT;
        tc_code rc = tc__buf_printf(&p, "%s/%s", tmpl, files[i].path);
        FILE *f = NULL;
        if (rc == TC_OK)
            rc = mkdirs_for((char *)p.data);
        if (rc == TC_OK) {
            f = fopen((const char *)p.data, "wb");
            if (f == NULL ||
                (files[i].size > 0 && fwrite(files[i].data, 1, files[i].size, f) != files[i].size))
                rc = TC_E_INTERNAL;
            if (f != NULL && fclose(f) != 0)
                rc = TC_E_INTERNAL;
        }
        tc__buf_cleanup(&p);
        if (rc != TC_OK)
            return tc__error_set(err, TC_E_INTERNAL,
                                 "failed to poll from model repository: unable to write override "
                                 "file '%s': %s",
                                 files[i].path, strerror(errno));
    }
    return TC_OK;
}

tc_code tc__core_model_load(tc__core *core, const char *name, const char *config_json,
                            size_t config_len, const tc__load_file *files, size_t file_count,
                            tc__error *err)
{
    if (core->mode != TC__CONTROL_EXPLICIT)
        return tc__error_set(err, TC_E_UNAVAILABLE,
                             "explicit model load / unload is not allowed if polling is enabled");
    if (file_count > 0 && config_json == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "failed to load '%s', config must be provided when file overrides "
                             "are given",
                             name);
    char *dir = NULL;
    tc__error ferr;
    tc__error_clear(&ferr);
    tc_code rc = TC_OK;
    if (file_count > 0) {
        rc = write_overrides(files, file_count, &dir, &ferr);
        if (rc != TC_OK) {
            if (dir != NULL)
                tc__repo_remove_tree(dir);
            tc__free(dir);
            return tc__error_set(err, rc, "failed to load '%s', %s", name, ferr.msg);
        }
    }
    pthread_mutex_lock(&core->load_lock);
    rc = tc__repo_sync(core, err);
    if (rc == TC_OK)
        rc = tc__repo_load(core, name, config_json, config_len, dir, err);
    if (dir != NULL) {
        /* The entry keeps the override directory while it is loaded from it. */
        pthread_mutex_lock(&core->lock);
        tc__model_entry *e = tc__repo_find(core, name);
        char *old = NULL;
        if (e != NULL && rc == TC_OK) {
            old = e->override_dir;
            e->override_dir = dir;
            dir = NULL;
        }
        pthread_mutex_unlock(&core->lock);
        if (old != NULL)
            tc__repo_remove_tree(old);
        tc__free(old);
    }
    pthread_mutex_unlock(&core->load_lock);
    if (dir != NULL)
        tc__repo_remove_tree(dir);
    tc__free(dir);
    return rc;
}

tc_code tc__core_model_unload(tc__core *core, const char *name, bool unload_dependents,
                              tc__error *err)
{
    (void)unload_dependents; /* no ensembles yet: nothing depends on a model */
    if (core->mode != TC__CONTROL_EXPLICIT)
        return tc__error_set(err, TC_E_UNAVAILABLE,
                             "explicit model load / unload is not allowed if polling is enabled");
    pthread_mutex_lock(&core->load_lock);
    pthread_mutex_lock(&core->lock);
    tc__model_entry *e = tc__repo_find(core, name);
    pthread_mutex_unlock(&core->lock);
    if (e != NULL)
        tc__repo_unload(core, e);
    pthread_mutex_unlock(&core->load_lock);
    return TC_OK;
}

/* ---- shared memory ------------------------------------------------------------------ */

tc_code tc__core_shm_status(tc__core *core, tc__shm_kind kind, const char *name,
                            tc__shm_status **out, size_t *count, tc__error *err)
{
    return tc__shm_registry_status(core->shm, kind, name, out, count, err);
}

tc_code tc__core_shm_register_system(tc__core *core, const char *name, const char *key,
                                     uint64_t offset, uint64_t byte_size, tc__error *err)
{
    return tc__shm_register_system(core->shm, name, key, offset, byte_size, err);
}

tc_code tc__core_shm_register_cuda(tc__core *core, const char *name, const uint8_t *raw_handle,
                                   size_t handle_len, int64_t device_id, uint64_t byte_size,
                                   tc__error *err)
{
    return tc__shm_register_cuda(core->shm, name, raw_handle, handle_len, device_id, byte_size,
                                 err);
}

tc_code tc__core_shm_unregister(tc__core *core, tc__shm_kind kind, const char *name, tc__error *err)
{
    return tc__shm_unregister(core->shm, kind, name, err);
}
