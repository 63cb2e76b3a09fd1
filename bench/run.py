#!/usr/bin/env python3
"""hoist's benchmarks. Prints a Markdown report; docs/PERFORMANCE.md records
the results with the date and machine.

    python3 bench/run.py                    # everything, release build
    python3 bench/run.py --profile dev      # the test build (no 20-minute release build of the SDK)
    PEERS_VENV=/path/to/venv python3 bench/run.py   # also time peer CLIs installed there

Measures:
  - CLI start-up: `hoist --help` (and peers' `--help` when PEERS_VENV is set)
  - `hoist jobs` with 100 jobs in the workspace
  - the quickstart's wall time (STEP_DELAY=0, and as shipped)
  - log shipping through the agent into CloudWatch Logs on the emulator
  - the IAM policy evaluator's decisions per second
Everything runs on this machine; the emulator listens on loopback only.
"""

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROFILE = sys.argv[sys.argv.index("--profile") + 1] if "--profile" in sys.argv else "release"
HOIST = os.path.join(ROOT, "target", "release" if PROFILE == "release" else "debug", "hoist")
CARGO_PROFILE = ["--release"] if PROFILE == "release" else []


def timed(cmd, env=None, runs=20, warmup=2):
    """Median and min wall time in ms of `cmd` over `runs` runs."""
    samples = []
    for i in range(warmup + runs):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        if i >= warmup:
            samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples), min(samples)


def main():
    print(f"building hoist ({PROFILE})...", file=sys.stderr)
    subprocess.run(["cargo", "build", *CARGO_PROFILE, "-q", "-p", "hoist"], cwd=ROOT, check=True)
    data = tempfile.mkdtemp(prefix="hoist-bench-")
    env = dict(os.environ, HOIST_DATA_DIR=data)
    env.pop("RUST_BACKTRACE", None)
    rows = []

    med, low = timed([HOIST, "--help"], env, runs=30)
    rows.append(("hoist --help", med, low, f"{HOIST} --help"))
    peers = os.environ.get("PEERS_VENV")
    peer_rows = []
    if peers:
        for name, cmd in [
            ("sky --help (SkyPilot)", [os.path.join(peers, "bin", "sky"), "--help"]),
            ("dstack --help", [os.path.join(peers, "bin", "dstack"), "--help"]),
            # SDK 3.x: `import sagemaker` is an empty namespace; the work
            # starts with the training entry point.
            ("SageMaker SDK: from sagemaker.train import ModelTrainer", [os.path.join(peers, "bin", "python"), "-c", "from sagemaker.train import ModelTrainer"]),
        ]:
            if os.path.exists(cmd[0]):
                try:
                    m, l = timed(cmd, env, runs=5, warmup=1)
                    peer_rows.append((name, m, l))
                except subprocess.CalledProcessError as e:
                    print(f"{name}: failed ({e})", file=sys.stderr)

    # 100 finished jobs, created the way a user would.
    task = os.path.join(data, "tiny.yaml")
    with open(task, "w") as f:
        f.write("name: tiny\nrun: echo hello\n")
    ids = []
    for _ in range(100):
        out = subprocess.run([HOIST, "run", task, "-d"], env=env, capture_output=True, text=True, check=True)
        ids.append(out.stdout.strip())
    deadline = time.time() + 120
    while time.time() < deadline:
        out = subprocess.run([HOIST, "jobs"], env=env, capture_output=True, text=True, check=True)
        if out.stdout.count("succeeded") == 100:
            break
        time.sleep(0.5)
    med, low = timed([HOIST, "jobs"], env)
    rows.append(("hoist jobs (100 jobs)", med, low, "hoist jobs"))
    med, low = timed([HOIST, "jobs", "-o", "json"], env)
    rows.append(("hoist jobs -o json (100 jobs)", med, low, "hoist jobs -o json"))
    med, low = timed([HOIST, "logs", ids[0]], env)
    rows.append(("hoist logs JOB", med, low, "hoist logs JOB"))

    qs = os.path.join(ROOT, "examples", "quickstart", "task.yaml")
    med, low = timed([HOIST, "run", qs, "-e", "STEP_DELAY=0"], env, runs=5, warmup=1)
    rows.append(("quickstart, STEP_DELAY=0 (300 steps)", med, low, "hoist run examples/quickstart/task.yaml -e STEP_DELAY=0"))
    med, low = timed([HOIST, "run", qs], env, runs=3, warmup=0)
    rows.append(("quickstart as shipped (3 s of sleeps)", med, low, "hoist run examples/quickstart/task.yaml"))

    # Log shipping: the agent integration test in release mode prints its
    # throughput (the emulator is started by the test harness).
    out = subprocess.run(
        ["cargo", "test", *CARGO_PROFILE, "-q", "-p", "hoist", "--test", "agent_aws", "log_shipper", "--", "--nocapture"],
        cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, HOIST_EMULATOR_PYTHON=os.path.join(ROOT, ".venv/bin/python")),
    )
    m = re.search(r"shipped (\d+) lines through the agent in ([\d.]+)(m?s) \((\d+) lines/s", out.stdout + out.stderr)
    shipping = f"{int(m.group(4)):,} lines/s ({m.group(1)} lines in {m.group(2)} {m.group(3)})" if m else "not measured: " + (out.stderr[-500:])

    out = subprocess.run(["cargo", "run", "--release", "-q", "-p", "hoist-iam", "--example", "decisions"], cwd=ROOT, capture_output=True, text=True)
    decisions = out.stdout.strip() or ("not measured: " + out.stderr[-300:])

    print(f"Build profile: {PROFILE} (the policy evaluator: release).\n")
    print(f"| measurement | median | min | command |")
    print(f"|---|---:|---:|---|")
    for name, med, low, cmd in rows:
        print(f"| {name} | {med:.1f} ms | {low:.1f} ms | `{cmd}` |")
    print(f"| log shipping to CloudWatch (emulator) | {shipping} | | `cargo test {' '.join(CARGO_PROFILE)} -p hoist --test agent_aws log_shipper -- --nocapture` |")
    print(f"| policy evaluator | {decisions} | | `cargo run --release -p hoist-iam --example decisions` |")
    if peer_rows:
        help_ms = rows[0][1]
        print()
        print("| CLI start-up | median | min | ratio to `hoist --help` |")
        print("|---|---:|---:|---:|")
        print(f"| hoist --help | {help_ms:.1f} ms | {rows[0][2]:.1f} ms | 1x |")
        for name, med, low in peer_rows:
            print(f"| {name} | {med:.1f} ms | {low:.1f} ms | {med / help_ms:.0f}x |")
    shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
