#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util.h"

void fixed_rng_init(struct fixed_rng *r)
{
    memset(r, 0, sizeof(*r));
}

void fixed_rng_push_hex(struct fixed_rng *r, const char *hex)
{
    size_t n = 0;

    assert_int_equal(wifiprov__hex_decode(hex, r->buf + r->len, sizeof(r->buf) - r->len, &n), 0);
    r->len += n;
}

int fixed_rng_fn(void *ctx, uint8_t *buf, size_t len)
{
    struct fixed_rng *r = ctx;

    if (r->len - r->pos < len)
        return WIFIPROV_ERR_CRYPTO;
    memcpy(buf, r->buf + r->pos, len);
    r->pos += len;
    return 0;
}

uint8_t *test_hex(const char *hex, size_t *len)
{
    size_t cap = strlen(hex) / 2 + 1;
    uint8_t *b = malloc(cap);

    assert_non_null(b);
    assert_int_equal(wifiprov__hex_decode(hex, b, cap, len), 0);
    return b;
}

char *test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

int test_run(const char *group, const struct CMUnitTest *tests, size_t n, int argc, char **argv)
{
    size_t i;

    if (argc < 2)
        return _cmocka_run_group_tests(group, tests, n, NULL, NULL);
    for (i = 0; i < n; i++) {
        if (strcmp(tests[i].name, argv[1]) == 0)
            return _cmocka_run_group_tests(group, &tests[i], 1, NULL, NULL);
    }
    fprintf(stderr, "%s: no test case named '%s'\n", group, argv[1]);
    return 2;
}
