#!/bin/sh
# make demo: what mapc can do today, on the bundled reference rules.
# (The runtime — staging, loading, verification — arrives with maprun; until
# then the demo checks the rules, shows the plan, and shows what the checker
# catches in a deliberately broken copy.)
set -u
MAPC=${1:-build/mapc}
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
echo "== 3. what the checker catches: the same rules with four typical mistakes"
sed -e 's/^  Company                = truncate(nonempty(.attributes.company) ?? "\[not provided\]", 255)/  Company                = .attributes.company/' \
    -e 's/^  in contact_stages -> contact/  in contact_stages -> contact\n  "lead"            -> contact/' \
    -e 's/^  TaskSubtype             = "Task"/  TaskSubtype             = "Event"/' \
    -e 's/^  cio_event_properties__c = fits(json(.data), 131072) else quarantine "event properties longer than 131072 characters"/  cio_event_properties__c = json(parse_json(.name))/' \
    "$RULES" > "$tmp/broken.map"
"$MAPC" check "$tmp/broken.map" 2>&1 | sed "s|$tmp/||"
echo
echo "demo: checked $RULES (clean), printed its plan, and showed the diagnostics for a broken copy."
echo "      Runtime steps (pull, stage, load, verify, report) are not built yet."
