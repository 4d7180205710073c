#!/bin/sh
# make demo: a whole Customer.io -> Salesforce migration on a generated sample
# workspace, against the two local emulators (each on a free loopback port):
#   pull -> check/test/compile -> stage -> schema deploy -> load -> verify ->
#   report -> deliverables, then a rollback plan.  Stops the emulators at the end.
# DEMO_PEOPLE (default 100) sets the workspace size; DEMO_DIR keeps the files.
set -u
MAPC=${1:-build/mapc}
BIN=$(cd "$(dirname "$MAPC")" && pwd)
MAPC=$BIN/mapc
MAPRUN=$BIN/maprun
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RULES=$ROOT/rules/customerio_to_salesforce.map
PEOPLE=${DEMO_PEOPLE:-100}
if [ -n "${DEMO_DIR:-}" ]; then
    work=$DEMO_DIR
    rm -rf "$work"
    mkdir -p "$work"
else
    work=$(mktemp -d)
fi
cio_pid=""
sf_pid=""
stop() {
    [ -n "$cio_pid" ] && kill "$cio_pid" 2>/dev/null
    [ -n "$sf_pid" ] && kill "$sf_pid" 2>/dev/null
    [ -z "${DEMO_DIR:-}" ] && rm -rf "$work"
}
trap stop EXIT
trap 'exit 130' INT TERM
fail() { echo "demo: $*" >&2; exit 1; }
step() { echo; echo "== $*"; }
url_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
wait_for() {   # $1 port file, $2 pid
    i=0
    while [ ! -s "$1" ]; do
        kill -0 "$2" 2>/dev/null || fail "an emulator did not start"
        i=$((i + 1)); [ $i -gt 200 ] && fail "an emulator did not start in 10 s"
        sleep 0.05
    done
}
start=$(date +%s)

step "1. a sample Customer.io workspace ($PEOPLE people, with the hard cases) and the two emulators"
python3 "$ROOT/tests/emulators/customerio/genworkspace.py" --out "$work/workspace" --people "$PEOPLE" >/dev/null \
    || fail "cannot generate the workspace"
python3 "$ROOT/tests/emulators/customerio/cioemu.py" --port-file "$work/cio.json" --workspace "$work/workspace" \
    --api-key demo-app-api-key >"$work/cio.log" 2>&1 &
cio_pid=$!
python3 "$ROOT/tests/emulators/salesforce/sfemu.py" --port-file "$work/sf.json" --poll-delay 1 \
    --client-id demo-client --client-secret demo-secret >"$work/sf.log" 2>&1 &
sf_pid=$!
wait_for "$work/cio.json" "$cio_pid"
wait_for "$work/sf.json" "$sf_pid"
echo "   Customer.io App API at $(url_of "$work/cio.json" url)"
echo "   Salesforce login at $(url_of "$work/sf.json" login_url), instance at $(url_of "$work/sf.json" instance_url)"

step "2. maprun pull --from customerio (under 10 requests/s, as the App API asks)"
export CIO_API_URL="$(url_of "$work/cio.json" url)" CIO_APP_API_KEY=demo-app-api-key
"$MAPRUN" pull --from customerio --out "$work/pull" || fail "pull failed"

step "3. mapc check, test and compile the reference rules"
"$MAPC" check "$RULES" || fail "the reference rules do not check clean"
"$MAPC" test "$RULES" | tail -1
"$MAPC" compile "$RULES" -o "$work/plan.mapb" || fail "compile failed"
"$MAPC" plan "$RULES" | sed -n '/^objects (load order)/,$p'

step "4. maprun stage: every record validated and accounted for"
"$MAPRUN" stage "$work/plan.mapb" --state "$work/state" "$work"/pull/*.ndjson || fail "stage failed"
"$MAPRUN" status --state "$work/state" | tail -1

step "5. mapc schema --sfdx, deployed to the org (as sf project deploy start would)"
"$MAPC" schema "$work/plan.mapb" --sfdx "$work/sfdx" || fail "schema failed"
echo "   $(find "$work/sfdx" -name '*.field-meta.xml' | wc -l) custom fields and a permission set in $work/sfdx"
python3 - "$(url_of "$work/sf.json" instance_url)" "$work/sfdx" <<'PY' || fail "the deploy was refused"
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/__emu/deploy", data=json.dumps({"dir": sys.argv[2]}).encode(), method="POST")
urllib.request.urlopen(req, timeout=30).read()
PY

step "6. maprun load: Bulk API 2.0 upserts, parents first"
export SF_LOGIN_URL="$(url_of "$work/sf.json" login_url)" SF_CLIENT_ID=demo-client SF_CLIENT_SECRET=demo-secret
export MAPRUN_POLL_MS=100
"$MAPRUN" load --state "$work/state"
load_rc=$?
[ $load_rc = 0 ] || [ $load_rc = 3 ] || fail "load stopped (exit $load_rc)"

step "7. maprun verify --all: every loaded record read back, field by field"
"$MAPRUN" verify --state "$work/state" --all || fail "verify found differences"

step "8. maprun report and the deliverables"
"$MAPRUN" report --state "$work/state" -o "$work/report.md" || fail "an identity does not hold"
"$MAPRUN" report --state "$work/state" --format html -o "$work/report.html" >/dev/null 2>&1
sed -n '/^\*\*/p' "$work/report.md"
if "$MAPRUN" deliverables --state "$work/state" -o "$work/deliverables" >/dev/null 2>&1; then
    "$MAPRUN" deliverables --state "$work/state" --format html -o "$work/deliverables" >/dev/null 2>&1
    echo "   deliverables: $(ls "$work/deliverables" | grep -c '\.md$') documents in $work/deliverables"
fi

step "9. maprun rollback --plan: what undoing the migration would do"
"$MAPRUN" rollback --state "$work/state" --plan

end=$(date +%s)
echo
echo "demo: pulled a $PEOPLE-person workspace, staged, deployed the schema, loaded, verified and"
echo "      reconciled it in $((end - start)) s."
if [ -n "${DEMO_DIR:-}" ]; then
    echo "      Reports: $work/report.md, $work/report.html, $work/deliverables/"
else
    echo "      Run with DEMO_DIR=/some/dir to keep the reports (report.md, report.html, deliverables/)."
fi
