#!/usr/bin/env python3
"""sfemu: a strict local emulator of the Salesforce APIs that mapc's loader uses.

Python 3 standard library only. See README.md next to this file for the flags,
the admin endpoints and the fault switches, and /work/shared/reference/salesforce.md
(section 7) for the checklist this follows.
"""
import argparse
import base64
import copy
import datetime as dt
import glob
import hashlib
import hmac
import json
import os
import random
import re
import secrets
import sys
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DESCRIBE = os.path.normpath(os.path.join(HERE, "..", "..", "..", "stdlib", "salesforce"))
API_VERSION = "66.0"
MIN_VERSION, MAX_VERSION = 31, 67
MD_NS = "{http://soap.sforce.com/2006/04/metadata}"
AUDIT_FIELDS = ("CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById")
BATCH_ROWS = 10000
ID_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


# --------------------------------------------------------------------------- ids, time

def id_suffix(id15):
    out = ""
    for i in range(3):
        bits = 0
        for j, c in enumerate(id15[i * 5:i * 5 + 5]):
            if "A" <= c <= "Z":
                bits |= 1 << j
        out += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[bits]
    return out


def make_id(prefix, n):
    body = ""
    for _ in range(9):
        body = ID_CHARS[n % 62] + body
        n //= 62
    id15 = prefix + "5g0" + body
    return id15 + id_suffix(id15)


ORG_ID = make_id("00D", 4242)
FOLDER_ID = make_id("00l", 77)
EXTRA_PREFIXES = {"00D": "Organization", "00l": "Folder", "00G": "Group"}
ID_RE = re.compile(r"^[0-9A-Za-z]{15}([0-9A-Za-z]{3})?$")


def norm_id(v):
    """15- or 18-char Id -> 18-char, or None when malformed."""
    if not isinstance(v, str) or not ID_RE.match(v):
        return None
    if len(v) == 15:
        return v + id_suffix(v)
    if id_suffix(v[:15]).lower() != v[15:].lower():
        return None
    return v[:15] + id_suffix(v[:15])


def now_utc():
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=(dt.datetime.now().microsecond // 1000) * 1000)


def fmt_dt(d, bulk=False):
    """Stored datetimes are aware UTC datetimes."""
    s = d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03d" % (d.microsecond // 1000)
    return s + ("Z" if bulk else "+0000")


DATETIME_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$")
DATETIME_JSON_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})$")
DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
NUM_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


def parse_datetime(s, rx=DATETIME_RE):
    m = rx.match(s)
    if not m:
        return None
    y, mo, d, h, mi, se = (int(m.group(i)) for i in range(1, 7))
    ms = int((m.group(7) or ".0")[1:].ljust(3, "0"))
    tz = m.group(8)
    try:
        if tz == "Z":
            off = dt.timedelta(0)
        else:
            t = tz[1:].replace(":", "")
            off = dt.timedelta(hours=int(t[:2]), minutes=int(t[2:]))
            if tz[0] == "-":
                off = -off
            if int(t[:2]) > 14 or int(t[2:]) > 59:
                return None
        v = dt.datetime(y, mo, d, h, mi, se, ms * 1000, tzinfo=dt.timezone(off))
    except ValueError:
        return None
    return v.astimezone(dt.timezone.utc)


def parse_date(s):
    m = DATE_RE.match(s)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


class RowError(Exception):
    def __init__(self, code, message, fields=()):
        super().__init__(message)
        self.code, self.message, self.fields = code, message, list(fields)

    def sf(self):
        return "%s:%s:%s" % (self.code, self.message, (",".join(self.fields) + " --") if self.fields else "--")

    def js(self):
        return {"statusCode": self.code, "message": self.message, "fields": self.fields}


class ApiError(Exception):
    def __init__(self, status, code, message, fields=None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields, self.headers = status, code, message, fields, headers or {}

    def body(self):
        e = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            e["fields"] = self.fields
        return [e]


class DeployError(Exception):
    pass


# --------------------------------------------------------------------------- schema and metadata

STD_FIELD_DEFAULTS = {"length": 0, "nillable": True, "createable": True, "updateable": True, "defaultedOnCreate": False,
                      "externalId": False, "unique": False, "idLookup": False, "custom": False, "calculated": False,
                      "precision": 0, "scale": 0, "digits": 0, "picklistValues": [], "restrictedPicklist": False,
                      "referenceTo": [], "relationshipName": None, "polymorphicForeignKey": False,
                      "caseSensitive": False}
MD_TYPES = {"Text": "string", "TextArea": "textarea", "LongTextArea": "textarea", "Html": "textarea",
            "Number": "double", "Currency": "currency", "Percent": "percent", "Checkbox": "boolean",
            "Date": "date", "DateTime": "datetime", "Email": "email", "Phone": "phone", "Url": "url",
            "Picklist": "picklist", "MultiselectPicklist": "multipicklist", "Lookup": "reference"}
FIXED_LEN = {"TextArea": 255, "Email": 80, "Phone": 40, "Url": 255, "Picklist": 255, "MultiselectPicklist": 4099,
             "Lookup": 18}
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def check_api_name(name, suffix, what, maxlen=40):
    if not isinstance(name, str) or not name.endswith(suffix):
        raise DeployError("%s: invalid API name '%s': a custom name must end in %s" % (what, name, suffix))
    base = name[:-len(suffix)] if suffix else name
    if not base or not NAME_RE.match(base):
        raise DeployError("%s: invalid API name '%s': use letters, digits and underscores, starting with a letter"
                          % (what, name))
    if "__" in base or base.endswith("_"):
        raise DeployError("%s: invalid API name '%s': no double underscores and no trailing underscore" % (what, name))
    if len(base) > maxlen:
        raise DeployError("%s: invalid API name '%s': at most %d characters before %s" % (what, name, maxlen, suffix))


def md_bool(v, what, key):
    if isinstance(v, bool):
        return v
    if v in ("true", "false"):
        return v == "true"
    raise DeployError("%s: %s must be true or false, not %r" % (what, key, v))


def md_int(v, what, key):
    if isinstance(v, bool):
        raise DeployError("%s: %s must be a whole number" % (what, key))
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str) and re.match(r"^\d+$", v):
        return int(v)
    raise DeployError("%s: %s must be a whole number, not %r" % (what, key, v))


def xml_children(el):
    """Simple metadata XML -> dict (repeated tags become lists)."""
    out = {}
    for c in el:
        tag = c.tag.replace(MD_NS, "")
        val = xml_children(c) if len(c) else (c.text or "").strip()
        if tag in out:
            if not isinstance(out[tag], list):
                out[tag] = [out[tag]]
            out[tag].append(val)
        else:
            out[tag] = val
    return out


def as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def build_custom_field(obj, md, objects):
    """Validate CustomField metadata (dict) for object obj; return a describe field dict."""
    full = md.get("fullName")
    what = "%s.%s" % (obj, full)
    check_api_name(full, "__c", "CustomField " + what)
    known = {"fullName", "label", "type", "length", "precision", "scale", "visibleLines", "externalId", "unique",
             "required", "defaultValue", "referenceTo", "relationshipName", "relationshipLabel", "valueSet",
             "description", "inlineHelpText", "caseSensitive", "deleteConstraint", "trackHistory",
             "trackTrending", "trackFeedHistory", "fieldManageability", "businessStatus", "securityClassification"}
    for k in md:
        if k not in known:
            raise DeployError("CustomField %s: unknown element <%s>" % (what, k))
    mtype = md.get("type")
    if mtype not in MD_TYPES:
        raise DeployError("CustomField %s: unsupported or missing type %r (one of %s)"
                          % (what, mtype, ", ".join(sorted(MD_TYPES))))
    label = md.get("label")
    if not isinstance(label, str) or not label.strip():
        raise DeployError("CustomField %s: label is required" % what)
    if len(label) > 40:
        raise DeployError("CustomField %s: label is longer than 40 characters" % what)
    has = lambda k: md.get(k) not in (None, "")
    f = dict(STD_FIELD_DEFAULTS)
    f.update(name=full, label=label, type=MD_TYPES[mtype], custom=True, picklistValues=[], referenceTo=[])
    # length
    if mtype == "Text":
        if not has("length"):
            raise DeployError("CustomField %s: Text needs a length (1-255)" % what)
        n = md_int(md["length"], what, "length")
        if not 1 <= n <= 255:
            raise DeployError("CustomField %s: Text length must be 1-255, not %d" % (what, n))
        f["length"] = n
    elif mtype in ("LongTextArea", "Html"):
        if not has("length"):
            raise DeployError("CustomField %s: %s needs a length (256-131072)" % (what, mtype))
        n = md_int(md["length"], what, "length")
        if not 256 <= n <= 131072:
            raise DeployError("CustomField %s: %s length must be 256-131072, not %d" % (what, mtype, n))
        f["length"] = n
    elif has("length"):
        raise DeployError("CustomField %s: type %s does not take a length" % (what, mtype))
    else:
        f["length"] = FIXED_LEN.get(mtype, 0)
    # visibleLines
    if mtype in ("LongTextArea", "Html"):
        if not has("visibleLines"):
            raise DeployError("CustomField %s: %s needs visibleLines (2-50)" % (what, mtype))
        v = md_int(md["visibleLines"], what, "visibleLines")
        if not 2 <= v <= 50:
            raise DeployError("CustomField %s: visibleLines must be 2-50" % what)
    elif has("visibleLines") and mtype != "MultiselectPicklist":
        raise DeployError("CustomField %s: type %s does not take visibleLines" % (what, mtype))
    # precision / scale
    if mtype in ("Number", "Currency", "Percent"):
        if not has("precision"):
            raise DeployError("CustomField %s: %s needs a precision (1-18)" % (what, mtype))
        p = md_int(md["precision"], what, "precision")
        s = md_int(md.get("scale", 0) if has("scale") else 0, what, "scale")
        if not 1 <= p <= 18:
            raise DeployError("CustomField %s: precision must be 1-18, not %d" % (what, p))
        if s > p:
            raise DeployError("CustomField %s: scale %d is larger than precision %d" % (what, s, p))
        f["precision"], f["scale"] = p, s
    elif has("precision") or has("scale"):
        raise DeployError("CustomField %s: type %s does not take precision/scale" % (what, mtype))
    ext = md_bool(md.get("externalId", False), what, "externalId") if has("externalId") else False
    uniq = md_bool(md.get("unique", False), what, "unique") if has("unique") else False
    if (ext or uniq) and mtype not in ("Text", "Number", "Email"):
        raise DeployError("CustomField %s: externalId/unique are only allowed on Text, Number and Email" % what)
    req = md_bool(md["required"], what, "required") if has("required") else False
    f["externalId"], f["idLookup"], f["unique"] = ext, ext, uniq
    f["caseSensitive"] = md_bool(md["caseSensitive"], what, "caseSensitive") if has("caseSensitive") else False
    f["nillable"] = not req
    if mtype == "Checkbox":
        if not has("defaultValue"):
            raise DeployError("CustomField %s: Checkbox needs a defaultValue (true or false)" % what)
        f["_default"] = md_bool(md["defaultValue"], what, "defaultValue")
        if req:
            raise DeployError("CustomField %s: a Checkbox cannot be required" % what)
        f["nillable"], f["defaultedOnCreate"] = False, True
    elif has("defaultValue"):
        dv = md["defaultValue"]
        if isinstance(dv, str) and len(dv) >= 2 and dv[0] == dv[-1] and dv[0] in "'\"":
            f["_default"] = dv[1:-1]
            f["defaultedOnCreate"] = True
    if mtype in ("Picklist", "MultiselectPicklist"):
        vs = md.get("valueSet")
        if not isinstance(vs, dict):
            raise DeployError("CustomField %s: %s needs a valueSet" % (what, mtype))
        vsd = vs.get("valueSetDefinition")
        vals = as_list(vsd.get("value")) if isinstance(vsd, dict) else []
        if not vals:
            raise DeployError("CustomField %s: valueSet has no values" % what)
        seen, defaults = set(), 0
        for v in vals:
            name = v.get("fullName") if isinstance(v, dict) else None
            if not isinstance(name, str) or not name:
                raise DeployError("CustomField %s: a picklist value has no fullName" % what)
            if name.lower() in seen:
                raise DeployError("CustomField %s: duplicate picklist value %r" % (what, name))
            seen.add(name.lower())
            d = md_bool(v.get("default", False), what, "default") if v.get("default") not in (None, "") else False
            defaults += d
            f["picklistValues"].append({"active": True, "defaultValue": d, "label": v.get("label") or name,
                                        "validFor": None, "value": name})
            if d:
                f["_default"] = name
                f["defaultedOnCreate"] = True
        if defaults > 1 and mtype == "Picklist":
            raise DeployError("CustomField %s: more than one default picklist value" % what)
        f["restrictedPicklist"] = md_bool(vs["restricted"], what, "restricted") if vs.get("restricted") not in (None, "") else False
    elif has("valueSet"):
        raise DeployError("CustomField %s: type %s does not take a valueSet" % (what, mtype))
    if mtype == "Lookup":
        ref, rel = md.get("referenceTo"), md.get("relationshipName")
        if not isinstance(ref, str) or ref not in objects:
            raise DeployError("CustomField %s: Lookup referenceTo %r is not a known object" % (what, ref))
        if not isinstance(rel, str) or not NAME_RE.match(rel) or "__" in rel:
            raise DeployError("CustomField %s: Lookup needs a valid relationshipName" % what)
        f["referenceTo"], f["relationshipName"] = [ref], rel + "__r"
    elif has("referenceTo") or has("relationshipName"):
        raise DeployError("CustomField %s: only Lookup takes referenceTo/relationshipName" % what)
    return f


def custom_object(name, md, prefix):
    check_api_name(name, "__c", "CustomObject " + name)
    label = md.get("label")
    if not isinstance(label, str) or not label.strip():
        raise DeployError("CustomObject %s: label is required" % name)
    nf = md.get("nameField")
    if not isinstance(nf, dict) or nf.get("type") not in ("Text", "AutoNumber") or not nf.get("label"):
        raise DeployError("CustomObject %s: nameField with a label and type Text or AutoNumber is required" % name)
    auto = nf.get("type") == "AutoNumber"

    def fld(n, t, **kw):
        f = dict(STD_FIELD_DEFAULTS)
        f.update(name=n, label=n, type=t)
        f.update(kw)
        return f
    ro = dict(createable=False, updateable=False, nillable=False, defaultedOnCreate=True)
    fields = [fld("Id", "id", length=18, idLookup=True, **ro),
              fld("OwnerId", "reference", length=18, nillable=False, defaultedOnCreate=True, referenceTo=["User"],
                  relationshipName="Owner"),
              fld("IsDeleted", "boolean", **ro),
              fld("Name", "string", length=80, label=nf["label"], nillable=auto, createable=not auto,
                  updateable=not auto, defaultedOnCreate=auto, idLookup=True),
              fld("CreatedDate", "datetime", **ro),
              fld("CreatedById", "reference", length=18, referenceTo=["User"], relationshipName="CreatedBy", **ro),
              fld("LastModifiedDate", "datetime", **ro),
              fld("LastModifiedById", "reference", length=18, referenceTo=["User"], relationshipName="LastModifiedBy",
                  **ro),
              fld("SystemModstamp", "datetime", **ro)]
    meta = {"name": name, "label": label, "labelPlural": md.get("pluralLabel") or label, "keyPrefix": prefix,
            "custom": True, "createable": True, "updateable": True, "deletable": True, "queryable": True}
    return {"meta": meta, "fields": {f["name"]: f for f in fields}, "_auto": auto}


class Schema:
    def __init__(self, describe_dir, audit, max_custom):
        self.objects = {}
        self.perms = {}          # "Obj.Field" -> [readable, editable]
        self.audit = audit
        self.max_custom = max_custom
        files = sorted(glob.glob(os.path.join(describe_dir, "*.json")))
        if not files:
            raise DeployError("no describe files in %s" % describe_dir)
        for path in files:
            with open(path, encoding="utf-8") as fh:
                d = json.load(fh)
            fields = {}
            for f in d["fields"]:
                g = dict(STD_FIELD_DEFAULTS)
                g.update(f)
                if audit and g["name"] in AUDIT_FIELDS:
                    g["createable"] = True
                fields[g["name"]] = g
            meta = {k: v for k, v in d.items() if k not in ("fields", "customFieldsAllowed")}
            self.objects[d["name"]] = {"meta": meta, "fields": fields,
                                       "custom_fields": d.get("customFieldsAllowed", True)}
        self.reindex()

    def reindex(self):
        self.by_lower = {k.lower(): k for k in self.objects}
        self.prefixes = {o["meta"]["keyPrefix"]: k for k, o in self.objects.items()}
        for o in self.objects.values():
            o["lower"] = {n.lower(): n for n in o["fields"]}
            o["rels"] = {f["relationshipName"].lower(): f for f in o["fields"].values()
                         if f["type"] == "reference" and f["relationshipName"]}

    def obj(self, name):
        n = self.by_lower.get(name.lower()) if isinstance(name, str) else None
        return n

    def visible(self, obj, f):
        if not f.get("custom"):
            return True
        p = self.perms.get("%s.%s" % (obj, f["name"]))
        return bool(p and p[0])

    def field(self, obj, name, any_fls=False):
        o = self.objects[obj]
        n = o["lower"].get(name.lower())
        if n is None:
            return None
        f = o["fields"][n]
        if not any_fls and not self.visible(obj, f):
            return None
        return f

    def can(self, obj, f, op):
        """op: create|update"""
        if not (f["createable"] if op == "create" else f["updateable"]):
            return False
        if f.get("custom"):
            p = self.perms.get("%s.%s" % (obj, f["name"]))
            return bool(p and p[1])
        return True

    def describe(self, obj, base):
        o = self.objects[obj]
        out = dict(o["meta"])
        fl = []
        for f in o["fields"].values():
            if not self.visible(obj, f):
                continue
            g = {k: v for k, v in f.items() if not k.startswith("_")}
            g["createable"] = self.can(obj, f, "create")
            g["updateable"] = self.can(obj, f, "update")
            g["byteLength"] = g.get("length", 0) * 3
            fl.append(g)
        out["fields"] = fl
        out.setdefault("childRelationships", [])
        out.setdefault("recordTypeInfos", [])
        out["urls"] = {"sobject": "%s/sobjects/%s" % (base, obj), "describe": "%s/sobjects/%s/describe" % (base, obj),
                       "rowTemplate": "%s/sobjects/%s/{ID}" % (base, obj)}
        return out

    # ---- deploy
    def deploy_tree(self, root):
        """Parse an SFDX tree (or a directory that holds objects/ and permissionsets/) and apply it atomically."""
        base = root
        for cand in (os.path.join(root, "force-app", "main", "default"), os.path.join(root, "main", "default")):
            if os.path.isdir(cand):
                base = cand
                break
        if not os.path.isdir(base):
            raise DeployError("%s: not a directory" % root)
        objs_dir, perm_dir = os.path.join(base, "objects"), os.path.join(base, "permissionsets")
        if not os.path.isdir(objs_dir) and not os.path.isdir(perm_dir):
            raise DeployError("%s: no objects/ or permissionsets/ directory (expected force-app/main/default/...)" % root)
        new_objs, fields, perms = [], [], []
        for od in sorted(glob.glob(os.path.join(objs_dir, "*"))):
            if not os.path.isdir(od):
                continue
            oname = os.path.basename(od)
            ofile = os.path.join(od, oname + ".object-meta.xml")
            if os.path.exists(ofile):
                md = self._read_xml(ofile, "CustomObject")
                if oname.endswith("__c"):
                    new_objs.append((oname, md))
            elif oname.endswith("__c"):
                raise DeployError("%s: custom object folder without %s.object-meta.xml" % (od, oname))
            for ff in sorted(glob.glob(os.path.join(od, "fields", "*"))):
                if not ff.endswith(".field-meta.xml"):
                    raise DeployError("%s: not a .field-meta.xml file" % ff)
                md = self._read_xml(ff, "CustomField")
                fname = os.path.basename(ff)[:-len(".field-meta.xml")]
                if md.get("fullName", fname) != fname:
                    raise DeployError("%s: fullName %r does not match the file name" % (ff, md.get("fullName")))
                md.setdefault("fullName", fname)
                fields.append((oname, md))
        for pf in sorted(glob.glob(os.path.join(perm_dir, "*"))):
            if not pf.endswith(".permissionset-meta.xml"):
                raise DeployError("%s: not a .permissionset-meta.xml file" % pf)
            md = self._read_xml(pf, "PermissionSet")
            for fp in as_list(md.get("fieldPermissions")):
                if not isinstance(fp, dict) or not fp.get("field"):
                    raise DeployError("%s: fieldPermissions without a field" % pf)
                perms.append((fp["field"], md_bool(fp.get("readable", "false"), pf, "readable"),
                              md_bool(fp.get("editable", "false"), pf, "editable"), pf))
        return self.apply(new_objs, fields, perms)

    @staticmethod
    def _read_xml(path, root_tag):
        try:
            root = ET.parse(path).getroot()
        except (ET.ParseError, OSError) as e:
            raise DeployError("%s: cannot parse XML: %s" % (path, e))
        if root.tag != MD_NS + root_tag:
            raise DeployError("%s: root element must be <%s xmlns=\"%s\">, not %s"
                              % (path, root_tag, MD_NS[1:-1], root.tag))
        return xml_children(root)

    def apply(self, new_objs, fields, perms):
        """All or nothing. Returns a summary dict."""
        objects = copy.deepcopy(self.objects)
        pset = copy.deepcopy(self.perms)
        used = set(o["meta"]["keyPrefix"] for o in objects.values())
        for name, md in new_objs:
            if name in objects:
                continue
            n = 0
            while "a%02d" % n in used:
                n += 1
            used.add("a%02d" % n)
            objects[name] = custom_object(name, md, "a%02d" % n)
        added = []
        for oname, md in fields:
            real = {k.lower(): k for k in objects}.get(oname.lower())
            if real is None:
                raise DeployError("CustomField %s.%s: object %s does not exist" % (oname, md.get("fullName"), oname))
            if not objects[real].get("custom_fields", True):
                raise DeployError("CustomField %s.%s: %s does not support custom fields" % (real, md.get("fullName"), real))
            f = build_custom_field(real, md, objects)
            o = objects[real]
            old = {k.lower(): k for k in o["fields"]}.get(f["name"].lower())
            if old and not o["fields"][old].get("custom"):
                raise DeployError("CustomField %s.%s: clashes with a standard field" % (real, f["name"]))
            if old and old != f["name"]:
                del o["fields"][old]
            o["fields"][f["name"]] = f
            added.append("%s.%s" % (real, f["name"]))
        for real, o in objects.items():
            n = sum(1 for f in o["fields"].values() if f.get("custom"))
            if n > self.max_custom:
                raise DeployError("%s: %d custom fields exceed the limit of %d per object" % (real, n, self.max_custom))
        for field, rd, ed, src in perms:
            if "." not in field:
                raise DeployError("%s: fieldPermissions field %r must be Object.Field" % (src, field))
            on, fn = field.split(".", 1)
            o = objects.get(on)
            if o is None or fn not in o["fields"]:
                raise DeployError("%s: fieldPermissions: no field named %s" % (src, field))
            if ed and not rd:
                raise DeployError("%s: fieldPermissions %s: editable requires readable" % (src, field))
            pset[field] = [rd, ed]
        self.objects, self.perms = objects, pset
        self.reindex()
        return {"success": True, "fields": added, "objects": [n for n, _ in new_objs], "permissions": len(perms)}


# --------------------------------------------------------------------------- records

TEXT_TYPES = ("string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "combobox", "base64",
              "encryptedstring")
NUM_TYPES = ("double", "currency", "percent", "int")


def label_of(f):
    return f.get("label") or f["name"]


def coerce(f, raw, source):
    """raw: CSV text (source 'csv') or a JSON value (source 'json'). Returns the stored value (not None)."""
    t, name = f["type"], f["name"]
    bad = RowError("INVALID_TYPE_ON_FIELD_IN_RECORD", "%s: value not of required type: %s" % (label_of(f), raw), [name])
    if t in TEXT_TYPES or t in ("reference", "id"):
        if source == "json" and not isinstance(raw, str):
            if isinstance(raw, bool) or t in ("reference", "id", "email", "picklist", "multipicklist"):
                raise bad
            raw = str(raw)
        v = raw
        if t == "email":
            if len(v) > f["length"]:
                raise RowError("STRING_TOO_LONG", "%s: data value too large: %s (max length=%d)" % (label_of(f), v, f["length"]), [name])
            if not EMAIL_RE.match(v):
                raise RowError("INVALID_EMAIL_ADDRESS", "%s: invalid email address: %s" % (label_of(f), v), [name])
        elif t not in ("reference", "id") and f["length"] and len(v) > f["length"]:
            raise RowError("STRING_TOO_LONG", "%s: data value too large: %s (max length=%d)" % (label_of(f), v[:200], f["length"]), [name])
        if t in ("picklist", "multipicklist") and f.get("restrictedPicklist"):
            allowed = {p["value"] for p in f["picklistValues"] if p.get("active", True)}
            for part in (v.split(";") if t == "multipicklist" else [v]):
                if part not in allowed:
                    raise RowError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                                   "%s: bad value for restricted picklist field: %s" % (label_of(f), part), [name])
        return v
    if t == "boolean":
        if source == "json":
            if isinstance(raw, bool):
                return raw
            raise bad
        if raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise bad
    if t in NUM_TYPES:
        if source == "json":
            if isinstance(raw, bool) or not isinstance(raw, (int, float)):
                if isinstance(raw, str) and NUM_RE.match(raw):
                    raw = float(raw)
                else:
                    raise bad
            x = float(raw)
        else:
            if not NUM_RE.match(raw):
                raise bad
            x = float(raw)
        if t == "int":
            if not x.is_integer():
                raise bad
            if abs(x) >= 10 ** max(f.get("digits") or 9, 1):
                raise RowError("NUMBER_OUTSIDE_VALID_RANGE", "%s: value outside of valid range on numeric field: %s"
                               % (label_of(f), raw), [name])
            return int(x)
        p, s = f.get("precision") or 18, f.get("scale") or 0
        if abs(round(x, s)) >= 10 ** (p - s):
            raise RowError("NUMBER_OUTSIDE_VALID_RANGE", "%s: value outside of valid range on numeric field: %s"
                           % (label_of(f), raw), [name])
        return round(x, s) if f.get("custom") else x
    if t == "date":
        if not isinstance(raw, str) or parse_date(raw) is None:
            raise RowError("INVALID_TYPE_ON_FIELD_IN_RECORD", "%s: value not of required type: %s (expected yyyy-MM-dd)"
                           % (label_of(f), raw), [name])
        return raw
    if t == "datetime":
        v = parse_datetime(raw, DATETIME_RE if source == "csv" else DATETIME_JSON_RE) if isinstance(raw, str) else None
        if v is None:
            raise RowError("INVALID_TYPE_ON_FIELD_IN_RECORD", "%s: value not of required type: %s "
                           "(expected yyyy-MM-ddTHH:mm:ss.SSS+/-HH:mm or Z)" % (label_of(f), raw), [name])
        return v
    raise RowError("INVALID_FIELD_FOR_INSERT_UPDATE", "Unable to create/update fields: %s" % name, [name])


def uniq_key(f, v):
    if isinstance(v, str) and not f.get("caseSensitive") and f["type"] != "id":
        return v.lower()
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    return v


class Store:
    def __init__(self, schema, run_as):
        self.schema = schema
        self.n = random.randint(10 ** 6, 10 ** 7)
        self.reset()

    def reset(self):
        self.recs = {o: {} for o in self.schema.objects}
        self.deleted = set()
        self.idx = {}
        self.pairs = {}
        self.extra_ids = {ORG_ID: "Organization", FOLDER_ID: "Folder"}

    def ensure(self, obj):
        self.recs.setdefault(obj, {})

    def new_id(self, obj):
        self.n += 1
        return make_id(self.schema.objects[obj]["meta"]["keyPrefix"], self.n)

    def indexed(self, obj):
        o = self.schema.objects[obj]
        return [f for f in o["fields"].values() if (f["unique"] or f["externalId"] or f["idLookup"]) and f["name"] != "Id"]

    def rebuild_index(self, obj):
        self.ensure(obj)
        ix = {f["name"]: {} for f in self.indexed(obj)}
        self.idx[obj] = ix
        for rid, r in self.recs[obj].items():
            self._index(obj, rid, None, r)

    def _ix(self, obj):
        if obj not in self.idx or set(self.idx[obj]) != {f["name"] for f in self.indexed(obj)}:
            self.rebuild_index(obj)
        return self.idx[obj]

    def _index(self, obj, rid, old, new):
        ix = self.idx.get(obj)
        if ix is None:
            return
        fields = self.schema.objects[obj]["fields"]
        for fn, m in ix.items():
            f = fields[fn]
            ov = old.get(fn) if old else None
            nv = new.get(fn) if new else None
            if ov is not None and (nv is None or uniq_key(f, ov) != uniq_key(f, nv)):
                s = m.get(uniq_key(f, ov))
                if s:
                    s.discard(rid)
                    if not s:
                        del m[uniq_key(f, ov)]
            if nv is not None:
                m.setdefault(uniq_key(f, nv), set()).add(rid)
        for key in self._pair_keys(obj, old):
            self.pairs.pop(key, None)
        for key in self._pair_keys(obj, new):
            self.pairs[key] = rid

    @staticmethod
    def _pair_keys(obj, r):
        if not r:
            return []
        if obj == "CampaignMember":
            return [(obj, r.get("CampaignId"), r[k]) for k in ("LeadId", "ContactId") if r.get(k)]
        if obj == "AccountContactRelation":
            return [(obj, r.get("AccountId"), r.get("ContactId"))]
        if obj == "EmailTemplate" and r.get("DeveloperName"):
            return [(obj, r["DeveloperName"].lower())]
        return []

    def find(self, obj, f, value):
        """Ids of obj whose field f equals value (indexed fields, or Id)."""
        if f["name"] == "Id":
            i = norm_id(value)
            return [i] if i and i in self.recs.get(obj, {}) else []
        ix = self._ix(obj)
        if f["name"] in ix:
            return sorted(ix[f["name"]].get(uniq_key(f, value), ()))
        return [rid for rid, r in self.recs.get(obj, {}).items() if r.get(f["name"]) is not None
                and uniq_key(f, r[f["name"]]) == uniq_key(f, value)]

    def obj_of_id(self, rid):
        if rid in self.extra_ids:
            return self.extra_ids[rid]
        return self.schema.prefixes.get(rid[:3]) or EXTRA_PREFIXES.get(rid[:3])

    def get(self, rid):
        o = self.schema.prefixes.get(rid[:3]) if rid else None
        if o is None:
            return None, None
        return o, self.recs.get(o, {}).get(rid)

    # ---- the one write path (REST, Collections, Bulk)
    def write(self, obj, op, values, ctx, rid=None, undo=None, admin=False):
        """values: {field name: stored value or None}. op: insert|update. Returns the Id."""
        schema = self.schema
        fields = schema.objects[obj]["fields"]
        self._ix(obj)
        now = now_utc()
        if op == "insert":
            rec = {"Id": None}
            for f in fields.values():
                if f["defaultedOnCreate"] and f["type"] == "picklist" and not f.get("custom"):
                    d = [p["value"] for p in f["picklistValues"] if p.get("defaultValue")]
                    if d:
                        rec[f["name"]] = d[0]
                elif f["type"] == "boolean":
                    rec[f["name"]] = f.get("_default", False)
                elif "_default" in f:
                    rec[f["name"]] = f["_default"]
            for k in ("OwnerId", "CreatedById", "LastModifiedById"):
                if k in fields:
                    rec[k] = ctx["user"]
            for k in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
                if k in fields:
                    rec[k] = now
            old = None
        else:
            old = self.recs[obj].get(rid)
            if old is None:
                if rid in self.deleted:
                    raise RowError("ENTITY_IS_DELETED", "entity is deleted")
                raise RowError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
            rec = dict(old)
            for k in ("LastModifiedDate", "SystemModstamp"):
                if k in fields:
                    rec[k] = now
            if "LastModifiedById" in fields:
                rec["LastModifiedById"] = ctx["user"]
        if not admin:
            bad = [n for n in values if not schema.can(obj, fields[n], "create" if op == "insert" else "update")
                   or (op == "update" and n in AUDIT_FIELDS)]
            if bad:
                raise RowError("INVALID_FIELD_FOR_INSERT_UPDATE",
                               "Unable to create/update fields: %s. Please check the security settings of this field "
                               "and verify that it is read/write for your profile or permission set." % ", ".join(bad), bad)
        for n, v in values.items():
            rec[n] = v
        # references
        for n, v in values.items():
            f = fields[n]
            if v is None or f["type"] != "reference":
                continue
            i = norm_id(v)
            if i is None:
                raise RowError("MALFORMED_ID", "%s: id value of incorrect type: %s" % (label_of(f), v), [n])
            tobj = self.obj_of_id(i)
            if tobj not in f["referenceTo"]:
                raise RowError("FIELD_INTEGRITY_EXCEPTION" if tobj else "MALFORMED_ID",
                               "%s: id value of incorrect type: %s" % (label_of(f), v), [n])
            if i not in self.extra_ids and i not in self.recs.get(tobj, {}):
                if True:
                    raise RowError("ENTITY_IS_DELETED" if i in self.deleted else "INVALID_CROSS_REFERENCE_KEY",
                                   "entity is deleted" if i in self.deleted else
                                   "%s: invalid cross reference id" % label_of(f), [n])
            rec[n] = i
        # required / non-nillable
        missing = [f["name"] for f in fields.values()
                   if not f["nillable"] and f["type"] not in ("id", "boolean") and rec.get(f["name"]) is None
                   and (f["createable"] or f["updateable"]) and (f["custom"] or not f["defaultedOnCreate"])]
        if missing:
            raise RowError("REQUIRED_FIELD_MISSING", "Required fields are missing: [%s]" % ", ".join(missing), missing)
        for f in fields.values():
            if f["type"] == "boolean" and rec.get(f["name"]) is None and f["name"] in values:
                rec[f["name"]] = False
        self._object_rules(obj, op, rec, old, values)
        # unique / external id
        for f in self.indexed(obj):
            if not f["unique"]:
                continue
            v = rec.get(f["name"])
            if v is None:
                continue
            other = [i for i in self.idx[obj][f["name"]].get(uniq_key(f, v), ()) if i != rid]
            if other:
                raise RowError("DUPLICATE_VALUE", "duplicate value found: %s duplicates value on record with id: %s"
                               % (f["name"], other[0]), [f["name"]])
        for key in self._pair_keys(obj, rec):
            other = self.pairs.get(key)
            if other and other != rid:
                if obj == "CampaignMember":
                    raise RowError("DUPLICATE_VALUE", "Already a campaign member.")
                if obj == "EmailTemplate":
                    raise RowError("DUPLICATE_DEVELOPER_NAME", "This Template Unique Name already exists or has been "
                                   "previously used.  Please choose a different name.", ["DeveloperName"])
                raise RowError("DUPLICATE_VALUE", "duplicate value found: <unknown> duplicates value on record with "
                               "id: %s" % other)
        # commit
        if op == "insert":
            rid = self.new_id(obj)
            rec["Id"] = rid
        if "Name" in fields and not fields["Name"]["createable"] and ("LastName" in fields or "FirstName" in fields):
            rec["Name"] = " ".join(x for x in (rec.get("FirstName"), rec.get("LastName")) if x) or None
        if undo is not None:
            undo.append((obj, rid, old))
        self.recs[obj][rid] = rec
        self._index(obj, rid, old, rec)
        if obj == "Contact" and rec.get("AccountId") and (old is None or old.get("AccountId") != rec["AccountId"]):
            key = ("AccountContactRelation", rec["AccountId"], rid)
            if key not in self.pairs:
                self.write("AccountContactRelation", "insert", {"AccountId": rec["AccountId"], "ContactId": rid},
                           ctx, undo=undo, admin=True)
                acr = self.recs["AccountContactRelation"][self.pairs[key]]
                acr["IsDirect"] = True
        return rid

    def _object_rules(self, obj, op, rec, old, values):
        if obj == "CampaignMember":
            if not rec.get("LeadId") and not rec.get("ContactId"):
                raise RowError("REQUIRED_FIELD_MISSING", "Required fields are missing: [LeadId or ContactId]",
                               ["LeadId", "ContactId"])
            if op == "update":
                for k in ("CampaignId", "LeadId", "ContactId"):
                    if k in values and values[k] != old.get(k):
                        raise RowError("FIELD_INTEGRITY_EXCEPTION", "%s cannot be changed" % k, [k])
        if obj == "AccountContactRelation" and op == "update":
            for k in ("AccountId", "ContactId"):
                if k in values and values[k] != old.get(k):
                    raise RowError("FIELD_INTEGRITY_EXCEPTION", "%s cannot be changed" % k, [k])
        if obj == "EmailTemplate":
            if not rec.get("DeveloperName") and rec.get("Name"):
                base = re.sub(r"[^A-Za-z0-9]+", "_", rec["Name"]).strip("_") or "Template"
                if not base[0].isalpha():
                    base = "X" + base
                rec["DeveloperName"] = base[:80]
            dn = rec.get("DeveloperName")
            if dn is not None:
                try:
                    check_api_name(dn, "", "DeveloperName", maxlen=80)
                except DeployError:
                    raise RowError("FIELD_INTEGRITY_EXCEPTION", "The Template Unique Name can only contain "
                                   "underscores and alphanumeric characters. It must be unique, begin with a letter, "
                                   "not include spaces, not end with an underscore, and not contain two consecutive "
                                   "underscores.", ["DeveloperName"])
            fid = rec.get("FolderId")
            if fid and not (fid in (FOLDER_ID, ORG_ID) or fid in self.recs.get("User", {})):
                raise RowError("INVALID_CROSS_REFERENCE_KEY", "Folder ID: invalid cross reference id", ["FolderId"])
            if op == "update" and "DeveloperName" in values and values["DeveloperName"] is None:
                raise RowError("REQUIRED_FIELD_MISSING", "Required fields are missing: [DeveloperName]",
                               ["DeveloperName"])

    def delete(self, obj, rid, undo=None):
        old = self.recs.get(obj, {}).get(rid)
        if old is None:
            if rid in self.deleted:
                raise RowError("ENTITY_IS_DELETED", "entity is deleted")
            raise RowError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
        if not self.schema.objects[obj]["meta"].get("deletable", True):
            raise RowError("INVALID_TYPE", "entity type cannot be deleted")
        self._ix(obj)
        del self.recs[obj][rid]
        self._index(obj, rid, old, None)
        self.deleted.add(rid)
        if undo is not None:
            undo.append((obj, rid, old))

    def rollback(self, undo):
        for obj, rid, old in reversed(undo):
            cur = self.recs[obj].get(rid)
            self._ix(obj)
            self._index(obj, rid, cur, None)
            if old is None:
                self.recs[obj].pop(rid, None)
            else:
                self.recs[obj][rid] = old
                self._index(obj, rid, None, old)
                self.deleted.discard(rid)

    def storage_kb(self):
        kb = 0
        for o, rs in self.recs.items():
            kb += len(rs) * {"Campaign": 8, "CampaignMember": 1}.get(o, 0 if o in ("User", "ContentVersion") else 2)
        return kb


def json_value(f, v):
    if v is None:
        return None
    if f["type"] == "datetime":
        return fmt_dt(v)
    return v


def csv_value(f, v):
    if v is None:
        return ""
    if f["type"] == "datetime":
        return fmt_dt(v, bulk=True)
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


# --------------------------------------------------------------------------- SOQL subset

class SoqlError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


TOKEN_RE = re.compile(r"""\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<dt>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))
    |(?P<date>\d{4}-\d{2}-\d{2})|(?P<num>[+-]?\d+(?:\.\d+)?)|(?P<op>!=|<>|<=|>=|=|<|>)|(?P<punct>[(),])
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*))""", re.X)
KEYWORDS = {"select", "from", "where", "and", "or", "not", "in", "like", "null", "true", "false", "order", "by",
            "asc", "desc", "limit", "nulls", "first", "last", "group", "having", "offset", "typeof", "with",
            "includes", "excludes", "for", "using"}
AGGREGATES = {"count", "sum", "avg", "min", "max", "count_distinct", "fields", "tolabel", "format",
              "convertcurrency", "calendar_year", "day_only"}


def tokenize(q):
    toks, i = [], 0
    q = q.rstrip()
    while i < len(q):
        m = TOKEN_RE.match(q, i)
        if not m or m.end() == i:
            raise SoqlError("MALFORMED_QUERY", "unexpected token at position %d: %s" % (i, q[i:i + 20]))
        i = m.end()
        kind = m.lastgroup
        text = m.group(kind)
        if kind == "str":
            text = re.sub(r"\\(.)", lambda mm: {"n": "\n", "t": "\t", "r": "\r"}.get(mm.group(1), mm.group(1)), text[1:-1])
        elif kind == "name" and text.lower() in KEYWORDS:
            kind, text = "kw", text.lower()
        toks.append((kind, text))
    return toks


class Soql:
    """SELECT f, Rel.f FROM Obj [WHERE cond] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n]"""

    def __init__(self, q, schema):
        self.toks, self.i, self.schema = tokenize(q), 0, schema
        self.parse()

    def peek(self, k=0):
        return self.toks[self.i + k] if self.i + k < len(self.toks) else (None, None)

    def take(self, kind=None, text=None):
        t = self.peek()
        if t[0] is None or (kind and t[0] != kind) or (text and t[1] != text):
            raise SoqlError("MALFORMED_QUERY", "unexpected token: %s (expected %s)" % (t[1] or "end of query", text or kind))
        self.i += 1
        return t

    def parse(self):
        self.take("kw", "select")
        names = []
        while True:
            k, t = self.peek()
            if k == "punct" and t == "(":
                raise SoqlError("MALFORMED_QUERY", "parent-to-child subqueries are not supported")
            if k == "kw" and t == "typeof":
                raise SoqlError("MALFORMED_QUERY", "TYPEOF is not supported")
            k, t = self.take("name")
            if self.peek() == ("punct", "("):
                raise SoqlError("MALFORMED_QUERY", "aggregate and function calls are not supported: %s()" % t)
            names.append(t)
            if self.peek() == ("punct", ","):
                self.i += 1
                continue
            break
        self.take("kw", "from")
        _, oname = self.take("name")
        obj = self.schema.obj(oname)
        if obj is None or "." in oname:
            raise SoqlError("INVALID_TYPE", "sObject type '%s' is not supported." % oname)
        self.obj = obj
        self.fields = [self.resolve(n) for n in names]
        self.where = None
        self.order = []
        self.limit = None
        if self.peek() == ("kw", "where"):
            self.i += 1
            self.where = self.expr()
        for kw in ("group", "having", "offset", "with", "for"):
            if self.peek() == ("kw", kw):
                raise SoqlError("MALFORMED_QUERY", "%s is not supported" % kw.upper())
        if self.peek() == ("kw", "order"):
            self.i += 1
            self.take("kw", "by")
            while True:
                _, n = self.take("name")
                path = self.resolve(n)
                desc, nulls_last = False, False
                if self.peek() in (("kw", "asc"), ("kw", "desc")):
                    desc = self.take()[1] == "desc"
                nulls_last = desc
                if self.peek() == ("kw", "nulls"):
                    self.i += 1
                    nulls_last = self.take()[1] == "last"
                self.order.append((path, desc, nulls_last))
                if self.peek() == ("punct", ","):
                    self.i += 1
                    continue
                break
        if self.peek() == ("kw", "limit"):
            self.i += 1
            _, n = self.take("num")
            self.limit = int(n)
        for kw in ("group", "having", "offset"):
            if self.peek() == ("kw", kw):
                raise SoqlError("MALFORMED_QUERY", "%s is not supported" % kw.upper())
        if self.peek()[0] is not None:
            raise SoqlError("MALFORMED_QUERY", "unexpected token: %s" % self.peek()[1])

    def resolve(self, name):
        """'Field' -> ('Field', f)   'Rel.Field' -> (rel_field, 'Field') resolved at run time."""
        parts = name.split(".")
        if len(parts) > 1 and parts[0].lower() == self.obj.lower():
            parts = parts[1:]
        bad = SoqlError("INVALID_FIELD", "No such column '%s' on entity '%s'. If you are attempting to use a custom "
                        "field, be sure to append the '__c' after the custom field name. Please reference your WSDL "
                        "or the describe call for the appropriate names." % (parts[-1], self.obj))
        if len(parts) == 1:
            f = self.schema.field(self.obj, parts[0])
            if f is None:
                raise bad
            return {"label": f["name"], "field": f, "rel": None}
        if len(parts) > 2:
            raise SoqlError("MALFORMED_QUERY", "only one relationship hop is supported: %s" % name)
        rf = self.schema.objects[self.obj]["rels"].get(parts[0].lower())
        if rf is None or not self.schema.visible(self.obj, rf):
            raise SoqlError("INVALID_FIELD", "Didn't understand relationship '%s' in field path. If you are attempting "
                            "to use a custom relationship, be sure to append the '__r' after the custom relationship "
                            "name." % parts[0])
        ok = [t for t in rf["referenceTo"] if t in self.schema.objects and self.schema.field(t, parts[1])]
        if not ok:
            raise SoqlError("INVALID_FIELD", "No such column '%s' on entity '%s'." % (parts[1], rf["referenceTo"][0]))
        return {"label": "%s.%s" % (rf["relationshipName"], self.schema.field(ok[0], parts[1])["name"]), "rel": rf,
                "fname": parts[1]}

    # conditions: or_expr := and_expr (OR and_expr)*; and_expr := atom (AND atom)*
    def expr(self):
        left = self.and_expr()
        while self.peek() == ("kw", "or"):
            self.i += 1
            left = ("or", left, self.and_expr())
        return left

    def and_expr(self):
        left = self.atom()
        while self.peek() == ("kw", "and"):
            self.i += 1
            left = ("and", left, self.atom())
        return left

    def atom(self):
        if self.peek() == ("kw", "not"):
            self.i += 1
            return ("not", self.atom())
        if self.peek() == ("punct", "("):
            self.i += 1
            e = self.expr()
            self.take("punct", ")")
            return e
        _, n = self.take("name")
        if self.peek() == ("punct", "("):
            raise SoqlError("MALFORMED_QUERY", "functions are not supported in WHERE: %s()" % n)
        path = self.resolve(n)
        k, t = self.take()
        if k == "kw" and t == "not" and self.peek() == ("kw", "in"):
            self.i += 1
            return ("notin", path, self.value_list())
        if k == "kw" and t == "in":
            return ("in", path, self.value_list())
        if k == "kw" and t == "like":
            return ("like", path, self.value())
        if k == "kw" and t in ("includes", "excludes"):
            raise SoqlError("MALFORMED_QUERY", "INCLUDES/EXCLUDES are not supported")
        if k != "op":
            raise SoqlError("MALFORMED_QUERY", "unexpected token: %s" % t)
        return ("cmp", path, "!=" if t == "<>" else t, self.value())

    def value(self):
        k, t = self.take()
        if k == "kw" and t in ("null", "true", "false"):
            return {"null": None, "true": True, "false": False}[t]
        if k == "str":
            return t
        if k == "num":
            return float(t)
        if k == "date":
            return ("date", t)
        if k == "dt":
            return ("dt", parse_datetime(t, DATETIME_JSON_RE))
        if k == "punct" and t == "(":
            raise SoqlError("MALFORMED_QUERY", "semi-join subqueries are not supported")
        raise SoqlError("MALFORMED_QUERY", "unexpected token: %s" % t)

    def value_list(self):
        self.take("punct", "(")
        if self.peek() == ("kw", "select"):
            raise SoqlError("MALFORMED_QUERY", "semi-join subqueries are not supported")
        vals = [self.value()]
        while self.peek() == ("punct", ","):
            self.i += 1
            vals.append(self.value())
        self.take("punct", ")")
        return vals

    # ---- evaluation
    def get(self, store, rec, path):
        if path["rel"] is None:
            return path["field"], rec.get(path["field"]["name"])
        pid = rec.get(path["rel"]["name"])
        pobj, prec = store.get(pid)
        if prec is None:
            return None, None
        f = self.schema.field(pobj, path["fname"])
        return f, (prec.get(f["name"]) if f else None)

    @staticmethod
    def cmpval(f, v, lit):
        if isinstance(lit, tuple):
            if lit[0] == "dt" and isinstance(v, dt.datetime):
                return v, lit[1]
            if lit[0] == "date" and isinstance(v, str):
                return v, lit[1]
            return None, None
        if isinstance(v, bool) or isinstance(lit, bool):
            return v, lit
        if isinstance(v, (int, float)) and isinstance(lit, (int, float)):
            return float(v), float(lit)
        if isinstance(v, str) and isinstance(lit, str):
            if f and f["type"] in ("id", "reference"):
                a, b = norm_id(v), norm_id(lit)
                return a, b if b else lit
            return v.lower(), lit.lower()
        return v, lit

    def test(self, store, rec, e):
        op = e[0]
        if op == "and":
            return self.test(store, rec, e[1]) and self.test(store, rec, e[2])
        if op == "or":
            return self.test(store, rec, e[1]) or self.test(store, rec, e[2])
        if op == "not":
            return not self.test(store, rec, e[1])
        f, v = self.get(store, rec, e[1])
        if op in ("in", "notin"):
            hit = v is not None and any(a == b for a, b in (self.cmpval(f, v, x) for x in e[2] if x is not None))
            hit = hit or (v is None and None in e[2])
            return hit if op == "in" else not hit
        if op == "like":
            if v is None or not isinstance(e[2], str):
                return False
            rx = "^" + "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in e[2]) + "$"
            return re.match(rx, str(v), re.I | re.S) is not None
        _, _, cmp, lit = e
        if lit is None:
            return (v is None) if cmp == "=" else (v is not None) if cmp == "!=" else False
        if v is None:
            return cmp == "!="
        a, b = self.cmpval(f, v, lit)
        if a is None:
            return False
        try:
            return {"=": a == b, "!=": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[cmp]
        except TypeError:
            return False

    def run(self, store):
        rows = [r for r in store.recs.get(self.obj, {}).values() if self.where is None or self.test(store, r, self.where)]
        for path, desc, nulls_last in reversed(self.order):
            def key(r, path=path, nl=nulls_last):
                _, v = self.get(store, r, path)
                if v is None:
                    return (1 if nl else -1, "")
                return (0, v.lower() if isinstance(v, str) else v)
            rows.sort(key=key, reverse=desc)
        if self.limit is not None:
            rows = rows[:self.limit]
        return rows

    def json_record(self, store, rec, base):
        out = {"attributes": {"type": self.obj, "url": "%s/sobjects/%s/%s" % (base, self.obj, rec["Id"])}}
        for p in self.fields:
            if p["rel"] is None:
                out[p["field"]["name"]] = json_value(p["field"], rec.get(p["field"]["name"]))
                continue
            rname = p["rel"]["relationshipName"]
            pobj, prec = store.get(rec.get(p["rel"]["name"]))
            if prec is None:
                out.setdefault(rname, None)
                continue
            sub = out.get(rname) or {"attributes": {"type": pobj, "url": "%s/sobjects/%s/%s" % (base, pobj, prec["Id"])}}
            f = self.schema.field(pobj, p["fname"])
            if f:
                sub[f["name"]] = json_value(f, prec.get(f["name"]))
            out[rname] = sub
        return out

    def csv_row(self, store, rec):
        out = []
        for p in self.fields:
            f, v = self.get(store, rec, p)
            out.append(csv_value(f, v) if f else "")
        return out


# --------------------------------------------------------------------------- CSV (strict)

DELIMS = {"COMMA": ",", "BACKQUOTE": "`", "CARET": "^", "PIPE": "|", "SEMICOLON": ";", "TAB": "\t"}


class JobFail(Exception):
    pass


def parse_csv(text, delim, line_ending):
    """Returns [(cells, error or None)]. Raises JobFail on line-ending mismatch or unterminated quotes."""
    eol = "\n" if line_ending == "LF" else "\r\n"
    stop = re.compile("[%s\"\r\n]" % re.escape(delim))
    rows, i, n = [], 0, len(text)

    def eol_at(j):
        if text.startswith(eol, j):
            return len(eol)
        if line_ending == "LF" and text.startswith("\r\n", j) or line_ending == "CRLF" and text[j] == "\n":
            raise JobFail("ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is %s"
                          % line_ending)
        return 0
    while i < n:
        cells, err = [], None
        while True:
            if i < n and text[i] == '"':
                j, buf = i + 1, []
                while True:
                    k = text.find('"', j)
                    if k < 0:
                        raise JobFail("ClientInputError : CSV parse error: a quoted value is not terminated")
                    buf.append(text[j:k])
                    if text.startswith('""', k):
                        buf.append('"')
                        j = k + 2
                        continue
                    i = k + 1
                    break
                cells.append("".join(buf))
                if i < n and text[i] != delim and not (text[i] in "\r\n" and eol_at(i)):
                    err = "characters after a closing quote"
                    m = stop.search(text, i)
                    while m and m.group() not in (delim, "\n", "\r"):
                        m = stop.search(text, m.end())
                    i = m.start() if m else n
                    if i < n and text[i] == "\r" and not eol_at(i):
                        i += 1
            else:
                j = i
                while True:
                    m = stop.search(text, j)
                    if m is None:
                        k = n
                        break
                    c = m.group()
                    if c == '"':
                        err = err or "a quote inside an unquoted value (is there a space before the opening quote?)"
                        j = m.end()
                        continue
                    if c == "\r" and not text.startswith("\r\n", m.start()):
                        j = m.end()
                        continue
                    k = m.start()
                    break
                cells.append(text[i:k])
                i = k
            if i >= n:
                break
            if text[i] == delim:
                i += 1
                if i >= n:
                    cells.append("")
                continue
            step = eol_at(i)
            if step:
                i += step
                break
            i += 1
        rows.append((cells, err))
    return rows


def csv_cell(v, delim):
    if v == "" or not any(c in v for c in (delim, '"', "\n", "\r")):
        return v
    return '"' + v.replace('"', '""') + '"'


def csv_text(header, rows, delim, eol):
    lines = [delim.join('"%s"' % h.replace('"', '""') for h in header)]
    for r in rows:
        lines.append(delim.join(csv_cell(c, delim) for c in r))
    return (eol.join(lines) + eol).encode("utf-8")


# --------------------------------------------------------------------------- the emulator

USERS = [
    {"Username": "integration@mapc.test", "LastName": "Integration", "FirstName": "API", "Email": "integration@mapc.test",
     "Alias": "integ"},
    {"Username": "owner1@mapc.test", "LastName": "Owner", "FirstName": "Olive", "Email": "olive@mapc.test", "Alias": "olive"},
    {"Username": "owner2@mapc.test", "LastName": "Owner", "FirstName": "Oscar", "Email": "oscar@mapc.test", "Alias": "oscar"},
    # the user the reference rules file email templates under (const template_folder_owner)
    {"Username": "migration.user@example.com", "LastName": "Migration", "FirstName": "Data",
     "Email": "migration.user@example.com", "Alias": "migr"},
]
USER_PASSWORD = "mapc-test-password"
FAULT_KEYS = ("http503", "http500", "drop", "lock_rows", "fail_job_after", "limit_exceeded", "slow")


class Emu:
    def __init__(self, a):
        self.a = a
        self.lock = threading.RLock()
        self.schema = Schema(a.describe_dir, a.audit_fields, a.max_custom_fields)
        self.store = Store(self.schema, None)
        self.tokens = {}            # token -> {user, expires}
        self.refresh_tokens = {}
        self.faults = {}
        self.api_used = 0
        self.counters = {"bulk_batches": 0, "bulk_records": 0, "query_jobs": 0}
        self.stats = {"requests": {}, "uploads": 0, "rows_processed": 0, "jobs_created": 0}
        self.jobs, self.qjobs, self.cursors = {}, {}, {}
        self.login_url = self.instance_url = ""
        self.seed()

    def seed(self):
        ctx = {"user": None}
        self.users = []
        for u in USERS:
            vals = dict(u, TimeZoneSidKey="America/Los_Angeles", LocaleSidKey="en_US", EmailEncodingKey="UTF-8",
                        LanguageLocaleKey="en_US", ProfileId=None, IsActive=True)
            vals = {k: v for k, v in vals.items() if k in self.schema.objects["User"]["fields"]}
            vals["ProfileId"] = None
            rid = self.store.new_id("User")
            rec = {"Id": rid, "CreatedDate": now_utc(), "LastModifiedDate": now_utc(), "SystemModstamp": now_utc()}
            rec.update(vals)
            rec["Name"] = "%s %s" % (u["FirstName"], u["LastName"])
            self.store.recs["User"][rid] = rec
            self.users.append(rid)
        for rid in self.users:
            self.store.recs["User"][rid].update(CreatedById=self.users[0], LastModifiedById=self.users[0])
        self.store.rebuild_index("User")
        del ctx

    def reset(self):
        with self.lock:
            self.store.reset()
            self.jobs, self.qjobs, self.cursors = {}, {}, {}
            self.seed()

    # ---- faults
    def fault(self, kind, subject):
        """Consume one firing of fault kind if armed and its match fits subject. Returns the fault dict or None."""
        with self.lock:
            f = self.faults.get(kind)
            if not f or f["count"] <= 0:
                return None
            if f.get("match") and not re.search(f["match"], subject):
                return None
            f["count"] -= 1
            return f

    def set_faults(self, body):
        if not isinstance(body, dict):
            raise ApiError(400, "INVALID_FAULTS", "faults must be a JSON object")
        faults = {}
        match = body.get("match")
        for k, v in body.items():
            if k in ("match", "slow_ms"):
                continue
            if k == "expire_tokens":
                if v:
                    self.tokens.clear()
                continue
            if k not in FAULT_KEYS:
                raise ApiError(400, "INVALID_FAULTS", "unknown fault %r (known: %s, expire_tokens)" % (k, ", ".join(FAULT_KEYS)))
            if isinstance(v, dict):
                spec = {"count": int(v.get("count", 1)), "match": v.get("match", match), "ms": v.get("ms", body.get("slow_ms", 0))}
            else:
                spec = {"count": int(v), "match": match, "ms": body.get("slow_ms", 0)}
            if k == "fail_job_after":
                spec["n"], spec["count"] = spec["count"], 1
            faults[k] = spec
        if "slow_ms" in body and "slow" not in faults:
            faults["slow"] = {"count": 1, "match": match, "ms": body["slow_ms"]}
        self.faults = faults
        return {"faults": faults}

    # ---- auth
    def token_endpoint(self, h, body):
        ctype = (h.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return 400, {"error": "invalid_request", "error_description": "request must be application/x-www-form-urlencoded"}
        try:
            form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
        except UnicodeDecodeError:
            return 400, {"error": "invalid_request", "error_description": "bad form body"}
        auth = h.headers.get("Authorization") or ""
        if auth.startswith("Basic "):
            try:
                cid, _, sec = base64.b64decode(auth[6:]).decode().partition(":")
                form.setdefault("client_id", urllib.parse.unquote(cid))
                form.setdefault("client_secret", urllib.parse.unquote(sec))
            except Exception:
                return 400, {"error": "invalid_client", "error_description": "invalid client credentials"}
        grant = form.get("grant_type")
        if grant not in ("client_credentials", "password", "refresh_token"):
            desc = "grant type not supported"
            if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
                desc = "grant type not supported (the emulator does not implement the JWT bearer flow)"
            return 400, {"error": "unsupported_grant_type", "error_description": desc}
        if not form.get("client_id"):
            return 400, {"error": "invalid_client_id", "error_description": "client identifier invalid"}
        if form["client_id"] != self.a.client_id:
            return 400, {"error": "invalid_client_id", "error_description": "client identifier invalid"}
        if grant != "refresh_token" and form.get("client_secret") != self.a.client_secret:
            return 400, {"error": "invalid_client", "error_description": "invalid client credentials"}
        if grant == "refresh_token" and "client_secret" in form and form["client_secret"] != self.a.client_secret:
            return 400, {"error": "invalid_client", "error_description": "invalid client credentials"}
        with self.lock:
            refresh = None
            if grant == "client_credentials":
                user = self.users[0]
            elif grant == "password":
                users = self.store.find("User", self.schema.objects["User"]["fields"]["Username"], form.get("username", ""))
                if not users or form.get("password") != USER_PASSWORD:
                    return 400, {"error": "invalid_grant", "error_description": "authentication failure"}
                user = users[0]
            else:
                user = self.refresh_tokens.get(form.get("refresh_token"))
                if user is None:
                    return 400, {"error": "invalid_grant", "error_description": "expired access/refresh token"}
            tok = ORG_ID[:15] + "!" + secrets.token_urlsafe(60)
            self.tokens[tok] = {"user": user, "expires": time.time() + self.a.token_ttl}
        issued = str(int(time.time() * 1000))
        ident = "%s/id/%s/%s" % (self.login_url, ORG_ID, user)
        sig = base64.b64encode(hmac.new(self.a.client_secret.encode(), (ident + issued).encode(), hashlib.sha256).digest()).decode()
        out = {"access_token": tok, "instance_url": self.instance_url, "id": ident, "token_type": "Bearer",
               "issued_at": issued, "signature": sig}
        if grant != "client_credentials":
            out["scope"] = "api"
        if refresh:
            out["refresh_token"] = refresh
        return 200, out

    def auth(self, h):
        a = h.headers.get("Authorization") or ""
        tok = a[7:] if a.startswith("Bearer ") else a[6:] if a.startswith("OAuth ") else None
        with self.lock:
            t = self.tokens.get(tok) if tok else None
            if t and t["expires"] < time.time():
                del self.tokens[tok]
                t = None
        if t is None:
            raise ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
        return {"user": t["user"]}

    def limit_info(self):
        return "api-usage=%d/%d" % (self.api_used, self.a.api_max)

    def limits(self):
        def m(mx, used):
            return {"Max": mx, "Remaining": max(mx - used, 0)}
        with self.lock:
            kb = self.store.storage_kb()
            return {"DailyApiRequests": m(self.a.api_max, self.api_used),
                    "DailyBulkApiBatches": m(self.a.max_batches, self.counters["bulk_batches"]),
                    "DailyBulkV2QueryJobs": m(10000, self.counters["query_jobs"]),
                    "DailyBulkV2QueryFileStorageMB": m(1048576, 0),
                    "DataStorageMB": m(self.a.data_storage_mb, (kb + 1023) // 1024),
                    "FileStorageMB": m(self.a.data_storage_mb, 0),
                    "DailyBulkV2IngestRecords": m(self.a.max_records, self.counters["bulk_records"])}

    # ---- REST records
    def obj_or_404(self, name):
        o = self.schema.obj(name)
        if o is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist", [])
        return o

    def json_values(self, obj, rec, op, ignore=("attributes",)):
        vals = {}
        for k, v in rec.items():
            if k in ignore:
                continue
            rf = self.schema.objects[obj]["rels"].get(k.lower())
            if isinstance(v, dict) and rf is not None and self.schema.visible(obj, rf):
                # parent by external id: {"Account": {"cio_account_key__c": "x"}} (with attributes.type when polymorphic)
                keys = [x for x in v if x != "attributes"]
                tobj = (v.get("attributes") or {}).get("type") or (rf["referenceTo"][0] if len(rf["referenceTo"]) == 1 else None)
                tobj = self.schema.obj(tobj) if tobj else None
                tf = self.schema.field(tobj, keys[0]) if tobj and len(keys) == 1 and tobj in rf["referenceTo"] else None
                if tf is None or not (tf["externalId"] or tf["idLookup"]):
                    raise RowError("INVALID_FIELD", "Invalid foreign key relationship name or value for %s" % k, [k])
                ids = self.store.find(tobj, tf, coerce(tf, v[keys[0]], "json"))
                if len(ids) != 1:
                    raise RowError("INVALID_FIELD", "Foreign key external ID: %s not found for field %s in entity %s"
                                   % (v[keys[0]], tf["name"], tobj) if not ids else
                                   "More than 1 record found for External ID field %s in entity %s" % (tf["name"], tobj))
                vals[rf["name"]] = ids[0]
                continue
            f = self.schema.field(obj, k)
            if f is None:
                raise RowError("INVALID_FIELD", "No such column '%s' on sobject of type %s" % (k, obj), [k])
            vals[f["name"]] = None if v is None else coerce(f, v, "json")
        return vals

    def rest_write(self, obj, op, rec, ctx, rid=None, undo=None):
        vals = self.json_values(obj, rec, op, ignore=("attributes", "Id") if op == "update" else ("attributes",))
        if op == "insert" and "Id" in vals:
            raise RowError("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
        return self.store.write(obj, op, vals, ctx, rid=rid, undo=undo)

    def sobject_create(self, obj, body, ctx):
        if not isinstance(body, dict):
            raise ApiError(400, "JSON_PARSER_ERROR", "expected a JSON object")
        try:
            rid = self.rest_write(obj, "insert", body, ctx)
        except RowError as e:
            raise ApiError(400, e.code, e.message, e.fields)
        return 201, {"id": rid, "success": True, "errors": []}

    def sobject_get(self, obj, rid, fields_param, base):
        i = norm_id(rid)
        rec = self.store.recs.get(obj, {}).get(i) if i else None
        if rec is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist", [])
        fl = [self.schema.field(obj, n) for n in fields_param.split(",")] if fields_param else \
            [f for f in self.schema.objects[obj]["fields"].values() if self.schema.visible(obj, f)]
        if None in fl:
            raise ApiError(400, "INVALID_FIELD", "No such column on entity '%s'" % obj, [])
        out = {"attributes": {"type": obj, "url": "%s/sobjects/%s/%s" % (base, obj, i)}}
        for f in fl:
            if f["type"] != "address":
                out[f["name"]] = json_value(f, rec.get(f["name"]))
        return 200, out

    def sobject_update(self, obj, rid, body, ctx):
        i = norm_id(rid)
        if not i or i not in self.store.recs.get(obj, {}):
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist", [])
        try:
            self.rest_write(obj, "update", body, ctx, rid=i)
        except RowError as e:
            raise ApiError(400, e.code, e.message, e.fields)
        return 204, None

    def sobject_delete(self, obj, rid):
        i = norm_id(rid)
        try:
            if not i:
                raise RowError("NOT_FOUND", "The requested resource does not exist")
            self.store.delete(obj, i)
        except RowError as e:
            raise ApiError(404, "NOT_FOUND" if e.code != "ENTITY_IS_DELETED" else e.code, e.message, [])
        return 204, None

    def upsert_one(self, obj, fname, value, rec, ctx, undo=None):
        """Returns (id, created). Raises RowError; a 300 ApiError for several matches."""
        f = self.schema.field(obj, fname)
        if f is None or not (f["externalId"] or f["idLookup"]):
            raise RowError("NOT_FOUND", "Provided external ID field does not exist or is not accessible: %s" % fname)
        rec = {k: v for k, v in rec.items() if k != "attributes"}
        for k in list(rec):
            if k.lower() == f["name"].lower() and f["name"] != "Id":
                if rec[k] is not None and uniq_key(f, coerce(f, rec[k], "json")) != uniq_key(f, coerce(f, value, "json")):
                    raise RowError("INVALID_FIELD", "External ID field value in the body does not match the URL", [k])
                del rec[k]
        key = coerce(f, value, "json")
        ids = self.store.find(obj, f, key)
        if len(ids) > 1:
            raise RowError("DUPLICATE_EXTERNAL_ID", "%s: more than one record found for external id field: %s"
                           % (f["name"], ids), [f["name"]])
        if ids:
            self.rest_write(obj, "update", rec, ctx, rid=ids[0], undo=undo)
            return ids[0], False
        if f["name"] == "Id":
            raise RowError("NOT_FOUND", "Provided external ID field does not exist or is not accessible: %s" % value)
        rec[f["name"]] = value
        return self.rest_write(obj, "insert", rec, ctx, undo=undo), True

    def collections(self, method, body, query, ctx, obj=None, extfield=None):
        if method == "DELETE":
            ids = [x for x in (query.get("ids", [""])[0]).split(",") if x]
            all_or_none = query.get("allOrNone", ["false"])[0].lower() == "true"
            items = ids
        else:
            if not isinstance(body, dict) or not isinstance(body.get("records"), list):
                raise ApiError(400, "JSON_PARSER_ERROR", "Request body must be an object with a records array", [])
            items = body["records"]
            all_or_none = bool(body.get("allOrNone", False))
        if len(items) > 200:
            raise ApiError(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into "
                           "this call", [])
        if not items:
            raise ApiError(400, "INVALID_FIELD", "No records to process", [])
        undo, results, failed = [], [], False
        for it in items:
            res = {"id": None, "success": False, "errors": []}
            try:
                if method == "DELETE":
                    i = norm_id(it)
                    if not i:
                        raise RowError("MALFORMED_ID", "malformed id %s" % it)
                    res["id"] = i
                    o = self.store.obj_of_id(i)
                    if o not in self.store.recs:
                        raise RowError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
                    self.store.delete(o, i, undo=undo)
                else:
                    if not isinstance(it, dict) or not isinstance(it.get("attributes"), dict) \
                            or not it["attributes"].get("type"):
                        raise ApiError(400, "INVALID_TYPE", "Must send a concrete entity type.", [])
                    o = self.schema.obj(it["attributes"]["type"])
                    if o is None or (obj and o != obj):
                        raise ApiError(400, "INVALID_TYPE", "sObject type '%s' is not supported." % it["attributes"]["type"], [])
                    if method == "POST":
                        res["id"] = self.rest_write(o, "insert", it, ctx, undo=undo)
                    elif extfield is None:
                        i = norm_id(it.get("Id") or "")
                        if not i:
                            raise RowError("MISSING_ARGUMENT", "Id not specified in an update call", [])
                        res["id"] = i
                        self.rest_write(o, "update", it, ctx, rid=i, undo=undo)
                    else:
                        f = self.schema.field(o, extfield)
                        if f is None or not (f["externalId"] or f["idLookup"]):
                            raise ApiError(404, "NOT_FOUND", "Provided external ID field does not exist or is not "
                                           "accessible: %s" % extfield, [])
                        val = next((v for k, v in it.items() if k.lower() == extfield.lower()), None)
                        if val in (None, ""):
                            raise RowError("REQUIRED_FIELD_MISSING", "Required fields are missing: [%s]" % f["name"], [f["name"]])
                        res["id"], res["created"] = self.upsert_one(o, extfield, val, it, ctx, undo=undo)
                res["success"] = True
            except RowError as e:
                res["errors"] = [e.js()]
                failed = True
            if method == "POST" or extfield is not None or res["success"]:
                pass
            results.append(res)
        if all_or_none and failed:
            self.store.rollback(undo)
            for r in results:
                if r["success"]:
                    r["success"] = False
                    r["errors"] = [{"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "Record rolled back "
                                    "because not all records were valid and the request was using AllOrNone header",
                                    "fields": []}]
                if method == "POST" or r.get("created"):
                    r["id"] = None
        for r in results:
            if extfield is None:
                r.pop("created", None)
        return 200, results

    # ---- REST query
    def query(self, q, ctx, base, batch):
        try:
            s = Soql(q, self.schema)
        except SoqlError as e:
            raise ApiError(400, e.code, e.message, [])
        rows = [s.json_record(self.store, r, base) for r in s.run(self.store)]
        return self.query_page(rows, 0, batch, base)

    def query_page(self, rows, offset, batch, base, loc=None):
        page = rows[offset:offset + batch]
        out = {"totalSize": len(rows), "done": offset + batch >= len(rows), "records": page}
        if not out["done"]:
            if loc is None:
                loc = "01g" + secrets.token_hex(8)[:12] + "AAA"
                self.cursors[loc] = rows
            out["nextRecordsUrl"] = "%s/query/%s-%d" % (base, loc, offset + batch)
        return 200, out

    def query_more(self, locator, base, batch):
        loc, _, off = locator.rpartition("-")
        rows = self.cursors.get(loc)
        if rows is None or not off.isdigit():
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator", [])
        return self.query_page(rows, int(off), batch, base, loc)

    # ---- tooling / FLS
    def tooling_customfield(self, body):
        if not isinstance(body, dict) or not isinstance(body.get("FullName"), str) or not isinstance(body.get("Metadata"), dict):
            raise ApiError(400, "JSON_PARSER_ERROR", "CustomField needs FullName (Object.Field__c) and Metadata", [])
        on, _, fn = body["FullName"].partition(".")
        real = self.schema.obj(on)
        if real and self.schema.field(real, fn, any_fls=True):
            raise ApiError(400, "DUPLICATE_DEVELOPER_NAME", "There is already a field named %s on %s." % (fn, real), [])
        md = dict(body["Metadata"])
        md["fullName"] = fn
        md = {k: v for k, v in md.items() if v is not None}
        try:
            self.schema.apply([], [(on, md)], [])
        except DeployError as e:
            raise ApiError(400, "FIELD_INTEGRITY_EXCEPTION", str(e), [])
        self.store.rebuild_index(self.schema.obj(on))
        return 201, {"id": "00N" + secrets.token_hex(6)[:12] + "AAA", "success": True, "errors": [], "warnings": [],
                     "infos": []}

    def field_permissions(self, body):
        if not isinstance(body, dict) or not isinstance(body.get("Field"), str):
            raise ApiError(400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [Field]", ["Field"])
        rd, ed = bool(body.get("PermissionsRead")), bool(body.get("PermissionsEdit"))
        try:
            self.schema.apply([], [], [(body["Field"], rd, ed, "FieldPermissions")])
        except DeployError as e:
            raise ApiError(400, "INVALID_FIELD", str(e), ["Field"])
        return 201, {"id": "01k" + secrets.token_hex(6)[:12] + "AAA", "success": True, "errors": []}

    # ---- Bulk 2.0 ingest
    def job_info(self, j, full=True):
        keys = ["id", "operation", "object", "createdById", "createdDate", "systemModstamp", "state",
                "externalIdFieldName", "concurrencyMode", "contentType", "apiVersion", "jobType", "lineEnding",
                "columnDelimiter"]
        out = {k: j.get(k) for k in keys}
        if j.get("assignmentRuleId"):
            out["assignmentRuleId"] = j["assignmentRuleId"]
        if j["state"] == "Open" and "contentUrl" in j:
            out["contentUrl"] = j["contentUrl"]
        if j.get("jobType") == "V2Query":
            out["query"] = j["query"]
            out.pop("externalIdFieldName", None)
        if full:
            out.update(numberRecordsProcessed=j["processed"], retries=0, totalProcessingTime=j.get("ptime", 0),
                       apiActiveProcessingTime=j.get("ptime", 0), apexProcessingTime=0)
            if j.get("jobType") != "V2Query":
                out["numberRecordsFailed"] = j["failed"]
            if j.get("errorMessage"):
                out["errorMessage"] = j["errorMessage"]
        return out

    def get_job(self, table, jid, ctx):
        j = table.get(jid)
        if j is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        if j["createdById"] != ctx["user"]:
            raise ApiError(403, "InvalidUser", "Job %s was created by another user" % jid)
        return j

    def create_ingest(self, h, body, ctx, ver):
        if (h.headers.get("Content-Type") or "").split(";")[0].strip().lower() != "application/json":
            raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json")
        if not isinstance(body, dict):
            raise ApiError(400, "JSON_PARSER_ERROR", "expected a JSON object")
        known = {"object", "operation", "externalIdFieldName", "contentType", "lineEnding", "columnDelimiter",
                 "assignmentRuleId"}
        for k in body:
            if k not in known:
                raise ApiError(400, "InvalidJob", "Unrecognized field name: %s" % k)
        op = body.get("operation")
        if op not in ("insert", "update", "upsert", "delete", "hardDelete"):
            raise ApiError(400, "InvalidJob", "Invalid operation: %s" % op)
        obj = self.schema.obj(body.get("object") or "")
        if obj is None:
            raise ApiError(400, "InvalidJob", "Unable to find object: %s" % body.get("object"))
        if op == "hardDelete" and not self.a.allow_hard_delete:
            raise ApiError(400, "FeatureNotEnabled", "Bulk API Hard Delete permission is not enabled for this user")
        if body.get("contentType", "CSV") != "CSV":
            raise ApiError(400, "InvalidJob", "Invalid contentType: %s (only CSV)" % body.get("contentType"))
        le, cd = body.get("lineEnding", "LF"), body.get("columnDelimiter", "COMMA")
        if le not in ("LF", "CRLF"):
            raise ApiError(400, "InvalidJob", "Invalid lineEnding: %s" % le)
        if cd not in DELIMS:
            raise ApiError(400, "InvalidJob", "Invalid columnDelimiter: %s" % cd)
        ext = body.get("externalIdFieldName")
        if op == "upsert":
            if not ext:
                raise ApiError(400, "InvalidJob", "External ID was blank for %s. An External ID must be specified "
                               "for upsert." % obj)
            f = self.schema.field(obj, ext)
            if f is None or not (f["externalId"] or f["idLookup"]):
                raise ApiError(400, "InvalidJob", "Field name provided, %s does not match an External ID, Salesforce "
                               "Id, or indexed field for %s" % (ext, obj))
            ext = f["name"]
        elif ext:
            raise ApiError(400, "InvalidJob", "externalIdFieldName is only allowed for upsert")
        self.store.n += 1
        jid = make_id("750", self.store.n)
        now = fmt_dt(now_utc())
        j = {"id": jid, "operation": op, "object": obj, "createdById": ctx["user"], "createdDate": now,
             "systemModstamp": now, "state": "Open", "externalIdFieldName": ext, "concurrencyMode": "Parallel",
             "contentType": "CSV", "apiVersion": float(ver), "jobType": "V2Ingest", "lineEnding": le,
             "columnDelimiter": cd, "assignmentRuleId": body.get("assignmentRuleId"),
             "contentUrl": "services/data/v%s/jobs/ingest/%s/batches" % (ver, jid),
             "processed": 0, "failed": 0, "data": None, "polls": 0}
        self.jobs[jid] = j
        self.stats["jobs_created"] += 1
        return 200, self.job_info(j, full=False)

    def upload(self, h, j, body, subject):
        if j["state"] != "Open":
            raise ApiError(400, "InvalidJobState", "Job is not in Open state (state: %s); data can only be uploaded "
                           "to an Open job" % j["state"])
        if j["data"] is not None:
            raise ApiError(400, "BULK_API_ERROR", "Found multiple contents for job: <%s>, please 'Close' / 'Abort' / "
                           "'Delete' the current Job then create a new Job and make sure the content is uploaded only "
                           "once" % j["id"])
        if (h.headers.get("Content-Type") or "").split(";")[0].strip().lower() != "text/csv":
            raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be text/csv")
        if len(body) > self.a.max_upload_bytes:
            raise ApiError(413, "ExceededQuota", "The upload is %d bytes; the limit is %d bytes"
                           % (len(body), self.a.max_upload_bytes))
        j["data"] = body
        j["subject"] = subject
        self.stats["uploads"] += 1
        return 201, None

    def patch_job(self, j, body):
        st = body.get("state") if isinstance(body, dict) else None
        if st not in ("UploadComplete", "Aborted"):
            raise ApiError(400, "InvalidJobState", "Invalid state: %s (UploadComplete or Aborted)" % st)
        if st == "UploadComplete" and j["state"] != "Open" or st == "Aborted" and j["state"] not in ("Open", "UploadComplete"):
            raise ApiError(400, "InvalidJobState", "Job %s is %s; cannot change it to %s" % (j["id"], j["state"], st))
        j["state"] = st
        j["systemModstamp"] = fmt_dt(now_utc())
        j["polls"] = 0
        if st == "Aborted" and j.get("jobType") != "V2Query":
            j["results"] = ([], [], self._unprocessed_all(j))
        return 200, self.job_info(j, full=False)

    def _unprocessed_all(self, j):
        try:
            text = (j["data"] or b"").decode("utf-8")
            rows = parse_csv(text, DELIMS[j["columnDelimiter"]], j["lineEnding"])
            j["header"] = rows[0][0] if rows else []
            return [r[0] for r in rows[1:]]
        except (UnicodeDecodeError, JobFail):
            j["header"] = []
            return []

    def advance(self, j):
        """A GET on the job: keep it pending for --poll-delay GETs, then run it."""
        if j["state"] not in ("UploadComplete", "InProgress"):
            return
        j["polls"] += 1
        if j["polls"] <= self.a.poll_delay:
            if j["polls"] > 1 or self.a.poll_delay == 1:
                j["state"] = "InProgress"
            return
        t0 = time.time()
        if j.get("jobType") == "V2Query":
            self.run_query_job(j)
        else:
            self.run_ingest(j)
        j["ptime"] = int((time.time() - t0) * 1000)
        j["systemModstamp"] = fmt_dt(now_utc())

    def fail(self, j, msg, unprocessed=None):
        j["state"], j["errorMessage"] = "Failed", msg
        j["results"] = ([], [], unprocessed if unprocessed is not None else [])

    def run_ingest(self, j):
        obj, op, schema = j["object"], j["operation"], self.schema
        if j["data"] is None:
            return self.fail(j, "InvalidBatch : No data was uploaded for this job")
        try:
            text = j["data"].decode("utf-8")
        except UnicodeDecodeError:
            return self.fail(j, "ClientInputError : The CSV data is not valid UTF-8")
        if text.startswith("\ufeff"):
            return self.fail(j, "ClientInputError : The CSV data starts with a byte order mark; send UTF-8 without a BOM")
        delim = DELIMS[j["columnDelimiter"]]
        try:
            rows = parse_csv(text, delim, j["lineEnding"])
        except JobFail as e:
            return self.fail(j, str(e))
        if not rows:
            return self.fail(j, "InvalidBatch : The CSV data has no header row")
        header, herr = rows[0]
        j["header"] = header
        data = [r for r in rows[1:]]
        first = text.find("\n")
        if herr or (first if first >= 0 else len(text)) > 32000:
            return self.fail(j, "InvalidBatch : The header row is invalid or longer than 32,000 characters",
                             [r[0] for r in data])
        try:
            cols = self.plan_columns(j, header)
        except JobFail as e:
            return self.fail(j, str(e), [r[0] for r in data])
        batches = (len(data) + BATCH_ROWS - 1) // BATCH_ROWS + 1
        if self.counters["bulk_batches"] + batches > self.a.max_batches or \
                self.counters["bulk_records"] + len(data) > self.a.max_records:
            return self.fail(j, "ExceededQuota : the daily limit of batches or records for Bulk API is exhausted",
                             [r[0] for r in data])
        self.counters["bulk_batches"] += batches
        ok, bad, unproc = [], [], []
        fail_after = self.fault("fail_job_after", j.get("subject", "") + " %s %s" % (obj, op))
        limit = fail_after["n"] if fail_after else None
        seen_keys = {}
        if op == "upsert":
            ci = [i for i, c in enumerate(cols) if c[0] == "field" and c[1]["name"] == j["externalIdFieldName"]]
            for cells, _ in data:
                if ci and len(cells) == len(header) and cells[ci[0]] not in ("", "#N/A"):
                    k = cells[ci[0]].lower()
                    seen_keys[k] = seen_keys.get(k, 0) + 1
        ctx = {"user": j["createdById"]}
        for n, (cells, perr) in enumerate(data):
            if limit is not None and n >= limit:
                unproc = [c for c, _ in data[n:]]
                j["state"], j["errorMessage"] = "Failed", ("InternalServerError : batch %d failed after 20 retries; "
                                                           "the job was stopped" % (n // BATCH_ROWS + 1))
                break
            echo = (cells + [""] * len(header))[:len(header)]
            try:
                if perr:
                    raise RowError("INVALID_FIELD", "CSV parse error: %s" % perr)
                if len(cells) != len(header):
                    raise RowError("INVALID_FIELD", "The row has %d values but the header has %d columns"
                                   % (len(cells), len(header)))
                if self.fault("lock_rows", j.get("subject", "") + " %s %s" % (obj, op)):
                    raise RowError("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or 1 "
                                   "records: %s" % make_id(schema.objects[obj]["meta"]["keyPrefix"], n + 1))
                rid, created = self.ingest_row(j, cols, cells, ctx, seen_keys)
                ok.append([rid, "true" if created else "false"] + echo)
            except RowError as e:
                rid = ""
                if op in ("update", "delete", "hardDelete"):
                    ci = [i for i, c in enumerate(cols) if c[0] == "field" and c[1]["name"] == "Id"]
                    rid = norm_id(cells[ci[0]]) or "" if ci and ci[0] < len(cells) else ""
                bad.append([rid, e.sf()] + echo)
            j["processed"] += 1
            self.stats["rows_processed"] += 1
        self.counters["bulk_records"] += j["processed"]
        j["failed"] = len(bad)
        rnd = random.Random()
        rnd.shuffle(ok)
        rnd.shuffle(bad)
        if j["state"] != "Failed":
            j["state"] = "JobComplete"
        j["results"] = (ok, bad, unproc)

    def plan_columns(self, j, header):
        obj, op, schema = j["object"], j["operation"], self.schema
        cols, seen = [], set()
        for h in header:
            if h.lower() in seen:
                raise JobFail("InvalidBatch : Duplicate field name: %s" % h)
            seen.add(h.lower())
            if op in ("delete", "hardDelete") and h.lower() != "id":
                raise JobFail("InvalidBatch : Field name not found : %s (a delete job takes only the Id column)" % h)
            if "." not in h:
                if ":" in h:
                    raise JobFail("InvalidBatch : Field name not found : %s" % h)
                f = schema.field(obj, h)
                if f is None:
                    raise JobFail("InvalidBatch : Field name not found : %s" % h)
                cols.append(("field", f))
                continue
            prefix, _, rest = h.rpartition(":") if ":" in h else ("", "", h)
            rel, _, tname = rest.partition(".")
            if "." in tname:
                raise JobFail("InvalidBatch : Field name not found : %s (only one relationship hop is allowed)" % h)
            rf = schema.objects[obj]["rels"].get(rel.lower())
            if rf is None or not schema.visible(obj, rf) or not rf["createable"] and not rf["updateable"]:
                raise JobFail("InvalidBatch : Field name not found : %s" % h)
            targets = [t for t in rf["referenceTo"] if t in schema.objects]
            poly = len(rf["referenceTo"]) > 1
            if prefix:
                tobj = schema.obj(prefix)
                if not poly:
                    raise JobFail("InvalidBatch : Field name not found : %s (%s is not polymorphic; drop the %s: prefix)"
                                  % (h, rf["relationshipName"], prefix))
                if tobj is None or tobj not in rf["referenceTo"]:
                    raise JobFail("InvalidBatch : Field name not found : %s (%s cannot point to %s)"
                                  % (h, rf["relationshipName"], prefix))
            elif poly and rf["relationshipName"] == "Owner" and "User" in rf["referenceTo"]:
                tobj = "User"
            elif poly:
                raise JobFail("InvalidBatch : Field name not found : %s (polymorphic relationship %s needs an object "
                              "type prefix, e.g. %s:%s)" % (h, rf["relationshipName"], rf["referenceTo"][0], h))
            else:
                tobj = targets[0] if targets else None
            if tobj is None or tobj not in schema.objects:
                raise JobFail("InvalidBatch : Field name not found : %s" % h)
            tf = schema.field(tobj, tname)
            if tf is None:
                raise JobFail("InvalidBatch : Field name not found : %s" % h)
            if not (tf["externalId"] or tf["idLookup"]):
                raise JobFail("InvalidBatch : Field name not found : %s (%s.%s is not an External ID or idLookup "
                              "field)" % (h, tobj, tf["name"]))
            cols.append(("rel", rf, tobj, tf))
        names = [c[1]["name"] for c in cols if c[0] == "field"]
        if op in ("update", "delete", "hardDelete") and "Id" not in names:
            raise JobFail("InvalidBatch : Field name not found : Id (the Id column is required for %s)" % op)
        if op == "upsert" and j["externalIdFieldName"] not in names:
            raise JobFail("InvalidBatch : The upsert key %s is not a column of the CSV" % j["externalIdFieldName"])
        return cols

    def ingest_row(self, j, cols, cells, ctx, seen_keys):
        obj, op, store = j["object"], j["operation"], self.store
        vals, rid, fk_set = {}, None, {}
        for c, cell in zip(cols, cells):
            if c[0] == "field":
                f = c[1]
                if f["name"] == "Id":
                    if cell == "":
                        if op != "insert" and op != "upsert":
                            raise RowError("MISSING_ARGUMENT", "Id not specified in an %s call" % op)
                        continue
                    if op == "insert":
                        raise RowError("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
                    rid = norm_id(cell)
                    if rid is None:
                        raise RowError("MALFORMED_ID", "bad id %s" % cell, ["Id"])
                    if j["externalIdFieldName"] != "Id":
                        continue
                if cell == "":
                    continue
                if cell == "#N/A":
                    vals[f["name"]] = None
                else:
                    vals[f["name"]] = coerce(f, cell, "csv")
                if f["type"] == "reference":
                    fk_set.setdefault(f["name"], []).append(f["name"])
            else:
                _, rf, tobj, tf = c
                if cell == "":
                    continue
                fk_set.setdefault(rf["name"], []).append("%s.%s" % (rf["relationshipName"], tf["name"]))
                if cell == "#N/A":
                    vals[rf["name"]] = None
                    continue
                try:
                    key = coerce(tf, cell, "csv")
                except RowError:
                    key = cell
                ids = store.find(tobj, tf, key)
                if not ids:
                    raise RowError("INVALID_FIELD", "Foreign key external ID: %s not found for field %s in entity %s"
                                   % (cell, tf["name"], tobj))
                if len(ids) > 1:
                    raise RowError("INVALID_FIELD", "More than 1 record found for External ID field %s in entity %s: "
                                   "%s" % (tf["name"], tobj, cell))
                vals[rf["name"]] = ids[0]
        for fk, srcs in fk_set.items():
            if len(srcs) > 1:
                raise RowError("INVALID_FIELD", "More than one value for %s in the row: %s" % (fk, ", ".join(srcs)), [fk])
        if op in ("delete", "hardDelete"):
            o = store.obj_of_id(rid)
            if o != obj:
                raise RowError("INVALID_CROSS_REFERENCE_KEY" if o is None else "MALFORMED_ID",
                               "invalid cross reference id" if o is None else "id value of incorrect type: %s" % rid)
            store.delete(obj, rid)
            return rid, False
        if op == "update":
            if store.obj_of_id(rid) != obj:
                raise RowError("MALFORMED_ID", "Record ID: id value of incorrect type: %s" % rid, ["Id"])
            vals.pop("Id", None)
            return store.write(obj, "update", vals, ctx, rid=rid), False
        if op == "insert":
            return store.write(obj, "insert", vals, ctx), True
        ext = j["externalIdFieldName"]
        f = self.schema.field(obj, ext)
        key = rid if ext == "Id" else vals.pop(ext, None)
        if key is None:
            raise RowError("REQUIRED_FIELD_MISSING", "Required fields are missing: [%s]" % ext, [ext])
        if ext != "Id" and seen_keys.get(str(key).lower() if isinstance(key, str) else key, 0) > 1:
            raise RowError("DUPLICATE_VALUE", "Duplicate external id specified: %s" % key, [ext])
        ids = store.find(obj, f, key)
        if len(ids) > 1:
            raise RowError("DUPLICATE_EXTERNAL_ID", "%s: more than one record found for external id field: [%s]"
                           % (ext, ", ".join(ids)), [ext])
        if ids:
            return store.write(obj, "update", vals, ctx, rid=ids[0]), False
        if ext == "Id":
            raise RowError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
        vals[ext] = key
        return store.write(obj, "insert", vals, ctx), True

    def results_csv(self, j, which):
        if which == "unprocessedrecords":
            if j["state"] not in ("Failed", "Aborted", "JobComplete"):
                raise ApiError(400, "InvalidJobState", "Job %s is %s; results are available once it is complete, "
                               "failed or aborted" % (j["id"], j["state"]))
            rows = j.get("results", ([], [], []))[2]
            return csv_text(j.get("header", []), rows, DELIMS[j["columnDelimiter"]], "\n" if j["lineEnding"] == "LF" else "\r\n")
        if j["state"] not in ("JobComplete", "Failed", "Aborted"):
            raise ApiError(400, "InvalidJobState", "Job %s is %s; results are available once it is complete"
                           % (j["id"], j["state"]))
        ok, bad, _ = j.get("results", ([], [], []))
        hdr = j.get("header", [])
        eol = "\n" if j["lineEnding"] == "LF" else "\r\n"
        if which == "successfulResults":
            return csv_text(["sf__Id", "sf__Created"] + hdr, ok, DELIMS[j["columnDelimiter"]], eol)
        return csv_text(["sf__Id", "sf__Error"] + hdr, bad, DELIMS[j["columnDelimiter"]], eol)

    def delete_job(self, table, j):
        if j["state"] not in ("UploadComplete", "JobComplete", "Aborted", "Failed") or \
                (j["state"] == "UploadComplete" and j.get("jobType") != "V2Query" and False):
            raise ApiError(400, "InvalidJobState", "Job %s is %s and cannot be deleted" % (j["id"], j["state"]))
        del table[j["id"]]
        return 204, None

    # ---- Bulk 2.0 query
    def create_query_job(self, body, ctx, ver):
        if not isinstance(body, dict) or body.get("operation") not in ("query", "queryAll") or \
                not isinstance(body.get("query"), str):
            raise ApiError(400, "API_ERROR", "operation must be query or queryAll and query must be a SOQL string")
        le, cd = body.get("lineEnding", "LF"), body.get("columnDelimiter", "COMMA")
        if le not in ("LF", "CRLF") or cd not in DELIMS:
            raise ApiError(400, "API_ERROR", "invalid lineEnding or columnDelimiter")
        try:
            s = Soql(body["query"], self.schema)
        except SoqlError as e:
            code = "API_ERROR" if "not supported" in e.message else e.code
            raise ApiError(400, code, e.message)
        self.store.n += 1
        jid = make_id("750", self.store.n)
        now = fmt_dt(now_utc())
        j = {"id": jid, "operation": body["operation"], "object": s.obj, "createdById": ctx["user"],
             "createdDate": now, "systemModstamp": now, "state": "UploadComplete", "concurrencyMode": "Parallel",
             "contentType": "CSV", "apiVersion": float(ver), "jobType": "V2Query", "lineEnding": le,
             "columnDelimiter": cd, "query": body["query"], "soql": s, "processed": 0, "failed": 0, "polls": 0}
        self.qjobs[jid] = j
        self.counters["query_jobs"] += 1
        return 200, self.job_info(j, full=False)

    def run_query_job(self, j):
        s = j["soql"]
        j["rows"] = [s.csv_row(self.store, r) for r in s.run(self.store)]
        j["processed"] = len(j["rows"])
        j["state"] = "JobComplete"

    def query_results(self, j, query, ver):
        if float(ver) != j["apiVersion"]:
            raise ApiError(409, "API_VERSION_MISMATCH", "The job was created with API version %s; fetch its results "
                           "with the same version" % j["apiVersion"])
        if j["state"] != "JobComplete":
            raise ApiError(412, "JOB_NOT_COMPLETE", "Job %s is %s; results are available once it is JobComplete"
                           % (j["id"], j["state"]))
        rows = j["rows"]
        start = 0
        loc = query.get("locator", [None])[0]
        if loc not in (None, ""):
            try:
                start = int(base64.b64decode(loc).decode())
            except Exception:
                raise ApiError(400, "INVALID_LOCATOR", "invalid locator")
        mx = query.get("maxRecords", [None])[0]
        n = int(mx) if mx and mx.isdigit() and int(mx) > 0 else 50000
        page = rows[start:start + n]
        nxt = base64.b64encode(str(start + n).encode()).decode() if start + n < len(rows) else "null"
        delim, eol = DELIMS[j["columnDelimiter"]], ("\n" if j["lineEnding"] == "LF" else "\r\n")
        lines = [delim.join('"%s"' % p["label"].replace('"', '""') for p in j["soql"].fields)]
        for r in page:
            lines.append(delim.join('"%s"' % c.replace('"', '""') for c in r))
        return (eol.join(lines) + eol).encode(), {"Sforce-Locator": nxt, "Sforce-NumberOfRecords": str(len(page))}

    # ---- admin
    def admin(self, method, path, body):
        parts = path.split("/")[2:]   # after /__emu
        with self.lock:
            if parts[0] == "records" and len(parts) == 2:
                obj = self.schema.obj(parts[1])
                if obj is None:
                    raise ApiError(404, "NOT_FOUND", "unknown object %s" % parts[1])
                fields = self.schema.objects[obj]["fields"]
                if method == "GET":
                    return 200, [{k: json_value(fields[k], v) if k in fields else v for k, v in r.items()}
                                 for r in self.store.recs.get(obj, {}).values()]
                if method == "POST":
                    if not isinstance(body, list):
                        raise ApiError(400, "JSON_PARSER_ERROR", "expected a JSON list of records")
                    ids = []
                    undo = []
                    try:
                        for rec in body:
                            vals = {}
                            for k, v in rec.items():
                                f = self.schema.field(obj, k, any_fls=True)
                                if f is None:
                                    raise RowError("INVALID_FIELD", "No such field %s.%s" % (obj, k), [k])
                                vals[f["name"]] = None if v is None else coerce(f, v, "json")
                            ids.append(self.store.write(obj, "insert", vals, {"user": self.users[0]}, undo=undo,
                                                        admin=True))
                    except RowError as e:
                        self.store.rollback(undo)
                        raise ApiError(400, e.code, e.message, e.fields)
                    return 200, {"ids": ids}
            if parts == ["stats"] and method == "GET":
                by_state = {}
                for j in list(self.jobs.values()):
                    by_state[j["state"]] = by_state.get(j["state"], 0) + 1
                return 200, {"requests": self.stats["requests"], "jobs_created": self.stats["jobs_created"],
                             "ingest_jobs_by_state": by_state, "query_jobs": len(self.qjobs),
                             "uploads": self.stats["uploads"], "rows_processed": self.stats["rows_processed"],
                             "api_usage": {"used": self.api_used, "max": self.a.api_max},
                             "records": {o: len(r) for o, r in self.store.recs.items() if r},
                             "seed": {"org_id": ORG_ID, "folder_id": FOLDER_ID, "users": self.users}}
            if parts == ["faults"] and method == "POST":
                return 200, self.set_faults(body)
            if parts == ["faults"] and method == "GET":
                return 200, {"faults": self.faults}
            if parts == ["deploy"] and method == "POST":
                if not isinstance(body, dict) or not isinstance(body.get("dir"), str):
                    raise ApiError(400, "INVALID_DEPLOY", "expected {\"dir\": PATH}")
                try:
                    res = self.schema.deploy_tree(body["dir"])
                except DeployError as e:
                    raise ApiError(400, "DEPLOY_FAILED", str(e))
                for o in self.schema.objects:
                    self.store.ensure(o)
                    self.store.rebuild_index(o)
                return 200, res
            if parts == ["reset"] and method == "POST":
                self.reset()
                self.api_used = 0
                self.counters = {k: 0 for k in self.counters}
                self.stats = {"requests": {}, "uploads": 0, "rows_processed": 0, "jobs_created": 0}
                self.faults = {}
                return 200, {"reset": True}
            if parts == ["refresh_token"] and method == "POST":
                user = self.users[0]
                if isinstance(body, dict) and body.get("username"):
                    u = self.store.find("User", self.schema.objects["User"]["fields"]["Username"], body["username"])
                    if not u:
                        raise ApiError(404, "NOT_FOUND", "no such user")
                    user = u[0]
                rt = "5Aep" + secrets.token_urlsafe(40)
                self.refresh_tokens[rt] = user
                return 200, {"refresh_token": rt, "user": user}
        raise ApiError(404, "NOT_FOUND", "no admin endpoint %s %s" % (method, path))


# --------------------------------------------------------------------------- HTTP

V = r"/services/data/v(?P<ver>\d+\.0)"
ROUTES = [(m, re.compile("^" + p + "/?$"), name) for m, p, name in [
    ("GET", V + "", "resources"),
    ("GET", V + "/limits", "limits"),
    ("GET", V + "/sobjects", "global_describe"),
    ("GET", V + "/sobjects/(?P<obj>[A-Za-z0-9_]+)/describe", "describe"),
    ("POST", V + "/sobjects/FieldPermissions", "field_permissions"),
    ("GET|POST", V + "/sobjects/(?P<obj>[A-Za-z0-9_]+)", "sobject"),
    ("GET|PATCH|DELETE", V + "/sobjects/(?P<obj>[A-Za-z0-9_]+)/(?P<id>[A-Za-z0-9]{15}|[A-Za-z0-9]{18})", "record"),
    ("PATCH", V + "/sobjects/(?P<obj>[A-Za-z0-9_]+)/(?P<field>[A-Za-z0-9_]+)/(?P<value>[^/]+)", "upsert"),
    ("POST|PATCH|DELETE", V + "/composite/sobjects", "collections"),
    ("PATCH", V + "/composite/sobjects/(?P<obj>[A-Za-z0-9_]+)/(?P<field>[A-Za-z0-9_]+)", "collections_upsert"),
    ("GET", V + "/query", "query"),
    ("GET", V + "/queryAll", "query"),
    ("GET", V + "/query/(?P<loc>[A-Za-z0-9]+-\\d+)", "query_more"),
    ("POST", V + "/tooling/sobjects/CustomField", "tooling_customfield"),
    ("POST|GET", V + "/jobs/ingest", "ingest_jobs"),
    ("GET|PATCH|DELETE", V + "/jobs/ingest/(?P<job>750[A-Za-z0-9]{15})", "ingest_job"),
    ("PUT", V + "/jobs/ingest/(?P<job>750[A-Za-z0-9]{15})/batches", "ingest_upload"),
    ("GET", V + "/jobs/ingest/(?P<job>750[A-Za-z0-9]{15})/(?P<which>successfulResults|failedResults|unprocessedrecords)", "ingest_results"),
    ("POST|GET", V + "/jobs/query", "query_jobs"),
    ("GET|PATCH|DELETE", V + "/jobs/query/(?P<job>750[A-Za-z0-9]{15})", "query_job"),
    ("GET", V + "/jobs/query/(?P<job>750[A-Za-z0-9]{15})/results", "query_results"),
]]
ROUTE_LABEL = {"resources": "/", "limits": "/limits", "global_describe": "/sobjects",
               "describe": "/sobjects/{obj}/describe", "field_permissions": "/sobjects/FieldPermissions",
               "sobject": "/sobjects/{obj}", "record": "/sobjects/{obj}/{id}", "upsert": "/sobjects/{obj}/{field}/{value}",
               "collections": "/composite/sobjects", "collections_upsert": "/composite/sobjects/{obj}/{field}",
               "query": "/query", "query_more": "/query/{locator}", "tooling_customfield": "/tooling/sobjects/CustomField",
               "ingest_jobs": "/jobs/ingest", "ingest_job": "/jobs/ingest/{id}", "ingest_upload": "/jobs/ingest/{id}/batches",
               "ingest_results": "/jobs/ingest/{id}/{results}", "query_jobs": "/jobs/query",
               "query_job": "/jobs/query/{id}", "query_results": "/jobs/query/{id}/results"}


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass    # dropped connections (the "drop" fault) and client hang-ups are expected


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    emu = None
    host_kind = "instance"

    def log_message(self, *args):
        pass

    def read_body(self):
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, status, body, ctype="application/json;charset=UTF-8", headers=None):
        if body is None:
            data = b""
        elif isinstance(body, bytes):
            data = body
        else:
            data = json.dumps(body).encode()
        self.send_response(status)
        if body is not None or status not in (201, 204):
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
            body = self.read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        if path.startswith("/__emu/"):
            if self.host_kind != "instance":
                return self.send(404, [{"errorCode": "NOT_FOUND", "message": "admin endpoints live on the instance host"}])
            try:
                data = json.loads(body) if body else None
            except ValueError:
                return self.send(400, [{"errorCode": "JSON_PARSER_ERROR", "message": "bad JSON"}])
            try:
                st, out = emu.admin(self.command, path, data)
            except ApiError as e:
                return self.send(e.status, e.body())
            return self.send(st, out)
        subject = "%s %s" % (self.command, path)
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
        for kind, st, code, msg in (("http503", 503, "SERVER_UNAVAILABLE", "Server temporarily unavailable"),
                                    ("http500", 500, "UNKNOWN_EXCEPTION", "An unexpected error occurred"),
                                    ("limit_exceeded", 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")):
            if emu.fault(kind, subject):
                return self.send(st, [{"message": msg, "errorCode": code}],
                                 headers={"Sforce-Limit-Info": emu.limit_info()})
        label = path
        try:
            if path == "/services/oauth2/token":
                label = "/services/oauth2/token"
                if self.command != "POST":
                    raise ApiError(405, "METHOD_NOT_ALLOWED", "HTTP Method '%s' not allowed. Allowed are POST" % self.command)
                st, out = emu.token_endpoint(self, body)
                return self.send(st, out)
            if self.host_kind == "login":
                raise ApiError(404, "NOT_FOUND", "The requested resource does not exist (the API lives on instance_url)")
            if path.rstrip("/") == "/services/data":
                label = "/services/data"
                return self.send(200, [{"label": "Summer '26", "url": "/services/data/v%s" % API_VERSION,
                                        "version": API_VERSION}])
            route = None
            for methods, rx, name in ROUTES:
                m = rx.match(path)
                if m:
                    route = (methods, m, name)
                    if self.command in methods.split("|"):
                        break
            if route is None:
                raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
            methods, m, name = route
            label = "/services/data/vXX.X" + ROUTE_LABEL[name]
            if self.command not in methods.split("|"):
                raise ApiError(405, "METHOD_NOT_ALLOWED", "HTTP Method '%s' not allowed. Allowed are %s"
                               % (self.command, methods.replace("|", ",")))
            ver = m.group("ver")
            if not MIN_VERSION <= int(float(ver)) <= MAX_VERSION:
                raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
            ctx = emu.auth(self)
            with emu.lock:
                if emu.api_used >= emu.a.api_max:
                    raise ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
                emu.api_used += 1
                key = "%s %s" % (self.command, label)
                emu.stats["requests"][key] = emu.stats["requests"].get(key, 0) + 1
                st, out, ctype, hdrs = self.dispatch(name, m, query, body, ctx, ver, subject)
            hdrs["Sforce-Limit-Info"] = emu.limit_info()
            return self.send(st, out, ctype, hdrs)
        except ApiError as e:
            if e.fields is None and not label.startswith("/services/data/vXX.X/jobs") and e.code != "INVALID_SESSION_ID" \
                    and e.code != "REQUEST_LIMIT_EXCEEDED":
                e.fields = []
            key = "%s %s" % (self.command, label)
            with emu.lock:
                emu.stats["requests"][key] = emu.stats["requests"].get(key, 0) + 1
            hdrs = dict(e.headers)
            if label.startswith("/services/data/v"):
                hdrs["Sforce-Limit-Info"] = emu.limit_info()
            return self.send(e.status, e.body(), headers=hdrs)

    def json_body(self, body):
        if not body:
            return None
        try:
            return json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "JSON_PARSER_ERROR", "The request body is not valid JSON")

    def dispatch(self, name, m, query, body, ctx, ver, subject):
        emu, cmd = self.emu, self.command
        base = "/services/data/v%s" % ver
        J = "application/json;charset=UTF-8"
        g = m.groupdict()
        if name == "resources":
            return 200, {k: "%s/%s" % (base, k) for k in ("sobjects", "query", "queryAll", "limits", "composite",
                                                          "jobs", "tooling")}, J, {}
        if name == "limits":
            return 200, emu.limits(), J, {}
        if name == "global_describe":
            objs = [dict(o["meta"], urls={"sobject": "%s/sobjects/%s" % (base, n)}) for n, o in emu.schema.objects.items()]
            return 200, {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": objs}, J, {}
        if name == "field_permissions":
            st, out = emu.field_permissions(self.json_body(body))
            return st, out, J, {}
        if name == "tooling_customfield":
            st, out = emu.tooling_customfield(self.json_body(body))
            return st, out, J, {}
        if name in ("describe", "sobject", "record", "upsert", "collections_upsert"):
            obj = emu.obj_or_404(g["obj"])
            if name == "describe":
                return 200, emu.schema.describe(obj, base), J, {}
            if name == "sobject":
                if cmd == "GET":
                    return 200, {"objectDescribe": emu.schema.objects[obj]["meta"], "recentItems": []}, J, {}
                st, out = emu.sobject_create(obj, self.json_body(body), ctx)
                return st, out, J, {}
            if name == "record":
                if cmd == "GET":
                    st, out = emu.sobject_get(obj, g["id"], query.get("fields", [None])[0], base)
                elif cmd == "PATCH":
                    st, out = emu.sobject_update(obj, g["id"], self.json_body(body) or {}, ctx)
                else:
                    st, out = emu.sobject_delete(obj, g["id"])
                return st, out, J, {}
            if name == "upsert":
                rec = self.json_body(body) or {}
                f = emu.schema.field(obj, g["field"])
                if f is None or not (f["externalId"] or f["idLookup"]):
                    raise ApiError(404, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: "
                                   "%s" % g["field"])
                value = urllib.parse.unquote(g["value"])
                ids = emu.store.find(obj, f, value)
                if len(ids) > 1:
                    return 300, ["%s/sobjects/%s/%s" % (base, obj, i) for i in ids], J, {}
                try:
                    rid, created = emu.upsert_one(obj, f["name"], value, rec, ctx)
                except RowError as e:
                    raise ApiError(400, e.code, e.message, e.fields)
                return (201 if created else 200), {"id": rid, "success": True, "errors": [], "created": created}, J, {}
            st, out = emu.collections("PATCH", self.json_body(body), query, ctx, obj=obj, extfield=g["field"])
            return st, out, J, {}
        if name == "collections":
            st, out = emu.collections(cmd, self.json_body(body) if cmd != "DELETE" else None, query, ctx)
            return st, out, J, {}
        if name in ("query", "query_more"):
            batch = emu.a.page_size
            opt = self.headers.get("Sforce-Query-Options") or ""
            mm = re.search(r"batchSize=(\d+)", opt)
            if mm:
                batch = min(batch, max(200, min(2000, int(mm.group(1)))))
            if name == "query_more":
                st, out = emu.query_more(g["loc"], base, batch)
            else:
                q = query.get("q", [None])[0]
                if not q:
                    raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
                st, out = emu.query(q, ctx, base, batch)
            return st, out, J, {}
        if name == "ingest_jobs":
            if cmd == "GET":
                mine = [emu.job_info(j, full=False) for j in emu.jobs.values() if j["createdById"] == ctx["user"]]
                return 200, {"done": True, "records": mine[:1000], "nextRecordsUrl": None}, J, {}
            st, out = emu.create_ingest(self, self.json_body(body), ctx, ver)
            return st, out, J, {}
        if name == "query_jobs":
            if cmd == "GET":
                mine = [emu.job_info(j, full=False) for j in emu.qjobs.values() if j["createdById"] == ctx["user"]]
                return 200, {"done": True, "records": mine, "nextRecordsUrl": None}, J, {}
            st, out = emu.create_query_job(self.json_body(body), ctx, ver)
            return st, out, J, {}
        table = emu.qjobs if name.startswith("query") else emu.jobs
        j = emu.get_job(table, g["job"], ctx)
        if name in ("ingest_job", "query_job"):
            if cmd == "GET":
                emu.advance(j)
                return 200, emu.job_info(j), J, {}
            if cmd == "PATCH":
                st, out = emu.patch_job(j, self.json_body(body))
                return st, out, J, {}
            st, out = emu.delete_job(table, j)
            return st, out, J, {}
        if name == "ingest_upload":
            st, out = emu.upload(self, j, body, subject)
            return st, out, J, {}
        if name == "ingest_results":
            return 200, emu.results_csv(j, g["which"]), "text/csv", {}
        if name == "query_results":
            data, hdrs = emu.query_results(j, query, ver)
            return 200, data, "text/csv", hdrs
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")


def main(argv=None):
    ap = argparse.ArgumentParser(description="Strict local Salesforce emulator (see README.md)")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--describe-dir", default=DEFAULT_DESCRIBE)
    ap.add_argument("--sfdx", action="append", default=[])
    ap.add_argument("--client-id", default="mapc-test-client")
    ap.add_argument("--client-secret", default="mapc-test-secret")
    ap.add_argument("--token-ttl", type=float, default=7200)
    ap.add_argument("--poll-delay", type=int, default=2)
    ap.add_argument("--page-size", type=int, default=2000)
    ap.add_argument("--max-upload-bytes", type=int, default=150 * 1024 * 1024)
    ap.add_argument("--api-max", type=int, default=100000)
    ap.add_argument("--audit-fields", action="store_true")
    ap.add_argument("--allow-hard-delete", action="store_true")
    ap.add_argument("--max-custom-fields", type=int, default=500)
    ap.add_argument("--max-batches", type=int, default=15000)
    ap.add_argument("--max-records", type=int, default=150000000)
    ap.add_argument("--data-storage-mb", type=int, default=1024)
    ap.add_argument("--org-id", default=None, help="another org's 18-character id (a second org in tests)")
    a = ap.parse_args(argv)
    if a.org_id:
        global ORG_ID
        ORG_ID = a.org_id
    try:
        emu = Emu(a)
        for d in a.sfdx:
            emu.schema.deploy_tree(d)
        for o in emu.schema.objects:
            emu.store.ensure(o)
            emu.store.rebuild_index(o)
    except (DeployError, OSError, ValueError) as e:
        print("sfemu: deploy failed: %s" % e, file=sys.stderr)
        return 2
    servers = []
    for kind in ("login", "instance"):
        h = type("H_" + kind, (Handler,), {"emu": emu, "host_kind": kind})
        srv = Server(("127.0.0.1", 0), h)
        servers.append(srv)
    emu.login_url = "http://127.0.0.1:%d" % servers[0].server_address[1]
    emu.instance_url = "http://127.0.0.1:%d" % servers[1].server_address[1]
    t = threading.Thread(target=servers[0].serve_forever, daemon=True)
    t.start()
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as fh:
        json.dump({"login_url": emu.login_url, "instance_url": emu.instance_url, "pid": os.getpid()}, fh)
    os.replace(tmp, a.port_file)
    try:
        servers[1].serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
