/* libFuzzer target for wifiprovd's configuration file parser (daemon/config.c). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wifiprovd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wifiprovd_config cfg;

    memset(&cfg, 0, sizeof(cfg));
    wifiprovd_config_quiet(true);
    wifiprovd_config_parse_text(&cfg, (const char *)data, size, "fuzz");
    wifiprovd_config_free(&cfg);
    return 0;
}
