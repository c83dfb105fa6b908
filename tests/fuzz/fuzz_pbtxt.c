/* libFuzzer target: config.pbtxt text through the text-format reader,
 * normalisation, the JSON writer and metadata derivation. */
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "proto/model_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Inference__ModelConfig *cfg = NULL;
    tc__error err;
    if (tc__model_config_from_pbtxt((const char *)data, size, &cfg, &err) != TC_OK)
        return 0;
    tc__buf json = TC__BUF_INIT;
    (void)tc__model_config_to_json(cfg, &json);
    tc__buf_reset(&json);
    if (tc__model_config_normalize(cfg, "fuzz", &err) == TC_OK) {
        tc__model_metadata md;
        (void)tc__model_config_to_json(cfg, &json);
        if (tc__model_config_metadata(cfg, NULL, 0, &md) == TC_OK)
            tc__model_metadata_cleanup(&md);
    }
    tc__buf_cleanup(&json);
    tc__model_config_free(cfg);
    return 0;
}
