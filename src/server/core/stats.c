/* Statistics snapshots (HTTP.md section 10) of READY versions. */
#include <string.h>

#include "common/alloc.h"
#include "core/internal.h"

void tc__model_stats_free(tc__model_stats *stats, size_t count)
{
    if (stats == NULL)
        return;
    for (size_t i = 0; i < count; i++) {
        tc__free(stats[i].name);
        tc__free(stats[i].version);
        tc__free(stats[i].batches);
    }
    tc__free(stats);
}

/* core->lock held. */
static tc_code snapshot(tc__model_handle *mv, tc__model_stats *s)
{
    memset(s, 0, sizeof *s);
    s->name = tc__strdup(mv->name);
    s->version = tc__strdup(mv->version_str);
    pthread_mutex_lock(&mv->slock);
    const tc__vstats *v = &mv->stats;
    s->last_inference_ms = v->last_inference_ms;
    s->inference_count = v->inference_count;
    s->execution_count = v->execution_count;
    s->success = v->success;
    s->fail = v->fail;
    memcpy(s->fail_by_reason, v->fail_by_reason, sizeof s->fail_by_reason);
    s->queue = v->queue;
    s->compute_input = v->compute_input;
    s->compute_infer = v->compute_infer;
    s->compute_output = v->compute_output;
    if (v->batch_count > 0) {
        s->batches = tc__memdup(v->batches, v->batch_count * sizeof *v->batches);
        s->batch_count = s->batches != NULL ? v->batch_count : 0;
    }
    bool ok = s->batches != NULL || v->batch_count == 0;
    pthread_mutex_unlock(&mv->slock);
    s->pending_count = atomic_load(&mv->pending);
    return ok && s->name != NULL && s->version != NULL ? TC_OK : TC_E_NOMEM;
}

static tc_code append(tc__model_handle *mv, tc__model_stats **out, size_t *count)
{
    tc__model_stats *grown = tc__reallocarray(*out, *count + 1, sizeof *grown);
    if (grown == NULL)
        return TC_E_NOMEM;
    *out = grown;
    tc_code rc = snapshot(mv, &grown[*count]);
    (*count)++;
    return rc;
}

tc_code tc__core_model_stats(tc__core *core, const char *name, const char *version,
                             tc__model_stats **out, size_t *count, tc__error *err)
{
    *out = NULL;
    *count = 0;
    tc_code rc = TC_OK;
    bool named = name != NULL && name[0] != '\0';
    bool versioned = named && version != NULL && version[0] != '\0';
    bool found = false;
    pthread_mutex_lock(&core->lock);
    for (size_t i = 0; i < core->model_count && rc == TC_OK; i++) {
        tc__model_entry *e = core->models[i];
        if (named && strcmp(e->name, name) != 0)
            continue;
        for (size_t j = 0; j < e->version_count && rc == TC_OK; j++) {
            tc__model_handle *mv = e->versions[j];
            if (mv->state != TC__MV_READY)
                continue;
            if (versioned && strcmp(mv->version_str, version) != 0)
                continue;
            found = true;
            rc = append(mv, out, count);
        }
    }
    pthread_mutex_unlock(&core->lock);
    if (rc != TC_OK) {
        tc__model_stats_free(*out, *count);
        *out = NULL;
        *count = 0;
        return tc__error_set(err, rc, "out of memory");
    }
    if (named && !found) {
        if (versioned)
            return tc__error_set(err, TC_E_INVALID_ARG,
                                 "requested model version is not available for model '%s'", name);
        return tc__error_set(err, TC_E_INVALID_ARG, "requested model '%s' is not available", name);
    }
    return TC_OK;
}
