"""The thesis's settings (Chapter 5) and table rows, as plain data.

``TOY`` and ``DIGITS`` are the shared settings of each experiment;
``METHODS`` are the six training setups of Sec. 5 (plus an EM variant);
``THESIS`` holds the figures each row of Tables 5.1-5.3 reports.
"""

# Sec. 5.1.1 (GMM; the swiss roll is "identical"): batch 300, Adam (0.5,
# 0.9), flow lr 0.005, critic lr 0.002, weight lr 0.005 (softmax), 5 critic
# steps, lambda_gp 0.1, lambda_ml 1, 5,000 epochs; critic a 5 x 100 ReLU MLP,
# PGAN's critics 3 x 50 each.
TOY = dict(batch_size=300, flow_lr=0.005, critic_lr=0.002, weight_lr=0.005,
           lambda_gp=0.1, lambda_ml=1.0, critic_steps=5, epochs=5000,
           critic_depth=5, critic_width=100, base="gaussian",
           pretrain_epochs=0)
TOY_SINGLE = dict(n_components=1, n_couplings=4, depth=5, width=100,
                  weights="fixed")
# The thesis does not say how its Mixflow components start. Ours (issue 28):
# each starts as N(seed_i, I), its couplings the identity (zero output
# weights, as Glow starts its couplings) and its peak on a greedy k-means++
# seed of one data batch (scikit-learn's default seeding for mixtures).
# With the plain random start all six start near the origin as distorted
# blobs and ML settles, in 2 of 5 GMM seeds, on one component spanning two
# modes while two share one (docs/results/flows.md).
TOY_MIX = dict(n_components=6, n_couplings=2, depth=3, width=50,
               weights="softmax", init_centres="kmeans++", m_out_scale=0.0)

# Sec. 5.2 (MNIST): batch 200, logistic base, generator lr 5e-4, critic lr
# 1e-4, weight lr 0.01, lambda_gp 10, lambda_ml 0.001, entropic weight 1
# (Mixflow GAN+ML only), 100,000 epochs, 1,000 epochs of ML pre-training for
# every GAN / GAN+ML row. The thesis does not give the MNIST critic's size;
# we use a 3 x 256 ReLU MLP.
DIGITS = dict(batch_size=200, flow_lr=5e-4, critic_lr=1e-4, weight_lr=0.01,
              lambda_gp=10.0, lambda_ml=0.001, critic_steps=5,
              epochs=100000, critic_depth=3, critic_width=256,
              base="logistic", pretrain_epochs=1000)
DIGITS_SINGLE = dict(n_components=1, n_couplings=4, depth=5, width=1000,
                     weights="fixed")
DIGITS_MIX = dict(n_components=10, n_couplings=3, depth=3, width=200,
                  weights="softmax")

# method -> (objective, topology key, critic, extra fields, description)
METHODS = {
    "mle_single": ("ml", "single", "single", {}, "ML, single flow"),
    "gan_single": ("gan", "single", "single", {"lambda_ml": 0.0},
                   "WGAN-GP only, single flow"),
    "gan_ml_single": ("gan_ml", "single", "single", {},
                      "GAN+ML, single flow"),
    "mle_mixflow": ("ml", "mix", "single", {}, "ML, Mixflow (softmax weights)"),
    "mle_mixflow_em": ("ml", "mix", "single",
                       {"weights": "em", "c_start": 100, "lambda_c": 0.1},
                       "ML, Mixflow (damped EM weights, C_start 100, "
                       "lambda_c 0.1)"),
    "mle_mixflow_centred": ("ml", "mix", "single", {"init_centres": "data"},
                            "ML, Mixflow, components started at random data "
                            "points, not k-means++ seeds (ours, an ablation)"),
    "gan_ml_mixflow": ("gan_ml", "mix", "single", {},
                       "GAN+ML, Mixflow, one critic"),
    "pgan": ("gan_ml", "mix", "pgan", {"critic_depth": 3, "critic_width": 50},
             "GAN+ML, Mixflow, PGAN posterior-mixed critics"),
}

# Thesis figures: Table 5.1 (GMM), 5.2 (swiss roll): NLL summed over a batch
# of 300 and critic loss, averaged over the last 500 of 5,000 epochs, and the
# dominant components. Table 5.3 (MNIST): train / test NLL per image.
THESIS = {
    ("mle_single", "gmm"): dict(nll=968.70, dominant=1),
    ("gan_single", "gmm"): dict(nll=1.25e7, critic_loss=-2.43, dominant=1),
    ("gan_ml_single", "gmm"): dict(nll=1127.5, critic_loss=-1.99, dominant=1),
    ("mle_mixflow", "gmm"): dict(nll=742.85, dominant=6),
    ("gan_ml_mixflow", "gmm"): dict(nll=742.45, critic_loss=0.0044,
                                    dominant=6),
    ("pgan", "gmm"): dict(nll=743.61, critic_loss=0.0132, dominant=6),
    ("mle_single", "swissroll"): dict(nll=2039.68, dominant=1),
    ("gan_single", "swissroll"): dict(nll=2.74e6, critic_loss=-4.18,
                                      dominant=1),
    ("gan_ml_single", "swissroll"): dict(nll=3075.47, critic_loss=-9.65,
                                         dominant=1),
    ("mle_mixflow", "swissroll"): dict(nll=1828.72, dominant=6),
    ("gan_ml_mixflow", "swissroll"): dict(nll=1992.65, critic_loss=-1.47,
                                          dominant=5),
    ("pgan", "swissroll"): dict(nll=1989.34, critic_loss=-0.95, dominant=6),
    ("mle_single", "digits"): dict(nll=-2034.46, test_nll=-1910.31,
                                   dominant=1),
    ("gan_single", "digits"): dict(nll=3144.79, test_nll=3431.66,
                                   critic_loss=2.21, dominant=1),
    ("gan_ml_single", "digits"): dict(nll=-1741.21, test_nll=-1650.53,
                                      critic_loss=1.91, dominant=1),
    ("mle_mixflow", "digits"): dict(nll=-3021.35, test_nll=-2984.03,
                                    dominant=4),
    ("gan_ml_mixflow", "digits"): dict(nll=-2812.34, test_nll=-2728.74,
                                       critic_loss=-2.15, dominant=7),
}

# dataset name in config names -> (data registry name, settings, single,
# mixture, methods run on it)
DATASETS = {
    "gmm": ("gmm", TOY, TOY_SINGLE, TOY_MIX, tuple(METHODS)),
    "swissroll": ("swiss_roll", TOY, TOY_SINGLE, TOY_MIX, tuple(METHODS)),
    "digits": ("digits", DIGITS, DIGITS_SINGLE, DIGITS_MIX,
               ("mle_single", "gan_single", "gan_ml_single", "mle_mixflow",
                "gan_ml_mixflow")),
}
