/*
** sfdx: `mapc schema PLAN.mapb --sfdx DIR` — the custom fields and custom
** objects a plan writes, as an SFDX source tree that
** `sf project deploy start --source-dir DIR/force-app` (or
** `--manifest DIR/manifest/package.xml`) creates in the org before a load:
**
**   DIR/sfdx-project.json
**   DIR/manifest/package.xml
**   DIR/force-app/main/default/objects/<Obj>/<Obj>.object-meta.xml      custom objects
**   DIR/force-app/main/default/objects/<Obj>/fields/<F>.field-meta.xml  custom fields
**   DIR/force-app/main/default/permissionsets/mapc_migration.permissionset-meta.xml
**
** Objects and fields come out in plan order, so the tree is deterministic.
*/
#ifndef MAPC_SFDX_H
#define MAPC_SFDX_H

#include <stddef.h>

#include "plan.h"

/* sfdx_write flags */
enum { SFDX_FORCE = 1 };  /* write into a directory that is not empty */

#define SFDX_API_VERSION "62.0"   /* when the plan has no `target salesforce "N.0"` */
#define SFDX_PERMSET "mapc_migration"

/*
** Write the tree into dir (created if missing).  Returns 0, or -1 with a
** one-line reason in err: a non-empty dir without SFDX_FORCE, an invalid
** API name or type in the plan, or a file that cannot be written (the
** tree may then be partly written).
*/
int sfdx_write(const Plan *p, const char *dir, int flags, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
