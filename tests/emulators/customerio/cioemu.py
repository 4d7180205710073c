#!/usr/bin/env python3
"""cioemu: a strict local emulator of the Customer.io App API (the read side mapc uses).

Python 3 standard library only. It serves a workspace written by genworkspace.py. See README.md
next to this file for the flags, the admin endpoints, the fault switches and the quirks, and
/work/shared/reference/customerio.md for the API it follows.
"""
import argparse
import base64
import collections
import csv
import io
import json
import os
import re
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULT_KEYS = ("http500", "http503", "drop", "rate_limit", "slow")


class ApiError(Exception):
    def __init__(self, status, message, headers=None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def err_body(msg):
    return {"meta": {"errors": [msg]}}


def public(rec):
    """A stored record without the emulator's own keys (those starting with _)."""
    return {k: v for k, v in rec.items() if not k.startswith("_")}


def json_id(uid, numeric_ok=True):
    """Ids the API sends as numbers: an all-digit id without a leading zero becomes an int."""
    if numeric_ok and isinstance(uid, str) and uid.isdigit() and (uid == "0" or uid[0] != "0") and len(uid) < 16:
        return int(uid)
    return uid


def enc_cursor(n):
    return base64.urlsafe_b64encode(("c%d" % n).encode()).decode().rstrip("=")


def dec_cursor(tok):
    if tok in (None, ""):
        return 0
    try:
        s = base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4)).decode()
        if s[0] != "c" or not s[1:].isdigit():
            raise ValueError
        return int(s[1:])
    except (ValueError, IndexError, UnicodeDecodeError):
        raise ApiError(400, "invalid start token: %r" % tok)


def q1(query, key, default=None):
    v = query.get(key)
    return v[-1] if v else default


def int_param(query, key, default, lo=None, hi=None):
    v = q1(query, key)
    if v in (None, ""):
        return default
    try:
        n = int(v)
    except ValueError:
        raise ApiError(400, "%s must be an integer" % key)
    if lo is not None and n < lo:
        raise ApiError(400, "%s must be at least %d" % (key, lo))
    if hi is not None and n > hi:
        raise ApiError(400, "%s must be at most %d" % (key, hi))
    return n


# --------------------------------------------------------------------------- filters

def eval_filter(f, lookup, segs, leaf_key="attribute", top=True):
    """The App API filter language: and/or/not over segment and attribute leaves."""
    if not isinstance(f, dict):
        raise ApiError(400, "filter must be an object")
    if len(f) != 1:
        raise ApiError(400, "a filter takes exactly one key at each level (and, or, not, segment, %s)" % leaf_key)
    (k, v), = f.items()
    if k in ("and", "or"):
        if not isinstance(v, list):
            raise ApiError(400, "%s takes a list" % k)
        res = [eval_filter(x, lookup, segs, leaf_key, False) for x in v]
        return all(res) if k == "and" else any(res)
    if k == "not":
        return not eval_filter(v, lookup, segs, leaf_key, False)
    if k == "segment" and leaf_key == "attribute":
        if not isinstance(v, dict) or "id" not in v:
            raise ApiError(400, "segment filter needs an id")
        return segs is not None and int(v["id"]) in segs
    if k == leaf_key:
        if not isinstance(v, dict) or "field" not in v or "operator" not in v:
            raise ApiError(400, "%s filter needs field and operator" % k)
        op, val = v["operator"], lookup(v["field"])
        if op == "exists":
            return val is not None
        if op == "eq":
            if "value" not in v:
                raise ApiError(400, "eq needs a value")
            return val is not None and str(val) == str(v["value"])
        raise ApiError(400, "unsupported operator %r (the emulator knows eq and exists)" % op)
    raise ApiError(400, "unknown filter key %r" % k)


# --------------------------------------------------------------------------- the workspace

class Workspace:
    def __init__(self, d):
        with open(os.path.join(d, "workspace.json"), encoding="utf-8") as fh:
            self.meta = json.load(fh)

        def nd(name):
            with open(os.path.join(d, name), encoding="utf-8") as fh:
                return [json.loads(line) for line in fh if line.strip()]
        self.people = nd("people.ndjson")
        self.objects = nd("objects.ndjson")
        self.activities = nd("activities.ndjson")
        self.messages = nd("messages.ndjson")
        self.live = [p for p in self.people if not p.get("_deleted")]
        self.by_id, self.by_cio, self.by_email = {}, {}, {}
        for p in self.people:
            if p.get("_deleted"):
                continue
            if p["id"] is not None:
                self.by_id[p["id"]] = p
            self.by_cio[p["identifiers"]["cio_id"]] = p
            self.by_email.setdefault(p["identifiers"]["email"].lower(), []).append(p)
        self.obj_by_id, self.obj_by_cio, self.obj_people = {}, {}, {}
        for o in self.objects:
            t = o["object_type_id"]
            self.obj_by_id[(t, o["identifiers"]["object_id"])] = o
            self.obj_by_cio[(t, o["identifiers"]["cio_object_id"])] = o
        for p in self.live:
            for r in p["_relationships"]:
                key = (str(r["object_type_id"]), r["identifiers"]["cio_object_id"])
                self.obj_people.setdefault(key, []).append(p)
        self.segments = {s["id"]: s for s in self.meta["segments"]}
        self.seg_members = {s["id"]: [p for p in self.live if s["id"] in p["_segments"]] for s in self.meta["segments"]}
        self.filter_cache = {}


class Emu:
    def __init__(self, a, ws):
        self.a, self.ws = a, ws
        self.lock = threading.RLock()
        self.base_url = ""
        self.reset()

    def reset(self):
        with getattr(self, "lock", threading.RLock()):
            self.faults = {}
            self.exports, self.next_export = {}, 110
            self.links = {}
            self.window = collections.deque()        # accepted request times, for the rate limit
            self.arrivals = collections.deque()      # every request time, for max_per_second
            self.stats = {"requests": {}, "status": {}, "total": 0, "rate_limited": 0, "max_per_second": 0,
                          "faults_fired": {}}

    # ---- faults
    def fault(self, kind, subject):
        with self.lock:
            f = self.faults.get(kind)
            if not f or f["count"] <= 0:
                return None
            if f.get("match") and not re.search(f["match"], subject):
                return None
            f["count"] -= 1
            self.stats["faults_fired"][kind] = self.stats["faults_fired"].get(kind, 0) + 1
            return f

    def set_faults(self, body):
        if not isinstance(body, dict):
            raise ApiError(400, "faults must be a JSON object")
        faults, match = {}, body.get("match")
        for k, v in body.items():
            if k in ("match", "slow_ms"):
                continue
            if k not in FAULT_KEYS:
                raise ApiError(400, "unknown fault %r (known: %s)" % (k, ", ".join(FAULT_KEYS)))
            if isinstance(v, dict):
                spec = {"count": int(v.get("count", 1)), "match": v.get("match", match),
                        "ms": v.get("ms", body.get("slow_ms", 0))}
            else:
                spec = {"count": int(v), "match": match, "ms": body.get("slow_ms", 0)}
            if spec["match"]:
                try:
                    re.compile(spec["match"])
                except re.error as e:
                    raise ApiError(400, "bad match regex: %s" % e)
            faults[k] = spec
        with self.lock:
            self.faults = faults
        return {"faults": faults}

    # ---- rate limit and stats
    def count_request(self, label):
        now = time.monotonic()
        with self.lock:
            st = self.stats
            st["total"] += 1
            st["requests"][label] = st["requests"].get(label, 0) + 1
            self.arrivals.append(now)
            while self.arrivals and self.arrivals[0] <= now - 1.0:
                self.arrivals.popleft()
            st["max_per_second"] = max(st["max_per_second"], len(self.arrivals))

    def rate_ok(self):
        now = time.monotonic()
        with self.lock:
            while self.window and self.window[0] <= now - 1.0:
                self.window.popleft()
            if len(self.window) >= self.a.rate:
                wait = self.window[0] + 1.0 - now
                return max(1, int(wait + 0.999))
            self.window.append(now)
            return 0

    def note_status(self, status):
        with self.lock:
            k = str(status)
            self.stats["status"][k] = self.stats["status"].get(k, 0) + 1
            if status == 429:
                self.stats["rate_limited"] += 1

    # ---- helpers
    def memo(self, key, fn):
        """Filtered lists are computed once per distinct filter, so paging a large workspace stays cheap."""
        cache = self.ws.filter_cache
        with self.lock:
            if key in cache:
                return cache[key]
        val = fn()
        with self.lock:
            cache[key] = val
        return val

    def by_person(self, what, items):
        """cio_id -> that person's records, built in one pass the first time it is needed."""
        def build():
            idx = {}
            for r in items:
                c = (r.get("customer_identifiers") or {}).get("cio_id")
                if c:
                    idx.setdefault(c, []).append(r)
            return idx
        return self.memo(("by_person", what), build)

    def limit(self, query, default, hi):
        d = self.a.page_size if self.a.page_size else default
        return int_param(query, "limit", min(d, hi), 1, hi)

    def page(self, items, query, default, hi, empty_tail=False):
        """Cursor paging: (slice, next). The last page has next "" unless empty_tail, where the last
        page with data still carries a next, and that next gives an empty page with a next again."""
        start = dec_cursor(q1(query, "start"))
        lim = self.limit(query, default, hi)
        chunk = items[start:start + lim]
        end = start + len(chunk)
        if end < len(items):
            nxt = enc_cursor(end)
        elif empty_tail:
            nxt = enc_cursor(len(items))
        else:
            nxt = ""
        return chunk, nxt

    def person_ref(self, pid, query, allow_email=True):
        """Resolve {id} in /v1/customers/{id}/... Returns the live person or raises 404."""
        ws = self.ws
        id_type = q1(query, "id_type")
        if id_type not in (None, "id", "email", "cio_id"):
            raise ApiError(400, "id_type must be id, email or cio_id")
        p = None
        if id_type == "cio_id" or (id_type is None and pid.startswith("cio_")):
            if not pid.startswith("cio_"):
                raise ApiError(404, "Customer not found (a cio_id in a path needs the cio_ prefix)")
            p = ws.by_cio.get(pid[4:])
        elif id_type == "email":
            if not allow_email:
                raise ApiError(400, "id_type email is not accepted here")
            found = ws.by_email.get(pid.lower(), [])
            if len(found) > 1:
                raise ApiError(400, "more than one person has the email %s; use id or cio_id" % pid)
            p = found[0] if found else None
        else:
            p = ws.by_id.get(pid)
        if p is None:
            raise ApiError(404, "Customer not found")
        return p

    def customer(self, p):
        return {k: v for k, v in p.items() if not k.startswith("_")}

    def ident_json(self, p, numeric):
        i = dict(p["identifiers"])
        if numeric and i["id"] is not None and json_id(i["id"]) != i["id"] and int(i["id"]) % 3 == 0:
            i["id"] = int(i["id"])
        return i

    def people_page(self, people, query, default, hi):
        chunk, nxt = self.page(people, query, default, hi)
        return {"identifiers": [self.ident_json(p, True) for p in chunk],
                "ids": [json_id(p["id"]) for p in chunk if p["id"] is not None], "next": nxt}

    def person_filter(self, f):
        def run(p):
            a = p["attributes"]
            return eval_filter(f, lambda k: a.get(k), set(p["_segments"]))
        eval_filter(f, lambda k: None, set())        # a bad filter is a 400 even when nobody matches
        return self.memo(("people", json.dumps(f, sort_keys=True)), lambda: [p for p in self.ws.live if run(p)])

    def rel_page(self, rels, query, default):
        """Relationship paging: each page after the first repeats the last entry of the page before."""
        start = dec_cursor(q1(query, "start"))
        lim = self.limit(query, default, 1000)
        chunk = rels[start:start + lim]
        if start > 0 and start <= len(rels):
            chunk = [rels[start - 1]] + chunk
        end = start + lim
        nxt = enc_cursor(end) if end < len(rels) else ""
        return (chunk or None), nxt

    def msg_list(self, query, base=None, per_person=False):
        ws = self.ws
        items = base if base is not None else ws.messages
        typ, metric = q1(query, "type"), q1(query, "metric")
        ids = {k: q1(query, k) for k in ("campaign_id", "newsletter_id", "action_id")}
        start_ts, end_ts = int_param(query, "start_ts", None), int_param(query, "end_ts", None)
        drafts = q1(query, "drafts") == "true"
        key = ("messages", id(items), typ, metric, tuple(sorted(ids.items())), start_ts, end_ts, drafts)
        out = self.memo(key, lambda: self.msg_filter(items, typ, metric, ids, start_ts, end_ts, drafts))
        chunk, nxt = self.page(out, query, 50, 1000)
        res = []
        for m in chunk:
            r = public(m)
            if per_person:
                r["msg_template_id"] = None if r["message_template_id"] is None else str(r["message_template_id"])
                del r["message_template_id"]
            res.append(r)
        return {"messages": res, "next": nxt}

    def msg_filter(self, items, typ, metric, ids, start_ts, end_ts, drafts):
        out = []
        for m in items:
            if typ and m["type"] != typ:
                continue
            if metric and metric not in m["metrics"]:
                continue
            if drafts != ("drafted" in m["metrics"]):
                continue
            if any(v not in (None, "") and str(m.get(k)) != v for k, v in ids.items()):
                continue
            if start_ts is not None and m["created"] < start_ts:
                continue
            if end_ts is not None and m["created"] > end_ts:
                continue
            out.append(m)
        return out

    def act_list(self, query, person=None):
        ws = self.ws
        typ, name = q1(query, "type"), q1(query, "name")
        deleted = q1(query, "deleted") == "true"
        cio = person["identifiers"]["cio_id"] if person else None
        base = ws.activities
        if cio is not None:
            base = self.by_person("activities", ws.activities).get(cio, [])
        lst = self.memo(("activities", typ, name, deleted, cio), lambda: [
            a for a in base
            if (deleted or not a.get("_deleted")) and (not typ or a["type"] == typ)
            and (not name or a.get("name") == name)
            and (cio is None or (a.get("customer_identifiers") or {}).get("cio_id") == cio)])
        chunk, nxt = self.page(lst, query, 10, 100, empty_tail=person is None)
        return {"activities": [public(a) for a in chunk], "next": nxt}

    # ---- exports
    def export_pub(self, e):
        return {k: v for k, v in e.items() if not k.startswith("_")}

    def create_export(self, body):
        if not isinstance(body, dict) or "filters" not in body:
            raise ApiError(400, "filters is required")
        attrs = body.get("attributes") or []
        if not isinstance(attrs, list) or not all(isinstance(x, str) for x in attrs):
            raise ApiError(400, "attributes must be a list of strings")
        people = self.person_filter(body["filters"])
        with self.lock:
            eid = self.next_export
            self.next_export += 1
            now = int(time.time())
            e = {"id": eid, "user_id": 7, "user_email": "api@mapc.test", "total": 0,
                 "deduplicate_id": "%d:%d" % (eid, now), "type": "customers", "failed": False,
                 "description": "customers export", "downloads": 0, "created_at": now, "updated_at": now,
                 "status": "pending", "_polls": 0, "_people": people, "_attrs": attrs}
            self.exports[eid] = e
        return {"export": self.export_pub(e)}

    def get_export(self, eid, poll):
        with self.lock:
            e = self.exports.get(eid)
            if e is None:
                raise ApiError(404, "export not found")
            if poll and e["status"] == "pending":
                e["_polls"] += 1
                if e["_polls"] > self.a.export_polls:
                    e["status"], e["total"], e["updated_at"] = "done", len(e["_people"]), int(time.time())
            return e

    def download_export(self, eid):
        e = self.get_export(eid, False)
        if e["status"] != "done":
            raise ApiError(400, "export %d is not done yet" % eid)
        tok = secrets.token_urlsafe(18)
        with self.lock:
            e["downloads"] += 1
            self.links[tok] = (eid, time.time() + self.a.export_ttl)
        url = "%s/__download/%s/export_%d.csv?X-Amz-Expires=%d" % (self.base_url, tok, eid, int(self.a.export_ttl))
        return {self.a.export_link_key: url}

    def export_csv(self, tok):
        with self.lock:
            ent = self.links.get(tok)
        if ent is None:
            return 404, "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>"
        eid, exp = ent
        if time.time() > exp:
            return 403, "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
        e = self.exports[eid]
        buf = io.StringIO()
        w = csv.writer(buf)
        cols = ["id", "email", "cio_id"] + [c for c in e["_attrs"] if c not in ("id", "email", "cio_id")]
        w.writerow(cols)
        for p in e["_people"]:
            a = p["attributes"]
            w.writerow([("" if p["identifiers"][c] is None else p["identifiers"][c]) if c in ("id", "email", "cio_id")
                        else a.get(c, "") for c in cols])
        return 200, buf.getvalue()

    # ---- the API
    def api(self, method, path, query, body):
        ws, meta = self.ws, self.ws.meta
        for methods, rx, name, _ in ROUTES:
            m = rx.match(path)
            if m and method in methods.split("|"):
                break
        else:
            if any(rx.match(path) for _, rx, _, _ in ROUTES):
                raise ApiError(405, "method not allowed")
            raise ApiError(404, "not found")
        g = m.groupdict()
        if name == "customers_search":
            if not isinstance(body, dict) or "filter" not in body:
                raise ApiError(400, "filter is required")
            return self.people_page(self.person_filter(body["filter"]), query, 50, 1000)
        if name == "customers_by_email":
            email = q1(query, "email")
            if not email:
                raise ApiError(400, "email is required")
            return {"results": [{"email": p["identifiers"]["email"], "id": p["id"], "cio_id": p["identifiers"]["cio_id"]}
                                for p in ws.by_email.get(email.lower(), [])]}
        if name == "customers_attributes":
            if not isinstance(body, dict) or not isinstance(body.get("ids"), list):
                raise ApiError(400, "ids is required")
            ids = body["ids"]
            if len(ids) > 100:
                raise ApiError(400, "at most 100 ids per request")
            id_type = q1(query, "id_type", "id")
            if id_type not in ("id", "cio_id"):
                raise ApiError(400, "id_type must be id or cio_id")
            out = []
            for i in ids:
                if isinstance(i, bool) or not isinstance(i, (str, int)):
                    raise ApiError(400, "ids must be strings or integers")
                p = (ws.by_cio if id_type == "cio_id" else ws.by_id).get(str(i))
                if p is not None:
                    out.append({"customer": self.customer(p)})
            return {"customers": out}
        if name.startswith("customer_"):
            p = self.person_ref(urllib.parse.unquote(g["pid"]), query)
            if name == "customer_attributes":
                return {"customer": self.customer(p)}
            if name == "customer_relationships":
                chunk, nxt = self.rel_page(p["_relationships"], query, 2)
                return {"cio_relationships": chunk, "next": nxt}
            if name == "customer_segments":
                return {"segments": [{"id": s, "name": ws.segments[s]["name"]} for s in p["_segments"]]}
            if name == "customer_messages":
                cio = p["identifiers"]["cio_id"]
                return self.msg_list(query, self.by_person("messages", ws.messages).setdefault(cio, []),
                                     per_person=True)
            if name == "customer_activities":
                return self.act_list(query, p)
        if name == "exports_list":
            with self.lock:
                ex = [self.export_pub(e) for e in self.exports.values()]
            return {"exports": ex or None}
        if name == "exports_customers":
            return self.create_export(body)
        if name == "export":
            return {"export": self.export_pub(self.get_export(int(g["eid"]), True))}
        if name == "export_download":
            return self.download_export(int(g["eid"]))
        if name == "activities":
            cid = q1(query, "customer_id")
            person = self.person_ref(cid, query) if cid else None
            return self.act_list(query, person)
        if name == "messages":
            return self.msg_list(query)
        if name == "message":
            for msg in ws.messages:
                if msg["id"] == urllib.parse.unquote(g["mid"]):
                    return {"message": public(msg)}
            raise ApiError(404, "message not found")
        if name == "object_types":
            return {"types": meta["object_types"]}
        if name == "objects_search":
            if not isinstance(body, dict) or "object_type_id" not in body or "filter" not in body:
                raise ApiError(400, "object_type_id and filter are required")
            t = str(body["object_type_id"])
            if t not in {ot["id"] for ot in meta["object_types"]}:
                raise ApiError(404, "object type %s not found" % t)
            eval_filter(body["filter"], lambda k: None, None, "object_attribute")

            def run():
                objs = []
                for o in ws.objects:
                    if o["object_type_id"] != t:
                        continue
                    look = lambda k, o=o: o["identifiers"].get(k) if k in ("object_id", "cio_object_id") \
                        else o["attributes"].get(k)
                    if eval_filter(body["filter"], look, None, "object_attribute"):
                        objs.append(o)
                return objs
            objs = self.memo(("objects", t, json.dumps(body["filter"], sort_keys=True)), run)
            chunk, nxt = self.page(objs, query, 50, 1000)
            return {"identifiers": [dict(o["identifiers"]) for o in chunk],
                    "ids": [o["identifiers"]["object_id"] for o in chunk], "next": nxt}
        if name in ("object_attributes", "object_relationships"):
            t, oid = g["type"], urllib.parse.unquote(g["oid"])
            id_type = q1(query, "id_type", "object_id")
            if id_type not in ("object_id", "cio_object_id"):
                raise ApiError(400, "id_type must be object_id or cio_object_id")
            o = (ws.obj_by_cio if id_type == "cio_object_id" else ws.obj_by_id).get((t, oid))
            if o is None:
                raise ApiError(404, "object not found")
            if name == "object_attributes":
                return {"object": o}
            people = ws.obj_people.get((t, o["identifiers"]["cio_object_id"]), [])
            rels = [{"identifiers": dict(p["identifiers"]), "object_type_id": t, "object_type_disabled": False}
                    for p in people]
            chunk, nxt = self.rel_page(rels, query, 10)
            return {"cio_relationships": chunk, "next": nxt}
        if name in ("campaigns", "broadcasts", "segments", "transactional_list", "workspaces", "topics"):
            key, src = {"campaigns": ("campaigns", "campaigns"), "broadcasts": ("broadcasts", "broadcasts"),
                        "segments": ("segments", "segments"), "transactional_list": ("messages", "transactional"),
                        "workspaces": ("workspaces", "workspaces"), "topics": ("topics", "subscription_topics")}[name]
            return {key: meta[src]}
        if name in ("campaign", "broadcast", "newsletter", "segment", "transactional"):
            coll = {"campaign": "campaigns", "broadcast": "broadcasts", "newsletter": "newsletters",
                    "segment": "segments", "transactional": "transactional"}[name]
            key = "message" if name == "transactional" else name
            item = next((x for x in meta[coll] if str(x["id"]) == g["id"]), None)
            if item is None:
                raise ApiError(404, "%s not found" % name)
            sub = g.get("sub")
            if not sub:
                return {key: item}
            iid = item["id"]
            if sub == "actions" and name in ("campaign", "broadcast"):
                acts = meta["campaign_actions" if name == "campaign" else "broadcast_actions"][str(iid)]
                start = dec_cursor(q1(query, "start"))
                chunk = acts[start:start + 10]
                return {"actions": chunk, "next": enc_cursor(start + 10) if start + 10 < len(acts) else ""}
            if sub == "triggers" and name == "broadcast":
                return {"triggers": meta["broadcast_triggers"][str(iid)]}
            if sub == "contents" and name in ("newsletter", "transactional"):
                cs = meta["newsletter_contents" if name == "newsletter" else "transactional_contents"][str(iid)]
                return {"contents": cs}
            if sub == "messages" and name != "segment":
                fld = {"campaign": "campaign_id", "broadcast": "broadcast_id", "newsletter": "newsletter_id",
                       "transactional": "_transactional_message_id"}[name]
                return self.msg_list(query, self.memo(("parent_messages", fld, iid), lambda: [
                    x for x in ws.messages if x.get(fld) == iid]))
            if sub == "membership" and name == "segment":
                return self.people_page(ws.seg_members[iid], query, 1000, 30000)
            if sub == "customer_count" and name == "segment":
                return {"count": len(ws.seg_members[iid])}
            raise ApiError(404, "not found")
        if name == "newsletters":
            lst = meta["newsletters"]
            sort = q1(query, "sort", "desc")
            if sort not in ("asc", "desc"):
                raise ApiError(400, "sort must be asc or desc")
            lst = sorted(lst, key=lambda n: n["id"], reverse=(sort == "desc"))
            chunk, nxt = self.page(lst, query, 10, 100)
            return {"newsletters": chunk, "next": nxt}
        if name == "esp":
            cat = g["cat"]
            rows = meta["esp_suppressions"][cat]
            lim = int_param(query, "limit", 100, 1, 1000)
            off = int_param(query, "offset", 0, 0)
            return {"category": "bounces" if cat == "bounces" else "spam", "suppressions": rows[off:off + lim]}
        raise ApiError(404, "not found")

    def admin(self, method, path, body):
        if path == "/__emu/faults" and method == "POST":
            return 200, self.set_faults(body if body is not None else {})
        if path == "/__emu/faults" and method == "GET":
            with self.lock:
                return 200, {"faults": self.faults}
        if path == "/__emu/stats" and method == "GET":
            with self.lock:
                st = json.loads(json.dumps(self.stats))
            st["exports"] = len(self.exports)
            return 200, st
        if path == "/__emu/reset" and method == "POST":
            self.reset()
            return 200, {"reset": True}
        raise ApiError(404, "unknown admin endpoint")


def R(methods, rx, name, label):
    return (methods, re.compile("^" + rx + "$"), name, label)


P = r"(?P<pid>[^/]+)"
ROUTES = [
    R("POST", "/v1/customers", "customers_search", "/v1/customers"),
    R("GET", "/v1/customers", "customers_by_email", "/v1/customers"),
    R("POST", "/v1/customers/attributes", "customers_attributes", "/v1/customers/attributes"),
    R("GET", "/v1/customers/" + P + "/attributes", "customer_attributes", "/v1/customers/{id}/attributes"),
    R("GET", "/v1/customers/" + P + "/relationships", "customer_relationships", "/v1/customers/{id}/relationships"),
    R("GET", "/v1/customers/" + P + "/segments", "customer_segments", "/v1/customers/{id}/segments"),
    R("GET", "/v1/customers/" + P + "/messages", "customer_messages", "/v1/customers/{id}/messages"),
    R("GET", "/v1/customers/" + P + "/activities", "customer_activities", "/v1/customers/{id}/activities"),
    R("GET", "/v1/exports", "exports_list", "/v1/exports"),
    R("POST", "/v1/exports/customers", "exports_customers", "/v1/exports/customers"),
    R("GET", r"/v1/exports/(?P<eid>\d+)", "export", "/v1/exports/{id}"),
    R("GET", r"/v1/exports/(?P<eid>\d+)/download", "export_download", "/v1/exports/{id}/download"),
    R("GET", "/v1/activities", "activities", "/v1/activities"),
    R("GET", "/v1/messages", "messages", "/v1/messages"),
    R("GET", "/v1/messages/(?P<mid>[^/]+)", "message", "/v1/messages/{id}"),
    R("GET", "/v1/object_types", "object_types", "/v1/object_types"),
    R("POST", "/v1/objects", "objects_search", "/v1/objects"),
    R("GET", r"/v1/objects/(?P<type>[^/]+)/(?P<oid>[^/]+)/attributes", "object_attributes",
      "/v1/objects/{type}/{id}/attributes"),
    R("GET", r"/v1/objects/(?P<type>[^/]+)/(?P<oid>[^/]+)/relationships", "object_relationships",
      "/v1/objects/{type}/{id}/relationships"),
    R("GET", "/v1/campaigns", "campaigns", "/v1/campaigns"),
    R("GET", r"/v1/campaigns/(?P<id>\d+)(/(?P<sub>actions|messages))?", "campaign", "/v1/campaigns/{id}"),
    R("GET", "/v1/broadcasts", "broadcasts", "/v1/broadcasts"),
    R("GET", r"/v1/broadcasts/(?P<id>\d+)(/(?P<sub>actions|triggers|messages))?", "broadcast", "/v1/broadcasts/{id}"),
    R("GET", "/v1/newsletters", "newsletters", "/v1/newsletters"),
    R("GET", r"/v1/newsletters/(?P<id>\d+)(/(?P<sub>contents|messages))?", "newsletter", "/v1/newsletters/{id}"),
    R("GET", "/v1/transactional", "transactional_list", "/v1/transactional"),
    R("GET", r"/v1/transactional/(?P<id>\d+)(/(?P<sub>contents|messages))?", "transactional",
      "/v1/transactional/{id}"),
    R("GET", "/v1/segments", "segments", "/v1/segments"),
    R("GET", r"/v1/segments/(?P<id>\d+)(/(?P<sub>membership|customer_count))?", "segment", "/v1/segments/{id}"),
    R("GET", "/v1/workspaces", "workspaces", "/v1/workspaces"),
    R("GET", "/v1/subscription_topics", "topics", "/v1/subscription_topics"),
    R("GET", "/v1/esp/suppression/(?P<cat>bounces|spam_reports)", "esp", "/v1/esp/suppression/{type}"),
]


def route_label(method, path):
    for methods, rx, name, label in ROUTES:
        m = rx.match(path)
        if m and method in methods.split("|"):
            sub = m.groupdict().get("sub")
            return "%s %s%s" % (method, label, "/" + sub if sub else "")
    return "%s %s" % (method, "(unknown)")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass    # dropped connections (the "drop" fault) and client hang-ups are expected


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    emu = None

    def log_message(self, *args):
        pass

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, status, body, ctype="application/json; charset=utf-8", headers=None):
        data = body if isinstance(body, bytes) else (body.encode() if isinstance(body, str)
                                                     else json.dumps(body, ensure_ascii=False).encode())
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):
        self.handle_any()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def handle_any(self):
        emu = self.emu
        url = urllib.parse.urlsplit(self.path)
        path, query = url.path, urllib.parse.parse_qs(url.query, keep_blank_values=True)
        try:
            raw = self.read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        if path.startswith("/__emu/"):
            try:
                data = json.loads(raw) if raw else None
            except ValueError:
                return self.send(400, err_body("bad JSON"))
            try:
                st, out = emu.admin(self.command, path, data)
            except ApiError as e:
                return self.send(e.status, err_body(e.message))
            return self.send(st, out)
        subject = "%s %s" % (self.command, path)
        if path.startswith("/__download/"):
            label = "GET /__download/{token}"
        else:
            label = route_label(self.command, path)
        emu.count_request(label)
        # faults
        if emu.fault("drop", subject):
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return
        slow = emu.fault("slow", subject)
        if slow:
            time.sleep(float(slow.get("ms") or 0) / 1000.0)
        for kind, st, msg in (("http503", 503, "service unavailable"), ("http500", 500, "internal server error")):
            if emu.fault(kind, subject):
                emu.note_status(st)
                return self.send(st, err_body(msg))
        if path.startswith("/__download/"):
            # the signed link: no auth, no App API rate limit
            parts = path.split("/")
            st, text = emu.export_csv(parts[2] if len(parts) > 2 else "")
            emu.note_status(st)
            return self.send(st, text, "text/csv; charset=utf-8" if st == 200 else "application/xml")
        if emu.fault("rate_limit", subject):
            emu.note_status(429)
            return self.send(429, err_body("rate limit"), headers={"Retry-After": "1"})
        wait = emu.rate_ok()
        if wait:
            emu.note_status(429)
            return self.send(429, err_body("rate limit"), headers={"Retry-After": str(wait)})
        try:
            if self.headers.get("Authorization") != "Bearer " + emu.a.api_key:
                raise ApiError(401, "unauthorized: send Authorization: Bearer <App API key>")
            body = None
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise ApiError(400, "request body is not valid JSON")
            if self.command == "POST" and body is None:
                raise ApiError(400, "a JSON body is required")
            out = emu.api(self.command, path, query, body)
        except ApiError as e:
            emu.note_status(e.status)
            return self.send(e.status, err_body(e.message), headers=e.headers)
        except Exception as e:     # an emulator bug: say so plainly
            emu.note_status(500)
            return self.send(500, err_body("cioemu internal error: %r" % e))
        emu.note_status(200)
        return self.send(200, out)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Strict local Customer.io App API emulator (see README.md)")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--workspace", required=True)
    ap.add_argument("--api-key", default="mapc-test-key")
    ap.add_argument("--rate", type=int, default=10)
    ap.add_argument("--page-size", type=int, default=0)
    ap.add_argument("--export-polls", type=int, default=2)
    ap.add_argument("--export-link-key", choices=("url", "link"), default="url")
    ap.add_argument("--export-ttl", type=float, default=900)
    a = ap.parse_args(argv)
    try:
        ws = Workspace(a.workspace)
    except (OSError, ValueError, KeyError) as e:
        print("cioemu: cannot load workspace %s: %s" % (a.workspace, e), file=sys.stderr)
        return 2
    emu = Emu(a, ws)
    h = type("H", (Handler,), {"emu": emu})
    srv = Server(("127.0.0.1", 0), h)
    emu.base_url = "http://127.0.0.1:%d" % srv.server_address[1]
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as fh:
        json.dump({"url": emu.base_url, "pid": os.getpid()}, fh)
    os.replace(tmp, a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
