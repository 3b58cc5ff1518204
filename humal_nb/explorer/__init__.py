"""The interactive explorer: the example browser, the attention views and the bertviz views.

`from humal_nb.explorer import example_browser` works as before."""

from humal_nb.core.moved import lazy_names

#: the names of the module this package was before the layers, loaded from `humal_nb.explorer.browser` on first use
__getattr__ = lazy_names(__name__, "humal_nb.explorer.browser")
