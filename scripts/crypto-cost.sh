#!/bin/sh
# Prints the cost of each crypto operation of a build, in instructions counted by
# valgrind's callgrind (the same figure on any machine with the same libraries;
# note that valgrind hides some CPU features, e.g. ADX, from OpenSSL).
#
# Usage: scripts/crypto-cost.sh BUILD_DIR [OPERATION...]
#   BUILD_DIR  a configured and built tree (libwifiprov.a), e.g. build/crypto-openssl
#   OPERATION  any of the names below; all of them by default
# Each operation runs once as warm-up and is then measured over REPS runs
# (default 3; 100 for the cheap symmetric operations):
# cost = (count with REPS runs - count with 0 runs) / REPS.
set -eu

if [ $# -lt 1 ]; then
    sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
    exit 2
fi
build=$(CDPATH= cd -- "$1" && pwd)
shift
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
reps=${REPS:-3}
ops=${*:-"x25519_public x25519_shared sha256_1k sha512_1k ctr_1k gcm_1k modexp_256 modexp_512 srp_device srp_client"}

for tool in valgrind cc; do
    command -v "$tool" >/dev/null 2>&1 || { echo "crypto-cost: $tool not found" >&2; exit 2; }
done
[ -f "$build/libwifiprov.a" ] || { echo "crypto-cost: $build/libwifiprov.a not found (build it first)" >&2; exit 2; }
backend=$(sed -n 's/^WIFIPROV_CRYPTO:[A-Z]*=//p' "$build/CMakeCache.txt")
case "$backend" in
openssl) libs="-lcrypto" ;;
mbedtls) libs="-lmbedcrypto" ;;
*) echo "crypto-cost: unknown backend '$backend'" >&2; exit 2 ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wifiprov-cost.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

cat >"$tmp/cost.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "sec/srp6a.h"
#include "util.h"

/* The example verifier of PROTOCOL.md 12.1 (username wifiprov, password abcd1234). */
static const char v_hex[] =
    "7c7c85476508946dd636af37d7e8914378cffd616c59d2f83908127238de9e24a470261cdfa903c2b270e7b13224da111d9718dc607208cc"
    "9ac90c4827e2ae89aa1625b804d21a9b3a8f37f6e43a712ee127866eadce28ff5446601fb99687dc5740a7d46cc97754dc1682f0ed356ac4"
    "70ad3d90b5819470d7bc65b2d518e02ec3a5f968dd647bb8b73c9cfc00d8717eb79a7cb1b7c2c318342932433e0099e98294e3d82ab09629"
    "b7df0e5f08334076529132009f972c896c391ec8280544173f68028a9f4461d1f5a17e5a70d2c72381cb3868e42c20bc40577617bd08b896"
    "bc26eb32466935058c1570d91be9becca938a667f0ad5013197264bf52c234e21b11797472bd345bb1e2fd6673fe716474d04ebc51241940"
    "870e9240e621e72d4e37762f2ee268c789e8321342068484534ab30c1b4c8d1c519719abae77ffdbecf0109534336bcb3e840fb9d85fb8a0"
    "b855533e70f718f5ce7b4ebf27cecea8b3be40c5c532293e71649ede8cf675a1e6f653c831a878de5040f762de36b2ba";

static uint8_t buf[1024], out[1024], key[32], k2[32], pub[32], iv[16], tag[16];
static uint8_t v[384], a_pub[384], b_pub[384], s_val[384], u[64], kk[64], x[64], a[32], b[32];
static size_t v_len;
static struct wifiprov_srp *srp_fixed;
static struct wifiprov_bn *bn_n, *bn_g, *bn_e, *bn_r;
static struct wifiprov_bn_ctx *bn_ctx;

static int run(const char *op)
{
    struct wifiprov_iov iov = {buf, sizeof(buf)};

    if (!strcmp(op, "x25519_public"))
        return wifiprov__x25519_public(key, pub);
    if (!strcmp(op, "x25519_shared"))
        return wifiprov__x25519_shared(k2, pub, out);
    if (!strcmp(op, "sha256_1k"))
        return wifiprov__sha256(&iov, 1, out);
    if (!strcmp(op, "sha512_1k"))
        return wifiprov__sha512(&iov, 1, out);
    if (!strcmp(op, "ctr_1k")) {
        struct wifiprov_ctr *c;
        int rc = wifiprov__ctr_new(key, iv, &c);

        if (!rc)
            rc = wifiprov__ctr_crypt(c, buf, out, sizeof(buf));
        wifiprov__ctr_free(c);
        return rc;
    }
    if (!strcmp(op, "gcm_1k")) {
        struct wifiprov_gcm *g;
        int rc = wifiprov__gcm_new(key, &g);

        if (!rc)
            rc = wifiprov__gcm_encrypt(g, iv, 12, buf, sizeof(buf), out, tag);
        wifiprov__gcm_free(g);
        return rc;
    }
    if (!strcmp(op, "modexp_256") || !strcmp(op, "modexp_512")) {
        int rc = wifiprov__bn_from_bin(bn_e, x, op[7] == '2' ? 32 : 64);

        return rc ? rc : wifiprov__bn_mod_exp(bn_r, bn_g, bn_e, bn_n, bn_ctx);
    }
    if (!strcmp(op, "srp_device")) {
        /* What the device computes for one security-2 handshake (as src/sec/sec2.c does). */
        struct wifiprov_srp *srp;
        int rc = wifiprov__srp_new(&wifiprov__srp_group_3072, &srp);

        if (!rc)
            rc = wifiprov__srp_check_public(srp, a_pub, 384);
        if (!rc)
            rc = wifiprov__srp_public_b(srp, b, 32, v, v_len, b_pub);
        if (!rc)
            rc = wifiprov__srp_u(srp, a_pub, 384, b_pub, 384, u);
        if (!rc)
            rc = wifiprov__srp_server_s(srp, a_pub, 384, v, v_len, u, 64, b, 32, s_val);
        if (!rc)
            rc = wifiprov__srp_key(srp, s_val, 384, kk);
        wifiprov__srp_free(srp);
        return rc;
    }
    if (!strcmp(op, "srp_client")) {
        struct wifiprov_srp *srp;
        int rc = wifiprov__srp_new(&wifiprov__srp_group_3072, &srp);

        if (!rc)
            rc = wifiprov__srp_public_a(srp, a, 32, a_pub);
        if (!rc)
            rc = wifiprov__srp_u(srp, a_pub, 384, b_pub, 384, u);
        if (!rc)
            rc = wifiprov__srp_client_s(srp, b_pub, 384, x, 64, u, 64, a, 32, s_val);
        if (!rc)
            rc = wifiprov__srp_key(srp, s_val, 384, kk);
        wifiprov__srp_free(srp);
        return rc;
    }
    fprintf(stderr, "unknown operation %s\n", op);
    return -1;
}

int main(int argc, char **argv)
{
    int reps, i, rc;
    uint8_t nb[384];

    if (argc != 3)
        return 2;
    reps = atoi(argv[2]);
    for (i = 0; i < (int)sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 13 + 7);
    memset(key, 0x42, sizeof(key));
    memset(k2, 0x24, sizeof(k2));
    memset(iv, 0x17, sizeof(iv));
    memset(a, 0x11, sizeof(a));
    memset(b, 0x22, sizeof(b));
    memset(x, 0xa5, sizeof(x));
    a[0] |= 0x80;
    x[0] |= 0x80;
    if (wifiprov__hex_decode(v_hex, v, sizeof(v), &v_len) || wifiprov__srp_new(&wifiprov__srp_group_3072, &srp_fixed) ||
        wifiprov__srp_public_a(srp_fixed, a, sizeof(a), a_pub) ||
        wifiprov__srp_public_b(srp_fixed, b, sizeof(b), v, v_len, b_pub) || wifiprov__x25519_public(key, pub))
        return 3;
    memcpy(nb, wifiprov__srp_group_3072.n, 384);
    if (wifiprov__bn_ctx_new(&bn_ctx) || wifiprov__bn_new(&bn_n) || wifiprov__bn_new(&bn_g) ||
        wifiprov__bn_new(&bn_e) || wifiprov__bn_new(&bn_r) || wifiprov__bn_from_bin(bn_n, nb, 384) ||
        wifiprov__bn_set_word(bn_g, 5))
        return 3;
    rc = run(argv[1]); /* warm-up: lazy initialisation, cached Montgomery form */
    for (i = 0; !rc && i < reps; i++)
        rc = run(argv[1]);
    wifiprov__bn_free(bn_n);
    wifiprov__bn_free(bn_g);
    wifiprov__bn_free(bn_e);
    wifiprov__bn_free(bn_r);
    wifiprov__bn_ctx_free(bn_ctx);
    wifiprov__srp_free(srp_fixed);
    return rc ? 1 : 0;
}
EOF

cc -O2 -std=c11 -I"$root/src" -I"$root/src/util" -I"$root/include" -I"$build/proto" "$tmp/cost.c" \
    "$build/libwifiprov.a" $libs -lcjson -lprotobuf-c -o "$tmp/cost"

count() {
    if ! valgrind --tool=callgrind --callgrind-out-file=/dev/null "$tmp/cost" "$1" "$2" >"$tmp/vg.log" 2>&1; then
        cat "$tmp/vg.log" >&2
        echo "crypto-cost: $1 failed" >&2
        return 1
    fi
    sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$tmp/vg.log"
}

echo "backend: $backend ($build), callgrind instructions per operation"
for op in $ops; do
    n=$reps
    case "$op" in
    sha* | ctr* | gcm*) n=${REPS:-100} ;;
    esac
    c0=$(count "$op" 0)
    c1=$(count "$op" "$n")
    if [ -z "$c0" ] || [ -z "$c1" ]; then
        echo "crypto-cost: $op failed" >&2
        exit 1
    fi
    printf '%-14s %12d  (%d runs)\n' "$op" $(((c1 - c0) / n)) "$n"
done
