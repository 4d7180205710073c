#!/usr/bin/env python3
"""genworkspace: write a synthetic Customer.io workspace for cioemu.py.

    python3 genworkspace.py --out DIR --people N [--seed S]

Python 3 standard library only. The output is deterministic for (N, seed). See README.md next
to this file for the layout of DIR and of DIR/expected.json.
"""
import argparse
import base64
import hashlib
import json
import os
import random
import sys

NOW = 1767225600            # 2026-01-01T00:00:00Z: every timestamp in a workspace is before this
DAY = 86400
FREE_MAIL = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com", "aol.com", "proton.me",
             "gmx.de", "yahoo.co.uk", "live.com"]
STAGES = ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "customer", "evangelist"]
LEAD_STAGES = {"subscriber", "lead", "marketingqualifiedlead"}
CONTACT_STAGES = {"salesqualifiedlead", "customer", "evangelist"}
FIRST = ["Alice", "Bob", "Carla", "Dev", "Erin", "Farah", "Gus", "Hana", "Ivan", "Jade", "Kofi", "Lena", "Marco",
         "Nina", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Victor", "Wen", "Xavi", "Yara", "Zane"]
LAST = ["Smith", "Jones", "Garcia", "Chen", "Okafor", "Muller", "Rossi", "Tanaka", "Kowalski", "Silva", "Nguyen",
        "Brown", "Dubois", "Haddad", "Larsen", "Patel"]
UNICODE_NAMES = [("Zoë", "Ångström"), ("José", "Muñoz"), ("Søren", "Kierkegård"), ("Ayşe", "Yılmaz"),
                 ("Дмитрий", "Иванов"), ("李", "小龙"), ("Chloé", "Lefèvre 🙂")]
WORDS = ["acme", "globex", "initech", "umbrella", "hooli", "vandelay", "stark", "wayne", "tyrell", "cyberdyne",
         "soylent", "wonka", "oscorp", "aperture", "massive", "dunder", "prestige", "zenith", "nimbus", "vertex"]
TLDS = ["com", "io", "co", "net", "de", "fr"]
INDUSTRIES = ["Software", "Retail", "Finance", "Healthcare", "Manufacturing", "Education", None]
EVENTS = ["signed_up", "purchase", "plan_upgraded", "invited_teammate", "login", "downloaded_whitepaper"]
PAGES = ["https://example.com/pricing", "https://example.com/docs/start", "https://example.com/blog/launch",
         "https://example.com/contact?ref=ad"]
EMAIL_METRIC_PATHS = [
    ["created", "sent", "delivered"],
    ["created", "sent", "delivered", "opened", "human_opened"],
    ["created", "sent", "delivered", "opened", "human_opened", "clicked", "human_clicked"],
    ["created", "sent", "delivered", "opened", "prefetch_opened"],
    ["created", "sent", "bounced"],
    ["created", "undeliverable"],
    ["created", "sent", "delivered", "spammed"],
    ["created", "sent", "delivered", "opened", "unsubscribed"],
    ["created", "sent", "delivered", "opened", "clicked", "converted"],
    ["created", "dropped"],
    ["created", "failed"],
    ["created", "drafted"],
]
HARD_CASES = ["stage_odd_case", "stage_whitespace", "stage_missing", "stage_unknown", "stage_empty", "free_mail",
              "business_domain", "shared_email", "email_only", "no_last_name", "unicode_name", "long_title",
              "long_email", "stringified_json", "companies_0", "companies_1", "companies_2", "deleted",
              "suppressed", "unsubscribed", "device_ios", "device_android", "no_devices_null",
              "numeric_id", "text_id", "business_domain_without_company", "forgotten_delivery"]


def h(*parts):
    return hashlib.sha1(":".join(str(p) for p in parts).encode()).hexdigest()


def ulid(rng, ts):
    alpha = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    t, s = ts * 1000 + rng.randrange(1000), ""
    for _ in range(10):
        s = alpha[t % 32] + s
        t //= 32
    return s + "".join(rng.choice(alpha) for _ in range(16))


def delivery_id(seed, n):
    raw = hashlib.sha256(("d:%s:%d" % (seed, n)).encode()).digest()[:28]
    return base64.urlsafe_b64encode(raw).decode()      # 40 characters, base64-like, may end in "="


class Gen:
    def __init__(self, n, seed):
        self.n, self.seed = n, seed
        self.rng = random.Random("cio:%s:%d" % (seed, n))
        self.cio_ids = set()
        self.hard = {k: [] for k in HARD_CASES}

    def cio_id(self, kind, i):
        salt = 0
        while True:
            c = h(self.seed, kind, i, salt)[:10]
            if c not in self.cio_ids:
                self.cio_ids.add(c)
                return c
            salt += 1

    # ------------------------------------------------------------------ metadata
    def metadata(self):
        rng = self.rng
        topics = [{"id": i, "identifier": "topic_%d" % i, "name": name, "description": desc,
                   "subscribed_by_default": sub}
                  for i, (name, desc, sub) in enumerate([("Product updates", "New features", True),
                                                         ("Newsletter", "Monthly digest", True),
                                                         ("Offers", None, False)], 1)]
        object_types = [
            {"id": "1", "name": "Companies", "singular_name": "Company", "slug": "companies",
             "singular_slug": "company", "enabled": True, "icon": "building"},
            {"id": "2", "name": "Projects", "singular_name": "Project", "slug": "projects",
             "singular_slug": "project", "enabled": True, "icon": "folder"},
        ]
        segments = [
            {"id": 1, "deduplicate_id": "1:%d" % (NOW - 40 * DAY), "name": "Customers", "description":
             "lifecycle_stage is customer", "type": "dynamic", "state": "finished", "progress": None, "tags": None,
             "created_at": NOW - 300 * DAY, "updated_at": NOW - 40 * DAY,
             "conditions": {"and": [{"attribute": {"field": "lifecycle_stage", "operator": "eq", "value": "customer"}}]}},
            {"id": 2, "deduplicate_id": "2:%d" % (NOW - 20 * DAY), "name": "Purchased in 30 days",
             "description": None, "type": "dynamic", "state": "finished", "progress": None, "tags": ["revenue"],
             "created_at": NOW - 200 * DAY, "updated_at": NOW - 20 * DAY,
             "conditions": {"and": [{"event": {"id": 0, "name": "purchase", "type": "event",
                                               "filters": {"and": [{"field": "amount", "operator": "gt",
                                                                    "value": "10", "inverse": False}]}},
                                     "inverse": False, "times": 1, "within": 30 * DAY}]}},
            {"id": 3, "deduplicate_id": "3:%d" % (NOW - 10 * DAY), "name": "VIP list (imported)",
             "description": "uploaded CSV", "type": "manual", "state": "finished", "progress": None,
             "tags": None, "created_at": NOW - 100 * DAY, "updated_at": NOW - 10 * DAY, "conditions": None},
            {"id": 4, "deduplicate_id": "4:%d" % (NOW - 5 * DAY), "name": "Beta testers", "description": None,
             "type": "manual", "state": "finished", "progress": None, "tags": ["beta", "product"],
             "created_at": NOW - 90 * DAY, "updated_at": NOW - 5 * DAY, "conditions": None},
            {"id": 5, "deduplicate_id": "5:%d" % (NOW - DAY), "name": "Building", "description": None,
             "type": "dynamic", "state": "build", "progress": 42, "tags": None,
             "created_at": NOW - DAY, "updated_at": NOW - DAY,
             "conditions": {"or": [{"attribute": {"field": "plan", "operator": "eq", "value": "pro"}},
                                   {"not": {"attribute": {"field": "phone", "operator": "exists"}}}]}},
        ]
        body = "<html><body><p>Hi {{customer.first_name}},</p><p>%s</p></body></html>"
        acts, cid = {}, []
        actions_by_campaign, next_action = {}, 100

        def action(owner_key, owner_id, typ, i, state="automatic"):
            nonlocal next_action
            next_action += 1
            a = {"id": next_action, owner_key: owner_id, "parent_action_id": None,
                 "deduplicate_id": "%d:%d" % (next_action, NOW - 30 * DAY), "name": "%s %d" % (typ, i),
                 "created": NOW - 200 * DAY, "updated": NOW - 30 * DAY, "type": typ, "sending_state": state,
                 "layout": None, "body": None, "body_amp": None, "language": "", "from": None, "from_id": None,
                 "reply_to": None, "reply_to_id": None, "preprocessor": None, "recipient": None, "subject": None,
                 "bcc": None, "fake_bcc": False, "preheader_text": None, "headers": {}}
            if typ == "email":
                a.update({"layout": "{{ content }}", "body": body % ("Step %d" % i), "from_id": 1,
                          "from": "Team <team@mapc-demo.com>", "recipient": "{{customer.email}}",
                          "subject": "Step %d" % i, "preprocessor": "premailer", "preheader_text": "Read me",
                          "headers": {"X-Campaign": str(owner_id)}})
            elif typ == "webhook":
                a.update(url="https://hooks.example.com/cio", method="post", body='{"id":"{{customer.id}}"}',
                         headers={"Content-Type": "application/json"})
            elif typ == "twilio":
                a.update(body="Your code is {{event.code}}", recipient="{{customer.phone}}", image_url=None)
            elif typ == "push":
                a.update(body='{"title":"Hello","body":"Come back"}', recipient=None)
            elif typ == "slack":
                a.update(body="New signup: {{customer.email}}", url="https://hooks.slack.com/x")
            return a

        campaigns = []
        specs = [
            (1, "segment", "Onboarding", ["email", "email", "push", "email", "twilio", "email", "email", "webhook",
                                          "email", "email", "email", "slack"], {"trigger_segment_ids": [1],
                                                                               "msg_templates": []}),
            (2, "event", "Cart abandoned", ["email", "push"], {"event_name": "purchase"}),
            (3, "date", "Renewal reminder", ["email"], {"frequency": "yearly", "date_attribute": "renewal_date",
                                                       "timezone": "America/New_York", "use_customer_timezone": True,
                                                       "start_hour": 9, "start_minutes": 30}),
            (4, "relationship", "Company onboarding", ["email"], {
                "object_type_id": 1, "filter_relationship_attributes": '{"and":[{"field":"role","operator":"eq","value":"admin"}]}',
                "audience": {"type": 0, "person_filters": '{"and":[]}', "relationship_filters": None},
                "relationship_attribute_triggers": '[{"field":"role"}]'}),
            (5, "object", "Company plan changed", ["webhook"], {
                "object_type_id": 1, "filter_object_attributes": '{"and":[{"field":"plan","operator":"exists"}]}',
                "audience": {"type": 1, "person_filters": None, "relationship_filters": None},
                "object_attribute_triggers": {"and": [{"field": "plan"}]}}),
            (6, "webhook", "Inbound webhook", ["email"], {"webhook_id": 77}),
            (7, "form", "Contact form", ["email", "slack"], {}),
        ]
        for cid_, typ, name, atypes, extra in specs:
            alist = [action("campaign_id", cid_, t, i + 1, "draft" if (cid_ == 2 and i == 1) else "automatic")
                     for i, t in enumerate(atypes)]
            actions_by_campaign[str(cid_)] = alist
            c = {"id": cid_, "deduplicate_id": "%d:%d" % (cid_, NOW - 30 * DAY), "name": name, "type": typ,
                 "created": NOW - 300 * DAY, "updated": NOW - 30 * DAY, "active": cid_ != 6,
                 "state": "stopped" if cid_ == 6 else ("draft" if cid_ == 7 else "running"),
                 "actions": [{"type": a["type"], "id": a["id"]} for a in alist],
                 "first_started": NOW - 290 * DAY if cid_ != 7 else 0,
                 "tags": None if cid_ % 2 else ["lifecycle", "auto"],
                 "filter_segment_ids": None if typ == "webhook" else ([1] if cid_ == 1 else [])}
            c.update(extra)
            campaigns.append(c)
        broadcasts, bactions, triggers = [], {}, {}
        for bid, name in ((20, "Black Friday"), (21, "Outage notice")):
            alist = [action("broadcast_id", bid, "email", 1)]
            bactions[str(bid)] = alist
            broadcasts.append({"id": bid, "deduplicate_id": "%d:%d" % (bid, NOW - 60 * DAY), "name": name,
                               "type": "triggered_broadcast", "created": NOW - 70 * DAY, "updated": NOW - 60 * DAY,
                               "active": bid == 20, "state": "running" if bid == 20 else "draft",
                               "actions": [{"id": a["id"], "type": "email"} for a in alist],
                               "msg_template_ids": [{"id": a["id"], "type": "email"} for a in alist],
                               "first_started": NOW - 60 * DAY if bid == 20 else 0,
                               "tags": None if bid == 21 else ["promo"]})
            triggers[str(bid)] = [{"id": 500 + bid * 2 + k, "broadcast_id": bid, "created_at": NOW - (50 - k) * DAY,
                                   "processed_at": NOW - (50 - k) * DAY + 60} for k in range(2 if bid == 20 else 0)]
        newsletters, ncontents, ncid = [], {}, 300
        for k in range(12):
            nid = 40 + k
            variants = 2 if k % 4 == 0 else 1
            clist = []
            for v in range(variants):
                ncid += 1
                c = action("newsletter_id", nid, "email", v + 1)
                c.pop("campaign_id", None)
                c.pop("parent_action_id", None)
                c.pop("sending_state", None)
                c.pop("created", None)
                c.pop("updated", None)
                c["id"], c["name"] = ncid, "Variant %s" % "AB"[v]
                c["deduplicate_id"] = "%d:%d" % (ncid, NOW - 30 * DAY)
                c["language"] = ["", "fr"][v]
                clist.append(c)
            ncontents[str(nid)] = clist
            newsletters.append({"id": nid, "deduplicate_id": "%d:%d" % (nid, NOW - (100 - k) * DAY),
                                "name": "Newsletter #%d" % (k + 1), "type": "email" if k != 5 else "push",
                                "content_ids": [c["id"] for c in clist],
                                "sent_at": NOW - (100 - 7 * k) * DAY if k < 11 else None,
                                "created": NOW - (110 - 7 * k) * DAY, "updated": NOW - (100 - 7 * k) * DAY,
                                "tags": None if k % 3 else ["monthly"], "recipient_segment_ids": [1] if k % 2 else [],
                                "subscription_topic_id": 2 if k % 2 else None})
        transactional, tcontents = [], {}
        for tid, name, hide in ((60, "Password reset", True), (61, "Receipt", False), (62, "Magic link", True)):
            transactional.append({"id": tid, "name": name, "description": None if tid == 62 else "sent by app",
                                  "send_to_unsubscribed": True, "link_tracking": tid == 61,
                                  "open_tracking": tid != 62, "hide_message_body": hide, "queue_drafts": False,
                                  "created_at": NOW - 400 * DAY, "updated_at": NOW - 20 * DAY})
            variants = []
            for v, typ in enumerate(["email"] + (["push"] if tid == 61 else [])):
                c = action("transactional_message_id", tid, typ, v + 1)
                for k in ("transactional_message_id", "campaign_id", "parent_action_id", "sending_state",
                          "deduplicate_id"):
                    c.pop(k, None)
                c["id"], c["name"] = 700 + tid * 2 + v, "%s (%s)" % (name, typ)
                variants.append(c)
            tcontents[str(tid)] = variants
        workspaces = [{"id": 111528, "name": "mapc demo (%d people, seed %s)" % (self.n, self.seed),
                       "messages_sent": 0, "billable_messages_sent": 0, "people": 0, "object_types": 2,
                       "objects": 0}]
        self.meta = {"seed": self.seed, "people": self.n, "now": NOW, "workspaces": workspaces,
                     "object_types": object_types, "subscription_topics": topics, "segments": segments,
                     "campaigns": campaigns, "campaign_actions": actions_by_campaign, "broadcasts": broadcasts,
                     "broadcast_actions": bactions, "broadcast_triggers": triggers, "newsletters": newsletters,
                     "newsletter_contents": ncontents, "transactional": transactional,
                     "transactional_contents": tcontents, "esp_suppressions": {"bounces": [], "spam_reports": []}}
        return self.meta

    # ------------------------------------------------------------------ objects
    def objects(self):
        rng = self.rng
        ncomp = max(12, self.n // 6)
        comps = []
        used = set()
        for i in range(ncomp):
            w = WORDS[i % len(WORDS)]
            dom = "%s%s.%s" % (w, "" if i < len(WORDS) else str(i // len(WORDS)), TLDS[i % len(TLDS)])
            while dom in used:
                dom = "x" + dom
            used.add(dom)
            oid = "comp-%05d" % (i + 1)
            created = NOW - rng.randrange(100, 900) * DAY
            attrs = {"name": (w.capitalize() + (" %d" % (i // len(WORDS)) if i >= len(WORDS) else "") +
                              [" Inc.", " GmbH", " SAS", " Ltd", ""][i % 5]),
                     "domain": dom, "plan": rng.choice(["free", "pro", "enterprise"]),
                     "employees": str(rng.randrange(1, 5000)), "created_at": str(created)}
            ind = INDUSTRIES[i % len(INDUSTRIES)]
            if ind:
                attrs["industry"] = ind
            if i == 3:
                attrs["name"] = "Société Générale d'Équipement — Ünïcode"
            if i == 4:
                attrs["address"] = json.dumps({"street": "1 Main St", "city": "Springfield"})
            comps.append({"object_type_id": "1", "identifiers": {"object_id": oid,
                                                                   "cio_object_id": self.cio_id("obj", i)},
                          "attributes": attrs, "timestamps": {k: created for k in attrs}})
        projects = []
        for i in range(max(3, self.n // 40)):
            created = NOW - rng.randrange(10, 300) * DAY
            attrs = {"name": "Project %d" % (i + 1), "status": rng.choice(["active", "archived"])}
            projects.append({"object_type_id": "2", "identifiers": {"object_id": "proj-%d" % (i + 1),
                                                                      "cio_object_id": self.cio_id("proj", i)},
                             "attributes": attrs, "timestamps": {k: created for k in attrs}})
        self.companies, self.projects = comps, projects
        # a few business domains have no company object
        self.orphan_domains = ["solo-consulting.com", "tinybiz.io", "freelance-studio.net"]
        return comps + projects

    # ------------------------------------------------------------------ people
    def people(self):
        rng, n = self.rng, self.n
        people, truth = [], {}
        shared_email = None
        for i in range(n):
            fixed = i < 40               # the hard cases live in the first 40 people, deterministic
            cio = self.cio_id("person", i)
            created = NOW - rng.randrange(30, 1000) * DAY
            first, last = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
            uid = str(10000 + i) if i % 9 != 5 else "usr_%s" % h(self.seed, "uid", i)[:8]
            # relationships
            k = [0, 1, 2][i % 3] if fixed else rng.choice([0, 1, 1, 1, 2])
            comps = rng.sample(self.companies, k) if k else []
            if i % 3 == 0 and not fixed:
                comps = []
            # email
            if comps and rng.random() < 0.85:
                domain = comps[0]["attributes"]["domain"]
            elif rng.random() < 0.5:
                domain = rng.choice(FREE_MAIL)
            else:
                domain = rng.choice(self.orphan_domains + [c["attributes"]["domain"] for c in self.companies[:5]])
            stage = rng.choice(STAGES)
            title = rng.choice(["CTO", "VP Sales", "Engineer", "Head of Growth", "Founder", None])
            email_local = "%s.%s%d" % (first.lower(), last.lower(), i)
            unsubscribed = rng.random() < 0.08
            devices = None if i % 4 == 0 else []
            deleted = suppressed = False
            extra = {}
            # --- fixed hard cases
            if fixed:
                if i == 0:
                    stage = " Customer "
                elif i == 1:
                    stage = "LEAD"
                elif i == 2:
                    stage = None
                elif i == 3:
                    stage = "partner"
                elif i == 4:
                    stage = ""
                elif i == 5:
                    stage = "MarketingQualifiedLead"
                elif i == 6:
                    domain = "gmail.com"
                elif i == 7:
                    domain = "yahoo.com"
                elif i == 8:
                    uid = None                                # email-only
                elif i == 9:
                    last = None
                elif i in (10, 11, 12):
                    first, last = UNICODE_NAMES[i - 10]
                    email_local = "intl%d" % i
                elif i == 13:
                    title = ("Senior Principal Vice President of Global Strategic Partnerships, Alliances and "
                             "Ecosystem Development for Europe, the Middle East, Africa and Asia-Pacific, reporting "
                             "directly to the Chief Executive Officer and the Board of Directors on all matters of "
                             "strategy, risk, compliance, commercial operations and long range planning")
                    title = (title + " " + "x" * 300)[:300]
                elif i == 14:
                    email_local = "this.is.a.very.long.local.part.for.testing.field.length.limits.of.crm.systems"
                    domain = comps[0]["attributes"]["domain"] if comps else "tinybiz.io"
                elif i in (15, 16):
                    if shared_email is None:
                        shared_email = "shared.inbox@%s" % (comps[0]["attributes"]["domain"] if comps else
                                                            "tinybiz.io")
                    extra["email"] = shared_email
                elif i == 17:
                    deleted = True
                elif i == 18:
                    deleted, suppressed = True, True
                elif i == 19:
                    unsubscribed = True
                elif i == 20:
                    devices = [{"id": "f" + h(self.seed, "ios", i)[:63], "platform": "ios",
                                "last_used": NOW - 3 * DAY, "attributes": {
                                    "device_os": "17.4", "device_model": "iPhone15,2", "app_version": "3.2.1",
                                    "cio_sdk_version": "2.11.0", "_last_status": "sent", "device_locale": "en-US",
                                    "push_enabled": "true"}}]
                elif i == 21:
                    devices = [{"id": "dGVzdC10b2tlbi" + h(self.seed, "and", i)[:40], "platform": "android",
                                "last_used": NOW - 9 * DAY, "attributes": {
                                    "device_os": "14", "device_model": "Pixel 8", "app_version": "3.2.0",
                                    "cio_sdk_version": "3.4.0", "_last_status": "bounced",
                                    "device_locale": "de-DE", "push_enabled": "false"}},
                               {"id": "ios-" + h(self.seed, "ios2", i)[:60], "platform": "ios", "last_used": None,
                                "attributes": {"device_os": "", "device_model": "", "app_version": "",
                                               "cio_sdk_version": "", "_last_status": "",
                                               "device_locale": "en-GB", "push_enabled": "true"}}]
                elif i == 22:
                    deleted = True
                elif i == 23:
                    domain = "solo-consulting.com"
                    comps = []
                elif i == 24:
                    domain = "gmail.com"
                    comps = [self.companies[0]]               # a free-mail person who still works at a company
            elif rng.random() < 0.01:
                deleted = True
                suppressed = rng.random() < 0.3
            if not fixed and rng.random() < 0.04:
                stage = rng.choice([None, " Customer ", "LEAD", "Lead ", "partner", ""])
            if not fixed and rng.random() < 0.03:
                last = None
            if not fixed and rng.random() < 0.02:
                uid = None
            if not fixed and rng.random() < 0.05:
                devices = [{"id": h(self.seed, "tok", i), "platform": rng.choice(["ios", "android"]),
                            "last_used": NOW - rng.randrange(1, 60) * DAY,
                            "attributes": {"device_os": "", "device_model": "", "app_version": "1.0",
                                           "cio_sdk_version": "", "_last_status": "", "device_locale": "en-US",
                                           "push_enabled": "true"}}]
            email = extra.get("email") or "%s@%s" % (email_local, domain)
            email = email.replace(" ", "").replace("🙂", "")
            domain = email.rsplit("@", 1)[1]
            attrs = {"email": email, "cio_id": cio, "created_at": str(created), "first_name": first}
            if uid is not None:
                attrs["id"] = uid
            if last is not None:
                attrs["last_name"] = last
            if stage is not None:
                attrs["lifecycle_stage"] = stage
            if title is not None:
                attrs["title"] = title
            if rng.random() < 0.6:
                attrs["phone"] = "+1-555-%04d" % rng.randrange(10000)
            attrs["plan"] = rng.choice(["free", "pro", "enterprise"])
            attrs["score"] = str(rng.randrange(0, 100))
            attrs["is_trial"] = rng.choice(["true", "false"])
            if rng.random() < 0.7:
                attrs["_last_emailed"] = str(NOW - rng.randrange(1, 90) * DAY)
            topics = {"topic_%d" % t: rng.random() < 0.7 for t in (1, 2, 3) if rng.random() < 0.6}
            if i == 25 or topics:
                attrs["cio_subscription_preferences"] = json.dumps({"topics": topics or {"topic_2": False}},
                                                                   separators=(",", ":"))
                attrs["_cio_subscription_preferences_computed"] = json.dumps(
                    {"topics": dict({"topic_1": True, "topic_2": True, "topic_3": False}, **topics)},
                    separators=(",", ":"))
            if i == 26 or rng.random() < 0.3:
                attrs["preferences"] = json.dumps({"email": {"marketing": rng.random() < 0.5, "digest": "weekly"},
                                                   "sms": False}, separators=(",", ":"))
            if comps:
                attrs["company_name"] = comps[0]["attributes"]["name"]
            if stage in ("customer", " Customer ") and rng.random() < 0.5:
                attrs["renewal_date"] = str(NOW + rng.randrange(1, 300) * DAY)
            ts = {k: created for k in attrs}
            ts["cio_id"] = created
            if "_cio_subscription_preferences_computed" in attrs:
                ts["_cio_subscription_preferences_computed"] = 0
            rels = []
            for c in comps:
                rel_attrs = {"role": rng.choice(["admin", "member", "billing"])}
                if rng.random() < 0.3:
                    rel_attrs["joined_at"] = str(created + DAY)
                rels.append({"object_type_id": 1, "identifiers": dict(c["identifiers"]),
                             "attributes": rel_attrs, "timestamps": {k: created + DAY for k in rel_attrs}})
            if self.projects and rng.random() < 0.2:
                p = rng.choice(self.projects)
                rels.append({"object_type_id": 2, "identifiers": dict(p["identifiers"]), "attributes": {},
                             "timestamps": {}})
            segs = []
            if stage is not None and stage.strip().lower() == "customer":
                segs.append(1)
            if i % 5 == 1:
                segs.append(3)
            if i % 11 == 2:
                segs.append(4)
            person = {"id": uid, "identifiers": {"id": uid, "email": email, "cio_id": cio}, "attributes": attrs,
                      "timestamps": ts, "unsubscribed": unsubscribed, "devices": devices,
                      "_relationships": rels, "_segments": segs, "_created": created}
            if deleted:
                person["_deleted"] = True
                person["_deleted_at"] = NOW - rng.randrange(2, 25) * DAY
                person["_suppressed"] = suppressed
            people.append(person)
            low = email.lower()
            dom = low.rsplit("@", 1)[1]
            t = {"id": uid, "email": email, "lifecycle_stage": stage,
                 "stage_normalized": (stage.strip().lower() if stage and stage.strip().lower() in STAGES else None),
                 "companies": [c["identifiers"]["cio_object_id"] for c in comps],
                 "deleted": deleted, "suppressed": suppressed, "deleted_at": person.get("_deleted_at"),
                 "email_domain": dom, "free_mail": dom in FREE_MAIL, "unsubscribed": unsubscribed,
                 "segments": segs}
            sn = t["stage_normalized"]
            t["sf_object"] = None if deleted else ("Lead" if sn in LEAD_STAGES else
                                                   "Contact" if sn in CONTACT_STAGES else None)
            truth[cio] = t
            self.mark(i, person, t, stage, comps, uid, last, first, title, email, devices)
        by_email = {}
        for p in people:
            by_email.setdefault(p["identifiers"]["email"].lower(), []).append(p["identifiers"]["cio_id"])
        for cios in by_email.values():
            if len(cios) > 1:
                self.hard["shared_email"].extend(cios)
        self.people_list, self.truth = people, truth
        return people

    def mark(self, i, p, t, stage, comps, uid, last, first, title, email, devices):
        cio, hc = p["identifiers"]["cio_id"], self.hard
        if stage is not None and stage.strip() == stage and stage.lower() in STAGES and stage != stage.lower():
            hc["stage_odd_case"].append(cio)
        if stage is not None and stage.strip() != stage:
            hc["stage_whitespace"].append(cio)
        if stage is None:
            hc["stage_missing"].append(cio)
        elif stage == "":
            hc["stage_empty"].append(cio)
        elif stage.strip().lower() not in STAGES:
            hc["stage_unknown"].append(cio)
        hc["free_mail" if t["free_mail"] else "business_domain"].append(cio)
        if not t["free_mail"] and not comps and t["email_domain"] in self.orphan_domains:
            hc["business_domain_without_company"].append(cio)
        if uid is None:
            hc["email_only"].append(cio)
        elif uid.isdigit():
            hc["numeric_id"].append(cio)
        else:
            hc["text_id"].append(cio)
        if last is None:
            hc["no_last_name"].append(cio)
        if any(ord(ch) > 127 for ch in (first or "") + (last or "")):
            hc["unicode_name"].append(cio)
        if title and len(title) > 255:
            hc["long_title"].append(cio)
        if len(email) > 80:
            hc["long_email"].append(cio)
        a = p["attributes"]
        if "cio_subscription_preferences" in a or "preferences" in a:
            hc["stringified_json"].append(cio)
        hc["companies_%d" % min(len(comps), 2)].append(cio)
        if t["deleted"] and not t["suppressed"]:
            hc["deleted"].append(cio)
        if t["suppressed"]:
            hc["suppressed"].append(cio)
        if t["unsubscribed"]:
            hc["unsubscribed"].append(cio)
        for d in devices or []:
            hc["device_" + d["platform"]].append(cio)
        if devices is None:
            hc["no_devices_null"].append(cio)

    # ------------------------------------------------------------------ activities and deliveries
    def history(self):
        rng, meta = self.rng, self.meta
        acts, msgs = [], []
        camp_email_actions = [(c["id"], a) for c in meta["campaigns"] for a in meta["campaign_actions"][str(c["id"])]
                              if a["type"] in ("email", "push", "twilio", "webhook")]
        nls = [n for n in meta["newsletters"] if n["sent_at"]]
        dn = 0
        for p in self.people_list:
            cio = p["identifiers"]["cio_id"]
            deleted, suppressed = p.get("_deleted", False), p.get("_suppressed", False)
            ident = dict(p["identifiers"])
            created = p["_created"]

            def who(a):
                a["customer_id"] = None if suppressed else p["id"]
                if not suppressed:
                    a["customer_identifiers"] = dict(ident)
                if deleted:
                    a["_deleted"] = True
                return a
            # events and page views
            for k in range(rng.randrange(1, 4)):
                ts = NOW - rng.randrange(1, 29 * DAY)
                name = rng.choice(EVENTS)
                data = {"source": rng.choice(["web", "ios", "android"])}
                if name == "purchase":
                    data.update(amount=rng.randrange(5, 500), currency="USD",
                                items=[{"sku": "SKU-%d" % rng.randrange(100), "qty": 1}])
                if name == "plan_upgraded":
                    data.update({"from": "free", "to": "pro"})
                acts.append(who({"id": ulid(rng, ts), "type": "event", "timestamp": ts, "name": name,
                                 "delivery_id": None, "delivery_type": None, "data": data}))
            if rng.random() < 0.6:
                ts = NOW - rng.randrange(1, 29 * DAY)
                url = rng.choice(PAGES)
                acts.append(who({"id": ulid(rng, ts), "type": "page", "timestamp": ts, "name": url, "url": url,
                                 "delivery_id": None, "delivery_type": None,
                                 "data": {"referrer": "https://google.com/", "title": "Page"}}))
            if rng.random() < 0.4:
                ts = NOW - rng.randrange(1, 29 * DAY)
                acts.append(who({"id": ulid(rng, ts), "type": "attribute_change", "timestamp": ts,
                                 "delivery_id": None, "delivery_type": None,
                                 "data": {"plan": {"from": "free", "to": p["attributes"].get("plan")}}}))
            # deliveries
            for k in range(rng.randrange(1, 3) if p["attributes"].get("email") else 0):
                dn += 1
                did = delivery_id(self.seed, dn)
                src = rng.random()
                m = {"id": did, "deduplicate_id": None, "created": 0, "message_template_id": None,
                     "customer_id": None, "customer_identifiers": None, "recipient": p["attributes"]["email"],
                     "subject": None, "metrics": {}, "failure_message": None, "campaign_id": None,
                     "action_id": None, "parent_action_id": None, "newsletter_id": None, "content_id": None,
                     "broadcast_id": None, "trigger_event_id": None, "type": "email", "forgotten": False}
                if src < 0.5:
                    cid, a = rng.choice(camp_email_actions)
                    m.update(campaign_id=cid, action_id=a["id"], message_template_id=a["id"], type=a["type"],
                             subject=a["subject"], trigger_event_id=ulid(rng, NOW - 40 * DAY) if cid == 2 else None)
                    if a["type"] == "twilio":
                        m["recipient"] = p["attributes"].get("phone") or "+1-555-0000"
                    elif a["type"] == "push":
                        m["recipient"] = None
                    elif a["type"] == "webhook":
                        m["recipient"] = a["url"]
                elif src < 0.75 and nls:
                    nl = rng.choice(nls)
                    m.update(newsletter_id=nl["id"], content_id=nl["content_ids"][0],
                             message_template_id=nl["content_ids"][0], subject=nl["name"])
                elif src < 0.85:
                    b = meta["broadcasts"][0]
                    m.update(broadcast_id=b["id"], action_id=b["actions"][0]["id"],
                             message_template_id=b["actions"][0]["id"], subject="Black Friday")
                else:
                    t = rng.choice(meta["transactional"])
                    m["_transactional_message_id"] = t["id"]
                    m["message_template_id"] = meta["transactional_contents"][str(t["id"])][0]["id"]
                    m["subject"] = t["name"]
                    if t["hide_message_body"]:
                        m["forgotten"] = True
                start = NOW - rng.randrange(2 * DAY, 150 * DAY)
                path = rng.choice(EMAIL_METRIC_PATHS) if m["type"] == "email" else ["created", "sent", "delivered"]
                if dn <= len(EMAIL_METRIC_PATHS) and m["type"] == "email":
                    path = EMAIL_METRIC_PATHS[dn - 1]
                t0 = start
                for metric in path:
                    m["metrics"][metric] = t0
                    t0 += rng.randrange(1, 3600)
                if "bounced" in path or "failed" in path or "dropped" in path or "undeliverable" in path:
                    m["failure_message"] = rng.choice(["550 5.1.1 User unknown", "mailbox full",
                                                       "suppressed address"])
                m["created"] = start
                m["deduplicate_id"] = "%s:%d" % (did, t0)
                if suppressed:
                    m["forgotten"] = True
                    m["subject"] = None
                    m["recipient"] = None
                else:
                    m["customer_id"] = p["id"]
                    m["customer_identifiers"] = dict(ident)
                if deleted:
                    m["_deleted"] = True
                msgs.append(m)
                if m["forgotten"]:
                    self.hard["forgotten_delivery"].append(did)
                # messaging activity for the last metric within the 30-day window
                last = path[-1]
                if m["type"] == "email" and t0 > NOW - 29 * DAY:
                    acts.append(who({"id": ulid(rng, t0), "type": "%s_email" % last, "timestamp": t0,
                                     "delivery_id": did, "delivery_type": "email",
                                     "data": {"delivery_id": did, "delivered": m["metrics"].get("delivered"),
                                              "opened": m["metrics"].get("opened")}}))
            if deleted:
                ts = p["_deleted_at"]
                acts.append(who({"id": ulid(rng, ts), "type": "profile_delete", "timestamp": ts,
                                 "delivery_id": None, "delivery_type": None, "data": {}}))
        # a couple of odd activity types that must pass through
        ts = NOW - 3 * DAY
        o = self.companies[0]
        acts.append({"id": ulid(rng, ts), "type": "_o:1:attribute_change", "timestamp": ts, "customer_id": None,
                     "delivery_id": None, "delivery_type": None,
                     "data": {"object_id": o["identifiers"]["object_id"], "plan": {"from": "free", "to": "pro"}}})
        acts.append({"id": ulid(rng, ts + 1), "type": "dropped_whatasapp", "timestamp": ts + 1, "customer_id": None,
                     "delivery_id": None, "delivery_type": "phone", "data": None})
        acts.sort(key=lambda a: (-a["timestamp"], a["id"]))
        msgs.sort(key=lambda m: (-m["created"], m["id"]))
        self.acts, self.msgs = acts, msgs
        return acts, msgs

    def finish(self):
        meta, rng = self.meta, self.rng
        # ESP suppressions: bounced deliveries' addresses plus a few spam reports
        bounces, spam = [], []
        seen = set()
        for m in self.msgs:
            if "bounced" in m["metrics"] and m["recipient"] and m["recipient"] not in seen:
                seen.add(m["recipient"])
                bounces.append({"created": m["metrics"]["bounced"], "email": m["recipient"],
                                "reason": m["failure_message"], "status": "550"})
            if "spammed" in m["metrics"] and m["recipient"]:
                spam.append({"created": m["metrics"]["spammed"], "email": m["recipient"],
                             "reason": "complaint", "status": "abuse"})
        bounces.append({"created": NOW - 400 * DAY, "email": "old.address@defunct-corp.com",
                        "reason": "550 5.1.1 The email account does not exist", "status": "550"})
        spam.append({"created": NOW - 300 * DAY, "email": "angry@%s" % FREE_MAIL[0], "reason": "complaint",
                     "status": "abuse"})
        meta["esp_suppressions"] = {"bounces": bounces, "spam_reports": spam}
        ws = meta["workspaces"][0]
        ws["people"] = len(self.people_list)               # high watermark: deleted people still count
        ws["objects"] = len(self.companies) + len(self.projects)
        ws["messages_sent"] = sum(1 for m in self.msgs if "sent" in m["metrics"])
        ws["billable_messages_sent"] = sum(1 for m in self.msgs if "sent" in m["metrics"] and m["type"] == "email")


def write(out, n, seed):
    g = Gen(n, seed)
    os.makedirs(out, exist_ok=True)
    meta = g.metadata()
    objs = g.objects()
    people = g.people()
    acts, msgs = g.history()
    g.finish()

    def ndjson(name, rows):
        with open(os.path.join(out, name), "w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
    with open(os.path.join(out, "workspace.json"), "w", encoding="utf-8") as fh:
        json.dump(meta, fh, ensure_ascii=False, indent=1, sort_keys=True)
    ndjson("people.ndjson", people)
    ndjson("objects.ndjson", objs)
    ndjson("activities.ndjson", acts)
    ndjson("messages.ndjson", msgs)
    live = [p for p in people if not p.get("_deleted")]
    live_cios = {p["identifiers"]["cio_id"] for p in live}
    acts_live = [a for a in acts if not a.get("_deleted")]
    by_type = {}
    for a in acts:
        key = a["type"] + (" (deleted)" if a.get("_deleted") else "")
        by_type[key] = by_type.get(key, 0) + 1
    counts = {
        "people_total": len(people), "people_live": len(live),
        "people_deleted": sum(1 for p in people if p.get("_deleted") and not p.get("_suppressed")),
        "people_suppressed": sum(1 for p in people if p.get("_suppressed")),
        "companies": len(g.companies), "projects": len(g.projects),
        "relationships": sum(len(p["_relationships"]) for p in live),
        "company_relationships": sum(1 for p in live for r in p["_relationships"] if r["object_type_id"] == 1),
        "activities_total": len(acts), "activities_default": len(acts_live),
        "activities_deleted": len(acts) - len(acts_live),
        "events_live": sum(1 for a in acts_live if a["type"] == "event" and a.get("customer_identifiers")),
        "page_views_live": sum(1 for a in acts_live if a["type"] == "page" and a.get("customer_identifiers")),
        "activities_by_type": dict(sorted(by_type.items())),
        "messages_total": len(msgs),
        "messages_live_person": sum(1 for m in msgs if m["customer_identifiers"] and
                                    m["customer_identifiers"]["cio_id"] in live_cios),
        "messages_deleted_person": sum(1 for m in msgs if m.get("_deleted") and m["customer_identifiers"]),
        "messages_anonymized": sum(1 for m in msgs if not m["customer_identifiers"]),
        "messages_forgotten": sum(1 for m in msgs if m["forgotten"]),
        "messages_drafts": sum(1 for m in msgs if "drafted" in m["metrics"]),
        "campaigns": len(meta["campaigns"]),
        "campaign_actions": sum(len(v) for v in meta["campaign_actions"].values()),
        "broadcasts": len(meta["broadcasts"]), "newsletters": len(meta["newsletters"]),
        "newsletter_contents": sum(len(v) for v in meta["newsletter_contents"].values()),
        "transactional": len(meta["transactional"]),
        "transactional_contents": sum(len(v) for v in meta["transactional_contents"].values()),
        "segments": len(meta["segments"]), "subscription_topics": len(meta["subscription_topics"]),
        "object_types": len(meta["object_types"]), "workspaces": len(meta["workspaces"]),
        "esp_bounces": len(meta["esp_suppressions"]["bounces"]),
        "esp_spam_reports": len(meta["esp_suppressions"]["spam_reports"]),
        "devices": sum(len(p["devices"] or []) for p in live),
    }
    deleted = [{"cio_id": p["identifiers"]["cio_id"], "id": p["id"], "email": p["identifiers"]["email"],
                "deleted_at": p["_deleted_at"]} for p in people if p.get("_deleted") and not p.get("_suppressed")]
    suppressed = [{"cio_id": p["identifiers"]["cio_id"], "id": p["id"], "email": p["identifiers"]["email"],
                   "deleted_at": p["_deleted_at"]} for p in people if p.get("_suppressed")]
    companies = {c["identifiers"]["cio_object_id"]: {"object_id": c["identifiers"]["object_id"],
                                                     "name": c["attributes"]["name"],
                                                     "domain": c["attributes"]["domain"]} for c in g.companies}
    expected = {"seed": seed, "people": n, "now": NOW, "free_mail_domains": FREE_MAIL,
                "counts": counts, "persons": g.truth, "deleted": deleted, "suppressed": suppressed,
                "companies": companies, "hard_cases": g.hard}
    with open(os.path.join(out, "expected.json"), "w", encoding="utf-8") as fh:
        json.dump(expected, fh, ensure_ascii=False, indent=1, sort_keys=True)
    return expected


def main(argv=None):
    ap = argparse.ArgumentParser(description="Generate a synthetic Customer.io workspace (see README.md)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--people", type=int, required=True)
    ap.add_argument("--seed", default="1")
    a = ap.parse_args(argv)
    if a.people < 1:
        print("genworkspace: --people must be at least 1", file=sys.stderr)
        return 2
    exp = write(a.out, a.people, a.seed)
    missing = [k for k, v in exp["hard_cases"].items() if not v]
    if missing and a.people >= 40:
        print("genworkspace: hard cases missing: %s" % ", ".join(missing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
