/*
 * wifiprov error codes.
 *
 * Every function that can fail returns 0 or a negative WIFIPROV_ERR_* value.
 * Numbers are never reused; add new codes at the end of the table.
 */
#ifndef WIFIPROV_ERROR_H
#define WIFIPROV_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, number, message) */
#define WIFIPROV_ERRNO_MAP(X)                                                              \
    X(INVAL, 1, "invalid argument")                                                        \
    X(NOMEM, 2, "out of memory")                                                           \
    X(NOSPC, 3, "output buffer too small")                                                 \
    X(PROTO, 4, "malformed message")                                                       \
    X(STATE, 5, "message not allowed in the current state")                                \
    X(NOT_FOUND, 6, "unknown endpoint")                                                    \
    X(NO_SESSION, 7, "no such session")                                                    \
    X(TOO_MANY_SESSIONS, 8, "too many sessions")                                           \
    X(CRYPTO, 9, "cryptographic operation failed")                                         \
    X(AUTH, 10, "authentication failed (wrong proof of possession, username or password)") \
    X(TOO_BIG, 11, "message too large")                                                    \
    X(PENDING, 12, "reply not ready yet")                                                  \
    X(TRANSPORT, 13, "transport failure")                                                  \
    X(TIMEOUT, 14, "timed out")                                                            \
    X(UNSUPPORTED, 15, "not supported")                                                    \
    X(DEVICE, 16, "the device reported an error")                                          \
    X(IO, 17, "input/output error")                                                        \
    X(BAD_CRED, 18, "credentials rejected")                                                \
    X(BUSY, 19, "busy")                                                                    \
    X(WIFI, 20, "Wi-Fi backend failure")

enum wifiprov_error {
    WIFIPROV_OK = 0,
#define WIFIPROV_ERR_ENUM_(name, num, msg) WIFIPROV_ERR_##name = -(num),
    WIFIPROV_ERRNO_MAP(WIFIPROV_ERR_ENUM_)
#undef WIFIPROV_ERR_ENUM_
};

/** @return a static English message for @p err (never NULL). */
const char *wifiprov_strerror(int err);

/** @return the symbolic name of @p err, e.g. "WIFIPROV_ERR_AUTH" (never NULL). */
const char *wifiprov_err_name(int err);

#ifdef __cplusplus
}
#endif
#endif
