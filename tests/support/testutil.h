/* Helpers shared by the tests: a scripted random source, hex, files, case selection. */
#ifndef WIFIPROV_TESTUTIL_H
#define WIFIPROV_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/*
 * A random source that hands out scripted bytes in order (the fixed inputs of the
 * known-answer vectors), then fails with WIFIPROV_ERR_CRYPTO so a test notices an
 * unexpected draw. Pass fixed_rng_fn and a struct fixed_rng * as random/random_ctx.
 */
struct fixed_rng {
    uint8_t buf[2048];
    size_t len;
    size_t pos;
};
void fixed_rng_init(struct fixed_rng *r);
/* Appends hex-encoded bytes to the script. */
void fixed_rng_push_hex(struct fixed_rng *r, const char *hex);
int fixed_rng_fn(void *ctx, uint8_t *buf, size_t len);

/* Decodes hex into a new malloc'd buffer (*len set); fails the test on bad hex. */
uint8_t *test_hex(const char *hex, size_t *len);
/* Reads a whole file (NUL-terminated, malloc'd); fails the test when unreadable. */
char *test_read_file(const char *path, size_t *len);

/*
 * Runs the cmocka tests in @p tests; with argv[1] only the case of that name
 * (so ctest can list one entry per case).
 */
int test_run(const char *group, const struct CMUnitTest *tests, size_t n, int argc, char **argv);
#define TEST_RUN(group, tests, argc, argv) test_run(group, tests, sizeof(tests) / sizeof((tests)[0]), argc, argv)

#endif
