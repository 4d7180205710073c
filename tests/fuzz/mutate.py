#!/usr/bin/env python3
"""Mutation smoke test: mapc check must never crash on broken input.

Takes every .map seed given, makes N deterministic mutants of each (deleted,
inserted and duplicated bytes, grammar fragments, invalid UTF-8) and runs
`mapc check` on them.  Any exit status other than 0, 1 or 2 (a signal, an
AddressSanitizer abort) is a failure; the mutant is kept in tests/fuzz/regress/
so it can be replayed.  Prints "N passed, N failed".
usage: mutate.py MAPC N SEED.map...
"""
import os
import random
import subprocess
import sys
import tempfile

FRAGMENTS = [b"{", b"}", b"(", b")", b'"', b"??", b"else", b"rule x: person -> Lead", b"\xff\xfe",
             b".", b"ref", b"\n", b"split", b"->", b"[", b",", b"flatten", b"key", b"in", b"not in",
             b"test \"t\" {", b"expect", b"given person {", b"\\u", b"#", b"|", b"0.5e9", b"merge first"]


def mutate(data, rng):
    b = bytearray(data)
    for _ in range(rng.randint(1, 12)):
        if not b:
            break
        op, i = rng.random(), rng.randrange(len(b))
        if op < 0.4:
            del b[i:i + rng.randint(1, 20)]
        elif op < 0.7:
            b[i:i] = rng.choice(FRAGMENTS)
        else:
            j = rng.randrange(len(b))
            b[i:i] = b[j:j + rng.randint(1, 40)]
    return bytes(b)


def main():
    mapc, n, seeds = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    passed = failed = 0
    regress = os.path.join(os.path.dirname(os.path.abspath(__file__)), "regress")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "mutant.map")
        for seed_file in seeds:
            data = open(seed_file, "rb").read()
            for k in range(n):
                rng = random.Random(f"{os.path.basename(seed_file)}:{k}")
                mutant = mutate(data, rng)
                with open(path, "wb") as f:
                    f.write(mutant)
                r = subprocess.run([mapc, "check", path], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, timeout=60)
                if r.returncode in (0, 1, 2):
                    passed += 1
                    continue
                failed += 1
                os.makedirs(regress, exist_ok=True)
                keep = os.path.join(regress, f"{os.path.basename(seed_file)}.{k}.map")
                with open(keep, "wb") as f:
                    f.write(mutant)
                print(f"FAIL: mapc check crashed (status {r.returncode}) on {keep}")
                print(r.stderr.decode(errors="replace")[-2000:])
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
