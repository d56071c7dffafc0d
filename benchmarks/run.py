r"""Benchmark suite: prints markdown tables and writes one JSON report.

  python -m benchmarks.run                       # everything (long: minutes)
  python -m benchmarks.run --quick               # smoke run, < 1 minute
  python -m benchmarks.run --only retrieval --vocab-sizes 200000
  python -m benchmarks.run --only adversarial,seeds --json bench.json

Sections (``--only``): ``adversarial`` (training throughput per batch size),
``seeds`` (vmapped seeds), ``retrieval`` (CSLS context, criterion and
evaluation per vocabulary size, each in a fresh process for its peak RSS),
``refine`` (one refinement round) and ``end_to_end`` (whole experiments on the
real data, each ``--e2e-config`` at each ``--e2e-seeds`` count). See
benchmarks/README.md for the meaning of every column.
"""

import argparse
import json
import os
import pathlib
import shlex
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

from bdi_jax import tables
from benchmarks import environment
from benchmarks import isolated

SECTIONS = ("adversarial", "seeds", "retrieval", "refine", "end_to_end")

# Reference throughput of MUSE's PyTorch code on a 2-core CPU like CI's
# (300-d, 2 x 2048 discriminator, 5 critic steps), in samples/s by batch size.
# Quoted, not measured here; only comparable on the same kind of machine.
MUSE_REFERENCE_SAMPLES_PER_S = {32: 540, 128: 810, 512: 1000}

# What end_to_end runs by default: each config at each seed count.
E2E_CONFIGS = ("gan_es_en", "wgangp_es_en")
E2E_SEEDS = (1, 10)

# The 200k-word retrieval must fit a 6 GB machine.
RSS_BUDGET_MB = 6 * 1024

# Defaults of a full run, and what --quick replaces them with. An option given
# on the command line wins over both.
FULL = dict(batch_sizes=[32, 128, 512], seeds=[1, 4, 16],
            vocab_sizes=[20000, 50000, 200000],
            refine_vocab_sizes=[20000, 200000], dim=300, adv_vocab=20000,
            hidden=2048, chunk_steps=50, min_chunks=3, min_seconds=10.0)
QUICK = dict(batch_sizes=[32], seeds=[1, 2], vocab_sizes=[2000],
             refine_vocab_sizes=[2000], dim=64, adv_vocab=2000, hidden=256,
             chunk_steps=10, min_chunks=2, min_seconds=0.5)


def _int_list(text: str) -> List[int]:
  try:
    values = [int(v) for v in text.split(",") if v.strip()]
  except ValueError:
    raise argparse.ArgumentTypeError(
        f"expected comma-separated integers, got {text!r}") from None
  if not values or min(values) < 1:
    raise argparse.ArgumentTypeError(f"expected positive integers: {text!r}")
  return values


def _seed_counts(text: str) -> List[int]:
  values = _int_list(text)
  if len(set(values)) != len(values):
    raise argparse.ArgumentTypeError(f"repeated seed count in {text!r}")
  return values


def _config_names(text: str) -> List[str]:
  from experiments.configs import registry  # pylint: disable=g-import-not-at-top
  names = [s.strip() for s in text.split(",") if s.strip()]
  if not names:
    raise argparse.ArgumentTypeError(f"expected config names, got {text!r}")
  if len(set(names)) != len(names):
    raise argparse.ArgumentTypeError(f"repeated config in {text!r}")
  for name in names:
    try:
      registry.get_config(name)
    except ValueError as e:
      raise argparse.ArgumentTypeError(str(e)) from None
  return names


def _sections(text: str) -> List[str]:
  names = [s.strip() for s in text.split(",") if s.strip()]
  unknown = sorted(set(names) - set(SECTIONS))
  if unknown:
    raise argparse.ArgumentTypeError(
        f"unknown section(s) {', '.join(unknown)}; known: "
        f"{', '.join(SECTIONS)}")
  return names


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
  p = argparse.ArgumentParser(
      prog="python -m benchmarks.run",
      description="Throughput, retrieval, refinement and end-to-end "
                  "benchmarks.",
      formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
  p.add_argument("--only", type=_sections, default=list(SECTIONS),
                 help=f"comma-separated sections (default: all of "
                      f"{','.join(SECTIONS)})")
  p.add_argument("--quick", action="store_true",
                 help="smoke run: tiny sizes, no end_to_end (< 1 minute)")
  p.add_argument("--batch-sizes", type=_int_list,
                 help="adversarial batch sizes (default 32,128,512)")
  p.add_argument("--seeds", type=_int_list,
                 help="seed counts of the seeds section (default 1,4,16)")
  p.add_argument("--seeds-batch", type=int, default=32,
                 help="batch size of the seeds section")
  p.add_argument("--vocab-sizes", type=_int_list,
                 help="retrieval vocabulary sizes (default 20000,50000,200000)")
  p.add_argument("--refine-vocab-sizes", type=_int_list,
                 help="refinement vocabulary sizes (default 20000,200000)")
  p.add_argument("--dim", type=int, help="embedding dimension (default 300)")
  p.add_argument("--adv-vocab", type=int,
                 help="rows of the generated training embeddings (default "
                      "20000)")
  p.add_argument("--hidden", type=int,
                 help="discriminator width, 2 layers (default 2048)")
  p.add_argument("--dis-steps", type=int, default=5,
                 help="critic updates per mapping update")
  p.add_argument("--chunk-steps", type=int,
                 help="iterations fused per compiled call (default 50)")
  p.add_argument("--min-seconds", type=float,
                 help="time each throughput case at least this long "
                      "(default 10)")
  p.add_argument("--config", default="gan_es_en",
                 help="registry config the training step is built from")
  p.add_argument("--queries", type=int, default=1500,
                 help="queries of the retrieval evaluation")
  p.add_argument("--criterion-words", type=int, default=10000,
                 help="source words of the unsupervised criterion")
  p.add_argument("--max-rank", type=int, default=15000,
                 help="dictionary candidates per side in refinement")
  p.add_argument("--retrieval-memory-mb", type=float,
                 help="sets BDI_RETRIEVAL_MEMORY_MB for the retrieval and "
                      "refine workers (default: inherited, else the library "
                      "default)")
  p.add_argument("--e2e-config", type=_config_names,
                 default=list(E2E_CONFIGS),
                 help="comma-separated configs of the end_to_end runs "
                      f"(default {','.join(E2E_CONFIGS)})")
  p.add_argument("--e2e-seeds", type=_seed_counts, default=list(E2E_SEEDS),
                 help="comma-separated seed counts: each config runs once "
                      "with --config.n_seeds=N for each N (default "
                      f"{','.join(map(str, E2E_SEEDS))})")
  p.add_argument("--e2e-flag", action="append", default=[],
                 metavar="FLAG",
                 help="extra experiments.run flag for every end_to_end run, "
                      "repeatable (e.g. --e2e-flag=--config.train.n_epochs=1)"
                      "; for smoke tests, leave out for the benchmark proper")
  p.add_argument("--e2e-timeout", type=float, default=None,
                 help="seconds before each end_to_end run is killed")
  p.add_argument("--json", type=pathlib.Path,
                 help="report path (default runs/benchmarks/<date>.json)")
  args = p.parse_args(argv)
  if any(f.split("=", 1)[0] == "--config.n_seeds" for f in args.e2e_flag):
    p.error("--e2e-flag=--config.n_seeds=N: give the seed counts with "
            "--e2e-seeds instead")
  preset = QUICK if args.quick else FULL
  for name, value in preset.items():
    if getattr(args, name, None) is None:
      setattr(args, name, value)
  # A smoke run cannot afford a whole experiment (minutes); say it was skipped.
  args.skipped_end_to_end = args.quick and "end_to_end" in args.only
  if args.skipped_end_to_end:
    args.only = [s for s in args.only if s != "end_to_end"]
  return args


# ---------------------------------------------------------------------------
# Sections. Each returns JSON-ready rows and prints its table.
# ---------------------------------------------------------------------------


def _throughput(args, batch: int, n_seeds: int) -> Dict[str, Any]:
  from benchmarks import adversarial  # pylint: disable=g-import-not-at-top
  return adversarial.measure_throughput(
      batch=batch, n_seeds=n_seeds, dim=args.dim, vocab=args.adv_vocab,
      hidden=args.hidden, dis_steps=args.dis_steps,
      chunk_steps=args.chunk_steps, min_chunks=args.min_chunks,
      min_seconds=args.min_seconds, config_name=args.config)


def _reference_applies(args) -> bool:
  return args.dim == 300 and args.hidden == 2048 and args.dis_steps == 5


def _matmul_only(args, r: Dict[str, Any]) -> Dict[str, Any]:
  from benchmarks import matmuls  # pylint: disable=g-import-not-at-top
  m = matmuls.measure_adversarial_matmuls(
      batch=r["batch"], dim=r["dim"], hidden=r["hidden"],
      n_layers=r["n_layers"], dis_steps=r["dis_steps"],
      chunk_steps=r["chunk_steps"], min_chunks=args.min_chunks,
      min_seconds=args.min_seconds)
  m["efficiency"] = r["step_gflops"] / m["matmul_only_gflops"]
  # The same products plus the critic's parameter updates: what the step
  # cannot avoid at any batch (benchmarks/matmuls.py).
  m.update(matmuls.measure_adversarial_matmuls(
      batch=r["batch"], dim=r["dim"], hidden=r["hidden"],
      n_layers=r["n_layers"], dis_steps=r["dis_steps"],
      chunk_steps=r["chunk_steps"], min_chunks=args.min_chunks,
      min_seconds=args.min_seconds, with_updates=True))
  m["efficiency_vs_updates"] = r["step_gflops"] / m["matmul_update_gflops"]
  return m


def section_adversarial(args, keep=None) -> List[Dict[str, Any]]:
  rows = []
  for batch in args.batch_sizes:
    r = _throughput(args, batch, 1)
    ref = (MUSE_REFERENCE_SAMPLES_PER_S.get(batch)
           if _reference_applies(args) else None)
    r["reference_muse_samples_per_s"] = ref
    r.update(_matmul_only(args, r))
    rows.append(r)
    _keep(keep, rows)
    _progress(f"adversarial batch {batch}: {r['samples_per_s']:,.0f} "
              f"samples/s, {r['step_gflops']:.1f} GFLOP/s, efficiency "
              f"{r['efficiency']:.2f}")
  print(_table(
      ["batch", "seeds", "iterations/s", "samples/s", "MUSE ref. samples/s*",
       "vs ref.", "step GFLOP/s", "matmul-only GFLOP/s", "efficiency",
       "matmul+update GFLOP/s", "step / (matmul+update)",
       "timed iterations", "warm-up s"],
      [[r["batch"], r["seeds"], r["iterations_per_s"], r["samples_per_s"],
        r["reference_muse_samples_per_s"],
        (r["samples_per_s"] / r["reference_muse_samples_per_s"]
         if r["reference_muse_samples_per_s"] else None),
        r["step_gflops"], r["matmul_only_gflops"], r["efficiency"],
        r["matmul_update_gflops"], r["efficiency_vs_updates"],
        r["chunk_steps"] * r["timed_chunks"], r["warmup_seconds"]]
       for r in rows]))
  print("\n*Reference: MUSE (PyTorch) on a 2-core CPU, quoted, not measured "
        "here; a sample is one source + one target row (2 x batch per "
        "iteration). GFLOP/s count the iteration's dense products "
        "analytically (benchmarks/matmuls.py); efficiency = step GFLOP/s / "
        "matmul-only GFLOP/s; matmul+update adds the critic's SGD updates "
        "and gradient norm (element-wise over every parameter, 5x an "
        "iteration), the work that does not shrink with the batch.")
  return rows


def section_seeds(args, keep=None) -> List[Dict[str, Any]]:
  rows = []
  for n in args.seeds:
    r = _throughput(args, args.seeds_batch, n)
    rows.append(r)
    _keep(keep, rows)
    _progress(f"seeds {n}: {r['samples_per_s']:,.0f} samples/s")
  base = next((r for r in rows if r["seeds"] == 1), None)
  for r in rows:
    r["speedup_vs_1"] = (r["samples_per_s"] / base["samples_per_s"]
                         if base else None)
  print(_table(
      ["seeds", "batch", "iterations/s", "samples/s (all seeds)",
       "samples/s per seed", "speed-up vs 1 seed"],
      [[r["seeds"], r["batch"], r["iterations_per_s"], r["samples_per_s"],
        r["samples_per_s_per_seed"], r["speedup_vs_1"]] for r in rows]))
  return rows


def _worker_env(args) -> Dict[str, str]:
  env = dict(os.environ)
  if args.retrieval_memory_mb is not None:
    env["BDI_RETRIEVAL_MEMORY_MB"] = str(args.retrieval_memory_mb)
  return env


def _run_worker(args, task: str, vocab: int, extra: Sequence[str]):
  from benchmarks import retrieval_worker  # pylint: disable=g-import-not-at-top
  worker_args = [task, "--vocab", str(vocab), "--dim", str(args.dim), *extra]
  result = isolated.run_worker(
      "benchmarks.retrieval_worker", worker_args,
      result_prefix=retrieval_worker.RESULT_PREFIX, env=_worker_env(args))
  result["rss_budget_mb"] = RSS_BUDGET_MB
  result["within_rss_budget"] = result["peak_rss_mb"] <= RSS_BUDGET_MB
  return result


def section_retrieval(args, keep=None) -> List[Dict[str, Any]]:
  rows = []
  for vocab in args.vocab_sizes:
    r = _run_worker(args, "retrieval", vocab,
                    ["--queries", str(args.queries),
                     "--criterion-words", str(args.criterion_words)])
    rows.append(r)
    _keep(keep, rows)
    _progress(f"retrieval {vocab:,}: {r['seconds']:.1f} s, peak RSS "
              f"{r['peak_rss_mb']:,.0f} MB, context efficiency "
              f"{r['context_efficiency']:.2f}")
  print(_table(
      ["vocab", "dim", "chunk rows", "context s", "criterion s",
       "(a) context+criterion s", "queries", "(b) CSLS top-10 s", "total s",
       "peak RSS MB", f"< {RSS_BUDGET_MB // 1024} GB",
       "context matmul-only s", "context GFLOP/s", "matmul-only GFLOP/s",
       "context efficiency"],
      [[r["vocab"], r["dim"], r["chunk_rows"], r["context_seconds"],
        r["criterion_seconds"], r["context_criterion_seconds"], r["queries"],
        r["eval_seconds"], r["seconds"], r["peak_rss_mb"],
        r["within_rss_budget"], r["context_matmul_seconds"],
        r["context_gflops"], r["context_matmul_gflops"],
        r["context_efficiency"]] for r in rows]))
  return rows


def section_refine(args, keep=None) -> List[Dict[str, Any]]:
  rows = []
  for vocab in args.refine_vocab_sizes:
    r = _run_worker(args, "refine", vocab, ["--max-rank", str(args.max_rank)])
    rows.append(r)
    _keep(keep, rows)
    _progress(f"refine {vocab:,}: {r['seconds']:.1f} s")
  print(_table(
      ["vocab", "dim", "context s", "dictionary s", "Procrustes s", "round s",
       "max rank", "pairs", "peak RSS MB"],
      [[r["vocab"], r["dim"], r["context_seconds"], r["dictionary_seconds"],
        r["procrustes_seconds"], r["seconds"], r["max_rank"],
        r["dictionary_size"], r["peak_rss_mb"]] for r in rows]))
  return rows


def _pct(x: Optional[float]) -> Optional[float]:
  return None if x is None else 100.0 * x


def section_end_to_end(args, keep=None) -> List[Dict[str, Any]]:
  from benchmarks import end_to_end  # pylint: disable=g-import-not-at-top
  rows: List[Dict[str, Any]] = []
  for config in args.e2e_config:
    for n_seeds in args.e2e_seeds:
      _progress(f"end_to_end: python -m experiments.run --config={config} "
                f"--config.n_seeds={n_seeds} {' '.join(args.e2e_flag)} (this "
                "takes a while)")
      r = end_to_end.run_experiment(config, n_seeds=n_seeds,
                                    flags=args.e2e_flag,
                                    timeout_s=args.e2e_timeout)
      rows = end_to_end.add_vs_one_seed([*rows, r])
      _keep(keep, rows)
      if r["status"] == "ok":
        _progress(f"end_to_end {config} x {n_seeds} seeds: "
                  f"{r['seconds']:.1f} s, refined CSLS P@1 "
                  f"{r['refined_csls_p1']}")
      else:
        print(f"end_to_end {config} x {n_seeds} seeds {r['status']}: "
              f"{r.get('note', '')}")
  ok = [r for r in rows if r["status"] == "ok"]
  if ok:
    print(_table(
        ["config", "seeds", "wall s", "vs 1 seed", "run s", "criterion",
         "CSLS P@1 % adv.", "CSLS P@1 % refined", "NN P@1 % refined",
         "selected seed", "seeds finished", "predicted successes"],
        [[r["config"], r["seeds"], r["seconds"], r["vs_1_seed"],
          r["run_wall_seconds"], r["criterion"],
          _pct(r["adversarial_csls_p1"]), _pct(r["refined_csls_p1"]),
          _pct(r["p_at_1_refined"].get("nn")), r["selected_seed"],
          r["n_seeds_finished"], r["n_seeds_predicted_success"]]
         for r in ok]))
  return rows


SECTION_FUNCTIONS: Dict[str, Callable] = {
    "adversarial": section_adversarial,
    "seeds": section_seeds,
    "retrieval": section_retrieval,
    "refine": section_refine,
    "end_to_end": section_end_to_end,
}


def _keep(keep: Optional[Callable[[List[Dict[str, Any]]], None]],
          rows: List[Dict[str, Any]]) -> None:
  # Hands the rows measured so far to main, which rewrites the report.
  if keep is not None:
    keep(rows)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
  # Timings and rates: two decimals are plenty.
  return tables.markdown_table(header, rows, digits=2)


def _progress(text: str) -> None:
  # Progress goes to stderr so stdout holds only the report.
  print(text, file=sys.stderr, flush=True)


def _header(report: Dict[str, Any]) -> str:
  d, v, st = report["device"], report["versions"], report["settings"]
  return "\n".join([
      "# bdi-jax benchmarks",
      "",
      f"- date: {report['date']}",
      f"- command: `{report['command']}`",
      f"- device: {d['platform']} ({d['device_kind']}, {d['device_count']} "
      f"device(s)); CPU: {d['cpu_model']}, {d['cpu_cores']} cores "
      f"({d['usable_cores']} usable)",
      "- versions: " + ", ".join(f"{k} {val}" for k, val in v.items()),
      f"- settings: dim {st['dim']}, discriminator 2 x {st['hidden']}, "
      f"{st['dis_steps']} critic steps per mapping step, {st['chunk_steps']} "
      f"iterations per chunk; "
      f"{'QUICK (smoke sizes)' if report['quick'] else 'full sizes'}",
  ])


def _default_json_path() -> pathlib.Path:
  stamp = time.strftime("%Y%m%d-%H%M%S")
  return isolated.REPO_ROOT / "runs" / "benchmarks" / f"bench-{stamp}.json"


def _write(path: pathlib.Path, report: Dict[str, Any]) -> None:
  path.parent.mkdir(parents=True, exist_ok=True)
  tmp = path.with_suffix(path.suffix + ".tmp")
  tmp.write_text(json.dumps(report, indent=2) + "\n")
  tmp.replace(path)  # Never leave a half-written report behind.


def main(argv: Optional[Sequence[str]] = None) -> int:
  raw_argv = list(sys.argv[1:] if argv is None else argv)
  args = parse_args(raw_argv)
  json_path = args.json or _default_json_path()
  report: Dict[str, Any] = {
      "command": shlex.join(["python", "-m", "benchmarks.run", *raw_argv]),
      **environment.describe(),
      "quick": args.quick,
      "settings": {k: getattr(args, k) for k in (
          "only", "batch_sizes", "seeds", "seeds_batch", "vocab_sizes",
          "refine_vocab_sizes", "dim", "adv_vocab", "hidden", "dis_steps",
          "chunk_steps", "min_chunks", "min_seconds", "config", "queries",
          "criterion_words", "max_rank", "retrieval_memory_mb", "e2e_config",
          "e2e_seeds", "e2e_flag", "e2e_timeout")},
      "errors": {},
  }
  if args.skipped_end_to_end:
    report["end_to_end"] = [{"status": "skipped", "note": "--quick"}]
  print(_header(report))
  failed = False
  for name in SECTIONS:
    if name not in args.only:
      continue
    print(f"\n## {name}\n")

    def keep(rows, name=name):
      report[name] = list(rows)
      _write(json_path, report)  # After each row: long runs keep partials.

    try:
      report[name] = result = SECTION_FUNCTIONS[name](args, keep=keep)
      notes = [f"{r.get('config')} x {r.get('seeds')} seeds: "
               f"{r.get('note', 'failed')}"
               for r in result if r.get("status") == "failed"]
      if notes:
        failed = True
        report["errors"][name] = "\n".join(notes)
    except Exception as e:  # pylint: disable=broad-except
      # One broken section must not cost the (long) others; the error is in
      # the report and the exit status.
      failed = True
      report["errors"][name] = f"{type(e).__name__}: {e}"
      print(f"FAILED: {type(e).__name__}: {e}")
    sys.stdout.flush()
    _write(json_path, report)  # After each section: long runs keep partials.
  _write(json_path, report)
  print(f"\nJSON report: {json_path}")
  return 1 if failed else 0


if __name__ == "__main__":
  sys.exit(main())
