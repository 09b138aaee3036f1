/* One replaceable allocator for the library, protobuf-c and cJSON. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <protobuf-c/protobuf-c.h>

#include "util.h"

static struct wifiprov_allocator alloc_fns = {malloc, calloc, realloc, free};

void wifiprov_set_allocator(const struct wifiprov_allocator *a)
{
    cJSON_Hooks hooks;

    alloc_fns.malloc_fn = a && a->malloc_fn ? a->malloc_fn : malloc;
    alloc_fns.calloc_fn = a && a->calloc_fn ? a->calloc_fn : calloc;
    alloc_fns.realloc_fn = a && a->realloc_fn ? a->realloc_fn : realloc;
    alloc_fns.free_fn = a && a->free_fn ? a->free_fn : free;
    hooks.malloc_fn = alloc_fns.malloc_fn;
    hooks.free_fn = alloc_fns.free_fn;
    cJSON_InitHooks(&hooks);
}

void *wifiprov__malloc(size_t n)
{
    return alloc_fns.malloc_fn(n ? n : 1);
}

void *wifiprov__calloc(size_t n, size_t size)
{
    return alloc_fns.calloc_fn(n ? n : 1, size ? size : 1);
}

void *wifiprov__realloc(void *p, size_t n)
{
    return alloc_fns.realloc_fn(p, n ? n : 1);
}

void wifiprov__free(void *p)
{
    if (p)
        alloc_fns.free_fn(p);
}

void wifiprov__free_secret(void *p, size_t n)
{
    if (!p)
        return;
    wifiprov_memzero(p, n);
    alloc_fns.free_fn(p);
}

char *wifiprov__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = wifiprov__malloc(n);

    if (d)
        memcpy(d, s, n);
    return d;
}

void wifiprov_memzero(void *p, size_t n)
{
    volatile unsigned char *v = p;

    while (n--)
        *v++ = 0;
}

static void *pb_alloc(void *ctx, size_t n)
{
    (void)ctx;
    return wifiprov__malloc(n);
}

static void pb_free(void *ctx, void *p)
{
    (void)ctx;
    wifiprov__free(p);
}

static ProtobufCAllocator pb_allocator = {pb_alloc, pb_free, NULL};

struct ProtobufCAllocator *wifiprov__pb_allocator(void)
{
    return &pb_allocator;
}

static void *unpack_alloc(void *ctx, size_t n)
{
    struct wifiprov_pb_unpack *u = ctx;
    void *p = wifiprov__malloc(n);

    if (!p)
        u->failed = true;
    return p;
}

void wifiprov__pb_unpack_init(struct wifiprov_pb_unpack *u)
{
    u->a.alloc = unpack_alloc;
    u->a.free = pb_free;
    u->a.allocator_data = u;
    u->failed = false;
}

int wifiprov__pb_unpack_error(const struct wifiprov_pb_unpack *u)
{
    return u->failed ? WIFIPROV_ERR_NOMEM : WIFIPROV_ERR_PROTO;
}
