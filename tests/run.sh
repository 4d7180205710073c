#!/bin/sh
# Run every test with the mapc binary given as $1 (default build/mapc).
# Prints one line per failure and a closing "N passed, N failed".
# UPDATE_GOLDEN=1 rewrites the expected outputs from what mapc prints now.
set -u
MAPC=$(cd "$(dirname "${1:-build/mapc}")" && pwd)/$(basename "${1:-build/mapc}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# Compare $1 (actual file) with golden $2; update it under UPDATE_GOLDEN=1.
golden() {
    if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
        cp "$1" "$2"
        ok
    elif [ ! -f "$2" ]; then
        bad "$3: no golden file $2 (run with UPDATE_GOLDEN=1)"
    elif cmp -s "$1" "$2"; then
        ok
    else
        bad "$3"
        diff -u "$2" "$1" | head -40
    fi
}

# 1. Golden diagnostics: tests/check/NAME.map -> NAME.out (text, with exit status)
#    and, where NAME.json exists, the --format json output.
for map in "$ROOT"/tests/check/*.map; do
    name=$(basename "$map" .map)
    (cd "$ROOT/tests/check" && "$MAPC" check "$name.map" >"$tmp/out" 2>&1; echo "[exit $?]" >>"$tmp/out")
    golden "$tmp/out" "$ROOT/tests/check/$name.out" "check $name"
    if [ -f "$ROOT/tests/check/$name.json" ]; then
        (cd "$ROOT/tests/check" && "$MAPC" check --format json "$name.map" >"$tmp/json" 2>/dev/null)
        golden "$tmp/json" "$ROOT/tests/check/$name.json" "check --format json $name"
    fi
done

# 2. Every diagnostic code has a golden test and a section in docs/diagnostics.md.
for code in $(sed -n 's/^DIAG([A-Z_]*, *"\([a-z-]*\)".*/\1/p' "$ROOT/compiler/diagnostics.def"); do
    if grep -l "\[$code\]" "$ROOT"/tests/check/*.out >/dev/null 2>&1; then ok; else bad "no golden test reports [$code]"; fi
    if grep -q "^## \`$code\`" "$ROOT/docs/diagnostics.md"; then ok; else bad "docs/diagnostics.md has no section for $code"; fi
done

# 3. The reference rules and every stdlib module check clean (no errors, no warnings).
for f in "$ROOT"/rules/*.map; do
    if "$MAPC" check "$f" >"$tmp/out" 2>&1 && [ ! -s "$tmp/out" ]; then ok; else bad "mapc check $f is not clean"; cat "$tmp/out"; fi
done

# 4. docs/language.md: every ```map block checks clean; every ```map-error block
#    fails with the code named on its first line (# error: [code]).
awk -v dir="$tmp/docs" '
    BEGIN { n = 0; system("mkdir -p " dir) }
    /^```map(-error)?$/ { n++; kind = ($0 ~ /error/) ? "err" : "ok"; file = sprintf("%s/%03d.%s.map", dir, n, kind); inblock = 1; next }
    /^```/ && inblock { inblock = 0; close(file); next }
    inblock { print > file }
' "$ROOT/docs/language.md"
for f in "$tmp"/docs/*.map; do
    [ -f "$f" ] || continue
    case "$f" in
    *.ok.map)
        if "$MAPC" check "$f" >"$tmp/out" 2>&1 && [ ! -s "$tmp/out" ]; then ok
        else bad "docs/language.md example $(basename "$f") does not check clean"; cat "$tmp/out"; head -5 "$f"; fi ;;
    *.err.map)
        code=$(sed -n '1s/.*error: \[\([a-z-]*\)\].*/\1/p' "$f")
        "$MAPC" check "$f" >"$tmp/out" 2>&1
        rc=$?
        if [ "$rc" = 1 ] && [ -n "$code" ] && grep -q "\[$code\]" "$tmp/out"; then ok
        else bad "docs/language.md error example $(basename "$f") should fail with [$code]"; cat "$tmp/out"; fi ;;
    esac
done

# 5. Command line: usage errors exit 2, unreadable files are reported.
"$MAPC" >/dev/null 2>&1; [ $? = 2 ] && ok || bad "mapc with no arguments should exit 2"
"$MAPC" check >/dev/null 2>&1; [ $? = 2 ] && ok || bad "mapc check with no files should exit 2"
"$MAPC" check --format xml "$ROOT/rules/customerio_to_salesforce.map" >/dev/null 2>&1; [ $? = 2 ] && ok || bad "--format xml should exit 2"
"$MAPC" check "$tmp/missing.map" >"$tmp/out" 2>&1; rc=$?
if [ $rc = 1 ] && grep -q "missing.map: error: cannot read the file" "$tmp/out"; then ok; else bad "a missing file should be an [io] error"; fi

# 6. --schema DIR: an org's own describe files replace the stdlib's.
mkdir -p "$tmp/org"
cp "$ROOT"/stdlib/salesforce/*.json "$tmp/org/"
"$MAPC" check --schema "$tmp/org" "$ROOT/rules/customerio_to_salesforce.map" >"$tmp/out" 2>&1 && ok || { bad "--schema with the stdlib describe files"; cat "$tmp/out"; }
"$MAPC" check --schema "$tmp/no-such-dir" "$ROOT/rules/customerio_to_salesforce.map" >"$tmp/out" 2>&1
if [ $? = 1 ] && grep -q "no-such-dir: error: cannot read schema directory" "$tmp/out" && [ "$(grep -c error: "$tmp/out")" = 1 ]; then ok
else bad "an unreadable --schema DIR should be one [io] error"; cat "$tmp/out"; fi
rm "$tmp/org/Task.json"
"$MAPC" check --schema "$tmp/org" "$ROOT/rules/customerio_to_salesforce.map" >"$tmp/out" 2>&1
if [ $? = 1 ] && grep -q "unknown object 'Task'" "$tmp/out"; then ok; else bad "--schema without Task.json should report unknown object Task"; fi

# 7. Broken input never crashes the checker: mutants of the reference rules and
#    the stdlib, plus every kept crasher in tests/fuzz/regress/.
if python3 "$ROOT/tests/fuzz/mutate.py" "$MAPC" "${FUZZ_N:-40}" "$ROOT/rules/customerio_to_salesforce.map" \
        "$ROOT/stdlib/customerio.map" >"$tmp/fuzz" 2>&1; then ok; else bad "mutation test"; cat "$tmp/fuzz"; fi
for f in "$ROOT"/tests/fuzz/regress/*.map; do
    [ -f "$f" ] || continue
    "$MAPC" check "$f" >/dev/null 2>&1
    [ $? -le 2 ] && ok || bad "regression $(basename "$f") crashes"
done

# 8. Unit tests: each tests/unit/test_NAME.c is built next to mapc as test_NAME
#    (make test / make asan build them); exit status 0 is a pass.
BUILD_DIR=$(dirname "$MAPC")
for src in "$ROOT"/tests/unit/test_*.c; do
    [ -f "$src" ] || continue
    name=$(basename "$src" .c)
    if [ ! -x "$BUILD_DIR/$name" ]; then bad "unit test $name is not built ($BUILD_DIR/$name)"; continue; fi
    if "$BUILD_DIR/$name" >"$tmp/unit" 2>&1; then ok; else bad "unit test $name"; cat "$tmp/unit"; fi
done

# 9. The compiled plan and the runtime.
MAPRUN="$BUILD_DIR/maprun"
#    9a. inline tests through the VM: the reference rules and tests/vm/*.map
for f in "$ROOT"/rules/*.map "$ROOT"/tests/vm/*.map; do
    if "$MAPC" test "$f" >"$tmp/out" 2>&1; then ok; else bad "mapc test $(basename "$f")"; cat "$tmp/out"; fi
done
#    9b. disassembly goldens: tests/emit/NAME.map and tests/vm/NAME.map -> NAME.dis
for map in "$ROOT"/tests/emit/*.map "$ROOT"/tests/vm/*.map; do
    dir=$(dirname "$map")
    name=$(basename "$map" .map)
    if (cd "$dir" && "$MAPC" compile "$name.map" -o "$tmp/$name.mapb") >"$tmp/out" 2>&1; then
        "$MAPC" disasm "$tmp/$name.mapb" >"$tmp/dis" 2>&1
        golden "$tmp/dis" "$dir/$name.dis" "disasm $name"
    else
        bad "mapc compile $name"; cat "$tmp/out"
    fi
done
#    9c. every opcode in the table is exercised by tests/vm/opcodes.map
for op in $(sed -n 's/^| `\([A-Z]*\)`.*/\1/p' "$ROOT/docs/opcodes.md"); do
    if grep -q "^  [0-9]*  $op\b" "$ROOT/tests/vm/opcodes.dis"; then ok; else bad "no test program uses opcode $op"; fi
done
#    9d. docs/opcodes.md is generated from the opcode table and current
"$MAPC" opcodes >"$tmp/opcodes.md"
if cmp -s "$tmp/opcodes.md" "$ROOT/docs/opcodes.md"; then ok; else bad "docs/opcodes.md is stale: run mapc opcodes > docs/opcodes.md"; fi
#    9e. corrupt and truncated plans are refused, never crash
(cd "$ROOT" && "$MAPC" compile rules/customerio_to_salesforce.map -o "$tmp/ref.mapb") >/dev/null 2>&1
if python3 "$ROOT/tests/fuzz/corrupt_plan.py" "$MAPC" "$tmp/ref.mapb" "${FUZZ_N:-40}" >"$tmp/out" 2>&1; then ok
else bad "corrupt plans"; cat "$tmp/out"; fi
#    9f. staging the fixtures in tests/stage/data: every record accounted for, the state
#        (without meta) and the CSVs as the goldens say, and a second run changes nothing
stage_dump() {   # $1 state dir -> the dump without the meta database
    "$MAPRUN" dump --state "$1" | grep -v "^meta	"
}
cd "$ROOT/tests/stage"
if "$MAPRUN" stage "$tmp/ref.mapb" --state "$tmp/st" data/person.ndjson data/activity.ndjson data/delivery.ndjson \
        data/object.ndjson data/workspace.ndjson >"$tmp/out" 2>&1; then ok; else bad "maprun stage"; cat "$tmp/out"; fi
"$MAPRUN" status --state "$tmp/st" >"$tmp/status" 2>&1
if [ $? = 0 ] && grep -q "every record is accounted for" "$tmp/status"; then ok; else bad "maprun status: accounting"; cat "$tmp/status"; fi
stage_dump "$tmp/st" >"$tmp/dump1"
golden "$tmp/dump1" "$ROOT/tests/stage/expected.dump" "staged state"
"$MAPRUN" stage "$tmp/ref.mapb" --state "$tmp/st" data/person.ndjson data/activity.ndjson data/delivery.ndjson \
    data/object.ndjson data/workspace.ndjson >/dev/null 2>&1
stage_dump "$tmp/st" >"$tmp/dump2"
if cmp -s "$tmp/dump1" "$tmp/dump2"; then ok; else bad "staging twice changed the state"; diff "$tmp/dump1" "$tmp/dump2" | head; fi
#        the second run read on the mapping's thread (--no-read-ahead): the same state
"$MAPRUN" stage "$tmp/ref.mapb" --state "$tmp/st_nra" --no-read-ahead data/person.ndjson data/activity.ndjson \
    data/delivery.ndjson data/object.ndjson data/workspace.ndjson >/dev/null 2>&1
stage_dump "$tmp/st_nra" >"$tmp/dump3"
if cmp -s "$tmp/dump1" "$tmp/dump3"; then ok; else bad "--no-read-ahead staged another state"; diff "$tmp/dump1" "$tmp/dump3" | head; fi
rm -rf "$tmp/csv"
if "$MAPRUN" export --state "$tmp/st" --csv "$tmp/csv" >"$tmp/out" 2>&1; then ok; else bad "maprun export"; cat "$tmp/out"; fi
for f in "$tmp"/csv/*.csv; do
    [ -f "$f" ] && golden "$f" "$ROOT/tests/stage/expected/$(basename "$f")" "export $(basename "$f")"
done
#        a small size limit splits a file into parts, each with the header
rm -rf "$tmp/csv2"
"$MAPRUN" export --state "$tmp/st" --csv "$tmp/csv2" --max-bytes 200 >/dev/null 2>&1
parts=$(ls "$tmp"/csv2/*-Contact*.csv 2>/dev/null | wc -l)
if [ "$parts" -ge 2 ] && head -1 "$tmp"/csv2/03-Contact.part2.csv | grep -q '^Account.cio_account_key__c,'; then ok
else bad "export --max-bytes should split Contact into parts with headers"; ls "$tmp/csv2"; fi
#    9g. merge policies (tests/stage/merge.map): first, last, fill, and none (a duplicate is quarantined)
"$MAPC" compile merge.map -o "$tmp/merge.mapb" >/dev/null 2>&1
"$MAPRUN" stage "$tmp/merge.mapb" --state "$tmp/ms" data-merge/signup.ndjson >/dev/null 2>&1
stage_dump "$tmp/ms" >"$tmp/mdump"
golden "$tmp/mdump" "$ROOT/tests/stage/merge.dump" "merge policies"
#    9h. bad command lines and a missing plan
"$MAPRUN" stage "$tmp/none.mapb" --state "$tmp/st3" data/person.ndjson >"$tmp/out" 2>&1
if [ $? = 1 ] && grep -q "none.mapb" "$tmp/out"; then ok; else bad "maprun stage with a missing plan"; fi
"$MAPRUN" frobnicate >/dev/null 2>&1; [ $? = 2 ] && ok || bad "maprun with an unknown command should exit 2"
cd "$ROOT"

# 10. mapc schema PLAN.mapb --sfdx DIR: the SFDX metadata tree, compared whole (every file's
#     path and content) with tests/schema/NAME.tree; every XML file well-formed.
tree_dump() {   # $1 dir -> each file, sorted: "=== path" then its content
    (cd "$1" && find . -type f | LC_ALL=C sort | while read -r f; do echo "=== $f"; cat "$f"; done)
}
xml_ok() {      # $1 dir: every *.xml parses, sfdx-project.json is JSON
    find "$1" -name '*.xml' -exec python3 -c 'import xml.dom.minidom,sys
for f in sys.argv[1:]: xml.dom.minidom.parse(f)' {} + \
        && python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1/sfdx-project.json"
}
for map in "$ROOT/rules/customerio_to_salesforce.map" "$ROOT"/tests/schema/*.map; do
    name=$(basename "$map" .map)
    [ "$name" = customerio_to_salesforce ] && name=reference
    rm -rf "$tmp/sfdx"
    if "$MAPC" compile "$map" -o "$tmp/$name.mapb" >"$tmp/out" 2>&1 \
            && "$MAPC" schema "$tmp/$name.mapb" --sfdx "$tmp/sfdx" >>"$tmp/out" 2>&1; then
        tree_dump "$tmp/sfdx" >"$tmp/tree"
        golden "$tmp/tree" "$ROOT/tests/schema/$name.tree" "schema --sfdx $name"
        if xml_ok "$tmp/sfdx" >"$tmp/out" 2>&1; then ok; else bad "schema $name: malformed XML or JSON"; cat "$tmp/out"; fi
    else
        bad "mapc schema $name"; cat "$tmp/out"
    fi
done
#     the reference tree: a restricted picklist with its 11 values; the plan's API version
pick="$tmp/sfdx0/force-app/main/default/objects/Task/fields/delivery_status__c.field-meta.xml"
"$MAPC" schema "$tmp/reference.mapb" --sfdx "$tmp/sfdx0" >/dev/null 2>&1
if [ "$(grep -c '<value>' "$pick")" = 11 ] && grep -q '<type>Picklist</type>' "$pick" \
        && grep -q '<restricted>true</restricted>' "$pick" && grep -q '"sourceApiVersion": "62.0"' "$tmp/sfdx0/sfdx-project.json"
then ok; else bad "schema: Task.delivery_status__c should be a restricted picklist of 11 values"; fi
#     a custom object: its object file, its package.xml member, object permissions; its
#     required field gets no field permissions; the plan's "61.0" becomes the API version
co="$tmp/sfdx/force-app/main/default"
if [ -f "$co/objects/Thing__c/Thing__c.object-meta.xml" ] && grep -q '<members>Thing__c</members>' "$tmp/sfdx/manifest/package.xml" \
        && grep -q '<object>Thing__c</object>' "$co/permissionsets/mapc_migration.permissionset-meta.xml" \
        && ! grep -q '<field>Thing__c.tier__c</field>' "$co/permissionsets/mapc_migration.permissionset-meta.xml" \
        && grep -q '<field>Thing__c.tags__c</field>' "$co/permissionsets/mapc_migration.permissionset-meta.xml" \
        && grep -q '<version>61.0</version>' "$tmp/sfdx/manifest/package.xml"
then ok; else bad "schema: the custom object Thing__c and its permissions"; fi
#     a non-empty directory is refused (naming it) and left alone; --force writes into it
tree_dump "$tmp/sfdx0" >"$tmp/tree0"
"$MAPC" schema "$tmp/reference.mapb" --sfdx "$tmp/sfdx0" >"$tmp/out" 2>&1
if [ $? = 1 ] && grep -q "sfdx0: the directory is not empty" "$tmp/out"; then ok; else bad "schema into a non-empty directory should fail"; cat "$tmp/out"; fi
"$MAPC" schema "$tmp/reference.mapb" --sfdx "$tmp/sfdx0" --force >"$tmp/out" 2>&1 && tree_dump "$tmp/sfdx0" >"$tmp/tree1"
if [ $? = 0 ] && cmp -s "$tmp/tree0" "$tmp/tree1"; then ok; else bad "schema --force should rewrite the same tree"; cat "$tmp/out"; fi
mkdir -p "$tmp/empty"
"$MAPC" schema "$tmp/reference.mapb" --sfdx "$tmp/empty" >/dev/null 2>&1 && ok || bad "schema into an empty directory"
#     a missing plan, a missing --sfdx, a plan carrying an invalid API name
"$MAPC" schema "$tmp/none.mapb" --sfdx "$tmp/sfdx2" >"$tmp/out" 2>&1
if [ $? = 1 ] && grep -q "none.mapb: cannot open" "$tmp/out" && [ ! -e "$tmp/sfdx2" ]; then ok; else bad "schema with a missing plan"; cat "$tmp/out"; fi
"$MAPC" schema "$tmp/reference.mapb" >/dev/null 2>&1; [ $? = 2 ] && ok || bad "schema without --sfdx should exit 2"
python3 - "$tmp/custom_object.mapb" "$tmp/badname.mapb" <<'PY'
import struct, sys, zlib
b = bytearray(open(sys.argv[1], 'rb').read().replace(b'email__c', b'_mail__c'))
b[12:16] = b'\0\0\0\0'
b[12:16] = struct.pack('<I', zlib.crc32(bytes(b)))
open(sys.argv[2], 'wb').write(b)
PY
"$MAPC" schema "$tmp/badname.mapb" --sfdx "$tmp/sfdx3" >"$tmp/out" 2>&1
if [ $? = 1 ] && grep -q "'Thing__c._mail__c' is not a valid custom field name: it must start with a letter" "$tmp/out" && [ ! -e "$tmp/sfdx3" ]
then ok; else bad "schema should refuse a plan with an invalid field name"; cat "$tmp/out"; fi
# 11. maprun report (docs/report.md) on the fixtures of 9f, staged the same way: nothing is
#     loaded yet, so everything staged is pending and every identity still holds.
cd "$ROOT/tests/stage"
"$MAPRUN" stage "$tmp/ref.mapb" --state "$tmp/rs" data/person.ndjson data/activity.ndjson data/delivery.ndjson \
    data/object.ndjson data/workspace.ndjson >/dev/null 2>&1
"$MAPRUN" report --state "$tmp/rs" >"$tmp/report.md" 2>"$tmp/err"
[ $? = 0 ] && ok || { bad "maprun report should exit 0 when every identity holds"; cat "$tmp/err"; }
golden "$tmp/report.md" "$ROOT/tests/report/expected.md" "report --format md"
"$MAPRUN" report --state "$tmp/rs" --format json -o "$tmp/report.json" --csv-dir "$tmp/rcsv" >"$tmp/out" 2>&1
if [ $? = 0 ] && [ ! -s "$tmp/out" ]; then ok; else bad "report -o FILE should write only the file"; cat "$tmp/out"; fi
golden "$tmp/report.json" "$ROOT/tests/report/expected.json" "report --format json"
if python3 - "$tmp/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["accounted"] is True and r["complete"] is False and r["identities_broken"] == 0
assert all(i["holds"] and i["left"] == i["right"] for i in r["identities"])
src = r["sources"]["totals"]
assert src["read"] == 18 and src["loaded"] == 0 and src["pending"] == 7 and src["reported"] == 1
assert r["load"]["ran"] is False and r["load"]["totals"]["loaded"] == 0
assert r["load"]["totals"]["pending"] == r["load"]["totals"]["staged"] == 10
assert list(r["load"]["objects"]) == ["Lead", "Account", "Contact", "AccountContactRelation", "Task",
                                     "EmailTemplate", "Campaign", "CampaignMember"]
PY
then ok; else bad "report --format json: the numbers"; fi
golden "$tmp/rcsv/quarantined.csv" "$ROOT/tests/report/quarantined.csv" "report quarantined.csv"
if printf 'object,key,code,message,source,rule\r\n' | cmp -s - "$tmp/rcsv/failed.csv"; then ok; else bad "failed.csv should be a header only"; fi
if [ -f "$tmp/rs/report/quarantined.csv" ]; then ok; else bad "report should write its CSVs to STATE/report by default"; fi
"$MAPRUN" report --state "$tmp/rs" --format html -o "$tmp/report.html" >/dev/null 2>&1
if python3 "$ROOT/tests/check_html.py" --contains "accounted for" "$tmp/report.html"; then ok; else bad "report --format html is not well formed"; fi
#     formula injection: quarantined lines starting with = - @ + and a tab become cells with a leading '
cd "$ROOT/tests/report"
"$MAPRUN" stage "$tmp/ref.mapb" --state "$tmp/rq" data/person.ndjson >/dev/null 2>&1
"$MAPRUN" report --state "$tmp/rq" --csv-dir "$tmp/rqcsv" >/dev/null 2>&1
golden "$tmp/rqcsv/quarantined.csv" "$ROOT/tests/report/injection.csv" "report CSV against formula injection"
if python3 "$ROOT/tests/report/check_csv.py" "$tmp"/rqcsv/*.csv "$tmp"/rcsv/*.csv; then ok; else bad "report CSVs hold unsafe cells"; fi
if grep -q "^person,data/person.ndjson,2,,bad-json,[^,]*,\"'=HYPERLINK(" "$tmp/rqcsv/quarantined.csv"; then ok
else bad "a raw line starting with = should get a leading quote"; fi
#     a state that cannot be read exits 1; a bad --format exits 2
"$MAPRUN" report --state "$tmp/no-such-state" >/dev/null 2>&1; [ $? = 1 ] && ok || bad "report on a missing state should exit 1"
"$MAPRUN" report --state "$tmp/rs" --format pdf >/dev/null 2>&1; [ $? = 2 ] && ok || bad "report --format pdf should exit 2"
cd "$ROOT"
# 12. maprun deliverables (docs/deliverables.md) on tests/deliverables/data, a record of every
#     kind that feeds a deliverable: the Markdown documents as the goldens say (the same set of
#     files), the HTML well formed with working index links, and the command's error cases.
cd "$ROOT/tests/deliverables"
"$MAPRUN" stage "$tmp/ref.mapb" --state "$tmp/ds" data/*.ndjson >/dev/null 2>&1
if "$MAPRUN" deliverables --state "$tmp/ds" >"$tmp/out" 2>&1 && [ ! -s "$tmp/out" ]; then ok; else bad "maprun deliverables"; cat "$tmp/out"; fi
(cd "$tmp/ds/deliverables" && ls) >"$tmp/dlist"
[ "${UPDATE_GOLDEN:-0}" = 1 ] && { rm -f expected/*.md; mkdir -p expected; }
(cd expected 2>/dev/null && ls) >"$tmp/dlist0"
if [ "${UPDATE_GOLDEN:-0}" = 1 ] || cmp -s "$tmp/dlist" "$tmp/dlist0"; then ok; else bad "deliverables: the set of documents"; diff "$tmp/dlist0" "$tmp/dlist"; fi
for f in "$tmp"/ds/deliverables/*.md; do
    golden "$f" "$ROOT/tests/deliverables/expected/$(basename "$f")" "deliverables $(basename "$f")"
done
"$MAPRUN" deliverables --state "$tmp/ds" --format html -o "$tmp/dhtml" >/dev/null 2>&1
if python3 "$ROOT/tests/check_html.py" "$tmp/dhtml"; then ok; else bad "deliverables --format html is not well formed"; fi
if grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$tmp/dhtml/broadcast-re-send-plan.html" \
        && grep -q '| 550 &lt;no such user&gt; \\| try later |' "$tmp/ds/deliverables/undeliverable-addresses.md"
then ok; else bad "deliverables: cells are not escaped"; fi
"$MAPRUN" deliverables --state "$tmp/no-such-state" >"$tmp/out" 2>&1
if [ $? = 1 ] && grep -q "no-such-state: no such state directory" "$tmp/out"; then ok; else bad "deliverables on a missing state should exit 1"; fi
for cmd in status export report; do     # every reader of a state says the same (stage_open)
    "$MAPRUN" "$cmd" --state "$tmp/no-such-state" --csv "$tmp/no-csv" >"$tmp/out" 2>&1
    if [ $? != 0 ] && grep -q "no-such-state: no such state directory" "$tmp/out"; then ok
    else bad "$cmd on a missing state should say so"; cat "$tmp/out"; fi
done
mkdir -p "$tmp/empty-state"
"$MAPRUN" deliverables --state "$tmp/empty-state" >"$tmp/out" 2>&1
if [ $? = 1 ] && grep -q "empty-state" "$tmp/out"; then ok; else bad "deliverables on a state without a staging run should exit 1"; cat "$tmp/out"; fi
"$MAPRUN" deliverables --state "$tmp/ds" --format pdf >/dev/null 2>&1; [ $? = 2 ] && ok || bad "deliverables --format pdf should exit 2"
"$MAPRUN" deliverables --state "$tmp/ds" extra >/dev/null 2>&1; [ $? = 2 ] && ok || bad "deliverables with an argument should exit 2"
"$MAPRUN" deliverables --state "$tmp/ds" -o "$tmp/dlist" >"$tmp/out" 2>&1
if [ $? = 1 ] && grep -q "dlist" "$tmp/out"; then ok; else bad "deliverables -o onto a file should exit 1"; cat "$tmp/out"; fi
cd "$ROOT"
# 13. Suites that print their own "N passed, N failed", counted here: the two emulators' own
#     tests, maprun load/verify/report/rollback against the Salesforce one, and maprun pull
#     against the Customer.io one, and the whole migration checked against the generator's
#     ground truth (tests/e2e).
suite() {   # $1 name, then the command
    name=$1
    shift
    "$@" >"$tmp/suite" 2>&1
    line=$(tail -n 1 "$tmp/suite")
    case "$line" in
    *" passed, "*" failed")
        set -- $line
        pass=$((pass + $1))
        fail=$((fail + $3))
        [ "$3" = 0 ] || grep "^FAIL" "$tmp/suite" ;;
    *)
        bad "$name did not finish"; tail -20 "$tmp/suite" ;;
    esac
}
suite "sfemu tests" python3 "$ROOT/tests/emulators/salesforce/test_sfemu.py"
suite "cioemu tests" python3 "$ROOT/tests/emulators/customerio/test_cioemu.py"
suite "load tests" python3 "$ROOT/tests/load/test_load.py" "$BUILD_DIR"
suite "pull tests" python3 "$ROOT/tests/pull/test_pull.py" "$BUILD_DIR"
suite "end-to-end migration" python3 "$ROOT/tests/e2e/test_migration.py" "$BUILD_DIR"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
