"""Base configuration: every field, with the MUSE defaults where they exist.

Named configs (see registry.py) start from this one and change a few fields.
Run: ``python -m experiments.run --config=gan_synthetic``.
"""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.name = "default"  # Set by the registry to the config's name.
  # Objective name in bdi_jax.objectives.REGISTRY, or "procrustes" (supervised:
  # a training dictionary replaces the adversarial phase).
  config.method = "gan"
  config.seed = 0  # Seed of the first run; seed + i for the others.
  config.n_seeds = 1  # Independent runs trained at once (vmapped).
  # When the failure detector (bdi_jax/detector.py) predicts that every seed
  # failed, train this many more seeds (the next seed numbers, at once)
  # before giving up; the best of all is selected as usual. 0 = never.
  config.restarts = 0
  config.progress = True  # Progress bars and per-epoch lines on stderr.

  data = config.data = ml_collections.ConfigDict()
  data.kind = "synthetic"  # "files" (paths below) or "synthetic" (generated).
  data.src_lang = "src"
  data.tgt_lang = "tgt"
  # Paths relative to the data root ($BDI_DATA_DIR, else ~/.cache/bdi-jax).
  data.src_emb = ""
  data.tgt_emb = ""
  data.test_dict = ""  # Gold dictionary for P@k ("" = no evaluation).
  data.train_dict = ""  # Supervised methods only.
  data.train_exclude_test = True  # Drop test source words from train_dict.
  data.max_vocab = 200000  # Keep this many most frequent words (0 = all).
  data.normalize = ""  # Comma-separated: "center", "renorm" (applied in order).
  syn = data.synthetic = ml_collections.ConfigDict()
  syn.seed = 0  # Seed of the generated languages (not of training).
  syn.n_concepts = 5000
  syn.dim = 20
  syn.n_clusters = 60
  syn.keep_fraction = 0.85  # Each language has ~85% of the concepts.
  syn.noise = 0.1
  syn.spectrum_decay = 0.1
  syn.n_train = 2000
  syn.n_test = 1500

  model = config.model = ml_collections.ConfigDict()
  model.hidden = 2048  # Discriminator width (Conneau et al.: 2 x 2048).
  model.n_layers = 2
  model.input_dropout = 0.1
  # Dropout after each hidden layer, on the features the output layer sees
  # (0 = off). CT-GAN's consistency term needs some dropout to compare two
  # passes; the thesis puts it here, "before the output" (ctgan_thesis_*).
  model.hidden_dropout = 0.0
  model.leaky_slope = 0.2
  model.layer_norm = False  # On for the Wasserstein critics.
  # Added to each LayerNorm's variance (flax's default). A larger value caps
  # the LayerNorm's gain at 1 / sqrt(epsilon), so weight clipping bounds the
  # critic's slope again (bdi_jax.models.Discriminator).
  model.layer_norm_epsilon = 1e-6

  objective = config.objective = ml_collections.ConfigDict()
  objective.smoothing = 0.1  # gan: label smoothing.
  objective.non_saturating = True  # gan: flipped-label generator loss.
  objective.clip = 0.25  # wgan: weight clipping to [-clip, clip].
  objective.gp_lambda = 0.5  # wgangp / ctgan: gradient-penalty weight.
  objective.ct_lambda = 2.0  # ctgan: consistency-term weight.
  objective.ct_margin = 0.2  # ctgan: M'.
  objective.ct_feature_weight = 0.1  # ctgan: weight of the feature distance.
  # sinkhorn (critic-free; bdi_jax/objectives/sinkhorn.py): the mapping
  # minimises the debiased Sinkhorn divergence between train.batch_size mapped
  # source words and as many target words. Entropic weight, absolute, in units
  # of the cost ||x - y||^2 between unit vectors (2 - 2 cos, in [0, 4]).
  objective.sinkhorn_epsilon = 0.05
  objective.sinkhorn_iterations = 100  # Cap on Sinkhorn iterations per problem.
  objective.sinkhorn_threshold = 1e-3  # Marginal error at which Sinkhorn stops.

  t = config.train = ml_collections.ConfigDict()
  t.batch_size = 32
  t.dis_steps = 5  # Critic updates per mapping update.
  t.dis_most_frequent = 75000  # Critic samples from these words (0 = all).
  # Orthogonalisation strength: MUSE's code default. Conneau et al. 2018 report
  # 0.01, and so does the thesis (Sec. 5.2.4; the *_thesis presets).
  t.map_beta = 0.001
  t.map_optimizer = "sgd"
  t.map_lr = 0.1
  # Cap on the Frobenius norm of the mapping's gradient, before the optimiser
  # (0 = none): bounds how far one update can move W, whatever the critic's
  # scale (train.StepConfig.map_grad_clip).
  t.map_grad_clip = 0.0
  t.map_optimizer_kwargs = ml_collections.ConfigDict()
  t.dis_optimizer = "sgd"
  t.dis_lr = 0.1
  t.dis_optimizer_kwargs = ml_collections.ConfigDict()
  t.n_epochs = 5
  t.epoch_size = 1000000  # Samples per epoch (iterations x batch_size).
  t.lr_decay = 0.98  # Mapping lr multiplied by this every epoch.
  t.min_lr = 1e-6
  t.lr_shrink = 0.5  # Extra factor when the criterion drops (1 = never).
  t.lr_shrink_patience = 1  # Drops below the best forgiven before shrinking.
  t.chunk_steps = 250  # Iterations fused per compiled call (logging unit).
  t.noise_std = 0.0  # Instance noise std at the start (0 = off) ...
  t.noise_anneal_steps = 10000  # ... annealed to 0 over this many iterations.
  # A method of bdi_jax/starts.py (e.g. "gw") whose mapping replaces the
  # identity as every seed's initial W; "" = the identity (Conneau et al.).
  t.init_start = ""
  # Per-seed multipliers of map_lr and dis_lr, one per seed (empty: all 1), so
  # one run can compare learning rates across its seeds.
  t.map_lr_scales = ()
  # A chunk whose losses or mapping turn non-finite is rolled back with the
  # seed's learning rates halved, at most this many times; then the seed is
  # marked failed and the others go on.
  t.max_rollbacks = 3
  # Criterion checks: besides every epoch end, score each live seed every
  # check_every chunks (0 = at epoch ends only). Cheap on small vocabularies;
  # it is what lets a seed stop soon after it has taken off.
  t.check_every = 0
  # Early stop (bdi_jax/schedule.py): a seed that has taken off stops once its
  # criterion has not improved by more than stop_margin for stop_patience
  # checks (0 = never stop early) ...
  t.stop_patience = 0
  t.stop_margin = 0.001
  # ... and one that has not taken off within takeoff_budget epochs stops too
  # (0 = no budget but n_epochs). The run's adversarial phase ends when every
  # seed has stopped.
  t.takeoff_budget = 0

  # Method "gw" (bdi_jax/starts.py, bdi_jax/gromov.py): Gromov-Wasserstein
  # coupling of the most frequent words of each side, then its Procrustes map,
  # as the start of the refinement (no adversarial phase).
  g = config.gw = ml_collections.ConfigDict()
  g.n_words = 2000  # Most frequent words of each side that GW couples.
  # Entropic weight of each linearised problem, absolute, in units of the
  # intra-space cost ||x_i - x_k||^2 of centred unit vectors (in [0, 4]).
  g.epsilon = 0.01
  g.max_iterations = 50  # Outer GW iterations (one Sinkhorn problem each).
  g.sinkhorn_iterations = 2000  # Cap on each inner Sinkhorn's iterations.

  r = config.refine = ml_collections.ConfigDict()
  r.n_rounds = 5
  r.method = "csls"  # Retrieval for dictionary induction.
  r.mode = "S2T&T2S"  # "S2T", "T2S", "S2T|T2S" or "S2T&T2S".
  r.max_rank = 15000  # Only this many most frequent words of each side.

  e = config.eval = ml_collections.ConfigDict()
  e.methods = ("nn", "csls")
  e.ks = (1, 5, 10)
  e.csls_k = 10
  e.criterion_words = 10000  # Most frequent source words in the criterion.
  e.batch_size = 0  # Retrieval chunk (queries); 0 = chosen from memory.
  # A seed has "taken off" once its criterion exceeds that of the identity
  # mapping by this much; summary.json records the iteration (takeoff_step).
  # Measured on UBiLexAT (2026-12-02): GAN seeds that never took off sat
  # +0.14 to +0.17 above the identity, taken-off ones +0.26 to +0.32.
  e.takeoff_margin = 0.23
  # Failure detector (bdi_jax/detector.py): a seed is predicted to have
  # succeeded when its refined criterion exceeds the identity mapping's by at
  # least this much. Measured (see bdi_jax/detector.py): correct maps
  # +0.27 (zh-en) to +0.38 (synthetic); failed ones +0.08 to +0.19.
  e.detector_criterion_gain = 0.23
  return config
