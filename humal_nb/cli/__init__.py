"""The command line (`humal-nb`): the commands and the record blocks they write into the docs.

`humal_nb.cli:main` is the console script."""

from humal_nb.core.moved import lazy_names

#: the names of the module this package was before the layers, loaded from `humal_nb.cli.commands` on first use
__getattr__ = lazy_names(__name__, "humal_nb.cli.commands", ('main', 'build_parser'))
