/* Command line of image_client, with upstream's flags (short and long):
 *   -m/--model-name NAME (required)   -x/--model-version VERSION
 *   -b/--batch-size N (1)             -c/--classes N (1)
 *   -s/--scaling NONE|INCEPTION|VGG   -u/--url URL
 *   -i/--protocol HTTP|gRPC           -a/--async   --streaming
 *   -v/--verbose   -h/--help          IMAGE_OR_FOLDER
 * Values go as "-b 2", "-b2", "--batch-size 2" or "--batch-size=2";
 * flags without a value cluster ("-av"). */
#ifndef TC_TOOLS_IMAGE_CLIENT_OPTIONS_H
#define TC_TOOLS_IMAGE_CLIENT_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "preprocess.h"

typedef enum ic_protocol { IC_PROTOCOL_HTTP = 0, IC_PROTOCOL_GRPC = 1 } ic_protocol;

typedef struct ic_options {
    const char *model_name;    /* points into argv */
    const char *model_version; /* "" = the server's choice */
    size_t batch_size;
    size_t classes;
    ic_scaling scaling;
    const char *url; /* default by protocol */
    ic_protocol protocol;
    bool async;
    bool streaming;
    bool verbose;
    bool help;
    const char *image_path;
} ic_options;

/* Usage text (no trailing newline). */
const char *ic_usage(void);

/* Parse argv[1..argc-1]. Returns 0 (with `help` set for -h, other checks
 * skipped), or -1 with a one-line message in `err`. */
int ic_options_parse(int argc, char **argv, ic_options *out, char *err, size_t err_size);

#endif /* TC_TOOLS_IMAGE_CLIENT_OPTIONS_H */
