#!/usr/bin/env python3
"""End-to-end tests of maprun load, verify, report and rollback against the
Salesforce emulator (tests/emulators/salesforce/sfemu.py).

    python3 tests/load/test_load.py BUILD_DIR [test_name ...]

Each test stages the fixtures in tests/stage/data with the reference rules,
deploys the schema `mapc schema` generates, and drives maprun as a user would.
Prints one line per failure and a closing "N passed, N failed".
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import emuproc  # noqa: E402
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
MAPC = os.path.join(BUILD, "mapc")
MAPRUN = os.path.join(BUILD, "maprun")
EMU = os.path.join(ROOT, "tests", "emulators", "salesforce", "sfemu.py")
RULES = os.path.join(ROOT, "rules", "customerio_to_salesforce.map")
FIXTURES = os.path.join(ROOT, "tests", "stage")
INPUTS = ["data/person.ndjson", "data/activity.ndjson", "data/delivery.ndjson",
          "data/object.ndjson", "data/workspace.ndjson"]
SECRET = "s3cret-Do-Not-Log-7f3a"
STAGED = {"Lead": 1, "Account": 2, "Contact": 2, "Task": 5}     # what the fixtures stage
TOTAL = sum(STAGED.values())
KEY_FIELD = {"Lead": "cio_id__c", "Contact": "cio_id__c", "Account": "cio_account_key__c",
             "Task": "cio_activity_id__c"}


class Emulator:
    def __init__(self, tmp, sfdx=None, describe_dir=None, extra=()):
        self.portfile = os.path.join(tmp, "emu-%d.json" % time.monotonic_ns())
        args = [EMU, "--client-secret", SECRET, "--poll-delay", "1", "--page-size", "200"]
        if sfdx:
            args += ["--sfdx", sfdx]
        if describe_dir:
            args += ["--describe-dir", describe_dir]
        args += list(extra)
        self.log = open(os.path.join(tmp, "emu.log"), "ab")
        self.proc, ports = emuproc.start(args, self.portfile, self.log)
        self.login_url, self.instance_url = ports["login_url"], ports["instance_url"]

    def admin(self, method, path, body=None):
        return emuproc.admin(self.instance_url, method, path, body)

    def records(self, obj):
        return self.admin("GET", "records/" + obj)

    def stats(self):
        return self.admin("GET", "stats")

    def faults(self, spec):
        self.admin("POST", "faults", spec)

    def token(self):
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": "mapc-test-client",
                                       "client_secret": SECRET}).encode()
        with urllib.request.urlopen(self.login_url + "/services/oauth2/token", form, timeout=10) as r:
            return json.loads(r.read())["access_token"]

    def api(self, method, path, body=None):
        req = urllib.request.Request(self.instance_url + "/services/data/v62.0" + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": "Bearer " + self.token(),
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read()

    def stop(self):
        emuproc.stop(self.proc)
        self.log.close()


class Ctx:
    """One test's world: a temp dir, a compiled plan, a staged state, a schema tree."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="maprun-load-")
        self.plan = os.path.join(self.tmp, "plan.mapb")
        run([MAPC, "compile", RULES, "-o", self.plan], check=True)
        self.state = os.path.join(self.tmp, "state")
        run([MAPRUN, "stage", self.plan, "--state", self.state] + INPUTS, cwd=FIXTURES, check=True)
        self.sfdx = os.path.join(self.tmp, "sfdx")
        run([MAPC, "schema", self.plan, "--sfdx", self.sfdx], check=True)
        self.emu = None

    def start(self, **kw):
        kw.setdefault("sfdx", self.sfdx)
        self.emu = Emulator(self.tmp, **kw)
        return self.emu

    def env(self, **extra):
        e = dict(os.environ)
        e.update({"SF_LOGIN_URL": self.emu.login_url, "SF_CLIENT_ID": "mapc-test-client",
                  "SF_CLIENT_SECRET": SECRET, "MAPRUN_POLL_MS": "20", "MAPRUN_BACKOFF_MS": "20"})
        e.update(extra)
        return e

    def maprun(self, *args, env=None, **kw):
        return run([MAPRUN] + list(args) + ["--state", self.state], env=env or self.env(), **kw)

    def close(self):
        if self.emu:
            self.emu.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def run(args, check=False, **kw):
    p = subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)
    if check and p.returncode != 0:
        raise AssertionError("%s exited %d:\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p


def expect(cond, what, p=None):
    if not cond:
        extra = "\n--- stdout\n%s--- stderr\n%s" % (p.stdout, p.stderr) if p is not None else ""
        raise AssertionError(what + extra)


def ours(emu, obj):
    """The emulator's records of obj that carry a migration key."""
    return [r for r in emu.records(obj) if r.get(KEY_FIELD[obj])]


def assert_all_loaded_once(emu):
    for obj, n in STAGED.items():
        recs = ours(emu, obj)
        keys = [r[KEY_FIELD[obj]] for r in recs]
        expect(len(keys) == len(set(keys)), "%s: a key is in Salesforce twice: %s" % (obj, keys))
        expect(len(recs) == n, "%s: %d records in Salesforce, %d staged" % (obj, len(recs), n))


def rows_processed(emu):
    return emu.stats()["rows_processed"]


# ---- the whole path

def test_end_to_end():
    c = Ctx()
    try:
        emu = c.start()
        old = {"LastName": "Old", "Company": "OldCo", "cio_id__c": "a1", "Email": "old@x.example",
               "cio_lifecycle_stage__c": "prospect"}
        emu.admin("POST", "records/Lead", [old])
        p = c.maprun("load")
        expect(p.returncode == 0, "load should succeed", p)
        expect("Lead: 1 record already in the org" in p.stdout, "the snapshot should find the existing Lead", p)
        assert_all_loaded_once(emu)
        lead = ours(emu, "Lead")[0]
        expect(lead["LastName"] == "Ann" and lead["Company"] == "[not provided]", "the Lead was not updated")
        contacts = {r["cio_id__c"]: r for r in ours(emu, "Contact")}
        accounts = {r["cio_account_key__c"]: r["Id"] for r in ours(emu, "Account")}
        expect(contacts["a2"]["AccountId"] == accounts["company:c9"], "Contact a2 is not linked to its Account")
        tasks = ours(emu, "Task")
        expect(all(t["WhoId"] == lead["Id"] for t in tasks if t["cio_activity_id__c"] != "delivery:d2"),
               "Tasks are not linked to the Lead")
        p = c.maprun("verify", "--all")
        expect(p.returncode == 0 and "all %d records match" % TOTAL in p.stdout, "verify should match all", p)
        p = c.maprun("report", "--format", "json")
        expect(p.returncode == 0, "report should say the identities hold", p)
        rep = json.loads(p.stdout)
        expect("DOES NOT HOLD" not in json.dumps(rep), "an identity does not hold", p)
        p = c.maprun("rollback", "--plan")
        expect(p.returncode == 0 and re.search(r"Task\s+delete 5 created records", p.stdout), "rollback --plan", p)
        expect(len(ours(emu, "Task")) == 5, "rollback --plan must not change anything")
        p = c.maprun("rollback")
        expect(p.returncode == 0, "rollback should succeed", p)
        for obj in ("Task", "Contact", "Account"):
            expect(ours(emu, obj) == [], "%s: the migration's records are still there" % obj)
        lead = ours(emu, "Lead")
        expect(len(lead) == 1, "the pre-existing Lead must stay")
        for k, v in old.items():
            expect(lead[0].get(k) == v, "Lead.%s is %r, not its old value %r" % (k, lead[0].get(k), v))
        p = c.maprun("rollback")
        expect(p.returncode == 0 and "undone" not in p.stdout, "a second rollback has nothing to do", p)
    finally:
        c.close()


def test_repeated_load_sends_nothing():
    c = Ctx()
    try:
        emu = c.start()
        expect(c.maprun("load").returncode == 0, "first load")
        before = emu.stats()
        p = c.maprun("load")
        after = emu.stats()
        expect(p.returncode == 0, "second load", p)
        expect(after["jobs_created"] == before["jobs_created"], "a second load created a job", p)
        expect(after["rows_processed"] == before["rows_processed"], "a second load sent rows", p)
        expect(re.search(r"Task\s+sent 0: .*unchanged 5", p.stdout), "the second load should say unchanged", p)
    finally:
        c.close()


def test_restage_changed_record_sends_only_it():
    c = Ctx()
    try:
        emu = c.start()
        expect(c.maprun("load").returncode == 0, "first load")
        data = os.path.join(c.tmp, "data")
        shutil.copytree(os.path.join(FIXTURES, "data"), data)
        with open(os.path.join(data, "person.ndjson")) as f:
            text = f.read()
        with open(os.path.join(data, "person.ndjson"), "w") as f:
            f.write(text.replace('"Bo"', '"Bob"', 1))
        run([MAPRUN, "stage", c.plan, "--state", c.state] + INPUTS, cwd=c.tmp, check=True)
        before = rows_processed(emu)
        p = c.maprun("load")
        expect(p.returncode == 0 and rows_processed(emu) - before == 1, "only the changed Contact goes again", p)
        expect(c.maprun("verify").returncode == 0, "verify after the change")
    finally:
        c.close()


def test_job_rows_splits_jobs():
    c = Ctx()
    try:
        emu = c.start()
        p = c.maprun("load", "--job-rows", "2")
        expect(p.returncode == 0, "load", p)
        expect(emu.stats()["jobs_created"] == 1 + 1 + 1 + 3, "Lead 1 + Account 1 + Contact 1 + Task 3 jobs", p)
        assert_all_loaded_once(emu)
    finally:
        c.close()


# ---- security

def test_http_refused_off_loopback():
    c = Ctx()
    try:
        c.start()
        p = c.maprun("load", env=c.env(SF_LOGIN_URL="http://login.example.com"))
        expect(p.returncode == 1 and "plain http:// is only allowed to a loopback" in p.stderr, "http refused", p)
    finally:
        c.close()


def test_secret_never_written():
    c = Ctx()
    try:
        emu = c.start()
        emu.faults({"http503": 1, "expire_tokens": True})
        p = c.maprun("load")
        expect(p.returncode == 0, "load", p)
        c.maprun("report", "-o", os.path.join(c.state, "report.md"))
        for text in (p.stdout, p.stderr):
            expect(SECRET not in text, "the client secret was printed")
        for dirpath, _, files in os.walk(c.state):
            for name in files:
                with open(os.path.join(dirpath, name), "rb") as f:
                    expect(SECRET.encode() not in f.read(), "the client secret is in %s" % name)
    finally:
        c.close()


def test_state_belongs_to_one_org():
    c = Ctx()
    try:
        c.start()
        expect(c.maprun("load").returncode == 0, "load")
        other = Emulator(c.tmp, sfdx=c.sfdx, extra=("--org-id", "00D5g0000099999EAA"))
        try:
            env = c.env(SF_LOGIN_URL=other.login_url)
            for cmd in ("load", "verify", "rollback"):
                p = c.maprun(cmd, env=env)
                expect(p.returncode == 1 and "belongs to Salesforce org" in p.stderr, cmd + " into another org", p)
            expect(other.stats()["jobs_created"] == 0, "nothing was sent to the other org")
        finally:
            other.stop()
    finally:
        c.close()


def test_bad_credentials():
    c = Ctx()
    try:
        c.start()
        p = c.maprun("load", env=c.env(SF_CLIENT_SECRET="wrong"))
        expect(p.returncode == 1 and "invalid_client" in p.stderr and "wrong" not in p.stderr, "bad secret", p)
    finally:
        c.close()


# ---- preflight

def preflight_fails(c, *needles):
    before = c.emu.stats()["jobs_created"]
    p = c.maprun("load")
    expect(p.returncode == 1 and "nothing was written" in p.stderr, "preflight should stop the load", p)
    for n in needles:
        expect(n in p.stderr, "preflight should say: " + n, p)
    expect(c.emu.stats()["jobs_created"] == before, "preflight wrote something", p)


def field_xml(c, obj, field):
    return os.path.join(c.sfdx, "force-app", "main", "default", "objects", obj, "fields", field + ".field-meta.xml")


def edit(path, old, new):
    with open(path) as f:
        text = f.read()
    assert old in text, (path, old)
    with open(path, "w") as f:
        f.write(text.replace(old, new))


def test_preflight_missing_fields():
    c = Ctx()
    try:
        c.start(sfdx=None)
        preflight_fails(c, "Lead.cio_id__c does not exist", "Task.cio_activity_id__c does not exist",
                        "mapc schema")
    finally:
        c.close()


def test_preflight_not_external_id():
    c = Ctx()
    try:
        edit(field_xml(c, "Account", "cio_account_key__c"), "<externalId>true</externalId>",
             "<externalId>false</externalId>")
        c.start()
        preflight_fails(c, "Account.cio_account_key__c is the upsert key but is not marked External ID")
    finally:
        c.close()


def test_preflight_type_and_length():
    c = Ctx()
    try:
        edit(field_xml(c, "Lead", "cio_user_id__c"), "<length>150</length>", "<length>50</length>")
        edit(field_xml(c, "Contact", "cio_created_at__c"), "<type>DateTime</type>", "<type>Date</type>")
        c.start()
        preflight_fails(c, "Lead.cio_user_id__c holds 50 characters in the org, but the plan writes up to 150",
                        "Contact.cio_created_at__c is date in the org, but the plan writes datetime")
    finally:
        c.close()


def test_preflight_not_createable():
    c = Ctx()
    try:
        describe = os.path.join(c.tmp, "describe")
        shutil.copytree(os.path.join(ROOT, "stdlib", "salesforce"), describe)
        with open(os.path.join(describe, "Lead.json")) as f:
            lead = json.load(f)
        for fld in lead["fields"]:
            if fld["name"] == "Title":
                fld["createable"] = False
        with open(os.path.join(describe, "Lead.json"), "w") as f:
            json.dump(lead, f)
        c.start(describe_dir=describe)
        preflight_fails(c, "Lead.Title is not createable")
    finally:
        c.close()


def test_key_match_inserts_then_updates_by_id():
    """EmailTemplate has no External ID: `key match DeveloperName` finds templates by query."""
    c = Ctx()
    try:
        extra = os.path.join(c.tmp, "transactional_content.ndjson")
        with open(extra, "w") as f:
            f.write('{"id":1,"transactional_message_id":3,"name":"Reset","type":"email","subject":"Reset",'
                    '"body":"<p>Reset</p>"}\n{"id":2,"transactional_message_id":3,"name":"Reset B","type":"email",'
                    '"subject":"Reset B","body":"<p>B</p>"}\n')
        run([MAPRUN, "stage", c.plan, "--state", c.state] + INPUTS + [extra], cwd=FIXTURES, check=True)
        emu = c.start()
        folder = [u for u in emu.records("User") if u["Username"] == "migration.user@example.com"][0]["Id"]
        emu.admin("POST", "records/EmailTemplate", [{"Name": "Old", "DeveloperName": "cio_transactional_3_2",
                                                     "FolderId": folder, "TemplateType": "custom", "Subject": "Old"}])
        p = c.maprun("load")
        expect(p.returncode == 0 and re.search(r"EmailTemplate\s+sent 2: created 1, updated 1", p.stdout),
               "one template inserted, the existing one updated by Id", p)
        names = sorted(t["DeveloperName"] for t in emu.records("EmailTemplate"))
        expect(names == ["cio_transactional_3_1", "cio_transactional_3_2"], "no duplicate template: %s" % names)
        expect(c.maprun("verify").returncode == 0, "verify the templates")
        expect(emu.stats()["jobs_created"] - 4 == 2, "an insert job and an update job for EmailTemplate")
        p = c.maprun("rollback")
        left = emu.records("EmailTemplate")
        expect(p.returncode == 0 and [t["Subject"] for t in left] == ["Old"], "rollback restores the old template", p)
    finally:
        c.close()


def test_preflight_existing_record_missing():
    c = Ctx()
    try:
        rules = os.path.join(c.tmp, "rules.map")
        with open(RULES) as f:
            text = f.read()
        with open(rules, "w") as f:
            f.write(text.replace('const template_folder_owner = "migration.user@example.com"',
                                 'const template_folder_owner = "nobody@acme.example"'))
        run([MAPC, "compile", rules, "-o", c.plan], check=True)
        extra = os.path.join(c.tmp, "transactional_content.ndjson")
        with open(extra, "w") as f:
            f.write('{"id":1,"transactional_message_id":3,"name":"Reset","type":"email","subject":"Reset",'
                    '"body":"<p>Reset</p>"}\n')
        run([MAPRUN, "stage", c.plan, "--state", c.state] + INPUTS + [extra], cwd=FIXTURES, check=True)
        c.start()
        preflight_fails(c, "User with Username = 'nobody@acme.example' is not in the org")
    finally:
        c.close()


# ---- faults

def load_through(fault, env=None, expect_text=None, job_rows=None):
    c = Ctx()
    try:
        emu = c.start()
        emu.faults(fault)
        args = ["load"] + (["--job-rows", str(job_rows)] if job_rows else [])
        p = c.maprun(*args, env=env)
        expect(p.returncode == 0, "load through %s should succeed" % fault, p)
        if expect_text:
            expect(expect_text in p.stdout + p.stderr, "expected to see: " + expect_text, p)
        assert_all_loaded_once(emu)
        expect(c.maprun("verify").returncode == 0, "verify after %s" % fault)
        return emu, p
    finally:
        c.close()


def test_fault_503():
    load_through({"http503": 3}, expect_text="retrying")


def test_fault_500_on_results():
    load_through({"http500": {"count": 2, "match": "successfulResults"}}, expect_text="retrying")


def test_fault_dropped_connections():
    load_through({"drop": {"count": 3, "match": "^GET .*/jobs/ingest/"}}, expect_text="retrying")


def test_fault_dropped_upload_goes_in_a_new_job():
    c = Ctx()
    try:
        emu = c.start()
        # twice: libcurl itself sends a request again once when a reused connection closes unanswered
        emu.faults({"drop": {"count": 2, "match": "^PUT .*/batches$"}})
        p = c.maprun("load")
        expect(p.returncode == 0 and "its rows go in a new job" in p.stderr, "the upload should be redone", p)
        assert_all_loaded_once(emu)
        expect(rows_processed(emu) == TOTAL, "a record was processed twice", p)
    finally:
        c.close()


def test_fault_slow_answer_times_out_and_retries():
    c = Ctx()
    try:
        emu = c.start()
        emu.faults({"slow": 1, "slow_ms": 1500, "match": "describe"})
        p = c.maprun("load", env=c.env(MAPRUN_HTTP_TIMEOUT_MS="500"))
        expect(p.returncode == 0 and "retrying" in p.stderr, "a timed-out call should be retried", p)
        assert_all_loaded_once(emu)
    finally:
        c.close()


def test_fault_lock_rows_retried_in_new_job():
    c = Ctx()
    try:
        emu = c.start()
        emu.faults({"lock_rows": {"count": 2, "match": "Task upsert"}})
        p = c.maprun("load")
        expect(p.returncode == 0 and "to send again" in p.stderr, "locked rows go again", p)
        assert_all_loaded_once(emu)
        expect(rows_processed(emu) == TOTAL + 2, "only the 2 locked rows go twice", p)
    finally:
        c.close()


def test_fault_lock_rows_give_up():
    c = Ctx()
    try:
        emu = c.start()
        emu.faults({"lock_rows": {"count": 100, "match": "Lead upsert"}})
        p = c.maprun("load", env=c.env(MAPRUN_MAX_ATTEMPTS="2"))
        expect(p.returncode == 3, "a row that keeps failing is a failure (exit 3)", p)
        expect(re.search(r"Task\s+sent 1: .*not sent, parent failed 4", p.stdout),
               "children of the failed Lead are not sent", p)
        p = c.maprun("report", "--format", "json")
        expect("UNABLE_TO_LOCK_ROW" in p.stdout, "the report should list the failure code", p)
    finally:
        c.close()


def test_fault_job_fails_part_way():
    c = Ctx()
    try:
        emu = c.start()
        emu.faults({"fail_job_after": {"count": 2, "match": "Task upsert"}})
        p = c.maprun("load")
        expect(p.returncode == 0 and "failed part way" in p.stderr, "a failed job's rest goes again", p)
        assert_all_loaded_once(emu)
        expect(rows_processed(emu) == TOTAL, "rows were processed twice", p)
    finally:
        c.close()


def test_fault_request_limit_stops_then_resumes():
    c = Ctx()
    try:
        emu = c.start()
        emu.faults({"limit_exceeded": {"count": 1, "match": "^POST .*/jobs/ingest$"}})
        p = c.maprun("load")
        expect(p.returncode == 75 and "run the same command again after" in p.stderr, "stop on the limit", p)
        p = c.maprun("load")
        expect(p.returncode == 0, "the next run resumes", p)
        assert_all_loaded_once(emu)
        expect(rows_processed(emu) == TOTAL, "rows were processed twice", p)
    finally:
        c.close()


def test_fault_expired_session_reauthenticates():
    c = Ctx()
    try:
        emu = c.start(extra=("--token-ttl", "1"))
        emu.faults({"slow": 1, "slow_ms": 1200, "match": "describe"})
        p = c.maprun("load")
        expect(p.returncode == 0 and "authenticating again" in p.stderr, "an expired session is renewed", p)
        assert_all_loaded_once(emu)
    finally:
        c.close()


# ---- kill -9 and resume

def kill_when(c, cond, *args):
    proc = subprocess.Popen([MAPRUN] + list(args) + ["--state", c.state], env=c.env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 20
    while time.time() < deadline and proc.poll() is None and not cond(c.emu.stats()):
        time.sleep(0.02)
    expect(proc.poll() is None, "maprun finished before it could be killed")
    time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    c.emu.faults({})


def requests(stats, pattern):
    return sum(n for k, n in stats["requests"].items() if re.search(pattern, k))


def test_kill_during_upload_then_resume():
    c = Ctx()
    try:
        emu = c.start()
        emu.faults({"slow": 1, "slow_ms": 5000, "match": "^PUT .*/batches$"})
        kill_when(c, lambda s: s["jobs_created"] >= 1, "load", "--job-rows", "2")
        p = c.maprun("load", "--job-rows", "2")
        expect(p.returncode == 0 and "resuming job" in p.stdout, "the next load resumes", p)
        assert_all_loaded_once(emu)
        expect(rows_processed(emu) == TOTAL, "a record was written twice", p)
    finally:
        c.close()


def test_kill_during_polling_then_resume():
    c = Ctx()
    try:
        emu = c.start()
        emu.faults({"slow": 5, "slow_ms": 3000, "match": r"^GET .*/jobs/ingest/[^/]+$"})
        kill_when(c, lambda s: requests(s, r"^PATCH .*/jobs/ingest/") >= 1, "load")
        uploads = emu.stats()["uploads"]
        p = c.maprun("load")
        expect(p.returncode == 0 and "resuming job" in p.stdout, "the next load resumes", p)
        assert_all_loaded_once(emu)
        expect(rows_processed(emu) == TOTAL, "a record was written twice", p)
        expect(emu.stats()["uploads"] - uploads == 3, "the closed job must not be sent again", p)
    finally:
        c.close()


def test_kill_during_rollback_then_resume():
    c = Ctx()
    try:
        emu = c.start()
        expect(c.maprun("load").returncode == 0, "load")
        emu.faults({"slow": 5, "slow_ms": 3000, "match": r"^GET .*/jobs/ingest/[^/]+$"})
        kill_when(c, lambda s: requests(s, r"^PATCH .*/jobs/ingest/") >= 5, "rollback")
        p = c.maprun("rollback")
        expect(p.returncode == 0 and "resuming job" in p.stdout, "rollback resumes", p)
        for obj in STAGED:
            expect(ours(emu, obj) == [], "%s: records left after rollback" % obj)
    finally:
        c.close()


# ---- verify

def test_verify_finds_a_changed_field():
    c = Ctx()
    try:
        emu = c.start()
        expect(c.maprun("load").returncode == 0, "load")
        contact = [r for r in ours(emu, "Contact") if r["cio_id__c"] == "a2"][0]
        emu.api("PATCH", "/sobjects/Contact/" + contact["Id"], {"Title": "Changed"})
        p = c.maprun("verify", "--all")
        expect(p.returncode == 3 and "Title" in p.stdout and "Changed" in p.stdout, "verify should list it", p)
        p = c.maprun("verify", "--sample", "1")
        expect(p.returncode in (0, 3) and "checked 1:" in p.stdout, "a sample of 1 per object", p)
    finally:
        c.close()


def test_verify_bulk_query_path():
    c = Ctx()
    try:
        emu = c.start()
        expect(c.maprun("load").returncode == 0, "load")
        p = c.maprun("verify", env=c.env(MAPRUN_BULK_OVER="1"))
        expect(p.returncode == 0 and "all %d records match" % TOTAL in p.stdout, "verify by Bulk query", p)
        expect(emu.stats()["query_jobs"] >= 3, "Bulk query jobs were not used", p)
    finally:
        c.close()


def main():
    names = sys.argv[2:] or sorted(n for n in globals() if n.startswith("test_"))
    passed = failed = 0
    for name in names:
        try:
            globals()[name]()
            passed += 1
        except Exception as e:
            failed += 1
            print("FAIL: load %s: %s" % (name, e))
            if os.environ.get("TRACE"):
                traceback.print_exc()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
