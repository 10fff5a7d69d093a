#include "vigil/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vigil/alloc.h"
#include "vigil/util.h"

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

static int load_entry(const vg_cfg_entry *e, char *base, char *errbuf, size_t errlen)
{
    const char *env = getenv(e->name);
    const char *val = (env && *env) ? env : e->def;
    void *field = base + e->offset;
    switch (e->type) {
    case VG_CFG_STRING:
    case VG_CFG_SECRET:
        *(char **)field = vg_strdup(val ? val : "");
        return 0;
    case VG_CFG_ADDR: {
        char *host = NULL;
        int port = 0;
        if (val == NULL || !vg_split_hostport(val, &host, &port)) {
            snprintf(errbuf, errlen, "%s: expected host:port, got \"%s\"", e->name, val ? val : "");
            return -1;
        }
        free(host);
        *(char **)field = vg_strdup(val);
        return 0;
    }
    case VG_CFG_INT: {
        char *end = NULL;
        errno = 0;
        long v = val ? strtol(val, &end, 10) : 0;
        if (val == NULL || errno || end == val || *end != '\0' || v < e->min || v > e->max) {
            snprintf(errbuf, errlen, "%s: expected an integer in [%ld, %ld], got \"%s\"", e->name,
                     e->min, e->max, val ? val : "");
            return -1;
        }
        *(long *)field = v;
        return 0;
    }
    case VG_CFG_BOOL:
        if (val == NULL || !parse_bool(val, (bool *)field)) {
            snprintf(errbuf, errlen, "%s: expected 1/0/true/false/yes/no/on/off, got \"%s\"",
                     e->name, val ? val : "");
            return -1;
        }
        return 0;
    }
    snprintf(errbuf, errlen, "%s: unknown type", e->name);
    return -1;
}

int vg_config_load(const vg_cfg_entry *table, void *conf, char *errbuf, size_t errlen)
{
    for (const vg_cfg_entry *e = table; e->name; e++) {
        if (load_entry(e, conf, errbuf, errlen) != 0) {
            vg_config_free(table, conf);
            return -1;
        }
    }
    return 0;
}

void vg_config_free(const vg_cfg_entry *table, void *conf)
{
    for (const vg_cfg_entry *e = table; e->name; e++) {
        if (e->type == VG_CFG_STRING || e->type == VG_CFG_SECRET || e->type == VG_CFG_ADDR) {
            char **field = (char **)((char *)conf + e->offset);
            free(*field);
            *field = NULL;
        }
    }
}

static const char *type_name(vg_cfg_type t)
{
    switch (t) {
    case VG_CFG_STRING:
        return "string";
    case VG_CFG_SECRET:
        return "secret";
    case VG_CFG_INT:
        return "integer";
    case VG_CFG_BOOL:
        return "bool";
    case VG_CFG_ADDR:
        return "host:port";
    }
    return "?";
}

void vg_config_print(FILE *out, const char *service, const vg_cfg_entry *table, bool markdown)
{
    if (markdown) {
        fprintf(out, "| variable | type | default | meaning |\n| --- | --- | --- | --- |\n");
    } else {
        fprintf(out, "Environment variables of %s:\n", service);
    }
    for (const vg_cfg_entry *e = table; e->name; e++) {
        const char *def = (e->def && *e->def) ? e->def : "(empty)";
        if (e->type == VG_CFG_SECRET && e->def && *e->def && strstr(e->name, "URL") == NULL) {
            def = "(secret)";
        }
        if (markdown) {
            fprintf(out, "| `%s` | %s | `%s` | %s |\n", e->name, type_name(e->type), def, e->help);
        } else {
            fprintf(out, "  %-30s %-9s default %s\n      %s\n", e->name, type_name(e->type), def,
                    e->help);
        }
    }
}

int vg_config_args(int argc, char **argv, const char *service, const char *summary,
                   const vg_cfg_entry *table)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("%s: %s\n\nUsage: %s [--help] [--config-markdown]\n\n", service, summary,
                   argv[0]);
            vg_config_print(stdout, service, table, false);
            return 1;
        }
        if (strcmp(argv[i], "--config-markdown") == 0) {
            vg_config_print(stdout, service, table, true);
            return 1;
        }
        fprintf(stderr, "%s: unknown argument \"%s\" (try --help)\n", service, argv[i]);
        return -1;
    }
    return 0;
}
