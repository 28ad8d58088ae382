"""Reference peer for bench/local: a plain Python client of the llama-cpp-python
OpenAI-compatible server, streaming, so it sees the true time to first token.

    python client.py --base-url http://127.0.0.1:PORT/v1 --model ID --prompts FILE \
        --max-tokens N --round R --label L --out FILE.jsonl [--extra JSON]

Same protocol as the Rust harness: one warm-up request, then a `ttft` pass
(max_tokens = 1, not streamed: its latency is the TTFT every path is measured
by), a `ttft_cold` pass (the same, each request preceded by an unmeasured one
whose prompt shares only the first tokens, so the server cannot reuse the
previous prompt's KV cache for the shared system prompt) and a `full` pass
(max_tokens = N, temperature 0, streamed). In the `full`
pass `tokens` is the number of streamed chunks that carry text: the server
sends one per generated token, holding a token back only while its text could
still be an incomplete UTF-8 character or the start of a stop sequence (then
two tokens arrive in one chunk and the count is low by one). `--extra` adds
fields to every request body.

Standard library only.
"""

import argparse
import http.client
import json
import time
import urllib.parse


# A conversation whose rendered prompt diverges from every measured one right
# after the template's first tokens (a system message replaces the default one).
FLUSH = [{"role": "system", "content": "Zzz."}, {"role": "user", "content": "Zzz."}]


def post(conn, path, body):
    conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
    return conn.getresponse()


def main():
    ap = argparse.ArgumentParser()
    for name in ("--base-url", "--model", "--prompts", "--label", "--out"):
        ap.add_argument(name, required=True)
    ap.add_argument("--max-tokens", type=int, required=True)
    ap.add_argument("--round", type=int, required=True)
    ap.add_argument("--extra", default="{}")
    a = ap.parse_args()
    extra = json.loads(a.extra)
    url = urllib.parse.urlsplit(a.base_url)
    path = url.path.rstrip("/") + "/chat/completions"
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
    prompts = [l.strip() for l in open(a.prompts, encoding="utf-8") if l.strip()]
    out = open(a.out, "a", encoding="utf-8")

    def body(prompt, max_tokens, stream):
        b = {"model": a.model, "messages": [{"role": "user", "content": prompt}],
             "temperature": 0.0, "max_tokens": max_tokens}
        if stream:
            b["stream"] = True
        b.update(extra)
        return b

    def record(pass_, i, fields):
        fields.update({"path": a.label, "round": a.round, "pass": pass_, "i": i})
        out.write(json.dumps(fields) + "\n")
        out.flush()

    def complete(prompt, max_tokens, messages=None):
        b = body(prompt, max_tokens, False)
        if messages:
            b["messages"] = messages
        r = post(conn, path, b)
        data = r.read()
        if r.status != 200:
            raise SystemExit(f"HTTP {r.status}: {data[:500]!r}")
        return json.loads(data)

    complete(prompts[0], a.max_tokens)  # warm-up

    for i, prompt in enumerate(prompts):
        t0 = time.perf_counter()
        j = complete(prompt, 1)
        wall = time.perf_counter() - t0
        record("ttft", i, {"wall_ms": wall * 1e3, "prompt_tokens": j["usage"]["prompt_tokens"]})

    for i, prompt in enumerate(prompts):
        complete(None, 1, FLUSH)
        t0 = time.perf_counter()
        j = complete(prompt, 1)
        wall = time.perf_counter() - t0
        record("ttft_cold", i, {"wall_ms": wall * 1e3, "prompt_tokens": j["usage"]["prompt_tokens"]})

    for i, prompt in enumerate(prompts):
        t0 = time.perf_counter()
        r = post(conn, path, body(prompt, a.max_tokens, True))
        if r.status != 200:
            raise SystemExit(f"HTTP {r.status}: {r.read()[:500]!r}")
        first = last = None
        chunks, text, finish = 0, [], None
        while True:
            line = r.readline()
            if not line:
                break
            line = line.strip()
            if not line.startswith(b"data:"):
                continue
            payload = line[5:].strip()
            if payload == b"[DONE]":
                break
            choice = json.loads(payload)["choices"][0]
            piece = (choice.get("delta") or {}).get("content")
            if piece:
                now = time.perf_counter()
                first = first if first is not None else now
                last = now
                chunks += 1
                text.append(piece)
            finish = choice.get("finish_reason") or finish
        r.read()
        wall = time.perf_counter() - t0
        record("full", i, {
            "wall_ms": wall * 1e3,
            "ttft_ms": (first - t0) * 1e3 if first is not None else None,
            # First to last text chunk: the decode phase as the client sees it.
            "decode_ms": (last - first) * 1e3 if first is not None else None,
            "tokens": chunks, "finish": finish, "text": "".join(text),
        })


if __name__ == "__main__":
    main()
