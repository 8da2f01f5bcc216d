"""Field readers shared by the tracing-platform formats (Langfuse, LangSmith).

Field loading (JSON lines / CSV / Parquet into text columns), per-row timestamp
parsing, message text, tool calls and tool schemas, the "last input message was
a tool result" test, provider names, the merge with ``bodies.extract`` for
outputs that hold a raw provider body, and the skipped-records summary. First
written inside langfuse.py; moved here so langsmith.py (and the next platform
reader) import them from a module named for what they are.
"""

from __future__ import annotations

import io

import polars as pl

from . import bodies
from ..schema import TOOL_CALL, TOOL_SCHEMA
from .jsonl import RAW, all_keys, jp, key_path, line_problems, read_checked_lines, robust_decode
from .problems import PROBLEM_SCHEMA, SKIPPED, UNKNOWN_SHAPE
from .source import CSV, JSON, JSONL, PARQUET, Source

E = pl.element()
S = pl.String

#: ``stop_detail`` of a model call that was marked as failed and produced no
#: output (Langfuse ``level == "ERROR"``, LangSmith run ``error``); the error text
#: itself passes through (``status_message`` / ``error``).
CALL_ERROR = "call_error"


def _holds_binary(dtype: pl.DataType) -> bool:
    if dtype == pl.Binary:
        return True
    parts = [getattr(dtype, a, None) for a in ("inner", "key", "value")]  # List / Array / Map
    parts += [f.dtype for f in getattr(dtype, "fields", None) or []]  # Struct
    return any(p is not None and _holds_binary(p) for p in parts)


def _field_text(name: str, dtype: pl.DataType) -> pl.Expr:
    """A table column as JSON-ish text: strings as is, anything else as JSON.

    A top-level Binary column is hex text; a nested type holding Binary (which
    Polars cannot write as JSON) is null.
    """
    if dtype == pl.String:
        return pl.col(name)
    if dtype == pl.Binary:
        return pl.col(name).bin.encode("hex")
    if _holds_binary(dtype):
        return pl.lit(None, dtype=S)
    # Structs, maps, lists, numbers, booleans, datetimes: encode the cell as JSON
    # and take the value back out (strings unquoted, objects as compact JSON).
    return jp(pl.struct(pl.col(name)).struct.json_encode(), key_path(name))


def _ndjson_fields(df: pl.DataFrame, fields: list[str]) -> pl.DataFrame | None:
    """Top-level scalar ``fields`` of the checked lines in one native parse, or None.

    Polars' NDJSON reader with a fixed all-String schema keeps a string as is and
    a number / boolean as its text: the same values as a JSONPath match per field,
    for one parse of each line instead of one per field. Scalar fields only:
    Polars 2.1 re-serializes a nested value into invalid or altered JSON when its
    strings hold a backslash or a control character (a tab, or a JSON string
    inside a string, as tool-call arguments are), so objects and arrays go
    through JSONPath. Only lines the check pass accepted are given to it; if it
    still fails or returns another row count, the caller falls back to JSONPath.
    """
    if not fields or df.height == 0:
        return None
    data = (df.get_column(RAW).str.join("\n").item() or "").encode()
    try:
        out = pl.read_ndjson(io.BytesIO(data), schema={f: S for f in fields})
    except Exception:  # noqa: BLE001 - any reader failure: take the per-field path
        return None
    return out if out.height == df.height else None


def load_fields(src: Source, fields: tuple[str, ...], nested: frozenset[str] = frozenset()) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read a file's records as one row each with one text column per top-level field.

    Input: a Source whose container is ``jsonl``, ``csv`` or ``parquet``; the
    top-level field names wanted; ``nested``: those that may hold an object or
    array (read by JSONPath; in JSON lines the others come from one native parse
    per line, see :func:`_ndjson_fields`). Output: (DataFrame with ``source_line`` i64 —
    the 1-based line for JSON lines, the 0-based row index for CSV and Parquet as
    in ``table.py`` — and ``f_<field>`` str per field, problems DataFrame for
    blank / malformed lines). Field values are text: a string as is, a number as
    its decimal text, an object or array as compact JSON; null when absent. So a
    field holding JSON reads the same whether it was sent as an object or as a
    JSON-encoded string (camelCase API export vs blob / CSV / Parquet export).
    No schema is inferred from the data: CSV cells are all read as text.
    Errors: none for bad lines (reported); Polars errors for an unreadable
    CSV/Parquet container propagate.
    """
    problems = pl.DataFrame(schema=PROBLEM_SCHEMA)
    if src.container in (JSONL, JSON):
        df = read_checked_lines(src.path, src.data)
        problems = line_problems(df, src.path)
        df = df.filter(pl.col("_error").is_null())
        present = set(all_keys(df))
        scalars = [f for f in fields if f in present and f not in nested]
        fast = _ndjson_fields(df, scalars)
        if fast is not None:
            df = pl.concat([df, fast.rename({f: f"_s_{f}" for f in scalars})], how="horizontal")

        def value(f: str) -> pl.Expr:
            if f not in present:
                return pl.lit(None, dtype=S)
            return pl.col(f"_s_{f}") if fast is not None and f in scalars else jp(RAW, key_path(f))

        return df.select("source_line", *[value(f).alias(f"f_{f}") for f in fields]), problems
    if src.container == PARQUET:
        lf = pl.read_parquet(io.BytesIO(src.data)).lazy() if src.data is not None else pl.scan_parquet(src.path)
    elif src.container == CSV:
        kw = {"infer_schema": False, "truncate_ragged_lines": True}
        lf = pl.read_csv(src.data, **kw).lazy() if src.data is not None else pl.scan_csv(src.path, **kw)
    else:
        raise ValueError(f"container {src.container!r} is not read here")
    schema = lf.collect_schema()
    cols = [
        (_field_text(f, schema[f]) if f in schema else pl.lit(None, dtype=S)).cast(S).alias(f"f_{f}")
        for f in fields
    ]
    lf = lf.with_row_index("source_line").select(pl.col("source_line").cast(pl.Int64), *cols)
    # CSV writes null as an empty cell: an empty field is no value.
    lf = lf.with_columns([pl.when(pl.col(f"f_{f}") != "").then(pl.col(f"f_{f}")).alias(f"f_{f}") for f in fields])
    return lf.collect(), problems


def nonempty(expr: pl.Expr) -> pl.Expr:
    """Text with "" (and whitespace only) as null (exports write "" for "not set")."""
    return pl.when(expr.str.strip_chars() != "").then(expr)


def json_field(expr: pl.Expr) -> pl.Expr:
    """A field holding JSON text: "", whitespace and the JSON literal ``null`` are no value
    (a Parquet / CSV export may write a missing object as the text ``null``)."""
    return pl.when(expr.str.strip_chars().is_in(["", "null"]).not_()).then(expr)


def parse_time(expr: pl.Expr) -> pl.Expr:
    """Timestamp text -> datetime[us, UTC], per row, whatever the format of the others.

    Reads ISO 8601 with ``T`` or a space, with or without fraction, with ``Z``,
    an offset, or none (taken as UTC: Langfuse blob ``YYYY-MM-DD HH:MM:SS.ffffff``
    and LangSmith ``start_time`` are UTC); unix seconds / milliseconds numbers.
    Anything else -> null.
    """
    s = expr.str.strip_chars().str.replace(r"^(\d{4}-\d{2}-\d{2}) ", "${1}T").str.replace(r"Z$", "+00:00")
    aware = s.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", time_unit="us", time_zone="UTC", strict=False)
    naive = s.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us", strict=False).dt.replace_time_zone("UTC")
    num = expr.cast(pl.Float64, strict=False)
    epoch_us = pl.when(num > 1e12).then(num * 1_000).otherwise(num * 1_000_000).cast(pl.Int64, strict=False)
    from_num = pl.from_epoch(epoch_us, time_unit="us").dt.replace_time_zone("UTC")
    return pl.coalesce(aware, naive, from_num)


def first_value(expr: pl.Expr) -> pl.Expr:
    """The first element of a JSON array text, else the text itself (a scalar).

    ``["stop"]`` -> ``stop``; ``'["stop"]'`` sent as a string reads the same;
    ``stop`` -> ``stop``.
    """
    return pl.when(expr.str.starts_with("[")).then(jp(expr, "$[0]")).otherwise(expr)


def content_text(container: pl.Expr, raw: pl.Expr) -> pl.Expr:
    """Text of a message's ``content``: a string as is, or the text parts of a block list.

    Input: ``container``, the compact JSON text of the message (as a JSONPath
    match returns it); ``raw``, its ``content`` as matched (``jp(container,
    "$.content")``, materialized by the caller). A block list (Anthropic /
    LangChain / OpenAI content parts) gives the concatenated ``text`` of its parts
    of type ``text`` / ``output_text`` (or untyped parts with ``text``); a list of
    strings is concatenated; an empty list is "". Null when ``content`` is absent
    or null. A string that merely looks like a list stays as is (a JSONPath match
    returns a string unquoted, so a list is told from a string by indexing it).
    """
    key = "content"
    is_list = jp(container, f"$.{key}[0]").is_not_null()
    blocks = robust_decode(pl.when(is_list).then(raw), pl.List(pl.Struct({"type": S, "text": S})))
    kind = E.struct.field("type")
    joined = blocks.list.eval(E.filter(kind.is_null() | kind.is_in(["text", "output_text"])).struct.field("text")).list.join("")
    # A list of strings (LangChain allows them); "[" + quote: its first element is a string.
    strings = robust_decode(pl.when(is_list & blocks.is_null() & raw.str.starts_with('["')).then(raw), pl.List(S)).list.join("")
    empty_list = (raw == "[]") & container.str.contains(f'"{key}":[]', literal=True)
    return (
        pl.when(is_list)
        .then(pl.coalesce(joined, strings, raw))
        .when(empty_list)
        .then(pl.lit(""))
        .otherwise(raw)
    )


def _named_elements(df: pl.DataFrame, arr: str, only_type: str | None, rels: dict[str, tuple[str, ...]], dtype: pl.DataType, alias: str) -> pl.DataFrame:
    """``_rid`` -> ``alias`` list[struct] built from the elements of a JSON array column.

    Each element (of ``type`` ``only_type`` when given) gives one struct whose
    fields are the first JSONPath of ``rels[field]`` that matches; elements
    without a ``name`` are left out, and rows without any are absent.
    """
    keep = pl.int_range(pl.len())
    if only_type is not None:
        keep = keep.filter(E.struct.field("type") == only_type)
    idx = robust_decode(pl.col(arr), pl.List(pl.Struct({"type": S}))).list.eval(keep)
    # Only arrays are decoded: a value of another shape would make the batch decode fail
    # and bisect down to that row (robust_decode).
    arrays = df.select("_rid", arr).filter(pl.col(arr).str.starts_with("["))
    out = arrays.select("_rid", arr, idx.alias("_i")).explode("_i").filter(pl.col("_i").is_not_null())
    el = jp(arr, pl.concat_str([pl.lit("$["), pl.col("_i").cast(S), pl.lit("]")]))
    out = out.with_columns(el.alias("_el")).with_columns(
        [pl.coalesce([jp("_el", path) for path in paths]).alias(name) for name, paths in rels.items()]
    )
    return (
        out.filter(pl.col("name").is_not_null())
        .sort("_rid", "_i")
        .group_by("_rid", maintain_order=True)
        .agg(pl.struct(*rels).cast(dtype).alias(alias))
    )


def tool_calls_from(df: pl.DataFrame, arr: str, only_type: str | None = None) -> pl.DataFrame:
    """``_rid`` -> ``tool_calls`` list[struct{name, arguments}] from a JSON array column.

    Input: ``df`` with ``_rid`` and ``arr`` (str, JSON array text; null = none).
    Each element may be OpenAI-shaped (``function.{name, arguments}``, arguments a
    JSON string kept as sent), LangChain-shaped (``{name, args}``, args an object
    re-serialized compactly), Anthropic ``tool_use`` (``{name, input}``) or flat
    ``{name, arguments}``. ``only_type``: keep only elements whose ``type`` is it
    (e.g. ``tool_use`` in a content block list). Elements without a name are not
    tool calls and are left out. Rows without calls are absent from the output.
    """
    rels = {
        "name": ("$.function.name", "$.name"),
        "arguments": ("$.function.arguments", "$.arguments", "$.args", "$.input"),
    }
    return _named_elements(df, arr, only_type, rels, TOOL_CALL, "tool_calls")


def tool_schemas_from(df: pl.DataFrame, arr: str) -> pl.DataFrame:
    """``_rid`` -> ``tool_schemas`` list[struct{name, schema}] from a JSON array of tool definitions.

    Elements: OpenAI Chat ``{type: function, function: {name, parameters}}``,
    flat ``{name, parameters}`` (Responses), Anthropic ``{name, input_schema}``.
    """
    rels = {
        "name": ("$.function.name", "$.name"),
        "schema": ("$.function.parameters", "$.parameters", "$.input_schema", "$.inputSchema"),
    }
    return _named_elements(df, arr, None, rels, TOOL_SCHEMA, "tool_schemas")


def last_is_tool_result(msgs: pl.Expr) -> pl.Expr:
    """Is the last input message a tool result? (trace-formats.md §0 "prev msg tool result").

    Input: JSON array text of messages; a batch list of lists (LangChain
    ``[[...]]``) uses its first batch. True when the last message is an OpenAI
    ``role: tool`` / ``function`` message, a LangChain ``ToolMessage`` (serialized
    ``kwargs.type == "tool"`` or class id ``ToolMessage``), a Responses
    ``function_call_output`` item, an Anthropic message with a ``tool_result``
    block or a Gemini content with a ``functionResponse`` part. Null when there
    is no message list; otherwise False.
    """
    batch = pl.when(jp(msgs, "$[0][0]").is_not_null()).then(jp(msgs, "$[0]")).otherwise(msgs)
    last = jp(batch, "$[-1:]")
    role = pl.coalesce(jp(last, "$.kwargs.type"), jp(last, "$.role"), jp(last, "$.type"))
    is_tool = (
        role.is_in(["tool", "function", "function_call_output"]).fill_null(False)
        | jp(last, "$.id[-1:]").is_in(["ToolMessage", "ToolMessageChunk", "FunctionMessage"]).fill_null(False)
        | jp(last, "$.content[?(@.type=='tool_result')]").is_not_null()
        | jp(last, "$.parts[?(@.functionResponse)]").is_not_null()
    )
    return pl.when(last.is_not_null()).then(is_tool)


#: Framework / OTel provider spellings -> the provider's own name (schema ``provider``).
#: LangChain ``ls_provider`` values (langchain partner packages' ``_get_ls_params``)
#: and OTel ``gen_ai.provider.name`` / ``gen_ai.system`` values (trace-formats.md §1a).
PROVIDER_NAMES = {
    "google_genai": "gemini",
    "google_vertexai": "gemini",
    "google": "gemini",
    "vertexai": "gemini",
    "gcp.gemini": "gemini",
    "gcp.vertex_ai": "gemini",
    "gcp.gen_ai": "gemini",
    "amazon_bedrock": "bedrock",
    "bedrock_converse": "bedrock",
    "aws.bedrock": "bedrock",
    "mistralai": "mistral",
    "mistral_ai": "mistral",
    "azure_openai": "azure",
    "azure.ai.openai": "azure",
    "x_ai": "xai",
    "ibm.watsonx.ai": "watsonx",
}


def provider_name(expr: pl.Expr) -> pl.Expr:
    """A framework's provider spelling -> the provider's own (see :data:`PROVIDER_NAMES`); others unchanged, lowercased."""
    low = nonempty(expr).str.to_lowercase()
    return low.replace(PROVIDER_NAMES)


def provider_from_model(model: pl.Expr) -> pl.Expr:
    """Last-resort provider from a model id (Langfuse has no provider field, §3c).

    ``gpt-*``, ``o1``..``o9``, ``chatgpt-*`` -> openai; ``claude`` -> anthropic;
    ``gemini`` -> gemini; Mistral family names -> mistral; ``command`` -> cohere;
    otherwise null. A ``vendor/`` or ``vendor.`` prefix is allowed.
    """
    m = model.str.to_lowercase()
    pre = r"(^|[/.:])"
    return (
        pl.when(m.str.contains(pre + r"(gpt-|chatgpt|o[1-9](-|$)|ft:gpt)"))
        .then(pl.lit("openai"))
        .when(m.str.contains(pre + r"claude"))
        .then(pl.lit("anthropic"))
        .when(m.str.contains(pre + r"gemini"))
        .then(pl.lit("gemini"))
        .when(m.str.contains(pre + r"(mistral|mixtral|codestral|ministral|magistral|pixtral)"))
        .then(pl.lit("mistral"))
        .when(m.str.contains(pre + r"command"))
        .then(pl.lit("cohere"))
    )




def flag_bodies(df: pl.DataFrame, body: str, candidate: pl.Expr) -> pl.DataFrame:
    """Add ``_is_body`` (bool, never null): is the JSON text in column ``body`` a
    provider response body ``bodies`` reads (§0, ``bodies.detect_api``)?

    ``candidate``: rows that may be one (the caller rules out the shapes it reads
    itself). API detection costs a JSONPath match per marker, so it runs on the
    candidate rows only and is joined back on ``_rid``.
    """
    sub = df.filter(candidate.fill_null(False) & pl.col(body).str.starts_with("{")).select("_rid", body)
    flagged = sub.select("_rid", bodies.detect_api(body).is_in(list(bodies.SPECS)).fill_null(False).alias("_is_body"))
    return df.join(flagged, on="_rid", how="left").with_columns(pl.col("_is_body").fill_null(False))


def merge_body_columns(df: pl.DataFrame, body: str, req: str | None, path: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Add the canonical columns of the provider bodies held in column ``body``.

    Input: ``df`` with ``_rid`` and ``body`` (str JSON, null = no body; only rows
    whose body ``bodies`` reads should be non-null), ``req`` (str JSON request or
    None), the display ``path``. Output: (``df`` without the rows whose body's part
    arrays did not decode, plus ``b_<column>`` for every column of
    ``bodies.OUTPUT_COLUMNS`` and ``b_api`` — null where there is no body;
    problem rows (unknown_shape) for the rows left out).
    """
    out = bodies.OUTPUT_COLUMNS
    sub = df.filter(pl.col(body).is_not_null()).select(
        "_rid",
        pl.col(body).alias("_body"),
        (pl.col(req) if req else pl.lit(None, dtype=S)).alias("_req"),
    )
    ex = bodies.extract(sub.lazy()).collect() if sub.height else None
    if ex is None or ex.height == 0:
        empty = {"_rid": df.schema["_rid"], "b_api": S}
        empty.update({f"b_{c}": dt for c, dt in out.items()})
        merged, bad = pl.DataFrame(schema=empty), pl.DataFrame(schema={"_rid": df.schema["_rid"], "reason": S})
    else:
        bad = ex.filter(pl.col("_shape_error").is_not_null()).select("_rid", pl.col("_shape_error").alias("reason"))
        good = ex.filter(pl.col("_shape_error").is_null())
        cols = [pl.col(c).cast(dt).alias(f"b_{c}") if c in good.columns else pl.lit(None, dtype=dt).alias(f"b_{c}") for c, dt in out.items()]
        merged = good.select(pl.col("_rid").cast(df.schema["_rid"]), pl.col("_api").alias("b_api"), *cols)
    problems = line_rows(df.join(bad, on="_rid"), path, UNKNOWN_SHAPE, pl.col("reason"))
    return df.join(bad, on="_rid", how="anti").join(merged, on="_rid", how="left"), problems


def skipped_row(path: str, kinds: pl.Series, noun: str) -> pl.DataFrame:
    """One ``not_a_model_call`` problem row counting ``kinds`` (empty when none).

    Input: the kind (type / run_type) of every record that is not a model call.
    ``noun``: singular (``"observation"``, ``"run"``). Reason: ``"<n> <noun>s are
    not LLM calls (SPAN 3, EVENT 1)"``, kinds by count.
    """
    if kinds.len() == 0:
        return pl.DataFrame(schema=PROBLEM_SCHEMA)
    counts = kinds.fill_null("no type").value_counts(sort=True, name="n")
    parts = ", ".join(f"{k} {n}" for k, n in counts.iter_rows())  # one item per kind, not per record
    n = kinds.len()
    reason = f"1 {noun} is not an LLM call ({parts})" if n == 1 else f"{n} {noun}s are not LLM calls ({parts})"
    return pl.DataFrame({"source_file": [path], "source_line": [None], "kind": [SKIPPED], "reason": [reason]}, schema=PROBLEM_SCHEMA)


def kind_problems(df: pl.DataFrame, kind: pl.Expr, model_kind: str, path: str, noun: str, untyped_reason: str) -> list[pl.DataFrame]:
    """Problem rows for the records that are not model calls.

    Input: ``df`` of records, ``kind`` (str expr: the record's type, null when
    missing), the kind that is a model call, the display ``path``, ``noun``
    ("observation", "run") and the reason for a record without a kind. Output:
    [unknown_shape rows for records without a kind, one ``not_a_model_call`` row
    counting the other kinds].
    """
    untyped = df.filter(kind.is_null())
    skipped = df.filter(kind.is_not_null() & (kind != model_kind)).select(kind.alias("k"))["k"]
    return [line_rows(untyped, path, UNKNOWN_SHAPE, pl.lit(untyped_reason)), skipped_row(path, skipped, noun)]


def either_true(own: str, body: str) -> pl.Expr:
    """True when either boolean column is True; else the first non-null of them."""
    a, b = pl.col(own), pl.col(body)
    return pl.when(a.fill_null(False) | b.fill_null(False)).then(pl.lit(True)).otherwise(pl.coalesce(a, b))


def all_problems(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Problem frames stacked (PROBLEM_SCHEMA), empty ones skipped."""
    found = [p.cast(PROBLEM_SCHEMA) for p in frames if p.height]
    return pl.concat(found, how="vertical") if found else pl.DataFrame(schema=PROBLEM_SCHEMA)


def line_rows(df: pl.DataFrame, path: str, kind: str, reason: pl.Expr) -> pl.DataFrame:
    """Problem rows (one per row of ``df``, which has ``source_line``) of ``kind``."""
    return df.select(pl.lit(path).alias("source_file"), "source_line", pl.lit(kind).alias("kind"), reason.alias("reason")).cast(PROBLEM_SCHEMA)
