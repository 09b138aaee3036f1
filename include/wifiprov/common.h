/*
 * Things shared by every part of libwifiprov: allocator, logging, random source.
 * No OS headers.
 */
#ifndef WIFIPROV_COMMON_H
#define WIFIPROV_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "wifiprov/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Library version. */
#define WIFIPROV_VERSION_STRING "0.1.0"

/* Largest message a transport carries (the HTTP body limit of the protocol). */
#define WIFIPROV_MAX_MSG 4096u
/* Room a reply buffer needs: message plus a GCM tag and slack. */
#define WIFIPROV_REPLY_CAP (WIFIPROV_MAX_MSG + 64u)

/**
 * Replaceable allocator. Every allocation of the library (including the ones
 * protobuf-c and cJSON make for it) goes through these. Set before creating
 * any handle; NULL members restore the C library's functions.
 */
struct wifiprov_allocator {
    void *(*malloc_fn)(size_t size);
    void *(*calloc_fn)(size_t n, size_t size);
    void *(*realloc_fn)(void *ptr, size_t size);
    void (*free_fn)(void *ptr);
};
void wifiprov_set_allocator(const struct wifiprov_allocator *a);

enum wifiprov_log_level {
    WIFIPROV_LOG_LEVEL_ERROR = 0,
    WIFIPROV_LOG_LEVEL_WARNING = 1,
    WIFIPROV_LOG_LEVEL_INFO = 2,
    WIFIPROV_LOG_LEVEL_DEBUG = 3,
};

/* The library never prints; it reports through this handler. Secrets are never passed. */
typedef void (*wifiprov_log_fn)(void *ctx, enum wifiprov_log_level level, const char *msg);
void wifiprov_set_log_handler(wifiprov_log_fn fn, void *ctx, enum wifiprov_log_level max_level);

/**
 * A source of random bytes. The default is the crypto backend's CSPRNG;
 * tests inject fixed bytes through it to reproduce known-answer vectors.
 * @return 0 or a negative WIFIPROV_ERR_*.
 */
typedef int (*wifiprov_random_fn)(void *ctx, uint8_t *buf, size_t len);

/* Zeroes memory in a way the compiler cannot remove. */
void wifiprov_memzero(void *p, size_t n);

#ifdef __cplusplus
}
#endif
#endif
