/*
** schema: reading Salesforce describe JSON into SfObject/SfField.
*/
#include "schema.h"
#include "diag.h"
#include "util.h"

#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct { const char *name; SfType type; } type_names[] = {
    {"string", SF_STRING}, {"textarea", SF_TEXTAREA}, {"email", SF_EMAIL},
    {"phone", SF_PHONE}, {"url", SF_URL}, {"picklist", SF_PICKLIST},
    {"multipicklist", SF_MULTIPICKLIST}, {"combobox", SF_COMBOBOX}, {"id", SF_ID},
    {"boolean", SF_BOOLEAN}, {"date", SF_DATE}, {"datetime", SF_DATETIME},
    {"double", SF_DOUBLE}, {"int", SF_INT}, {"long", SF_INT}, {"currency", SF_CURRENCY},
    {"percent", SF_PERCENT}, {"reference", SF_REFERENCE}, {"base64", SF_BASE64},
    {"encryptedstring", SF_STRING},
};

SfType schema_type_from_name(const char *type_name)
{
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
        if (strcmp(type_names[i].name, type_name) == 0)
            return type_names[i].type;
    return SF_OTHER;
}

bool schema_is_text(SfType t)
{
    switch (t) {
    case SF_STRING: case SF_TEXTAREA: case SF_EMAIL: case SF_PHONE: case SF_URL:
    case SF_PICKLIST: case SF_MULTIPICKLIST: case SF_COMBOBOX: case SF_ID: case SF_BASE64:
        return true;
    default:
        return false;
    }
}

bool schema_required_on_create(const SfField *f)
{
    return f->createable && !f->nillable && !f->defaulted && f->type != SF_BOOLEAN;
}

SfObject *schema_object(const Schema *s, const char *name)
{
    for (int i = 0; i < s->nobjects; i++)
        if (strcmp(s->objects[i]->name, name) == 0)
            return s->objects[i];
    return NULL;
}

SfField *schema_field(const SfObject *o, const char *name)
{
    for (int i = 0; i < o->nfields; i++)
        if (strcmp(o->fields[i]->name, name) == 0)
            return o->fields[i];
    return NULL;
}

SfObject *schema_add_object(Schema *s, const char *name, bool custom)
{
    SfObject *o = schema_object(s, name);
    if (o)
        return o;
    o = xcalloc(1, sizeof *o);
    o->name = xstrdup(name);
    o->custom = custom;
    s->objects = xrealloc(s->objects, sizeof(SfObject *) * (size_t)(s->nobjects + 1));
    s->objects[s->nobjects++] = o;
    return o;
}

SfField *schema_add_field(SfObject *o, const char *name)
{
    SfField *f = xcalloc(1, sizeof *f);
    f->name = xstrdup(name);
    f->nillable = true;
    f->createable = true;
    f->decl = SPAN_NONE;
    o->fields = xrealloc(o->fields, sizeof(SfField *) * (size_t)(o->nfields + 1));
    o->fields[o->nfields++] = f;
    return f;
}

static const char *suggest(const char *name, const char *const *cands, int n)
{
    const char *best = NULL;
    int bestd = 3;
    for (int i = 0; i < n; i++) {
        int d = edit_distance(name, cands[i]);
        if (d < bestd) {
            bestd = d;
            best = cands[i];
        }
    }
    return best;
}

const char *schema_suggest_object(const Schema *s, const char *name)
{
    const char **names = xmalloc(sizeof(char *) * (size_t)(s->nobjects + 1));
    for (int i = 0; i < s->nobjects; i++)
        names[i] = s->objects[i]->name;
    const char *r = suggest(name, names, s->nobjects);
    free(names);
    return r;
}

const char *schema_suggest_field(const SfObject *o, const char *name)
{
    const char **names = xmalloc(sizeof(char *) * (size_t)(o->nfields + 1));
    for (int i = 0; i < o->nfields; i++)
        names[i] = o->fields[i]->name;
    const char *r = suggest(name, names, o->nfields);
    free(names);
    return r;
}

static bool jbool(const cJSON *o, const char *k, bool dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

static int jint(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (int)v->valuedouble : 0;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char **jstrings(const cJSON *arr, const char *member, int *n)
{
    *n = 0;
    int cap = cJSON_GetArraySize(arr);
    char **out = xcalloc((size_t)(cap + 1), sizeof(char *));
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        const char *s = member ? jstr(it, member) : (cJSON_IsString(it) ? it->valuestring : NULL);
        if (member && !jbool(it, "active", true))
            continue;
        if (s)
            out[(*n)++] = xstrdup(s);
    }
    return out;
}

static void load_field(SfObject *o, const cJSON *jf)
{
    const char *name = jstr(jf, "name");
    const char *type = jstr(jf, "type");
    if (!name || !type)
        return;
    SfField *f = schema_field(o, name);
    if (!f)
        f = schema_add_field(o, name);
    free(f->type_name);
    f->type_name = xstrdup(type);
    f->type = schema_type_from_name(type);
    f->length = jint(jf, "length");
    f->precision = jint(jf, "precision");
    f->scale = jint(jf, "scale");
    f->nillable = jbool(jf, "nillable", true);
    f->createable = jbool(jf, "createable", false);
    f->defaulted = jbool(jf, "defaultedOnCreate", false);
    f->external = jbool(jf, "externalId", false);
    f->unique = jbool(jf, "unique", false);
    f->idlookup = jbool(jf, "idLookup", false);
    f->custom = jbool(jf, "custom", false);
    f->restricted = jbool(jf, "restrictedPicklist", false);
    f->polymorphic = jbool(jf, "polymorphicForeignKey", false);
    f->picklist = jstrings(cJSON_GetObjectItemCaseSensitive(jf, "picklistValues"), "value", &f->npicklist);
    f->refto = jstrings(cJSON_GetObjectItemCaseSensitive(jf, "referenceTo"), NULL, &f->nrefto);
    const char *rel = jstr(jf, "relationshipName");
    f->relname = rel ? xstrdup(rel) : NULL;
}

int schema_load_describe(Schema *s, int file)
{
    const SrcFile *sf = srcloc_file(file);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(sf->text, sf->len, &end, 0);
    if (!root) {
        int at = end ? (int)(end - sf->text) : 0;
        diag_report(D_SCHEMA, (Span){file, at, at + 1}, "describe file is not valid JSON");
        return -1;
    }
    const char *name = jstr(root, "name");
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(root, "fields");
    if (!name || !cJSON_IsArray(fields)) {
        diag_report(D_SCHEMA, (Span){file, 0, 1},
                    "describe file has no \"name\" and \"fields\": is it /sobjects/X/describe output?");
        cJSON_Delete(root);
        return -1;
    }
    SfObject *o = schema_add_object(s, name, jbool(root, "custom", false));
    o->no_custom_fields = !jbool(root, "customFieldsAllowed", true);
    const cJSON *jf;
    cJSON_ArrayForEach(jf, fields)
        load_field(o, jf);
    cJSON_Delete(root);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int schema_load_dir(Schema *s, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    PtrVec names = {0};
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n > 5 && strcmp(e->d_name + n - 5, ".json") == 0)
            vec_push(&names, xprintf("%s/%s", dir, e->d_name));
    }
    closedir(d);
    qsort(names.v, (size_t)names.n, sizeof(char *), by_name);   /* deterministic order */
    int loaded = 0;
    for (int i = 0; i < names.n; i++) {
        int file = srcloc_read(names.v[i]);
        if (file < 0) {
            diag_report(D_IO, SPAN_NONE, "cannot read the describe file: %s", strerror(errno));
            diag_path(names.v[i]);
        } else if (schema_load_describe(s, file) == 0)
            loaded++;
        free(names.v[i]);
    }
    vec_free(&names);
    return loaded;
}

void schema_strings_free(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

char **schema_json_strings(const char *json, int *n)
{
    *n = 0;
    cJSON *a = cJSON_Parse(json);
    if (!cJSON_IsArray(a)) {
        cJSON_Delete(a);
        return NULL;
    }
    char **v = xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(char *));
    const cJSON *it;
    cJSON_ArrayForEach(it, a) {
        if (!cJSON_IsString(it)) {
            schema_strings_free(v, *n);
            cJSON_Delete(a);
            *n = 0;
            return NULL;
        }
        v[(*n)++] = xstrdup(it->valuestring);
    }
    cJSON_Delete(a);
    return v;
}

void schema_free(Schema *s)
{
    for (int i = 0; i < s->nobjects; i++) {
        SfObject *o = s->objects[i];
        for (int j = 0; j < o->nfields; j++) {
            SfField *f = o->fields[j];
            free(f->name);
            free(f->type_name);
            schema_strings_free(f->picklist, f->npicklist);
            schema_strings_free(f->refto, f->nrefto);
            free(f->relname);
            free(f->description);
            free(f);
        }
        free(o->fields);
        free(o->name);
        free(o);
    }
    free(s->objects);
    s->objects = NULL;
    s->nobjects = 0;
}
