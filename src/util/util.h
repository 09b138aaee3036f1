/*
 * Internal helpers shared by the library, the daemon and the CLI:
 * allocation, logging, hex. No OS headers.
 */
#ifndef WIFIPROV_UTIL_H
#define WIFIPROV_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wifiprov/common.h"

#include <protobuf-c/protobuf-c.h>

/* The library's allocator (wifiprov_set_allocator()). */
void *wifiprov__malloc(size_t n);
void *wifiprov__calloc(size_t n, size_t size);
void *wifiprov__realloc(void *p, size_t n);
void wifiprov__free(void *p);
/* Frees after wiping @p n bytes. Accepts NULL. */
void wifiprov__free_secret(void *p, size_t n);
char *wifiprov__strdup(const char *s);
/* protobuf-c allocator backed by the library's allocator. */
struct ProtobufCAllocator *wifiprov__pb_allocator(void);
/*
 * An allocator for one protobuf-c unpack that remembers whether it ran out of
 * memory: unpack returns NULL both for malformed input and for exhausted memory.
 * Messages unpacked with it may be freed with wifiprov__pb_allocator().
 */
struct wifiprov_pb_unpack {
    ProtobufCAllocator a;
    bool failed;
};
void wifiprov__pb_unpack_init(struct wifiprov_pb_unpack *u);
/* Why an unpack returned NULL: WIFIPROV_ERR_NOMEM or WIFIPROV_ERR_PROTO. */
int wifiprov__pb_unpack_error(const struct wifiprov_pb_unpack *u);

/* Logging through the application's handler; never pass secrets. printf-style. */
#if defined(__GNUC__)
#define WIFIPROV_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define WIFIPROV_PRINTF(a, b)
#endif
void wifiprov__log(enum wifiprov_log_level level, const char *fmt, ...) WIFIPROV_PRINTF(2, 3);
bool wifiprov__log_enabled(enum wifiprov_log_level level);
#define wifiprov__err(...) wifiprov__log(WIFIPROV_LOG_LEVEL_ERROR, __VA_ARGS__)
#define wifiprov__warn(...) wifiprov__log(WIFIPROV_LOG_LEVEL_WARNING, __VA_ARGS__)
#define wifiprov__info(...) wifiprov__log(WIFIPROV_LOG_LEVEL_INFO, __VA_ARGS__)
#define wifiprov__dbg(...) wifiprov__log(WIFIPROV_LOG_LEVEL_DEBUG, __VA_ARGS__)

/* Lower-case hex of @p len bytes into @p out (2*len+1 bytes, NUL-terminated). */
void wifiprov__hex_encode(const uint8_t *in, size_t len, char *out);
/* The value of one hex digit (either case), or -1. */
int wifiprov__hex_digit(char c);
/* Parses hex (upper or lower case, whitespace ignored) into @p out.
 * @return 0, WIFIPROV_ERR_INVAL (odd count or bad digit), WIFIPROV_ERR_NOSPC. */
int wifiprov__hex_decode(const char *in, uint8_t *out, size_t out_cap, size_t *out_len);

/*
 * Printable form of bytes from a peer (an SSID) for a log line: printable ASCII as is,
 * anything else (and '\\', '"') as \xNN, so a client cannot forge or split log lines.
 * Truncated to fit @p cap (4 * len + 1 holds any input); always NUL-terminated. @return @p out.
 */
const char *wifiprov__escape(const uint8_t *in, size_t len, char *out, size_t cap);
#define WIFIPROV__ESCAPED_SSID_MAX (4 * 32 + 1)

/*
 * A secret given on the command line (PoP, password): returns a malloc()ed copy (free() it
 * after wiping) and wipes the argument in place, so ps and /proc/PID/cmdline show nothing.
 * NULL when out of memory (the argument is wiped all the same).
 */
char *wifiprov__argv_secret(char *arg);

#define WIFIPROV_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define WIFIPROV_MIN(a, b) ((a) < (b) ? (a) : (b))

#endif
