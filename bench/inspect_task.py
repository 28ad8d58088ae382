"""The Inspect side of the throughput benchmark (bench/run.sh): the same
samples yardstick asks, one generate() per sample, graded with match().

The samples file comes from the BENCH_SAMPLES environment variable (written by
bench/gen_items.py)."""
import os

from inspect_ai import Task, task
from inspect_ai.dataset import json_dataset
from inspect_ai.scorer import match
from inspect_ai.solver import generate


@task
def bench() -> Task:
    return Task(
        dataset=json_dataset(os.environ["BENCH_SAMPLES"]),
        solver=generate(),
        scorer=match(numeric=True),
    )
