#!/usr/bin/env python3
"""Tests for sfemu.py. Starts the emulator on free ports with a temporary SFDX tree.
Prints one line per failure and a closing "N passed, N failed"; exits 1 on failure."""
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
EMU = os.path.join(HERE, "sfemu.py")
sys.path.insert(0, os.path.join(ROOT, "tests"))
import emuproc  # noqa: E402
DESCRIBE = os.path.join(ROOT, "stdlib", "salesforce")
NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"'


def field_xml(name, ftype, extra=""):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<CustomField %s><fullName>%s</fullName><label>%s</label>'
            '<type>%s</type>%s</CustomField>\n' % (NS, name, name[:-3], ftype, extra))


def write_tree(root, fields, perms, objects=()):
    """fields: [(Obj, Name, type, extra xml)]; perms: [(Obj.Field, readable, editable)]"""
    base = os.path.join(root, "force-app", "main", "default")
    for obj in objects:
        d = os.path.join(base, "objects", obj)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, obj + ".object-meta.xml"), "w") as fh:
            fh.write('<CustomObject %s><label>Thing</label><pluralLabel>Things</pluralLabel><nameField><label>Name'
                     '</label><type>Text</type></nameField><deploymentStatus>Deployed</deploymentStatus>'
                     '<sharingModel>ReadWrite</sharingModel></CustomObject>' % NS)
    for obj, name, ftype, extra in fields:
        d = os.path.join(base, "objects", obj, "fields")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name + ".field-meta.xml"), "w") as fh:
            fh.write(field_xml(name, ftype, extra))
    if perms:
        d = os.path.join(base, "permissionsets")
        os.makedirs(d, exist_ok=True)
        fp = "".join("<fieldPermissions><editable>%s</editable><field>%s</field><readable>%s</readable>"
                     "</fieldPermissions>" % (str(e).lower(), f, str(r).lower()) for f, r, e in perms)
        with open(os.path.join(d, "Mapc.permissionset-meta.xml"), "w") as fh:
            fh.write('<PermissionSet %s><label>Mapc</label>%s</PermissionSet>' % (NS, fp))


EXT = "<length>64</length><externalId>true</externalId><unique>true</unique>"
FIELDS = [
    ("Lead", "cio_id__c", "Text", EXT),
    ("Lead", "cio_created_at__c", "DateTime", ""),
    ("Lead", "score__c", "Number", "<precision>5</precision><scale>0</scale>"),
    ("Lead", "opted__c", "Checkbox", "<defaultValue>false</defaultValue>"),
    ("Lead", "born__c", "Date", ""),
    ("Lead", "notes__c", "LongTextArea", "<length>32768</length><visibleLines>3</visibleLines>"),
    ("Lead", "tier__c", "Picklist", "<valueSet><restricted>true</restricted><valueSetDefinition><value><fullName>gold"
                                    "</fullName><default>false</default><label>gold</label></value><value><fullName>"
                                    "silver</fullName><default>false</default><label>silver</label></value>"
                                    "</valueSetDefinition></valueSet>"),
    ("Lead", "secret__c", "Text", "<length>10</length>"),
    ("Contact", "cio_id__c", "Text", EXT),
    ("Account", "cio_account_key__c", "Text", EXT),
    ("Task", "cio_activity_id__c", "Text", EXT),
    ("Thing__c", "code__c", "Text", EXT),
]
PERMS = [("%s.%s" % (o, n), True, True) for o, n, _, _ in FIELDS if n != "secret__c"]


class Emu:
    def __init__(self, *args, sfdx=None):
        self.dir = tempfile.mkdtemp(prefix="sfemu-test-")
        self.pf = os.path.join(self.dir, "ports.json")
        cmd = [EMU, "--describe-dir", DESCRIBE] + list(args)
        if sfdx:
            cmd += ["--sfdx", sfdx]
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc, self.ports = emuproc.start(cmd, self.pf, self.log)
        self.login = urllib.parse.urlsplit(self.ports["login_url"]).netloc
        self.inst = urllib.parse.urlsplit(self.ports["instance_url"]).netloc
        self.tok = self.token()["access_token"]

    def stop(self):
        emuproc.stop(self.proc)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def raw(self, method, path, body=None, headers=None, host=None):
        c = http.client.HTTPConnection(host or self.inst, timeout=10)
        h = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        ct = r.getheader("Content-Type") or ""
        out = json.loads(data) if data and "json" in ct else data.decode()
        return r.status, r, out

    def token(self, **form):
        f = {"grant_type": "client_credentials", "client_id": "mapc-test-client", "client_secret": "mapc-test-secret"}
        f.update(form)
        st, _, out = self.raw("POST", "/services/oauth2/token", urllib.parse.urlencode(f),
                              {"Content-Type": "application/x-www-form-urlencoded"}, host=self.login)
        return out if st == 200 else (st, out)

    def api(self, method, path, body=None, headers=None, tok=None):
        h = {"Authorization": "Bearer " + (tok or self.tok)}
        h.update(headers or {})
        return self.raw(method, "/services/data/v66.0" + path, body, h)

    def admin(self, method, path, body=None):
        st, _, out = self.raw(method, "/__emu/" + path, body)
        return st, out

    def job(self, obj, op, csv, ext=None, close=True, poll=True, tok=None, **kw):
        spec = {"object": obj, "operation": op}
        if ext:
            spec["externalIdFieldName"] = ext
        spec.update(kw)
        st, _, info = self.api("POST", "/jobs/ingest", spec, tok=tok)
        assert st == 200, (st, info)
        jid = info["id"]
        st, _, out = self.api("PUT", "/jobs/ingest/%s/batches" % jid, csv, {"Content-Type": "text/csv"}, tok=tok)
        assert st == 201, (st, out)
        if close:
            st, _, out = self.api("PATCH", "/jobs/ingest/" + jid, {"state": "UploadComplete"}, tok=tok)
            assert st == 200, (st, out)
        if poll:
            for _ in range(10):
                st, _, info = self.api("GET", "/jobs/ingest/" + jid, tok=tok)
                if info["state"] in ("JobComplete", "Failed", "Aborted"):
                    break
        return jid, info

    def results(self, jid, which):
        st, r, out = self.api("GET", "/jobs/ingest/%s/%s/" % (jid, which))
        assert st == 200, (st, out)
        return parse_csv(out)

    def records(self, obj):
        return self.admin("GET", "records/" + obj)[1]


def parse_csv(text):
    import csv
    import io
    return list(csv.reader(io.StringIO(text)))


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def eq(a, b, what=""):
    assert a == b, "%s: expected %r, got %r" % (what, b, a)


# ----------------------------------------------------------------------------- auth

@test
def oauth_client_credentials(e):
    t = e.token()
    eq(sorted(t), sorted(["access_token", "instance_url", "id", "token_type", "issued_at", "signature"]), "keys")
    eq(t["token_type"], "Bearer")
    assert t["issued_at"].isdigit() and len(t["issued_at"]) == 13
    assert t["instance_url"] != e.ports["login_url"]
    eq(e.token(client_secret="nope")[1]["error"], "invalid_client")
    eq(e.token(client_id="nope")[1]["error"], "invalid_client_id")
    eq(e.token(grant_type="authorization_code"), (400, e.token(grant_type="x")[1]))
    eq(e.token(grant_type="x")[1]["error"], "unsupported_grant_type")
    st, _, out = e.raw("POST", "/services/oauth2/token", {"grant_type": "client_credentials"}, host=e.login)
    eq((st, out["error"]), (400, "invalid_request"), "JSON body")


@test
def oauth_password_and_refresh(e):
    t = e.token(grant_type="password", username="owner1@mapc.test", password="mapc-test-password")
    assert "access_token" in t and "expires_in" not in t
    eq(e.token(grant_type="password", username="owner1@mapc.test", password="x")[1]["error"], "invalid_grant")
    st, rt = e.admin("POST", "refresh_token", {})
    t = e.token(grant_type="refresh_token", refresh_token=rt["refresh_token"])
    assert "access_token" in t
    eq(e.token(grant_type="refresh_token", refresh_token="bad")[1]["error"], "invalid_grant")


@test
def api_only_on_instance_host(e):
    st, _, out = e.raw("GET", "/services/data/v66.0/limits", headers={"Authorization": "Bearer " + e.tok}, host=e.login)
    eq(st, 404)


@test
def invalid_session(e):
    st, _, out = e.api("GET", "/limits", tok="bogus")
    eq((st, out), (401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]))


@test
def fault_expire_tokens(e):
    tok = e.token()["access_token"]
    e.admin("POST", "faults", {"expire_tokens": True})
    st, _, out = e.api("GET", "/limits", tok=tok)
    eq((st, out[0]["errorCode"]), (401, "INVALID_SESSION_ID"))
    e.tok = e.token()["access_token"]


# ----------------------------------------------------------------------------- REST basics

@test
def error_shapes_and_statuses(e):
    st, _, out = e.api("GET", "/sobjects/Nope/describe")
    eq(st, 404)
    assert isinstance(out, list) and out[0]["errorCode"] == "NOT_FOUND" and "message" in out[0]
    st, _, out = e.api("PUT", "/limits")
    eq(st, 405)
    st, _, out = e.api("POST", "/jobs/ingest", '{"object":"Lead","operation":"insert"}', {"Content-Type": "text/plain"})
    eq(st, 415)


@test
def limit_header_and_limits(e):
    st, r, out = e.api("GET", "/limits")
    h1 = r.getheader("Sforce-Limit-Info")
    assert h1 and h1.startswith("api-usage=") and h1.endswith("/100000"), h1
    used = int(h1.split("=")[1].split("/")[0])
    eq(out["DailyApiRequests"], {"Max": 100000, "Remaining": 100000 - used})
    for k in ("DailyBulkV2QueryJobs", "DataStorageMB", "DailyBulkApiBatches"):
        assert k in out, k
    st, r, _ = e.api("GET", "/sobjects/Nope/describe")
    eq(r.getheader("Sforce-Limit-Info"), "api-usage=%d/100000" % (used + 1), "error responses carry it and count")


@test
def describe_custom_fields(e):
    st, _, d = e.api("GET", "/sobjects/Lead/describe")
    f = {x["name"]: x for x in d["fields"]}
    assert "secret__c" not in f, "field without FLS is hidden"
    c = f["cio_id__c"]
    eq((c["type"], c["length"], c["externalId"], c["idLookup"], c["unique"], c["custom"]),
       ("string", 64, True, True, True, True))
    eq((f["score__c"]["type"], f["score__c"]["precision"], f["score__c"]["scale"]), ("double", 5, 0))
    eq((f["opted__c"]["type"], f["opted__c"]["nillable"], f["opted__c"]["defaultedOnCreate"]), ("boolean", False, True))
    eq((f["notes__c"]["type"], f["notes__c"]["length"]), ("textarea", 32768))
    eq((f["tier__c"]["type"], f["tier__c"]["restrictedPicklist"]), ("picklist", True))
    eq(f["cio_created_at__c"]["type"], "datetime")
    eq(f["born__c"]["type"], "date")
    eq(f["CreatedDate"]["createable"], False, "audit fields off")
    eq(d["keyPrefix"], "00Q")


@test
def fls_hides_field_from_api(e):
    st, _, out = e.api("POST", "/sobjects/Lead", {"LastName": "X", "Company": "C", "secret__c": "s"})
    eq((st, out[0]["errorCode"]), (400, "INVALID_FIELD"))
    jid, info = e.job("Lead", "insert", "LastName,Company,secret__c\nX,C,s\n")
    eq(info["state"], "Failed")
    assert "Field name not found : secret__c" in info["errorMessage"], info


@test
def tooling_customfield_and_fls(e):
    st, _, out = e.api("POST", "/tooling/sobjects/CustomField",
                       {"FullName": "Lead.Runtime__c", "Metadata": {"type": "Text", "label": "Runtime", "length": 20}})
    eq(st, 201, str(out))
    st, _, d = e.api("GET", "/sobjects/Lead/describe")
    assert "Runtime__c" not in [x["name"] for x in d["fields"]]
    st, _, out = e.api("POST", "/sobjects/FieldPermissions", {"Field": "Lead.Runtime__c", "SobjectType": "Lead",
                                                              "PermissionsRead": True, "PermissionsEdit": True})
    eq(st, 201, str(out))
    st, _, d = e.api("GET", "/sobjects/Lead/describe")
    assert "Runtime__c" in [x["name"] for x in d["fields"]]
    st, _, out = e.api("POST", "/tooling/sobjects/CustomField",
                       {"FullName": "Lead.Bad__c", "Metadata": {"type": "Text", "label": "Bad", "length": 300}})
    eq(st, 400)
    assert "1-255" in out[0]["message"], out


@test
def deploy_validation(e):
    cases = [
        ([("Lead", "two__words__c", "Text", "<length>5</length>")], "double underscores"),
        ([("Lead", "Big__c", "Text", "<length>256</length>")], "1-255"),
        ([("Lead", "Huge__c", "LongTextArea", "<length>131073</length><visibleLines>3</visibleLines>")], "256-131072"),
        ([("Lead", "Prec__c", "Number", "<precision>19</precision><scale>0</scale>")], "precision must be 1-18"),
        ([("Lead", "Flag__c", "Checkbox", "<length>5</length><defaultValue>false</defaultValue>")], "does not take a length"),
        ([("Lead", "Ext__c", "Date", "<externalId>true</externalId>")], "externalId/unique"),
        ([("Lead", "A" * 41 + "__c", "Text", "<length>5</length>")], "at most 40"),
        ([("Nope", "X__c", "Text", "<length>5</length>")], "does not exist"),
        ([("EmailTemplate", "Key__c", "Text", "<length>5</length>")], "does not support custom fields"),
    ]
    for fields, msg in cases:
        d = tempfile.mkdtemp(dir=e.dir)
        write_tree(d, fields, [])
        st, out = e.admin("POST", "deploy", {"dir": d})
        eq(st, 400, msg)
        assert msg in out[0]["message"], (msg, out)
    d = tempfile.mkdtemp(dir=e.dir)
    write_tree(d, [("Lead", "Late__c", "Email", "")], [("Lead.Late__c", True, True)])
    st, out = e.admin("POST", "deploy", {"dir": d})
    eq(st, 200, str(out))
    st, _, desc = e.api("GET", "/sobjects/Lead/describe")
    f = [x for x in desc["fields"] if x["name"] == "Late__c"][0]
    eq((f["type"], f["length"]), ("email", 80))


@test
def deploy_bad_tree_exits_2(e):
    d = tempfile.mkdtemp(dir=e.dir)
    write_tree(d, [("Lead", "bad_name", "Text", "<length>5</length>")], [])
    p = subprocess.run([sys.executable, EMU, "--port-file", os.path.join(d, "pf"), "--describe-dir", DESCRIBE,
                        "--sfdx", d], capture_output=True, text=True, timeout=20)
    eq(p.returncode, 2)
    assert "must end in __c" in p.stderr, p.stderr


# ----------------------------------------------------------------------------- collections, REST writes

@test
def collections_create_and_order(e):
    recs = [{"attributes": {"type": "Lead"}, "LastName": "L%d" % i, "Company": "C", "cio_id__c": "col%d" % i}
            for i in range(3)]
    recs[1]["Email"] = "not-an-email"
    st, _, out = e.api("POST", "/composite/sobjects", {"allOrNone": False, "records": recs})
    eq(st, 200)
    eq([r["success"] for r in out], [True, False, True])
    eq(out[1]["errors"][0]["statusCode"], "INVALID_EMAIL_ADDRESS")
    assert out[0]["id"].startswith("00Q") and len(out[0]["id"]) == 18
    st, _, out = e.api("POST", "/composite/sobjects", {"records": [{"attributes": {"type": "Lead"}, "LastName": "x",
                                                                     "Company": "c"}] * 201})
    eq((st, out[0]["errorCode"]), (400, "EXCEEDED_ID_LIMIT"))


@test
def collections_all_or_none(e):
    before = len(e.records("Lead"))
    recs = [{"attributes": {"type": "Lead"}, "LastName": "A", "Company": "C"},
            {"attributes": {"type": "Lead"}, "LastName": "B"}]
    st, _, out = e.api("POST", "/composite/sobjects", {"allOrNone": True, "records": recs})
    eq([r["success"] for r in out], [False, False])
    eq(out[0]["errors"][0]["statusCode"], "ALL_OR_NONE_OPERATION_ROLLED_BACK")
    eq(out[1]["errors"][0]["statusCode"], "REQUIRED_FIELD_MISSING")
    eq(len(e.records("Lead")), before, "rolled back")


@test
def collections_upsert_update_delete(e):
    recs = [{"attributes": {"type": "Lead"}, "LastName": "U", "Company": "C", "cio_id__c": "up1"}]
    st, _, out = e.api("PATCH", "/composite/sobjects/Lead/cio_id__c", {"records": recs})
    eq((out[0]["success"], out[0]["created"]), (True, True))
    recs[0]["LastName"] = "U2"
    st, _, out = e.api("PATCH", "/composite/sobjects/Lead/cio_id__c", {"records": recs})
    eq((out[0]["success"], out[0]["created"]), (True, False))
    rid = out[0]["id"]
    st, _, out = e.api("PATCH", "/composite/sobjects", {"records": [{"attributes": {"type": "Lead"}, "Id": rid,
                                                                      "Title": "Boss"}]})
    eq(out[0]["success"], True)
    st, _, rec = e.api("GET", "/sobjects/Lead/" + rid)
    eq((rec["LastName"], rec["Title"]), ("U2", "Boss"))
    st, _, out = e.api("DELETE", "/composite/sobjects?ids=%s&allOrNone=false" % rid)
    eq(out[0]["success"], True)
    st, _, out = e.api("GET", "/sobjects/Lead/" + rid)
    eq(st, 404)


@test
def single_upsert_statuses(e):
    st, _, out = e.api("PATCH", "/sobjects/Lead/cio_id__c/single1", {"LastName": "S", "Company": "C"})
    eq((st, out["created"]), (201, True))
    st, _, out = e.api("PATCH", "/sobjects/Lead/cio_id__c/single1", {"Title": "T"})
    eq((st, out["created"]), (200, False))
    e.admin("POST", "records/Lead", [{"LastName": "D1", "Company": "C", "Email": "dup@x.com"},
                                     {"LastName": "D2", "Company": "C", "Email": "dup@x.com"}])
    st, _, out = e.api("PATCH", "/sobjects/Lead/Email/dup@x.com", {"Title": "T"})
    eq(st, 300)
    st, _, out = e.api("PATCH", "/sobjects/Lead/Nope__c/1", {"Title": "T"})
    eq(st, 404)


@test
def rest_parent_by_external_id(e):
    e.admin("POST", "records/Account", [{"Name": "RA", "cio_account_key__c": "rest-acc"}])
    st, _, out = e.api("POST", "/sobjects/Contact", {"LastName": "R", "Account": {"cio_account_key__c": "rest-acc"}})
    eq(st, 201, str(out))
    st, _, rec = e.api("GET", "/sobjects/Contact/" + out["id"])
    assert rec["AccountId"].startswith("001")
    st, _, out = e.api("POST", "/sobjects/Contact", {"LastName": "R", "Account": {"cio_account_key__c": "none"}})
    eq((st, out[0]["errorCode"]), (400, "INVALID_FIELD"))


@test
def audit_fields_refused(e):
    st, _, out = e.api("POST", "/sobjects/Lead", {"LastName": "A", "Company": "C",
                                                  "CreatedDate": "2020-01-01T00:00:00.000Z"})
    eq((st, out[0]["errorCode"]), (400, "INVALID_FIELD_FOR_INSERT_UPDATE"))


# ----------------------------------------------------------------------------- query

@test
def query_paging_and_shapes(e):
    e.admin("POST", "records/Lead", [{"LastName": "Q%d" % i, "Company": "QCo", "cio_id__c": "q%d" % i,
                                      "cio_created_at__c": "2024-01-02T03:04:05.000Z", "score__c": i,
                                      "opted__c": i % 2 == 0, "born__c": "2024-01-02"} for i in range(7)])
    st, _, out = e.api("GET", "/query?q=" + urllib.parse.quote(
        "SELECT Id, cio_id__c, cio_created_at__c, born__c, opted__c, score__c, Owner.Email FROM Lead "
        "WHERE Company = 'qco' ORDER BY cio_id__c"))
    eq(st, 200, str(out))
    eq((out["totalSize"], out["done"], len(out["records"])), (7, False, 3))
    r = out["records"][0]
    eq(r["attributes"]["type"], "Lead")
    assert r["attributes"]["url"].endswith("/sobjects/Lead/" + r["Id"])
    eq((r["cio_created_at__c"], r["born__c"], r["opted__c"], r["score__c"]),
       ("2024-01-02T03:04:05.000+0000", "2024-01-02", True, 0))
    eq(r["Owner"]["Email"], "integration@mapc.test")
    got = [x["cio_id__c"] for x in out["records"]]
    while not out["done"]:
        assert out["nextRecordsUrl"].startswith("/services/data/v66.0/query/")
        st, _, out = e.api("GET", out["nextRecordsUrl"][len("/services/data/v66.0"):])
        got += [x["cio_id__c"] for x in out["records"]]
    eq(got, ["q%d" % i for i in range(7)])


@test
def query_conditions(e):
    q = ("SELECT cio_id__c FROM Lead WHERE (cio_id__c IN ('q1','q2','q5') OR cio_id__c = 'q6') AND Email = null "
         "AND cio_id__c != null ORDER BY cio_id__c DESC LIMIT 3")
    st, _, out = e.api("GET", "/query?q=" + urllib.parse.quote(q))
    eq([x["cio_id__c"] for x in out["records"]], ["q6", "q5", "q2"])


@test
def query_rejects_unsupported(e):
    for q in ("SELECT COUNT() FROM Lead", "SELECT Company FROM Lead GROUP BY Company",
              "SELECT Id, (SELECT Id FROM Tasks) FROM Lead", "SELEC Id FROM Lead"):
        st, _, out = e.api("GET", "/query?q=" + urllib.parse.quote(q))
        eq((st, out[0]["errorCode"]), (400, "MALFORMED_QUERY"), q)
    st, _, out = e.api("GET", "/query?q=" + urllib.parse.quote("SELECT Nope__c FROM Lead"))
    eq(out[0]["errorCode"], "INVALID_FIELD")
    st, _, out = e.api("GET", "/query?q=" + urllib.parse.quote("SELECT secret__c FROM Lead"))
    eq(out[0]["errorCode"], "INVALID_FIELD", "no FLS, no column")


# ----------------------------------------------------------------------------- Bulk ingest

@test
def ingest_endpoints_and_jobinfo(e):
    st, _, info = e.api("POST", "/jobs/ingest", {"object": "Lead", "operation": "insert"})
    eq((st, info["state"], info["apiVersion"], info["contentUrl"]),
       (200, "Open", 66.0, "services/data/v66.0/jobs/ingest/%s/batches" % info["id"]))
    jid = info["id"]
    st, r, out = e.api("PUT", "/jobs/ingest/%s/batches" % jid, "LastName,Company\nA,B\n", {"Content-Type": "text/csv"})
    eq((st, out), (201, ""))
    st, _, out = e.api("PATCH", "/jobs/ingest/" + jid, {"state": "UploadComplete"})
    eq((st, out["state"]), (200, "UploadComplete"))
    assert "contentUrl" not in out
    states = []
    for _ in range(4):
        st, _, info = e.api("GET", "/jobs/ingest/" + jid)
        states.append(info["state"])
    eq(states, ["UploadComplete", "InProgress", "JobComplete", "JobComplete"], "poll delay 2")
    eq((info["numberRecordsProcessed"], info["numberRecordsFailed"]), (1, 0))
    for k in ("retries", "totalProcessingTime", "apiActiveProcessingTime", "apexProcessingTime", "createdDate"):
        assert k in info, k
    st, r, out = e.api("GET", "/jobs/ingest/%s/successfulResults/" % jid)
    eq(r.getheader("Content-Type"), "text/csv")
    assert out.startswith('"sf__Id","sf__Created","LastName","Company"\n'), out
    st, _, out = e.api("DELETE", "/jobs/ingest/" + jid)
    eq(st, 204)
    st, _, out = e.api("GET", "/jobs/ingest/" + jid)
    eq((st, out[0]["errorCode"]), (404, "NOT_FOUND"))


@test
def ingest_state_machine(e):
    jid, info = e.job("Lead", "insert", "LastName,Company\nA,B\n", close=False, poll=False)
    st, _, out = e.api("PUT", "/jobs/ingest/%s/batches" % jid, "LastName,Company\nA,B\n", {"Content-Type": "text/csv"})
    eq((st, out[0]["errorCode"]), (400, "BULK_API_ERROR"))
    assert "Found multiple contents" in out[0]["message"]
    for _ in range(3):
        st, _, info = e.api("GET", "/jobs/ingest/" + jid)
    eq(info["state"], "Open", "an unclosed job never processes")
    st, _, out = e.api("PATCH", "/jobs/ingest/" + jid, {"state": "Aborted"})
    eq(out["state"], "Aborted")
    st, _, out = e.api("PATCH", "/jobs/ingest/" + jid, {"state": "UploadComplete"})
    eq((st, out[0]["errorCode"]), (400, "InvalidJobState"))
    st, _, out = e.api("PUT", "/jobs/ingest/%s/batches" % jid, "x\n", {"Content-Type": "text/csv"})
    eq((st, out[0]["errorCode"]), (400, "InvalidJobState"))
    eq(e.results(jid, "unprocessedrecords"), [["LastName", "Company"], ["A", "B"]])
    other = e.token(grant_type="password", username="owner1@mapc.test", password="mapc-test-password")["access_token"]
    st, _, out = e.api("GET", "/jobs/ingest/" + jid, tok=other)
    eq((st, out[0]["errorCode"]), (403, "InvalidUser"))
    st, _, out = e.api("POST", "/jobs/ingest", {"object": "Lead", "operation": "hardDelete"})
    eq((st, out[0]["errorCode"]), (400, "FeatureNotEnabled"))
    st, _, out = e.api("POST", "/jobs/ingest", {"object": "Lead", "operation": "upsert", "externalIdFieldName": "LastName"})
    eq((st, out[0]["errorCode"]), (400, "InvalidJob"))
    st, _, out = e.api("GET", "/jobs/ingest/7505g000000AAAAAAA")
    eq(st, 404)


@test
def ingest_results_shuffled_and_verbatim(e):
    rows = "".join("R%02d,Co,shuf%02d\n" % (i, i) for i in range(30))
    jid, info = e.job("Lead", "insert", "LastName,Company,cio_id__c\n" + rows + '"Q, ""x""",Co,shufq\n')
    eq(info["state"], "JobComplete")
    ok = e.results(jid, "successfulResults")
    eq(ok[0], ["sf__Id", "sf__Created", "LastName", "Company", "cio_id__c"])
    keys = [r[4] for r in ok[1:]]
    eq(sorted(keys), sorted(["shuf%02d" % i for i in range(30)] + ["shufq"]))
    assert keys != ["shuf%02d" % i for i in range(30)] + ["shufq"], "results must be shuffled"
    assert all(r[1] == "true" and r[0].startswith("00Q") for r in ok[1:])
    assert ["Q, \"x\"", "Co", "shufq"] in [r[2:] for r in ok[1:]]


@test
def ingest_csv_strictness(e):
    jid, info = e.job("Lead", "insert", "LastName,Company\r\nA,B\r\n")
    eq(info["state"], "Failed")
    assert "LineEnding is invalid" in info["errorMessage"], info
    jid, info = e.job("Lead", "insert", "LastName,Company\r\nA,B\r\n", lineEnding="CRLF")
    eq((info["state"], info["numberRecordsFailed"]), ("JobComplete", 0))
    jid, info = e.job("Lead", "insert", "LastName|Company\nA|B\n", columnDelimiter="PIPE")
    eq((info["state"], info["numberRecordsFailed"]), ("JobComplete", 0))
    jid, info = e.job("Lead", "insert", 'LastName,Company\nA, "B"\n')
    eq(info["numberRecordsFailed"], 1, "space before a quote")
    jid, info = e.job("Lead", "insert", "LastName,Company,Bogus__c\nA,B,c\n")
    eq(info["state"], "Failed")
    jid, info = e.job("Lead", "insert", "\ufeffLastName,Company\nA,B\n")
    eq(info["state"], "Failed", "BOM")
    jid, info = e.job("Lead", "insert", 'LastName,Company\n"A,B\n')
    eq(info["state"], "Failed", "unterminated quote")


@test
def ingest_type_validation(e):
    csv = ("LastName,Company,opted__c,cio_created_at__c,born__c,score__c,tier__c,FirstName,Email,cio_id__c\n"
           "ok1,C,TRUE,2024-01-02T03:04:05Z,2024-01-02,12,gold,F,a@b.co,tv1\n"
           "ok2,C,false,2024-01-02T05:04:05.1+02:00,,1e3,,,,tv2\n"
           "b1,C,1,,,,,,,tv3\n"
           "b2,C,,2024-01-02 03:04:05,,,,,,tv4\n"
           "b3,C,,2024-01-02T03:04:05,,,,,,tv5\n"
           "b4,C,,,2024-1-2,,,,,tv6\n"
           "b5,C,,,,12x,,,,tv7\n"
           "b6,C,,,,,platinum,,,tv8\n"
           "b7,C,,,,,,%s,,tv9\n"
           "b8,C,,,,,,,a@@b,tv10\n"
           "b9,C,,,,123456,,,,tv11\n"
           "b10,,,,,,,,,tv12\n"
           "b11,C,,,,,,,,tv1\n" % ("x" * 41))
    jid, info = e.job("Lead", "insert", csv)
    bad = {r[2]: r[1] for r in e.results(jid, "failedResults")[1:]}
    eq(sorted(bad), sorted(["b%d" % i for i in range(1, 12)]))
    assert bad["b1"].startswith("INVALID_TYPE_ON_FIELD_IN_RECORD:"), bad["b1"]
    assert bad["b7"].startswith("STRING_TOO_LONG:") and bad["b7"].endswith(":FirstName --"), bad["b7"]
    assert bad["b6"].startswith("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:")
    assert bad["b8"].startswith("INVALID_EMAIL_ADDRESS:")
    assert bad["b9"].startswith("NUMBER_OUTSIDE_VALID_RANGE:")
    eq(bad["b10"], "REQUIRED_FIELD_MISSING:Required fields are missing: [Company]:Company --")
    assert bad["b11"].startswith("DUPLICATE_VALUE:"), "duplicate within the same file"
    recs = {r["LastName"]: r for r in e.records("Lead") if r.get("cio_id__c") in ("tv1", "tv2")}
    eq(recs["ok2"]["cio_created_at__c"], "2024-01-02T03:04:05.100+0000", "stored UTC")
    eq((recs["ok1"]["opted__c"], recs["ok2"]["opted__c"], recs["ok1"]["Status"]), (True, False, "Open - Not Contacted"))


@test
def ingest_update_null_and_unchanged(e):
    st, out = e.admin("POST", "records/Lead", [{"LastName": "N", "Company": "C", "Title": "T", "Phone": "1"}])
    rid = out["ids"][0]
    assert len(rid) == 18 and rid.startswith("00Q")
    jid, info = e.job("Lead", "update", "Id,Title,Phone\n%s,#N/A,\n" % rid)
    eq(info["numberRecordsFailed"], 0)
    r = [x for x in e.records("Lead") if x["Id"] == rid][0]
    eq((r["Title"], r["Phone"]), (None, "1"))
    jid, info = e.job("Lead", "update", "Title\nx\n")
    eq(info["state"], "Failed", "update needs Id")
    jid, info = e.job("Lead", "update", "Id,Company\n%s,#N/A\n" % rid)
    assert e.results(jid, "failedResults")[1][1].startswith("REQUIRED_FIELD_MISSING"), "null on a required field"
    jid, info = e.job("Lead", "delete", "Id,LastName\n%s,x\n" % rid)
    eq(info["state"], "Failed", "delete takes only Id")
    jid, info = e.job("Lead", "delete", "Id\n%s\n" % rid)
    eq(info["numberRecordsFailed"], 0)
    assert rid not in [x["Id"] for x in e.records("Lead")]


@test
def ingest_upsert(e):
    e.admin("POST", "records/Lead", [{"LastName": "Old", "Company": "C", "cio_id__c": "ups1"}])
    jid, info = e.job("Lead", "upsert", "cio_id__c,LastName,Company\nups1,New,C\nups2,Fresh,C\nups3,A,C\nups3,B,C\n",
                      ext="cio_id__c")
    ok = {r[2]: r[1] for r in e.results(jid, "successfulResults")[1:]}
    eq(ok, {"ups1": "false", "ups2": "true"})
    bad = e.results(jid, "failedResults")[1:]
    eq(len(bad), 2)
    assert all(b[1].startswith("DUPLICATE_VALUE:Duplicate external id specified") for b in bad)
    e.admin("POST", "records/Lead", [{"LastName": "E1", "Company": "C", "Email": "same@x.com"},
                                     {"LastName": "E2", "Company": "C", "Email": "same@x.com"}])
    jid, info = e.job("Lead", "upsert", "Email,Title\nsame@x.com,T\n", ext="Email")
    assert e.results(jid, "failedResults")[1][1].startswith("DUPLICATE_EXTERNAL_ID:"), "several matches"


@test
def ingest_relationships(e):
    e.admin("POST", "records/Account", [{"Name": "Acme", "cio_account_key__c": "acc1"}])
    jid, info = e.job("Contact", "insert", "Account.cio_account_key__c,LastName,cio_id__c\nacc1,Bo,c1\nnope,Cy,c2\n,Di,c3\n")
    ok = e.results(jid, "successfulResults")
    bad = e.results(jid, "failedResults")
    eq(len(ok), 3)
    eq(bad[1][1], "INVALID_FIELD:Foreign key external ID: nope not found for field cio_account_key__c in entity "
                  "Account:--")
    acc = [a for a in e.records("Account") if a.get("cio_account_key__c") == "acc1"][0]["Id"]
    bo = [c for c in e.records("Contact") if c["LastName"] == "Bo"][0]
    eq(bo["AccountId"], acc)
    acr = [a for a in e.records("AccountContactRelation") if a["ContactId"] == bo["Id"]]
    eq((len(acr), acr[0]["IsDirect"]), (1, True), "direct relation auto-created")
    e.admin("POST", "records/Lead", [{"LastName": "Lw", "Company": "C", "cio_id__c": "lw1"}])
    csv = ("Lead:Who.cio_id__c,Contact:Who.cio_id__c,Subject,Owner.Email,cio_activity_id__c\n"
           "lw1,,s1,olive@mapc.test,t1\n,c1,s2,,t2\nlw1,c1,s3,,t3\n")
    jid, info = e.job("Task", "insert", csv)
    eq(info["numberRecordsFailed"], 1, str(e.results(jid, "failedResults")))
    tasks = {t["Subject"]: t for t in e.records("Task")}
    assert tasks["s1"]["WhoId"].startswith("00Q") and tasks["s2"]["WhoId"].startswith("003")
    eq((tasks["s1"]["Status"], tasks["s1"]["Priority"]), ("Not Started", "Normal"), "Task defaults")
    olive = [u for u in e.records("User") if u["Email"] == "olive@mapc.test"][0]["Id"]
    eq(tasks["s1"]["OwnerId"], olive)
    for header in ("Who.cio_id__c,Subject\nlw1,x\n", "Account:Account.cio_account_key__c,LastName\nacc1,x\n",
                   "Account.Name,LastName\nAcme,x\n", "Account.Owner.Email,LastName\na,x\n"):
        obj = "Task" if header.startswith("Who") else "Contact"
        jid, info = e.job(obj, "insert", header)
        eq(info["state"], "Failed", header)
    e.admin("POST", "records/Lead", [{"LastName": "M1", "Company": "C", "Email": "multi@x.com"},
                                     {"LastName": "M2", "Company": "C", "Email": "multi@x.com"}])
    jid, info = e.job("Task", "insert", "Lead:Who.Email,Subject\nmulti@x.com,x\n")
    assert "More than 1 record" in e.results(jid, "failedResults")[1][1]


@test
def object_rules(e):
    st, out = e.admin("POST", "records/Campaign", [{"Name": "Camp"}])
    camp = out["ids"][0]
    st, out = e.admin("POST", "records/Lead", [{"LastName": "CM", "Company": "C"}])
    lead = out["ids"][0]
    jid, info = e.job("CampaignMember", "insert", "CampaignId,LeadId\n%s,%s\n%s,%s\n%s,\n" % (camp, lead, camp, lead, camp))
    bad = sorted(r[1] for r in e.results(jid, "failedResults")[1:])
    eq(len(bad), 2)
    assert bad[0].startswith("DUPLICATE_VALUE:Already a campaign member") and bad[1].startswith("REQUIRED_FIELD_MISSING")
    eq([r["Status"] for r in e.records("CampaignMember")], ["Sent"])
    st, out = e.admin("POST", "records/Account", [{"Name": "A"}])
    acc = out["ids"][0]
    st, out = e.admin("POST", "records/Contact", [{"LastName": "K", "AccountId": acc}])
    jid, info = e.job("AccountContactRelation", "insert", "AccountId,ContactId\n%s,%s\n" % (acc, out["ids"][0]))
    assert e.results(jid, "failedResults")[1][1].startswith("DUPLICATE_VALUE")
    seed = e.admin("GET", "stats")[1]["seed"]
    fo = seed["folder_id"]
    csv = ("Name,DeveloperName,FolderId,TemplateType\nT1,Tmpl_One,%s,text\n"
           "T2,Tmpl_One,%s,text\nT3,bad__name,%s,text\nT4,Tmpl_4,%s,text\n"
           "T5,Tmpl_5,%s,text\n" % (fo, fo, fo, seed["users"][1], fo[:-3][:-4] + "ZZZZ"))
    jid, info = e.job("EmailTemplate", "insert", csv)
    bad = {r[2]: r[1].split(":")[0] for r in e.results(jid, "failedResults")[1:]}
    eq(bad, {"T2": "DUPLICATE_DEVELOPER_NAME", "T3": "FIELD_INTEGRITY_EXCEPTION", "T5": "INVALID_CROSS_REFERENCE_KEY"})
    jid, info = e.job("Lead", "insert", "LastName,Company,CreatedDate\nA,C,2020-01-01T00:00:00Z\n")
    assert e.results(jid, "failedResults")[1][1].startswith("INVALID_FIELD_FOR_INSERT_UPDATE"), "audit field"


@test
def ingest_upload_limit(e):
    st, _, info = e.api("POST", "/jobs/ingest", {"object": "Lead", "operation": "insert"})
    st, _, out = e.api("PUT", "/jobs/ingest/%s/batches" % info["id"], "LastName\n" + "x\n" * 60000,
                       {"Content-Type": "text/csv"})
    eq(st, 413)
    st, _, out = e.api("PUT", "/jobs/ingest/%s/batches" % info["id"], "LastName\nx\n", {"Content-Type": "text/plain"})
    eq(st, 415)


# ----------------------------------------------------------------------------- faults

@test
def fault_http503_with_match(e):
    e.admin("POST", "faults", {"http503": 1, "match": "^PUT .*/batches$"})
    st, _, _ = e.api("GET", "/limits")
    eq(st, 200, "match spares other calls")
    st, _, info = e.api("POST", "/jobs/ingest", {"object": "Lead", "operation": "insert"})
    st, _, out = e.api("PUT", "/jobs/ingest/%s/batches" % info["id"], "LastName,Company\nA,B\n", {"Content-Type": "text/csv"})
    eq(st, 503)
    st, _, out = e.api("PUT", "/jobs/ingest/%s/batches" % info["id"], "LastName,Company\nA,B\n", {"Content-Type": "text/csv"})
    eq(st, 201, "counts down")


@test
def fault_drop_slow_limit(e):
    e.admin("POST", "faults", {"drop": 1})
    try:
        e.api("GET", "/limits")
        raise AssertionError("connection should have been dropped")
    except (http.client.HTTPException, ConnectionError, OSError):
        pass
    eq(e.api("GET", "/limits")[0], 200)
    e.admin("POST", "faults", {"slow": 1, "slow_ms": 300})
    t = time.time()
    e.api("GET", "/limits")
    assert time.time() - t >= 0.29
    e.admin("POST", "faults", {"limit_exceeded": 1})
    st, _, out = e.api("GET", "/limits")
    eq((st, out[0]["errorCode"]), (403, "REQUEST_LIMIT_EXCEEDED"))
    eq(e.api("GET", "/limits")[0], 200)
    e.admin("POST", "faults", {"http500": 1})
    eq(e.api("GET", "/limits")[0], 500)
    e.admin("POST", "faults", {"http503": 5})
    e.admin("POST", "faults", {})
    eq(e.api("GET", "/limits")[0], 200, "{} clears")


@test
def fault_lock_rows(e):
    e.admin("POST", "faults", {"lock_rows": 2})
    jid, info = e.job("Lead", "insert", "LastName,Company\nA,B\nC,D\nE,F\n")
    eq((info["numberRecordsProcessed"], info["numberRecordsFailed"]), (3, 2))
    assert all(r[1].startswith("UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record or 1 records: ")
               and r[1].endswith(":--") for r in e.results(jid, "failedResults")[1:])


@test
def fault_fail_job_after(e):
    e.admin("POST", "faults", {"fail_job_after": 2})
    jid, info = e.job("Lead", "insert", "LastName,Company,cio_id__c\nA,B,fj1\nC,D,fj2\nE,F,fj3\nG,H,fj4\n")
    eq(info["state"], "Failed")
    assert info.get("errorMessage")
    eq(len(e.results(jid, "successfulResults")), 3)
    eq(e.results(jid, "unprocessedrecords"), [["LastName", "Company", "cio_id__c"], ["E", "F", "fj3"], ["G", "H", "fj4"]])
    ids = [r.get("cio_id__c") for r in e.records("Lead")]
    assert "fj2" in ids and "fj3" not in ids, "no rollback of committed rows"


# ----------------------------------------------------------------------------- Bulk query

@test
def bulk_query(e):
    e.admin("POST", "records/Account", [{"Name": "BQ%d" % i, "cio_account_key__c": "bq%d" % i} for i in range(5)])
    st, _, out = e.api("POST", "/jobs/query", {"operation": "query", "query": "SELECT Id FROM Account GROUP BY Id"})
    eq(st, 400)
    st, _, info = e.api("POST", "/jobs/query", {"operation": "query",
                                                "query": "SELECT cio_account_key__c, Name, Owner.Email FROM Account "
                                                         "WHERE cio_account_key__c LIKE 'bq%' ORDER BY Name"})
    eq((st, info["state"], info["jobType"]), (200, "UploadComplete", "V2Query"))
    jid = info["id"]
    st, _, out = e.api("GET", "/jobs/query/%s/results" % jid)
    eq(st, 412, "results before JobComplete")
    for _ in range(5):
        st, _, info = e.api("GET", "/jobs/query/" + jid)
        if info["state"] == "JobComplete":
            break
    eq(info["state"], "JobComplete")
    st, r, out = e.api("GET", "/jobs/query/%s/results?maxRecords=3" % jid)
    lines = out.split("\n")
    eq(lines[0], '"cio_account_key__c","Name","Owner.Email"')
    eq(lines[1], '"bq0","BQ0","integration@mapc.test"')
    eq(r.getheader("Sforce-NumberOfRecords"), "3")
    loc = r.getheader("Sforce-Locator")
    assert loc and loc != "null"
    st, r, out = e.api("GET", "/jobs/query/%s/results?maxRecords=3&locator=%s" % (jid, loc))
    eq((r.getheader("Sforce-NumberOfRecords"), r.getheader("Sforce-Locator")), ("2", "null"))
    st, _, out = e.raw("GET", "/services/data/v65.0/jobs/query/%s/results" % jid, headers={"Authorization": "Bearer " + e.tok})
    eq(st, 409)


# ----------------------------------------------------------------------------- admin

@test
def admin_stats_and_reset(e):
    st, s = e.admin("GET", "stats")
    eq(st, 200)
    assert s["requests"].get("PUT /services/data/vXX.X/jobs/ingest/{id}/batches", 0) > 0, s["requests"]
    assert s["uploads"] > 0 and s["rows_processed"] > 0 and s["api_usage"]["used"] > 0
    assert "JobComplete" in s["ingest_jobs_by_state"] and "Failed" in s["ingest_jobs_by_state"]
    st, out = e.admin("POST", "reset", {})
    eq(st, 200)
    eq(e.records("Lead"), [])
    st, _, d = e.api("GET", "/sobjects/Lead/describe")
    assert "cio_id__c" in [x["name"] for x in d["fields"]], "schema survives a reset"


def second_server_tests(results, sfdx):
    """A server with a short token TTL, a tiny API allowance and a small custom-field cap."""
    e = Emu("--token-ttl", "1", "--api-max", "4", "--max-custom-fields", "2", "--poll-delay", "0")
    try:
        def token_ttl():
            eq(e.api("GET", "/limits")[0], 200)
            time.sleep(1.1)
            st, _, out = e.api("GET", "/limits")
            eq((st, out[0]["errorCode"]), (401, "INVALID_SESSION_ID"))
            e.tok = e.token()["access_token"]

        def api_max():
            codes = [e.api("GET", "/limits")[0] for _ in range(4)]
            eq(codes[-1], 403)
            st, r, out = e.api("GET", "/limits")
            eq((st, out[0]["errorCode"], r.getheader("Sforce-Limit-Info")), (403, "REQUEST_LIMIT_EXCEEDED", "api-usage=4/4"))

        def field_cap():
            d = tempfile.mkdtemp(dir=e.dir)
            write_tree(d, [("Lead", "a%d__c" % i, "Text", "<length>5</length>") for i in range(3)], [])
            st, out = e.admin("POST", "deploy", {"dir": d})
            eq(st, 400)
            assert "exceed the limit of 2" in out[0]["message"], out
        for fn in (token_ttl, api_max, field_cap):
            run_one(fn, None, results)
    finally:
        e.stop()


def run_one(fn, e, results):
    try:
        fn(e) if e is not None else fn()
        results[0] += 1
    except Exception as ex:
        results[1] += 1
        print("FAIL: sfemu %s: %s" % (fn.__name__, ex))
        if os.environ.get("SFEMU_TRACE"):
            traceback.print_exc()


def main():
    results = [0, 0]
    root = tempfile.mkdtemp(prefix="sfemu-tree-")
    try:
        write_tree(root, FIELDS, PERMS, objects=["Thing__c"])
        e = Emu("--page-size", "3", "--poll-delay", "2", "--max-upload-bytes", "100000", sfdx=root)
        try:
            only = sys.argv[1:]
            for fn in TESTS:
                if not only or fn.__name__ in only:
                    run_one(fn, e, results)
        finally:
            e.stop()
        if not sys.argv[1:]:
            second_server_tests(results, root)
    except Exception as ex:
        results[1] += 1
        print("FAIL: sfemu harness: %s" % ex)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print("%d passed, %d failed" % tuple(results))
    return 1 if results[1] else 0


if __name__ == "__main__":
    sys.exit(main())
