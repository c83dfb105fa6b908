/* libFuzzer target: the JSON model config (load `config` parameter) reader.
 * Whatever it accepts must print, and the printed form must read back. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/buf.h"
#include "proto/model_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Inference__ModelConfig *cfg = NULL;
    Inference__ModelConfig *back = NULL;
    tc__error err;
    tc__buf json = TC__BUF_INIT;
    if (tc__model_config_from_json((const char *)data, size, &cfg, &err) != TC_OK)
        return 0;
    if (tc__model_config_to_json(cfg, &json) == TC_OK && json.len > 0 &&
        tc__model_config_from_json((const char *)json.data, json.len, &back, &err) != TC_OK)
        __builtin_trap(); /* our own output must parse */
    (void)tc__model_config_normalize(cfg, "fuzz", &err);
    tc__buf_cleanup(&json);
    tc__model_config_free(back);
    tc__model_config_free(cfg);
    return 0;
}
