"""The `maas` command line (API.md "Tenant console, client and CLI"), over `maas_client.Maas`.

Human output by default (tables; colors and progress bars only on a terminal), `--json` for
scripts: the API's JSON and nothing else on stdout. Exit 0 on success, 1 on an API error (its
message and request id on stderr), 2 on a usage error (click's own)."""

from __future__ import annotations

import csv
import functools
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from ._client import Maas
from .errors import APIError, JobTimeoutError, MaasError, PermissionDeniedError
from .resources import describe_event

# Piped output is not folded at 80 columns (a script reads whole ids); a terminal's width is used.
WIDE = 200
STDOUT = Console(soft_wrap=True, width=None if sys.stdout.isatty() else WIDE)
STDERR = Console(stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else WIDE)
# The rows one predict call sends; longer inputs go in several calls (the server's limit is
# larger, but a CLI user with a big file wants `maas batch`).
PREDICT_BATCH_ROWS = 1000


class State:
    """What the group's options set, shared by every command."""

    def __init__(self) -> None:
        self.api_key: str | None = None
        self.base_url: str | None = None
        self.json = False
        self.quiet = False
        self._client: Maas | None = None

    @property
    def client(self) -> Maas:
        if self._client is None:
            self._client = Maas(api_key=self.api_key, base_url=self.base_url)
        return self._client

    @property
    def progress(self) -> bool:
        # Bars only for a person watching: never when stderr is a pipe or a file.
        return sys.stderr.isatty()


def _set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(State).json = True


def _set_quiet(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(State).quiet = True


def _set_api_key(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.ensure_object(State).api_key = value


def _set_base_url(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.ensure_object(State).base_url = value


OPTIONS = (
    click.option(
        "--json",
        "json_output",
        is_flag=True,
        expose_value=False,
        callback=_set_json,
        help="Print the API's JSON and nothing else on stdout.",
    ),
    click.option(
        "--quiet",
        "-q",
        is_flag=True,
        expose_value=False,
        callback=_set_quiet,
        help="Print only the id of what the command made or found (one per line), for scripts.",
    ),
    click.option(
        "--api-key",
        expose_value=False,
        callback=_set_api_key,
        help="API key (default: $MAAS_API_KEY).",
    ),
    click.option(
        "--base-url",
        expose_value=False,
        callback=_set_base_url,
        help="Server (default: $MAAS_BASE_URL or http://localhost:8000).",
    ),
)


def _with_options(function: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(OPTIONS):
        function = option(function)
    return function


def common(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options every command takes, and the error rule: an API error prints its message and
    request id on stderr (with --json, its body on stdout) and exits 1."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        state = click.get_current_context().ensure_object(State)
        try:
            return function(state, *args, **kwargs)
        except APIError as error:
            if state.json:
                _print_json(error.body if isinstance(error.body, dict) else {"error": str(error)})
            where = f" (param: {error.param})" if error.param else ""
            STDERR.print(
                f"[red]Error {error.status}[/red]: {error.message}{where}", highlight=False
            )
            STDERR.print(f"Request id: {error.request_id or 'none'}", highlight=False)
            sys.exit(1)
        except JobTimeoutError as error:
            if state.json:
                _print_json(error.job.to_dict())
            STDERR.print(f"[yellow]{error}[/yellow]", highlight=False)
            sys.exit(1)
        except MaasError as error:
            STDERR.print(f"[red]Error[/red]: {error}", highlight=False)
            sys.exit(1)

    return _with_options(run)


# The options go before a command's name or after it: `maas --json datasets list` and
# `maas datasets list --json` are the same.
@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="maas-client")
@_with_options
@click.pass_context
def main(ctx: click.Context) -> None:
    """The maas command line. Reads MAAS_API_KEY and MAAS_BASE_URL; every command takes --json."""
    ctx.ensure_object(State)


# --- output -----------------------------------------------------------------------------------


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _as_json(value: Any) -> Any:
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    return value.to_dict() if hasattr(value, "to_dict") else value


def show(state: State, value: Any, human: Callable[[], None]) -> None:
    """`--json`: the API's JSON; `--quiet`: the ids; otherwise the human view."""
    if state.json:
        _print_json(_as_json(value))
    elif state.quiet:
        for item in value if isinstance(value, list) else [value]:
            click.echo(getattr(item, "id", None) or json.dumps(_as_json(item)))
    else:
        human()


def table(title: str | None, columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
    view = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for column in columns:
        view.add_column(column, overflow="fold")
    for row in rows:
        view.add_row(*("" if cell is None else str(cell) for cell in row))
    STDOUT.print(view)


def fields(pairs: Iterable[tuple[str, Any]]) -> None:
    table(None, ("field", "value"), pairs)


def _metrics_table(title: str, metrics: dict[str, Any] | None) -> None:
    if metrics:
        table(title, ("metric", "value"), ((k, _number(v)) for k, v in metrics.items()))


def _number(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _dataset_rows(datasets: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
    for d in datasets:
        yield (d.id, d.name, d.format, d.n_rows, len(d.columns), d.size_bytes, d.created_at)


DATASET_COLUMNS = ("id", "name", "format", "rows", "columns", "bytes", "created")


def _show_job(state: State, job: Any) -> None:
    def human() -> None:
        pairs = [
            ("id", job.id),
            ("status", job.status),
            ("progress", f"{job.progress:.0%}"),
        ]
        if job.object == "training_job":
            pairs += [
                ("algorithm", job.algorithm),
                ("dataset", job.dataset),
                ("target", job.target),
                (
                    "model",
                    f"{job.model_name} v{job.model_version}"
                    if job.model_version
                    else job.model_name,
                ),
            ]
        else:
            counts = job.request_counts
            pairs += [
                ("model", f"{job.model} v{job.version}"),
                ("dataset", job.dataset),
                ("rows", f"{counts.completed}/{counts.total} done, {counts.failed} failed"),
            ]
        pairs.append(("compute seconds", job.usage.compute_seconds))
        if job.error:
            pairs.append(("error", f"{job.error.code}: {job.error.message}"))
        fields(pairs)
        if job.object == "training_job":
            _metrics_table("metrics", job.metrics)

    show(state, job, human)


def _exit_for(job: Any) -> None:
    """A job that did not succeed is a failed command (exit 1), its error on stderr."""
    if job.status != "succeeded":
        reason = f": {job.error.code}: {job.error.message}" if job.error else ""
        STDERR.print(f"[red]{job.id} {job.status}[/red]{reason}", highlight=False)
        sys.exit(1)


# --- datasets ---------------------------------------------------------------------------------


@main.group()
def datasets() -> None:
    """Upload, list, show and delete datasets."""


@datasets.command("upload")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", help="Dataset name (default: the file's name).")
@common
def datasets_upload(state: State, file: Path, name: str | None) -> None:
    """Upload a CSV, JSON Lines or image ZIP file (streamed, with a byte progress bar)."""
    dataset = state.client.datasets.upload(file, name=name, progress=state.progress)
    show(state, dataset, lambda: _show_dataset(dataset))


def _show_dataset(dataset: Any) -> None:
    table(None, DATASET_COLUMNS, _dataset_rows([dataset]))
    table(
        "columns",
        ("name", "dtype", "distinct", "missing"),
        ((c.name, c.dtype, c.distinct, c.missing) for c in dataset.columns),
    )


@datasets.command("list")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@common
def datasets_list(state: State, limit: int) -> None:
    """The newest datasets."""
    found = state.client.datasets.list(limit=limit).first()
    show(state, found, lambda: table(None, DATASET_COLUMNS, _dataset_rows(found)))


@datasets.command("get")
@click.argument("dataset_id")
@common
def datasets_get(state: State, dataset_id: str) -> None:
    """One dataset and its column profile."""
    dataset = state.client.datasets.get(dataset_id)
    show(state, dataset, lambda: _show_dataset(dataset))


@datasets.command("delete")
@click.argument("dataset_id")
@common
def datasets_delete(state: State, dataset_id: str) -> None:
    """Delete a dataset."""
    deleted = state.client.datasets.delete(dataset_id)
    show(state, deleted, lambda: STDOUT.print(f"Deleted {deleted.id}."))


# --- algorithms and training ------------------------------------------------------------------


@main.command("algorithms")
@common
def algorithms(state: State) -> None:
    """The algorithms `maas train` can use, with their params."""
    found = state.client.algorithms.list()
    show(
        state,
        found,
        lambda: table(
            None,
            ("name", "framework", "task", "tier", "params"),
            (
                (a.name, a.framework, a.task, a.price_tier, ", ".join(sorted(a.params)))
                for a in found
            ),
        ),
    )


def _param_value(text: str) -> Any:
    """`K=V` values are JSON where they parse (numbers, true/false, null, lists), else strings."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _params(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not K=V (for example --param n_estimators=200).")
        parsed[key] = _param_value(value)
    return parsed


@main.command("train")
@click.option("--dataset", required=True, help="Dataset id (ds_...).")
@click.option("--target", required=True, help="The column to predict.")
@click.option("--algorithm", required=True, help="An algorithm name (`maas algorithms`).")
@click.option("--param", "params", multiple=True, callback=_params, help="K=V, repeatable.")
@click.option(
    "--feature", "features", multiple=True, help="A feature column (default: all others)."
)
@click.option("--model", help="Model name (a new version if it exists).")
@click.option("--validation-split", type=click.FloatRange(0, 0.5, max_open=True))
@click.option("--cv-folds", type=click.IntRange(2, 10))
@click.option("--wait", is_flag=True, help="Wait with live progress; end with the metrics.")
@click.option("--timeout", type=float, help="With --wait: give up waiting after this many seconds.")
@common
def train(
    state: State,
    dataset: str,
    target: str,
    algorithm: str,
    params: dict[str, Any],
    features: tuple[str, ...],
    model: str | None,
    validation_split: float | None,
    cv_folds: int | None,
    wait: bool,
    timeout: float | None,
) -> None:
    """Start a training job (and with --wait, watch it to the end)."""
    job = state.client.training_jobs.create(
        dataset=dataset,
        target=target,
        algorithm=algorithm,
        params=params or None,
        features=list(features) or None,
        model=model,
        validation_split=validation_split,
        cv_folds=cv_folds,
    )
    if wait:
        if not (state.json or state.quiet):
            STDERR.print(f"Training {job.id} ({algorithm} on {dataset})...", highlight=False)
        job = state.client.training_jobs.wait(job, timeout=timeout, progress=state.progress)
    _show_job(state, job)
    if wait:
        _exit_for(job)


# --- jobs -------------------------------------------------------------------------------------


def _jobs_of(client: Maas, job_id: str) -> Any:
    if job_id.startswith("trj_"):
        return client.training_jobs
    if job_id.startswith("inj_"):
        return client.inference_jobs
    raise click.BadParameter(
        f"{job_id!r} is not a job id: training jobs start trj_, batch jobs inj_.", param_hint="ID"
    )


@main.group()
def jobs() -> None:
    """Show, wait for and cancel training (trj_) and batch (inj_) jobs."""


@jobs.command("get")
@click.argument("job_id", metavar="ID")
@common
def jobs_get(state: State, job_id: str) -> None:
    """A job's status, progress, usage and metrics."""
    _show_job(state, _jobs_of(state.client, job_id).get(job_id))


@jobs.command("wait")
@click.argument("job_id", metavar="ID")
@click.option("--timeout", type=float, help="Give up waiting after this many seconds.")
@common
def jobs_wait(state: State, job_id: str, timeout: float | None) -> None:
    """Wait for a job to finish, with a progress bar; exit 1 unless it succeeded."""
    job = _jobs_of(state.client, job_id).wait(job_id, timeout=timeout, progress=state.progress)
    _show_job(state, job)
    _exit_for(job)


@jobs.command("cancel")
@click.argument("job_id", metavar="ID")
@common
def jobs_cancel(state: State, job_id: str) -> None:
    """Ask a job to stop."""
    _show_job(state, _jobs_of(state.client, job_id).cancel(job_id))


@jobs.command("events")
@click.argument("job_id", metavar="ID")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@common
def jobs_events(state: State, job_id: str, limit: int) -> None:
    """A training job's events, newest first (epochs and losses for Keras)."""
    if not job_id.startswith("trj_"):
        raise click.BadParameter("only training jobs (trj_...) have events.", param_hint="ID")
    found = state.client.training_jobs.events(job_id, limit=limit).first()
    show(
        state,
        found,
        lambda: table(None, ("at", "event"), ((e.created_at, describe_event(e)) for e in found)),
    )


# --- models and predictions -------------------------------------------------------------------


@main.group()
def models() -> None:
    """List and show models and their versions."""


@models.command("list")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@common
def models_list(state: State, limit: int) -> None:
    """The newest models."""
    found = state.client.models.list(limit=limit).first()
    show(
        state,
        found,
        lambda: table(
            None,
            ("id", "name", "task", "latest", "aliases", "created"),
            (
                (
                    m.id,
                    m.name,
                    m.task,
                    m.latest_version,
                    ", ".join(f"{k}={v}" for k, v in m.aliases.items()),
                    m.created_at,
                )
                for m in found
            ),
        ),
    )


@models.command("get")
@click.argument("model")
@click.option("--version", help="A version number or alias (default: the latest).")
@common
def models_get(state: State, model: str, version: str | None) -> None:
    """A model (by id or name) and one version's metrics and signature."""
    found = state.client.models.find(model)
    chosen = _version_number(found, version)
    detail = state.client.models.version(found.id, chosen) if chosen is not None else None

    def human() -> None:
        fields(
            [
                ("id", found.id),
                ("name", found.name),
                ("task", found.task),
                ("latest version", found.latest_version),
                ("aliases", ", ".join(f"{k}={v}" for k, v in found.aliases.items())),
            ]
        )
        if detail is not None:
            _metrics_table(f"version {detail.version} ({detail.algorithm})", detail.metrics)
            table(
                "inputs",
                ("name", "dtype"),
                ((i.name, i.dtype) for i in detail.signature.inputs),
            )

    show(state, {"model": found.to_dict(), "version": detail and detail.to_dict()}, human)


JSON_LINES = (".jsonl", ".ndjson", ".json")


def _model_id(client: Maas, model: str) -> str:
    """A model id as given, or the id of the model of that name (which needs the read scope)."""
    if model.startswith("mdl_"):
        return model
    try:
        return client.models.find(model).id
    except PermissionDeniedError:
        raise MaasError(
            f"This key may not look models up by name; give {model!r}'s id (mdl_...) instead."
        ) from None


def _version_number(model: Any, version: str | int | None) -> int | None:
    """A version number from a number, an alias of the model, or None (the latest)."""
    if version is None:
        return model.latest_version
    if isinstance(version, int) or version.isdigit():
        return int(version)
    if version in model.aliases:
        return model.aliases[version]
    known = ", ".join(model.aliases) or "none yet"
    raise click.BadParameter(
        f"{version!r} is neither a version number nor an alias of {model.name} ({known}).",
        param_hint="--version",
    )


def _signature(client: Maas, model_id: str, version: Any) -> Any:
    """The version's signature (None when the key lacks the read scope)."""
    try:
        number = _version_number(client.models.get(model_id), version)
        return client.models.version(model_id, number).signature if number else None
    except PermissionDeniedError:
        return None


def _read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a CSV (header line) or JSON Lines file, as objects keyed by column."""
    if path.suffix.lower() in JSON_LINES:
        rows = []
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError as error:
                    raise click.BadParameter(
                        f"{path}: line {number} is not JSON ({error})."
                    ) from None
                if not isinstance(row, dict):
                    raise click.BadParameter(f"{path}: line {number} is not a JSON object.")
                rows.append(row)
        return rows
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _typed(rows: list[dict[str, Any]], dtypes: dict[str, str] | None) -> list[dict[str, Any]]:
    """CSV cells are text: make the numeric and boolean features numbers and booleans (the
    signature says which; columns the model does not use are dropped), and empty cells null.
    Without the signature (a key without the read scope), a cell that reads as a number is one."""
    typed = []
    for row in rows:
        if dtypes is None:
            typed.append({name: _guess(value) for name, value in row.items()})
            continue
        typed.append(
            {name: _cell(row[name], dtype) for name, dtype in dtypes.items() if name in row}
        )
    return typed


def _guess(text: str) -> Any:
    number = _cell(text, "number")
    return number if not isinstance(number, str) else _cell(text, "boolean")


def _cell(text: str, dtype: str) -> Any:
    if text == "":
        return None
    if dtype == "number":
        try:
            number = float(text)
        except ValueError:
            return text  # the server names the row and column that is wrong
        return (
            int(number)
            if number.is_integer() and "." not in text and "e" not in text.lower()
            else number
        )
    if dtype == "boolean":
        lowered = text.lower()
        return (
            True
            if lowered in ("true", "1", "yes")
            else False
            if lowered in ("false", "0", "no")
            else text
        )
    return text


@main.command("predict")
@click.argument("model")
@click.option(
    "--input",
    "input_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Rows: FILE.csv (with a header) or FILE.jsonl.",
)
@click.option("--row", help="One row as JSON: '{\"feature\": 1.5, ...}'.")
@click.option("--version", help="A version number or alias (default: the latest).")
@common
def predict(
    state: State, model: str, input_file: Path | None, row: str | None, version: str | None
) -> None:
    """Predict rows with a model (by id or name), printed as a table."""
    if (input_file is None) == (row is None):
        raise click.UsageError("Give exactly one of --input FILE or --row JSON.")
    if row is not None:
        try:
            rows = [json.loads(row)]
        except ValueError as error:
            raise click.BadParameter(f"not JSON ({error}).", param_hint="--row") from None
        if not isinstance(rows[0], dict):
            raise click.BadParameter("must be a JSON object keyed by feature.", param_hint="--row")
    else:
        rows = _read_rows(input_file)  # type: ignore[arg-type]
        if not rows:
            raise click.BadParameter(f"{input_file} has no rows.", param_hint="--input")
    client = state.client
    model_id = _model_id(client, model)
    pinned: Any = int(version) if version and version.isdigit() else version
    if input_file is not None and input_file.suffix.lower() not in JSON_LINES:
        signature = _signature(client, model_id, pinned)
        rows = _typed(rows, {i.name: i.dtype for i in signature.inputs} if signature else None)
    answers = [
        client.models.predict(model_id, rows[start : start + PREDICT_BATCH_ROWS], version=pinned)
        for start in range(0, len(rows), PREDICT_BATCH_ROWS)
    ]
    if state.json:
        _print_json(answers[0].to_dict() if len(answers) == 1 else [a.to_dict() for a in answers])
        return
    if state.quiet:
        for answer in answers:
            for prediction in answer.predictions:
                click.echo(prediction)
        return
    first = answers[0]
    classes = first.classes or []
    columns = ["row", "prediction"]  # as batch results name them
    if first.probabilities is not None:
        columns += [f"p({c})" for c in classes]
    out = []
    number = -1  # rows count from 0, as batch results do
    for answer in answers:
        for i, prediction in enumerate(answer.predictions):
            number += 1
            cells = [number, _number(prediction)]
            if answer.probabilities is not None:
                cells += [f"{p:.4f}" for p in answer.probabilities[i]]
            out.append(cells)
    table(f"{model} v{first.version}", columns, out)


@main.command("batch")
@click.argument("model")
@click.option("--dataset", required=True, help="The dataset (ds_...) to predict.")
@click.option("--version", help="A version number or alias (default: the latest).")
@click.option("--wait", is_flag=True, help="Wait with a progress bar.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the results here (implies --wait).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True
)
@click.option("--timeout", type=float, help="Give up waiting after this many seconds.")
@common
def batch(
    state: State,
    model: str,
    dataset: str,
    version: str | None,
    wait: bool,
    output: Path | None,
    fmt: str,
    timeout: float | None,
) -> None:
    """Start a batch prediction job over a dataset; --output downloads its results."""
    client = state.client
    pinned: Any = int(version) if version and version.isdigit() else version
    job = client.inference_jobs.create(
        model=_model_id(client, model), dataset=dataset, version=pinned
    )
    if wait or output:
        job = client.inference_jobs.wait(job, timeout=timeout, progress=state.progress)
        if output and job.status == "succeeded":
            client.inference_jobs.download_results(
                job.id, output, format=fmt, progress=state.progress
            )
            if not (state.json or state.quiet):
                STDERR.print(f"Results written to {output}.", highlight=False)
    _show_job(state, job)
    if wait or output:
        _exit_for(job)


# --- usage, invoices, keys --------------------------------------------------------------------


@main.command("usage")
@click.option("--start", help="YYYY-MM-DD (default: the first of this month).")
@click.option("--end", help="YYYY-MM-DD, exclusive (default: now).")
@click.option("--group-by", help="meter is always a group; add model and/or day: meter,day.")
@common
def usage(state: State, start: str | None, end: str | None, group_by: str | None) -> None:
    """Usage and its amount by meter (and model, day)."""
    found = state.client.usage.get(start=start, end=end, group_by=group_by)
    groups = [g for g in (group_by or "").split(",") if g and g != "meter"]

    def human() -> None:
        table(
            f"usage ({found.currency})",
            ("meter", *groups, "quantity", "amount"),
            (
                (r.meter, *(getattr(r, g, None) for g in groups), r.quantity, r.amount)
                for r in found.data
            ),
        )

    show(state, found, human)


def _show_invoice(invoice: Any) -> None:
    period = f"{invoice.period_start[:10]} to {invoice.period_end[:10]}"
    title = f"invoice {invoice.id or '(upcoming)'} {period} {invoice.status}"
    rows = [
        (line.description, line.quantity, line.unit_amount, line.amount) for line in invoice.lines
    ]
    rows.append(("subtotal", "", "", invoice.subtotal))
    rows.append(("total", "", "", f"{invoice.total} {invoice.currency}"))
    table(title, ("line", "quantity", "unit", "amount"), rows)


@main.group()
def invoices() -> None:
    """This month's upcoming invoice and past ones."""


@invoices.command("upcoming")
@common
def invoices_upcoming(state: State) -> None:
    """The invoice this month's usage adds up to so far."""
    invoice = state.client.invoices.upcoming()
    show(state, invoice, lambda: _show_invoice(invoice))


@invoices.command("list")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@common
def invoices_list(state: State, limit: int) -> None:
    """Past invoices, newest first."""
    found = state.client.invoices.list(limit=limit).first()
    show(
        state,
        found,
        lambda: table(
            None,
            ("id", "period", "status", "total"),
            (
                (
                    i.id,
                    f"{i.period_start[:10]} to {i.period_end[:10]}",
                    i.status,
                    f"{i.total} {i.currency}",
                )
                for i in found
            ),
        ),
    )


@invoices.command("get")
@click.argument("invoice_id")
@common
def invoices_get(state: State, invoice_id: str) -> None:
    """One invoice with its lines."""
    invoice = state.client.invoices.get(invoice_id)
    show(state, invoice, lambda: _show_invoice(invoice))


@main.group()
def keys() -> None:
    """List, create and revoke API keys."""


KEY_COLUMNS = ("id", "name", "prefix", "scopes", "last used", "revoked")


def _key_rows(found: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
    for k in found:
        yield (k.id, k.name, k.prefix, ",".join(k.scopes), k.last_used_at, k.revoked_at)


@keys.command("list")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@common
def keys_list(state: State, limit: int) -> None:
    """This tenant's keys (never their secrets)."""
    found = state.client.api_keys.list(limit=limit).first()
    show(state, found, lambda: table(None, KEY_COLUMNS, _key_rows(found)))


@keys.command("create")
@click.option("--name", required=True)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(["read", "write", "predict", "billing", "admin"]),
    help="Repeatable (default: read, write, predict).",
)
@click.option("--expires-at", help="ISO 8601 time the key stops working.")
@common
def keys_create(state: State, name: str, scopes: tuple[str, ...], expires_at: str | None) -> None:
    """Create a key; its secret is printed this once."""
    created = state.client.api_keys.create(
        name=name, scopes=scopes or ("read", "write", "predict"), expires_at=expires_at
    )

    def human() -> None:
        table(None, KEY_COLUMNS, _key_rows([created]))
        STDOUT.print(f"Secret (shown once, store it now): {created.api_key}", highlight=False)

    show(state, created, human)


@keys.command("revoke")
@click.argument("key_id")
@common
def keys_revoke(state: State, key_id: str) -> None:
    """Revoke a key: it stops working at once."""
    revoked = state.client.api_keys.revoke(key_id)
    show(
        state,
        revoked,
        lambda: STDOUT.print(f"Revoked {revoked.id} ({revoked.name}).", highlight=False),
    )


if __name__ == "__main__":
    main()
