/*
** sftype: Salesforce field types, shared by the checker (compiler/schema.c),
** the plan (PlanField.type) and the runtime's validation and CSV export.
** ORDER SFTYPE: the numbering is part of the plan format; append only.
*/
#ifndef MAPRUN_SFTYPE_H
#define MAPRUN_SFTYPE_H

typedef enum {
    SF_STRING, SF_TEXTAREA, SF_EMAIL, SF_PHONE, SF_URL, SF_PICKLIST, SF_MULTIPICKLIST,
    SF_COMBOBOX, SF_ID, SF_BOOLEAN, SF_DATE, SF_DATETIME, SF_DOUBLE, SF_INT, SF_CURRENCY,
    SF_PERCENT, SF_REFERENCE, SF_BASE64, SF_OTHER
} SfType;

/* describe's name of each type ("string", "textarea", …). */
static inline const char *sftype_name(unsigned t)
{
    static const char *const names[] = {
        "string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "combobox", "id",
        "boolean", "date", "datetime", "double", "int", "currency", "percent", "reference", "base64", "other"
    };
    return t <= SF_OTHER ? names[t] : "other";
}

#endif
