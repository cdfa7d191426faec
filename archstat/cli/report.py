"""`archstat report MODEL [MODEL ...] -o FILE.html`: one self-contained HTML report."""

from __future__ import annotations

import click

from archstat.cli.options import input_options, lang_options

ERF_IMAGES = 8


@click.command("report")
@click.argument("models", nargs=-1, required=True, metavar="MODEL [MODEL ...]")
@input_options
@click.option("-O", "--option", "options", multiple=True, metavar="KEY=VALUE",
              help="builder option for every MODEL, e.g. -O num_classes=10 (repeatable)")
@click.option("--latency", "latency_paths", multiple=True, metavar="FILE.json",
              help="a result saved by `archstat latency MODEL --per-layer -o FILE.json` for one of the MODELs: "
                   "adds its per-layer times and roofline (repeatable, one per model)")
@click.option("--erf", is_flag=True,
              help="add each model's effective receptive field (8 Gaussian inputs, seed 0, CPU)")
@click.option("--sweep", "sweep_specs", multiple=True, metavar="SPEC",
              help="add a what-if sweep to each model's section: size=128:512:32, batch=1,8,64, seq=128:4096:x2 "
                   "or KEY=V1,V2 for a builder option (repeatable)")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="the HTML file to write")
@lang_options
def command(models: tuple[str, ...], input_texts: tuple[str, ...], inputs_spec: str | None, options: tuple[str, ...],
            latency_paths: tuple[str, ...], erf: bool, sweep_specs: tuple[str, ...], output: str,
            lang: str) -> None:
    """A self-contained HTML report of MODELs (zoo names, package.module:attr or file.py:attr): cards,
    plots, the sortable per-layer table and, with several models, a comparison. Works offline."""
    from archstat.analysis.analyze import analyze
    from archstat.analysis.loading import load_model
    from archstat.cli.options import analysis_inputs, emit, parse_option, status
    from archstat.errors import UsageError
    from archstat.measure.results import read_result
    from archstat.report.html import render_report
    from archstat.report.output import check_writable

    check_writable(output)
    builder_options = dict(parse_option(o) for o in options)
    latency = [read_result(path, "--latency") for path in latency_paths]
    analyses = []
    for name in models:
        loaded = load_model(name, device="meta", options=builder_options)
        given = analysis_inputs(loaded, input_texts, inputs_spec)
        with status(f"analysing {loaded.label}"):
            analyses.append(analyze(loaded.module, **given, label=loaded.label, saved_for_backward=True))
    sweeps = []
    if sweep_specs:
        from archstat.cli.sweep import swept_of
        from archstat.studies.sweep import sweep

        for spec in sweep_specs:
            key, sep, values = spec.partition("=")
            if not sep:
                raise UsageError(f"malformed --sweep {spec!r}: write size=SPEC, batch=SPEC, seq=SPEC or KEY=V1,V2")
            axis = key.strip()
            swept, _ = swept_of(values if axis == "size" else None, values if axis == "batch" else None,
                                values if axis == "seq" else None,
                                () if axis in ("size", "batch", "seq") else (spec,))
            for name in models:
                with status(f"sweeping {name} over {swept.name}"):
                    sweeps.append(sweep(name, swept, options=builder_options))
    fields = []
    if erf:
        from archstat.analysis.rf.erf import effective_fields, seeded

        for name, analysis in zip(models, analyses, strict=True):
            with seeded(0):
                module = load_model(name, device="cpu", options=builder_options).module
            with status(f"effective receptive field of {analysis.model}"):
                fields.append(effective_fields(module, analysis, images=ERF_IMAGES))
    with status("rendering the report"):
        try:
            page = render_report(analyses, latency, fields, sweeps, lang=lang)
        except UsageError as exc:     # a result that does not fit these models
            raise UsageError(f"--latency: {exc}") from None
    emit(page, output)
