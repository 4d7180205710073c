#!/bin/sh
# make demo: what mapc and maprun do today, on the bundled reference rules and
# the sample records in tests/stage/data.  (Loading into Salesforce, and the
# Customer.io pull, come with the emulators.)
set -u
MAPC=${1:-build/mapc}
MAPRUN=$(cd "$(dirname "$MAPC")" && pwd)/maprun
RULES=rules/customerio_to_salesforce.map
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== 1. mapc check $RULES"
if "$MAPC" check "$RULES"; then
    echo "   clean: no errors, no warnings"
else
    echo "   the reference rules do not check clean" >&2
    exit 1
fi

echo
echo "== 2. mapc plan $RULES (rules by source kind, and the Salesforce load order)"
"$MAPC" plan "$RULES" || exit 1

echo
echo "== 3. mapc test: the rules' inline tests, through the VM"
"$MAPC" test "$RULES" || exit 1

echo
echo "== 4. mapc compile, then maprun stage on the sample records (some of them malformed)"
"$MAPC" compile "$RULES" -o "$tmp/plan.mapb" || exit 1
(cd tests/stage && "$MAPRUN" stage "$tmp/plan.mapb" --state "$tmp/state" data/person.ndjson data/activity.ndjson \
    data/delivery.ndjson data/object.ndjson data/workspace.ndjson) || exit 1
"$MAPRUN" status --state "$tmp/state" | head -9

echo
echo "== 5. maprun export: Bulk API 2.0 CSVs in load order"
"$MAPRUN" export --state "$tmp/state" --csv "$tmp/csv" || exit 1
for f in "$tmp"/csv/*.csv; do
    echo "-- $(basename "$f")"
    head -3 "$f"
done

echo
echo "== 6. what the checker catches: the same rules with four typical mistakes"
sed -e 's/^  Company                = truncate(nonempty(.attributes.company) ?? "\[not provided\]", 255)/  Company                = .attributes.company/' \
    -e 's/^  in contact_stages -> contact/  in contact_stages -> contact\n  "lead"            -> contact/' \
    -e 's/^  TaskSubtype             = "Task"/  TaskSubtype             = "Event"/' \
    -e 's/^  cio_event_properties__c = fits(json(.data), 131072) else quarantine "event properties longer than 131072 characters"/  cio_event_properties__c = json(parse_json(.name))/' \
    "$RULES" > "$tmp/broken.map"
"$MAPC" check "$tmp/broken.map" 2>&1 | sed "s|$tmp/||"
echo
echo "demo: checked, tested and compiled $RULES, staged the sample records (every one accounted for),"
echo "      exported the CSVs, and showed the diagnostics for a broken copy."
echo "      Not built yet: the Customer.io pull, the Salesforce load, verify, report and rollback."
