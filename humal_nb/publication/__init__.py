"""Figures and tables for a paper: what a folder holds (`folders`), the paper's figures and
tables, the plot helpers and their style.

The names of `humal_nb.publication.folders` import from here as before."""

from humal_nb.core.moved import lazy_names

#: the names of the module this package was before the layers, loaded from `humal_nb.publication.folders` on first use
__getattr__ = lazy_names(__name__, "humal_nb.publication.folders")
