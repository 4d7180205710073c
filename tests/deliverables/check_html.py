"""Are maprun deliverables --format html files well formed?  Every element but
the void ones is closed in order, there is no script or event attribute, and
every link of index.html names a file that exists.
Usage: check_html.py DIR; exit 1 with the reasons otherwise."""
import os
import sys
from html.parser import HTMLParser

VOID = {"meta", "br", "hr", "img", "link", "input", "col", "area", "base", "wbr"}


class Check(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.links = [], [], []

    def handle_starttag(self, tag, attrs):
        if tag == "script" or any(a.startswith("on") for a, _ in attrs):
            self.errors.append("script in the document")
        if tag == "a":
            self.links += [v for a, v in attrs if a == "href"]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> closes %s" % (tag, self.stack[-1] if self.stack else "nothing"))
        else:
            self.stack.pop()


errors = []
d = sys.argv[1]
files = sorted(f for f in os.listdir(d) if f.endswith(".html"))
if "index.html" not in files:
    errors.append("no index.html")
for name in files:
    p = Check()
    with open(os.path.join(d, name), encoding="utf-8") as f:
        src = f.read()
    p.feed(src)
    p.close()
    if not src.startswith("<!DOCTYPE html>"):
        p.errors.append("no doctype")
    if p.stack:
        p.errors.append("unclosed: " + " ".join(p.stack))
    for link in p.links:
        if not os.path.exists(os.path.join(d, link)):
            p.errors.append("link to a missing file " + link)
    if name == "index.html" and len(p.links) != len(files) - 1:
        p.errors.append("index links %d documents, %d written" % (len(p.links), len(files) - 1))
    errors += ["%s: %s" % (name, e) for e in p.errors]
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
