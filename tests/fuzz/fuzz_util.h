/*
 * What the transport fuzz targets (fuzz_ble, fuzz_http) share: reading records from the
 * input, and the device core they drive (security 0 or 1 without PoP, fixed randomness,
 * an "echo" and a "pend" endpoint).
 */
#ifndef WIFIPROV_FUZZ_UTIL_H
#define WIFIPROV_FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wifiprov/wifiprov.h"

struct fuzz_reader {
    const uint8_t *p;
    size_t n;
};

/* Takes @p len bytes from the input; false (nothing taken) when fewer are left. */
bool fuzz_take(struct fuzz_reader *r, void *out, size_t len);

/*
 * A device from the input's first byte (even: security 0, odd: security 1 without PoP), three
 * sessions at most, with the endpoints "echo" (the request back) and "pend" (PENDING first, the
 * echo on resume). @p wake_fn / @p wake_ctx go into its configuration (may be NULL).
 * @return 0, or -1 when the input is empty or the device could not be made.
 */
int fuzz_device_new(struct fuzz_reader *r, void (*wake_fn)(void *ctx, uint32_t session_id), void *wake_ctx,
                    struct wifiprov_device **out);

#endif
