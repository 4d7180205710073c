/*
** schema: the target Salesforce schema the rules are checked against.
**
** Objects and fields come from describe JSON (`/sobjects/X/describe`): the
** stdlib's copy for the standard objects, or an org's own files with
** `mapc check --schema DIR`.  Custom fields declared in the rules are added
** on top by sema.  This is the only compiler file that includes cJSON.
*/
#ifndef MAPC_SCHEMA_H
#define MAPC_SCHEMA_H

#include <stdbool.h>

#include "sftype.h"
#include "srcloc.h"

typedef struct SfField {
    char *name;
    char *type_name;     /* describe's type string, e.g. "textarea" */
    SfType type;
    int length;          /* characters, for text types; 0 = unlimited/unknown */
    int precision, scale;
    bool nillable, createable, defaulted, external, unique, idlookup, custom;
    bool restricted;     /* restricted picklist */
    bool polymorphic;
    bool flattened;      /* declared by a flatten entry */
    char **picklist;     /* active values */
    int npicklist;
    char **refto;        /* referenced objects */
    int nrefto;
    char *relname;       /* relationship name: Account, Who, Owner */
    char *description;   /* a declared field's description string, or NULL */
    const char *md_type; /* a declared field's Metadata API type ("Text", "LongTextArea"…), or NULL */
    Span decl;           /* where the rules declared it; file -1 for describe data */
} SfField;

typedef struct SfObject {
    char *name;
    SfField **fields;
    int nfields;
    bool custom;
    bool no_custom_fields;    /* describe "customFieldsAllowed": false (mapc's key): EmailTemplate, Note */
} SfObject;

typedef struct Schema {
    SfObject **objects;
    int nobjects;
} Schema;

/*
** Load one describe document.  `file` is its srcloc index (used to place
** errors); problems are reported as [schema] diagnostics.  Returns 0 or -1.
*/
int schema_load_describe(Schema *s, int file);
/* Load every *.json file in a directory; returns the number loaded or -1. */
int schema_load_dir(Schema *s, const char *dir);

SfObject *schema_object(const Schema *s, const char *name);
SfField *schema_field(const SfObject *o, const char *name);
SfObject *schema_add_object(Schema *s, const char *name, bool custom);
SfField *schema_add_field(SfObject *o, const char *name);
/* Closest existing name (edit distance ≤ 2 or prefix), for hints; NULL if none. */
const char *schema_suggest_object(const Schema *s, const char *name);
const char *schema_suggest_field(const SfObject *o, const char *name);

SfType schema_type_from_name(const char *type_name);
bool schema_is_text(SfType t);
bool schema_required_on_create(const SfField *f);
void schema_free(Schema *s);

/* A plan's JSON array of strings (picklist values, referenced objects), so
** that no other compiler file needs cJSON: the strings, or NULL when json is
** not an array of strings.  Free with schema_strings_free(). */
char **schema_json_strings(const char *json, int *n);
void schema_strings_free(char **v, int n);

#endif
