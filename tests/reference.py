"""Independent numpy references shared by the retrieval-level tests."""

import numpy as np


def unit_rows(x):
  return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def np_scores(src, tgt, method, k):
  """Brute-force ``[n_src, n_tgt]`` NN (cosine) or CSLS scores, in float64."""
  s, t = src.astype(np.float64), tgt.astype(np.float64)
  sims = s @ t.T
  if method == "nn":
    return sims
  r_src = np.mean(-np.sort(-sims, axis=1)[:, :k], axis=1)
  r_tgt = np.mean(-np.sort(-sims.T, axis=1)[:, :k], axis=1)
  return 2 * sims - r_src[:, None] - r_tgt[None, :]


def jaccard_of_pairs(pairs, previous):
  """Jaccard index of two ``[m, 2]`` pair arrays, as Python sets."""
  a = {tuple(p) for p in np.asarray(pairs).tolist()}
  b = {tuple(p) for p in np.asarray(previous).tolist()}
  return len(a & b) / max(1, len(a | b))


def np_dictionary(src, tgt, method, mode, max_rank, k):
  """The dictionary rule written as plainly as possible: ``{(s, t): score}``
  over the first ``max_rank`` words of each side (all when ``<= 0``), with
  the r-terms of the full vocabularies."""
  scores = np_scores(src, tgt, method, k)
  n_src, n_tgt = scores.shape
  rs = n_src if max_rank <= 0 else min(max_rank, n_src)
  rt = n_tgt if max_rank <= 0 else min(max_rank, n_tgt)
  scores = scores[:rs, :rt]
  s2t = {(s, int(np.argmax(scores[s]))) for s in range(rs)}
  t2s = {(int(np.argmax(scores[:, t])), t) for t in range(rt)}
  chosen = {"S2T": s2t, "T2S": t2s, "S2T|T2S": s2t | t2s,
            "S2T&T2S": s2t & t2s}[mode]
  return {p: scores[p] for p in chosen}
