#!/usr/bin/env python3
"""Writes the benchmark's items twice, as the same questions:

- a yardstick bank: BANK_DIR/bench.jsonl, one yardstick_core::Item per line
  (numeric grader, tolerance 0), spread round-robin over the five dimensions;
- Inspect samples: INSPECT_FILE, one {"id","input","target"} per line.

Item k asks "What is A+B?" with A and B fixed by k, so the stub's answer is
gradeable and both tools grade the same answers.  Standard library only.
"""
import argparse
import json
import os

DIMENSIONS = ["code_execution", "grounding", "judgment", "communication", "integrity"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--bank-dir", required=True)
    ap.add_argument("--inspect-file", required=True)
    args = ap.parse_args()
    os.makedirs(args.bank_dir, exist_ok=True)
    with open(os.path.join(args.bank_dir, "bench.jsonl"), "w") as bank, open(args.inspect_file, "w") as samples:
        for k in range(args.n):
            a, b = (k * 7919) % 1000, (k * 104729) % 997
            item_id = f"bench-{k:06d}"
            prompt = f"Benchmark item {k}. What is {a}+{b}? Answer with only the number."
            bank.write(json.dumps({
                "id": item_id,
                "dimension": DIMENSIONS[k % len(DIMENSIONS)],
                "prompt": prompt,
                "grader": {"type": "numeric", "tolerance": 0},
                "references": [str(a + b)],
            }) + "\n")
            samples.write(json.dumps({"id": item_id, "input": prompt, "target": str(a + b)}) + "\n")


if __name__ == "__main__":
    main()
