/* Error messages and names, generated from the one table in error.h. */
#include "wifiprov/error.h"

const char *wifiprov_strerror(int err)
{
    switch (err) {
    case WIFIPROV_OK:
        return "success";
#define MSG_(name, num, msg)       \
    case WIFIPROV_ERR_##name: \
        return msg;
        WIFIPROV_ERRNO_MAP(MSG_)
#undef MSG_
    }
    return "unknown error";
}

const char *wifiprov_err_name(int err)
{
    switch (err) {
    case WIFIPROV_OK:
        return "WIFIPROV_OK";
#define NAME_(name, num, msg)      \
    case WIFIPROV_ERR_##name: \
        return "WIFIPROV_ERR_" #name;
        WIFIPROV_ERRNO_MAP(NAME_)
#undef NAME_
    }
    return "WIFIPROV_ERR_UNKNOWN";
}
