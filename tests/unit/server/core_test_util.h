/* Helpers shared by the server core unit tests: build requests, run them
 * through tc__core_infer_async / tc__core_infer_stream and wait (bounded,
 * on a condition) for the callbacks. */
#ifndef TC_TESTS_UNIT_SERVER_CORE_TEST_UTIL_H
#define TC_TESTS_UNIT_SERVER_CORE_TEST_UTIL_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "tc_test.h"

#include "common/alloc.h"
#include "common/timeutil.h"
#include "core/internal.h"

#define UT_MAX_RESPONSES 64

static inline void ut_write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

/* A temporary repository holding model `name` (version 1) with `config`. */
static inline char *ut_repo_with(const char *name, const char *config)
{
    char *dir = tc__strdup("/tmp/tc-core-ut-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char path[512];
    (void)snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(mkdir(path, 0700), 0);
    (void)snprintf(path, sizeof path, "%s/%s/1", dir, name);
    assert_int_equal(mkdir(path, 0700), 0);
    (void)snprintf(path, sizeof path, "%s/%s/config.pbtxt", dir, name);
    ut_write_text(path, config);
    return dir;
}

static inline void ut_repo_remove(char *dir)
{
    tc__repo_remove_tree(dir);
    tc__free(dir);
}

static inline tc__core *ut_start(const char *repo)
{
    const char *repos[] = {repo};
    tc__core_options o;
    memset(&o, 0, sizeof o);
    o.repositories = repos;
    o.repository_count = 1;
    o.control_mode = TC__CONTROL_NONE;
    tc__core *core = NULL;
    tc__error err;
    assert_int_equal(tc__core_new(&o, &core, &err), TC_OK);
    return core;
}

static inline void ut_init_request(tc__infer_request *r, const char *model)
{
    memset(r, 0, sizeof *r);
    r->model_name = tc__strdup(model);
    r->binary_data_output = -1;
}

static inline void ut_add_input(tc__infer_request *r, const char *name, tc_dtype t,
                                const int64_t *shape, size_t ndim, const void *data, size_t size)
{
    r->inputs = tc__reallocarray(r->inputs, r->input_count + 1, sizeof *r->inputs);
    assert_non_null(r->inputs);
    tc__tensor *x = &r->inputs[r->input_count++];
    memset(x, 0, sizeof *x);
    x->name = tc__strdup(name);
    x->dtype = t;
    x->shape = tc__memdup(shape, ndim * sizeof *shape);
    x->ndim = ndim;
    x->owned = tc__memdup(data, size);
    x->data = x->owned;
    x->byte_size = size;
}

static inline const tc__tensor *ut_output(const tc__infer_response *r, const char *name)
{
    for (size_t i = 0; r != NULL && i < r->output_count; i++) {
        if (strcmp(r->outputs[i].name, name) == 0)
            return &r->outputs[i];
    }
    return NULL;
}

static inline int32_t ut_i32(const tc__infer_response *r, const char *name)
{
    const tc__tensor *t = ut_output(r, name);
    assert_non_null(t);
    assert_true(t->byte_size >= 4);
    int32_t v;
    memcpy(&v, t->data, sizeof v);
    return v;
}

/* Everything the callbacks of one request delivered. */
typedef struct ut_collect {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    tc__infer_response *resp[UT_MAX_RESPONSES]; /* non-final, in order */
    size_t count;
    bool done;    /* the final (or unary) callback ran */
    int finals;   /* how many final callbacks ran (must be 1) */
    bool overlap; /* two callbacks ran at once */
    bool in_cb;
    tc__infer_response *last; /* the final response (NULL when none) */
    tc__error err;
} ut_collect;

static inline void ut_collect_init(ut_collect *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    tc__error_clear(&c->err);
}

static inline void ut_collect_cleanup(ut_collect *c)
{
    for (size_t i = 0; i < c->count; i++)
        tc__core_response_free(c->resp[i]);
    tc__core_response_free(c->last);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
}

static inline void ut_on_stream(tc__infer_response *resp, const tc__error *err, bool final,
                                void *user_data)
{
    ut_collect *c = user_data;
    pthread_mutex_lock(&c->lock);
    c->overlap = c->overlap || c->in_cb || c->done;
    if (!final) {
        if (c->count < UT_MAX_RESPONSES)
            c->resp[c->count++] = resp;
        else
            tc__core_response_free(resp);
    } else {
        c->finals++;
        c->last = resp;
        if (err != NULL)
            c->err = *err;
        c->done = true;
        pthread_cond_broadcast(&c->cond);
    }
    pthread_mutex_unlock(&c->lock);
}

static inline void ut_on_done(tc__infer_response *resp, const tc__error *err, void *user_data)
{
    ut_on_stream(resp, err, true, user_data);
}

/* Wait (at most 20 s) for the final callback; false on timeout. */
static inline bool ut_wait(ut_collect *c)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    pthread_mutex_lock(&c->lock);
    while (!c->done) {
        if (pthread_cond_timedwait(&c->cond, &c->lock, &until) != 0)
            break;
    }
    bool done = c->done;
    pthread_mutex_unlock(&c->lock);
    return done;
}

/* Run `req` through the unary path; the response (caller frees) or NULL with *err. */
static inline tc__infer_response *ut_infer(tc__core *core, const tc__infer_request *req,
                                           tc__error *err)
{
    ut_collect c;
    ut_collect_init(&c);
    tc__error_clear(err);
    tc_code rc = tc__core_infer_async(core, req, ut_on_done, &c, err);
    tc__infer_response *resp = NULL;
    if (rc == TC_OK) {
        assert_true(ut_wait(&c));
        *err = c.err;
        resp = c.last;
        c.last = NULL;
    }
    ut_collect_cleanup(&c);
    return resp;
}

#endif /* TC_TESTS_UNIT_SERVER_CORE_TEST_UTIL_H */
