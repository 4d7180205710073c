#!/usr/bin/env python3
"""Generate a synthetic Customer.io dataset for `make bench`.

    python3 tools/bench/gen.py OUTDIR [--people N] [--events-per-person E]
                                      [--deliveries-per-person D] [--seed S]

Writes OUTDIR/person.ndjson, OUTDIR/activity.ndjson and OUTDIR/delivery.ndjson,
one App API object per line in the shapes of stdlib/customerio.map:

  person    identifiers {id, email, cio_id}; every attribute a string (first_name,
            last_name, company, title, phone, lifecycle_stage in odd casing and white
            space, unknown and missing stages, created_at as unix seconds, a few ISO
            8601, `preferences` as stringified JSON, a few of them broken, plus
            plan/city/country/signup_source); free-mail and business domains; a
            timestamps map on half; unsubscribed; company relationships on ~18%
            (two on ~3%, other object types on ~2%); push devices on ~10%.
            Rare edge cases: non-ASCII names, empty last names (the e-mail's local
            part stands in), over-long titles (truncated), e-mails over 80 and ids
            over 150 characters (quarantined), people without an e-mail or an id.
  activity  event (62%, with a data object), page, screen, attribute_change,
            <metric>_email, profile_delete (0.5%); ULID ids; customer_identifiers of
            a generated person (missing on 1%: anonymised activity).
  delivery  email/push/twilio/webhook deliveries with a metrics map (sent, delivered,
            opened, clicked, converted, bounced, undeliverable, unsubscribed ...),
            campaign/broadcast/newsletter/transactional parents, failure messages.

Deterministic: the same arguments give byte-identical files (random.Random(seed),
whose random() sequence is stable across Python 3 versions).  Python 3 standard
library only.  Fast enough for a million people: strings come from precomputed
pools of JSON-encoded fragments, lines are built with % formatting and written in
large blocks.
"""

import argparse
import base64
import json
import os
import random
import sys
import time
import unicodedata

# Bump when the output changes, so tools/bench/run.py regenerates cached datasets.
VERSION = 1

FIRST = ("James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
         "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy "
         "Matthew Betty Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Andrew Emily "
         "Paul Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah "
         "Timothy Stephanie Ronald Rebecca Jason Sharon Edward Laura Jeffrey Cynthia Ryan Amy "
         "Jacob Kathleen Gary Angela Nicholas Shirley Eric Brenda Jonathan Emma Stephen Anna "
         "Larry Pamela Justin Nicole Scott Samantha Brandon Katherine Benjamin Christine Samuel "
         "Helen Gregory Debra Alexander Rachel Frank Carolyn Patrick Janet Raymond Maria Jack "
         "Olivia Dennis Heather Jerry Diane Tyler Julie Aaron Joyce Priya Wei Hiroshi Fatima "
         "Ahmed Olga Ivan Lars Ingrid Pierre Amélie Jürgen Søren Zoë Łukasz José Chloé Björn").split()
LAST = ("Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
        "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
        "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott "
        "Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter "
        "Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart "
        "Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed "
        "Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray "
        "Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez "
        "Müller Schröder Østergaard Nowak Kowalski Dubois Lefèvre Rossi Bianchi Tanaka Suzuki "
        "Wang Zhang Singh Kumar Ivanov Petrov Andersson Johansson O'Brien McDonald").split()
TITLES = ["CEO", "CTO", "VP Marketing", "VP Sales", "Marketing Manager", "Growth Lead",
          "Product Manager", "Software Engineer", "Senior Software Engineer", "Account Executive",
          "Sales Development Representative", "Customer Success Manager", "Head of Operations",
          "Founder", "Co-Founder", "Director of Engineering", "Data Analyst", "Designer",
          "Office Manager", "Consultant", "Student", "Head of Lifecycle Marketing", "CMO", "COO",
          "Engineering Manager", "Recruiter", "Finance Director", "Support Engineer", "Intern", ""]
WORDS = ("acme globex initech umbrella hooli stark wayne wonka soylent cyberdyne tyrell "
         "vandelay aperture massive oscorp gringotts monarch krusty duff pied piper dunder "
         "mifflin sterling cooper blue sun northwind contoso fabrikam tailspin litware adatum "
         "proseware wingtip woodgrove alpine margie trey lucerne coho fourth humongous "
         "nod graphic design bright lake river stone cloud peak harbor summit vertex orbit "
         "quantum pixel nimbus atlas beacon cobalt delta ember falcon granite helix").split()
SUFFIXES = ["Inc", "LLC", "Ltd", "GmbH", "Labs", "Group", "Systems", "Software", "Partners",
            "Technologies", "Co", "AG", "SA", "Studio", "Health", "Analytics"]
TLDS = ["com", "com", "com", "com", "io", "io", "co", "net", "org", "ai", "de", "fr", "co.uk",
        "com.au", "ca", "nl", "app", "dev"]
FREEMAIL = ["gmail.com", "gmail.com", "gmail.com", "gmail.com", "yahoo.com", "yahoo.com",
            "hotmail.com", "outlook.com", "outlook.com", "icloud.com", "aol.com", "gmx.de",
            "web.de", "orange.fr", "yahoo.co.uk", "live.com", "protonmail.com", "mail.ru",
            "qq.com", "comcast.net"]
# lifecycle_stage as people type it; weights roughly what a B2B workspace holds.
STAGES = [
    ("subscriber", 14), ("Subscriber", 3), (" subscriber ", 1), ("SUBSCRIBER", 1),
    ("lead", 12), ("Lead", 4), ("LEAD ", 1), ("\tlead", 1),
    ("marketingqualifiedlead", 6), ("MarketingQualifiedLead", 4), (" MarketingQualifiedLead", 1),
    ("salesqualifiedlead", 5), ("SalesQualifiedLead", 3), ("SALESQUALIFIEDLEAD\r\n", 1),
    ("customer", 14), ("Customer", 5), (" customer", 1), ("CUSTOMER", 1),
    ("evangelist", 3), ("Evangelist ", 1),
    ("opportunity", 3), ("other", 2), ("churned", 3), ("", 3), (None, 7),  # None: attribute absent
]
PLANS = ["free", "starter", "pro", "business", "enterprise", "trial"]
CITIES = ["New York", "San Francisco", "London", "Berlin", "Paris", "Toronto", "Sydney",
          "Austin", "Chicago", "Amsterdam", "São Paulo", "Tokyo", "Bangalore", "Dublin", "Zürich"]
COUNTRIES = ["US", "US", "US", "GB", "DE", "FR", "CA", "AU", "NL", "BR", "JP", "IN", "IE", "CH"]
SOURCES = ["organic", "google_ads", "facebook", "referral", "webinar", "linkedin", "partner",
           "event", "content", "direct"]
FREQUENCIES = ["daily", "weekly", "weekly", "monthly", "never"]
LANGS = ["en", "en", "en", "de", "fr", "es", "pt", "ja"]
EVENT_NAMES = ["signed_up", "logged_in", "viewed_product", "added_to_cart", "purchase",
               "checkout_started", "subscription_renewed", "invited_teammate", "feature_used",
               "trial_started", "trial_ended", "plan_upgraded", "plan_downgraded", "webinar_registered",
               "form_submitted", "support_ticket_opened", "file_exported", "project_created"]
PAGES = ["/", "/pricing", "/features", "/blog/lifecycle-emails-101", "/docs/getting-started",
         "/docs/api", "/signup", "/login", "/account/billing", "/integrations/salesforce",
         "/customers", "/about", "/careers", "/blog/segmentation-guide", "/demo"]
SUBJECTS = ["Welcome to Acme!", "Your trial ends in 3 days", "Don't miss our webinar",
            "Your weekly digest", "Action required: verify your email", "New features this month",
            "You left something in your cart", "Your invoice is ready", "Tips to get started",
            "We miss you", "Last chance: 20% off", "Your report is ready",
            "Re: your question about pricing", "Thanks for your purchase!", "📣 Big news",
            "Security alert: new sign-in", "Invitation to join your team", None]
FAILURES = ["550 5.1.1 The email account that you tried to reach does not exist",
            "552 5.2.2 Mailbox full", "554 5.7.1 Message rejected as spam",
            "421 4.7.0 Try again later", "Recipient address rejected: Domain not found"]
DEVICE_MODELS = ["iPhone14,2", "iPhone15,3", "Pixel 7", "SM-G991B", "iPad13,4", "Pixel 8 Pro"]
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

T0 = 1609459200          # 2021-01-01: people are created from here on
T1 = 1735689600          # 2025-01-01
BLOCK = 4 << 20          # write in blocks of this many characters


def ascii_name(s):
    """How a name appears in an e-mail address: lower-case ASCII, no apostrophes or spaces."""
    for a, b in (("ł", "l"), ("Ł", "L"), ("ø", "o"), ("Ø", "O"), ("ß", "ss")):
        s = s.replace(a, b)
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return s.lower().replace("'", "").replace(" ", "")


def js(s):
    """A JSON string literal (quotes included), UTF-8 kept as is."""
    return json.dumps(s, ensure_ascii=False)


def weighted(pool, n, rng):
    """A list of n items drawn from [(value, weight)] — a lookup table for rng indexes."""
    out = []
    total = sum(w for _, w in pool)
    for v, w in pool:
        out.extend([v] * max(1, round(n * w / total)))
    return out


class Writer:
    def __init__(self, path):
        self.f = open(path, "w", encoding="utf-8", newline="\n", buffering=1 << 20)
        self.parts = []
        self.size = 0

    def add(self, line):
        self.parts.append(line)
        self.size += len(line)
        if self.size >= BLOCK:
            self.flush()

    def flush(self):
        self.f.write("\n".join(self.parts))
        self.f.write("\n")
        self.parts = []
        self.size = 0

    def close(self):
        if self.parts:
            self.flush()
        self.f.close()


class Companies:
    """A pool of business companies: name, domain, Customer.io object ids."""

    def __init__(self, n, rng):
        self.names, self.domains, self.object_ids, self.cio_object_ids = [], [], [], []
        seen = set()
        i = 0
        while len(self.names) < n:
            a, b = WORDS[int(rng.random() * len(WORDS))], WORDS[int(rng.random() * len(WORDS))]
            suffix = SUFFIXES[int(rng.random() * len(SUFFIXES))]
            tld = TLDS[int(rng.random() * len(TLDS))]
            base = a if rng.random() < 0.3 else a + ("-" if rng.random() < 0.3 else "") + b
            if base in seen:
                base = "%s%d" % (base, i)
            seen.add(base)
            i += 1
            self.names.append("%s %s" % (" ".join(w.capitalize() for w in base.split("-")), suffix)
                              if "-" in base else "%s %s" % (base.capitalize(), suffix))
            self.domains.append(("www." if rng.random() < 0.01 else "") + base + "." + tld)
            self.object_ids.append("acct_%06d" % len(self.names))
            self.cio_object_ids.append("%010x" % ((len(self.names) * 0x9E3779B1 + 0x5bd1e995) & 0xFFFFFFFFFF))


def cio_id(i):
    """The i-th person's cio_id: 10 hex digits, unique (an odd multiplier is a bijection mod 2^40)."""
    return "%010x" % ((i * 0x9E3779B97 + 0x1234567) & 0xFFFFFFFFFF)


_TO_CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", CROCKFORD)


def ulid(ts, rng):
    """A 26-character ULID: 48 bits of milliseconds, then 80 random bits, in Crockford base32."""
    value = ((ts * 1000 + rng.getrandbits(10)) << 80 | rng.getrandbits(80)) << 30
    return base64.b32encode(value.to_bytes(20, "big")).decode()[:26].translate(_TO_CROCKFORD)


def delivery_id(rng):
    """A base64-like delivery id of 40 characters."""
    return base64.urlsafe_b64encode(rng.randbytes(30)).decode()


# ---- people

def gen_people(path, n, rng, companies, ident):
    """Write n people; append (id JSON, email JSON, identifiers JSON) of each to ident."""
    stages = weighted(STAGES, 1000, rng)
    n_stages = len(stages)
    first_js = [js(x) for x in FIRST]
    first_ascii = [ascii_name(x) for x in FIRST]
    last_ascii = [ascii_name(x) for x in LAST]
    titles_js = [js(t) for t in TITLES]
    long_title = js("Senior Vice President of Global Strategic Partnerships, Enterprise Alliances, "
                    "Channel Ecosystems and Business Development for the Americas and EMEA regions")
    plans_js = [js(x) for x in PLANS]
    cities_js = [js(x) for x in CITIES]
    countries_js = [js(x) for x in COUNTRIES]
    sources_js = [js(x) for x in SOURCES]
    stage_js = [None if s is None else js(s) for s in stages]
    ncomp = len(companies.names)
    comp_names_js = [js(x) for x in companies.names]
    comp_domains = companies.domains
    nfree = len(FREEMAIL)
    nfirst, nlast, ntitles = len(FIRST), len(LAST), len(TITLES)
    r = rng.random
    w = Writer(path)
    for i in range(n):
        cid = cio_id(i)
        fi = int(r() * nfirst)
        li = int(r() * nlast)
        lname = LAST[li]
        # e-mail: business (55%), free-mail (40%), none (5%: "ID only" profiles)
        x = r()
        comp = -1
        if x < 0.55:
            comp = int(r() * r() * ncomp)          # skewed: big companies have many people
            domain = comp_domains[comp]
        elif x < 0.95:
            domain = FREEMAIL[int(r() * nfree)]
        else:
            domain = None
        if domain is None:
            email = None
        else:
            local = "%s.%s" % (first_ascii[fi], last_ascii[li])
            if comp < 0:
                local = "%s%d" % (local, i % 9973)
            else:
                local = "%s.%d" % (local, i)
            y = r()
            if y < 0.0002:                          # over 80 characters: quarantined by the Email rule
                local = local + "." + "x" * 80
            elif y < 0.01:
                local = local.capitalize()
            email = local + "@" + domain
            if y > 0.995:
                email = " " + email.upper()
        uid = None if r() < 0.04 else ("%d" % (100000 + i) if i & 1 else "user_%d" % i)
        if uid is not None and r() < 0.0001:        # over 150 characters: quarantined
            uid = "legacy:" + "9" * 160
        uid_js = "null" if uid is None else '"%s"' % uid
        email_js = "null" if email is None else js(email)
        idents = '{"id":%s,"email":%s,"cio_id":"%s"}' % (uid_js, email_js, cid)
        ident.append((uid_js, email_js, idents))

        created = T0 + int(r() * (T1 - T0 - 86400 * 40))
        attrs = ['"first_name":%s' % first_js[fi]]
        y = r()
        if y < 0.03:
            attrs.append('"last_name":""')           # local part of the e-mail stands in
        elif y < 0.05:
            attrs.append('"last_name":"   "')
        elif y >= 0.07:                              # 0.05-0.07: no last_name at all
            attrs.append('"last_name":%s' % js(lname))
        s = stage_js[int(r() * n_stages)]
        if s is not None:
            attrs.append('"lifecycle_stage":%s' % s)
        if comp >= 0 and r() < 0.9:
            attrs.append('"company":%s' % comp_names_js[comp])
        elif r() < 0.2:
            attrs.append('"company":""')
        y = r()
        if y < 0.0005:
            attrs.append('"title":%s' % long_title)
        elif y < 0.8:
            attrs.append('"title":%s' % titles_js[int(r() * ntitles)])
        if r() < 0.6:
            attrs.append('"phone":"+1 (%03d) 555-%04d"' % (200 + int(r() * 799), int(r() * 10000)))
        y = r()
        if y < 0.97:
            attrs.append('"created_at":"%d"' % created)
        elif y < 0.99:
            attrs.append('"created_at":"%s"' % time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created)))
        else:
            attrs.append('"created_at":"not a date"')
        y = r()
        if y < 0.7:
            attrs.append(
                '"preferences":"{\\"email_marketing\\":%s,\\"frequency\\":\\"%s\\",\\"language\\":\\"%s\\",'
                '\\"topics\\":{\\"topic_1\\":%s,\\"topic_%d\\":%s}}"'
                % ("true" if r() < 0.7 else "false", FREQUENCIES[int(r() * 5)], LANGS[int(r() * 8)],
                   "true" if r() < 0.5 else "false", 2 + int(r() * 6), "true" if r() < 0.5 else "false"))
        elif y < 0.72:
            attrs.append('"preferences":"{\\"email_marketing\\":tru"')   # broken JSON: else {}
        attrs.append('"plan":%s' % plans_js[int(r() * 6)])
        if r() < 0.7:
            attrs.append('"city":%s,"country":%s' % (cities_js[int(r() * 15)], countries_js[int(r() * 14)]))
        attrs.append('"signup_source":%s' % sources_js[int(r() * 10)])
        if r() < 0.3:
            attrs.append('"logins":"%d"' % int(r() * 500))
        if r() < 0.05:
            attrs.append('"nickname":null')

        rec = ['{"id":%s,"identifiers":%s,"attributes":{%s}' % (uid_js, idents, ",".join(attrs))]
        if r() < 0.5:
            rec.append(',"timestamps":{"created_at":%d,"lifecycle_stage":%d,"plan":%d}'
                       % (created, created + int(r() * 8640000), created + 60))
        y = r()
        if y < 0.05:
            rec.append(',"unsubscribed":true')
        elif y < 0.9:
            rec.append(',"unsubscribed":false')
        y = r()
        if y < 0.2:
            rels = []
            if y < 0.15 and comp >= 0:
                rels.append(comp)
            else:
                rels.append(int(r() * ncomp))
            if y < 0.03:
                rels.append(int(r() * ncomp))
            parts = ['{"object_type_id":"1","object_id":"%s","cio_object_id":"%s"}'
                     % (companies.object_ids[c], companies.cio_object_ids[c]) for c in rels]
            if y > 0.18:
                parts.insert(0, '{"object_type_id":"2","object_id":"proj_%d","cio_object_id":"%010x"}'
                             % (i, (i * 0x2545F491 + 77) & 0xFFFFFFFFFF))
            rec.append(',"relationships":[%s]' % ",".join(parts))
        if r() < 0.1:
            devs = []
            for d in range(1 + (r() < 0.3)):
                ios = r() < 0.55
                devs.append('{"id":"%s%s","platform":"%s","last_used":%d,"attributes":'
                            '{"device_os":"%s","device_model":"%s","app_version":"%d.%d.%d",'
                            '"cio_sdk_version":"3.%d.0","push_enabled":"%s"}}'
                            % ("" if ios else "fcm:", rng.randbytes(32).hex(),
                               "ios" if ios else "android", created + int(r() * 3e7),
                               "17.2" if ios else "14", DEVICE_MODELS[int(r() * 6)],
                               int(r() * 5), int(r() * 20), int(r() * 10), int(r() * 9),
                               "true" if r() < 0.8 else "false"))
            rec.append(',"devices":[%s]' % ",".join(devs))
        rec.append("}")
        w.add("".join(rec))
    w.close()


# ---- activities

def gen_activities(path, n, rng, ident, npeople):
    events_js = [js(x) for x in EVENT_NAMES]
    pages_js = [js("https://www.example.com" + p) for p in PAGES]
    plans_js = [js(x) for x in PLANS]
    r = rng.random
    w = Writer(path)
    nev, npg = len(EVENT_NAMES), len(PAGES)
    for k in range(n):
        p = int(r() * npeople)
        ts = T0 + 86400 * 30 + int(r() * (T1 - T0 - 86400 * 30))
        aid = ulid(ts, rng)
        if r() < 0.01:
            who = '"customer_id":null'
        else:
            uid_js, _, idents = ident[p]
            who = '"customer_id":%s,"customer_identifiers":%s' % (uid_js, idents)
        x = r()
        if x < 0.62:
            e = int(r() * nev)
            y = r()
            if y < 0.3:
                data = '{"plan":%s,"amount":"%d.%02d","currency":"USD","items":[{"sku":"SKU-%04d","qty":%d}]}' % (
                    plans_js[int(r() * 6)], int(r() * 500), int(r() * 100), int(r() * 10000), 1 + int(r() * 4))
            elif y < 0.6:
                data = '{"source":"web","session_id":"s_%x","utm_campaign":"spring_%d"}' % (k * 2654435761 & 0xFFFFFFFF, int(r() * 30))
            elif y < 0.9:
                data = '{"feature":"%s","count":%d,"beta":%s}' % (
                    EVENT_NAMES[int(r() * nev)], int(r() * 100), "true" if r() < 0.2 else "false")
            else:
                data = "{}"
            line = '{"id":"%s","type":"event","timestamp":%d,%s,"name":%s,"data":%s}' % (aid, ts, who, events_js[e], data)
        elif x < 0.80:
            line = '{"id":"%s","type":"page","timestamp":%d,%s,"name":%s,"url":%s,"data":{"referrer":"https://www.google.com/"}}' % (
                aid, ts, who, pages_js[int(r() * npg)], pages_js[int(r() * npg)])
        elif x < 0.85:
            line = '{"id":"%s","type":"screen","timestamp":%d,%s,"name":"HomeScreen","data":{}}' % (aid, ts, who)
        elif x < 0.93:
            a, b = int(r() * 6), int(r() * 6)
            line = '{"id":"%s","type":"attribute_change","timestamp":%d,%s,"data":{"plan":{"from":%s,"to":%s}}}' % (
                aid, ts, who, plans_js[a], plans_js[b])
        elif x < 0.995:
            metric = ("sent", "delivered", "opened", "clicked")[int(r() * 4)]
            did = delivery_id(rng)
            line = ('{"id":"%s","type":"%s_email","timestamp":%d,%s,"delivery_id":"%s","delivery_type":"email",'
                    '"data":{"delivery_id":"%s","%s":%d}}' % (aid, metric, ts, who, did, did, metric, ts))
        else:
            line = '{"id":"%s","type":"profile_delete","timestamp":%d,%s}' % (aid, ts, who)
        w.add(line)
    w.close()


# ---- deliveries

def gen_deliveries(path, n, rng, ident, npeople):
    subjects_js = ["null" if s is None else js(s) for s in SUBJECTS]
    fail_js = [js(x) for x in FAILURES]
    r = rng.random
    w = Writer(path)
    nsub = len(SUBJECTS)
    for k in range(n):
        p = int(r() * npeople)
        created = T0 + 86400 * 30 + int(r() * (T1 - T0 - 86400 * 30))
        uid_js, email_js, idents = ident[p]
        x = r()
        typ = "email" if x < 0.8 else "push" if x < 0.9 else "twilio" if x < 0.97 else "webhook"
        # metrics: how far the delivery got
        m = ['"created":%d' % created]
        t = created + int(r() * 60)
        failure = None
        y = r()
        if y < 0.03:
            m.append('"sent":%d,"bounced":%d' % (t, t + 5))
            failure = fail_js[int(r() * 5)]
        elif y < 0.045:
            m.append('"undeliverable":%d' % t)
            failure = fail_js[int(r() * 5)]
        elif y < 0.05:
            m.append('"dropped":%d' % t)
        else:
            m.append('"sent":%d' % t)
            if r() < 0.95:
                t += int(r() * 30) + 1
                m.append('"delivered":%d' % t)
                if r() < 0.4:
                    t += int(r() * 86400)
                    m.append('"opened":%d,"human_opened":%d' % (t, t))
                    if r() < 0.25:
                        t += int(r() * 600)
                        m.append('"clicked":%d,"human_clicked":%d' % (t, t))
                        if r() < 0.1:
                            m.append('"converted":%d' % (t + int(r() * 86400)))
                    if r() < 0.02:
                        m.append('"unsubscribed":%d' % (t + 30))
                    if r() < 0.005:
                        m.append('"spammed":%d' % (t + 60))
        z = r()
        if z < 0.6:
            parent = '"campaign_id":%d,"action_id":%d,"parent_action_id":null' % (1 + int(r() * 40), 100 + int(r() * 400))
        elif z < 0.8:
            parent = '"newsletter_id":%d,"content_id":%d' % (1 + int(r() * 60), int(r() * 3))
        elif z < 0.9:
            parent = '"broadcast_id":%d,"action_id":%d' % (1 + int(r() * 10), 900 + int(r() * 20))
        else:
            parent = '"transactional_message_id":%d' % (1 + int(r() * 12))
        did = delivery_id(rng)
        line = ('{"id":"%s","deduplicate_id":"%s:%d","created":%d,"message_template_id":%d,'
                '"customer_id":%s,"customer_identifiers":%s,"recipient":%s,"subject":%s,'
                '"metrics":{%s},"failure_message":%s,%s,"trigger_event_id":null,"type":"%s","forgotten":false}'
                % (did, did[:12], created, created, 1000 + int(r() * 900),
                   uid_js, idents, email_js,
                   subjects_js[int(r() * nsub)] if typ == "email" else "null",
                   ",".join(m), failure or "null", parent, typ))
        w.add(line)
    w.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--people", type=int, default=10000)
    ap.add_argument("--events-per-person", type=float, default=2.0)
    ap.add_argument("--deliveries-per-person", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    if a.people < 1:
        ap.error("--people must be at least 1")
    os.makedirs(a.outdir, exist_ok=True)
    rng = random.Random(a.seed)
    # One company per ~12 business people, at least 50.
    companies = Companies(max(50, a.people // 12), rng)
    ident = []
    t = time.time()
    gen_people(os.path.join(a.outdir, "person.ndjson"), a.people, rng, companies, ident)
    nev = round(a.people * a.events_per_person)
    ndel = round(a.people * a.deliveries_per_person)
    gen_activities(os.path.join(a.outdir, "activity.ndjson"), nev, rng, ident, a.people)
    gen_deliveries(os.path.join(a.outdir, "delivery.ndjson"), ndel, rng, ident, a.people)
    print("gen: %d people, %d activities, %d deliveries in %s (%.1f s)"
          % (a.people, nev, ndel, a.outdir, time.time() - t), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
