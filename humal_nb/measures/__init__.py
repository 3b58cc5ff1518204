"""What is measured on a finished model: the paper's attention analyses (sec. V-E) and the
statistics (paired tests, Holm, intervals) every verdict uses."""
