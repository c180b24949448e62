"""Benchmark of meaning search: embedding speed and memory, and ``similar`` and hybrid search
latency against keyword search, on N published tests, in one run (and, with pgvector, what
reading the language means for similar tests costs once a minute per process).

Run from the repository root: ``.venv/bin/python -m bench.bench_semantic [--tests 10000]
[--dsn postgresql://...]``. Without ``--dsn`` the embedded PostgreSQL 18 (pgvector, HNSW);
with the system PostgreSQL 15 the vectors are ``real[]`` ranked in process (up to
``IN_PROCESS_MAX`` tests). The tests are the 44 of ``tests/data/semantic_eval.json``, each
varied (a number, a shuffled description sentence), written straight to the keyword index and
``test_embeddings`` through the same adapters the reactors use; embedding runs pinned to one
core with one BLAS thread, in batches of the reactor's size (100).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
os.environ.update(ONE_THREAD)  # before numpy loads

from adapters.embeddings import EmbedderSlot  # noqa: E402
from adapters.embeddings.passage import embedded_text  # noqa: E402
from adapters.search import PostgresSearchIndex, SearchDocument  # noqa: E402
from adapters.search.text import tag_key  # noqa: E402
from bench.server import scratch_database  # noqa: E402
from eventstore.database import read_pool  # noqa: E402
from projections.testembeddings import queries  # noqa: E402
from projections.testembeddings.reactor import sha256  # noqa: E402
from projections.testembeddings.search import WINDOW, TestMeaning  # noqa: E402
from projections.testembeddings.similar import LanguageMeans  # noqa: E402
from projections.testembeddings.store import EmbeddedTest, EmbeddingStore  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "semantic_eval.json"
MODEL = "use-multilingual-v3"
BATCH = 100
TARGETS_MS = {"similar": 50.0, "hybrid": 100.0}  # p99
GIN_INDEXES = ("test_search_grams_idx", "test_search_body_trgm_idx", "test_search_tag_keys_idx")


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def variants(n: int, seed: int = 15) -> list[dict]:
    """``n`` test documents: the evaluation set's tests, varied."""
    tests = json.loads(DATA.read_text())["tests"]
    rng = random.Random(seed)
    made = []
    for i in range(n):
        base = tests[i % len(tests)]
        words = base["description"].split()
        rng.shuffle(words)
        made.append(
            {
                "title": f"{base['title']} {i // len(tests) + 1}",
                "description": " ".join(words),
                "tags": base["tags"],
                "results": {
                    f"R{j}": {"title": r["title"], "description": r["text"]}
                    for j, r in enumerate(base["results"])
                },
            }
        )
    return made


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered), p99


def timed(call, rounds: int) -> list[float]:
    out = []
    for i in range(rounds):
        t0 = time.perf_counter()
        call(i)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_semantic", description=__doc__)
    parser.add_argument("--dsn", default=os.environ.get("CHRONICLE_BENCH_DSN"))
    parser.add_argument("--tests", type=int, default=10_000, help="published tests")
    parser.add_argument("--rounds", type=int, default=300, help="queries timed per subject")
    parser.add_argument(
        "--gin-pending-list",
        action="store_true",
        help="the keyword index's GIN indexes as before migration 0018 (fastupdate on)",
    )
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    before = rss_mib()
    t0 = time.perf_counter()
    slot = EmbedderSlot(MODEL, 512)
    model = slot.get()
    load_s, model_mib = time.perf_counter() - t0, rss_mib() - before
    docs = variants(args.tests)
    texts = [embedded_text(d) for d in docs]

    with scratch_database(args.dsn) as dsn:
        pool = read_pool(dsn, size=2, wait_seconds=10)
        keyword, store = PostgresSearchIndex(pool), EmbeddingStore(pool)
        keyword.ensure()
        if args.gin_pending_list:
            with pool.connection() as conn:
                for index in GIN_INDEXES:
                    conn.execute(f"ALTER INDEX {index} RESET (fastupdate)")
        store.begin(MODEL, 512)
        now = datetime.now(UTC)
        ids = [uuid.uuid4() for _ in docs]
        embed_s = write_s = 0.0
        for start in range(0, len(docs), BATCH):
            chunk = range(start, min(start + BATCH, len(docs)))
            t0 = time.perf_counter()
            vectors = model.embed_passages([texts[i] for i in chunk])
            t1 = time.perf_counter()
            for i, vector in zip(chunk, vectors, strict=True):
                d, tags = docs[i], tuple(docs[i]["tags"])
                keys = tuple(sorted({tag_key(t) for t in tags}))
                row = EmbeddedTest(
                    ids[i], 2, i + 1, sha256(texts[i]), d["title"], tags, keys, None, now
                )
                store.write(MODEL, row, vector)
                keyword.upsert(
                    SearchDocument(ids[i], 2, i + 1, d["title"], d["description"], tags, None, now)
                )
            embed_s += t1 - t0
            write_s += time.perf_counter() - t1
        with pool.connection() as conn:
            conn.execute("ANALYZE test_embeddings")
            conn.execute("ANALYZE test_search")
        meaning = TestMeaning(pool, slot)
        queries_ = [q["text"] for q in json.loads(DATA.read_text())["queries"]]
        rng = random.Random(1)
        picks = [rng.choice(ids) for _ in range(args.rounds)]
        timed(lambda i: meaning.similar(picks[i], limit=5), 20)  # warm
        similar = timed(lambda i: meaning.similar(picks[i], limit=5), args.rounds)
        kw = timed(lambda i: keyword.search(queries_[i % len(queries_)], limit=20), args.rounds)
        window = timed(
            lambda i: keyword.search(queries_[i % len(queries_)], limit=WINDOW), args.rounds
        )

        def hybrid_search(i: int, *, again: bool = False) -> object:
            if not again:
                meaning.query_vector.cache_clear()  # a query asked for the first time
            return meaning.search(queries_[i % len(queries_)], mode=None, keyword=keyword, tag=None)

        hybrid = timed(hybrid_search, args.rounds)
        hybrid_again = timed(lambda i: hybrid_search(i, again=True), args.rounds)
        serving = meaning.serving()
        assert serving is not None
        qvecs = [model.embed_query(q) for q in queries_]
        kept = queries.VectorCache()  # as the API keeps them (in process only)
        t0 = time.perf_counter()
        queries.nearest(pool, meaning.method, serving, qvecs[0], limit=20, cache=kept)
        first_ms = (time.perf_counter() - t0) * 1000
        nearest = timed(
            lambda i: queries.nearest(
                pool, meaning.method, serving, qvecs[i % len(qvecs)], limit=20, cache=kept
            ),
            args.rounds,
        )
        embed_q = timed(lambda i: model.embed_query(queries_[i % len(queries_)]), args.rounds)
        method = meaning.method
        # What a similar-tests call pays once a minute per process: the language means read
        # again (pgvector; in process they come with the vectors, in the first ranking above).
        means = (
            timed(lambda i: LanguageMeans().load(pool, serving), 10) if method == "pgvector" else []
        )
        pool.close()

    print(
        f"meaning search bench: {args.tests} published tests, method {method}, "
        f"model {MODEL}, one core, GIN fastupdate {'on' if args.gin_pending_list else 'off'}"
    )
    print(f"  model load {load_s:.1f} s, resident memory +{model_mib:.0f} MiB")
    print(
        f"  embedding {args.tests / embed_s:.0f} docs/s (batches of {BATCH}); "
        f"{args.tests} from scratch: {embed_s:.1f} s embedding + {write_s:.1f} s writing "
        f"= {embed_s + write_s:.1f} s"
    )
    for name, samples in (
        ("similar (limit 5)", similar),
        ("keyword search (limit 20)", kw),
        (f"keyword search (limit {WINDOW}, hybrid's)", window),
        ("hybrid search (incl. query embedding)", hybrid),
        ("hybrid search, a query asked before", hybrid_again),
        ("  of which query embedding", embed_q),
        ("  meaning ranking alone (limit 20)", nearest),
    ):
        p50, p99 = percentiles(samples)
        target = next(
            (f"  target p99 ≤ {t:.0f} ms" for k, t in TARGETS_MS.items() if name.startswith(k)), ""
        )
        print(f"  {name:40} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms{target}")
    if means:
        p50, p99 = percentiles(means)
        print(
            f"  {'similar: the language means, read again':40} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms"
        )
    if method != "pgvector":
        print(
            f"  first ranking after a change of test_embeddings (reads every vector): "
            f"{first_ms:.0f} ms"
        )
    slowest = sorted(range(len(kw)), key=lambda i: -kw[i])[:3]
    named = ", ".join(f"{queries_[i % len(queries_)]!r} {kw[i]:.0f} ms" for i in slowest)
    print(f"  slowest keyword searches: {named}")
    slowest = sorted(range(len(hybrid)), key=lambda i: -hybrid[i])[:3]
    named = ", ".join(f"{queries_[i % len(queries_)]!r} {hybrid[i]:.0f} ms" for i in slowest)
    print(f"  slowest hybrid searches: {named}")
    if method != "pgvector" and args.tests > queries.IN_PROCESS_MAX:
        print(f"  (in process ranking refuses past {queries.IN_PROCESS_MAX} tests)")


if __name__ == "__main__":
    main()
