"""Every config field, declared once: default, allowed values, meaning.

``experiments/configs/default.py`` builds the default config from
:data:`FIELDS`, :mod:`bdi_jax.validate` checks each field against its kind,
the step's compile cache (multi_seed.py) leaves out the fields
:func:`host_only_fields` names, and ``docs/config-fields.md`` is the table
:mod:`bdi_jax.config_doc` writes from it.

A field is ``compiled`` when the adversarial step is built with its value
(multi_seed.build_chunk): two configs that differ only in fields that are not
share one compiled chunk. Learning rates are not: they live in the optimiser
state. Shapes (vocabulary, dimension, seeds) are not either: jit keys on them
itself. A field is ``optional`` when config files saved before it existed lack
it: it is checked when present, and its readers fall back to the default.
"""

import copy
from typing import Any, FrozenSet, NamedTuple, Optional, Tuple

import ml_collections

from bdi_jax import config_kinds as k

__all__ = ["Field", "FIELDS", "BY_PATH", "default_config", "host_only_fields"]


class Field(NamedTuple):
  """One config field; see the module docstring for compiled and optional."""
  path: str  # Dotted, from the config's root: "train.map_lr".
  default: Any
  kind: Optional[Any]  # A bdi_jax.config_kinds kind; None: free, unchecked.
  doc: str
  compiled: bool = False
  optional: bool = False


# The registries that name allowed values, imported when a value is checked
# and not here: the schema stays a leaf that any module (multi_seed, models)
# can import without a cycle, and a check sees entries registered later.
# pylint: disable=g-import-not-at-top
def _objectives():
  from bdi_jax import objectives
  return objectives.REGISTRY


def _starts():
  from bdi_jax import starts
  return starts.STARTS


def _methods():
  return list(_objectives()) + list(_starts())


def _optimizers():
  from bdi_jax import step
  return step.OPTIMIZERS


def _retrievers():
  from bdi_jax import retrieval
  return retrieval.RETRIEVERS


def _build_modes():
  from bdi_jax import induction
  return induction.MODES


def _gan_reductions():
  from bdi_jax.objectives import gan
  return gan.REDUCTIONS
# pylint: enable=g-import-not-at-top


def _data_kinds():
  return ("files", "synthetic")  # The two branches of tasks.load_task.


_OPTIMIZER = k.Kwargs("the optimizer")

FIELDS: Tuple[Field, ...] = (
    Field("name", "default", None,
          "Set by the registry to the config's name."),
    Field("method", "gan", k.OneOf(_methods),
          "An objective of bdi_jax.objectives.REGISTRY (adversarial), or a "
          "computed start of bdi_jax.starts.STARTS (no adversarial phase; "
          "\"procrustes\" is supervised).", compiled=True),
    Field("seed", 0, k.Int(),
          "Seed of the first run; seed + i for the others."),
    Field("n_seeds", 1, k.Int(1),
          "Independent runs trained at once (vmapped)."),
    Field("restarts", 2, k.Int(0),
          "When the failure detector (bdi_jax/detector.py) predicts that every "
          "seed failed, train this many more seeds (the next seed numbers, at "
          "once) before giving up; the best of all is selected as usual. "
          "0 = never.", optional=True),
    Field("progress", True, k.Bool(),
          "Progress bars and per-epoch lines on stderr."),

    # --- data: which embeddings and dictionaries, or generated languages.
    Field("data.kind", "synthetic", k.OneOf(_data_kinds),
          "\"files\" (paths below) or \"synthetic\" (generated)."),
    Field("data.src_lang", "src", k.Str(), "Source language code."),
    Field("data.tgt_lang", "tgt", k.Str(), "Target language code."),
    Field("data.src_emb", "", k.Str(),
          "Source .vec file, relative to the data root ($BDI_DATA_DIR, else "
          "~/.cache/bdi-jax); required for data.kind \"files\"."),
    Field("data.tgt_emb", "", k.Str(),
          "Target .vec file, relative to the data root; required for "
          "data.kind \"files\"."),
    Field("data.test_dict", "", k.Str(),
          "Gold dictionary for P@k, relative to the data root (\"\" = no "
          "evaluation)."),
    Field("data.train_dict", "", k.Str(),
          "Training dictionary, relative to the data root; supervised methods "
          "only."),
    Field("data.train_exclude_test", True, k.Bool(),
          "Drop test source words from train_dict."),
    Field("data.max_vocab", 200000, k.Int(0, "0 = every word"),
          "Keep this many most frequent words (0 = all)."),
    Field("data.normalize", "", k.Str(),
          "Comma-separated names of bdi_jax.data.normalization.NORMALIZERS "
          "(\"center\", \"renorm\"), applied in order."),
    Field("data.synthetic.seed", 0, k.Int(),
          "Seed of the generated languages (not of training)."),
    Field("data.synthetic.n_concepts", 5000, k.Int(2),
          "Concepts shared by the two generated languages."),
    Field("data.synthetic.dim", 20, k.Int(1), "Embedding dimension."),
    Field("data.synthetic.n_clusters", 60, k.Int(1),
          "Clusters the concepts are drawn around."),
    Field("data.synthetic.keep_fraction", 0.85, k.Real(0, 1, lo_open=True),
          "Each language has about this fraction of the concepts."),
    Field("data.synthetic.noise", 0.1, k.Real(0),
          "Std of the per-language noise on each concept."),
    Field("data.synthetic.spectrum_decay", 0.1, k.Real(0),
          "Decay of the embedding covariance's spectrum."),
    Field("data.synthetic.n_train", 2000, k.Int(0),
          "Pairs in the generated training dictionary."),
    Field("data.synthetic.n_test", 1500, k.Int(1),
          "Pairs in the generated test dictionary."),

    # --- model: the critic (discriminator).
    Field("model.hidden", 2048, k.Int(0, "0 = from the dimension"),
          "Discriminator width (Conneau et al.: 2 x 2048); 0 = from the "
          "embeddings' dimension (bdi_jax/derived.py).", compiled=True),
    Field("model.hidden_per_dim", 8.0, k.Real(0, lo_open=True),
          "With model.hidden = 0: this many units per input dimension, "
          "rounded up to a power of two, within [256, 2048] and at most half "
          "the smaller vocabulary.", compiled=True,
          optional=True),
    Field("model.n_layers", 2, k.Int(0), "Hidden layers of the discriminator.",
          compiled=True),
    Field("model.input_dropout", 0.1, k.Real(0, 1, hi_open=True),
          "Dropout on the critic's input.", compiled=True),
    Field("model.hidden_dropout", 0.0, k.Real(0, 1, hi_open=True),
          "Dropout after each hidden layer, before the output (0 = off); "
          "CT-GAN's consistency term needs some to compare two passes.",
          compiled=True, optional=True),
    Field("model.leaky_slope", 0.2, k.Finite(),
          "Negative slope of the LeakyReLU.", compiled=True),
    Field("model.layer_norm", False, k.Bool(),
          "LayerNorm after each hidden layer; on for the Wasserstein critics.",
          compiled=True),
    Field("model.layer_norm_epsilon", 1e-6, k.Real(0, lo_open=True),
          "Added to each LayerNorm's variance (flax's default); a larger value "
          "caps the gain at 1 / sqrt(epsilon), so weight clipping bounds the "
          "critic's slope again.", compiled=True, optional=True),

    # --- objective: each objective reads its own fields.
    Field("objective.smoothing", 0.1, k.Real(0, 0.5, hi_open=True),
          "gan: label smoothing.", compiled=True),
    Field("objective.non_saturating", True, k.Bool(),
          "gan: flipped-label generator loss.", compiled=True),
    Field("objective.clip", 0.25, k.Real(0, lo_open=True),
          "wgan: weight clipping to [-clip, clip].", compiled=True),
    Field("objective.gp_lambda", 0.5, k.Real(0),
          "wgangp / ctgan: gradient-penalty weight.", compiled=True),
    Field("objective.ct_lambda", 2.0, k.Real(0),
          "ctgan: consistency-term weight.", compiled=True),
    Field("objective.ct_margin", 0.2, k.Real(0), "ctgan: M'.", compiled=True),
    Field("objective.ct_feature_weight", 0.1, k.Real(0),
          "ctgan: weight of the feature distance.", compiled=True),
    Field("objective.gan_reduction", "mean", k.OneOf(_gan_reductions),
          "gan: average (\"mean\", what the tuned rates were tuned with) or "
          "add (\"sum\", the thesis's Sec. 5.2.2) the two halves' mean "
          "cross-entropies.", compiled=True, optional=True),
    Field("objective.penalty_dropout", True, k.Bool(),
          "wgangp / ctgan: the gradient penalty's critic with dropout, or "
          "without (False: Gulrajani et al.'s one fixed critic); CT-GAN's "
          "consistency term keeps its dropout.", compiled=True, optional=True),
    Field("objective.sinkhorn_epsilon", 0.05, k.Real(0, lo_open=True),
          "sinkhorn (critic-free): entropic weight, absolute, in units of the "
          "cost ||x - y||^2 between unit vectors (in [0, 4]); the mapping "
          "minimises the debiased Sinkhorn divergence between train.batch_size "
          "mapped source words and as many target words.",
          compiled=True, optional=True),
    Field("objective.sinkhorn_iterations", 100, k.Int(1),
          "sinkhorn: cap on Sinkhorn iterations per problem.",
          compiled=True, optional=True),
    Field("objective.sinkhorn_threshold", 1e-3, k.Real(0, lo_open=True),
          "sinkhorn: marginal error at which Sinkhorn stops.",
          compiled=True, optional=True),

    # --- train: the adversarial phase.
    Field("train.batch_size", 32, k.Int(1), "Words per side per iteration.",
          compiled=True),
    Field("train.dis_steps", 5,
          k.Int(1, "critic updates per mapping update"),
          "Critic updates per mapping update.", compiled=True),
    Field("train.dis_most_frequent", 75000,
          k.Int(0, "0 or None = every word of each side", none_ok=True),
          "The critic samples from these most frequent words of each side "
          "(0 = all).", compiled=True),
    Field("train.map_beta", 0.001, k.Real(0),
          "Orthogonalisation strength: MUSE's code default (Conneau et al. "
          "2018 and the thesis report 0.01).", compiled=True),
    Field("train.map_optimizer", "sgd", k.OneOf(_optimizers),
          "Optimiser of the mapping, from bdi_jax.step.OPTIMIZERS.",
          compiled=True),
    Field("train.map_lr", 0.1, k.Real(0, lo_open=True),
          "Learning rate of the mapping."),
    Field("train.map_grad_clip", 0.0, k.Real(0),
          "Cap on the Frobenius norm of the mapping's gradient, before the "
          "optimiser (0 = none): bounds how far one update moves W, whatever "
          "the critic's scale.", compiled=True, optional=True),
    Field("train.map_optimizer_kwargs", {}, _OPTIMIZER,
          "Extra keyword arguments of the mapping's optimiser.", compiled=True),
    Field("train.dis_optimizer", "sgd", k.OneOf(_optimizers),
          "Optimiser of the critic, from bdi_jax.step.OPTIMIZERS.",
          compiled=True),
    Field("train.dis_lr", 0.1, k.Real(0, lo_open=True),
          "Learning rate of the critic."),
    Field("train.dis_optimizer_kwargs", {}, _OPTIMIZER,
          "Extra keyword arguments of the critic's optimiser.", compiled=True),
    Field("train.n_epochs", 5, k.Int(1), "Epochs of adversarial training."),
    Field("train.epoch_size", 1000000, k.Int(0, "0 = from the vocabulary"),
          "Samples per epoch (iterations x batch_size); 0 = from the "
          "vocabulary (train.epoch_passes)."),
    Field("train.epoch_passes", 20, k.Int(1),
          "With epoch_size = 0: an epoch samples this many times the words the "
          "critic draws from (the larger side, within dis_most_frequent), in "
          "whole batches, at most 1,000,000 (MUSE's epoch).", optional=True),
    Field("train.lr_decay", 0.98, k.Real(0, 1, lo_open=True),
          "Mapping lr multiplied by this every epoch."),
    Field("train.min_lr", 1e-6, k.Real(0), "Floor of the decayed mapping lr."),
    Field("train.lr_shrink", 0.5, k.Real(0, 1, lo_open=True),
          "Extra factor when the criterion drops (1 = never)."),
    Field("train.lr_shrink_patience", 1, k.Int(0),
          "Drops below the best forgiven before shrinking."),
    Field("train.chunk_steps", 250, k.Int(1),
          "Iterations fused per compiled call (logging unit)."),
    Field("train.noise_std", 0.0, k.Real(0),
          "Instance noise std at the start (0 = off) ...", compiled=True),
    Field("train.noise_anneal_steps", 10000, k.Int(0),
          "... annealed to 0 over this many iterations.", compiled=True),
    Field("train.init_start", "",
          k.OneOf(_starts, empty="the identity", noun="a start"),
          "A method of bdi_jax/starts.py (e.g. \"gw\") whose mapping replaces "
          "the identity as every seed's initial W; \"\" = the identity "
          "(Conneau et al.).", optional=True),
    Field("train.map_lr_scales", (), k.Reals("one per seed"),
          "Per-seed multipliers of map_lr and dis_lr (empty: all 1), so one "
          "run can compare learning rates across its seeds.", optional=True),
    Field("train.max_rollbacks", 3, k.Int(0),
          "A chunk whose losses or mapping turn non-finite is rolled back with "
          "the seed's learning rates halved, at most this many times; then the "
          "seed is marked failed and the others go on.", optional=True),
    Field("train.check_every", 0, k.Int(0),
          "Score each live seed's criterion every check_every chunks besides "
          "every epoch end (0 = at epoch ends only); lets a seed stop soon "
          "after it has taken off.", optional=True),
    Field("train.stop_patience", 0, k.Int(0),
          "Early stop (bdi_jax/schedule.py): a seed that has taken off stops "
          "once its criterion has not improved by more than stop_margin for "
          "this many checks (0 = never stop early).", optional=True),
    Field("train.stop_margin", 0.001, k.Real(0),
          "Improvement of the criterion that resets stop_patience.",
          optional=True),
    Field("train.takeoff_budget", 0, k.Int(0),
          "A seed that has not taken off within this many epochs stops (0 = no "
          "budget but n_epochs); the adversarial phase ends when every seed "
          "has stopped.", optional=True),

    # --- gw: method "gw" (bdi_jax/starts.py, bdi_jax/gromov.py):
    # Gromov-Wasserstein coupling of the most frequent words of each side,
    # then its Procrustes map, as the start of the refinement.
    Field("gw.n_words", 2000, k.Int(2),
          "Most frequent words of each side that GW couples.", optional=True),
    Field("gw.epsilon", 0.01, k.Real(0, lo_open=True),
          "Entropic weight of each linearised problem, absolute, in units of "
          "the intra-space cost ||x_i - x_k||^2 of centred unit vectors (in "
          "[0, 4]).", optional=True),
    Field("gw.max_iterations", 50, k.Int(1),
          "Outer GW iterations (one Sinkhorn problem each).", optional=True),
    Field("gw.sinkhorn_iterations", 2000, k.Int(1),
          "Cap on each inner Sinkhorn's iterations.", optional=True),

    # --- refine: dictionary induction + Procrustes, repeated.
    Field("refine.n_rounds", 5, k.Int(0), "Refinement rounds."),
    Field("refine.method", "csls", k.OneOf(_retrievers),
          "Retrieval for dictionary induction."),
    Field("refine.mode", "S2T&T2S", k.OneOf(_build_modes),
          "Which nearest-neighbour pairs form the dictionary: \"S2T\", "
          "\"T2S\", their union \"S2T|T2S\" or intersection \"S2T&T2S\"."),
    Field("refine.max_rank", 15000, k.Int(0, "0 = every word"),
          "Only this many most frequent words of each side."),

    # --- eval: P@k, the unsupervised criterion, take-off and the detector.
    Field("eval.methods", ("nn", "csls"), k.Names(_retrievers),
          "Retrieval methods scored by P@k."),
    Field("eval.ks", (1, 5, 10),
          k.Ints(1, "the k of P@k", example="(1, 5, 10)"), "The k of P@k."),
    Field("eval.csls_k", 10, k.Int(1), "Neighbourhood size of CSLS."),
    Field("eval.criterion_words", 10000, k.Int(1),
          "Most frequent source words in the criterion."),
    Field("eval.criterion_max_target_rank", 0, k.Int(0, "0 = keep every pair"),
          "The criterion drops pairs whose CSLS translation is not among this "
          "many most frequent target words (thesis Sec. 5.2.7).", optional=True),
    Field("eval.batch_size", 0, k.Int(0, "0 = from memory"),
          "Retrieval chunk (queries); 0 = chosen from memory."),
    Field("eval.takeoff_margin", 0.23, k.Finite(),
          "A seed has \"taken off\" once its criterion exceeds the identity "
          "mapping's by this much (when takeoff_null_gain is 0 or there is no "
          "detector null); summary.json records the iteration "
          "(takeoff_step).", optional=True),
    Field("eval.takeoff_null_gain", 0.2, k.Real(0, 1),
          "A seed has \"taken off\" once its criterion covers this fraction "
          "of the way from what random starts refine to (the detector null) "
          "to 1; 0 = use takeoff_margin.", optional=True),
    Field("eval.detector_null_starts", 4, k.Int(0, "0 = no detector"),
          "Failure detector (bdi_jax/detector.py): random orthogonal starts "
          "refined like the seeds, to measure what a failed mapping refines "
          "to on this data (the null).", optional=True),
    Field("eval.detector_min_gain", 0.25, k.Real(0, 1),
          "A seed is predicted to have succeeded when its refined criterion "
          "covers at least this fraction of the way from the null's mean to "
          "1 ...", optional=True),
    Field("eval.detector_min_z", 3.0, k.Finite(),
          "... and lies at least this many null spreads (std, at least 0.01) "
          "above the null's mean ...", optional=True),
    Field("eval.detector_min_stability", 0.55, k.Real(0, 1),
          "... and the overlap of its last two refinement rounds' "
          "dictionaries covers at least this fraction of the way from the "
          "null's overlap to 1.", optional=True),
)

BY_PATH = {f.path: f for f in FIELDS}


def default_config() -> ml_collections.ConfigDict:
  """A new default config: every field at its default, in declaration order."""
  config = ml_collections.ConfigDict()
  for field in FIELDS:
    *sections, leaf = field.path.split(".")
    node = config
    for section in sections:
      if section not in node:
        node[section] = ml_collections.ConfigDict()
      node = node[section]
    value = copy.deepcopy(field.default)
    node[leaf] = ml_collections.ConfigDict(value) if isinstance(
        value, dict) else value
  return config


def host_only_fields(section: str) -> FrozenSet[str]:
  """Names, within ``section`` (e.g. "train"), of its fields not compiled.

  Two configs that differ only in these share one compiled chunk.
  """
  prefix = section + "."
  return frozenset(f.path[len(prefix):] for f in FIELDS
                   if f.path.startswith(prefix) and not f.compiled)
