/*
 * Security 2 credentials: salt and verifier generation for a username and
 * password (PROTOCOL.md §6.5, pitfall P7). No OS headers.
 */
#include <string.h>

#include "crypto/crypto.h"
#include "sec/srp6a.h"
#include "util.h"
#include "wifiprov/device.h"

/* Salts are redrawn while they start with 0x00; give up after this many tries. */
#define SALT_TRIES 64

static int default_random(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    return wifiprov__crypto_random(buf, len);
}

/* h = SHA-512(username ":" password) */
static int inner_digest(const char *username, const char *password, uint8_t h[64])
{
    struct wifiprov_iov iov[3];

    iov[0].data = username;
    iov[0].len = strlen(username);
    iov[1].data = ":";
    iov[1].len = 1;
    iov[2].data = password;
    iov[2].len = strlen(password);
    return wifiprov__sha512(iov, 3, h);
}

bool wifiprov_sec2_esp_prov_incompatible(const char *username, const char *password)
{
    uint8_t h[64];
    bool bad;

    if (!username || !password)
        return false;
    /* If the digest cannot be computed, nothing can be promised: say incompatible. */
    bad = inner_digest(username, password, h) < 0 || h[0] == 0x00;
    wifiprov_memzero(h, sizeof(h));
    return bad;
}

int wifiprov_sec2_gen_salt_verifier(const char *username, const char *password, size_t salt_len,
                                    wifiprov_random_fn random, void *random_ctx, uint8_t *salt, uint8_t *verifier)
{
    struct wifiprov_srp *srp = NULL;
    uint8_t h[64], x[64];
    size_t ulen, tries;
    int rc;

    if (!username || !password || !salt || !verifier || salt_len < 1 || salt_len > 64) {
        rc = WIFIPROV_ERR_INVAL;
        goto out;
    }
    ulen = strlen(username);
    if (ulen < 1 || ulen > 65535 || strlen(password) < 1) {
        rc = WIFIPROV_ERR_INVAL;
        goto out;
    }
    if (!random) {
        random = default_random;
        random_ctx = NULL;
    }
    rc = inner_digest(username, password, h);
    if (rc < 0)
        goto out;
    if (h[0] == 0x00) {
        /* esp_prov would strip that byte and compute another x (pitfall P7). */
        wifiprov__warn("sec2: this username/password pair is not usable with esp_prov; choose another password");
        rc = WIFIPROV_ERR_BAD_CRED;
        goto out;
    }
    for (tries = 0;; tries++) {
        if (tries == SALT_TRIES) {
            rc = WIFIPROV_ERR_CRYPTO;
            goto out;
        }
        rc = random(random_ctx, salt, salt_len);
        if (rc > 0)
            rc = WIFIPROV_ERR_CRYPTO;
        if (rc < 0)
            goto out;
        /* esp_prov would shorten a salt starting with 0x00. */
        if (salt[0] != 0x00)
            break;
    }
    rc = wifiprov__srp_new(&wifiprov__srp_group_3072, &srp);
    if (rc < 0)
        goto out;
    rc = wifiprov__srp_x(srp, salt, salt_len, (const uint8_t *)username, ulen, (const uint8_t *)password,
                         strlen(password), x);
    if (rc < 0)
        goto out;
    rc = wifiprov__srp_verifier(srp, x, sizeof(x), verifier);
out:
    if (rc < 0 && verifier)
        wifiprov_memzero(verifier, WIFIPROV_SEC2_VERIFIER_LEN);
    wifiprov_memzero(h, sizeof(h));
    wifiprov_memzero(x, sizeof(x));
    wifiprov__srp_free(srp);
    return rc;
}
