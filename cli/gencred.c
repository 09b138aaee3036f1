/*
 * gen-cred: security-2 salt and verifier for a username/password, printed as the C
 * arrays esp_prov prints (PROTOCOL.md §6.5) and optionally written as the verifier
 * file wifiprovd reads (docs/sec2-verifier-file.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

/* esp_prov's layout: "0x%02x" joined by ", ", 16 per line, 4 spaces in front. */
static void print_array(const char *name, const uint8_t *d, size_t n)
{
    size_t i;

    printf("static const char %s[] = {\n", name);
    for (i = 0; i < n; i++) {
        if (i % 16 == 0)
            printf("    ");
        printf("0x%02x", d[i]);
        if (i + 1 < n)
            printf(", ");
        if (i % 16 == 15 || i + 1 == n)
            printf("\n");
    }
    printf("};\n\n");
}

/* Writes the JSON verifier file through a 0600 temporary file renamed into place. */
static int write_verifier_file(struct cli_ctx *ctx, const char *path, bool force, const char *username,
                               const char *salt_hex, const char *verifier_hex)
{
    cJSON *o = cJSON_CreateObject();
    char *text = NULL, *tmp = NULL;
    size_t len;
    int fd = -1, ret = CLI_EXIT_ERROR;

    cJSON_AddStringToObject(o, "username", username);
    cJSON_AddStringToObject(o, "salt", salt_hex);
    cJSON_AddStringToObject(o, "verifier", verifier_hex);
    text = cJSON_Print(o);
    len = strlen(path);
    tmp = malloc(len + 16);
    if (!text || !tmp) {
        ret = cli_fail(ctx, CLI_EXIT_ERROR, NULL, "out of memory");
        goto out;
    }
    snprintf(tmp, len + 16, "%s.tmpXXXXXX", path);
    fd = mkstemp(tmp); /* mode 0600 */
    if (fd < 0) {
        ret = cli_fail(ctx, CLI_EXIT_ERROR, NULL, "cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    len = strlen(text);
    if (fchmod(fd, 0600) < 0 || write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
        fsync(fd) < 0) {
        ret = cli_fail(ctx, CLI_EXIT_ERROR, NULL, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (close(fd) < 0) {
        fd = -1;
        ret = cli_fail(ctx, CLI_EXIT_ERROR, NULL, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    /* Without --force, link() puts the file in place only if nothing is there (no check-then-write race). */
    if (force ? rename(tmp, path) < 0 : link(tmp, path) < 0) {
        if (errno == EEXIST)
            ret = cli_fail(ctx, CLI_EXIT_USAGE, NULL, "%s exists: pass --force to replace it", path);
        else
            ret = cli_fail(ctx, CLI_EXIT_ERROR, NULL, "cannot create %s: %s", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    if (!force)
        unlink(tmp);
    free(tmp);
    tmp = NULL;
    ret = 0;
out:
    if (fd >= 0)
        close(fd);
    if (tmp) {
        unlink(tmp);
        free(tmp);
    }
    free(text);
    cJSON_Delete(o);
    return ret;
}

int cli_cmd_gen_cred(struct cli_ctx *ctx)
{
    struct cli_opts *o = ctx->opts;
    uint8_t salt[64], verifier[WIFIPROV_SEC2_VERIFIER_LEN];
    char salt_hex[2 * sizeof(salt) + 1], verifier_hex[2 * sizeof(verifier) + 1];
    size_t skip = 0;
    int err, ret;

    /* Before asking for anything: a verifier file is not replaced by accident. */
    if (o->out_file && !o->force && access(o->out_file, F_OK) == 0)
        return cli_fail(ctx, CLI_EXIT_USAGE, NULL, "%s exists: pass --force to replace it", o->out_file);
    if (!o->username) {
        char *v = o->interactive ? cli_prompt("SRP username: ", false) : NULL;

        if (!v || !v[0]) {
            free(v);
            return cli_fail(ctx, CLI_EXIT_USAGE, NULL,
                            "Username/password cannot be empty for security scheme 2 (SRP6a): pass --username");
        }
        o->username = v;
    }
    if (!o->password.value) {
        char *v = o->interactive ? cli_prompt("SRP password: ", true) : NULL;

        if (!v || !v[0]) {
            if (v)
                cli_secret_free(&(struct cli_secret){ .value = v });
            return cli_fail(ctx, CLI_EXIT_USAGE, NULL,
                            "Username/password cannot be empty for security scheme 2 (SRP6a): pass --password, "
                            "--password-file or WIFIPROV_PASSWORD");
        }
        o->password.value = v;
        o->password.source = "prompt";
    }
    if (!o->password.value[0] || !o->username[0])
        return cli_fail(ctx, CLI_EXIT_USAGE, NULL, "Username/password cannot be empty for security scheme 2 (SRP6a)");
    if (wifiprov_sec2_esp_prov_incompatible(o->username, o->password.value))
        return cli_fail(ctx, CLI_EXIT_USAGE, "EspProvIncompatible",
                        "this username/password pair cannot be used: SHA-512(username:password) starts with a zero "
                        "byte, which esp_prov drops, so firmware made with esp_prov's numbers and firmware made "
                        "with ours would disagree about the verifier. Pick another password");
    err = wifiprov_sec2_gen_salt_verifier(o->username, o->password.value, o->salt_len, NULL, NULL, salt, verifier);
    if (err < 0)
        return cli_fail_err(ctx, err, "Cannot generate the salt and verifier");

    wifiprov__hex_encode(salt, o->salt_len, salt_hex);
    wifiprov__hex_encode(verifier, sizeof(verifier), verifier_hex);
    if (o->out_file) {
        ret = write_verifier_file(ctx, o->out_file, o->force, o->username, salt_hex, verifier_hex);
        if (ret)
            goto out;
        cJSON_AddStringToObject(ctx->result, "out", o->out_file);
    }
    /* esp_prov prints the verifier without leading zero bytes (it goes through an integer). */
    while (skip + 1 < sizeof(verifier) && verifier[skip] == 0)
        skip++;
    if (o->json) {
        cJSON_AddStringToObject(ctx->result, "username", o->username);
        cJSON_AddStringToObject(ctx->result, "salt", salt_hex);
        cJSON_AddStringToObject(ctx->result, "verifier", verifier_hex);
        ret = cli_succeed(ctx);
        goto out;
    }
    printf("==== Salt-verifier for security scheme 2 (SRP6a) ====\n");
    print_array("sec2_salt", salt, o->salt_len);
    print_array("sec2_verifier", verifier + skip, sizeof(verifier) - skip);
    if (o->out_file)
        fprintf(stderr, "Wrote the verifier file %s (for wifiprovd --sec2-verifier-file)\n", o->out_file);
    fflush(stdout);
    ret = 0;
out:
    wifiprov_memzero(salt, sizeof(salt));
    wifiprov_memzero(verifier, sizeof(verifier));
    return ret;
}
