"""Every allowed value and every file name of humal_nb, defined once.

Parameters (`config.RunConfig`), the data layer, grids, reports and the explorer import
them from here, so a value accepted in one place is accepted in all.
"""

from __future__ import annotations

# ---------------------------------------------------------------------- the method
#: the strategies, in the paper's table order
STRATEGIES = ("baseline", "al", "an", "ap")
#: the strategies whose loss aligns machine with human attention (eq. 2 and 4)
ALIGNING_STRATEGIES = ("al", "ap")
#: the strategies whose attention loss is on the first layer's attention (HuMAL-AP); every other
#: strategy's, trained (HuMAL-AL) or monitored (baseline, HuMAL-AN), is on the last layer's
FIRST_LAYER_STRATEGIES = ("ap",)
STRATEGY_LABELS = {"baseline": "Baseline", "al": "HuMAL-AL", "an": "HuMAL-AN", "ap": "HuMAL-AP"}
ATTENTION_LOSSES = ("cosine", "kl", "mse")
AN_INFERENCE = ("machine", "none")
ATTENTION_PATHS = ("efficient", "naive")
DEVICES = ("auto", "cpu", "cuda")
#: a run's arithmetic: fp32, or bf16 autocast of the forward pass (`train.autocast`)
PRECISIONS = ("fp32", "bf16")
#: what reading a finished run may ask for (`inference.effective_precision`): `auto` is bf16
#: where it is native (CUDA, a CPU with AVX512-BF16 or AMX), else fp32
INFERENCE_PRECISIONS = ("auto", *PRECISIONS)
#: the default of the commands that read finished runs (`compare`, `predict`, the compare notebook)
DEFAULT_INFERENCE_PRECISION = "auto"
#: where the training rationales come from: people's, or a control arm (`data.rationales`)
RATIONALE_SOURCES = ("human", "random", "uniform", "lexicon", "random_outside")
DEFAULT_RATIONALE_SOURCE = "human"
DEFAULT_RATIONALE_FRACTION = 1.0
#: which training texts keep their rationale under a budget (`data.rationales.rationale_subset`)
RATIONALE_SELECTIONS = ("stratified", "minority_first")
DEFAULT_RATIONALE_SELECTION = "stratified"
#: what the attention loss averages over: the rows with a rationale, or every row a budget could keep
ATTENTION_LOSS_MEANS = ("rationales", "batch")
DEFAULT_ATTENTION_LOSS_MEAN = "rationales"
#: parameters that set a run's control arm or annotation budget: tables show them beside the strategy
ARM_KEYS = ("rationale_source", "rationale_fraction", "rationale_selection", "attention_loss_mean")
DEFAULT_MODEL = "all-MiniLM-L6-v2"

# ---------------------------------------------------------------------- the data
AGREEMENTS = ("all", "majority", "any")
HUMAN_ATTENTION_MODES = ("sum", "first")
LABEL_BY = ("majority", "self")
HIGHLIGHT_FORMATS = ("auto", "indices", "binary")
#: length groups of the paper's Table IV: name -> (min words, max words); None = no upper bound
LENGTH_GROUPS: dict[str, tuple[int, int | None]] = {
    "yelp50": (0, 50),
    "yelp100": (51, 100),
    "yelp200": (101, 200),
    "yelp200+": (201, None),
}

# ---------------------------------------------------------------------- a run's folder
METRICS_FILE = "metrics.json"
ATTENTION_FILE = "attention.json"
ERROR_FILE = "error.json"
MODEL_DIR = "model"
BASELINE_DIR = "baseline"
EXECUTED_NOTEBOOK = "train_strategy.ipynb"
REPORT_FILE = "report.html"
COMPARE_NOTEBOOK_FILE = "compare_attention.ipynb"  # written by `humal-nb compare`
COMPARE_REPORT_FILE = "compare_report.html"
PREVIOUS_RUN_DIR = ".previous_run"  # a finished run set aside while a new one runs in its folder
SET_ASIDE_DONE = ".complete"  # in .previous_run/: every output of the finished run is in there
FAILED_NOTEBOOK = "train_strategy.failed.ipynb"  # a failed attempt's notebook, beside the kept run
FAITHFULNESS_CACHE_FILE = "faithfulness_cache.json"  # P(1) of reduced reviews (`faithfulness.ModelPredictor`)
READINGS_CACHE_FILE = "readings_cache.json"  # test reviews' first, last and rollout word attention (`model_attention.readings`)
BERTVIZ_CACHE_FILE = "bertviz_cache.json"  # the report's bertviz views of example reviews (`bertviz_views.report_bertviz_html`)
CACHE_FILES = (FAITHFULNESS_CACHE_FILE, READINGS_CACHE_FILE, BERTVIZ_CACHE_FILE)  # `humal-nb compare`'s, keyed by the weights
READINGS = ("first", "last", "rollout")  # the word attention readings of a review (`rollout.word_readings`)

# ---------------------------------------------------------------------- a grid's folder
MANIFEST_FILE = "grid.json"
SUMMARY_FILE = "summary.csv"
LOCK_FILE = ".grid.lock"
GRID_NOTEBOOK_NAME = "grid_report.ipynb"
#: the paper's axes: always columns of summary.csv and part of every cell's name
AXES = ("strategy", "data_size", "imbalance_ratio", "bootstrap")
#: a cell's status in summary.csv and error.json
STATUS_FINISHED = "finished"
STATUS_NOT_ENOUGH_DATA = "not_enough_data"
STATUS_FAILED = "failed"
STATUS_INTERRUPTED = "interrupted"
