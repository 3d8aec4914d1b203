/* SPDX-License-Identifier: GPL-2.0-only */
/* The server's manifest, mysqld.my: which component to load. MySQL reads
 * the global manifest in the installation directory; with
 * "read_local_manifest": true it takes "components" from the data
 * directory's manifest instead. */
#include <stdio.h>
#include <string.h>

#include "diag.h"

/* Keyring components MySQL and Percona ship: at most one may be loaded. */
static const char *const keyrings[] = {
    "component_keyring_kmip", "component_keyring_file", "component_keyring_encrypted_file",
    "component_keyring_vault", "component_keyring_kms", "component_keyring_oci",
    "component_keyring_hashicorp", "component_keyring_aws",
};

/* The component name of a "file://name" or "file:///name" URL. */
static const char *url_component(const char *url)
{
    if (strncmp(url, "file://", 7) != 0)
        return NULL;
    url += 7;
    if (*url == '/')
        url++;
    return *url ? url : NULL;
}

static bool is_keyring(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof keyrings / sizeof keyrings[0]; i++)
        if (strlen(keyrings[i]) == len && memcmp(keyrings[i], name, len) == 0)
            return true;
    return false;
}

/* "components": one URL, or several separated by commas. */
static krk_err check_components(const char *path, const char *list, krk_manifest *out,
                                krk_diag *d)
{
    int keyring_count = 0;
    bool ours = false;
    char buf[1024];
    if (strlen(list) >= sizeof buf)
        return krk_fail(d, KRK_E_MANIFEST, "%s: \"components\" is too long", path);
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        size_t n = strlen(tok);
        while (n && tok[n - 1] == ' ')
            tok[--n] = '\0';
        const char *name = url_component(tok);
        if (name == NULL)
            return krk_fail(d, KRK_E_MANIFEST,
                            "%s: \"components\" entry \"%s\" is not a file://component URL", path,
                            tok);
        if (is_keyring(name, strlen(name)))
            keyring_count++;
        if (strcmp(name, KRK_COMPONENT_NAME) == 0) {
            ours = true;
            if (strncmp(tok, "file:///", 8) == 0) /* mysqld's path filter refuses a '/' */
                krk_warn(d, "%s: \"%s\" names the component with a '/' (\"/%s\"), which "
                         "mysqld's path filter refuses, so MySQL would not start with this "
                         "manifest; write \"file://%s\"",
                         path, tok, name, name);
            snprintf(out->component_url, sizeof out->component_url, "%s", tok);
        }
    }
    if (keyring_count > 1)
        return krk_fail(d, KRK_E_MANIFEST,
                        "%s: \"components\" loads more than one keyring component (%s); load only "
                        "one, or keys can be lost",
                        path, list);
    if (!ours)
        return krk_fail(d, KRK_E_MANIFEST,
                        "%s: \"components\" does not load %s (it is \"%s\"); write "
                        "\"file://%s\"",
                        path, KRK_COMPONENT_NAME, list, KRK_COMPONENT_NAME);
    return KRK_OK;
}

static krk_err read_components(json_t *root, const char *path, krk_manifest *out, krk_diag *d)
{
    json_t *c = json_object_get(root, "components");
    if (c == NULL)
        return krk_fail(d, KRK_E_MANIFEST, "%s: missing \"components\" (expected \"file://%s\")",
                        path, KRK_COMPONENT_NAME);
    if (!json_is_string(c))
        return krk_fail(d, KRK_E_MANIFEST, "%s: \"components\" must be a string, found %s", path,
                        krk_json_kind(c));
    snprintf(out->path, sizeof out->path, "%s", path);
    return check_components(path, json_string_value(c), out, d);
}

static krk_err check_keys(json_t *root, const char *path, bool global, krk_diag *d)
{
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "components") == 0)
            continue;
        if (strcmp(key, "read_local_manifest") == 0) {
            if (!json_is_boolean(v))
                return krk_fail(d, KRK_E_MANIFEST,
                                "%s: \"read_local_manifest\" must be true or false, found %s",
                                path, krk_json_kind(v));
            if (!global)
                krk_warn(d, "%s: \"read_local_manifest\" has no effect in a local manifest", path);
            continue;
        }
        return krk_fail(d, KRK_E_MANIFEST,
                        "%s: unknown key \"%s\" (a manifest holds \"components\" and "
                        "\"read_local_manifest\")",
                        path, key);
    }
    return KRK_OK;
}

krk_err krk_manifest_read(const char *basedir, const char *datadir, krk_manifest *out,
                          krk_diag *d)
{
    krk_diag_clear(d);
    if (basedir == NULL || out == NULL)
        return KRK_E_ARG;
    memset(out, 0, sizeof *out);
    char path[4096];
    if (!krk_join(path, sizeof path, basedir, KRK_MANIFEST_NAME))
        return krk_fail(d, KRK_E_ARG, "%s: path too long", basedir);
    json_t *root;
    bool missing;
    krk_err e = krk_json_load(path, KRK_E_MANIFEST, "manifest", &root, &missing, d);
    if (missing) {
        d->error[0] = '\0';
        return krk_fail(d, KRK_E_NO_MANIFEST, "%s: no manifest, so no keyring component is "
                        "loaded", path);
    }
    if (e != KRK_OK)
        return e;
    e = check_keys(root, path, true, d);
    json_t *local = json_object_get(root, "read_local_manifest");
    if (e == KRK_OK && json_is_true(local)) {
        if (json_object_get(root, "components"))
            krk_warn(d, "%s: \"components\" is ignored because \"read_local_manifest\" is true",
                     path);
        json_decref(root);
        root = NULL;
        out->read_local = true;
        if (datadir == NULL)
            return krk_fail(d, KRK_E_MANIFEST, "%s: \"read_local_manifest\" is true but no data "
                            "directory was given", path);
        if (!krk_join(path, sizeof path, datadir, KRK_MANIFEST_NAME))
            return krk_fail(d, KRK_E_ARG, "%s: path too long", datadir);
        e = krk_json_load(path, KRK_E_MANIFEST, "local manifest", &root, &missing, d);
        if (missing) {
            d->error[0] = '\0';
            e = krk_fail(d, KRK_E_MANIFEST, "%s: \"read_local_manifest\" is true in %s/%s but "
                         "the local manifest does not exist", path, basedir, KRK_MANIFEST_NAME);
        }
        if (e == KRK_OK)
            e = check_keys(root, path, false, d);
    }
    if (e == KRK_OK)
        e = read_components(root, path, out, d);
    json_decref(root);
    return e;
}
