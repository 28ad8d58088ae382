"""Summarises bench/local measurements (JSON lines from harness and client.py).

    python report.py RESULTS.jsonl --reference LABEL [--order L1,L2,...]

Per path and round:
- decode tok/s: tokens after the first / time after the first token, summed
  over the prompts. In-process: the engine's own timings (sampled tokens,
  end-of-turn included, as `Generation::tokens_per_second` counts them);
  streaming client: text chunks after the first / first-to-last chunk time.
  A non-streaming client cannot see the first token: for it the decode time
  of a prompt is estimated as its `full` latency minus its `ttft` latency.
- end-to-end tok/s: generated tokens (end-of-turn excluded) / summed request
  latency of the `full` pass, prompt evaluation and transport included.
- TTFT (max_tokens=1): median latency of the `ttft` pass, seen by the caller.
- TTFT, no shared prefix: the same for the `ttft_cold` pass, where a server
  cannot reuse the cached default system prompt of the previous request (the
  in-process engine never does: its `ttft` pass is used).
- TTFT (streamed / engine): median time to the first token inside a `full`
  request (streaming client: first text chunk; in-process: engine timing).
The table shows the median over rounds; ratios are against --reference.
With --server-log, llama.cpp's own per-request timers in the server's log
(`llama_perf_context_print`) are summed too: time inside llama_decode only,
without the server's Python, sampling and HTTP.
"""

import re

import argparse
import json
import statistics
import sys
from collections import defaultdict


def fmt(x, nd=1):
    return "–" if x is None else f"{x:.{nd}f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--reference", required=True)
    ap.add_argument("--order", default="")
    ap.add_argument("--server-log")
    a = ap.parse_args()

    rows, meta = defaultdict(list), []
    for line in open(a.results, encoding="utf-8"):
        r = json.loads(line)
        if "meta" in r:
            meta.append(r["meta"])
        else:
            rows[(r["path"], r["round"])].append(r)

    per_round = defaultdict(list)  # path -> [metrics per round]
    for (path, rnd), rs in sorted(rows.items()):
        ttft = {r["i"]: r for r in rs if r["pass"] == "ttft"}
        full = sorted((r for r in rs if r["pass"] == "full"), key=lambda r: r["i"])
        m = {"round": rnd, "estimated": False}
        if full and all(r.get("decode_ms") is not None for r in full):
            key = "sampled_tokens" if "sampled_tokens" in full[0] else "tokens"
            after_first = sum(max(r[key] - 1, 0) for r in full)
            m["decode_tps"] = after_first / (sum(r["decode_ms"] for r in full) / 1e3)
        else:
            after_first = sum(max(r["tokens"] - 1, 0) for r in full)
            dt = sum(r["wall_ms"] - ttft[r["i"]]["wall_ms"] for r in full)
            m["decode_tps"] = after_first / (dt / 1e3)
            m["estimated"] = True
        m["e2e_tps"] = sum(r["tokens"] for r in full) / (sum(r["wall_ms"] for r in full) / 1e3)
        m["ttft1_ms"] = statistics.median(r["wall_ms"] for r in ttft.values())
        cold = [r["wall_ms"] for r in rs if r["pass"] == "ttft_cold"]
        m["ttft_cold_ms"] = statistics.median(cold) if cold else m["ttft1_ms"]
        streamed = [r["ttft_ms"] for r in full if r.get("ttft_ms") is not None]
        m["ttft_stream_ms"] = statistics.median(streamed) if streamed else None
        m["tokens"] = sum(r["tokens"] for r in full)
        m["at_max"] = sum(1 for r in full if r.get("finish") == "length")
        m["n"] = len(full)
        pt = [r.get("prompt_tokens") for r in ttft.values() if r.get("prompt_tokens") is not None]
        m["prompt_tokens"] = sum(pt) if pt else None
        pe = [r for r in ttft.values() if r.get("prompt_eval_ms") is not None]
        if pe:
            m["prompt_ms_per_tok"] = sum(r["prompt_eval_ms"] for r in pe) / sum(r["prompt_tokens"] for r in pe)
        m["texts"] = {r["i"]: r.get("text") for r in full}
        per_round[path].append(m)

    if a.reference not in per_round:
        sys.exit(f"no results for the reference path {a.reference!r}")
    order = [p for p in a.order.split(",") if p in per_round] or sorted(per_round)
    order += [p for p in sorted(per_round) if p not in order]

    def med(path, key):
        vals = [m[key] for m in per_round[path] if m.get(key) is not None]
        return statistics.median(vals) if vals else None

    def spread(path, key):
        vals = [m[key] for m in per_round[path] if m.get(key) is not None]
        return f"{min(vals):.1f}–{max(vals):.1f}" if len(vals) > 1 else ""

    ref_dec, ref_e2e = med(a.reference, "decode_tps"), med(a.reference, "e2e_tps")
    ref_texts = per_round[a.reference][0]["texts"]
    print("| path | decode tok/s (range over rounds) | × server | end-to-end tok/s | × server "
          "| TTFT ms, max_tokens=1 | TTFT ms, no shared prefix | TTFT ms, streamed / engine | tokens generated | answers at max_tokens "
          "| prompt tokens | answers identical to reference |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for p in order:
        first = per_round[p][0]
        same = sum(1 for i, t in first["texts"].items() if ref_texts.get(i) == t)
        est = " (est.)" if first["estimated"] else ""
        print(f"| {p} | {fmt(med(p, 'decode_tps'))}{est} ({spread(p, 'decode_tps')}) "
              f"| {fmt(med(p, 'decode_tps') / ref_dec, 2)} "
              f"| {fmt(med(p, 'e2e_tps'))} ({spread(p, 'e2e_tps')}) "
              f"| {fmt(med(p, 'e2e_tps') / ref_e2e, 2)} "
              f"| {fmt(med(p, 'ttft1_ms'))} | {fmt(med(p, 'ttft_cold_ms'))} "
              f"| {fmt(med(p, 'ttft_stream_ms'))} "
              f"| {first['tokens']} | {first['at_max']}/{first['n']} "
              f"| {first['prompt_tokens'] if first['prompt_tokens'] is not None else '–'} "
              f"| {same}/{first['n']} |")
    print()
    print("Per round (decode tok/s · end-to-end tok/s · TTFT ms max_tokens=1):")
    for p in order:
        cells = [f"r{m['round']}: {m['decode_tps']:.1f} · {m['e2e_tps']:.1f} · {m['ttft1_ms']:.1f}"
                 for m in per_round[p]]
        print(f"- {p}: " + "; ".join(cells))
    if a.server_log:
        pe = re.compile(r"prompt eval time =\s*([\d.]+) ms /\s*(\d+) tokens")
        ev = re.compile(r"\seval time =\s*([\d.]+) ms /\s*(\d+) runs")
        p_ms = p_tok = e_ms = e_runs = 0.0
        for line in open(a.server_log, encoding="utf-8", errors="replace"):
            if (m := pe.search(line)) and int(m.group(2)) > 1:
                p_ms += float(m.group(1)); p_tok += int(m.group(2))
            elif (m := ev.search(line)) and int(m.group(2)) > 1:
                e_ms += float(m.group(1)); e_runs += int(m.group(2))
        if e_ms and p_ms:
            print()
            print(f"Server, llama.cpp's own timers over all its requests: decode "
                  f"{e_runs / (e_ms / 1e3):.1f} tok/s ({e_ms / e_runs:.2f} ms per token, "
                  f"{int(e_runs)} tokens); prompt evaluation {p_ms / p_tok:.2f} ms per token "
                  f"({int(p_tok)} tokens evaluated, the reused prefix not counted).")
    for m in meta[:1]:
        print()
        pms = med(m["path"], "prompt_ms_per_tok")
        print(f"In-process engine: n_ctx {m['n_ctx']}, {m['threads']} threads, "
              f"model load {m['load_ms']:.0f} ms, prompt evaluation {fmt(pms, 2)} ms per token "
              f"(whole prompt, every request); llama.cpp system info: `{m['system_info']}`")


if __name__ == "__main__":
    main()
