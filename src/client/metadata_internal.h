/* The insides of the metadata objects, filled by the transports. */
#ifndef TC_SRC_CLIENT_METADATA_INTERNAL_H
#define TC_SRC_CLIENT_METADATA_INTERNAL_H

#include <tritonc/client.h>

#include "proto/v2_types.h"

struct tc_server_metadata {
    tc__server_metadata m;
};

struct tc_model_metadata {
    tc__model_metadata m;
};

struct tc_repository_index {
    tc__repo_index idx;
};

#endif /* TC_SRC_CLIENT_METADATA_INTERNAL_H */
