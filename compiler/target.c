/*
** target: checking what rules write against the Salesforce schema —
** custom field declarations, field assignments (types, lengths, picklists,
** required fields, createability), trait flattening and rule keys.
*/
#include "sema.h"
#include "diag.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define report(s, ...) do { if (!(s)->mute) diag_report(__VA_ARGS__); } while (0)
#define hint(s, ...)   do { if (!(s)->mute) diag_hint(__VA_ARGS__); } while (0)

/* ---- API names */

/*
** A custom field's API name: letters, digits and underscores, starting with
** a letter, no "__" and no trailing "_" before the "__c" suffix, at most 40
** characters before it.
*/
bool sema_api_name_valid(const char *name, const char **why)
{
    size_t n = strlen(name);
    if (n < 4 || strcmp(name + n - 3, "__c") != 0) {
        *why = "a custom field's API name ends in __c";
        return false;
    }
    size_t base = n - 3;
    if (!isalpha((unsigned char)name[0])) {
        *why = "it must start with a letter";
        return false;
    }
    for (size_t i = 0; i < base; i++) {
        if (!isalnum((unsigned char)name[i]) && name[i] != '_') {
            *why = "only letters, digits and underscores are allowed";
            return false;
        }
        if (name[i] == '_' && i + 1 < base && name[i + 1] == '_') {
            *why = "it must not contain two underscores in a row";
            return false;
        }
    }
    if (name[base - 1] == '_') {
        *why = "it must not end with an underscore before __c";
        return false;
    }
    if (base > 40) {
        *why = "it is longer than 40 characters before __c";
        return false;
    }
    return true;
}

/*
** The naming convention for flattened traits: prefix and key path joined by
** "_", every other character turned into "_", runs of "_" collapsed, no "_"
** at either end, an "x" in front of a leading digit, then "__c".
** preferences + email_marketing -> preferences_email_marketing__c
*/
char *sema_flatten_name(const char *prefix, const char *key)
{
    char *raw = xprintf("%s_%s", prefix, key);
    Buf b = {0};
    buf_put(&b, "", 0);
    for (const char *p = raw; *p; p++) {
        char c = isalnum((unsigned char)*p) && !((unsigned char)*p & 0x80) ? *p : '_';
        if (c == '_' && (b.len == 0 || b.s[b.len - 1] == '_'))
            continue;
        if (b.len == 0 && isdigit((unsigned char)c))
            buf_put(&b, "x", 1);
        buf_put(&b, &c, 1);
    }
    while (b.len && b.s[b.len - 1] == '_')
        b.s[--b.len] = '\0';
    buf_puts(&b, "__c");
    free(raw);
    return b.s;
}

/* ---- field types: text(64), longtext(32768), picklist("a", "b"), … */

static int int_arg(const Node *t, int i, int dflt)
{
    return t->kind == N_CALL && i < t->nkids && t->kids[i]->kind == N_NUM ? (int)t->kids[i]->num : dflt;
}

static bool bad_type(Sema *s, const Node *t, const char *why)
{
    report(s, D_SCHEMA, t->span, "invalid field type: %s", why);
    hint(s, "types: text(N≤255) longtext(N≤131072) textarea email phone url checkbox number(P,S) "
            "date datetime picklist(\"a\", …) multipicklist(\"a\", …) lookup(Object)");
    return false;
}

static bool picklist_values(Sema *s, const Node *t, SfField *f)
{
    if (t->kind != N_CALL || t->nkids == 0)
        return bad_type(s, t, "a picklist lists its values: picklist(\"a\", \"b\")");
    f->picklist = xcalloc((size_t)t->nkids, sizeof(char *));
    for (int i = 0; i < t->nkids; i++) {
        const Node *v = sema_const_value(s, t->kids[i]);
        if (!v || v->kind != N_STR)
            return bad_type(s, t->kids[i], "picklist values are strings");
        f->picklist[f->npicklist++] = xstrdup(v->str);
    }
    f->restricted = true;
    return true;
}

/* md_type: the Metadata API type `mapc schema` creates the field as, which
** describe's type alone does not tell (textarea, longtext and html are all
** "textarea"). */
static bool set_type(SfField *f, const char *sftype, SfType st, int len, const char *md_type)
{
    f->md_type = md_type;
    free(f->type_name);
    f->type_name = xstrdup(sftype);
    f->type = st;
    f->length = len;
    return true;
}

/* Fill f's type from a declared field type. */
static bool field_type(Sema *s, const Node *t, SfField *f)
{
    const char *tn = t->str;
    int n = int_arg(t, 0, -1);
    if (strcmp(tn, "text") == 0) {
        if (n < 1 || n > 255)
            return bad_type(s, t, "text(N) needs a length from 1 to 255");
        return set_type(f, "string", SF_STRING, n, "Text");
    }
    if (strcmp(tn, "longtext") == 0 || strcmp(tn, "html") == 0) {
        n = n < 0 ? 32768 : n;
        if (n < 256 || n > 131072)
            return bad_type(s, t, "longtext(N) needs a length from 256 to 131072");
        return set_type(f, "textarea", SF_TEXTAREA, n, tn[0] == 'h' ? "Html" : "LongTextArea");
    }
    if (strcmp(tn, "textarea") == 0) return set_type(f, "textarea", SF_TEXTAREA, 255, "TextArea");
    if (strcmp(tn, "email") == 0) return set_type(f, "email", SF_EMAIL, 80, "Email");
    if (strcmp(tn, "phone") == 0) return set_type(f, "phone", SF_PHONE, 40, "Phone");
    if (strcmp(tn, "url") == 0) return set_type(f, "url", SF_URL, 255, "Url");
    if (strcmp(tn, "checkbox") == 0) return set_type(f, "boolean", SF_BOOLEAN, 0, "Checkbox");
    if (strcmp(tn, "date") == 0) return set_type(f, "date", SF_DATE, 0, "Date");
    if (strcmp(tn, "datetime") == 0) return set_type(f, "datetime", SF_DATETIME, 0, "DateTime");
    if (strcmp(tn, "number") == 0) {
        f->precision = int_arg(t, 0, 18);
        f->scale = int_arg(t, 1, 0);
        if (f->precision < 1 || f->precision > 18 || f->scale < 0 || f->scale > f->precision)
            return bad_type(s, t, "number(P, S) needs 1 ≤ P ≤ 18 and 0 ≤ S ≤ P");
        return set_type(f, "double", SF_DOUBLE, 0, "Number");
    }
    if (strcmp(tn, "picklist") == 0 || strcmp(tn, "multipicklist") == 0) {
        bool multi = tn[0] == 'm';
        set_type(f, multi ? "multipicklist" : "picklist", multi ? SF_MULTIPICKLIST : SF_PICKLIST, 255,
                 multi ? "MultiselectPicklist" : "Picklist");
        return picklist_values(s, t, f);
    }
    if (strcmp(tn, "lookup") == 0) {
        if (t->kind != N_CALL || t->nkids != 1 || t->kids[0]->kind != N_NAME)
            return bad_type(s, t, "lookup(Object) names the parent object");
        if (!sema_object(s, t->kids[0]->str, t->kids[0]->span))
            return false;
        set_type(f, "reference", SF_REFERENCE, 18, "Lookup");
        f->refto = xcalloc(1, sizeof(char *));
        f->refto[f->nrefto++] = xstrdup(t->kids[0]->str);
        size_t l = strlen(f->name);
        f->relname = xprintf("%.*s__r", (int)(l - 3), f->name);
        return true;
    }
    char why[160];
    snprintf(why, sizeof why, "unknown type '%s'", tn);
    return bad_type(s, t, why);
}

static void field_mods(Sema *s, const Decl *d, SfField *f)
{
    for (int i = 0; i < d->nmods; i++) {
        const char *m = d->mods[i]->str;
        if (strcmp(m, "external") == 0)
            f->external = f->idlookup = true;
        else if (strcmp(m, "unique") == 0)
            f->unique = true;
        else if (strcmp(m, "required") == 0)
            f->nillable = false;
        else if (strcmp(m, "case_sensitive") != 0)
            report(s, D_SCHEMA, d->mods[i]->span, "unknown field option '%s' (external, unique, required, case_sensitive)", m);
    }
    if (f->external && f->type != SF_STRING && f->type != SF_DOUBLE && f->type != SF_EMAIL) {
        report(s, D_SCHEMA, d->type->span, "an External ID must be a text, number or email field");
        f->external = f->idlookup = false;
    }
}

/* Declare a custom field on an object (a `field` item or a flatten entry). */
static bool same_flattened_type(Sema *s, const SfField *old, const Node *type)
{
    SfField tmp = {0};
    tmp.name = old->name;
    s->mute++;
    bool ok = field_type(s, type, &tmp) && old->type_name && strcmp(tmp.type_name, old->type_name) == 0
              && tmp.length == old->length;
    s->mute--;
    free(tmp.type_name);
    for (int i = 0; i < tmp.npicklist; i++)
        free(tmp.picklist[i]);
    free(tmp.picklist);
    for (int i = 0; i < tmp.nrefto; i++)
        free(tmp.refto[i]);
    free(tmp.refto);
    free(tmp.relname);
    return ok;
}

static SfField *declare(Sema *s, const char *object, Span object_at, const char *name, Span name_at,
                        const Node *type, bool from_flatten)
{
    SfObject *o = schema_object(s->schema, object);
    size_t ol = strlen(object);
    if (!o && ol > 3 && strcmp(object + ol - 3, "__c") == 0)
        o = schema_add_object(s->schema, object, true);    /* a custom object the rules create */
    if (!o) {
        sema_object(s, object, object_at);            /* reports it */
        return NULL;
    }
    if (o->no_custom_fields) {
        report(s, D_NO_CUSTOM_FIELDS, object_at, "%s takes no custom fields: Salesforce would refuse to deploy %s.%s",
               object, object, name);
        hint(s, "keep the value in a standard field, and key the rule with `key match` on a unique standard "
                "field such as DeveloperName");
        return NULL;
    }
    const char *why;
    if (!sema_api_name_valid(name, &why)) {
        report(s, D_INVALID_API_NAME, name_at, "'%s' is not a valid custom field name: %s", name, why);
        return NULL;
    }
    SfField *old = schema_field(o, name);
    if (old && old->decl.file >= 0 && from_flatten && old->flattened && same_flattened_type(s, old, type))
        return old;                 /* two rules flatten the same trait the same way */
    if (old && old->decl.file >= 0) {
        report(s, D_DUPLICATE_FIELD, name_at, "field %s.%s is declared twice", object, name);
        return NULL;
    }
    SfField *f = old ? old : schema_add_field(o, name);
    char *org_type = old && old->type_name ? xstrdup(old->type_name) : NULL;
    f->custom = true;
    f->createable = true;
    f->flattened = from_flatten;
    f->decl = name_at;
    if (!field_type(s, type, f))
        f->type = SF_OTHER;
    else if (org_type && strcmp(org_type, f->type_name) != 0) {
        report(s, D_SCHEMA, type->span, "the org already has %s.%s as a %s field, not %s", object, name,
               org_type, f->type_name);
        if (!s->mute)
            diag_severity(DIAG_WARNING);
        hint(s, "change the declaration to match the org, or plan the field type change with the org's admin");
    }
    free(org_type);
    return f;
}

void sema_field_decl(Sema *s, const Decl *d)
{
    SfField *f = declare(s, d->object, d->object_span, d->name, d->name_span, d->type, false);
    if (!f)
        return;
    field_mods(s, d, f);
    if (d->str)
        f->description = xstrdup(d->str);
}

/* Declare the fields a flatten statement produces (before rules are checked,
** so tests and other rules can name them). */
void sema_flatten_decls(Sema *s, const Decl *r);
void sema_flatten_decls(Sema *s, const Decl *r)
{
    if (r->target != TGT_OBJECT)
        return;
    for (int i = 0; i < r->nbody; i++) {
        const Node *st = r->body[i];
        if (st->kind != N_FLATTEN)
            continue;
        for (int j = 1; j < st->nkids; j++) {
            Node *en = st->kids[j];
            if (en->kind != N_FLAT_ENTRY)
                continue;
            char *fname = en->str2 ? xstrdup(en->str2) : sema_flatten_name(st->str, en->str);
            Span at = en->span2;            /* the key, or the name after `as` */
            if (!en->str2) {
                const char *why;
                if (!sema_api_name_valid(fname, &why)) {
                    report(s, D_INVALID_API_NAME, en->span2, "flattening '%s' as %s gives '%s', not a valid field name: %s",
                           en->str, st->str, fname, why);
                    hint(s, "name the field yourself: %s: <type> as <name>__c", en->str);
                    free(fname);
                    continue;
                }
            }
            declare(s, r->object, r->object_span, fname, at, en->kids[0], true);
            free(fname);
        }
    }
}

/* ---- assignments */

static bool ty_fits_field(Ty t, const SfField *f)
{
    if (t.k == TY_ANY || t.k == TY_ERROR || t.k == TY_NULL)
        return true;
    switch (f->type) {
    case SF_BOOLEAN: return t.k == TY_BOOL;
    case SF_DATE: return t.k == TY_DATE;
    case SF_DATETIME: return t.k == TY_DATETIME;
    case SF_DOUBLE: case SF_INT: case SF_CURRENCY: case SF_PERCENT: return t.k == TY_NUMBER;
    case SF_REFERENCE: return t.k == TY_REF;
    case SF_MULTIPICKLIST: return t.k == TY_STRING || t.k == TY_LIST;
    case SF_OTHER: return false;
    default: return t.k == TY_STRING;
    }
}

static const char *conversion_hint(Ty t, const SfField *f)
{
    if (t.k == TY_STRING) {
        switch (f->type) {
        case SF_BOOLEAN: return "parse it: parse_bool(…) else false";
        case SF_DATE: return "parse it: parse_date(…) else null";
        case SF_DATETIME: return "parse it: parse_datetime(…) else null";
        case SF_DOUBLE: case SF_INT: case SF_CURRENCY: case SF_PERCENT: return "parse it: parse_number(…) else null";
        case SF_REFERENCE: return "refer to the parent record: ref Object(key_field__c = …)";
        default: return NULL;
        }
    }
    if (t.k == TY_NUMBER && f->type == SF_DATETIME) return "unix seconds become a datetime with unix_datetime(…)";
    if (t.k == TY_NUMBER && f->type == SF_DATE) return "unix seconds become a date with unix_date(…)";
    if (t.k == TY_DATETIME && f->type == SF_DATE) return "take the date with date_of(…)";
    if (schema_is_text(f->type) && (t.k == TY_OBJECT || t.k == TY_LIST)) return "keep it as JSON text: json(…)";
    if (schema_is_text(f->type)) return "convert it to text with str(…)";
    return NULL;
}

/* The string values an expression can take, when they are all known. */
static bool possible_values(Sema *s, const Node *e, PtrVec *out)
{
    e = sema_const_value(s, e);
    if (!e)
        return false;
    switch (e->kind) {
    case N_STR: vec_push(out, e->str); return true;
    case N_NULL: return true;
    case N_BIN:
        return e->op == BIN_COALESCE && possible_values(s, e->kids[0], out) && possible_values(s, e->kids[1], out);
    case N_CALL:
        if (strcmp(e->str, "if") == 0 && e->nkids == 3)
            return possible_values(s, e->kids[1], out) && possible_values(s, e->kids[2], out);
        if (strcmp(e->str, "lookup") == 0 && e->nkids == 2) {
            const Node *t = sema_const_value(s, e->kids[1]);
            if (!t || t->kind != N_OBJ)
                return false;
            for (int i = 0; i < t->nkids; i++)
                if (!possible_values(s, t->kids[i]->kids[0], out))
                    return false;
            return true;
        }
        return false;
    default:
        return false;
    }
}

static bool picklist_has(const SfField *f, const char *v)
{
    for (int j = 0; j < f->npicklist; j++)
        if (strcmp(v, f->picklist[j]) == 0)
            return true;
    return false;
}

/* A multi-select value is several values joined by ';'. */
static bool picklist_ok(const SfField *f, const char *value)
{
    if (f->type != SF_MULTIPICKLIST)
        return picklist_has(f, value);
    char *copy = xstrdup(value);
    bool ok = true;
    char *save = NULL;
    for (char *v = strtok_r(copy, ";", &save); v && ok; v = strtok_r(NULL, ";", &save))
        ok = picklist_has(f, v);
    free(copy);
    return ok;
}

static void check_picklist(Sema *s, const SfObject *o, const SfField *f, const Node *value)
{
    if ((f->type != SF_PICKLIST && f->type != SF_MULTIPICKLIST) || !f->restricted)
        return;
    PtrVec vals = {0};
    if (!possible_values(s, value, &vals)) {
        report(s, D_PICKLIST_VALUE, value->span, "%s.%s is a restricted picklist and this value comes from the data",
               o->name, f->name);
        hint(s, "map the data to allowed values with lookup(value, {\"from\": \"To\", …}) ?? \"default\"");
        vec_free(&vals);
        return;
    }
    for (int i = 0; i < vals.n; i++) {
        if (picklist_ok(f, vals.v[i]))
            continue;
        report(s, D_PICKLIST_VALUE, value->span, "'%s' is not a value of the restricted picklist %s.%s",
               (char *)vals.v[i], o->name, f->name);
        if (!s->mute)
            diag_severity(DIAG_ERROR);
        Buf b = {0};
        for (int j = 0; j < f->npicklist && j < 12; j++)
            buf_printf(&b, "%s\"%s\"", j ? ", " : "", f->picklist[j]);
        hint(s, "allowed: %s%s", b.s ? b.s : "(none)", f->npicklist > 12 ? ", …" : "");
        buf_free(&b);
    }
    vec_free(&vals);
}

static void check_length(Sema *s, const SfObject *o, const SfField *f, Ty t, const Node *value)
{
    if (t.k != TY_STRING || f->length <= 0 || f->type == SF_PICKLIST || f->type == SF_MULTIPICKLIST
        || f->type == SF_REFERENCE || f->type == SF_ID)
        return;
    if (t.maxlen < 0) {
        report(s, D_STRING_LENGTH, value->span, "this value may be longer than %s.%s's %d characters",
               o->name, f->name, f->length);
        hint(s, "cut it with truncate(…, %d), or keep it whole and quarantine longer values: "
                "fits(…, %d) else quarantine \"…\"", f->length, f->length);
    } else if (t.maxlen > f->length) {
        report(s, D_STRING_LENGTH, value->span, "this value can be %d characters, longer than %s.%s's %d",
               t.maxlen, o->name, f->name, f->length);
        if (!s->mute)
            diag_severity(DIAG_ERROR);
        hint(s, "shorten the literal, or cut the value with truncate(…, %d)", f->length);
    }
}

static bool audit_field(const char *name)
{
    return strcmp(name, "CreatedDate") == 0 || strcmp(name, "CreatedById") == 0
        || strcmp(name, "LastModifiedDate") == 0 || strcmp(name, "LastModifiedById") == 0;
}

static void check_ref_target(Sema *s, const SfObject *o, const SfField *f, const Node *value)
{
    if (value->kind == N_BIN && value->op == BIN_COALESCE) {
        check_ref_target(s, o, f, value->kids[0]);
        check_ref_target(s, o, f, value->kids[1]);
        return;
    }
    if (value->kind != N_REF)
        return;
    if (value->nkids > 2 && !f->polymorphic && f->nrefto < 2)
        report(s, D_TYPE_MISMATCH, value->span, "%s.%s is not polymorphic: refer to one object", o->name, f->name);
    for (int i = 0; i < value->nkids - 1; i++) {
        const char *obj = value->kids[i]->str;
        bool ok = false;
        for (int j = 0; j < f->nrefto && !ok; j++)
            ok = strcmp(f->refto[j], obj) == 0;
        if (!ok && schema_object(s->schema, obj)) {
            report(s, D_TYPE_MISMATCH, value->kids[i]->span, "%s.%s cannot refer to a %s", o->name, f->name, obj);
            Buf b = {0};
            for (int j = 0; j < f->nrefto; j++)
                buf_printf(&b, "%s%s", j ? ", " : "", f->refto[j]);
            hint(s, "it refers to: %s", b.s ? b.s : "nothing");
            buf_free(&b);
        }
    }
}

/* Check `Field = value` on object o; returns the field or NULL. */
static SfField *assign(Sema *s, SfObject *o, const char *fname, Span at, const Node *value, Ty t)
{
    SfField *f = schema_field(o, fname);
    if (!f) {
        report(s, D_UNKNOWN_FIELD, at, "%s has no field '%s'", o->name, fname);
        const char *sug = schema_suggest_field(o, fname);
        size_t n = strlen(fname);
        if (sug)
            hint(s, "did you mean '%s'?", sug);
        else if (n > 3 && strcmp(fname + n - 3, "__c") == 0)
            hint(s, "declare the custom field first: field %s.%s text(255)", o->name, fname);
        return NULL;
    }
    if (!f->createable && !(s->audit_fields && audit_field(f->name))) {
        report(s, D_NOT_CREATEABLE, at, "%s.%s cannot be set when a record is created", o->name, f->name);
        if (audit_field(f->name))
            hint(s, "audit fields need `allow audit_fields` and the org's \"Set Audit Fields upon Record Creation\" permission");
        return f;
    }
    if (!ty_fits_field(t, f)) {
        report(s, D_TYPE_MISMATCH, value->span, "%s.%s is a %s field and this value is a %s", o->name, f->name,
               f->type_name ? f->type_name : "?", sema_ty_name(t));
        const char *h = conversion_hint(t, f);
        if (h)
            hint(s, "%s", h);
        return f;
    }
    if (schema_required_on_create(f) && (t.nullable || t.k == TY_NULL)) {
        report(s, D_REQUIRED_NULL, value->span, "%s.%s is required but this value may be null",
               o->name, f->name);
        hint(s, "give a fallback: … ?? \"[unknown]\"");
    }
    if (f->type == SF_REFERENCE)
        check_ref_target(s, o, f, value);
    check_length(s, o, f, t, value);
    check_picklist(s, o, f, value);
    return f;
}

static void duplicate_write(Sema *s, const Decl *r, PtrVec *written, const char *name, Span at)
{
    for (int i = 0; i < written->n; i++)
        if (written->v[i] && strcmp(written->v[i], name) == 0) {
            report(s, D_DUPLICATE_FIELD, at, "rule %s sets %s twice", r->name, name);
            return;
        }
}

static void flatten(Sema *s, const Decl *r, SfObject *o, const Node *st, PtrVec *written)
{
    Ty t = sema_use(s, sema_expr(s, st->kids[0]), st->kids[0]);
    if (t.k != TY_OBJECT && t.k != TY_ANY && t.k != TY_ERROR && t.k != TY_NULL)
        report(s, D_TYPE_MISMATCH, st->kids[0]->span, "flatten needs an object, found %s", sema_ty_name(t));
    for (int j = 1; j < st->nkids; j++) {
        const Node *en = st->kids[j];
        if (en->kind == N_FLAT_REST) {
            SfField *f = schema_field(o, en->str);
            if (!f) {
                report(s, D_UNKNOWN_FIELD, en->span2, "%s has no field '%s'", o->name, en->str);
                hint(s, "declare it: field %s.%s longtext(32768)", o->name, en->str);
            } else if (!schema_is_text(f->type)) {
                report(s, D_TYPE_MISMATCH, en->span2, "rest keeps the other keys as JSON text: %s.%s must be a text field",
                       o->name, en->str);
            } else {
                duplicate_write(s, r, written, f->name, en->span2);
                vec_push(written, f->name);
            }
            continue;
        }
        char *fname = en->str2 ? xstrdup(en->str2) : sema_flatten_name(st->str, en->str);
        SfField *f = schema_field(o, fname);
        if (f) {
            duplicate_write(s, r, written, f->name, en->span2);
            vec_push(written, f->name);
        }
        free(fname);
    }
}

/* Requirements describe cannot express: one field of each group must be set. */
static const struct {
    const char *object;
    const char *fields[3];
} one_of[] = {
    {"CampaignMember", {"LeadId", "ContactId", NULL}},
};

static bool was_written(PtrVec *written, const char *name)
{
    for (int j = 0; j < written->n; j++)
        if (written->v[j] && strcmp(written->v[j], name) == 0)
            return true;
    return false;
}

static void required_one_of(Sema *s, const Decl *r, const SfObject *o, PtrVec *written)
{
    for (size_t i = 0; i < sizeof one_of / sizeof one_of[0]; i++) {
        if (strcmp(one_of[i].object, o->name) != 0)
            continue;
        bool any = false;
        for (int k = 0; one_of[i].fields[k] && !any; k++)
            any = was_written(written, one_of[i].fields[k]);
        if (!any) {
            report(s, D_REQUIRED_MISSING, r->name_span, "rule %s sets neither %s.%s nor %s: a %s needs one of them",
                   r->name, o->name, one_of[i].fields[0], one_of[i].fields[1], o->name);
            hint(s, "add `%s = ref …` or `%s = ref …`", one_of[i].fields[0], one_of[i].fields[1]);
        }
    }
}

static void required_fields(Sema *s, const Decl *r, const SfObject *o, PtrVec *written)
{
    required_one_of(s, r, o, written);
    for (int i = 0; i < o->nfields; i++) {
        const SfField *f = o->fields[i];
        if (!schema_required_on_create(f))
            continue;
        if (!was_written(written, f->name)) {
            report(s, D_REQUIRED_MISSING, r->name_span, "rule %s does not set %s.%s, which is required on create",
                   r->name, o->name, f->name);
            hint(s, "add `%s = …` to the rule", f->name);
        }
    }
}

static void record_rule(Sema *s, const Decl *r, SfObject *o)
{
    PtrVec written = {0};
    if (!r->key) {
        report(s, D_MISSING_KEY, r->name_span, "rule %s writes %s without an upsert key", r->name, o->name);
        hint(s, "add `key <external id field> = …` so a re-run updates instead of duplicating");
    } else {
        SfField *kf = schema_field(o, r->keyfield);
        Ty kt = sema_use(s, sema_expr(s, r->key), r->key);
        if (kf && !kf->external && !r->key_match) {
            report(s, D_KEY_NOT_EXTERNAL, r->keyfield_span, "%s.%s is not an External ID field, so it cannot be an upsert key",
                   o->name, r->keyfield);
            if (kf->decl.file >= 0)
                hint(s, "add `external unique` to the field declaration of %s.%s", o->name, r->keyfield);
            else
                hint(s, "upsert by a custom field declared `external unique`, e.g. field %s.cio_id__c text(64) external "
                        "unique; or, where no custom field is possible, `key match %s = …`", o->name, r->keyfield);
        }
        if (kt.nullable || kt.k == TY_NULL) {
            report(s, D_REQUIRED_NULL, r->key->span, "the upsert key %s may be null, and a record without a key cannot be upserted",
                   r->keyfield);
            hint(s, "guard the rule with `when <key expression> != null`, or build the key from a value that is always present");
            kt.nullable = false;
        }
        SfField *f = assign(s, o, r->keyfield, r->keyfield_span, r->key, kt);
        if (f)
            vec_push(&written, f->name);
    }
    for (int i = 0; i < r->nbody; i++) {
        const Node *st = r->body[i];
        if (st->kind == N_FLATTEN) {
            flatten(s, r, o, st, &written);
            continue;
        }
        Ty t = sema_use(s, sema_expr(s, st->kids[0]), st->kids[0]);
        SfField *f = assign(s, o, st->str, st->span2, st->kids[0], t);
        if (!f)
            continue;
        duplicate_write(s, r, &written, f->name, st->span2);
        vec_push(&written, f->name);
    }
    required_fields(s, r, o, &written);
    vec_free(&written);
}

/* inventory / flag / exclude rules: named columns, any plain values */
static void entry_rule(Sema *s, const Decl *r)
{
    PtrVec cols = {0};
    if (r->key)
        sema_use(s, sema_expr(s, r->key), r->key);
    for (int i = 0; i < r->nbody; i++) {
        const Node *st = r->body[i];
        if (st->kind == N_FLATTEN) {
            report(s, D_TYPE_MISMATCH, st->span, "flatten writes Salesforce fields; inventory and flag columns take values");
            continue;
        }
        Ty t = sema_use(s, sema_expr(s, st->kids[0]), st->kids[0]);
        if (t.k == TY_REF)
            report(s, D_TYPE_MISMATCH, st->kids[0]->span, "a ref only makes sense in a Salesforce field");
        duplicate_write(s, r, &cols, st->str, st->span2);
        vec_push(&cols, st->str);
    }
    vec_free(&cols);
}

/* `X != null` conjuncts of a when clause: X is non-null in the rule. */
static void collect_facts(Sema *s, const Node *w)
{
    if (!w || w->kind != N_BIN)
        return;
    if (w->op == BIN_AND) {
        collect_facts(s, w->kids[0]);
        collect_facts(s, w->kids[1]);
    } else if (w->op == BIN_NE && w->kids[1]->kind == N_NULL) {
        vec_push(&s->facts, sema_node_text(w->kids[0]));
    } else if (w->op == BIN_NE && w->kids[0]->kind == N_NULL) {
        vec_push(&s->facts, sema_node_text(w->kids[1]));
    }
}

void sema_rule(Sema *s, const Decl *r)
{
    const Node *shape = sema_shape_of_kind(s, r->kindname);
    if (!shape) {
        sema_unknown_kind(s, r->kindname, r->kind_span);
        return;
    }
    s->rule = r;
    s->shape = shape;
    collect_facts(s, r->when);
    if (r->when) {
        Ty w = sema_use(s, sema_expr(s, r->when), r->when);
        if (w.k != TY_BOOL && w.k != TY_ERROR && w.k != TY_ANY)
            report(s, D_TYPE_MISMATCH, r->when->span, "a when condition must be a bool, found %s", sema_ty_name(w));
    }
    if (r->target == TGT_OBJECT) {
        SfObject *o = sema_object(s, r->object, r->object_span);
        if (o)
            record_rule(s, r, o);
    } else {
        entry_rule(s, r);
    }
    for (int i = 0; i < s->facts.n; i++)
        free(s->facts.v[i]);
    vec_free(&s->facts);
    s->rule = NULL;
    s->shape = NULL;
}
