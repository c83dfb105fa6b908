/* image_client flag parsing; see options.h. A small hand-written parser,
 * so it can be called repeatedly from tests (getopt keeps global state). */
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *ic_usage(void)
{
    return "usage: image_client [-h] [-v] [-a] [--streaming] -m MODEL_NAME [-x MODEL_VERSION]\n"
           "                    [-b BATCH_SIZE] [-c CLASSES] [-s {NONE,INCEPTION,VGG}] [-u URL]\n"
           "                    [-i PROTOCOL] IMAGE_OR_FOLDER\n"
           "  -m, --model-name     name of the model (required)\n"
           "  -x, --model-version  version of the model (default: the server's choice)\n"
           "  -b, --batch-size     images per request (default 1)\n"
           "  -c, --classes        classes to report per image (default 1)\n"
           "  -s, --scaling        pixel scaling: NONE, INCEPTION or VGG (default NONE)\n"
           "  -u, --url            server URL (default localhost:8000, localhost:8001 for gRPC)\n"
           "  -i, --protocol       HTTP or gRPC (default HTTP)\n"
           "  -a, --async          send every request at once and collect the results\n"
           "      --streaming      send the requests over one gRPC stream\n"
           "  -v, --verbose        log every exchange\n"
           "  IMAGE_OR_FOLDER      an image file, or a folder: all images in it, sorted by name";
}

typedef struct flag {
    char short_name; /* 0 = long only */
    const char *long_name;
    bool takes_value;
} flag;

static const flag g_flags[] = {
    {'m', "model-name", true}, {'x', "model-version", true}, {'b', "batch-size", true},
    {'c', "classes", true},    {'s', "scaling", true},       {'u', "url", true},
    {'i', "protocol", true},   {'a', "async", false},        {0, "streaming", false},
    {'v', "verbose", false},   {'h', "help", false},
};
#define FLAG_COUNT (sizeof g_flags / sizeof g_flags[0])

static const flag *find_short(char c)
{
    for (size_t i = 0; i < FLAG_COUNT; i++) {
        if (g_flags[i].short_name != 0 && g_flags[i].short_name == c)
            return &g_flags[i];
    }
    return NULL;
}

static const flag *find_long(const char *name, size_t len)
{
    for (size_t i = 0; i < FLAG_COUNT; i++) {
        if (strlen(g_flags[i].long_name) == len && strncmp(g_flags[i].long_name, name, len) == 0)
            return &g_flags[i];
    }
    return NULL;
}

/* A positive decimal count (upstream: type=int; 0 and negatives make no sense). */
static int parse_count(const char *text, const char *what, size_t *out, char *err, size_t err_size)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (end == text || *end != '\0' || errno != 0) {
        snprintf(err, err_size, "argument %s: invalid int value: '%s'", what, text);
        return -1;
    }
    if (v < 1) {
        snprintf(err, err_size, "argument %s: must be at least 1, got %lld", what, v);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

static int apply(const flag *f, const char *value, ic_options *o, char *err, size_t err_size)
{
    switch (f->short_name) {
    case 'm':
        o->model_name = value;
        return 0;
    case 'x':
        o->model_version = value;
        return 0;
    case 'b':
        return parse_count(value, "-b/--batch-size", &o->batch_size, err, err_size);
    case 'c':
        return parse_count(value, "-c/--classes", &o->classes, err, err_size);
    case 's':
        if (ic_scaling_parse(value, &o->scaling) == 0)
            return 0;
        snprintf(err, err_size,
                 "argument -s/--scaling: invalid choice: '%s' (choose from 'NONE', "
                 "'INCEPTION', 'VGG')",
                 value);
        return -1;
    case 'u':
        o->url = value;
        return 0;
    case 'i':
        if (strcasecmp(value, "http") == 0) {
            o->protocol = IC_PROTOCOL_HTTP;
            return 0;
        }
        if (strcasecmp(value, "grpc") == 0) {
            o->protocol = IC_PROTOCOL_GRPC;
            return 0;
        }
        snprintf(err, err_size, "argument -i/--protocol: invalid choice: '%s' (HTTP or gRPC)",
                 value);
        return -1;
    case 'a':
        o->async = true;
        return 0;
    case 'v':
        o->verbose = true;
        return 0;
    case 'h':
        o->help = true;
        return 0;
    default: /* --streaming */
        o->streaming = true;
        return 0;
    }
}

/* One "--name[=value]" argument; may consume argv[*i + 1]. */
static int parse_long(int argc, char **argv, int *i, ic_options *o, char *err, size_t err_size)
{
    const char *arg = argv[*i] + 2;
    const char *eq = strchr(arg, '=');
    size_t len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
    const flag *f = find_long(arg, len);
    if (f == NULL) {
        snprintf(err, err_size, "unrecognized argument: %s", argv[*i]);
        return -1;
    }
    const char *value = NULL;
    if (f->takes_value) {
        if (eq != NULL)
            value = eq + 1;
        else if (*i + 1 < argc)
            value = argv[++*i];
        if (value == NULL) {
            snprintf(err, err_size, "argument --%s: expected one argument", f->long_name);
            return -1;
        }
    } else if (eq != NULL) {
        snprintf(err, err_size, "argument --%s: ignored explicit argument '%s'", f->long_name,
                 eq + 1);
        return -1;
    }
    return apply(f, value, o, err, err_size);
}

/* One "-abc" cluster; a flag with a value takes the rest or the next argument. */
static int parse_short(int argc, char **argv, int *i, ic_options *o, char *err, size_t err_size)
{
    for (const char *p = argv[*i] + 1; *p != '\0'; p++) {
        const flag *f = find_short(*p);
        if (f == NULL) {
            snprintf(err, err_size, "unrecognized argument: -%c", *p);
            return -1;
        }
        if (!f->takes_value) {
            if (apply(f, NULL, o, err, err_size) != 0)
                return -1;
            continue;
        }
        const char *value = p[1] != '\0' ? p + 1 : (*i + 1 < argc ? argv[++*i] : NULL);
        if (value == NULL) {
            snprintf(err, err_size, "argument -%c/--%s: expected one argument", f->short_name,
                     f->long_name);
            return -1;
        }
        return apply(f, value, o, err, err_size);
    }
    return 0;
}

static int check(ic_options *o, char *err, size_t err_size)
{
    if (o->model_name == NULL || o->model_name[0] == '\0') {
        snprintf(err, err_size, "the following arguments are required: -m/--model-name");
        return -1;
    }
    if (o->image_path == NULL) {
        snprintf(err, err_size, "an image file or folder is required");
        return -1;
    }
    if (o->streaming && o->protocol != IC_PROTOCOL_GRPC) {
        snprintf(err, err_size, "Streaming is only allowed with gRPC protocol");
        return -1;
    }
    if (o->url == NULL)
        o->url = o->protocol == IC_PROTOCOL_GRPC ? "localhost:8001" : "localhost:8000";
    return 0;
}

int ic_options_parse(int argc, char **argv, ic_options *out, char *err, size_t err_size)
{
    ic_options o = {0};
    o.model_version = "";
    o.batch_size = 1;
    o.classes = 1;
    bool only_positional = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int rc = 0;
        if (!only_positional && strcmp(a, "--") == 0) {
            only_positional = true;
        } else if (!only_positional && strncmp(a, "--", 2) == 0) {
            rc = parse_long(argc, argv, &i, &o, err, err_size);
        } else if (!only_positional && a[0] == '-' && a[1] != '\0') {
            rc = parse_short(argc, argv, &i, &o, err, err_size);
        } else if (o.image_path == NULL) {
            o.image_path = a;
        } else {
            snprintf(err, err_size, "unrecognized arguments: %s", a);
            rc = -1;
        }
        if (rc != 0)
            return -1;
    }
    if (!o.help && check(&o, err, err_size) != 0)
        return -1;
    *out = o;
    return 0;
}
