/* What every transport shares: the tc_client base struct with its vtable,
 * header lists, and the last-error buffer. A transport embeds tc_client as
 * the first member of its own struct. */
#ifndef TC_SRC_CLIENT_CLIENT_INTERNAL_H
#define TC_SRC_CLIENT_CLIENT_INTERNAL_H

#include <tritonc/client.h>
#include <tritonc/shm.h>
#include <tritonc/stream.h>

#include "common/error.h"

/* One name/value pair of a header list. */
typedef struct tc__header {
    char *name;
    char *value;
} tc__header;

/* A growable list of headers; the storage behind tc_headers. */
typedef struct tc__hlist {
    tc__header *items;
    size_t count;
} tc__hlist;

struct tc_headers {
    tc__hlist list;
};

/* Copy name/value onto the list after checking them (no CR/LF, non-empty name). */
tc_code tc__hlist_add(tc__hlist *l, const char *name, const char *value);
/* Append copies of every entry of `src`. */
tc_code tc__hlist_copy(tc__hlist *dst, const tc__hlist *src);
void tc__hlist_cleanup(tc__hlist *l);

struct tc_load_options {
    char *config_json;
    tc__hlist files; /* name = path, value unused; blobs parallel */
    struct tc__load_file {
        uint8_t *data;
        size_t size;
    } * blobs;
};

/* Shared-memory kinds of the shm vtable entries. */
enum { TC__SHM_SYSTEM, TC__SHM_CUDA };

/* Arguments of a shm registration: key/offset for system regions,
 * raw_handle (TC_CUDA_IPC_HANDLE_SIZE bytes)/device_id for CUDA ones. */
typedef struct tc__shm_reg {
    const char *name;
    const char *key;
    uint64_t offset;
    uint64_t byte_size;
    const uint8_t *raw_handle;
    int64_t device_id;
} tc__shm_reg;

/* One region of a status list; key is "" and device_id -1 where they do not apply. */
typedef struct tc__shm_entry {
    char *name;
    char *key;
    uint64_t offset;
    uint64_t byte_size;
    int64_t device_id;
} tc__shm_entry;

struct tc_shm_status {
    tc__shm_entry *items;
    size_t count;
};

/* Append a copy of one entry (key NULL = ""). TC_E_NOMEM. */
tc_code tc__shm_status_add(tc_shm_status *s, const char *name, const char *key, uint64_t offset,
                           uint64_t byte_size, int64_t device_id);
/* Sort by region name, so both transports list regions alike. */
void tc__shm_status_sort(tc_shm_status *s);

/* One function per public client call; `h` is the caller's header list or NULL. */
typedef struct tc__client_vtable {
    void (*destroy)(tc_client *c); /* after the base checks; joins threads */
    bool (*on_io_thread)(const tc_client *c);
    tc_code (*health)(tc_client *c, int which, const char *model, const char *version,
                      const tc__hlist *h, bool *ok);
    tc_code (*server_metadata)(tc_client *c, const tc__hlist *h, tc_server_metadata **out);
    tc_code (*model_metadata)(tc_client *c, const char *model, const char *version,
                              const tc__hlist *h, tc_model_metadata **out);
    /* GET-style JSON documents: which = TC__DOC_* */
    tc_code (*document)(tc_client *c, int which, const char *model, const char *version,
                        const char *body, const tc__hlist *h, char **json);
    tc_code (*repository_index)(tc_client *c, bool ready_only, const tc__hlist *h,
                                tc_repository_index **out);
    tc_code (*load)(tc_client *c, const char *model, const tc_load_options *o, const tc__hlist *h);
    tc_code (*unload)(tc_client *c, const char *model, bool dependents, const tc__hlist *h);
    tc_code (*infer)(tc_client *c, const tc_request *req, tc_result **result);
    tc_code (*infer_async)(tc_client *c, const tc_request *req, tc_infer_cb cb, void *ud);
    /* Optional (NULL = TC_E_NOT_SUPPORTED, or a plain infer_async with a local id). */
    tc_code (*infer_async_id)(tc_client *c, const tc_request *req, tc_infer_cb cb, void *ud,
                              uint64_t *call_id);
    tc_code (*cancel)(tc_client *c, uint64_t call_id);
    tc_code (*stream_start)(tc_client *c, tc_stream_cb cb, void *ud, const tc__hlist *h,
                            tc_stream **out);
    /* Shared memory (kind = TC__SHM_*); name NULL = every region of the kind. */
    tc_code (*shm_register)(tc_client *c, int kind, const tc__shm_reg *reg, const tc__hlist *h);
    tc_code (*shm_unregister)(tc_client *c, int kind, const char *name, const tc__hlist *h);
    tc_code (*shm_status)(tc_client *c, int kind, const char *name, const tc__hlist *h,
                          tc_shm_status **out);
} tc__client_vtable;

/* health `which` */
enum { TC__HEALTH_LIVE, TC__HEALTH_READY, TC__HEALTH_MODEL };
/* document `which` */
enum {
    TC__DOC_MODEL_CONFIG,
    TC__DOC_STATISTICS,
    TC__DOC_TRACE_GET,
    TC__DOC_TRACE_UPDATE,
    TC__DOC_LOG_GET,
    TC__DOC_LOG_UPDATE
};

struct tc_client {
    const tc__client_vtable *vt;
    tc__error last; /* message of the last failed call; written by the calling thread only */
    uint64_t next_call_id; /* ids of transports without their own (calling thread only) */
};

/* Async calls of requests with outputs in shared memory: replace cb and
 * user_data by a wrapper that marks those outputs on the result (see
 * tc__result_note_shm) before running the caller's callback. *wrap is NULL
 * when nothing was wrapped; when the submission then fails, release it
 * with tc__shm_async_unwrap(). TC_E_NOMEM. */
tc_code tc__shm_async_wrap(const tc_request *req, tc_infer_cb *cb, void **user_data, void **wrap);
void tc__shm_async_unwrap(void *wrap);

/* Record a failure of the current call and return `code`. */
tc_code tc__client_fail(tc_client *c, tc_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Copy an error (code + message) into the client's last error; returns its code. */
tc_code tc__client_fail_err(tc_client *c, const tc__error *err);

#endif /* TC_SRC_CLIENT_CLIENT_INTERNAL_H */
