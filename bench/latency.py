#!/usr/bin/env python3
"""`hoist init` from empty with network latency added to every request.
Prints a Markdown report; docs/PERFORMANCE.md records the results with the
date and machine.

    python3 bench/latency.py                    # 25 ms per request, 7 runs
    python3 bench/latency.py --latency 50 --runs 5
    python3 bench/latency.py --release          # the release build of hoist

The measurement itself is the ignored test `bench_init_latency` in
crates/hoist/tests/faults.rs (the test build, as bench/run.py measures
hoist): one emulator, reset between runs, and `hoist_testkit::proxy`
between hoist and it, delaying every request by the given latency (and,
for the baseline, by 0 ms). The proxy's timestamps give the longest chain
of requests that ran one after another: the round trips no concurrency
overlapped. Its length times the latency is the least time any run with
that structure can take; the report gives the ratio of the measured wall
time to it, and to the shortest chain init's dependencies allow.
HOIST_BENCH_TIMELINE=1 makes the test print every request's arrival and
answer times (see its output with `--no-capture`). Everything runs on this
machine; the emulator and proxy listen on loopback only.
"""

import collections
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def arg(name, default):
    return int(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


LATENCY = arg("--latency", 25)
RUNS = arg("--runs", 7)
# The release build (`cargo build --release -p hoist` first): the test
# harness stays the debug one, the binary it runs is target/release/hoist.
RELEASE = "--release" in sys.argv

# The shortest chain init's data dependencies allow, from empty (see
# docs/PERFORMANCE.md): GetCallerIdentity (the account is in every name)
# -> the reads, concurrently (DescribeVpcs -> DescribeSecurityGroups is the
# longest) -> CreatePolicy (the boundary the roles are created with) ->
# CreateRole -> PutRolePolicy / AddRoleToInstanceProfile (CreateInstance-
# Profile can go alongside CreatePolicy); the bucket's six settings each
# need only CreateBucket.
MINIMAL_CHAIN = 6


def main():
    cmd = [
        "cargo", "nextest", "run", "-p", "hoist", "--test", "faults",
        "--run-ignored", "only", "-E", "test(=bench_init_latency)", "--no-capture",
    ]
    env = dict(os.environ, HOIST_BENCH_RUNS=str(RUNS), HOIST_BENCH_LATENCY_MS=str(LATENCY))
    build = "debug build"
    if RELEASE:
        binary = os.path.join(ROOT, "target", "release", "hoist")
        if not os.path.exists(binary):
            sys.exit(f"{binary} is missing: run `cargo build --release -p hoist` first")
        env["HOIST_BENCH_BINARY"] = binary
        build = "release build"
    env.pop("RUST_BACKTRACE", None)
    print(f"running {' '.join(cmd)} ...", file=sys.stderr)
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    text = out.stdout + out.stderr
    if out.returncode != 0:
        sys.exit(f"the benchmark failed:\n{text[-3000:]}")
    runs = collections.defaultdict(list)
    for m in re.finditer(r"BENCH latency_ms=(\d+) run=\d+ wall_ms=([\d.]+) requests=(\d+) chain=(\d+) levels=(\S*)", text):
        runs[int(m.group(1))].append((float(m.group(2)), int(m.group(3)), int(m.group(4)), m.group(5)))
    if LATENCY not in runs or 0 not in runs:
        sys.exit(f"no BENCH lines in the output:\n{text[-3000:]}")

    print(f"`hoist init --yes` from empty, {RUNS} runs per latency, {build}.\n")
    print("| added latency per request | median wall | min | requests | longest sequential chain |")
    print("|---:|---:|---:|---:|---:|")
    for latency in sorted(runs):
        walls = [r[0] for r in runs[latency]]
        chains = collections.Counter(r[2] for r in runs[latency])
        requests = collections.Counter(r[1] for r in runs[latency])
        print(
            f"| {latency} ms | {statistics.median(walls):.0f} ms | {min(walls):.0f} ms "
            f"| {requests.most_common(1)[0][0]} | {', '.join(f'{c} ({n}x)' for c, n in sorted(chains.items()))} |"
        )
    at = runs[LATENCY]
    wall = statistics.median(r[0] for r in at)
    base = statistics.median(r[0] for r in runs[0])
    chain = collections.Counter(r[2] for r in at).most_common(1)[0][0]
    levels = collections.Counter(r[3] for r in at if r[2] == chain).most_common(1)[0][0]
    floor = chain * LATENCY
    minimal = MINIMAL_CHAIN * LATENCY
    print()
    print(f"- hoist's chain at {LATENCY} ms: {chain} requests one after another; by level (the requests of a level ran concurrently):")
    for i, level in enumerate(levels.split("|"), 1):
        print(f"  {i}. {', '.join(f'{op} x{n}' if n > 1 else op for op, n in collections.Counter(level.split(',')).items())}")
    print(f"- floor for that chain: {chain} x {LATENCY} ms = {floor} ms; median wall {wall:.0f} ms: **{wall / floor:.2f}x** the floor")
    print(f"- latency's share: {wall:.0f} - {base:.0f} ms (0 ms added) = {wall - base:.0f} ms for {floor} ms of chained latency ({(wall - base) / floor:.2f}x)")
    print(
        f"- the shortest chain init's dependencies allow is {MINIMAL_CHAIN} requests ({minimal} ms): "
        f"the median is {wall / minimal:.2f}x that"
    )


if __name__ == "__main__":
    main()
