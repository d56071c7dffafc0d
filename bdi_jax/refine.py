"""Refinement: CSLS dictionary induction + orthogonal Procrustes, repeated.

One round (Conneau et al. 2018, Sec. 2.2-2.3)::

  dico = induction.induce(mapped_src, tgt, csls_context)
  w = procrustes(src[dico pairs], tgt[dico pairs])

:func:`refine_batch` runs ``n_rounds`` rounds of every start mapping in one
compiled call (``lax.scan`` over rounds, ``lax.map`` over seeds);
:func:`refine_mappings` is the run's refinement phase around it: it keeps,
per start, the best of the start and its rounds by the unsupervised
criterion, with the last round's dictionary signals.
"""

import dataclasses
import functools
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from bdi_jax import console as console_lib
from bdi_jax import induction, retrieval, scoring

__all__ = ["procrustes", "dictionary_procrustes", "Rounds", "refine_batch",
           "refinement_signals", "refine_mappings"]


def _polar(cross: jax.Array) -> jax.Array:
  """The orthogonal factor ``U V^T`` of ``cross = U S V^T``."""
  u, _, vt = jnp.linalg.svd(cross, full_matrices=False)
  return u @ vt


def procrustes(src: jax.Array, tgt: jax.Array) -> jax.Array:
  """Orthogonal ``W`` minimising ``||src @ W.T - tgt||_F``.

  Closed form (Schönemann 1966): with ``U S V^T = svd(tgt^T src)``,
  ``W = U V^T``.

  Args:
    src: ``[m, d]`` source embeddings of the dictionary pairs.
    tgt: ``[m, d]`` target embeddings of the same pairs.

  Returns:
    ``W: [d, d]`` orthogonal, to be applied as ``src @ W.T``.
  """
  if src.ndim != 2 or src.shape != tgt.shape:
    raise ValueError(
        f"src and tgt must both be [m, d]; got {src.shape} and {tgt.shape}")
  return _polar(tgt.T @ src)


def dictionary_procrustes(d: induction.InducedDictionary, src, tgt):
  """:func:`procrustes` of the pairs ``d`` keeps, as a masked sum (fixed
  shapes, so it compiles)."""
  n_s, n_t = d.s2t.shape[0], d.t2s.shape[0]
  cross = ((tgt[d.s2t] * d.keep_s2t[:, None]).T @ src[:n_s]
           + (tgt[:n_t] * d.keep_t2s[:, None]).T @ src[d.t2s])
  return _polar(cross)


class Rounds(NamedTuple):
  """Per refinement round (leading axes ``[S, n_rounds]`` when batched)."""
  w: jax.Array  # [d, d] the round's Procrustes mapping.
  scores: scoring.Scores  # Its scores.
  dictionary_size: jax.Array  # Pairs it was solved on.
  # Jaccard index of the round's pairs and the previous round's (round 1:
  # against nothing, so 0; the host reports None there).
  dictionary_overlap: jax.Array


def _refine_one(w0, r_src0, r_tgt0, src, tgt, tgt_unit, query_ids,
                s: scoring.Settings) -> Rounds:
  def one_round(carry, _):
    w, r_src, r_tgt, previous = carry
    d = induction.induce(
        scoring.mapped_unit(w, src), tgt_unit,
        retrieval.CSLSContext(r_src, r_tgt, s.csls_k),
        method=s.refine_method, mode=s.refine_mode, max_rank=s.max_rank,
        batch_size=s.batch_size)
    w = dictionary_procrustes(d, src, tgt).astype(w0.dtype)
    scores = scoring.score_one(w, src, tgt_unit, query_ids, s)
    size, shared = d.size(), induction.shared_pairs(d, previous)
    overlap = shared / jnp.maximum(1, size + previous.size() - shared)
    return ((w, scores.r_src, scores.r_tgt, d),
            Rounds(w, scores, size, overlap))

  n_s = induction.effective_rank(s.max_rank, src.shape[0])
  n_t = induction.effective_rank(s.max_rank, tgt.shape[0])
  nothing = induction.InducedDictionary(
      jnp.zeros(n_s, jnp.int32), jnp.zeros(n_t, jnp.int32),
      jnp.zeros(n_s, bool), jnp.zeros(n_t, bool),
      jnp.zeros(n_s, src.dtype), jnp.zeros(n_t, src.dtype))
  _, rounds = jax.lax.scan(one_round, (w0, r_src0, r_tgt0, nothing), None,
                           length=s.n_rounds)
  return rounds


@functools.partial(jax.jit, static_argnames=("settings",))
def refine_batch(ws: jax.Array, r_src: jax.Array, r_tgt: jax.Array,
                 src: jax.Array, tgt: jax.Array, tgt_unit: jax.Array,
                 query_ids: Optional[jax.Array],
                 settings: scoring.Settings) -> Rounds:
  """``settings.n_rounds`` refinement rounds of every start mapping.

  Args:
    ws: ``[S, d, d]`` start mappings.
    r_src, r_tgt: ``[S, n_src]``, ``[S, n_tgt]`` their CSLS r-vectors (from
      :func:`bdi_jax.scoring.score_batch`), so the first dictionary costs no
      extra context.
    src, tgt: embeddings as trained on (Procrustes fits these).
    tgt_unit: ``tgt`` row-normalised (retrieval).
    query_ids: ``[q]`` test source ids, or None.
    settings: see :class:`bdi_jax.scoring.Settings`.

  Returns:
    :class:`Rounds` with leading axes ``[S, n_rounds]``.
  """
  return jax.lax.map(
      lambda xs: _refine_one(*xs, src, tgt, tgt_unit, query_ids, settings),
      (ws, r_src, r_tgt))


def refinement_signals(size: int, n_max: int, overlap: Optional[float]
                       ) -> Dict[str, Optional[float]]:
  """Signals of one refinement round's induced dictionary.

  Args:
    size: pairs the round induced.
    n_max: the most pairs possible (the smaller vocabulary, capped by
      ``refine.max_rank``).
    overlap: Jaccard index of the round's pairs and the previous round's
      (None in the first round).

  Returns:
    ``{"mutual_fraction": size / n_max, "dictionary_overlap": overlap}``.
  """
  return {"mutual_fraction": size / max(1, n_max),
          "dictionary_overlap": None if overlap is None else float(overlap)}


def refine_mappings(spaces: scoring.Spaces,
                    starts: Sequence[scoring.Mapping],
                    settings: scoring.Settings, seeds: Sequence[int], *,
                    log: Optional[Callable[[Dict], None]] = None,
                    console: Optional[console_lib.Console] = None
                    ) -> List[scoring.Mapping]:
  """Refines every start mapping (seed ``seeds[i]``) in one compiled call.

  Returns, per start, the best of the start and every round by the
  unsupervised criterion, with the last round's dictionary signals.

  Raises:
    ValueError: a round induced no pair (a degenerate mapping).
  """
  console = console or console_lib.Console(bars=False, enabled=False)
  if not starts:
    return []
  queries, gold = scoring.test_queries(spaces)
  # How many words could pair up at most: the dictionary's mutual-NN size over
  # this is the detector's main signal.
  n_max = min(spaces.src.shape[0], spaces.tgt.shape[0],
              settings.max_rank or spaces.src.shape[0])
  desc = (f"refine {len(starts)} seeds" if len(starts) > 1
          else f"refine seed {seeds[0]}")
  with console.bar(1, desc) as bar:
    rounds = jax.device_get(refine_batch(
        jnp.asarray(np.stack([b.w for b in starts]).astype(np.float32)),
        jnp.stack([b.ctx.r_src for b in starts]),
        jnp.stack([b.ctx.r_tgt for b in starts]),
        spaces.src, spaces.tgt, spaces.tgt_unit, queries, settings))
    bar.update(1)
  out = []
  for i, (seed, start) in enumerate(zip(seeds, starts)):
    best, signals = start, {}
    for r in range(settings.n_rounds):
      size = int(rounds.dictionary_size[i, r])
      if size == 0:
        raise ValueError(
            f"refinement round {r + 1} of seed {seed} induced no dictionary "
            f"pairs (refine.method={settings.refine_method!r}, "
            f"mode={settings.refine_mode!r}); the mapping is probably "
            "degenerate")
      signals = refinement_signals(
          size, n_max, None if r == 0 else float(rounds.dictionary_overlap[i, r]))
      current = scoring.mapping_from_scores(
          jax.tree.map(lambda x, i=i, r=r: x[i, r], rounds.scores),
          rounds.w[i, r], gold, settings, f"refinement round {r + 1}")
      if log:
        log({"phase": "refinement", "seed": seed, "round": r + 1,
             "dictionary_size": size, **signals,
             "criterion": current.criterion, "precision": current.precision})
      if current.criterion > best.criterion:
        best = current
    console.log(f"refined seed {seed}: criterion {best.criterion:.4f} "
                f"({best.origin})")
    out.append(dataclasses.replace(best, signals=signals))
  return out
