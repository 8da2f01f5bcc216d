"""Spans: the shared middle of every span-based format.

Container readers (``otlp.py``: OTLP JSON and the ConsoleSpanExporter's objects;
``phoenix.py``: Phoenix span JSON and Parquet) turn their files into three
frames with the columns below; convention extractors (``genai.py``: OTel GenAI
§1a/§1b, OpenLLMetry §1c, Vercel AI SDK §1d; ``openinference.py``: §2) read only
these frames, so every convention works inside every container
(trace-formats.md §1, §2, §11).

SPANS — one row per span:
    ``_sid`` i64 (unique within the file), ``source_line`` i64 (1-based line/record
    of the file the span came from), ``trace_id`` str (lowercase hex, 32),
    ``span_id`` str (lowercase hex, 16), ``parent_span_id`` str (null for a root),
    ``name`` str, ``kind`` str (lowercase: internal, server, client, producer,
    consumer, unspecified), ``start_time`` / ``end_time`` datetime[us, UTC],
    ``status_code`` str (unset, ok, error), ``status_message`` str,
    ``service_name`` str (resource ``service.name``), ``scope_name`` str
    (instrumentation scope; null when the container has none).

ATTRS — long, one row per span attribute (resource attributes not included,
except ``openinference.project.name``, the §2 route key, copied onto each span
of its resource when the span does not carry it):
    ``_sid`` i64, ``key`` str, ``value`` str: a string value as is; an int /
    double / bool as its JSON text; an array, kvlist or structured value as
    compact JSON text (an array of the plain values; a kvlist as an object).

EVENTS — long, one row per attribute of a span event (an event without
attributes gives one row with null ``key``/``value``):
    ``_sid`` i64, ``event_index`` i64 (order within the span), ``event_name`` str,
    ``time`` datetime[us, UTC], ``key`` str, ``value`` str (as in ATTRS).

An extractor is ``extract(spans, attrs, events) -> LazyFrame`` returning, for
the LLM-call spans of its convention only, ``_sid`` plus canonical columns
(schema.CANONICAL names: provider, model, provider_stop_reason, normalized_by,
output_text, tool_calls, output_tokens, max_tokens, expects_json,
after_tool_result, ...) and ``_route_hint`` (str, the convention's own route
key, e.g. ``traceloop.workflow.name``; null when it has none).

Dispatch (:func:`to_canonical`): each span goes to exactly one extractor
(``openinference.span.kind`` -> ``openinference.extract``, every other span ->
``genai.extract``, trace-formats.md §11); their rows get the SPANS columns back
(``source_file``, ``source_line``, ``trace_id``, ``span_id``, ``timestamp``) and
a ``route``: the extractor's ``_route_hint``, else the root span's
``service.name`` + "/" + its name, the root found by walking ``parent_span_id``
within the file (:func:`tree_context`). ``service_name``, ``root_span_name``,
``span_name``, ``agent_name``, ``span_status`` pass through, so
``--route root_span_name`` (or any of them) picks another route. Spans that are
not LLM calls are counted in one ``not_a_model_call`` row per file.
"""

from __future__ import annotations

from typing import Callable

import polars as pl

from .problems import PROBLEM_SCHEMA, SKIPPED

#: An extractor: (SPANS, ATTRS, EVENTS) -> LLM-call rows of its convention.
Extractor = Callable[[pl.LazyFrame, pl.LazyFrame, pl.LazyFrame], pl.LazyFrame]

#: Attribute that sends a span to the OpenInference extractor (trace-formats.md §11).
OPENINFERENCE_KIND = "openinference.span.kind"
#: Attributes naming the agent a span runs under, first found wins (§1a
#: ``gen_ai.agent.name``; OpenInference ``agent.name``, §2).
AGENT_KEYS = ("gen_ai.agent.name", "agent.name")
#: Longest parent chain walked to find a root (guards against parent cycles).
MAX_DEPTH = 64
#: ``stop_detail`` of an LLM span whose status is error and that carries no stop value.
SPAN_ERROR = "span_error"
#: Columns taken from SPANS, never from an extractor's output.
_FROM_SPANS = ("source_file", "source_line", "trace_id", "span_id", "timestamp", "route")

#: Extractors by convention; None = the modules' ``extract`` (looked up at call
#: time). Tests may pass their own to :func:`to_canonical`.
EXTRACTORS: dict[str, Extractor] | None = None


def default_extractors() -> dict[str, Extractor]:
    """``{"openinference": openinference.extract, "genai": genai.extract}``.

    Raises RuntimeError when a convention module has no ``extract`` yet.
    """
    from . import genai, openinference

    out = {}
    for name, mod in (("openinference", openinference), ("genai", genai)):
        fn = getattr(mod, "extract", None)
        if fn is None:
            raise RuntimeError(f"stoptriage.ingest.{mod.__name__.rsplit('.', 1)[-1]} has no extract(); span conventions cannot be read")
        out[name] = fn
    return out


def _attr_of(attrs: pl.LazyFrame, keys: tuple[str, ...], name: str) -> pl.LazyFrame:
    """``_sid``, ``name``: the value of the first of ``keys`` a span carries."""
    rank = pl.col("key").replace_strict({k: i for i, k in enumerate(keys)}, default=len(keys), return_dtype=pl.Int64)
    return (
        attrs.filter(pl.col("key").is_in(list(keys)) & pl.col("value").is_not_null())
        .sort(rank, maintain_order=True)
        .group_by("_sid", maintain_order=True)
        .agg(pl.col("value").first().alias(name))
    )


def tree_context(spans: pl.LazyFrame, attrs: pl.LazyFrame, sids: pl.DataFrame) -> pl.DataFrame:
    """Root span and agent of the spans ``sids`` (trace-formats.md §1 Route, §11).

    Input: SPANS, ATTRS (spans.py contract), ``sids`` (DataFrame with ``_sid``).
    Output DataFrame, one row per ``_sid`` of ``sids``: ``root_span_name`` (str),
    ``root_service_name`` (str), ``agent_name`` (str: ``gen_ai.agent.name`` /
    ``agent.name`` of the span or its nearest ancestor carrying one; null when
    none does).

    The root is found within the file: ``parent_span_id`` is followed (same
    ``trace_id``) while the parent is a span of the file, one vectorized join per
    tree level, until no row moves or after :data:`MAX_DEPTH` levels (a cycle).
    A span whose parent is not in the file is its own root; when the real root
    is in another file, the topmost ancestor in this file stands for it.
    Duplicate (trace_id, span_id) pairs (a span exported twice) resolve to the
    first. Errors: none.
    """
    nodes = spans.select("_sid", "trace_id", "span_id", "parent_span_id", "name", "service_name").collect()
    agents = _attr_of(attrs, AGENT_KEYS, "_agent").collect()
    ids = nodes.filter(pl.col("span_id").is_not_null()).unique(["trace_id", "span_id"], keep="first", maintain_order=True)
    parent = (
        nodes.join(ids.select("trace_id", "span_id", pl.col("_sid").alias("_parent")), left_on=["trace_id", "parent_span_id"], right_on=["trace_id", "span_id"], how="inner")
        .filter(pl.col("_parent") != pl.col("_sid"))
        .select("_sid", "_parent")
        .join(agents.rename({"_sid": "_parent", "_agent": "_parent_agent"}), on="_parent", how="left")
    )
    walk = sids.select("_sid").join(agents, on="_sid", how="left").with_columns(pl.col("_sid").alias("_at"))
    for _ in range(MAX_DEPTH):
        step = walk.join(parent.rename({"_sid": "_at"}), on="_at", how="left")
        moved = step.get_column("_parent").is_not_null()
        if not moved.any():
            break
        walk = step.select(
            "_sid",
            pl.coalesce("_parent", "_at").alias("_at"),
            pl.coalesce("_agent", "_parent_agent").alias("_agent"),
        )
    root = nodes.select(pl.col("_sid").alias("_at"), pl.col("name").alias("root_span_name"), pl.col("service_name").alias("root_service_name"))
    return walk.join(root, on="_at", how="left").select("_sid", "root_span_name", "root_service_name", pl.col("_agent").alias("agent_name"))


def _skipped_reason(n: int, kinds: pl.DataFrame) -> str:
    parts = ", ".join(f"{k} {c}" for k, c in kinds.iter_rows())
    noun = "span is not an LLM call" if n == 1 else "spans are not LLM calls"
    return f"{n} {noun} ({parts})"


def to_canonical(
    spans: pl.LazyFrame,
    attrs: pl.LazyFrame,
    events: pl.LazyFrame,
    path: str,
    extractors: dict[str, Extractor] | None = None,
) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """Span frames of one file -> canonical rows of its LLM-call spans.

    Input: SPANS, ATTRS, EVENTS (module contract); ``path`` (display name, the
    ``source_file`` value); ``extractors`` (``{"openinference": fn, "genai": fn}``,
    default :data:`EXTRACTORS` or the convention modules' ``extract``).

    Per span the convention is picked (trace-formats.md §11): a span with the
    attribute ``openinference.span.kind`` goes to ``openinference`` (§2), every
    other span to ``genai``, which tells §1a/§1b/§1c/§1d apart itself. Each
    extractor sees only its spans (and their attributes and events) and returns
    rows for its LLM calls only.

    Output: (LazyFrame in file order, one row per LLM-call span: the extractor's
    canonical columns, plus from SPANS ``source_file``, ``source_line``,
    ``trace_id``, ``span_id``, ``timestamp`` (= ``start_time``), and ``route`` =
    the extractor's ``_route_hint``, else root service.name + "/" + root span
    name (the root's service; just the name when it has none; null when the
    span has neither), plus pass-through columns ``service_name`` (the span's
    own), ``root_span_name``, ``span_name``, ``agent_name`` (see
    :func:`tree_context`), ``span_status`` (unset / ok / error),
    ``span_status_message``; problems DataFrame (problems.PROBLEM_SCHEMA): one
    ``not_a_model_call`` row for the file when some spans are not LLM calls,
    counted by OpenInference span kind, else ``gen_ai.operation.name``, else
    span kind, e.g. "5 spans are not LLM calls (CHAIN 2, server span 2,
    execute_tool 1)"). An extractor's ``_convention`` column, when it returns
    one, passes through as ``convention``.

    Provider values are never rewritten: a span whose status is error keeps
    whatever stop value its attributes carry; when it carries none (and no
    ``stop_detail``), ``stop_detail`` is ``span_error``. Raises RuntimeError when
    a convention module has no ``extract`` (see :func:`default_extractors`).
    """
    fns = extractors or EXTRACTORS or default_extractors()
    oi = attrs.filter(pl.col("key") == OPENINFERENCE_KIND).group_by("_sid").agg(pl.col("value").first().alias("_oi_kind")).collect()
    parts = []
    if oi.height:
        mine = oi.select("_sid").lazy()
        parts.append(fns["openinference"](spans.join(mine, on="_sid", how="semi"), attrs.join(mine, on="_sid", how="semi"), events.join(mine, on="_sid", how="semi")))
        parts.append(fns["genai"](spans.join(mine, on="_sid", how="anti"), attrs.join(mine, on="_sid", how="anti"), events.join(mine, on="_sid", how="anti")))
    else:
        parts.append(fns["genai"](spans, attrs, events))
    rows = pl.concat(parts, how="diagonal_relaxed").collect() if len(parts) > 1 else parts[0].collect()
    rows = rows.drop([c for c in _FROM_SPANS if c in rows.columns])
    if "_route_hint" not in rows.columns:
        rows = rows.with_columns(pl.lit(None, dtype=pl.String).alias("_route_hint"))
    problems = _skipped(spans, attrs, oi, rows, path)

    tree = tree_context(spans, attrs, rows.select("_sid"))
    env = spans.select(
        "_sid",
        "source_line",
        "trace_id",
        "span_id",
        pl.col("start_time").alias("timestamp"),
        pl.col("name").alias("span_name"),
        "service_name",
        pl.col("status_code").alias("span_status"),
        pl.col("status_message").alias("span_status_message"),
    ).collect()
    clash = [c for c in (*env.columns, *tree.columns) if c != "_sid" and c in rows.columns]
    out = rows.drop(clash).join(env, on="_sid", how="left").join(tree, on="_sid", how="left").sort("_sid")
    out = out.with_columns([pl.lit(None, dtype=pl.String).alias(c) for c in ("provider_stop_reason", "stop_detail") if c not in out.columns])
    from_tree = pl.when(pl.col("root_service_name").is_not_null()).then(pl.concat_str(["root_service_name", pl.lit("/"), "root_span_name"])).otherwise(pl.col("root_span_name"))
    no_stop = pl.col("provider_stop_reason").is_null() & pl.col("stop_detail").is_null()
    out = out.with_columns(
        pl.coalesce(pl.col("_route_hint"), from_tree).alias("route"),
        pl.lit(path).alias("source_file"),
        pl.when((pl.col("span_status") == "error") & no_stop).then(pl.lit(SPAN_ERROR)).otherwise(pl.col("stop_detail")).alias("stop_detail"),
    ).drop("root_service_name")
    if "_convention" in out.columns:
        out = out.rename({"_convention": "convention"})
    out = out.drop([c for c in out.columns if c.startswith("_")])
    return out.lazy(), problems


def _skipped(spans: pl.LazyFrame, attrs: pl.LazyFrame, oi: pl.DataFrame, rows: pl.DataFrame, path: str) -> pl.DataFrame:
    """The file's ``not_a_model_call`` summary row (none when every span is an LLM call)."""
    rest = spans.select("_sid").join(rows.select("_sid").lazy(), on="_sid", how="anti")
    op = attrs.filter(pl.col("key") == "gen_ai.operation.name").group_by("_sid").agg(pl.col("value").first().alias("_op"))
    kinds = (
        rest.join(oi.lazy(), on="_sid", how="left")
        .join(op, on="_sid", how="left")
        .join(spans.select("_sid", pl.col("kind").alias("_span_kind")), on="_sid", how="left")
        .select(pl.coalesce("_oi_kind", "_op", pl.concat_str([pl.col("_span_kind").fill_null("unspecified"), pl.lit(" span")])).alias("kind"))
        .group_by("kind")
        .len()
        .sort(["len", "kind"], descending=[True, False])
        .collect()
    )
    n = int(kinds.get_column("len").sum()) if kinds.height else 0
    if n == 0:
        return pl.DataFrame(schema=PROBLEM_SCHEMA)
    return pl.DataFrame({"source_file": [path], "source_line": [None], "kind": [SKIPPED], "reason": [_skipped_reason(n, kinds)]}, schema=PROBLEM_SCHEMA)
