/* What every transport shares: the tc_client base struct with its vtable,
 * header lists, and the last-error buffer. A transport embeds tc_client as
 * the first member of its own struct. */
#ifndef TC_SRC_CLIENT_CLIENT_INTERNAL_H
#define TC_SRC_CLIENT_CLIENT_INTERNAL_H

#include <tritonc/client.h>
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

/* Record a failure of the current call and return `code`. */
tc_code tc__client_fail(tc_client *c, tc_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Copy an error (code + message) into the client's last error; returns its code. */
tc_code tc__client_fail_err(tc_client *c, const tc__error *err);

#endif /* TC_SRC_CLIENT_CLIENT_INTERNAL_H */
