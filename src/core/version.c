/*
 * The proto-ver reply: the JSON object ESP-IDF's provisioning manager serves
 * (PROTOCOL.md section 3.3), application labels first, "prov" last.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "core_priv.h"
#include "util.h"

static cJSON *string_array(const char *const *items, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    size_t i;

    if (!arr)
        return NULL;
    for (i = 0; i < n; i++) {
        cJSON *s = cJSON_CreateString(items[i]);

        if (!s || !cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

static bool add_item(cJSON *obj, const char *key, cJSON *item)
{
    if (!item)
        return false;
    if (!cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

static cJSON *build_prov(const struct wifiprov_device *dev)
{
    const char *fixed[2];
    const char **all = NULL;
    size_t n_fixed = 0, i;
    int sec_ver = 0, patch = 0;
    cJSON *prov = NULL, *ret = NULL;

    switch (dev->security) {
    case WIFIPROV_SECURITY_0:
        fixed[n_fixed++] = "no_sec";
        break;
    case WIFIPROV_SECURITY_1:
        sec_ver = 1;
        if (dev->no_pop)
            fixed[n_fixed++] = "no_pop";
        break;
    case WIFIPROV_SECURITY_2:
        sec_ver = 2;
        patch = dev->sec2_patch0 ? 0 : 1;
        break;
    }
    all = wifiprov__malloc((n_fixed + dev->n_caps) * sizeof(*all));
    if (!all)
        goto out;
    for (i = 0; i < n_fixed; i++)
        all[i] = fixed[i];
    for (i = 0; i < dev->n_caps; i++)
        all[n_fixed + i] = dev->caps[i];

    prov = cJSON_CreateObject();
    if (!prov)
        goto out;
    if (!cJSON_AddStringToObject(prov, "ver", dev->prov_ver ? dev->prov_ver : "v1.1") ||
        !cJSON_AddNumberToObject(prov, "sec_ver", sec_ver) ||
        !cJSON_AddNumberToObject(prov, "sec_patch_ver", patch) ||
        !add_item(prov, "cap", string_array(all, n_fixed + dev->n_caps)))
        goto out;
    ret = prov;
    prov = NULL;
out:
    cJSON_Delete(prov);
    wifiprov__free(all);
    return ret;
}

int wifiprov__version_rebuild(struct wifiprov_device *dev)
{
    cJSON *root;
    char *json = NULL;
    size_t i;
    int ret = WIFIPROV_ERR_NOMEM;

    root = cJSON_CreateObject();
    if (!root)
        goto out;
    for (i = 0; i < dev->n_apps; i++) {
        const struct wifiprov_app_info *a = &dev->apps[i];
        cJSON *obj = cJSON_CreateObject();

        if (!add_item(root, a->label, obj) || !cJSON_AddStringToObject(obj, "ver", a->ver) ||
            !add_item(obj, "cap", string_array((const char *const *)a->caps, a->n_caps)))
            goto out;
    }
    if (!add_item(root, "prov", build_prov(dev)))
        goto out;
    json = dev->version_compact ? cJSON_PrintUnformatted(root) : cJSON_Print(root);
    if (!json)
        goto out;
    if (dev->version_json)
        cJSON_free(dev->version_json);
    dev->version_json = json;
    ret = 0;
out:
    cJSON_Delete(root);
    return ret;
}
