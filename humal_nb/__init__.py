"""humal_nb: fine-tune transformer classifiers so their attention aligns with human attention.

Modules follow the paper (HuMAL: Human-Machine Attention Learning):
`data` (Yelp-HAT and generic human attention), `tokens` (word <-> sub-word alignment),
`attention` (machine attention, eq. 1), `losses` (eq. 2/4), `models` (strategies),
`train` (one run), `run` (a finished run: its parameters, attention, model and predictions),
`analysis` (sec. V-E), `grid` and `report` (experiment grids).
"""

__version__ = "0.1.0"
