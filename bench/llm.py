"""SmolLM2-135M through the engine's LLM service: time to first token and decode speed for
n_threads=1 vs 2 (OMP_WAIT_POLICY=PASSIVE), optionally with CPU hogs running beside it.

    .venv/bin/python bench/llm.py [--threads 1 2] [--reps 3] [--max-tokens 96] [--busy 1]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import time
from typing import Any

from earmark.engine.llm import SMOLLM2_ID, LLMOptions, build_llm_service

TOPICS = ["bicycles", "volcanoes", "bread baking", "sailing", "the moon", "chess", "bees", "rain"]


def _burn() -> None:
    while True:
        pass


async def _one(service: Any, max_tokens: int, run: int) -> tuple[float, float, int]:
    """(seconds to first content token, decode tokens/s after it, completion tokens).
    Each run's prompt differs from its first words on, so llama.cpp cannot reuse a cached one."""
    topic = TOPICS[run % len(TOPICS)]
    request = {
        "model": SMOLLM2_ID,
        "messages": [
            {"role": "system", "content": f"Run {run}: you write long, detailed essays."},
            {"role": "user", "content": f"Write a long essay about {topic}."},
        ],
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    started = time.perf_counter()
    first = last = None
    tokens = 0
    async for chunk in service.stream(request):
        now = time.perf_counter()
        if any(c["delta"].get("content") for c in chunk["choices"]):
            first = first or now
            last = now
        if chunk.get("usage"):
            tokens = chunk["usage"]["completion_tokens"]
    assert first is not None and last is not None, "no content generated"
    decode_s = last - first
    return first - started, (tokens - 1) / decode_s if decode_s > 0 else float("nan"), tokens


async def _bench(threads: int, reps: int, max_tokens: int) -> dict[str, float]:
    service = build_llm_service(LLMOptions(n_threads=threads, probe_openai_servers=False))
    try:
        load_started = time.perf_counter()
        await _one(service, 2, -1)  # loads the model, warms up
        load_s = time.perf_counter() - load_started
        runs = [await _one(service, max_tokens, i) for i in range(reps)]
    finally:
        await service.close()
    return {
        "load_s": load_s,
        "ttft_s": statistics.median(r[0] for r in runs),
        "tok_s": statistics.median(r[1] for r in runs),
        "tokens": statistics.median(r[2] for r in runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--busy", type=int, default=0, help="CPU-burning processes beside it")
    args = parser.parse_args()

    hogs = [multiprocessing.Process(target=_burn, daemon=True) for _ in range(args.busy)]
    for hog in hogs:
        hog.start()
    try:
        print(f"SmolLM2-135M Q4_1, {args.reps} runs of {args.max_tokens} tokens, busy={args.busy}")
        for threads in args.threads:
            r = asyncio.run(_bench(threads, args.reps, args.max_tokens))
            print(
                f"n_threads={threads}: first token {r['ttft_s'] * 1000:6.0f} ms   "
                f"decode {r['tok_s']:6.1f} tok/s   ({r['tokens']:.0f} tokens, "
                f"first load+warm-up {r['load_s']:.2f} s)"
            )
    finally:
        for hog in hogs:
            hog.terminate()


if __name__ == "__main__":
    main()
