"""The method (paper sec. III): word <-> sub-word alignment, machine attention (eq. 1), the
losses (eq. 2 and 4), the strategies' models, inference and attention rollout."""
