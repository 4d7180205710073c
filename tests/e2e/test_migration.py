#!/usr/bin/env python3
"""The whole migration, end to end, checked against the generator's ground
truth (expected.json): a generated Customer.io workspace is pulled from the
Customer.io emulator, staged with the reference rules, its schema deployed to
the Salesforce emulator, loaded, verified and reported.

    python3 tests/e2e/test_migration.py BUILD_DIR [PEOPLE]

Prints one line per failed check and a closing "N passed, N failed".
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import emuproc  # noqa: E402
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
PEOPLE = int(sys.argv[2]) if len(sys.argv) > 2 else 60
MAPC, MAPRUN = os.path.join(BUILD, "mapc"), os.path.join(BUILD, "maprun")
RULES = os.path.join(ROOT, "rules", "customerio_to_salesforce.map")

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: e2e " + what)


def start(tmp, name, args):
    return emuproc.start(args, os.path.join(tmp, name + ".json"), open(os.path.join(tmp, name + ".log"), "ab"))


def run(args, env, **kw):
    p = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600, **kw)
    if p.returncode not in (0, 3):
        raise RuntimeError("%s exited %d:\n%s%s" % (" ".join(args), p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
    return p


def records(sf, obj):
    return emuproc.admin(sf["instance_url"], "GET", "records/" + obj)


def main():
    tmp = tempfile.mkdtemp(prefix="maprun-e2e-")
    procs = []
    try:
        ws = os.path.join(tmp, "ws")
        subprocess.run([sys.executable, os.path.join(ROOT, "tests/emulators/customerio/genworkspace.py"), "--out", ws,
                        "--people", str(PEOPLE), "--seed", "11"], check=True, capture_output=True)
        with open(os.path.join(ws, "expected.json")) as f:
            exp = json.load(f)
        cio_proc, cio = start(tmp, "cio", [os.path.join(ROOT, "tests/emulators/customerio/cioemu.py"),
                                            "--workspace", ws, "--api-key", "e2e-key"])
        procs.append(cio_proc)
        plan, sfdx, state, pulled = (os.path.join(tmp, n) for n in ("plan.mapb", "sfdx", "state", "pull"))
        run([MAPC, "compile", RULES, "-o", plan], None)
        run([MAPC, "schema", plan, "--sfdx", sfdx], None)
        sf_proc, sf = start(tmp, "sf", [os.path.join(ROOT, "tests/emulators/salesforce/sfemu.py"), "--sfdx", sfdx,
                                        "--poll-delay", "1"])
        procs.append(sf_proc)
        env = dict(os.environ, CIO_API_URL=cio["url"], CIO_APP_API_KEY="e2e-key", SF_LOGIN_URL=sf["login_url"],
                   SF_CLIENT_ID="mapc-test-client", SF_CLIENT_SECRET="mapc-test-secret", MAPRUN_POLL_MS="30",
                   MAPRUN_BACKOFF_MS="50")
        run([MAPRUN, "pull", "--from", "customerio", "--out", pulled], env)
        inputs = sorted(os.path.join(pulled, f) for f in os.listdir(pulled) if f.endswith(".ndjson") and not f.startswith("."))
        run([MAPRUN, "stage", plan, "--state", state] + inputs, env)
        status = run([MAPRUN, "status", "--state", state], env).stdout
        load = run([MAPRUN, "load", "--state", state], env)
        m = re.search(r"Task\.WhoId\s+(\d+)", status)
        held = re.search(r"refers to a record not staged (\d+)", load.stdout)
        check((m and held and m.group(1) == held.group(1)) or (not m and not held),
              "maprun status announces the records the load holds back (%s vs %s)" %
              (m and m.group(1), held and held.group(1)))
        check(load.returncode == 0, "load exits 0:\n" + load.stdout[-1500:] + load.stderr[-1500:])
        verify = run([MAPRUN, "verify", "--state", state, "--all"], env)
        check(verify.returncode == 0, "verify: every field of every loaded record matches\n" + verify.stdout[-1500:])
        rep = json.loads(run([MAPRUN, "report", "--state", state, "--format", "json"], env).stdout)
        check(rep["accounted"], "the report's identities hold")
        check(not [i for i in rep["identities"] if not i["holds"]], "no identity is broken")
        dump = run([MAPRUN, "dump", "--state", state, "entries"], env).stdout
        quarantine = run([MAPRUN, "dump", "--state", state, "quarantine"], env).stdout

        leads = {r["cio_id__c"]: r for r in records(sf, "Lead") if r.get("cio_id__c")}
        contacts = {r["cio_id__c"]: r for r in records(sf, "Contact") if r.get("cio_id__c")}
        accounts = {r["cio_account_key__c"]: r for r in records(sf, "Account") if r.get("cio_account_key__c")}
        tasks = {r["cio_activity_id__c"]: r for r in records(sf, "Task") if r.get("cio_activity_id__c")}

        # each person: exactly one Lead or Contact, or excluded with a reason; deleted people nothing
        for cid, p in exp["persons"].items():
            n = (cid in leads) + (cid in contacts)
            if p["deleted"] or p.get("suppressed"):
                check(n == 0, "deleted person %s has a Lead or Contact" % cid)
            elif p["sf_object"]:
                got = "Lead" if cid in leads else "Contact" if cid in contacts else None
                held = any(cid in l and '"kind":"person"' in l for l in quarantine.splitlines())
                check((n == 1 and got == p["sf_object"]) or (n == 0 and held),
                      "person %s (stage %r) should be one %s, or quarantined with a reason; is %s" %
                      (cid, p["lifecycle_stage"], p["sf_object"], got))
            else:
                check(n == 0, "person %s with stage %r should be excluded" % (cid, p["lifecycle_stage"]))
        # each company one Account; no Account from a free-mail domain
        for coid in exp["companies"]:
            check(("company:" + coid) in accounts, "company %s has no Account" % coid)
        free = set(exp["free_mail_domains"])
        bad = [k for k in accounts if k.startswith("domain:") and k[7:] in free]
        check(not bad, "Accounts from free-mail domains: %s" % bad)
        # each Contact sits on one of its companies' Accounts (or its domain's), and a second
        # company is an AccountContactRelation
        acrs = {(r["ContactId"], r["AccountId"]) for r in records(sf, "AccountContactRelation")}
        for cid, c in contacts.items():
            comp = exp["persons"][cid]["companies"]
            ids = [accounts["company:" + x]["Id"] for x in comp if "company:" + x in accounts]
            if not comp:
                dom = accounts.get("domain:" + exp["persons"][cid]["email_domain"])
                ids = [dom["Id"]] if dom else [None]
            check(c.get("AccountId") in ids, "Contact %s is not on its Account" % cid)
            for other in ids:
                if other and other != c.get("AccountId"):
                    check((c["Id"], other) in acrs, "Contact %s has no relation to its other company" % cid)
        # each custom event and delivery of a migrated person: one Task, linked to that person
        people = {**{k: v["Id"] for k, v in leads.items()}, **{k: v["Id"] for k, v in contacts.items()}}
        with open(os.path.join(pulled, "activity.ndjson")) as f:
            events = [json.loads(l) for l in f if '"type":"event"' in l]
        for e in events:
            who = (e.get("customer_identifiers") or {}).get("cio_id")
            t = tasks.get("activity:" + e["id"])
            if who in people:
                check(t is not None and t.get("WhoId") == people[who], "event %s is not one Task on its person" % e["id"])
            else:
                check(t is None, "event %s of a person not migrated became a Task" % e["id"])
        with open(os.path.join(pulled, "delivery.ndjson")) as f:
            deliveries = [json.loads(l) for l in f]
        for d in deliveries:
            who = (d.get("customer_identifiers") or {}).get("cio_id")
            t = tasks.get("delivery:" + d["id"])
            if who in people:
                check(t is not None and t.get("WhoId") == people[who], "delivery %s is not one Task on its person" % d["id"])
        # static (manual) segments: one Campaign each, a CampaignMember per migrated member
        with open(os.path.join(pulled, "segment.ndjson")) as f:
            manual = {str(g["id"]) for g in map(json.loads, f) if g.get("type") == "manual"}
        with open(os.path.join(pulled, "segment_membership.ndjson")) as f:
            members = [json.loads(l) for l in f]
        pairs = {(str(m["segment_id"]), people[m["identifiers"]["cio_id"]]) for m in members
                 if str(m["segment_id"]) in manual and m["identifiers"]["cio_id"] in people}
        cms = records(sf, "CampaignMember")
        got = {r.get("LeadId") or r.get("ContactId") for r in cms}
        check(len(cms) == len(pairs) and {p for _, p in pairs} <= got,
              "static segment members: %d CampaignMembers for %d migrated members" % (len(cms), len(pairs)))
        check(len([r for r in records(sf, "Campaign")]) >= len(manual), "a Campaign per static segment")
        # deleted people are in the billing-reconciliation list, with their deletion time
        for d in exp["deleted"]:
            check(re.search(r"Deleted profiles.*%s" % re.escape(d["cio_id"]), dump) is not None,
                  "deleted person %s is not in the billing-reconciliation list" % d["cio_id"])
    finally:
        for p in procs:
            emuproc.stop(p)
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
