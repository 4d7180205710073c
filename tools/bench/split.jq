# The reference rules' person split and the `lead` and `contact` rules
# (rules/customerio_to_salesforce.map), in jq, for `make bench`:
#
#   jq -c -f tools/bench/split.jq person.ndjson
#
# One JSON object per line: {"object":"Lead"|"Contact", "fields":{...}}, or
# {"quarantine": reason, "rule": ..., "cio_id": ...} where the rules quarantine
# (Email over 80, Customer.io id over 150 characters).  People whose stage is in
# neither list are skipped (no output), as the split's `else -> skip` does.
#
# Field by field it does what the rules do: lower(trim(lifecycle_stage)) against
# the two stage lists; LastName, FirstName, Email, Company (Lead only), Title,
# Phone, HasOptedOutOfEmail, cio_id__c, cio_user_id__c, cio_lifecycle_stage__c
# with the same nonempty / ?? / truncate / fits logic; cio_created_at__c from
# unix seconds or an ISO 8601 string; the `preferences` flatten (email_marketing,
# frequency, the rest as JSON text); and the Contact's AccountId reference (first
# Companies relationship, else a business e-mail domain).
#
# Written for jq 1.6 (Debian): no regular expressions (slow in jq): trim by
# slicing, digits by tonumber.  Differences from the VM, none of which the generated data exercises:
# ascii_downcase lower-cases ASCII only (the VM maps Unicode case); the VM also
# validates types, picklists and e-mail format, and writes what it stages to LMDB.

def ws: {" ": true, "\t": true, "\n": true, "\r": true, "\u000b": true, "\u000c": true,
         "\u00a0": true, "\ufeff": true};
def ltrim: if length > 0 and ws[.[0:1]] then .[1:] | ltrim else . end;
def rtrim: if length > 0 and ws[.[-1:]] then .[:-1] | rtrim else . end;
def trim: ltrim | rtrim;

# nonempty(x): x, or null when x is null, empty or only white space.
def nonempty: if . == null or (trim | length) == 0 then null else . end;
# truncate(x, n): at most n characters (jq slices strings by code point).
def truncate($n): if . == null then null else .[:$n] end;
# local_part / email_domain: around the last '@'.
def last_at: if . == null then null else (rindex("@")) end;
def local_part: last_at as $i | if $i == null then null else (.[:$i] | trim | if length == 0 then null else . end) end;
def email_domain: last_at as $i | if $i == null then null else (.[$i + 1:] | trim | ascii_downcase | if length == 0 then null else . end) end;

def freemail: {"gmail.com":1,"googlemail.com":1,"yahoo.com":1,"yahoo.co.uk":1,"yahoo.fr":1,"yahoo.de":1,
  "yahoo.it":1,"yahoo.es":1,"yahoo.ca":1,"yahoo.com.au":1,"yahoo.co.in":1,"yahoo.co.jp":1,
  "yahoo.com.br":1,"ymail.com":1,"rocketmail.com":1,"hotmail.com":1,"hotmail.co.uk":1,"hotmail.fr":1,
  "hotmail.de":1,"hotmail.it":1,"hotmail.es":1,"outlook.com":1,"outlook.fr":1,"outlook.de":1,
  "live.com":1,"live.co.uk":1,"live.fr":1,"live.de":1,"live.nl":1,"msn.com":1,
  "aol.com":1,"aim.com":1,"icloud.com":1,"me.com":1,"mac.com":1,"proton.me":1,
  "protonmail.com":1,"protonmail.ch":1,"pm.me":1,"gmx.com":1,"gmx.net":1,"gmx.de":1,
  "gmx.at":1,"gmx.ch":1,"web.de":1,"t-online.de":1,"freenet.de":1,"mail.com":1,
  "mail.ru":1,"bk.ru":1,"inbox.ru":1,"list.ru":1,"yandex.ru":1,"yandex.com":1,
  "ya.ru":1,"rambler.ru":1,"qq.com":1,"163.com":1,"126.com":1,"yeah.net":1,
  "sina.com":1,"sohu.com":1,"naver.com":1,"daum.net":1,"hanmail.net":1,"zoho.com":1,
  "zohomail.com":1,"fastmail.com":1,"fastmail.fm":1,"hey.com":1,"tutanota.com":1,"tuta.io":1,
  "orange.fr":1,"wanadoo.fr":1,"free.fr":1,"laposte.net":1,"sfr.fr":1,"libero.it":1,
  "virgilio.it":1,"tiscali.it":1,"btinternet.com":1,"sky.com":1,"virginmedia.com":1,"comcast.net":1,
  "verizon.net":1,"att.net":1,"sbcglobal.net":1,"bellsouth.net":1,"cox.net":1,"shaw.ca":1,
  "rogers.com":1,"bigpond.com":1,"seznam.cz":1,"wp.pl":1,"o2.pl":1,"rediffmail.com":1};

def lead_stages: {"subscriber": true, "lead": true, "marketingqualifiedlead": true};
def contact_stages: {"salesqualifiedlead": true, "customer": true, "evangelist": true};

# parse_datetime: unix seconds written as digits, or ISO 8601 (UTC, seconds); null otherwise.
def parse_datetime:
  if . == null then null
  else (try tonumber catch null) as $n
  | if $n != null then $n | todate | .[:-1] + ".000Z"
    else (try (fromdateiso8601 | todate | .[:-1] + ".000Z") catch null) end end;

def stage: (.attributes.lifecycle_stage // "") | trim | ascii_downcase;

def company_key:
  [(.relationships // [])[] | select(.object_type_id == "1")][0].cio_object_id
  | if . == null then null else "company:" + . end;
def domain_key:
  (.identifiers.email | email_domain) as $d
  | if $d == null or freemail[$d] then null
    else ("domain:" + $d) | if length > 255 then null else . end end;

def common($stage):
  {
    LastName: ((.attributes.last_name | nonempty) // (.identifiers.email | local_part) // "[unknown]" | truncate(80)),
    FirstName: (.attributes.first_name | truncate(40)),
    Email: .identifiers.email,
    Title: (.attributes.title | truncate(128)),
    Phone: (.attributes.phone | truncate(40)),
    HasOptedOutOfEmail: (.unsubscribed // false),
    cio_id__c: .identifiers.cio_id,
    cio_user_id__c: .identifiers.id,
    cio_lifecycle_stage__c: ($stage | nonempty | truncate(40)),
    cio_created_at__c: (.attributes.created_at | parse_datetime)
  }
  + (if .attributes.preferences == null then {}      # parse_json(null) is null: nothing flattened
     else ((.attributes.preferences | try fromjson catch {} | if type == "object" then . else {} end) as $p
           | {preferences_email_marketing__c: $p.email_marketing,
              preferences_frequency__c: ($p.frequency | truncate(40)),
              cio_preferences_json__c: ($p | del(.email_marketing, .frequency)
                                        | if length == 0 then null else tojson end)})
     end);

def check($rule):
  if (.fields.Email // "" | length) > 80 then
    {quarantine: "email longer than 80 characters", rule: $rule, cio_id: .fields.cio_id__c}
  elif (.fields.cio_user_id__c // "" | length) > 150 then
    {quarantine: "Customer.io id longer than 150 characters", rule: $rule, cio_id: .fields.cio_id__c}
  else . end;

stage as $s
| if lead_stages[$s] then
    {object: "Lead",
     fields: (common($s) + {Company: ((.attributes.company | nonempty) // "[not provided]" | truncate(255))})}
    | check("lead")
  elif contact_stages[$s] then
    ((company_key // domain_key) as $acct
     | {object: "Contact",
        fields: (common($s) + {AccountId: (if $acct == null then null
                                            else {"$ref": ["Account"], field: "cio_account_key__c", key: $acct} end)})})
    | check("contact")
  else empty end
