#!/usr/bin/env bash
# What two cores give two independent processes, as a yardstick for the Ray scaling table: one
# `newslens predict` (1 thread, encoders as $RUNTIME says: auto by default) over the 384 bench articles, then two
# at once over the two halves.
# Each time includes each process's own model load. Usage: bash benchmarks/process_ceiling.sh [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
DATA=${1:-../shared/data}
RUNTIME=${RUNTIME:-auto}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
.venv/bin/python - "$DATA" "$WORK" <<'PY'
import json, sys
from pathlib import Path
from serve.bench import bench_articles
items = bench_articles(Path(sys.argv[1]), 384)
for name, part in [("all", items), ("a", items[:192]), ("b", items[192:])]:
    with open(Path(sys.argv[2]) / f"{name}.jsonl", "w", encoding="utf-8") as handle:
        for i, item in enumerate(part):
            handle.write(json.dumps({"id": str(i), "article": item.article}) + "\n")
PY
run() { .venv/bin/newslens predict "$WORK/$1.jsonl" -o "$WORK/$1-$2.jsonl" --id-column id --threads 1 --runtime "$RUNTIME" --quiet >/dev/null 2>&1; }
run a warm  # an ONNX export, if not cached yet, and a warm file cache
start=$(date +%s.%N); run all one; one=$(echo "$(date +%s.%N) - $start" | bc)
start=$(date +%s.%N); run a two & run b two; wait; two=$(echo "$(date +%s.%N) - $start" | bc)
echo "one process, 384 rows: ${one} s; two processes, 192 rows each: ${two} s; ratio $(echo "scale=2; $one / $two" | bc)x"

# The same question without NewsLens: one fixed single-threaded float32 matmul workload, once alone, then two
# copies at once. If two copies do not finish in the time of one, the machine's cores do not scale independently.
compute() { OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 .venv/bin/python -c '
import numpy as np
a = np.random.default_rng(0).standard_normal((512, 512), dtype=np.float32)
for _ in range(1500): a @ a
'; }
start=$(date +%s.%N); compute; one=$(echo "$(date +%s.%N) - $start" | bc)
start=$(date +%s.%N); compute & compute; wait; two=$(echo "$(date +%s.%N) - $start" | bc)
echo "matmul yardstick: one copy ${one} s; two copies at once ${two} s; throughput ratio $(echo "scale=2; 2 * $one / $two" | bc)x"
