#!/usr/bin/env python3
"""Corrupt plans must be refused with an error, never crash the reader.

usage: corrupt_plan.py MAPC PLAN.mapb N
Makes N corruptions of a good plan and runs `mapc disasm` (which verifies
the plan first) on each:
  - a flipped byte, a truncation, trailing bytes: refused (exit 1) by the
    checksum or size checks;
  - a flipped byte with the checksum recomputed, so the verifier itself must
    catch it (or the change must be harmless): exit 0 or 1, never a crash;
  - hand-made corruptions with a valid checksum (a jump out of the code, an
    unknown opcode, a constant out of range): refused (exit 1).
Prints "N passed, N failed".
"""
import os
import random
import struct
import subprocess
import sys
import tempfile
import zlib


def with_crc(buf):
    b = bytearray(buf)
    b[12:16] = b"\0\0\0\0"
    b[12:16] = struct.pack("<I", zlib.crc32(bytes(b)) & 0xFFFFFFFF)
    return bytes(b)


def section(buf, sid):
    nsec = struct.unpack_from("<I", buf, 4)[0] >> 16
    for i in range(nsec):
        s, off, size = struct.unpack_from("<III", buf, 24 + 12 * i)
        if s == sid:
            return off, size
    raise ValueError(sid)


def code_words(buf):
    off, size = section(buf, 10)          # SEC_CODE
    return off + 4, struct.unpack_from("<I", buf, off)[0]


def run(mapc, data, tmp):
    path = os.path.join(tmp, "p.mapb")
    with open(path, "wb") as f:
        f.write(data)
    r = subprocess.run([mapc, "disasm", path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
    return r.returncode, r.stderr.decode(errors="replace")


def main():
    mapc, plan, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    good = open(plan, "rb").read()
    rng = random.Random(7)
    passed = failed = 0

    def check(name, data, allowed):
        nonlocal passed, failed
        rc, err = run(mapc, data, tmp)
        if rc in allowed and "Sanitizer" not in err and "runtime error" not in err:
            passed += 1
        else:
            failed += 1
            print(f"FAIL: {name}: exit {rc}: {err.strip()[-400:]}")

    with tempfile.TemporaryDirectory() as tmp:
        check("the good plan", good, (0,))
        for k in range(n):
            i = rng.randrange(len(good))
            b = bytearray(good)
            b[i] ^= 1 << rng.randrange(8)
            check(f"flip byte {i}", bytes(b), (1,))
            check(f"truncate at {i}", good[:i], (1,))
            b = bytearray(good)
            j = rng.randrange(24, len(good))
            b[j] = rng.randrange(256)
            check(f"byte {j} with a valid checksum", with_crc(bytes(b)), (0, 1))
        check("trailing bytes", good + b"\0\0\0\0", (1,))
        start, count = code_words(good)
        for name, word in (("jump out of the code", (10 << 24) | 0xFFFFFF),   # JUMP
                           ("unknown opcode", 0xFF << 24),
                           ("constant out of range", (0 << 24) | 0xFFFFFF)):  # CONST
            b = bytearray(good)
            struct.pack_into("<I", b, start + 4 * rng.randrange(count), word)
            check(name, with_crc(bytes(b)), (1,))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
