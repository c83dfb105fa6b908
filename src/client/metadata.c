/* Accessors of server metadata, model metadata and the repository index. */
#include "client/metadata_internal.h"

#include "common/alloc.h"

static const char *or_empty(const char *s)
{
    return s != NULL ? s : "";
}

void tc_server_metadata_free(tc_server_metadata *meta)
{
    if (meta == NULL)
        return;
    tc__server_metadata_cleanup(&meta->m);
    tc__free(meta);
}

const char *tc_server_metadata_name(const tc_server_metadata *meta)
{
    return meta == NULL ? "" : or_empty(meta->m.name);
}

const char *tc_server_metadata_version(const tc_server_metadata *meta)
{
    return meta == NULL ? "" : or_empty(meta->m.version);
}

size_t tc_server_metadata_extension_count(const tc_server_metadata *meta)
{
    return meta == NULL ? 0 : meta->m.extension_count;
}

const char *tc_server_metadata_extension(const tc_server_metadata *meta, size_t index)
{
    if (meta == NULL || index >= meta->m.extension_count)
        return NULL;
    return meta->m.extensions[index];
}

void tc_model_metadata_free(tc_model_metadata *meta)
{
    if (meta == NULL)
        return;
    tc__model_metadata_cleanup(&meta->m);
    tc__free(meta);
}

const char *tc_model_metadata_name(const tc_model_metadata *meta)
{
    return meta == NULL ? "" : or_empty(meta->m.name);
}

const char *tc_model_metadata_platform(const tc_model_metadata *meta)
{
    return meta == NULL ? "" : or_empty(meta->m.platform);
}

size_t tc_model_metadata_version_count(const tc_model_metadata *meta)
{
    return meta == NULL ? 0 : meta->m.version_count;
}

const char *tc_model_metadata_version(const tc_model_metadata *meta, size_t index)
{
    if (meta == NULL || index >= meta->m.version_count)
        return NULL;
    return meta->m.versions[index];
}

size_t tc_model_metadata_input_count(const tc_model_metadata *meta)
{
    return meta == NULL ? 0 : meta->m.input_count;
}

size_t tc_model_metadata_output_count(const tc_model_metadata *meta)
{
    return meta == NULL ? 0 : meta->m.output_count;
}

static tc_code describe(const tc__tensor_meta *t, const char **name, tc_dtype *dtype,
                        const int64_t **shape, size_t *ndim)
{
    if (name != NULL)
        *name = or_empty(t->name);
    if (dtype != NULL)
        *dtype = t->dtype;
    if (shape != NULL)
        *shape = t->shape;
    if (ndim != NULL)
        *ndim = t->ndim;
    return TC_OK;
}

tc_code tc_model_metadata_input(const tc_model_metadata *meta, size_t index, const char **name,
                                tc_dtype *dtype, const int64_t **shape, size_t *ndim)
{
    if (meta == NULL || index >= meta->m.input_count)
        return TC_E_INVALID_ARG;
    return describe(&meta->m.inputs[index], name, dtype, shape, ndim);
}

tc_code tc_model_metadata_output(const tc_model_metadata *meta, size_t index, const char **name,
                                 tc_dtype *dtype, const int64_t **shape, size_t *ndim)
{
    if (meta == NULL || index >= meta->m.output_count)
        return TC_E_INVALID_ARG;
    return describe(&meta->m.outputs[index], name, dtype, shape, ndim);
}

void tc_repository_index_free(tc_repository_index *index)
{
    if (index == NULL)
        return;
    tc__repo_index_cleanup(&index->idx);
    tc__free(index);
}

size_t tc_repository_index_count(const tc_repository_index *index)
{
    return index == NULL ? 0 : index->idx.count;
}

static const tc__repo_entry *entry(const tc_repository_index *index, size_t i)
{
    if (index == NULL || i >= index->idx.count)
        return NULL;
    return &index->idx.entries[i];
}

const char *tc_repository_index_name(const tc_repository_index *index, size_t i)
{
    const tc__repo_entry *e = entry(index, i);
    return e == NULL ? NULL : or_empty(e->name);
}

const char *tc_repository_index_version(const tc_repository_index *index, size_t i)
{
    const tc__repo_entry *e = entry(index, i);
    return e == NULL ? "" : or_empty(e->version);
}

const char *tc_repository_index_state(const tc_repository_index *index, size_t i)
{
    const tc__repo_entry *e = entry(index, i);
    return e == NULL ? "" : or_empty(e->state);
}

const char *tc_repository_index_reason(const tc_repository_index *index, size_t i)
{
    const tc__repo_entry *e = entry(index, i);
    return e == NULL ? "" : or_empty(e->reason);
}
