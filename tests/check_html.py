"""Are maprun's HTML outputs well formed?  Every element but the void ones is
closed in order, there is no script or event attribute, and every link names a
file that exists; in a directory with index.html, the index links every other
document.  --contains TEXT: the text must appear in each file.
Usage: check_html.py [--contains TEXT] FILE|DIR...; exit 1 with the reasons otherwise."""
import os
import sys
from html.parser import HTMLParser

VOID = {"meta", "br", "hr", "img", "link", "input", "col", "area", "base", "wbr"}


class Check(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.links, self.text = [], [], [], []

    def handle_starttag(self, tag, attrs):
        if tag == "script" or any(a.startswith("on") for a, _ in attrs):
            self.errors.append("script in the document")
        if tag == "a":
            self.links += [v for a, v in attrs if a == "href" and not v.startswith("#")]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> closes %s" % (tag, self.stack[-1] if self.stack else "nothing"))
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def check_file(path, contains):
    p = Check()
    with open(path, encoding="utf-8") as f:
        src = f.read()
    p.feed(src)
    p.close()
    if not src.startswith("<!DOCTYPE html>"):
        p.errors.append("no doctype")
    if p.stack:
        p.errors.append("unclosed: " + " ".join(p.stack))
    if contains and contains not in "".join(p.text):
        p.errors.append("no %r" % contains)
    for link in p.links:
        if not os.path.exists(os.path.join(os.path.dirname(path), link)):
            p.errors.append("link to a missing file " + link)
    return p


def main(argv):
    contains = None
    if argv[:1] == ["--contains"]:
        contains, argv = argv[1], argv[2:]
    errors = []
    for arg in argv:
        if not os.path.isdir(arg):
            errors += ["%s: %s" % (arg, e) for e in check_file(arg, contains).errors]
            continue
        files = sorted(f for f in os.listdir(arg) if f.endswith(".html"))
        if "index.html" not in files:
            errors.append("%s: no index.html" % arg)
        for name in files:
            p = check_file(os.path.join(arg, name), contains)
            if name == "index.html" and len(p.links) != len(files) - 1:
                p.errors.append("index links %d documents, %d written" % (len(p.links), len(files) - 1))
            errors += ["%s: %s" % (name, e) for e in p.errors]
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
