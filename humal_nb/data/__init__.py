"""Human attention data: Yelp-HAT's CSV files, the generic JSONL/CSV format, train/test splits.

Every loader returns one row per review (text) with the columns in `REVIEW_COLUMNS`:

- `review_id` (str): Yelp-HAT: `<file stem>:<1-based data row of its first map>`;
  generic: `text_id` as a string.
- `text`, `label` (int 0/1), `words` (`text.split()`),
- `maps`: one binary list over `words` per kept annotator,
- `human_attention`: the kept maps summed (or the first kept map), normalized to sum 1,
- `length_group`: see `LENGTH_GROUPS`, `source`: the file name.

`df.attrs["diagnostics"]` says how many maps and reviews were read, kept and dropped and why.
Bad input raises `DataFormatError` naming the file, the row and what to do.

The package has one module per job: `yelp_hat` (Yelp-HAT's CSV files), `generic` (the
generic format), `split` (training subsets and the test set), `selection` (a run's data set
and split, chosen by its parameters), `facts` (`data_info`), `rationales` (control arms and
the annotation budget), `shortcut` (a planted class token and the flipped test) and `common` (what they share).
"""

from humal_nb.core.errors import DataFormatError, DataNotFoundError, NotEnoughDataError
from humal_nb.core.names import AGREEMENTS, HUMAN_ATTENTION_MODES, LABEL_BY, LENGTH_GROUPS
from humal_nb.data.common import REVIEW_COLUMNS, agreement_keeps, length_group_of
from humal_nb.data.facts import data_info, format_data_info
from humal_nb.data.generic import load_generic
from humal_nb.data.rationales import apply_rationales, count_rationales, rationale_subset, withheld_rows
from humal_nb.data.split import make_split, minority_count
from humal_nb.data.yelp_hat import YELP_COLUMNS, load_yelp_hat

__all__ = [
    "AGREEMENTS",
    "HUMAN_ATTENTION_MODES",
    "LABEL_BY",
    "LENGTH_GROUPS",
    "REVIEW_COLUMNS",
    "YELP_COLUMNS",
    "DataFormatError",
    "DataNotFoundError",
    "NotEnoughDataError",
    "agreement_keeps",
    "apply_rationales",
    "count_rationales",
    "data_info",
    "format_data_info",
    "length_group_of",
    "load_generic",
    "load_yelp_hat",
    "make_split",
    "minority_count",
    "rationale_subset",
    "withheld_rows",
]
