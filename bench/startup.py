#!/usr/bin/env python3
"""CLI start-up, hoist's release build against its peers, side by side in
one run. Prints a Markdown table; docs/PERFORMANCE.md records the results.

    cargo build --release -p hoist
    PEERS_VENV=/tmp/peers python3 bench/startup.py

PEERS_VENV is a virtual environment holding the peers:
`pip install skypilot==0.14.1 dstack==0.22.5 sagemaker==3.27.0`. Medians of
30 runs for hoist, 5 for the peers (each takes seconds), after 2 warm-ups.
Nothing here touches the network.
"""

import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(cmd, runs, warmup=2):
    samples = []
    for i in range(warmup + runs):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        if i >= warmup:
            samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples), min(samples)


def main():
    release = os.path.join(ROOT, "target", "release", "hoist")
    debug = os.path.join(ROOT, "target", "debug", "hoist")
    if not os.path.exists(release):
        sys.exit("build the release binary first: cargo build --release -p hoist")
    rows = [("hoist --help (release build)", [release, "--help"], 30)]
    if os.path.exists(debug):
        rows.append(("hoist --help (debug build)", [debug, "--help"], 30))
    peers = os.environ.get("PEERS_VENV")
    if peers:
        bin_ = os.path.join(peers, "bin")
        rows += [
            ("sky --help (SkyPilot)", [os.path.join(bin_, "sky"), "--help"], 5),
            ("dstack --help", [os.path.join(bin_, "dstack"), "--help"], 5),
            ("SageMaker SDK: from sagemaker.train import ModelTrainer",
             [os.path.join(bin_, "python"), "-c", "from sagemaker.train import ModelTrainer"], 5),
        ]
    results = [(name, *timed(cmd, runs)) for name, cmd, runs in rows]
    base = results[0][1]
    print("| CLI start-up | median | min | ratio to the release `hoist --help` |")
    print("|---|---:|---:|---:|")
    for name, median, low in results:
        print(f"| {name} | {median:.1f} ms | {low:.1f} ms | {median / base:.0f}x |")


if __name__ == "__main__":
    main()
