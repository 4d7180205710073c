#!/usr/bin/env python3
"""Tests for cioemu.py and genworkspace.py. Generates a 100-person workspace, starts emulators on
free ports, and pins the API shapes, paging, quirks, exports, the rate limit, faults and the
generator's ground truth. Prints one line per failure and a closing "N passed, N failed"."""
import csv
import filecmp
import http.client
import io
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
EMU = os.path.join(HERE, "cioemu.py")
sys.path.insert(0, os.path.join(HERE, "..", ".."))
import emuproc  # noqa: E402
GEN = os.path.join(HERE, "genworkspace.py")
KEY = "test-key"


def gen(out, n=100, seed="7"):
    subprocess.run([sys.executable, GEN, "--out", out, "--people", str(n), "--seed", seed], check=True)
    with open(os.path.join(out, "expected.json"), encoding="utf-8") as fh:
        return json.load(fh)


def ndjson(path):
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


class Emu:
    def __init__(self, ws, *args):
        self.dir = tempfile.mkdtemp(prefix="cioemu-test-")
        self.pf = os.path.join(self.dir, "port.json")
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc, self.port = emuproc.start([EMU, "--workspace", ws, "--api-key", KEY] + list(args), self.pf,
                                             self.log)
        self.host = urllib.parse.urlsplit(self.port["url"]).netloc

    def stop(self):
        emuproc.stop(self.proc)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def raw(self, method, path, body=None, headers=None, host=None):
        c = http.client.HTTPConnection(host or self.host, timeout=10)
        h = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        ct = r.getheader("Content-Type") or ""
        return r.status, r, (json.loads(data) if "json" in ct else data.decode())

    def get(self, path, key=KEY):
        st, _, out = self.raw("GET", path, headers={"Authorization": "Bearer " + key})
        return st, out

    def post(self, path, body, key=KEY):
        st, _, out = self.raw("POST", path, body, headers={"Authorization": "Bearer " + key})
        return st, out

    def ok(self, method, path, body=None):
        st, out = self.get(path) if method == "GET" else self.post(path, body)
        assert st == 200, "%s %s: %s %r" % (method, path, st, out)
        return out

    def admin(self, method, path, body=None):
        st, _, out = self.raw(method, "/__emu/" + path, body)
        return st, out

    def walk(self, path, key, limit, method="GET", body=None):
        """Follow next until it is empty or a page is empty; returns (items, pages)."""
        items, pages, start = [], [], None
        for _ in range(10000):
            sep = "&" if "?" in path else "?"
            p = path + sep + "limit=%d" % limit + ("&start=" + urllib.parse.quote(start) if start else "")
            out = self.ok(method, p, body)
            pages.append(out)
            got = out[key] or []
            items += got
            if not out["next"] or not got:
                return items, pages
            start = out["next"]
        raise AssertionError("paging did not end")


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def eq(a, b, what=""):
    assert a == b, "%s: expected %r, got %r" % (what, b, a)


ALL = {"filter": {"and": [{"attribute": {"field": "cio_id", "operator": "exists"}}]}}


# ----------------------------------------------------------------------------- auth and errors

@test
def auth_required(t):
    e = t.e
    st, out = e.get("/v1/campaigns", key="wrong")
    eq(st, 401)
    assert isinstance(out["meta"]["errors"], list) and out["meta"]["errors"][0]
    st, _, out = e.raw("GET", "/v1/campaigns")
    eq(st, 401, "no header")
    st, _, out = e.raw("GET", "/v1/campaigns", headers={"Authorization": KEY})
    eq(st, 401, "no Bearer")
    eq(e.get("/v1/nope")[0], 404)
    eq(e.post("/v1/customers", {"filter": {"and": [], "or": []}})[0], 400, "two top-level keys")


# ----------------------------------------------------------------------------- people

@test
def customers_search_paging(t):
    e, x = t.e, t.x
    items, pages = e.walk("/v1/customers", "identifiers", 7, "POST", ALL)
    eq(len(items), x["counts"]["people_live"], "live people")
    eq(pages[-1]["next"], "", "last next")
    cios = [i["cio_id"] for i in items]
    eq(len(set(cios)), len(cios), "unique")
    for c in cios:
        assert not x["persons"][c]["deleted"], "deleted person listed"
    ids = [i for p in pages for i in p["ids"]]
    assert any(isinstance(i, int) for i in ids) and any(isinstance(i, str) for i in ids), "ids mix numbers and strings"
    assert any(isinstance(i["id"], int) for i in items), "some identifiers.id are numbers"
    eq(len(ids), sum(1 for i in items if i["id"] is not None), "email-only people have no ids entry")
    eq(e.post("/v1/customers?limit=1001", ALL)[0], 400, "limit over 1000")
    eq(e.post("/v1/customers?start=%%%%", ALL)[0], 400, "bad cursor")
    seg = e.ok("POST", "/v1/customers?limit=1000", {"filter": {"segment": {"id": 3}}})
    eq(len(seg["identifiers"]), sum(1 for p in x["persons"].values() if 3 in p["segments"] and not p["deleted"]))
    one = e.ok("POST", "/v1/customers", {"filter": {"and": [{"attribute": {"field": "lifecycle_stage",
                                                                              "operator": "eq", "value": "LEAD"}}]}})
    assert one["identifiers"] and all(x["persons"][i["cio_id"]]["lifecycle_stage"] == "LEAD"
                                      for i in one["identifiers"])


@test
def customers_bulk_attributes(t):
    e, x = t.e, t.x
    live = [c for c, p in x["persons"].items() if not p["deleted"] and p["id"] and p["id"].isdigit()]
    dele = x["deleted"][0]["id"]
    ids = [x["persons"][live[0]]["id"], int(x["persons"][live[1]]["id"]), "no-such-id", dele]
    out = e.ok("POST", "/v1/customers/attributes", {"ids": ids})
    eq(len(out["customers"]), 2, "missing and deleted ids left out")
    c = out["customers"][0]
    eq(list(c), ["customer"], "wrapped")
    c = c["customer"]
    for k in ("id", "identifiers", "attributes", "timestamps", "unsubscribed", "devices"):
        assert k in c, k
    assert all(isinstance(v, str) for v in c["attributes"].values()), "attribute values are strings"
    eq(e.post("/v1/customers/attributes", {"ids": [str(i) for i in range(101)]})[0], 400, "over 100 ids")
    email_only = x["hard_cases"]["email_only"][0]
    out = e.ok("POST", "/v1/customers/attributes?id_type=cio_id", {"ids": [email_only]})
    eq(out["customers"][0]["customer"]["id"], None, "email-only person")


@test
def customer_attributes_lookup(t):
    e, x = t.e, t.x
    hc = x["hard_cases"]
    c = hc["long_title"][0]
    p = x["persons"][c]
    out = e.ok("GET", "/v1/customers/%s/attributes" % urllib.parse.quote(p["id"]))["customer"]
    eq(out["identifiers"]["cio_id"], c)
    eq(len(out["attributes"]["title"]), 300, "long title")
    eq(e.ok("GET", "/v1/customers/cio_%s/attributes?id_type=cio_id" % c)["customer"]["id"], p["id"])
    eq(e.ok("GET", "/v1/customers/cio_%s/attributes" % c)["customer"]["id"], p["id"])
    eq(e.get("/v1/customers/%s/attributes?id_type=cio_id" % c)[0], 404, "cio_id without the prefix")
    eq(e.ok("GET", "/v1/customers/%s/attributes?id_type=email" % urllib.parse.quote(p["email"]))
       ["customer"]["identifiers"]["cio_id"], c)
    shared = x["persons"][hc["shared_email"][0]]["email"]
    eq(e.get("/v1/customers/%s/attributes?id_type=email" % urllib.parse.quote(shared))[0], 400, "shared email")
    eq(len(e.ok("GET", "/v1/customers?email=" + urllib.parse.quote(shared))["results"]), 2, "results by email")
    for d in x["deleted"] + x["suppressed"]:
        eq(e.get("/v1/customers/cio_%s/attributes" % d["cio_id"])[0], 404, "deleted person")
    eo = hc["email_only"][0]
    out = e.ok("GET", "/v1/customers/cio_%s/attributes" % eo)["customer"]
    eq((out["id"], out["identifiers"]["id"]), (None, None), "email-only")
    assert "id" not in out["attributes"]
    sj = e.ok("GET", "/v1/customers/cio_%s/attributes" % hc["stringified_json"][0])["customer"]["attributes"]
    s = sj.get("cio_subscription_preferences") or sj.get("preferences")
    assert isinstance(s, str) and isinstance(json.loads(s), dict), "stringified JSON"
    dev = e.ok("GET", "/v1/customers/cio_%s/attributes" % hc["device_ios"][0])["customer"]["devices"]
    assert any(d["platform"] == "ios" and d["id"] for d in dev)
    nul = e.ok("GET", "/v1/customers/cio_%s/attributes" % hc["no_devices_null"][0])["customer"]
    eq(nul["devices"], None, "devices null")
    st = e.ok("GET", "/v1/customers/cio_%s/attributes" % hc["stage_whitespace"][0])["customer"]
    assert st["attributes"]["lifecycle_stage"].strip() != st["attributes"]["lifecycle_stage"]


@test
def customer_relationships_repeat(t):
    e, x = t.e, t.x
    c = x["hard_cases"]["companies_2"][0]
    items, pages = e.walk("/v1/customers/cio_%s/relationships" % c, "cio_relationships", 1)
    assert len(pages) >= 2
    keys = [(r["object_type_id"], r["identifiers"]["cio_object_id"]) for r in items]
    assert len(keys) > len(set(keys)), "pages repeat entries"
    assert all(isinstance(r["object_type_id"], int) for r in items), "object_type_id is an int here"
    comps = [k[1] for k in dict.fromkeys(keys) if k[0] == 1]
    eq(comps, x["persons"][c]["companies"], "companies after dedup")
    zero = [cc for cc in x["hard_cases"]["companies_0"] if not x["persons"][cc]["deleted"]]
    out = None
    for cc in zero:
        out = e.ok("GET", "/v1/customers/cio_%s/relationships" % cc)
        if out["cio_relationships"] is None:
            break
    eq(out["cio_relationships"], None, "empty relationship page is null")
    eq(out["next"], "")


@test
def customer_segments(t):
    e, x = t.e, t.x
    c = next(c for c, p in x["persons"].items() if p["segments"] and not p["deleted"])
    out = e.ok("GET", "/v1/customers/cio_%s/segments" % c)
    eq([s["id"] for s in out["segments"]], x["persons"][c]["segments"])
    assert all(set(s) == {"id", "name"} for s in out["segments"])


# ----------------------------------------------------------------------------- exports

@test
def export_flow(t):
    e, x = t.e, t.x
    eq(e.ok("GET", "/v1/exports"), {"exports": None}, "no exports yet")
    ex = e.ok("POST", "/v1/exports/customers", {"filters": ALL["filter"], "attributes": ["lifecycle_stage", "plan"]})
    ex = ex["export"]
    eq((ex["status"], ex["total"], ex["type"]), ("pending", 0, "customers"))
    for k in ("id", "user_id", "user_email", "deduplicate_id", "failed", "description", "downloads", "created_at",
              "updated_at"):
        assert k in ex, k
    eq(e.get("/v1/exports/%d/download" % ex["id"])[0], 400, "download before done")
    for i in range(2):
        eq(e.ok("GET", "/v1/exports/%d" % ex["id"])["export"]["status"], "pending", "poll %d" % i)
    done = e.ok("GET", "/v1/exports/%d" % ex["id"])["export"]
    eq((done["status"], done["total"]), ("done", x["counts"]["people_live"]))
    dl = e.ok("GET", "/v1/exports/%d/download" % ex["id"])
    eq(list(dl), ["url"])
    u = urllib.parse.urlsplit(dl["url"])
    st, r, text = e.raw("GET", u.path + "?" + u.query, host=u.netloc)
    eq(st, 200, "CSV link")
    rows = list(csv.reader(io.StringIO(text)))
    eq(rows[0], ["id", "email", "cio_id", "lifecycle_stage", "plan"])
    eq(len(rows) - 1, x["counts"]["people_live"])
    for row in rows[1:]:
        p = x["persons"][row[2]]
        eq((row[0], row[1], row[3]), (p["id"] or "", p["email"], p["lifecycle_stage"] or ""))
    lst = e.ok("GET", "/v1/exports")["exports"]
    eq(len(lst), 1)
    eq(e.get("/v1/exports/9999")[0], 404)
    eq(e.post("/v1/exports/customers", {"attributes": []})[0], 400, "filters required")


@test
def second_server(t):
    """--export-link-key link, --export-ttl, --export-polls 0, --rate 5, --page-size."""
    e = Emu(t.ws, "--export-link-key", "link", "--export-ttl", "0.6", "--export-polls", "0", "--rate", "5",
            "--page-size", "4")
    try:
        ex = e.ok("POST", "/v1/exports/customers", {"filters": {"segment": {"id": 1}}})["export"]
        eq(e.ok("GET", "/v1/exports/%d" % ex["id"])["export"]["status"], "done", "no pending polls")
        dl = e.ok("GET", "/v1/exports/%d/download" % ex["id"])
        eq(list(dl), ["link"])
        u = urllib.parse.urlsplit(dl["link"])
        eq(e.raw("GET", u.path, host=u.netloc)[0], 200)
        time.sleep(1.1)
        st, _, body = e.raw("GET", u.path, host=u.netloc)
        eq(st, 403, "expired link")
        assert "expired" in body
        # --page-size is the default limit
        eq(len(e.ok("GET", "/v1/newsletters")["newsletters"]), 4)
        # rate: 5 per rolling second
        sts = []
        for _ in range(8):
            st, r, out = e.raw("GET", "/v1/workspaces", headers={"Authorization": "Bearer " + KEY})
            sts.append(st)
            if st == 429:
                ra = r.getheader("Retry-After")
                assert ra and ra.isdigit() and int(ra) >= 1, ra
                eq(out, {"meta": {"errors": ["rate limit"]}})
        assert 429 in sts, sts
        st = e.admin("GET", "stats")[1]
        assert st["rate_limited"] >= 1 and st["max_per_second"] >= 6, st
        eq(e.admin("GET", "stats")[0], 200, "admin is not rate limited")
        time.sleep(1.05)
        eq(e.get("/v1/workspaces")[0], 200, "after a second")
    finally:
        e.stop()


# ----------------------------------------------------------------------------- activities and messages

@test
def activities_paging_and_empty_tail(t):
    e, x = t.e, t.x
    items, pages = e.walk("/v1/activities", "activities", 50)
    eq(len(items), x["counts"]["activities_default"])
    eq(pages[-1]["activities"], [], "ends on an empty page")
    assert pages[-1]["next"], "the empty page still carries a next"
    assert pages[-2]["next"] and pages[-2]["activities"], "last data page has a next"
    eq(e.get("/v1/activities?limit=101")[0], 400)
    ts = [a["timestamp"] for a in items]
    eq(ts, sorted(ts, reverse=True), "newest first")
    for a in items:
        assert set(a) >= {"id", "type", "timestamp", "customer_id", "data"}, a
    d_items, _ = e.walk("/v1/activities?deleted=true", "activities", 100)
    eq(len(d_items), x["counts"]["activities_total"])
    dels = {a["customer_identifiers"]["cio_id"]: a["timestamp"] for a in d_items
            if a["type"] == "profile_delete" and a.get("customer_identifiers")}
    eq(dels, {d["cio_id"]: d["deleted_at"] for d in x["deleted"]}, "profile_delete per deleted person")
    anon = [a for a in d_items if a["type"] == "profile_delete" and "customer_identifiers" not in a]
    eq(len(anon), len(x["suppressed"]), "suppressed people's activity is anonymous")
    ev, _ = e.walk("/v1/activities?type=event", "activities", 100)
    eq(len(ev), x["counts"]["activities_by_type"]["event"])
    nm = e.ok("GET", "/v1/activities?type=event&name=purchase&limit=100")["activities"]
    assert nm and all(a["name"] == "purchase" for a in nm)
    c = next(a["customer_identifiers"]["cio_id"] for a in items if a.get("customer_identifiers"))
    mine = e.ok("GET", "/v1/activities?customer_id=cio_%s&id_type=cio_id&limit=100" % c)["activities"]
    assert mine and all(a["customer_identifiers"]["cio_id"] == c for a in mine)


@test
def messages_paging_and_shape(t):
    e, x = t.e, t.x
    items, pages = e.walk("/v1/messages", "messages", 40)
    eq(len(items), x["counts"]["messages_total"] - x["counts"]["messages_drafts"])
    eq(pages[-1]["next"], "")
    eq(e.get("/v1/messages?limit=1001")[0], 400)
    drafts = e.ok("GET", "/v1/messages?drafts=true&limit=1000")["messages"]
    eq(len(drafts), x["counts"]["messages_drafts"])
    keys = {"id", "deduplicate_id", "created", "message_template_id", "customer_id", "customer_identifiers",
            "recipient", "subject", "metrics", "failure_message", "campaign_id", "action_id", "parent_action_id",
            "newsletter_id", "content_id", "broadcast_id", "trigger_event_id", "type", "forgotten"}
    for m in items:
        eq(set(m), keys, "message keys")
        assert all(isinstance(v, int) for v in m["metrics"].values())
    assert any(m["forgotten"] for m in items)
    assert any(m["customer_identifiers"] is None for m in items), "anonymized deliveries"
    seen = {k for m in items + drafts for k in m["metrics"]}
    assert {"sent", "delivered", "opened", "clicked", "bounced", "undeliverable", "drafted"} <= seen, seen
    b = e.ok("GET", "/v1/messages?metric=bounced&limit=1000")["messages"]
    assert b and all("bounced" in m["metrics"] and m["failure_message"] for m in b)
    c = e.ok("GET", "/v1/campaigns/1/messages?limit=1000")["messages"]
    assert all(m["campaign_id"] == 1 for m in c)
    tr = e.ok("GET", "/v1/transactional/60/messages?limit=1000")["messages"]
    assert all(m["forgotten"] for m in tr), "hide_message_body means forgotten"
    one = items[0]
    eq(e.ok("GET", "/v1/messages/" + urllib.parse.quote(one["id"], safe=""))["message"]["id"], one["id"])
    cio = next(m["customer_identifiers"]["cio_id"] for m in items if m["customer_identifiers"])
    pm = e.ok("GET", "/v1/customers/cio_%s/messages" % cio)["messages"]
    assert pm and "msg_template_id" in pm[0] and "message_template_id" not in pm[0]


# ----------------------------------------------------------------------------- objects

@test
def objects(t):
    e, x = t.e, t.x
    types = e.ok("GET", "/v1/object_types")["types"]
    eq([ty["id"] for ty in types], ["1", "2"])
    eq(types[0]["name"], "Companies")
    flt = {"object_type_id": "1", "filter": {"and": [{"object_attribute": {
        "field": "object_id", "operator": "exists", "type_id": "1"}}]}}
    items, pages = e.walk("/v1/objects", "identifiers", 5, "POST", flt)
    eq({i["cio_object_id"] for i in items}, set(x["companies"]), "every company")
    eq(pages[-1]["next"], "")
    ids = [i for p in pages for i in p["ids"]]
    eq(ids, [i["object_id"] for i in items])
    one = items[0]
    o = e.ok("GET", "/v1/objects/1/%s/attributes" % one["object_id"])["object"]
    eq((o["object_type_id"], o["identifiers"]), ("1", one))
    assert all(isinstance(v, str) for v in o["attributes"].values())
    o2 = e.ok("GET", "/v1/objects/1/%s/attributes?id_type=cio_object_id" % one["cio_object_id"])["object"]
    eq(o2, o)
    eq(e.get("/v1/objects/1/nope/attributes")[0], 404)
    eq(e.post("/v1/objects", {"object_type_id": "1"})[0], 400, "filter required")
    # object relationships: pages repeat entries
    best = max(x["companies"], key=lambda c: sum(c in p["companies"] for p in x["persons"].values()
                                                 if not p["deleted"]))
    oid = x["companies"][best]["object_id"]
    rels, pages = e.walk("/v1/objects/1/%s/relationships" % oid, "cio_relationships", 2)
    people = [r["identifiers"]["cio_id"] for r in rels]
    want = {c for c, p in x["persons"].items() if best in p["companies"] and not p["deleted"]}
    eq(set(people), want)
    if len(want) > 2:
        assert len(people) > len(set(people)), "repeats across pages"
    eq(rels[0]["object_type_id"], "1")
    proj = e.ok("POST", "/v1/objects", {"object_type_id": 2, "filter": {"object_attribute": {
        "field": "status", "operator": "exists", "type_id": "2"}}})
    assert proj["identifiers"]


# ----------------------------------------------------------------------------- metadata lists

@test
def campaigns_and_actions(t):
    e, x = t.e, t.x
    cs = e.ok("GET", "/v1/campaigns")
    eq(set(cs), {"campaigns"}, "no paging")
    cs = cs["campaigns"]
    eq(len(cs), x["counts"]["campaigns"])
    assert {c["type"] for c in cs} >= {"segment", "event", "date", "relationship", "object", "webhook"}
    assert any(c["tags"] is None for c in cs), "tags null"
    acts, pages = [], []
    start = ""
    while True:
        out = e.ok("GET", "/v1/campaigns/1/actions" + ("?start=" + start if start else ""))
        pages.append(out)
        acts += out["actions"]
        if not out["next"]:
            break
        start = out["next"]
    eq([len(p["actions"]) for p in pages], [10, 2], "10 per page")
    eq([a["id"] for a in acts], [a["id"] for a in cs[0]["actions"]])
    eq(e.ok("GET", "/v1/campaigns/2")["campaign"]["event_name"], "purchase")
    eq(e.get("/v1/campaigns/999")[0], 404)


@test
def broadcasts_newsletters_transactional(t):
    e, x = t.e, t.x
    bs = e.ok("GET", "/v1/broadcasts")["broadcasts"]
    eq(len(bs), 2)
    eq(bs[0]["type"], "triggered_broadcast")
    eq(len(e.ok("GET", "/v1/broadcasts/20/actions")["actions"]), 1)
    tr = e.ok("GET", "/v1/broadcasts/20/triggers")["triggers"]
    assert tr and set(tr[0]) == {"id", "broadcast_id", "created_at", "processed_at"}
    ns, pages = e.walk("/v1/newsletters", "newsletters", 5)
    eq(len(ns), x["counts"]["newsletters"])
    eq(pages[-1]["next"], "")
    eq(e.get("/v1/newsletters?limit=101")[0], 400)
    asc = e.ok("GET", "/v1/newsletters?sort=asc&limit=100")["newsletters"]
    eq([n["id"] for n in asc], sorted(n["id"] for n in ns))
    c = e.ok("GET", "/v1/newsletters/%d/contents" % ns[0]["id"])["contents"]
    eq([v["id"] for v in c], ns[0]["content_ids"])
    assert all(v["newsletter_id"] == ns[0]["id"] for v in c)
    tl = e.ok("GET", "/v1/transactional")
    eq(set(tl), {"messages"}, "the key is messages")
    assert any(m["hide_message_body"] for m in tl["messages"]) and not all(m["hide_message_body"]
                                                                          for m in tl["messages"])
    tc = e.ok("GET", "/v1/transactional/61/contents")["contents"]
    eq({v["type"] for v in tc}, {"email", "push"})


@test
def segments_and_membership(t):
    e, x = t.e, t.x
    segs = e.ok("GET", "/v1/segments")["segments"]
    eq({s["type"] for s in segs}, {"dynamic", "manual"})
    assert any(s["tags"] is None for s in segs)
    dyn = next(s for s in segs if s["type"] == "dynamic")
    assert isinstance(dyn["conditions"], dict)
    man = next(s for s in segs if s["type"] == "manual")
    items, pages = e.walk("/v1/segments/%d/membership" % man["id"], "identifiers", 3)
    want = {c for c, p in x["persons"].items() if man["id"] in p["segments"] and not p["deleted"]}
    eq({i["cio_id"] for i in items}, want)
    eq(pages[-1]["next"], "")
    eq(e.ok("GET", "/v1/segments/%d/customer_count" % man["id"])["count"], len(want))
    eq(e.get("/v1/segments/%d/membership?limit=30001" % man["id"])[0], 400)


@test
def other_lists(t):
    e, x = t.e, t.x
    ws = e.ok("GET", "/v1/workspaces")["workspaces"]
    eq(set(ws[0]), {"id", "name", "messages_sent", "billable_messages_sent", "people", "object_types", "objects"})
    eq(ws[0]["people"], x["counts"]["people_total"], "billing counts deleted people")
    tp = e.ok("GET", "/v1/subscription_topics")["topics"]
    eq(tp[0]["identifier"], "topic_%d" % tp[0]["id"])
    b = e.ok("GET", "/v1/esp/suppression/bounces?limit=5")
    eq((b["category"], len(b["suppressions"])), ("bounces", 5))
    rows, off = [], 0
    while True:
        page = e.ok("GET", "/v1/esp/suppression/bounces?limit=5&offset=%d" % off)["suppressions"]
        rows += page
        if len(page) < 5:
            break
        off += 5
    eq(len(rows), x["counts"]["esp_bounces"])
    eq(set(rows[0]), {"created", "email", "reason", "status"})
    eq(e.ok("GET", "/v1/esp/suppression/spam_reports")["category"], "spam")
    eq(e.get("/v1/esp/suppression/other")[0], 404)
    eq(e.get("/v1/esp/suppression/bounces?limit=1001")[0], 400)


# ----------------------------------------------------------------------------- faults and admin

@test
def faults(t):
    e = t.e
    eq(e.admin("POST", "faults", {"http500": 1, "match": "^GET /v1/workspaces$"})[0], 200)
    eq(e.get("/v1/campaigns")[0], 200, "match limits the fault")
    st, out = e.get("/v1/workspaces")
    eq(st, 500)
    assert out["meta"]["errors"]
    eq(e.get("/v1/workspaces")[0], 200, "count used up")
    e.admin("POST", "faults", {"http503": 2})
    eq([e.get("/v1/workspaces")[0] for _ in range(3)], [503, 503, 200])
    e.admin("POST", "faults", {"rate_limit": 1})
    st, r, out = e.raw("GET", "/v1/workspaces", headers={"Authorization": "Bearer " + KEY})
    eq((st, r.getheader("Retry-After"), out), (429, "1", {"meta": {"errors": ["rate limit"]}}))
    e.admin("POST", "faults", {"drop": 1})
    try:
        e.get("/v1/workspaces")
        raise AssertionError("drop should close the connection")
    except (http.client.HTTPException, ConnectionError, OSError):
        pass
    e.admin("POST", "faults", {"slow": 1, "slow_ms": 300})
    t0 = time.time()
    eq(e.get("/v1/workspaces")[0], 200)
    assert time.time() - t0 >= 0.28, "slow"
    e.admin("POST", "faults", {"http503": {"count": 1, "match": "segments"}})
    eq(e.get("/v1/workspaces")[0], 200)
    eq(e.get("/v1/segments")[0], 503, "per-switch match")
    st, out = e.admin("POST", "faults", {"bogus": 1})
    eq(st, 400, "unknown switch")
    e.admin("POST", "faults", {"http500": 5})
    eq(e.admin("GET", "faults")[1]["faults"]["http500"]["count"], 5)
    e.admin("POST", "faults", {})
    eq(e.get("/v1/workspaces")[0], 200, "cleared")


@test
def stats_and_reset(t):
    e = t.e
    st = e.admin("GET", "stats")[1]
    assert st["requests"].get("GET /v1/customers/{id}/attributes", 0) >= 3, st["requests"]
    assert st["requests"].get("POST /v1/customers", 0) >= 1
    assert st["rate_limited"] >= 1 and st["max_per_second"] >= 1 and st["total"] > 20
    e.admin("POST", "faults", {"http500": 3})
    eq(e.admin("POST", "reset")[0], 200)
    st = e.admin("GET", "stats")[1]
    eq((st["total"], st["rate_limited"], st["exports"]), (0, 0, 0))
    eq(e.get("/v1/workspaces")[0], 200, "faults cleared by reset")
    eq(e.ok("GET", "/v1/exports"), {"exports": None})


# ----------------------------------------------------------------------------- the generator

@test
def generator_deterministic(t):
    a, b, c = (os.path.join(t.tmp, n) for n in ("ga", "gb", "gc"))
    gen(a, 60, "42")
    gen(b, 60, "42")
    gen(c, 60, "43")
    names = sorted(os.listdir(a))
    eq(names, ["activities.ndjson", "expected.json", "messages.ndjson", "objects.ndjson", "people.ndjson",
               "workspace.json"])
    match, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    eq((mismatch, errors), ([], []), "same seed, same bytes")
    assert not filecmp.cmp(os.path.join(a, "people.ndjson"), os.path.join(c, "people.ndjson"), shallow=False)


@test
def generator_hard_cases(t):
    x = t.x
    missing = [k for k, v in x["hard_cases"].items() if not v]
    eq(missing, [], "hard cases at N=100")
    ps = x["persons"]
    stages = {p["lifecycle_stage"] for p in ps.values()}
    assert {" Customer ", "LEAD", None, ""} <= stages, stages
    assert any(p["free_mail"] for p in ps.values()) and any(not p["free_mail"] for p in ps.values())
    assert any(len(p["email"]) > 80 for p in ps.values())
    assert {len(p["companies"]) for p in ps.values()} >= {0, 1, 2}
    assert x["deleted"] and x["suppressed"]


@test
def generator_truth_consistent(t):
    x, d = t.x, t.ws
    people = ndjson(os.path.join(d, "people.ndjson"))
    objs = ndjson(os.path.join(d, "objects.ndjson"))
    acts = ndjson(os.path.join(d, "activities.ndjson"))
    msgs = ndjson(os.path.join(d, "messages.ndjson"))
    eq(len(people), x["people"])
    eq(set(x["persons"]), {p["identifiers"]["cio_id"] for p in people})
    for p in people:
        tr = x["persons"][p["identifiers"]["cio_id"]]
        eq(tr["companies"], [r["identifiers"]["cio_object_id"] for r in p["_relationships"]
                             if r["object_type_id"] == 1])
        eq(tr["lifecycle_stage"], p["attributes"].get("lifecycle_stage"))
        eq(tr["deleted"], bool(p.get("_deleted")))
        eq(tr["email_domain"], p["identifiers"]["email"].lower().rsplit("@", 1)[1])
        eq(tr["free_mail"], tr["email_domain"] in x["free_mail_domains"])
        assert all(isinstance(v, str) for v in p["attributes"].values()), "attribute values are strings"
        for c in tr["companies"]:
            assert c in x["companies"]
    for c in x["companies"].values():
        assert c["domain"] not in x["free_mail_domains"], "no company on a free-mail domain"
    eq(len([o for o in objs if o["object_type_id"] == "1"]), x["counts"]["companies"])
    eq(len(acts), x["counts"]["activities_total"])
    eq(len(msgs), x["counts"]["messages_total"])
    eq(x["counts"]["people_live"] + x["counts"]["people_deleted"] + x["counts"]["people_suppressed"], len(people))
    dd = {(p["identifiers"]["cio_id"], p["_deleted_at"]) for p in people if p.get("_deleted") and
          not p.get("_suppressed")}
    eq({(r["cio_id"], r["deleted_at"]) for r in x["deleted"]}, dd)
    for r in x["deleted"]:
        assert any(a.get("customer_identifiers", {}).get("cio_id") == r["cio_id"] for a in acts
                   if a["type"] != "profile_delete"), "deleted people's activity keeps the cio_id"
    eq(sum(1 for a in acts if a["type"] == "event" and not a.get("_deleted")), x["counts"]["events_live"])


def main():
    results = [0, 0]
    tmp = tempfile.mkdtemp(prefix="cioemu-t-")

    class T:
        pass
    t = T()
    t.tmp = tmp
    e = None
    try:
        t.ws = os.path.join(tmp, "ws")
        t.x = gen(t.ws, 100, "7")
        e = t.e = Emu(t.ws, "--rate", "100000")
        only = sys.argv[1:]
        for fn in TESTS:
            if only and fn.__name__ not in only:
                continue
            try:
                fn(t)
                results[0] += 1
            except Exception as ex:
                results[1] += 1
                print("FAIL: cioemu %s: %s" % (fn.__name__, ex))
                if os.environ.get("CIOEMU_TRACE"):
                    traceback.print_exc()
    except Exception as ex:
        results[1] += 1
        print("FAIL: cioemu harness: %s" % ex)
    finally:
        if e:
            e.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % tuple(results))
    return 1 if results[1] else 0


if __name__ == "__main__":
    sys.exit(main())
