"""Is a maprun report --format html file well formed?  Every element but the
void ones is closed in order, there is no script, and the verdict is there.
Usage: check_html.py FILE; exit 1 with the reason otherwise."""
import sys
from html.parser import HTMLParser

VOID = {"meta", "br", "hr", "img", "link", "input", "col", "area", "base", "wbr"}


class Check(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        if tag == "script" or any(a.startswith("on") for a, _ in attrs):
            self.errors.append("script in the report")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> closes %s" % (tag, self.stack[-1] if self.stack else "nothing"))
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


p = Check()
with open(sys.argv[1], encoding="utf-8") as f:
    src = f.read()
p.feed(src)
p.close()
if not src.startswith("<!DOCTYPE html>"):
    p.errors.append("no doctype")
if p.stack:
    p.errors.append("unclosed: " + " ".join(p.stack))
if "accounted for" not in "".join(p.text):
    p.errors.append("no verdict")
for e in p.errors:
    print(e)
sys.exit(1 if p.errors else 0)
