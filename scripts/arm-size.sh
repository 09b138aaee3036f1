#!/bin/sh
# Proves that the portable part of libwifiprov builds for a Cortex-M4 (newlib, no
# POSIX, no Linux) and prints the size of each module.
#
# It compiles src/{util,core,sec,prov,client}/*.c, src/crypto/crypto_mbedtls.c and
# the protobuf-c code generated from src/proto/*.proto with arm-none-eabi-gcc,
# against newlib's headers plus copies of only the protobuf-c, cJSON and Mbed TLS
# header folders (never the host's /usr/include). Before compiling, it checks that
# every #include of those files names a standard C header, one of those libraries,
# or a header of the portable tree.
#
# Usage: scripts/arm-size.sh [--werror] [--keep]
#   --werror  treat compiler warnings as errors
#   --keep    keep the temporary directory (its path is printed)
# Environment: ARM_CC (default arm-none-eabi-gcc), ARM_SIZE (arm-none-eabi-size),
#   PROTOC_C (protoc-c), HOST_INCLUDE (where the library headers are copied from,
#   default /usr/include).
# Exit status: 0 on success, 1 on a forbidden include or compile failure, 2 on a
# missing tool.
set -eu

werror=
keep=
for arg in "$@"; do
    case "$arg" in
    --werror) werror=-Werror ;;
    --keep) keep=1 ;;
    -h | --help)
        sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "arm-size: unknown argument '$arg'" >&2
        exit 2
        ;;
    esac
done

ARM_CC=${ARM_CC:-arm-none-eabi-gcc}
ARM_SIZE=${ARM_SIZE:-arm-none-eabi-size}
PROTOC_C=${PROTOC_C:-protoc-c}
HOST_INCLUDE=${HOST_INCLUDE:-/usr/include}

for tool in "$ARM_CC" "$ARM_SIZE" "$PROTOC_C"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "arm-size: $tool not found (scripts/install-deps.sh --arm installs the ARM toolchain)" >&2
        exit 2
    fi
done

root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
cd "$root"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wifiprov-arm.XXXXXX")
cleanup() {
    if [ -n "$keep" ]; then
        echo "arm-size: kept $tmp"
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# ---- the sources -----------------------------------------------------------
modules="util core sec prov client"
srcs=
for m in $modules; do
    for f in src/"$m"/*.c; do
        [ -e "$f" ] && srcs="$srcs $f"
    done
done
srcs="$srcs src/crypto/crypto_mbedtls.c"

# Headers of the portable tree, checked even when no source includes them yet.
hdrs=
for f in include/wifiprov/*.h src/crypto/crypto.h src/util/*.h src/core/*.h src/sec/*.h src/prov/*.h src/client/*.h; do
    [ -e "$f" ] && hdrs="$hdrs $f"
done

mkdir -p "$tmp/proto" "$tmp/include" "$tmp/obj"
# shellcheck disable=SC2046
"$PROTOC_C" --c_out="$tmp/proto" -Isrc/proto $(ls src/proto/*.proto)

# ---- only these library headers are visible -----------------------------------
for d in protobuf-c cjson mbedtls psa; do
    if [ -d "$HOST_INCLUDE/$d" ]; then
        cp -R "$HOST_INCLUDE/$d" "$tmp/include/$d"
    elif [ "$d" != psa ]; then
        echo "arm-size: $HOST_INCLUDE/$d not found (install the -dev package)" >&2
        exit 2
    fi
done

# The distribution's Mbed TLS configuration targets a Linux host; switch off what
# needs an OS (only headers are used here, nothing is linked).
cat >"$tmp/include/wifiprov_arm_mbedtls.h" <<'EOF'
#undef MBEDTLS_THREADING_C
#undef MBEDTLS_THREADING_PTHREAD
#undef MBEDTLS_HAVE_TIME
#undef MBEDTLS_HAVE_TIME_DATE
#undef MBEDTLS_FS_IO
#undef MBEDTLS_NET_C
#undef MBEDTLS_TIMING_C
#undef MBEDTLS_HAVEGE_C
#undef MBEDTLS_AESNI_C
#undef MBEDTLS_PADLOCK_C
#undef MBEDTLS_PSA_ITS_FILE_C
#undef MBEDTLS_PSA_CRYPTO_STORAGE_C
#define MBEDTLS_NO_PLATFORM_ENTROPY
EOF

# ---- include check -----------------------------------------------------------------
# C11 standard headers (7.1.2).
std_headers=" assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h limits.h locale.h
 math.h setjmp.h signal.h stdalign.h stdarg.h stdatomic.h stdbool.h stddef.h stdint.h stdio.h
 stdlib.h stdnoreturn.h string.h tgmath.h threads.h time.h uchar.h wchar.h wctype.h "
# One line with a space on each side of every name.
std_headers=" $(printf '%s' "$std_headers" | tr '\n' ' ') "
# Named for a clearer message; the allowlist already refuses them.
posix_re='^(unistd\.h|pthread\.h|fcntl\.h|poll\.h|dirent\.h|dlfcn\.h|termios\.h|syslog\.h|netdb\.h|ifaddrs\.h|semaphore\.h|sched\.h|spawn\.h|sys/|arpa/|netinet/|net/|linux/|asm/|bits/|systemd/|dbus/|openssl/|microhttpd\.h)'
# Searched for quoted includes after the including file's own folder, as the compiler does.
local_dirs="include src src/util $tmp/proto"

bad=0
check_file() {
    file=$1
    dir=$(dirname "$file")
    # "#  include <x>" / "#include "x"": print the delimiter and the name.
    sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*\([<"]\)\([^>"]*\)[>"].*/\1 \2/p' "$file" >"$tmp/inc"
    while read -r delim name; do
        if [ "$delim" = '"' ]; then
            found=
            for d in "$dir" $local_dirs; do
                if [ -f "$d/$name" ]; then
                    found=$d/$name
                    break
                fi
            done
            if [ -n "$found" ]; then
                case "$found" in
                "$tmp"/proto/*) continue ;;
                src/transport/* | src/wifi/* | daemon/* | cli/* | tests/* | src/crypto/crypto_openssl*)
                    echo "arm-size: $file includes \"$name\" from the OS-specific tree" >&2
                    bad=1
                    ;;
                esac
                # Portable local headers are checked on their own (they are in $hdrs).
                continue
            fi
        fi
        case "$std_headers" in
        *" $name "*) continue ;;
        esac
        case "$name" in
        protobuf-c/* | cjson/*) continue ;;
        mbedtls/* | psa/*)
            [ "$file" = src/crypto/crypto_mbedtls.c ] && continue
            echo "arm-size: $file includes <$name>: only the Mbed TLS backend may" >&2
            bad=1
            continue
            ;;
        esac
        if printf '%s\n' "$name" | grep -Eq "$posix_re"; then
            echo "arm-size: $file includes the POSIX/Linux header <$name>" >&2
        else
            echo "arm-size: $file includes <$name>, which is neither standard C nor an allowed library" >&2
        fi
        bad=1
    done <"$tmp/inc"
    if grep -nE '^[[:space:]]*#[[:space:]]*define[[:space:]]+_(GNU|POSIX_C|XOPEN|DEFAULT|BSD)_SOURCE' "$file" >&2; then
        echo "arm-size: $file asks for OS extensions (feature-test macro above)" >&2
        bad=1
    fi
}

for f in $srcs $hdrs; do
    check_file "$f"
done
if [ "$bad" -ne 0 ]; then
    echo "arm-size: FAILED: portable code must include only standard C, protobuf-c, cJSON and (crypto backend) Mbed TLS headers" >&2
    exit 1
fi

# ---- compile ------------------------------------------------------------------------
cflags="-mcpu=cortex-m4 -mthumb -Os -std=c11 -ffunction-sections -fdata-sections
 -Wall -Wextra -Wno-unused-parameter -Werror=implicit-function-declaration $werror
 -DWIFIPROV_CRYPTO_mbedtls=1 -DMBEDTLS_USER_CONFIG_FILE=\"wifiprov_arm_mbedtls.h\"
 -I$tmp/include -Iinclude -Isrc -Isrc/util -I$tmp/proto"

failed=0
compile() {
    # $1 module, $2 source
    obj=$tmp/obj/$1__$(basename "$2" .c).o
    # shellcheck disable=SC2086
    if ! "$ARM_CC" $cflags -c "$2" -o "$obj" 2>"$tmp/cc.log"; then
        cat "$tmp/cc.log" >&2
        echo "arm-size: $2 does not compile for the Cortex-M4" >&2
        failed=1
    elif [ -s "$tmp/cc.log" ]; then
        cat "$tmp/cc.log" >&2
    fi
}

for f in $srcs; do
    m=$(printf '%s\n' "$f" | cut -d/ -f2)
    compile "$m" "$f"
done
for f in "$tmp"/proto/*.pb-c.c; do
    compile proto "$f"
done
if [ "$failed" -ne 0 ]; then
    echo "arm-size: FAILED" >&2
    exit 1
fi

# ---- sizes -------------------------------------------------------------------------
# Berkeley format: text = code + read-only data, data = initialised RAM, bss = zeroed RAM.
echo "Cortex-M4 (-Os -mthumb), object sizes in bytes, $($ARM_CC -dumpversion) ($($ARM_CC -mcpu=cortex-m4 -mthumb -print-multi-directory))"
printf '%-8s %8s %8s %8s %6s\n' module text data bss files
total_t=0
total_d=0
total_b=0
for m in util core sec crypto proto prov client; do
    set -- "$tmp"/obj/"$m"__*.o
    if [ ! -e "$1" ]; then
        printf '%-8s %8s %8s %8s %6s\n' "$m" - - - 0
        continue
    fi
    n=$#
    # shellcheck disable=SC2046
    sums=$("$ARM_SIZE" "$@" | awk 'NR > 1 { t += $1; d += $2; b += $3 } END { print t, d, b }')
    set -- $sums
    printf '%-8s %8d %8d %8d %6d\n' "$m" "$1" "$2" "$3" "$n"
    total_t=$((total_t + $1))
    total_d=$((total_d + $2))
    total_b=$((total_b + $3))
done
printf '%-8s %8d %8d %8d\n' total "$total_t" "$total_d" "$total_b"
echo "(not linked: unused functions are counted; the Mbed TLS and protobuf-c/cJSON libraries themselves are not)"
