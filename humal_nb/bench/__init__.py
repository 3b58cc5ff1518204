"""`humal-nb bench`: timing training steps, `compare`, grids and the model families.

Only the command line imports this subpackage; the library never does."""
