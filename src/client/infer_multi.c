/* Several inferences as one call (upstream's InferMulti / AsyncInferMulti):
 * the synchronous form runs them one after another, the asynchronous one
 * sends them all at once and calls back once with every result. */
#include <pthread.h>
#include <string.h>

#include "client/client_internal.h"
#include "client/result_internal.h"
#include "common/alloc.h"

/* A result for a request that could not be sent. NULL on allocation failure. */
static tc_result *unsent(tc_code code, const char *why)
{
    tc_result *r = tc__result_new();
    if (r != NULL)
        tc__result_set_error(r, code, 0, why);
    return r;
}

tc_code tc_client_infer_multi(tc_client *client, const tc_request *const *requests, size_t count,
                              tc_result **results)
{
    if (client == NULL)
        return TC_E_INVALID_ARG;
    if (requests == NULL || results == NULL || count == 0)
        return tc__client_fail(client, TC_E_INVALID_ARG, "requests or results is NULL or empty");
    tc_code first = TC_OK;
    for (size_t i = 0; i < count; i++) {
        results[i] = NULL;
        tc_code rc = tc_client_infer(client, requests[i], &results[i]);
        if (results[i] == NULL)
            results[i] = unsent(rc, tc_client_last_error(client));
        if (results[i] == NULL)
            rc = TC_E_NOMEM;
        if (first == TC_OK && rc != TC_OK)
            first = rc;
    }
    return first;
}

/* ---- asynchronous ------------------------------------------------------------------------ */

typedef struct multi multi;

typedef struct slot {
    multi *m;
    size_t index;
} slot;

struct multi {
    pthread_mutex_t lock;
    size_t left; /* callbacks still to come, plus one while submitting */
    size_t count;
    tc_result **results;
    slot *slots;
    tc_multi_cb cb;
    void *user_data;
};

static void multi_free(multi *m)
{
    pthread_mutex_destroy(&m->lock);
    tc__free(m->results);
    tc__free(m->slots);
    tc__free(m);
}

/* One share done; the last one delivers every result. */
static void settle(multi *m)
{
    pthread_mutex_lock(&m->lock);
    bool last = --m->left == 0;
    pthread_mutex_unlock(&m->lock);
    if (!last)
        return;
    m->cb(m->results, m->count, m->user_data);
    multi_free(m);
}

static void on_one(tc_result *result, void *user_data)
{
    slot *s = user_data;
    s->m->results[s->index] = result;
    settle(s->m);
}

tc_code tc_client_infer_multi_async(tc_client *client, const tc_request *const *requests,
                                    size_t count, tc_multi_cb cb, void *user_data)
{
    if (client == NULL)
        return TC_E_INVALID_ARG;
    if (requests == NULL || cb == NULL || count == 0)
        return tc__client_fail(client, TC_E_INVALID_ARG, "requests or cb is NULL or empty");
    multi *m = tc__calloc(1, sizeof *m);
    if (m != NULL) {
        m->results = tc__calloc(count, sizeof *m->results);
        m->slots = tc__calloc(count, sizeof *m->slots);
    }
    if (m == NULL || m->results == NULL || m->slots == NULL) {
        if (m != NULL) {
            tc__free(m->results);
            tc__free(m->slots);
        }
        tc__free(m);
        return tc__client_fail(client, TC_E_NOMEM, "out of memory");
    }
    pthread_mutex_init(&m->lock, NULL);
    m->count = count;
    m->cb = cb;
    m->user_data = user_data;
    m->left = count + 1; /* the submitting loop holds one share */
    size_t sent = 0;
    tc_code first_error = TC_OK;
    for (size_t i = 0; i < count; i++) {
        m->slots[i].m = m;
        m->slots[i].index = i;
        tc_code rc = tc_client_infer_async(client, requests[i], on_one, &m->slots[i]);
        if (rc == TC_OK) {
            sent++;
            continue;
        }
        /* Not sent: its result says why; the others go on. */
        if (first_error == TC_OK)
            first_error = rc;
        m->results[i] = unsent(rc, tc_client_last_error(client));
        pthread_mutex_lock(&m->lock);
        m->left--;
        pthread_mutex_unlock(&m->lock);
    }
    if (sent == 0) {
        /* Nothing is in flight: report the error, never call back. */
        for (size_t i = 0; i < count; i++)
            tc_result_free(m->results[i]);
        multi_free(m);
        return first_error;
    }
    settle(m); /* may deliver right here when every callback already ran */
    return TC_OK;
}
