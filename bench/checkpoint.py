#!/usr/bin/env python3
"""Checkpoint upload and restore by the agent, against the emulator.

    python3 bench/checkpoint.py              # a 1 GiB checkpoint
    python3 bench/checkpoint.py --mib 256

Runs the ignored test `bench_checkpoint_transfer` (crates/hoist/tests/
ec2_backend.rs): the real `hoist agent` binary, as the instance role, runs a
job that writes a checkpoint of that size; the agent uploads it when the
job ends (multipart: 64 MiB parts, 4 in flight, read from disk as sent),
and a resumed attempt restores it (streamed to disk). Times come from the
agent's own log lines (CloudWatch timestamps, ms); the restore time counts
from the agent's start, so it includes the agent's start-up and reading
its record. Peak memory is the agent process's maximum resident set size
(wait4 rusage). Everything is on this machine: moto on loopback holds the
objects in memory, so this measures hoist's side and the emulator, not S3.
"""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
mib = int(sys.argv[sys.argv.index("--mib") + 1]) if "--mib" in sys.argv else 1024

env = dict(os.environ, HOIST_BENCH_CHECKPOINT_MIB=str(mib))
out = subprocess.run(
    ["cargo", "test", "-q", "-p", "hoist", "--test", "ec2_backend", "bench_checkpoint_transfer", "--", "--ignored", "--nocapture"],
    cwd=ROOT, env=env, capture_output=True, text=True,
)
lines = [l for l in (out.stdout + out.stderr).splitlines() if l.startswith("BENCH ")]
if out.returncode != 0 or len(lines) != 2:
    sys.stderr.write(out.stdout + out.stderr)
    sys.exit(1)
print(f"| transfer | size | time | throughput | agent peak RSS |")
print(f"|---|---|---|---|---|")
for l in lines:
    m = re.match(r"BENCH (\w+) (\d+) MiB: (\d+) ms, (\d+) MiB/s, agent peak RSS (\d+) MiB", l)
    what, size, ms, rate, rss = m.groups()
    print(f"| {what} | {size} MiB | {int(ms)/1000:.1f} s | {rate} MiB/s | {rss} MiB |")
