#!/usr/bin/env python3
"""Builds examples/governance/usage.csv, the worked example's usage log, from the two real
request traces shipped in ../shared/data/llm-usage (see their README.md files for source,
licence and attribution; docs/admission.md "Worked example" describes the construction).

- chat (tenant `support`, project `chat`): the first 100 requests of the Azure LLM inference
  trace 2023, conversation service (Patel et al., Splitwise, ISCA 2024), input and output
  tokens as recorded, no cache information (cached 0), no agent run.
- agents: the Mooncake FAST'25 conversation trace (Qin et al., FAST'25), its requests chained
  into runs by their prefix-block hashes: a request continues the run of the latest earlier
  request that holds the deepest of its block ids at position >= 1 (each id hashes the
  block and every block before it, so sharing the id at position i means sharing the first
  (i+1) x 512 tokens: the same conversation, one step later). Position 0 alone (a shared
  system prompt) does not chain. Cached tokens = the leading reused blocks x 512, capped at
  the input (an unbounded prefix cache, as in the trace's README). Each step of a run but
  the last ends in one tool call (an agent step calls a tool or answers; the trace records
  no tool calls, so this is an assumption, stated in docs/admission.md).
  - `triage`: the first 120 runs (in order of their first request) with 2 steps or more.
  - `summarize`: the first 100 runs of exactly one step.
Timestamps: 2026-12-01T00:00:00Z plus each trace's offset from its first request.

Run from the repository root: python3 examples/governance/build_usage.py
"""

import csv
import datetime
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = next(
    d
    for d in (os.path.join(ROOT, "..", "shared", "data"), "/work/shared/data")
    if os.path.isdir(os.path.join(d, "llm-usage"))
)
BASE = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)
MODEL = "llama-3.1-70b"
COLUMNS = [
    "timestamp", "tenant", "project", "model", "tool", "agent_run_id",
    "input_tokens", "output_tokens", "cached_tokens", "tool_calls", "latency_ms",
]


def stamp(seconds):
    t = BASE + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def chat_rows():
    path = os.path.join(DATA, "llm-usage", "azure-llm-2023", "AzureLLMInferenceTrace_conv.csv")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))[:100]
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    first = datetime.datetime.strptime(rows[0]["TIMESTAMP"][:26], fmt)
    for r in rows:
        t = (datetime.datetime.strptime(r["TIMESTAMP"][:26], fmt) - first).total_seconds()
        yield [stamp(t), "support", "chat", MODEL, "", "", r["ContextTokens"],
               r["GeneratedTokens"], 0, 0, ""]


def agent_runs():
    path = os.path.join(DATA, "llm-usage", "mooncake-fast25", "conversation_trace.jsonl")
    owner = {}
    runs = []
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            h = r["hash_ids"]
            run, reuse = None, 0
            for i in range(len(h) - 1, 0, -1):
                if h[i] in owner:
                    run, reuse = owner[h[i]], i + 1
                    break
            if run is None:
                run = len(runs)
                runs.append([])
                reuse = 1 if h[0] in owner else 0
            cached = min(reuse * 512, r["input_length"])
            runs[run].append((r["timestamp"], r["input_length"], r["output_length"], cached))
            for x in h:
                owner[x] = run
    return runs


def agent_rows():
    runs = agent_runs()
    multi = [r for r in runs if len(r) >= 2][:120]
    single = [r for r in runs if len(r) == 1][:100]
    for project, chosen in (("triage", multi), ("summarize", single)):
        for n, steps in enumerate(chosen):
            for k, (ms, inp, out, cached) in enumerate(steps):
                last = k == len(steps) - 1
                yield [stamp(ms / 1000), "support", project, MODEL, "" if last else "search",
                       "%s-%03d" % (project, n + 1), inp, out, cached, 0 if last else 1, ""]


def main():
    out = os.path.join(ROOT, "examples", "governance", "usage.csv")
    rows = sorted(list(chat_rows()) + list(agent_rows()), key=lambda r: (r[0], r[2], r[5]))
    with open(out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        w.writerows(rows)
    print(f"wrote {out}: {len(rows)} records", file=sys.stderr)


if __name__ == "__main__":
    main()
