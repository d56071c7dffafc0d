r"""The same adversarial iteration in PyTorch, to compare on the same machine.

Quoted reference figures come from other machines; this script measures a
PyTorch implementation of the identical iteration here: a 2 x hidden
LeakyReLU(0.2) discriminator with input dropout 0.1, ``dis_steps`` SGD(0.1)
updates on BCE with label smoothing 0.1 over ``batch`` mapped source rows and
``batch`` target rows, then one SGD update of the square mapping through the
discriminator in eval mode and the orthogonality update (Conneau et al. 2018).
Written from the paper, not from MUSE's code. PyTorch is not a dependency of
bdi-jax; install it yourself to run this:

  pip install torch && python -m benchmarks.torch_step --batch-sizes 32,128,512

A sample is counted as MUSE counts it: 2 x batch per iteration.
"""

import argparse
import json
import time

from bdi_jax import tables


def measure(batch: int, dim: int, hidden: int, dis_steps: int, vocab: int,
            seconds: float):
  import torch  # pylint: disable=g-import-not-at-top
  from torch import nn  # pylint: disable=g-import-not-at-top

  torch.manual_seed(0)
  src = torch.randn(vocab, dim)
  tgt = torch.randn(vocab, dim)
  mapping = nn.Linear(dim, dim, bias=False)
  mapping.weight.data.copy_(torch.eye(dim))
  dis = nn.Sequential(
      nn.Dropout(0.1), nn.Linear(dim, hidden), nn.LeakyReLU(0.2),
      nn.Linear(hidden, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1))
  dis_opt = torch.optim.SGD(dis.parameters(), lr=0.1)
  map_opt = torch.optim.SGD(mapping.parameters(), lr=0.1)
  labels = torch.cat([torch.full((batch,), 0.9), torch.full((batch,), 0.1)])
  loss_fn = nn.BCEWithLogitsLoss()

  def iteration():
    dis.train()
    for _ in range(dis_steps):
      with torch.no_grad():
        fake = mapping(src[torch.randint(vocab, (batch,))])
      real = tgt[torch.randint(vocab, (batch,))]
      loss = loss_fn(dis(torch.cat([real, fake]))[:, 0], labels)
      dis_opt.zero_grad()
      loss.backward()
      dis_opt.step()
    dis.eval()
    fake = mapping(src[torch.randint(vocab, (batch,))])
    loss = loss_fn(dis(fake)[:, 0], labels[:batch])
    map_opt.zero_grad()
    loss.backward()
    map_opt.step()
    with torch.no_grad():
      w = mapping.weight
      w.copy_(1.001 * w - 0.001 * w.mm(w.t()).mm(w))

  for _ in range(3):  # Warm-up.
    iteration()
  n, tic = 0, time.perf_counter()
  while time.perf_counter() - tic < seconds:
    iteration()
    n += 1
  elapsed = time.perf_counter() - tic
  return {"batch": batch, "iterations_per_s": n / elapsed,
          "samples_per_s": n * 2 * batch / elapsed,
          "torch": torch.__version__, "threads": torch.get_num_threads()}


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--batch-sizes", default="32,128,512")
  parser.add_argument("--dim", type=int, default=300)
  parser.add_argument("--hidden", type=int, default=2048)
  parser.add_argument("--dis-steps", type=int, default=5)
  parser.add_argument("--vocab", type=int, default=20000)
  parser.add_argument("--seconds", type=float, default=15.0)
  parser.add_argument("--json", default=None)
  args = parser.parse_args()
  try:
    import torch  # pylint: disable=g-import-not-at-top,unused-import
  except ImportError:
    print("PyTorch is not installed; nothing to measure (pip install torch).")
    return
  rows = [measure(int(b), args.dim, args.hidden, args.dis_steps, args.vocab,
                  args.seconds) for b in args.batch_sizes.split(",")]
  print(tables.markdown_table(
      ["batch", "iterations/s", "samples/s", "torch", "threads"],
      [[r["batch"], r["iterations_per_s"], r["samples_per_s"], r["torch"],
        r["threads"]] for r in rows], digits=2))
  if args.json:
    with open(args.json, "w") as f:
      json.dump(rows, f, indent=2)


if __name__ == "__main__":
  main()
