"""The bottom layer: names, errors, paths, progress lines and quiet imports that every other layer uses.

Imports nothing from the rest of humal_nb."""
