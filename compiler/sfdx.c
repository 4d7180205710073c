/*
** sfdx: writing a plan's custom fields and objects as SFDX source metadata
** (Metadata API CustomField, CustomObject, PermissionSet and package.xml).
**
** Everything is checked before the first file is written — names, API
** version, each field's type — so a bad plan leaves no half-written tree.
** Elements inside each file are in alphabetical order after fullName, as
** `sf project retrieve` writes them, so a retrieve shows no spurious diff.
*/
#include "sfdx.h"
#include "schema.h"
#include "sema.h"
#include "sftype.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MD_NS "http://soap.sforce.com/2006/04/metadata"
#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define SRC_DIR "force-app/main/default"
#define LABEL_MAX 40           /* Salesforce's limit on a field's or object's label */
#define NAME_MAX_BASE 40       /* and on an API name before __c */

typedef struct Sfdx {
    const Plan *p;
    const char *dir;
    const char *version;       /* API version: the plan's, or SFDX_API_VERSION */
    char *err;
    size_t errlen;
} Sfdx;

static int fail(Sfdx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(Sfdx *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->err, x->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- XML */

static void xml_escape(Buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': buf_puts(b, "&amp;"); break;
        case '<': buf_puts(b, "&lt;"); break;
        case '>': buf_puts(b, "&gt;"); break;
        case '"': buf_puts(b, "&quot;"); break;
        case '\'': buf_puts(b, "&apos;"); break;
        default:
            /* XML 1.0 cannot carry other control characters at all, not even as &#N; */
            if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n' && *s != '\r')
                buf_puts(b, " ");
            else
                buf_put(b, s, 1);
        }
    }
}

static void indent(Buf *b, int depth)
{
    for (int i = 0; i < depth; i++)
        buf_puts(b, "    ");
}

static void el(Buf *b, int depth, const char *tag, const char *text)
{
    indent(b, depth);
    buf_printf(b, "<%s>", tag);
    xml_escape(b, text);
    buf_printf(b, "</%s>\n", tag);
}

static void el_num(Buf *b, int depth, const char *tag, unsigned n)
{
    char t[16];
    snprintf(t, sizeof t, "%u", n);
    el(b, depth, tag, t);
}

static void el_bool(Buf *b, int depth, const char *tag, bool v)
{
    el(b, depth, tag, v ? "true" : "false");
}

static void open_el(Buf *b, int depth, const char *tag)
{
    indent(b, depth);
    buf_printf(b, "<%s>\n", tag);
}

static void close_el(Buf *b, int depth, const char *tag)
{
    indent(b, depth);
    buf_printf(b, "</%s>\n", tag);
}

static void open_root(Buf *b, const char *type)
{
    buf_puts(b, XML_DECL);
    buf_printf(b, "<%s xmlns=\"" MD_NS "\">\n", type);
}

/* ---- names and labels */

static bool is_custom(const char *name)
{
    size_t n = strlen(name);
    return n > 3 && strcmp(name + n - 3, "__c") == 0;
}

/* The name without its __c suffix. */
static size_t base_len(const char *name)
{
    return strlen(name) - (is_custom(name) ? 3 : 0);
}

/* Standard object names go into paths too, so they are checked as strictly. */
static bool standard_name_valid(const char *name)
{
    if (!isalpha((unsigned char)name[0]))
        return false;
    for (const char *c = name; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_')
            return false;
    return true;
}

/* A label from an API name: cio_id__c -> "cio id". */
static char *name_label(const char *name)
{
    char *l = xstrndup(name, base_len(name));
    for (char *c = l; *c; c++)
        if (*c == '_')
            *c = ' ';
    return l;
}

/* The declaration's description when it fits in a label (Salesforce refuses
** longer ones), else the label the API name gives. */
static char *field_label(const Plan *p, const PlanField *f)
{
    const char *d = plan_s(p, f->description);
    if (*d && utf8_chars(d) <= LABEL_MAX)
        return xstrdup(d);
    return name_label(plan_s(p, f->name));
}

/*
** A lookup's relationshipName is the parent's name for its children
** (Account.<name>__r in SOQL), unique on the parent: joining the child
** object and the field keeps two objects' lookups to Account apart.
** Task + Campaign_Ref__c -> Task_Campaign_Ref.  sep ' ' gives the label.
*/
static char *relationship_name(const char *obj, const char *field, char sep)
{
    char *s = xprintf("%.*s%c%.*s", (int)base_len(obj), obj, sep, (int)base_len(field), field);
    if (strlen(s) > NAME_MAX_BASE)
        s[NAME_MAX_BASE] = '\0';
    size_t n = strlen(s);
    while (n && (s[n - 1] == '_' || s[n - 1] == ' '))
        s[--n] = '\0';
    return s;
}

static bool version_valid(const char *v)
{
    const char *c = v;
    while (isdigit((unsigned char)*c))
        c++;
    if (c == v || *c++ != '.' || !isdigit((unsigned char)*c))
        return false;
    while (isdigit((unsigned char)*c))
        c++;
    return *c == '\0';
}

/* ---- field types */

typedef struct FieldMeta {
    const char *type;          /* Metadata API type */
    unsigned length, visible_lines;   /* 0: not written */
    bool numeric;              /* writes precision and scale */
    unsigned precision, scale;
    bool checkbox;             /* defaultValue false; never required */
    char **values;             /* picklist values */
    int nvalues;
    char **refto;              /* a lookup's parent object */
    int nrefto;
} FieldMeta;

static void meta_free(FieldMeta *m)
{
    schema_strings_free(m->values, m->nvalues);
    schema_strings_free(m->refto, m->nrefto);
    memset(m, 0, sizeof *m);
}

/* The Metadata API type: what the rules declared, else (a field known only
** from the org's describe) the nearest one for describe's type. */
static const char *md_type(const Plan *p, const PlanField *f)
{
    if (f->mdtype != PLAN_NONE)
        return plan_s(p, f->mdtype);
    switch ((SfType)f->type) {
    case SF_STRING: return "Text";
    case SF_TEXTAREA: return f->length > 255 ? "LongTextArea" : "TextArea";
    case SF_EMAIL: return "Email";
    case SF_PHONE: return "Phone";
    case SF_URL: return "Url";
    case SF_PICKLIST: return "Picklist";
    case SF_MULTIPICKLIST: return "MultiselectPicklist";
    case SF_BOOLEAN: return "Checkbox";
    case SF_DATE: return "Date";
    case SF_DATETIME: return "DateTime";
    case SF_DOUBLE: case SF_INT: return "Number";
    case SF_CURRENCY: return "Currency";
    case SF_PERCENT: return "Percent";
    case SF_REFERENCE: return "Lookup";
    default: return NULL;
    }
}

static int numeric_meta(Sfdx *x, const char *obj, const char *name, const PlanField *f, FieldMeta *m)
{
    m->numeric = true;
    m->precision = f->precision ? f->precision : 18;
    m->scale = f->type == SF_INT ? 0 : f->scale;
    if (f->precision == 0 && f->type == SF_CURRENCY)
        m->scale = 2;
    if (m->precision > 18 || m->scale > m->precision)
        return fail(x, "%s.%s: precision %u and scale %u are out of range (precision ≤ 18, scale ≤ precision)",
                    obj, name, m->precision, m->scale);
    return 0;
}

static int picklist_meta(Sfdx *x, const char *obj, const char *name, const PlanField *f, FieldMeta *m)
{
    if (f->picklist != PLAN_NONE)
        m->values = schema_json_strings(plan_s(x->p, f->picklist), &m->nvalues);
    if (m->nvalues == 0)
        return fail(x, "%s.%s: a picklist field needs at least one value", obj, name);
    if (strcmp(m->type, "MultiselectPicklist") == 0)
        m->visible_lines = 4;
    return 0;
}

static int lookup_meta(Sfdx *x, const char *obj, const char *name, const PlanField *f, FieldMeta *m)
{
    if (f->refto != PLAN_NONE)
        m->refto = schema_json_strings(plan_s(x->p, f->refto), &m->nrefto);
    if (m->nrefto != 1)
        return fail(x, "%s.%s: a custom lookup field refers to exactly one object", obj, name);
    return 0;
}

static bool type_is(const char *t, const char *a, const char *b)
{
    return strcmp(t, a) == 0 || (b && strcmp(t, b) == 0);
}

/* What the field file says about f's type; fails on a type a custom field cannot have. */
static int field_meta(Sfdx *x, const char *obj, const PlanField *f, FieldMeta *m)
{
    const char *name = plan_s(x->p, f->name);
    memset(m, 0, sizeof *m);
    m->type = md_type(x->p, f);
    if (!m->type)
        return fail(x, "%s.%s: a custom field cannot be created as a %s field", obj, name, sftype_name(f->type));
    const char *t = m->type;
    if (type_is(t, "Text", NULL)) {
        m->length = f->length ? f->length : 255;
        if (m->length > 255)
            return fail(x, "%s.%s: a Text field holds at most 255 characters, not %u", obj, name, m->length);
    } else if (type_is(t, "LongTextArea", "Html")) {
        m->length = f->length;
        m->visible_lines = t[0] == 'H' ? 25 : 3;
        if (m->length < 256 || m->length > 131072)
            return fail(x, "%s.%s: a %s field holds 256 to 131072 characters, not %u", obj, name, t, m->length);
    } else if (type_is(t, "Number", "Currency") || type_is(t, "Percent", NULL)) {
        return numeric_meta(x, obj, name, f, m);
    } else if (type_is(t, "Picklist", "MultiselectPicklist")) {
        return picklist_meta(x, obj, name, f, m);
    } else if (type_is(t, "Lookup", NULL)) {
        return lookup_meta(x, obj, name, f, m);
    } else if (type_is(t, "Checkbox", NULL)) {
        m->checkbox = true;
    } else if (!type_is(t, "TextArea", "Email") && !type_is(t, "Phone", "Url") && !type_is(t, "Date", "DateTime")) {
        return fail(x, "%s.%s: unknown metadata type '%s'", obj, name, t);
    }
    return 0;
}

/* ---- the plan's custom fields and objects */

static bool field_is_custom(const PlanField *f)
{
    return (f->flags & PF_CUSTOM) != 0;
}

/* Names go into paths and XML; types must be creatable.  All checked up front. */
static int check_plan(Sfdx *x)
{
    const Plan *p = x->p;
    const char *why = "";
    for (uint32_t i = 0; i < p->nobjects; i++) {
        const PlanObject *o = &p->objects[i];
        const char *obj = plan_s(p, o->name);
        if (is_custom(obj) ? !sema_api_name_valid(obj, &why) : !standard_name_valid(obj))
            return fail(x, "'%s' is not a valid object name%s%s", obj, *why ? ": " : "", why);
        for (uint32_t j = 0; j < o->nfields; j++) {
            const PlanField *f = &p->fields[o->first_field + j];
            if (!field_is_custom(f))
                continue;
            if (!sema_api_name_valid(plan_s(p, f->name), &why))
                return fail(x, "'%s.%s' is not a valid custom field name: %s", obj, plan_s(p, f->name), why);
            FieldMeta m;
            int rc = field_meta(x, obj, f, &m);
            meta_free(&m);
            if (rc < 0)
                return -1;
        }
    }
    return 0;
}

/* ---- files */

/* mkdir -p of the directories above path. */
static int make_parents(const char *path)
{
    char *d = xstrdup(path);
    int rc = 0;
    for (char *c = d + 1; *c && rc == 0; c++) {
        if (*c != '/')
            continue;
        *c = '\0';
        if (mkdir(d, 0777) != 0 && errno != EEXIST)
            rc = -1;
        *c = '/';
    }
    free(d);
    return rc;
}

static int write_file(Sfdx *x, const char *rel, Buf *b)
{
    char *path = xprintf("%s/%s", x->dir, rel);
    FILE *f = make_parents(path) == 0 ? fopen(path, "w") : NULL;
    bool ok = f && fwrite(b->s, 1, b->len, f) == b->len;
    if (f && fclose(f) != 0)
        ok = false;
    int rc = ok ? 0 : fail(x, "%s: %s", path, strerror(errno));
    free(path);
    buf_free(b);
    return rc;
}

/* A new directory, an empty one, or (--force) any directory. */
static int check_dir(Sfdx *x, int flags)
{
    DIR *d = opendir(x->dir);
    if (!d)
        return errno == ENOENT ? 0 : fail(x, "%s: %s", x->dir, strerror(errno));
    bool empty = true;
    const struct dirent *e;
    while (empty && (e = readdir(d)) != NULL)
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    if (!empty && !(flags & SFDX_FORCE))
        return fail(x, "%s: the directory is not empty (--force writes into it anyway)", x->dir);
    return 0;
}

static int write_project(Sfdx *x)
{
    Buf b = {0};
    buf_printf(&b,
               "{\n"
               "  \"packageDirectories\": [\n"
               "    {\n"
               "      \"path\": \"force-app\",\n"
               "      \"default\": true\n"
               "    }\n"
               "  ],\n"
               "  \"namespace\": \"\",\n"
               "  \"sourceApiVersion\": \"%s\"\n"
               "}\n", x->version);
    return write_file(x, "sfdx-project.json", &b);
}

static void value_set(Buf *b, const FieldMeta *m, bool restricted)
{
    open_el(b, 1, "valueSet");
    if (restricted)
        el_bool(b, 2, "restricted", true);
    open_el(b, 2, "valueSetDefinition");
    el_bool(b, 3, "sorted", false);
    for (int i = 0; i < m->nvalues; i++) {
        open_el(b, 3, "value");
        el(b, 4, "fullName", m->values[i]);
        el_bool(b, 4, "default", false);
        el(b, 4, "label", m->values[i]);
        close_el(b, 3, "value");
    }
    close_el(b, 2, "valueSetDefinition");
    close_el(b, 1, "valueSet");
}

static void lookup_xml(Buf *b, const char *obj, const char *name, const FieldMeta *m)
{
    el(b, 1, "referenceTo", m->refto[0]);
    char *label = relationship_name(obj, name, ' ');
    char *rel = relationship_name(obj, name, '_');
    el(b, 1, "relationshipLabel", label);
    el(b, 1, "relationshipName", rel);
    free(label);
    free(rel);
}

static void field_xml(Buf *b, const Plan *p, const char *obj, const PlanField *f, const FieldMeta *m)
{
    const char *name = plan_s(p, f->name);
    bool required = (f->flags & PF_REQUIRED) && !m->checkbox;   /* a Checkbox is never null */
    char *label = field_label(p, f);
    open_root(b, "CustomField");
    el(b, 1, "fullName", name);
    if (m->checkbox)
        el_bool(b, 1, "defaultValue", false);
    if (m->nrefto)          /* SetNull would leave a required lookup empty: Salesforce wants Restrict */
        el(b, 1, "deleteConstraint", required ? "Restrict" : "SetNull");
    if (f->description != PLAN_NONE)
        el(b, 1, "description", plan_s(p, f->description));
    el_bool(b, 1, "externalId", f->flags & PF_EXTERNAL);
    el(b, 1, "label", label);
    if (m->length)
        el_num(b, 1, "length", m->length);
    if (m->numeric)
        el_num(b, 1, "precision", m->precision);
    if (m->nrefto)
        lookup_xml(b, obj, name, m);
    if (!m->checkbox)
        el_bool(b, 1, "required", required);
    if (m->numeric)
        el_num(b, 1, "scale", m->scale);
    el(b, 1, "type", m->type);
    if (f->flags & PF_UNIQUE)
        el_bool(b, 1, "unique", true);
    if (m->nvalues)
        value_set(b, m, f->flags & PF_RESTRICTED);
    if (m->visible_lines)
        el_num(b, 1, "visibleLines", m->visible_lines);
    buf_puts(b, "</CustomField>\n");
    free(label);
}

static int write_field(Sfdx *x, const char *obj, const PlanField *f)
{
    FieldMeta m;
    if (field_meta(x, obj, f, &m) < 0) {
        meta_free(&m);
        return -1;
    }
    Buf b = {0};
    field_xml(&b, x->p, obj, f, &m);
    meta_free(&m);
    char *rel = xprintf(SRC_DIR "/objects/%s/fields/%s.field-meta.xml", obj, plan_s(x->p, f->name));
    int rc = write_file(x, rel, &b);
    free(rel);
    return rc;
}

static int write_object(Sfdx *x, const char *obj)
{
    char *label = name_label(obj);
    Buf b = {0};
    open_root(&b, "CustomObject");
    el(&b, 1, "deploymentStatus", "Deployed");
    el(&b, 1, "label", label);
    open_el(&b, 1, "nameField");
    char *name_field = xprintf("%s Name", label);
    el(&b, 2, "label", name_field);
    el(&b, 2, "type", "Text");
    close_el(&b, 1, "nameField");
    char *plural = xprintf("%ss", label);
    el(&b, 1, "pluralLabel", plural);
    el(&b, 1, "sharingModel", "ReadWrite");
    buf_puts(&b, "</CustomObject>\n");
    free(name_field);
    free(plural);
    free(label);
    char *rel = xprintf(SRC_DIR "/objects/%s/%s.object-meta.xml", obj, obj);
    int rc = write_file(x, rel, &b);
    free(rel);
    return rc;
}

static int write_objects(Sfdx *x)
{
    const Plan *p = x->p;
    for (uint32_t i = 0; i < p->nobjects; i++) {
        const PlanObject *o = &p->objects[i];
        const char *obj = plan_s(p, o->name);
        if (is_custom(obj) && write_object(x, obj) < 0)
            return -1;
        for (uint32_t j = 0; j < o->nfields; j++) {
            const PlanField *f = &p->fields[o->first_field + j];
            if (field_is_custom(f) && write_field(x, obj, f) < 0)
                return -1;
        }
    }
    return 0;
}

static void field_permissions(Buf *b, const Plan *p, const char *obj, const PlanField *f)
{
    const char *name = plan_s(p, f->name);
    if (f->flags & PF_REQUIRED) {
        buf_printf(b, "    <!-- %s.%s is required: Salesforce refuses field permissions on a required field, "
                      "which is always readable and editable -->\n", obj, name);
        return;
    }
    char *full = xprintf("%s.%s", obj, name);
    open_el(b, 1, "fieldPermissions");
    el_bool(b, 2, "editable", true);
    el(b, 2, "field", full);
    el_bool(b, 2, "readable", true);
    close_el(b, 1, "fieldPermissions");
    free(full);
}

static void object_permissions(Buf *b, const char *obj)
{
    open_el(b, 1, "objectPermissions");
    el_bool(b, 2, "allowCreate", true);
    el_bool(b, 2, "allowDelete", true);     /* a rollback deletes what the load created */
    el_bool(b, 2, "allowEdit", true);
    el_bool(b, 2, "allowRead", true);
    el_bool(b, 2, "modifyAllRecords", false);
    el(b, 2, "object", obj);
    el_bool(b, 2, "viewAllRecords", false);
    close_el(b, 1, "objectPermissions");
}

/* Without field-level security the API user cannot see a new field at all
** (describe omits it, Bulk API answers INVALID_FIELD): the permission set
** grants it, and must be assigned to that user after the deploy. */
static int write_permset(Sfdx *x)
{
    const Plan *p = x->p;
    Buf b = {0};
    open_root(&b, "PermissionSet");
    el(&b, 1, "description", "Access to the custom fields and objects the mapc migration plan writes");
    for (uint32_t i = 0; i < p->nobjects; i++) {
        const PlanObject *o = &p->objects[i];
        for (uint32_t j = 0; j < o->nfields; j++)
            if (field_is_custom(&p->fields[o->first_field + j]))
                field_permissions(&b, p, plan_s(p, o->name), &p->fields[o->first_field + j]);
    }
    el(&b, 1, "label", "mapc migration");
    for (uint32_t i = 0; i < p->nobjects; i++)
        if (is_custom(plan_s(p, p->objects[i].name)))
            object_permissions(&b, plan_s(p, p->objects[i].name));
    buf_puts(&b, "</PermissionSet>\n");
    return write_file(x, SRC_DIR "/permissionsets/" SFDX_PERMSET ".permissionset-meta.xml", &b);
}

/* One <types> block of package.xml: custom fields (Obj.Field__c) or custom objects. */
static void manifest_types(Buf *b, const Plan *p, bool fields)
{
    size_t start = b->len;
    open_el(b, 1, "types");
    size_t header = b->len;
    for (uint32_t i = 0; i < p->nobjects; i++) {
        const PlanObject *o = &p->objects[i];
        const char *obj = plan_s(p, o->name);
        if (!fields && is_custom(obj))
            el(b, 2, "members", obj);
        for (uint32_t j = 0; fields && j < o->nfields; j++) {
            const PlanField *f = &p->fields[o->first_field + j];
            if (!field_is_custom(f))
                continue;
            char *full = xprintf("%s.%s", obj, plan_s(p, f->name));
            el(b, 2, "members", full);
            free(full);
        }
    }
    if (b->len == header) {            /* no members: no block */
        b->len = start;
        b->s[start] = '\0';
        return;
    }
    el(b, 2, "name", fields ? "CustomField" : "CustomObject");
    close_el(b, 1, "types");
}

static int write_manifest(Sfdx *x)
{
    Buf b = {0};
    open_root(&b, "Package");
    manifest_types(&b, x->p, true);
    manifest_types(&b, x->p, false);
    open_el(&b, 1, "types");
    el(&b, 2, "members", SFDX_PERMSET);
    el(&b, 2, "name", "PermissionSet");
    close_el(&b, 1, "types");
    el(&b, 1, "version", x->version);
    buf_puts(&b, "</Package>\n");
    return write_file(x, "manifest/package.xml", &b);
}

int sfdx_write(const Plan *p, const char *dir, int flags, char *err, size_t errlen)
{
    Sfdx x = {p, dir, p->api_version != PLAN_NONE ? plan_s(p, p->api_version) : SFDX_API_VERSION, err, errlen};
    if (!version_valid(x.version))
        return fail(&x, "the plan's API version '%s' is not a version like " SFDX_API_VERSION, x.version);
    if (check_plan(&x) < 0 || check_dir(&x, flags) < 0)
        return -1;
    if (write_project(&x) < 0 || write_objects(&x) < 0 || write_permset(&x) < 0 || write_manifest(&x) < 0)
        return -1;
    return 0;
}
