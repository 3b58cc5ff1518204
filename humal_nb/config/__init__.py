"""What a run is told and which files it reads: `RunConfig` and its parameters, the rationale
arms, grid files, presets shipped with the package, the validating readers and run folders.

`from humal_nb.config import RunConfig` (and every name of `humal_nb.config.run_config`) works as before."""

from humal_nb.core.moved import lazy_names

#: the names of the module this package was before the layers, loaded from `humal_nb.config.run_config` on first use
__getattr__ = lazy_names(__name__, "humal_nb.config.run_config")
