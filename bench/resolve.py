#!/usr/bin/env python3
"""Resolving a task's resources to an instance type, from a cached catalog.
Prints a Markdown table; docs/PERFORMANCE.md records it with the date.

    python3 bench/resolve.py

The measurement is the ignored test `bench_resolution` in
crates/hoist/tests/ec2_backend.rs, against the emulator (every us-east-1
instance type, offering and spot price moto ships), on loopback only.
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    cmd = ["cargo", "test", "-q", "-p", "hoist", "--test", "ec2_backend", "bench_resolution", "--", "--ignored", "--nocapture"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(out.stdout + out.stderr)
        sys.exit(out.returncode)
    print("\n".join(l for l in out.stdout.splitlines() if l.startswith("|")))


if __name__ == "__main__":
    main()
