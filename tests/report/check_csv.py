"""Every cell of the CSVs given is safe to open in a spreadsheet: none
starts with = + - @ tab or CR (OWASP), and every row has the header's
width.  Usage: check_csv.py FILE...; exit 1 with the reasons otherwise."""
import csv
import sys

bad = []
for path in sys.argv[1:]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    for n, row in enumerate(rows, 1):
        if len(row) != len(rows[0]):
            bad.append("%s:%d: %d cells, the header has %d" % (path, n, len(row), len(rows[0])))
        for c in row:
            if c[:1] in ("=", "+", "-", "@", "\t", "\r"):
                bad.append("%s:%d: unsafe cell %r" % (path, n, c))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
