"""emuproc: an emulator (tests/emulators/*/…emu.py) as a child process, for the test suites.

Each emulator listens on a free loopback port and then writes its addresses, as JSON, to the
file given by --port-file (atomically). start() waits for that file; stop() ends the child.
"""

import json
import os
import subprocess
import sys
import time
import urllib.request


def stop(proc):
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def start(args, port_file, log):
    """Run `python3 ARGS --port-file PORT_FILE`, its output to the open file log.
    Returns (the process, the JSON it wrote); raises with the log's tail if it does not start."""
    proc = subprocess.Popen([sys.executable] + list(args) + ["--port-file", port_file], stdout=log, stderr=log)
    for _ in range(400):
        if os.path.exists(port_file):
            with open(port_file) as f:
                return proc, json.load(f)
        if proc.poll() is not None:
            break
        time.sleep(0.025)
    stop(proc)
    log.flush()
    with open(log.name, errors="replace") as f:
        tail = f.read()[-2000:]
    raise RuntimeError("%s did not start:\n%s" % (os.path.basename(args[0]), tail))


def admin(base_url, method, path, body=None):
    """An emulator's /__emu/PATH endpoint: the JSON it answers (None for an empty body)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base_url + "/__emu/" + path, data=data, method=method)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")
