/* Model repository: directory scan, version policy, load / unload / reload,
 * the repository index and poll-mode rescans. Loads, unloads and rescans
 * run under core->load_lock, one at a time; core->lock is only held to
 * read or publish entries and states, never around a backend call. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"
#include "core/internal.h"
#include "proto/model_config.h"

static char *path_join(const char *a, const char *b)
{
    tc__buf p = TC__BUF_INIT;
    if (tc__buf_printf(&p, "%s/%s", a, b) != TC_OK) {
        tc__buf_cleanup(&p);
        return NULL;
    }
    return (char *)tc__buf_steal(&p, NULL);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static tc_code read_file(const char *path, tc__buf *out, tc__error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "unable to open '%s': %s", path,
                             strerror(errno));
    tc_code rc = TC_OK;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        rc = tc__buf_append(out, chunk, n);
        if (rc != TC_OK)
            break;
    }
    if (rc == TC_OK && ferror(f))
        rc = tc__error_set(err, TC_E_INVALID_ARG, "unable to read '%s'", path);
    else if (rc == TC_OK && out->data == NULL)
        rc = tc__buf_reserve(out, 0);
    if (fclose(f) != 0 && rc == TC_OK)
        rc = tc__error_set(err, TC_E_INVALID_ARG, "unable to read '%s'", path);
    if (rc == TC_E_NOMEM)
        tc__error_set(err, rc, "out of memory");
    return rc;
}

/* ---- entries ---------------------------------------------------------------- */

tc__model_entry *tc__repo_find(tc__core *core, const char *name)
{
    for (size_t i = 0; i < core->model_count; i++) {
        if (strcmp(core->models[i]->name, name) == 0)
            return core->models[i];
    }
    return NULL;
}

/* Remove a directory tree we created (file overrides). */
void tc__repo_remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d != NULL) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char *child = path_join(path, de->d_name);
            if (child == NULL)
                continue;
            struct stat st;
            if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
                tc__repo_remove_tree(child);
            else if (unlink(child) != 0)
                tc__log(TC_LOG_WARNING, "unable to remove '%s'", child);
            tc__free(child);
        }
        (void)closedir(d);
    }
    if (rmdir(path) != 0)
        tc__log(TC_LOG_WARNING, "unable to remove '%s'", path);
}

void tc__repo_entry_free(tc__model_entry *e)
{
    if (e == NULL)
        return;
    for (size_t i = 0; i < e->version_count; i++)
        tc__mv_unref(e->versions[i]);
    tc__free(e->versions);
    if (e->override_dir != NULL)
        tc__repo_remove_tree(e->override_dir);
    tc__free(e->override_dir);
    tc__free(e->name);
    tc__free(e->dir);
    tc__free(e->reason);
    tc__free(e->stamp);
    tc__free(e);
}

/* core->lock held. */
static tc__model_entry *entry_add(tc__core *core, const char *name)
{
    tc__model_entry **grown = tc__reallocarray(core->models, core->model_count + 1, sizeof *grown);
    if (grown == NULL)
        return NULL;
    core->models = grown;
    tc__model_entry *e = tc__calloc(1, sizeof *e);
    if (e == NULL)
        return NULL;
    e->name = tc__strdup(name);
    if (e->name == NULL) {
        tc__free(e);
        return NULL;
    }
    core->models[core->model_count++] = e;
    return e;
}

static tc_code scan_repo(tc__core *core, const char *repo, tc__error *err)
{
    DIR *d = opendir(repo);
    if (d == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "failed to open model repository '%s': %s",
                             repo, strerror(errno));
    tc_code rc = TC_OK;
    struct dirent *de;
    while (rc == TC_OK && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char *dir = path_join(repo, de->d_name);
        if (dir == NULL) {
            rc = tc__error_set(err, TC_E_NOMEM, "out of memory");
            break;
        }
        if (is_dir(dir)) {
            tc__model_entry *e = tc__repo_find(core, de->d_name);
            if (e == NULL)
                e = entry_add(core, de->d_name);
            if (e == NULL) {
                rc = tc__error_set(err, TC_E_NOMEM, "out of memory");
            } else if (e->dir_count++ == 0) {
                tc__free(e->dir);
                e->dir = dir;
                dir = NULL;
            }
        }
        tc__free(dir);
    }
    (void)closedir(d);
    return rc;
}

tc_code tc__repo_sync(tc__core *core, tc__error *err)
{
    tc_code rc = TC_OK;
    pthread_mutex_lock(&core->lock);
    for (size_t i = 0; i < core->model_count; i++)
        core->models[i]->dir_count = 0;
    for (size_t i = 0; i < core->repo_count && rc == TC_OK; i++)
        rc = scan_repo(core, core->repos[i], err);
    for (size_t i = 0; i < core->model_count && rc == TC_OK; i++) {
        tc__model_entry *e = core->models[i];
        if (e->dir_count == 0) {
            tc__free(e->dir);
            e->dir = NULL;
        }
    }
    pthread_mutex_unlock(&core->lock);
    return rc;
}

/* ---- versions ---------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a;
    int64_t y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static bool parse_version_name(const char *s, int64_t *v)
{
    size_t len = strlen(s);
    if (len == 0 || len > 18)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    *v = (int64_t)strtoll(s, NULL, 10);
    return true;
}

/* Numeric subdirectories of `dir`, ascending. */
static tc_code list_versions(const char *dir, int64_t **out, size_t *count, tc__error *err)
{
    *out = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG, "unable to open model directory '%s'", dir);
    tc_code rc = TC_OK;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        int64_t v;
        if (!parse_version_name(de->d_name, &v))
            continue;
        char *p = path_join(dir, de->d_name);
        bool ok = p != NULL && is_dir(p);
        tc__free(p);
        if (!ok)
            continue;
        int64_t *grown = tc__reallocarray(*out, *count + 1, sizeof *grown);
        if (grown == NULL) {
            rc = tc__error_set(err, TC_E_NOMEM, "out of memory");
            break;
        }
        *out = grown;
        grown[(*count)++] = v;
    }
    (void)closedir(d);
    if (*count > 1)
        qsort(*out, *count, sizeof **out, cmp_i64);
    return rc;
}

/* Apply the version policy to the available versions (ascending), in place. */
static void apply_policy(const Inference__ModelConfig *cfg, int64_t *v, size_t *count)
{
    const Inference__ModelVersionPolicy *p = cfg->version_policy;
    if (p != NULL && p->policy_choice_case == INFERENCE__MODEL_VERSION_POLICY__POLICY_CHOICE_ALL)
        return;
    if (p != NULL &&
        p->policy_choice_case == INFERENCE__MODEL_VERSION_POLICY__POLICY_CHOICE_SPECIFIC) {
        size_t kept = 0;
        for (size_t i = 0; i < *count; i++) {
            for (size_t j = 0; p->specific != NULL && j < p->specific->n_versions; j++) {
                if (p->specific->versions[j] == v[i]) {
                    v[kept++] = v[i];
                    break;
                }
            }
        }
        *count = kept;
        return;
    }
    size_t n = 1;
    if (p != NULL &&
        p->policy_choice_case == INFERENCE__MODEL_VERSION_POLICY__POLICY_CHOICE_LATEST &&
        p->latest != NULL && p->latest->num_versions > 0)
        n = p->latest->num_versions;
    if (*count > n) {
        memmove(v, v + (*count - n), n * sizeof *v);
        *count = n;
    }
}

/* ---- config and labels -------------------------------------------------------- */

static tc_code load_config(const char *name, const char *dir, const char *json, size_t json_len,
                           Inference__ModelConfig **out, tc__error *err)
{
    tc_code rc;
    *out = NULL;
    if (json != NULL) {
        rc = tc__model_config_from_json(json, json_len, out, err);
    } else {
        tc__buf text = TC__BUF_INIT;
        char *path = path_join(dir, "config.pbtxt");
        rc = path != NULL ? read_file(path, &text, err) : tc__error_set(err, TC_E_NOMEM, "oom");
        if (rc == TC_OK)
            rc = tc__model_config_from_pbtxt((const char *)text.data, text.len, out, err);
        tc__free(path);
        tc__buf_cleanup(&text);
    }
    if (rc == TC_OK)
        rc = tc__model_config_normalize(*out, name, err);
    if (rc == TC_OK && (*out)->name != NULL && strcmp((*out)->name, name) != 0)
        rc = tc__error_set(err, TC_E_INVALID_ARG,
                           "model configuration name '%s' does not match the model name '%s'",
                           (*out)->name, name);
    if (rc != TC_OK) {
        tc__model_config_free(*out);
        *out = NULL;
    }
    return rc;
}

static void labels_cleanup(tc__labels *l)
{
    for (size_t i = 0; i < l->count; i++)
        tc__free(l->lines[i]);
    tc__free(l->lines);
}

static tc_code load_label_file(const char *path, tc__labels *l, tc__error *err)
{
    tc__buf text = TC__BUF_INIT;
    tc_code rc = read_file(path, &text, err);
    size_t pos = 0;
    while (rc == TC_OK && pos < text.len) {
        const uint8_t *nl = memchr(text.data + pos, '\n', text.len - pos);
        size_t end = nl != NULL ? (size_t)(nl - text.data) : text.len;
        size_t len = end - pos;
        if (len > 0 && text.data[pos + len - 1] == '\r')
            len--;
        char **grown = tc__reallocarray(l->lines, l->count + 1, sizeof *grown);
        char *line = tc__strndup((const char *)text.data + pos, len);
        if (grown != NULL)
            l->lines = grown;
        if (grown == NULL || line == NULL) {
            tc__free(line);
            rc = tc__error_set(err, TC_E_NOMEM, "out of memory");
            break;
        }
        l->lines[l->count++] = line;
        pos = end + 1;
    }
    tc__buf_cleanup(&text);
    return rc;
}

static tc_code load_labels(tc__model_handle *mv, tc__error *err)
{
    const Inference__ModelConfig *cfg = mv->config;
    if (cfg->n_output == 0)
        return TC_OK;
    mv->labels = tc__calloc(cfg->n_output, sizeof *mv->labels);
    if (mv->labels == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    for (size_t i = 0; i < cfg->n_output; i++) {
        const char *f = cfg->output[i]->label_filename;
        if (f == NULL || f[0] == '\0')
            continue;
        char *path = path_join(mv->dir, f);
        tc_code rc = path != NULL ? load_label_file(path, &mv->labels[i], err) : TC_E_NOMEM;
        tc__free(path);
        if (rc != TC_OK)
            return rc;
    }
    return TC_OK;
}

void tc__mv_labels_free(tc__model_handle *mv)
{
    if (mv->labels == NULL || mv->config == NULL)
        return;
    for (size_t i = 0; i < mv->config->n_output; i++)
        labels_cleanup(&mv->labels[i]);
    tc__free(mv->labels);
    mv->labels = NULL;
}

/* ---- load ---------------------------------------------------------------------- */

/* Fingerprint of a model directory for poll mode: config mtime + versions. */
static char *dir_stamp(const char *dir)
{
    tc__buf s = TC__BUF_INIT;
    struct stat st;
    char *cfg = path_join(dir, "config.pbtxt");
    if (cfg != NULL && stat(cfg, &st) == 0)
        (void)tc__buf_printf(&s, "%lld.%ld:", (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    tc__free(cfg);
    int64_t *v = NULL;
    size_t n = 0;
    tc__error ignored;
    if (list_versions(dir, &v, &n, &ignored) == TC_OK) {
        for (size_t i = 0; i < n; i++)
            (void)tc__buf_printf(&s, "%" PRId64 ",", v[i]);
    }
    tc__free(v);
    (void)tc__buf_append_str(&s, "");
    return (char *)tc__buf_steal(&s, NULL);
}

/* Build (but do not publish) the versions of a model. On failure `err`
 * holds the first failure; versions that failed are still returned,
 * UNAVAILABLE, so the index can list them. */
static tc_code build_versions(tc__core *core, const char *name, const char *dir, bool trusted_dir,
                              const char *json, size_t json_len, tc__model_handle ***out,
                              size_t *out_count, tc__error *err)
{
    *out = NULL;
    *out_count = 0;
    Inference__ModelConfig *cfg = NULL;
    int64_t *v = NULL;
    size_t n = 0;
    tc_code rc = load_config(name, dir, json, json_len, &cfg, err);
    if (rc == TC_OK)
        rc = list_versions(dir, &v, &n, err);
    if (rc == TC_OK) {
        apply_policy(cfg, v, &n);
        if (n == 0)
            rc = tc__error_set(err, TC_E_INVALID_ARG,
                               "at least one version must be available "
                               "under the version policy of model '%s'",
                               name);
    }
    /* Plugins come from the model's directory only when it is the
     * repository's: never from files a load request uploaded. */
    const char *dirs[2] = {trusted_dir ? dir : NULL, core->backend_dir};
    const tc__backend *backend = NULL;
    if (rc == TC_OK)
        rc = tc__backend_select(cfg, name, dirs, 2, &backend, err);
    tc__model_config_free(cfg);
    if (rc == TC_OK) {
        *out = tc__calloc(n, sizeof **out);
        if (*out == NULL)
            rc = tc__error_set(err, TC_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; rc == TC_OK && i < n; i++) {
        tc__model_handle *mv = tc__mv_new(core, name, v[i], dir);
        if (mv == NULL) {
            rc = tc__error_set(err, TC_E_NOMEM, "out of memory");
            break;
        }
        (*out)[(*out_count)++] = mv;
        mv->backend = backend;
        tc__backend_retain(backend); /* released with the version */
        tc__error verr;
        tc__error_clear(&verr);
        tc_code vrc = load_config(name, dir, json, json_len, &mv->config, &verr);
        if (vrc == TC_OK)
            vrc = load_labels(mv, &verr);
        if (vrc == TC_OK)
            vrc = tc__mv_start(mv, &verr);
        mv->state = vrc == TC_OK ? TC__MV_READY : TC__MV_UNAVAILABLE;
        if (vrc != TC_OK) {
            mv->reason = tc__strdup(verr.msg);
            rc = tc__error_set(err, vrc, "version %" PRId64 ": %s", v[i], verr.msg);
        }
    }
    if (backend != NULL)
        tc__backend_release(backend); /* tc__backend_select's; each version holds its own */
    tc__free(v);
    return rc;
}

static int cmp_mv(const void *a, const void *b)
{
    const tc__model_handle *x = *(tc__model_handle *const *)a;
    const tc__model_handle *y = *(tc__model_handle *const *)b;
    return (x->version > y->version) - (x->version < y->version);
}

/* Publish `fresh` as the versions of `e`; versions replaced or dropped are
 * stopped and listed UNAVAILABLE "unloaded". */
static tc_code publish(tc__core *core, tc__model_entry *e, tc__model_handle **fresh, size_t n)
{
    tc__model_handle **merged = NULL;
    size_t count = 0;
    pthread_mutex_lock(&core->lock);
    merged = tc__calloc(n + e->version_count, sizeof *merged);
    if (merged == NULL) {
        pthread_mutex_unlock(&core->lock);
        return TC_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++)
        merged[count++] = fresh[i];
    tc__model_handle **old = e->versions;
    size_t old_count = e->version_count;
    for (size_t i = 0; i < old_count; i++) {
        bool replaced = false;
        for (size_t j = 0; j < n; j++)
            replaced = replaced || fresh[j]->version == old[i]->version;
        if (old[i]->state == TC__MV_READY)
            old[i]->state = TC__MV_UNLOADING;
        if (!replaced) {
            tc__mv_ref(old[i]);
            merged[count++] = old[i];
        }
    }
    qsort(merged, count, sizeof *merged, cmp_mv);
    e->versions = merged;
    e->version_count = count;
    e->attempted = true;
    pthread_mutex_unlock(&core->lock);
    for (size_t i = 0; i < old_count; i++) {
        tc__mv_stop(old[i]);
        pthread_mutex_lock(&core->lock);
        old[i]->state = TC__MV_UNAVAILABLE;
        tc__free(old[i]->reason);
        old[i]->reason = tc__strdup("unloaded");
        pthread_mutex_unlock(&core->lock);
        tc__mv_unref(old[i]);
    }
    tc__free(old);
    return TC_OK;
}

static bool has_ready(tc__core *core, const tc__model_entry *e)
{
    bool ready = false;
    pthread_mutex_lock(&core->lock);
    for (size_t i = 0; i < e->version_count && !ready; i++)
        ready = e->versions[i]->state == TC__MV_READY;
    pthread_mutex_unlock(&core->lock);
    return ready;
}

static void set_reason(tc__core *core, tc__model_entry *e, const char *reason)
{
    pthread_mutex_lock(&core->lock);
    tc__free(e->reason);
    e->reason = reason != NULL ? tc__strdup(reason) : NULL;
    e->attempted = true;
    pthread_mutex_unlock(&core->lock);
}

tc_code tc__repo_load(tc__core *core, const char *name, const char *config_json, size_t config_len,
                      const char *dir_override, tc__error *err)
{
    tc__model_handle **fresh = NULL;
    size_t n = 0;
    char *dir = NULL;
    tc_code rc = TC_OK;
    tc__error lerr;
    tc__error_clear(&lerr);

    pthread_mutex_lock(&core->lock);
    tc__model_entry *e = tc__repo_find(core, name);
    if (e == NULL && dir_override != NULL)
        e = entry_add(core, name);
    if (e != NULL && e->dir_count > 1 && dir_override == NULL)
        rc = tc__error_set(&lerr, TC_E_INVALID_ARG, "model '%s' appears in %d model repositories",
                           name, e->dir_count);
    else if (e != NULL)
        dir = tc__strdup(dir_override != NULL ? dir_override : e->dir);
    pthread_mutex_unlock(&core->lock);
    if (e == NULL && dir_override == NULL)
        return tc__error_set(err, TC_E_INVALID_ARG,
                             "failed to load '%s', failed to poll from model repository: no "
                             "model directory '%s' in any model repository",
                             name, name);
    if (e == NULL)
        return tc__error_set(err, TC_E_NOMEM, "out of memory");
    if (rc == TC_OK && dir == NULL)
        rc = tc__error_set(&lerr, TC_E_INVALID_ARG, "model directory of '%s' is gone", name);
    if (rc == TC_OK)
        rc = build_versions(core, name, dir, dir_override == NULL, config_json, config_len, &fresh,
                            &n, &lerr);
    if (rc != TC_OK && (n == 0 || has_ready(core, e))) {
        /* A failed reload keeps the loaded versions serving. */
        for (size_t i = 0; i < n; i++) {
            tc__mv_stop(fresh[i]);
            tc__mv_unref(fresh[i]);
        }
        n = 0;
        set_reason(core, e, lerr.msg);
        goto out;
    }
    if (publish(core, e, fresh, n) != TC_OK) {
        for (size_t i = 0; i < n; i++) {
            tc__mv_stop(fresh[i]);
            tc__mv_unref(fresh[i]);
        }
        rc = tc__error_set(&lerr, TC_E_NOMEM, "out of memory");
        goto out;
    }
    set_reason(core, e, NULL);
out:
    if (dir != NULL && dir_override == NULL && config_json == NULL) {
        /* Failed loads get a stamp too: poll mode retries only on a change. */
        char *stamp = dir_stamp(dir);
        pthread_mutex_lock(&core->lock);
        tc__free(e->stamp);
        e->stamp = stamp;
        pthread_mutex_unlock(&core->lock);
    }
    tc__free(fresh);
    tc__free(dir);
    if (rc != TC_OK) {
        tc__log(TC_LOG_ERROR, "failed to load '%s': %s", name, lerr.msg);
        return tc__error_set(err, rc == TC_E_NOMEM ? rc : TC_E_INVALID_ARG,
                             "failed to load '%s', %s", name, lerr.msg);
    }
    tc__log(TC_LOG_INFO, "successfully loaded '%s'", name);
    return TC_OK;
}

void tc__repo_unload(tc__core *core, tc__model_entry *e)
{
    pthread_mutex_lock(&core->lock);
    size_t n = e->version_count;
    tc__model_handle **v = tc__calloc(n > 0 ? n : 1, sizeof *v);
    size_t count = 0;
    for (size_t i = 0; v != NULL && i < n; i++) {
        tc__model_handle *mv = e->versions[i];
        if (mv->state == TC__MV_READY || mv->state == TC__MV_UNAVAILABLE) {
            if (mv->state == TC__MV_READY)
                mv->state = TC__MV_UNLOADING;
            tc__mv_ref(mv);
            v[count++] = mv;
        }
    }
    pthread_mutex_unlock(&core->lock);
    for (size_t i = 0; i < count; i++) {
        tc__mv_stop(v[i]);
        pthread_mutex_lock(&core->lock);
        v[i]->state = TC__MV_UNAVAILABLE;
        tc__free(v[i]->reason);
        v[i]->reason = tc__strdup("unloaded");
        pthread_mutex_unlock(&core->lock);
        tc__mv_unref(v[i]);
    }
    tc__free(v);
    tc__log(TC_LOG_INFO, "successfully unloaded '%s'", e->name);
}

/* ---- index --------------------------------------------------------------------- */

static tc_code index_add(tc__repo_index *idx, const char *name, const char *version,
                         const char *state, const char *reason)
{
    tc__repo_entry *grown = tc__reallocarray(idx->entries, idx->count + 1, sizeof *grown);
    if (grown == NULL)
        return TC_E_NOMEM;
    idx->entries = grown;
    tc__repo_entry *r = &grown[idx->count];
    memset(r, 0, sizeof *r);
    r->name = tc__strdup(name);
    r->version = version != NULL ? tc__strdup(version) : NULL;
    r->state = state != NULL ? tc__strdup(state) : NULL;
    r->reason = reason != NULL && reason[0] != '\0' ? tc__strdup(reason) : NULL;
    idx->count++;
    if (r->name == NULL || (version != NULL && r->version == NULL) ||
        (state != NULL && r->state == NULL))
        return TC_E_NOMEM;
    return TC_OK;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp((*(tc__model_entry *const *)a)->name, (*(tc__model_entry *const *)b)->name);
}

tc_code tc__core_repo_index(tc__core *core, bool ready_only, tc__repo_index *out, tc__error *err)
{
    memset(out, 0, sizeof *out);
    tc_code rc = tc__repo_sync(core, err);
    if (rc != TC_OK)
        return rc;
    pthread_mutex_lock(&core->lock);
    qsort(core->models, core->model_count, sizeof *core->models, cmp_entry);
    for (size_t i = 0; i < core->model_count && rc == TC_OK; i++) {
        const tc__model_entry *e = core->models[i];
        if (e->dir == NULL && !e->attempted)
            continue;
        if (e->dir_count > 1) {
            if (!ready_only)
                rc = index_add(out, e->name, NULL, "UNAVAILABLE",
                               "model appears in two or more repositories");
            continue;
        }
        if (!e->attempted) {
            if (!ready_only)
                rc = index_add(out, e->name, NULL, NULL, NULL);
            continue;
        }
        if (e->version_count == 0 && !ready_only)
            rc = index_add(out, e->name, NULL, "UNAVAILABLE", e->reason);
        for (size_t j = 0; j < e->version_count && rc == TC_OK; j++) {
            const tc__model_handle *mv = e->versions[j];
            if (ready_only && mv->state != TC__MV_READY)
                continue;
            rc = index_add(out, e->name, mv->version_str, tc__mv_state_name(mv->state), mv->reason);
        }
    }
    pthread_mutex_unlock(&core->lock);
    if (rc != TC_OK) {
        tc__repo_index_cleanup(out);
        return tc__error_set(err, rc, "out of memory");
    }
    return TC_OK;
}

/* ---- poll ---------------------------------------------------------------------- */

void tc__repo_poll_once(tc__core *core)
{
    tc__error err;
    pthread_mutex_lock(&core->load_lock);
    if (tc__repo_sync(core, &err) != TC_OK) {
        tc__log(TC_LOG_ERROR, "model repository poll failed: %s", err.msg);
        goto out;
    }
    for (size_t i = 0;; i++) {
        pthread_mutex_lock(&core->lock);
        tc__model_entry *e = i < core->model_count ? core->models[i] : NULL;
        char *name = e != NULL ? tc__strdup(e->name) : NULL;
        char *dir =
            e != NULL && e->dir != NULL && e->override_dir == NULL ? tc__strdup(e->dir) : NULL;
        bool gone = e != NULL && e->dir == NULL && e->attempted && e->override_dir == NULL;
        char *old = e != NULL && e->stamp != NULL ? tc__strdup(e->stamp) : NULL;
        bool attempted = e != NULL && e->attempted;
        pthread_mutex_unlock(&core->lock);
        if (e == NULL)
            break;
        if (gone) {
            tc__repo_unload(core, e);
        } else if (dir != NULL) {
            char *stamp = dir_stamp(dir);
            if (!attempted || stamp == NULL || old == NULL || strcmp(stamp, old) != 0)
                (void)tc__repo_load(core, name, NULL, 0, NULL, &err);
            tc__free(stamp);
        }
        tc__free(name);
        tc__free(dir);
        tc__free(old);
    }
out:
    pthread_mutex_unlock(&core->load_lock);
}
