"""Logistic regression by mini-batch gradient descent, standard library only.

Trains on a generated, seeded data set (two noisy classes in 4 dimensions),
prints the loss every few steps, writes a checkpoint every CHECKPOINT_EVERY
steps (and on SIGTERM, which is how `hoist cancel` stops a job), resumes
from the newest checkpoint when there is one, and writes the final model to
$HOIST_ARTIFACT_DIR/model.json.
"""

import json
import math
import os
import random
import signal
import sys
import time

STEPS = int(os.environ.get("STEPS", "300"))
CHECKPOINT_EVERY = int(os.environ.get("CHECKPOINT_EVERY", "50"))
STEP_DELAY = float(os.environ.get("STEP_DELAY", "0"))
BATCH = 32
LEARNING_RATE = 0.1
DIM = 4

CKPT_DIR = os.environ.get("HOIST_CHECKPOINT_DIR", "ckpt")
ARTIFACT_DIR = os.environ.get("HOIST_ARTIFACT_DIR", ".")
CKPT = os.path.join(CKPT_DIR, "checkpoint.json")


def make_data(n=2000, seed=7):
    """Points labelled by a fixed hidden hyperplane, with 5% label noise."""
    rng = random.Random(seed)
    true_w = [1.5, -2.0, 0.7, 0.3]
    data = []
    for _ in range(n):
        x = [rng.gauss(0, 1) for _ in range(DIM)]
        y = 1 if sum(w * v for w, v in zip(true_w, x)) + 0.2 > 0 else 0
        if rng.random() < 0.05:
            y = 1 - y
        data.append((x, y))
    return data[: n * 4 // 5], data[n * 4 // 5 :]


def predict(w, b, x):
    z = sum(wi * xi for wi, xi in zip(w, x)) + b
    return 1 / (1 + math.exp(-max(min(z, 30), -30)))


def loss_and_accuracy(w, b, data):
    loss, correct = 0.0, 0
    for x, y in data:
        p = min(max(predict(w, b, x), 1e-12), 1 - 1e-12)
        loss -= y * math.log(p) + (1 - y) * math.log(1 - p)
        correct += (p >= 0.5) == (y == 1)
    return loss / len(data), correct / len(data)


def save_checkpoint(step, w, b):
    """Write to a temporary file and rename, so a checkpoint is never torn."""
    os.makedirs(CKPT_DIR, exist_ok=True)
    tmp = CKPT + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"step": step, "w": w, "b": b}, f)
    os.replace(tmp, CKPT)


def main():
    train, test = make_data()
    w, b, start = [0.0] * DIM, 0.0, 0
    if os.path.exists(CKPT):
        with open(CKPT) as f:
            ckpt = json.load(f)
        w, b, start = ckpt["w"], ckpt["b"], ckpt["step"]
        print(f"resuming from checkpoint at step {start}")
    else:
        print(f"training from scratch: {len(train)} examples, {STEPS} steps")

    state = {"step": start, "w": w, "b": b}

    def on_sigterm(signum, frame):
        save_checkpoint(state["step"], state["w"], state["b"])
        print(f"stopped at step {state['step']}: checkpoint saved")
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_sigterm)

    for step in range(start + 1, STEPS + 1):
        batch = random.Random(step).sample(train, BATCH)  # seeded by step: resumable
        gw, gb = [0.0] * DIM, 0.0
        for x, y in batch:
            err = predict(w, b, x) - y
            gw = [g + err * xi for g, xi in zip(gw, x)]
            gb += err
        w = [wi - LEARNING_RATE * g / BATCH for wi, g in zip(w, gw)]
        b -= LEARNING_RATE * gb / BATCH
        state.update(step=step, w=w, b=b)
        if step % 10 == 0 or step == STEPS:
            loss, _ = loss_and_accuracy(w, b, train)
            print(f"step {step:4d}/{STEPS}  loss {loss:.4f}")
        if step % CHECKPOINT_EVERY == 0:
            save_checkpoint(step, w, b)
            print(f"checkpoint saved at step {step}")
        time.sleep(STEP_DELAY)

    loss, accuracy = loss_and_accuracy(w, b, test)
    print(f"done: test loss {loss:.4f}, test accuracy {accuracy:.3f}")
    with open(os.path.join(ARTIFACT_DIR, "model.json"), "w") as f:
        json.dump({"w": w, "b": b}, f, indent=2)
    with open("metrics.json", "w") as f:
        json.dump({"steps": STEPS, "test_loss": loss, "test_accuracy": accuracy}, f, indent=2)


if __name__ == "__main__":
    main()
