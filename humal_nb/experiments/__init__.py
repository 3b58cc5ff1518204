"""Runs and grids: training one run (`train`), a finished run (`run.Run`), the papermill
notebooks, grids of cells with their workers, the HTML reports and the export."""
