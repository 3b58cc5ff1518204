"""Command line: `humal-nb run | grid | report | compare | data-info | bench | figures | tables | import | export | predict
| replication | notebooks` (and `--version`): every subcommand's parser is here.

Only parses arguments and calls the library function that a notebook or a test would call.
"""

from __future__ import annotations

import argparse
import os
import sys

from humal_nb.core.errors import HumalError, ParameterError
from humal_nb.core.names import DEFAULT_INFERENCE_PRECISION, DEVICES, INFERENCE_PRECISIONS
from humal_nb.core.paths import absolute_path_variables, display_path, record_start_folder

PRECISION_HELP = ("the saved models' arithmetic: auto (bf16 autocast where the CPU or GPU has native bf16, else "
                  "fp32), fp32, or bf16 (refused on a CPU without native bf16)")


def _run(args: argparse.Namespace) -> int:
    from humal_nb.experiments.job import run_job

    run_job(args.params, overrides=args.p or [], out_dir=args.out, progress=True)
    return 0


def _grid(args: argparse.Namespace) -> int:
    from humal_nb.experiments.grid import run_grid

    summary = run_grid(args.grid, workers=args.workers, executor=args.executor, out_dir=args.out)
    return 0 if summary.get("failed", 0) == 0 else 1


def _notebooks(args: argparse.Namespace) -> int:
    from humal_nb.config.package_files import copy_notebooks

    for path in copy_notebooks(args.dir, force=args.force):
        print(f"notebook: {display_path(path)}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from humal_nb.experiments.report import build_report
    from humal_nb.publication.folders import paired_record

    if args.paired_with:  # checked before a kernel starts
        paired_record(args.dir, args.paired_with)
    path = build_report(args.dir, out=args.out, paired_with=args.paired_with)
    print(f"report: {display_path(path)}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from humal_nb.analyses.compare import compare_report, resolve_runs

    baseline, humal = resolve_runs(args.baseline or "", args.run)  # checks both folders before any kernel starts
    if args.precision == "bf16":  # needs native bf16 on a CPU: refused before any kernel starts
        from humal_nb.method.inference import check_precision, resolve_device

        check_precision(args.precision, resolve_device("auto"))
    parameters = {"humal_run": str(humal), "baseline_run": str(baseline), "faithfulness": not args.no_faithfulness,
                  "precision": args.precision}
    path = compare_report(args.out or humal, parameters, progress=True)
    print(f"report: {display_path(path)}")
    return 0


def _data_info(args: argparse.Namespace) -> int:
    from humal_nb.data import data_info, format_data_info

    print(format_data_info(data_info(args.data_dir)))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from humal_nb.bench.grid import run_grid_bench
    from humal_nb.bench.runner import run_bench

    chosen = [flag for flag in ("grid", "compare", "families") if getattr(args, flag)]
    if len(chosen) > 1:
        raise ParameterError(f"choose one of --grid, --compare and --families, not {' and '.join('--' + f for f in chosen)}.")
    if args.grid:
        run_grid_bench(workers=args.workers, device=args.device, out_dir=args.out)
        return 0
    if args.compare:
        from humal_nb.bench.compare import run_compare_bench

        run_compare_bench(out_dir=args.out, precision=args.precision)
        return 0
    if args.families:
        from humal_nb.bench.families import run_families_bench

        run_families_bench(repeats=args.repeats)
        return 0
    run_bench(repeats=args.repeats, device=args.device, trainer=not args.no_trainer)
    return 0


def _figures(args: argparse.Namespace) -> int:
    from humal_nb.publication.figures import write_figures

    reviews = [r.strip() for r in args.reviews.split(",") if r.strip()] if args.reviews else None
    written = write_figures(args.dir, out=args.out, formats=args.format, reviews=reviews, paired_with=args.paired_with)
    for line in [*written.notes, *(f"figure: {display_path(path)}" for path in written.files)]:
        print(line)
    return 0


def _tables(args: argparse.Namespace) -> int:
    from humal_nb.publication.tables import write_tables

    written = write_tables(args.dir, fmt=args.format, out=args.out, paired_with=args.paired_with)
    for line in [*written.notes, *(f"table: {display_path(path)}" for path in written.files)]:
        print(line)
    return 0


def _import(args: argparse.Namespace) -> int:
    import json

    from humal_nb.data.importers import import_rationales

    path = import_rationales(args.format, args.src, args.out, positive=args.positive)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    print(f"wrote {display_path(path)}: {len(rows)} rows, {len({r['text_id'] for r in rows})} texts")
    return 0


def _export(args: argparse.Namespace) -> int:
    from humal_nb.experiments.export import export_attention

    print(f"wrote {display_path(export_attention(args.run, args.out))}")
    return 0


def _predict(args: argparse.Namespace) -> int:
    from humal_nb.experiments.export import predict_texts

    path = predict_texts(args.run, args.texts, args.out, batch_size=args.batch_size, device=args.device,
                         precision=args.precision)
    print(f"wrote {display_path(path)}")
    return 0


def _replication(args: argparse.Namespace) -> int:
    from humal_nb.cli import records

    if not args.readme:
        print(records.block_markdown(args.grid_dir, args.paired_with))
        return 0
    try:
        records.update_readme(args.readme, args.grid_dir, args.block, args.paired_with)
    except (ValueError, OSError) as exc:  # no block markers, or no such README
        print(f"humal-nb replication: error: {exc}", file=sys.stderr)
        return 2
    return 0


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Help that shows each option's default, "(default: X)", unless the help already names it
    or there is none to show (no value, a flag that is off)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if (action.option_strings and "default" not in text and action.default not in (None, False, "", argparse.SUPPRESS)
                and action.nargs != 0):
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    """Every sub-command's parser shows its options' defaults (`DefaultsHelpFormatter`)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", DefaultsHelpFormatter)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        formatter_class=DefaultsHelpFormatter,
        prog="humal-nb",
        description="HuMAL notebooks: train with human attention, run grids, build reports.",
    )
    parser.add_argument("--version", action="version", version=f"humal-nb {_version()}")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an error (also HUMAL_DEBUG=1); without it an error is one line")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="execute the training notebook for one parameter file")
    run.add_argument("params", help="YAML parameter file, or a preset's name (e.g. quickstart: parameters/quickstart.yaml)")
    run.add_argument("-p", action="append", metavar="KEY=VALUE", help="override one parameter")
    run.add_argument("--out", help="output folder (default outputs/<file name>)")
    run.set_defaults(func=_run)

    grid = sub.add_parser("grid", help="run every cell of a grid, resumably, then report")
    grid.add_argument("grid", help="YAML grid file, or a preset's name (e.g. table3_yelp: parameters/table3_yelp.yaml)")
    grid.add_argument("--workers", type=int, default=1, help="cells run in parallel")
    grid.add_argument("--executor", choices=["local", "ray"], default="local",
                      help="local: worker processes on this machine; ray: a Ray cluster's workers")
    grid.add_argument("--out", help="output folder (default outputs/<grid name>)")
    grid.set_defaults(func=_grid)

    _add_report_parser(sub)
    _add_compare_parser(sub)

    info = sub.add_parser("data-info", help="print the data set's facts")
    info.add_argument("--data-dir", help="folder of the Yelp-HAT CSV files")
    info.set_defaults(func=_data_info)

    _add_bench_parser(sub)

    figures = sub.add_parser("figures", help="a run's, a comparison's or a grid's figures as PDF, SVG and PNG files")
    figures.add_argument("dir", help="a grid's folder (summary.csv) or a finished run's (its baseline/ beside)")
    figures.add_argument("--format", default="pdf,svg,png", help="comma-separated: pdf, svg, png (default all)")
    figures.add_argument("--out", help="output folder (default DIR/figures)")
    figures.add_argument("--reviews", help="a run's review ids for heatmaps, comma-separated (default: two examples)")
    figures.add_argument("--paired-with", help="for a grid of control arms: the record whose baseline and strategy "
                         "cells they pair with (e.g. outputs/replication/table3), drawn beside the arms")
    figures.set_defaults(func=_figures)

    tables = sub.add_parser("tables", help="a run's or a grid's tables (III, IV, V, faithfulness) as files")
    tables.add_argument("dir", help="a grid's folder (summary.csv) or a finished run's (its baseline/ beside)")
    tables.add_argument("--format", default="latex,markdown,csv", help="comma-separated: latex, markdown, csv")
    tables.add_argument("--out", help="output folder (default DIR/tables)")
    tables.add_argument("--paired-with", help="for a grid of control arms: the record whose baseline and strategy "
                        "cells they pair with (e.g. outputs/replication/table3), tabulated beside the arms")
    tables.set_defaults(func=_tables)

    _add_data_parsers(sub)
    _add_replication_parser(sub)

    copies = sub.add_parser("notebooks", help="copy humal_nb's notebooks (clean, no outputs) into a folder for JupyterLab")
    copies.add_argument("dir", metavar="DIR", help="the folder to write them to (created if need be)")
    copies.add_argument("--force", action="store_true", help="overwrite notebooks that are already there")
    copies.set_defaults(func=_notebooks)
    return parser


def _version() -> str:
    from humal_nb import __version__

    return __version__


def _add_report_parser(sub: argparse._SubParsersAction) -> None:
    """`report`: a grid's HTML report, into its folder or another."""
    report = sub.add_parser("report", help="rebuild a grid's tables, figures and HTML report")
    report.add_argument("dir", help="a grid's output folder")
    report.add_argument("--out", help="write report.html (and its executed notebook) into this folder, from the "
                        "grid's summary.csv as it is, leaving the grid's folder untouched (default: into DIR, "
                        "summary.csv rebuilt from the cells)")
    report.add_argument("--paired-with", help="for a grid of control arms: the record whose baseline and strategy "
                        "cells they pair with (e.g. outputs/replication/table3), reported beside the arms")
    report.set_defaults(func=_report)


def _add_compare_parser(sub: argparse._SubParsersAction) -> None:
    """`compare`: the attention explorer's report of a finished run and its baseline."""
    compare = sub.add_parser("compare", help="human vs baseline vs HuMAL attention report of finished runs")
    compare.add_argument("run", help="a finished HuMAL run folder (its baseline/ is the baseline)")
    compare.add_argument("--baseline", help="a finished baseline run folder (default RUN/baseline)")
    compare.add_argument("--out", help="output folder (default: RUN)")
    compare.add_argument("--no-faithfulness", action="store_true",
                         help="skip the faithfulness tables (they run both models on every reduced test review: "
                              "minutes on a CPU the first time, then cached in the run folders)")
    compare.add_argument("--precision", default=DEFAULT_INFERENCE_PRECISION, choices=list(INFERENCE_PRECISIONS),
                         help=PRECISION_HELP)
    compare.set_defaults(func=_compare)


def _add_bench_parser(sub: argparse._SubParsersAction) -> None:
    """`bench`: a training step (default), a small grid, the model families, or the compare report."""
    bench = sub.add_parser("bench", help="time training steps: baseline vs HuMAL-AL")
    bench.add_argument("--repeats", type=int, default=7, help="timed rounds per variant")
    bench.add_argument("--device", default="auto", choices=list(DEVICES), help="where to train: " + ", ".join(DEVICES))
    bench.add_argument("--no-trainer", action="store_true", help="skip the Trainer reference")
    bench.add_argument("--grid", action="store_true",
                       help="time a small real grid per cell instead: wall vs training time")
    bench.add_argument("--workers", type=int, default=1, help="with --grid: cells run at once")
    bench.add_argument("--out", help="with --grid: keep the grid's cells in this folder; with --compare: the pair's "
                                      "folder (default outputs/bench_compare)")
    bench.add_argument("--families", action="store_true",
                       help="time AL vs plain steps on a tiny random model of each model family instead (CPU)")
    bench.add_argument("--compare", action="store_true",
                       help="time a cold and a warm `humal-nb compare` of a quickstart-sized pair (1 epoch, trained "
                            "into --out the first time) instead, per stage; last line compare_cold_seconds=X")
    bench.add_argument("--precision", default=DEFAULT_INFERENCE_PRECISION, choices=list(INFERENCE_PRECISIONS),
                       help="with --compare: " + PRECISION_HELP)
    bench.set_defaults(func=_bench)


def _add_data_parsers(sub: argparse._SubParsersAction) -> None:
    """`import`, `export` and `predict`: rationales in, attention and predictions out."""
    from humal_nb.data.importers import FORMATS

    imports = sub.add_parser("import", help="convert rationales (ERASER, HateXplain, Label Studio) to the generic format")
    imports.add_argument("format", choices=list(FORMATS), metavar="FORMAT", help=", ".join(FORMATS))
    imports.add_argument("src", metavar="SRC",
                         help="eraser: the data folder; hatexplain: dataset.json; labelstudio: the JSON export")
    imports.add_argument("--out", required=True, metavar="FILE.jsonl", help="the generic file to write (a run's data_file)")
    imports.add_argument("--positive", metavar="VALUE", help="the class (eraser) or choice (labelstudio) that is label 1")
    imports.set_defaults(func=_import)

    export = sub.add_parser("export", help="a finished run's human and machine attention, one row per (text, word)")
    export.add_argument("run", metavar="RUN", help="a finished run folder (its baseline/ is included)")
    export.add_argument("--out", required=True, metavar="FILE", help="the table to write: FILE.csv or FILE.parquet")
    export.set_defaults(func=_export)

    predict = sub.add_parser("predict", help="a trained run's probabilities and word attention for new texts")
    predict.add_argument("run", metavar="RUN", help="a finished run folder with a saved model/ (save_model: true)")
    predict.add_argument("texts", metavar="TEXTS", help="CSV or JSONL with columns text_id and text")
    predict.add_argument("--out", required=True, metavar="FILE",
                         help="FILE.jsonl (one object per text), FILE.csv or FILE.parquet (one row per word)")
    predict.add_argument("--device", default="auto", choices=list(DEVICES), help="where to predict: " + ", ".join(DEVICES))
    predict.add_argument("--batch-size", type=int, default=64, help="texts per forward pass")
    predict.add_argument("--precision", default=DEFAULT_INFERENCE_PRECISION, choices=list(INFERENCE_PRECISIONS),
                         help=PRECISION_HELP)
    predict.set_defaults(func=_predict)


def _add_replication_parser(sub: argparse._SubParsersAction) -> None:
    """`replication`: a committed record's README block (`python -m humal_nb.analyses.replication` is the same)."""
    replication = sub.add_parser("replication", help="print or rewrite a replication record's README block")
    replication.add_argument("grid_dir", help="the record's grid folder (e.g. outputs/replication/table3)")
    replication.add_argument("--docs", "--readme", dest="readme", metavar="FILE",
                             help="rewrite this Markdown file's block (a docs page, e.g. docs/replication.md)")
    replication.add_argument("--block", default="", help="the README block to rewrite, for a record other than the "
                                                         "main one (e.g. gpu: outputs/replication/gpu)")
    replication.add_argument("--paired-with", help="for a record of control arms: the record whose baseline and "
                                                   "HuMAL-AL it pairs with (default: the sibling table3)")
    replication.set_defaults(func=_replication)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    absolute_path_variables()
    record_start_folder()  # reports name folders relative to it (display_path), also in kernels
    debug = args.debug or os.environ.get("HUMAL_DEBUG", "") not in ("", "0")
    try:
        return args.func(args)
    except HumalError as exc:
        if debug:
            raise
        print(f"humal-nb {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, MemoryError) as exc:
        if debug:
            raise
        print(f"humal-nb {args.command}: error: {type(exc).__name__}: {exc}\n"
              "hint: an input humal-nb does not check yet; rerun with --debug (or HUMAL_DEBUG=1) for the traceback.",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"humal-nb {args.command}: interrupted; finished results are kept.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
