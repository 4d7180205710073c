#!/usr/bin/env python3
"""make bench: maprun stage against jq and a parse-only floor.

    python3 tools/bench/run.py [--build build] [--people 100000] [--people-large 1000000]
                               [--events-per-person 2] [--deliveries-per-person 1]
                               [--repeat 5] [--no-doc]

For each size it generates (or reuses) a dataset with tools/bench/gen.py under
BUILD/bench/, compiles rules/customerio_to_salesforce.map, and times, each in a
child process started by tools/bench/peakrss (wall time, CPU time, ru_maxrss):

  stage      maprun stage with the reference plan over person + activity + delivery
  stage-p    maprun stage over person.ndjson alone (what jq is compared with)
  parse      tools/bench/parse_only over the same three files (read + cJSON, no mapping):
             the floor of issue 3
  parse-p    parse_only over person.ndjson alone
  parse-jp   parse_only --parser jp over the three files: the same reader with the
             parser maprun stages with (runtime/jsonparse.c), a second, lower floor
  jq         jq -c -f tools/bench/split.jq person.ndjson (the Lead/Contact split and mapping)

While a child runs, peakrss samples its /proc/PID/status for RssAnon and RssFile, so
the peak can be split into heap and mapped-file pages.  Timed runs at the first size are
repeated (--repeat) in rounds of one run of each program, and the fastest run of each is
kept; the large size runs once.  Then it prints a
table, PASS/MISS per target of issue 3 item 8, and rewrites the "Measured" section of
docs/performance.md.  It exits 0 whether targets pass or not: a bench reports.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "bench"))
import gen  # noqa: E402  (for gen.VERSION)

RULES = "rules/customerio_to_salesforce.map"
DOC = "docs/performance.md"
KINDS = ("person", "activity", "delivery")
TARGET_JQ = 5.0        # maprun records/s at least 5x jq's
TARGET_FLOOR = 3.0     # stage time at most 3x the parse-only floor
TARGET_RSS = 0.10      # peak RSS within 10% from the small to the large size


def say(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


# ---- data

def dataset(build, people, epp, dpp, seed):
    """The dataset directory for these parameters, generated unless already complete."""
    name = "data-p%d-e%g-d%g-s%d-v%d" % (people, epp, dpp, seed, gen.VERSION)
    d = os.path.join(build, "bench", name)
    meta = os.path.join(d, "meta.json")
    if os.path.exists(meta):
        say("reusing %s" % d)
        with open(meta) as f:
            return d, json.load(f)
    say("generating %s (people=%d, events/person=%g, deliveries/person=%g)" % (d, people, epp, dpp))
    t = time.monotonic()
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "bench", "gen.py"), d,
                    "--people", str(people), "--events-per-person", str(epp),
                    "--deliveries-per-person", str(dpp), "--seed", str(seed)], check=True)
    counts = {}
    for k in KINDS:
        with open(os.path.join(d, k + ".ndjson"), "rb") as f:
            counts[k] = sum(buf.count(b"\n") for buf in iter(lambda: f.read(1 << 24), b""))
    m = {"people": people, "counts": counts, "seconds": round(time.monotonic() - t, 1),
         "bytes": {k: os.path.getsize(os.path.join(d, k + ".ndjson")) for k in KINDS}}
    with open(meta + ".tmp", "w") as f:
        json.dump(m, f)
    os.replace(meta + ".tmp", meta)     # written last: a half-generated directory is redone
    return d, m


def find_jq():
    jq = "/usr/bin/jq" if os.access("/usr/bin/jq", os.X_OK) else shutil.which("jq")
    if jq:
        return jq
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("installing jq (Debian package) as tools/deps.sh would")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL, env=env)
        subprocess.run(["apt-get", "install", "-y", "-q", "jq"], stdout=subprocess.DEVNULL, env=env)
        if os.access("/usr/bin/jq", os.X_OK):
            return "/usr/bin/jq"
    say("jq is missing and cannot be installed (run as root, or: sudo apt-get install -y jq); "
        "the jq comparison is skipped")
    return None


# ---- measuring one child

PEAKRSS = None   # BUILD/peakrss, set in main()


def measure(cmd, stdout=None):
    """Run cmd under peakrss: wall and CPU seconds, peak RSS and the RssAnon/RssFile peaks (kB)."""
    rep = os.path.join(os.path.dirname(PEAKRSS), "bench", "peakrss.json")
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL
    p = subprocess.run([PEAKRSS, rep] + cmd, stdout=out, stderr=subprocess.PIPE, cwd=ROOT)
    if stdout:
        out.close()
    if p.returncode != 0:
        raise SystemExit("bench: %s failed (exit %d):\n%s"
                         % (" ".join(cmd), p.returncode, p.stderr.decode(errors="replace")))
    with open(rep) as f:
        r = json.load(f)
    return {"wall": r["wall"], "cpu": r["user"] + r["sys"], "user": r["user"], "sys": r["sys"],
            "maxrss": r["maxrss_kb"], "anon": r["anon_kb"], "file": r["file_kb"]}


def best(runs):
    """The fastest run, with the largest peak RSS seen over all runs."""
    b = dict(min(runs, key=lambda r: r["wall"]))
    for k in ("maxrss", "anon", "file"):
        b[k] = max(r[k] for r in runs)
    b["runs"] = len(runs)
    return b


def bench_size(a, people, repeat, jq):
    d, meta = dataset(a.build, people, a.events_per_person, a.deliveries_per_person, a.seed)
    files = [os.path.join(d, k + ".ndjson") for k in KINDS]
    person = files[0]
    counts = meta["counts"]
    total = sum(counts.values())
    plan = os.path.join(a.build, "bench", "ref.mapb")
    maprun = os.path.join(a.build, "maprun")
    parse = os.path.join(a.build, "parse_only")
    state = os.path.join(a.build, "bench", "state-%d" % people)
    res = {"people": people, "counts": counts, "bytes": sum(meta["bytes"].values()),
           "person_bytes": meta["bytes"]["person"]}

    def stage(inputs):
        shutil.rmtree(os.path.join(ROOT, state), ignore_errors=True)
        return measure([maprun, "stage", plan, "--state", state] + inputs)

    cases = [
        ("stage", total, lambda: stage(files)),
        ("stage-p", counts["person"], lambda: stage([person])),
        ("parse", total, lambda: measure([parse] + files)),
        ("parse-p", counts["person"], lambda: measure([parse, person])),
        ("parse-jp", total, lambda: measure([parse, "--parser", "jp"] + files)),
    ]
    if jq:
        jq_out = os.path.join(a.build, "bench", "jq-%d.ndjson" % people)
        cases.append(("jq", counts["person"],
                      lambda: measure([jq, "-c", "-f", "tools/bench/split.jq", person], stdout=jq_out)))
    # Rounds: each round runs every case once, so that a slow spell of a shared machine
    # falls on all of them alike rather than on the repeats of one.
    runs = {name: [] for name, _, _ in cases}
    for i in range(repeat):
        for name, n, fn in cases:
            say("%-8s %d people, round %d/%d" % (name, people, i + 1, repeat))
            runs[name].append(fn())
            if name == "stage":             # what the full stage left (stage-p reuses the directory)
                res["state_bytes"] = dir_size(os.path.join(ROOT, state))
    for name, n, _ in cases:
        r = best(runs[name])
        r["records"] = n
        r["rate"] = n / r["wall"] if r["wall"] > 0 else 0.0
        res[name] = r
    shutil.rmtree(os.path.join(ROOT, state), ignore_errors=True)
    return res


def dir_size(d):
    """Bytes the directory's files take on disk (LMDB's data file is sparse: its length is the map size)."""
    total = 0
    for base, _, names in os.walk(d):
        for n in names:
            total += os.stat(os.path.join(base, n)).st_blocks * 512
    return total


# ---- reporting

def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = ", %.0f GiB RAM" % (kb / 1048576)
    except (OSError, ValueError, IndexError):
        pass
    return "%d CPUs (nproc), %s%s, %s %s" % (os.cpu_count() or 0, cpu, mem, platform.system(),
                                             platform.release())


def commit():
    def git(*args):
        return subprocess.run(["git"] + list(args), cwd=ROOT, capture_output=True, text=True).stdout.strip()
    c = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "runtime", "compiler", "grammar",
                "stdlib", "rules", "Makefile")
    return c + (" (with uncommitted changes to the runtime, compiler or rules)" if dirty else "")


def tool_versions(jq):
    v = {}
    if jq:
        v["jq"] = subprocess.run([jq, "--version"], capture_output=True, text=True).stdout.strip()
    v["cc"] = subprocess.run(["cc", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    return v


def mib(kb):
    return "%.1f MiB" % (kb / 1024)


def verdicts(small, large):
    """[(target, measured, PASS|MISS|n/a)]"""
    out = []
    if "jq" in small:
        ratio = small["stage-p"]["rate"] / small["jq"]["rate"]
        out.append(("maprun >= %gx jq's records/s (person split)" % TARGET_JQ, "%.2fx" % ratio,
                    "PASS" if ratio >= TARGET_JQ else "MISS"))
    else:
        out.append(("maprun >= %gx jq's records/s (person split)" % TARGET_JQ, "jq not available", "n/a"))
    ratio = small["stage"]["wall"] / small["parse"]["wall"]
    out.append(("stage time <= %gx the parse-only floor (reader + cJSON)" % TARGET_FLOOR, "%.2fx" % ratio,
                "PASS" if ratio <= TARGET_FLOOR else "MISS"))
    if large:
        a, b = small["stage"]["maxrss"], large["stage"]["maxrss"]
        rel = (b - a) / a
        out.append(("peak RSS within %d%% from %s to %s people" % (TARGET_RSS * 100, fmt_n(small["people"]),
                                                                   fmt_n(large["people"])),
                    "%s -> %s (%+.1f%%)" % (mib(a), mib(b), rel * 100), "PASS" if abs(rel) <= TARGET_RSS else "MISS"))
    else:
        out.append(("peak RSS flat (within %d%%)" % (TARGET_RSS * 100), "large size not run", "n/a"))
    return out


def fmt_n(n):
    return "{:,}".format(n)


def table(sizes):
    rows = ["| run | people | records | wall s | CPU s | records/s | peak RSS | RssAnon peak | RssFile peak |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    labels = {"stage": "maprun stage (person + activity + delivery)",
              "stage-p": "maprun stage (person only)",
              "parse": "parse-only floor (person + activity + delivery)",
              "parse-p": "parse-only floor (person only)",
              "parse-jp": "reader + maprun's parser (person + activity + delivery)",
              "jq": "jq split.jq (person only)"}
    for s in sizes:
        for k in ("stage", "parse", "parse-jp", "stage-p", "parse-p", "jq"):
            if k not in s:
                continue
            r = s[k]
            rows.append("| %s | %s | %s | %.2f | %.2f | %s | %s | %s | %s |" % (
                labels[k], fmt_n(s["people"]), fmt_n(r["records"]), r["wall"], r["cpu"],
                fmt_n(int(r["rate"])), mib(r["maxrss"]), mib(r["anon"]), mib(r["file"])))
    return rows


def ratios(sizes):
    rows = ["| ratio | " + " | ".join("%s people" % fmt_n(s["people"]) for s in sizes) + " |",
            "|---|" + "---:|" * len(sizes)]

    def row(label, f):
        cells = []
        for s in sizes:
            try:
                cells.append(f(s))
            except KeyError:
                cells.append("n/a")
        rows.append("| %s | %s |" % (label, " | ".join(cells)))

    row("maprun / jq records/s (person only)", lambda s: "%.2fx" % (s["stage-p"]["rate"] / s["jq"]["rate"]))
    row("stage / parse-only time (all three files)", lambda s: "%.2fx" % (s["stage"]["wall"] / s["parse"]["wall"]))
    row("stage / parse-only time (person only)", lambda s: "%.2fx" % (s["stage-p"]["wall"] / s["parse-p"]["wall"]))
    row("stage / reader + maprun's parser (all three files)",
        lambda s: "%.2fx" % (s["stage"]["wall"] / s["parse-jp"]["wall"]))
    row("input size (three files)", lambda s: "%.0f MiB" % (s["bytes"] / 1048576))
    row("staging area after the full stage (records.log and LMDB, on disk)", lambda s: "%.0f MiB" % (s["state_bytes"] / 1048576))
    return rows


def report(sizes, verdict_rows, info):
    lines = []
    lines.append("Run on %s: %s." % (info["date"], info["machine"]))
    lines.append("Commit `%s`; %s; %s." % (info["commit"], info["tools"].get("jq", "jq not available"),
                                           info["tools"]["cc"]))
    lines.append("Data: tools/bench/gen.py version %d, seed %d, %g events and %g deliveries per person; "
                 "timed runs at the first size are the fastest of %d rounds (each round runs every program once), the large size runs once."
                 % (gen.VERSION, info["seed"], info["epp"], info["dpp"], info["repeat"]))
    lines.append("")
    lines.extend(table(sizes))
    lines.append("")
    lines.extend(ratios(sizes))
    lines.append("")
    lines.append("| target (issue 3, item 8) | measured | verdict |")
    lines.append("|---|---|---|")
    for t, m, v in verdict_rows:
        lines.append("| %s | %s | **%s** |" % (t, m, v))
    if len(sizes) > 1 and sizes[1].get("stage"):
        a, b = sizes[0]["stage"], sizes[1]["stage"]
        lines.append("")
        lines.append("Peak RSS split (sampled every 10 ms from /proc/PID/status): anonymous memory %s -> %s "
                     "(%+.1f%%); mapped file pages %s -> %s."
                     % (mib(a["anon"]), mib(b["anon"]), (b["anon"] - a["anon"]) * 100.0 / max(a["anon"], 1),
                        mib(a["file"]), mib(b["file"])))
    return lines


PROSE = """# Performance

`make bench` measures `maprun stage` with the reference plan
(`rules/customerio_to_salesforce.map`) on a synthetic Customer.io dataset, against two
yardsticks, and checks the targets of issue 3 (item 8):

- **jq**: Debian's `jq` running `tools/bench/split.jq` over `person.ndjson`: the same
  Lead/Contact split (`lower(trim(lifecycle_stage))` against the two stage lists) and the same
  field mapping as the `lead` and `contact` rules (names, e-mail, company, title, phone,
  ids, stage, created-at date, the `preferences` flatten, the Contact's Account reference),
  one JSON object per output record. Its output matches what maprun stages for those two
  rules, field for field, except for the records maprun quarantines because it also
  validates e-mail format. Target: maprun's records/s at least **5x** jq's. Like is compared
  with like: maprun is timed staging `person.ndjson` alone, and it does more than jq (it
  also runs the `domain_account`, `second_company` and `push_prerequisite` rules, validates
  every field against the Salesforce schema, and writes records, references and counters
  to LMDB).
- **the parse-only floor**: `tools/bench/parse_only` reads the same files with maprun's own
  streaming reader (`runtime/input.c`: line splitting, UTF-8 checks) and parses each line
  with cJSON, as issue 3 defines the floor ("read + cJSON parse"), and does nothing else.
  Target: `maprun stage` over person + activity + delivery takes at most **3x** the floor's
  time. `maprun stage` itself parses with its own parser (`runtime/jsonparse.c`), which is
  faster than cJSON's; so the table also gives a second, lower floor, the same reader with
  that parser (`parse_only --parser jp`), and the ratio to it, which is the stricter measure
  of what mapping and staging cost.
- **flat memory**: peak RSS of `maprun stage` over all three files at the small size
  (`BENCH_PEOPLE`, 100,000 people) and the large one (`BENCH_PEOPLE_LARGE`, 1,000,000)
  differs by at most **10%**.

How: `tools/bench/gen.py` writes the dataset (deterministic, seeded; people with string
attributes, odd-cased and missing lifecycle stages, stringified-JSON preferences, free-mail
and business domains, company relationships, devices; events with data objects, page
views, attribute changes, profile deletions; deliveries with metrics maps), cached under
`build/bench/` by size and generator version. `tools/bench/run.py` runs each program
under `tools/bench/peakrss`, a small C helper that forks it, takes wall time from a
monotonic clock, and CPU time and peak RSS (`ru_maxrss`) from `getrusage(RUSAGE_CHILDREN)`
once it is reaped (forking from Python directly would not do: the kernel carries the
parent's RSS across exec into `ru_maxrss`); it also samples `/proc/PID/status` every
10 ms to split the peak into anonymous memory (heap) and mapped file pages (LMDB's
memory map). Inputs are read from the page cache (they were just generated or read by
the previous run); the staging directory is removed before each `maprun stage`. records/s
counts input lines. The run never fails the build: it prints PASS or MISS per target and
rewrites the "Measured" section below (the sections after it are kept).

Run it: `make bench` (or `make bench BENCH_PEOPLE=20000 BENCH_PEOPLE_LARGE=200000`).
"""


def write_doc(lines):
    path = os.path.join(ROOT, DOC)
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        text = PROSE
    head = "## Measured"
    i = text.find("\n" + head)
    if i < 0:
        before, after = text.rstrip("\n") + "\n", ""
    else:
        before = text[:i + 1]
        j = text.find("\n## ", i + len(head) + 1)
        after = text[j + 1:] if j >= 0 else ""
    section = head + "\n\n" + "\n".join(lines) + "\n"
    new = before.rstrip("\n") + "\n\n" + section + ("\n" + after if after else "")
    with open(path + ".tmp", "w") as f:
        f.write(new)
    os.replace(path + ".tmp", path)
    say("wrote %s" % DOC)


def main():
    ap = argparse.ArgumentParser(description="maprun stage vs jq vs the parse-only floor")
    ap.add_argument("--build", default="build")
    ap.add_argument("--people", type=int, default=100000)
    ap.add_argument("--people-large", type=int, default=1000000, help="0: skip the large size")
    ap.add_argument("--events-per-person", type=float, default=2.0)
    ap.add_argument("--deliveries-per-person", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5, help="rounds of timed runs at the first size (fastest kept)")
    ap.add_argument("--no-doc", action="store_true", help="do not rewrite docs/performance.md")
    a = ap.parse_args()
    os.chdir(ROOT)
    global PEAKRSS
    PEAKRSS = os.path.join(ROOT, a.build, "peakrss")
    for b in ("maprun", "mapc", "parse_only", "peakrss"):
        if not os.access(os.path.join(a.build, b), os.X_OK):
            raise SystemExit("bench: %s/%s is missing: run make bench (or make all %s/parse_only %s/peakrss)"
                             % (a.build, b, a.build, a.build))
    os.makedirs(os.path.join(a.build, "bench"), exist_ok=True)
    jq = find_jq()
    subprocess.run([os.path.join(a.build, "mapc"), "compile", RULES, "-o",
                    os.path.join(a.build, "bench", "ref.mapb")], check=True)
    sizes = [bench_size(a, a.people, max(1, a.repeat), jq)]
    if a.people_large > 0:
        sizes.append(bench_size(a, a.people_large, 1, jq))
    v = verdicts(sizes[0], sizes[1] if len(sizes) > 1 else None)
    info = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(), "commit": commit(), "tools": tool_versions(jq), "seed": a.seed,
            "epp": a.events_per_person, "dpp": a.deliveries_per_person, "repeat": max(1, a.repeat)}
    lines = report(sizes, v, info)
    print()
    print("\n".join(lines))
    print()
    for t, m, verdict in v:
        print("%-4s  %s: %s" % (verdict, t, m))
    if not a.no_doc:
        write_doc(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
