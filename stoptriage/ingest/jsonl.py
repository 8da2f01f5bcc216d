"""Shared JSON-lines machinery: read lines, check them, pull fields out robustly.

Real exports are heterogeneous, so nothing here infers a schema from the file:
each line is kept as text, checked with orjson (the only per-row Python, via
``map_batches``), and fields are pulled out with Polars' JSONPath matcher, which
returns null for a missing path or a value of another shape instead of failing
the whole file. Arrays are decoded with a fixed, minimal dtype through
:func:`robust_decode`, which isolates any row that does not fit.

Many fields of one JSON text: :func:`strict_decode` parses each text once with
pyarrow's JSON reader into a fixed dtype built from the paths
(:func:`simple_path`, :func:`path_dtype`, :func:`field_at`), several times faster
than a JSONPath match per field, and leaves null every row whose JSON types are not
exactly the declared ones, for the caller to read with :func:`jp` as before.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager

import orjson
import polars as pl

from .problems import BLANK, MALFORMED_JSON

RAW = "_raw"


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a per-row orjson loop (the line check here,
    signals' JSON and tool-argument checks): parsed values hold no cycles and are freed
    by reference counting, while the containers orjson allocates would otherwise
    trigger collection passes (a third of the line check's time on 100k body lines).
    Restores the collector's previous state."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


CHECK_DTYPE = pl.Struct(
    {
        "error": pl.String,
        "keys": pl.List(pl.String),
        "response": pl.String,
        "request": pl.String,
        "body_keys": pl.List(pl.String),
    }
)


def parse_object(line: str | None) -> tuple[dict | None, str | None]:
    """One line parsed with orjson: (the object, None), or (None, why it is not a
    record: ``blank line``, ``malformed JSON: <orjson's position>``, or ``expected a
    JSON object, got a JSON <type>``). The wording every reader reports."""
    if line is None or not line.strip():
        return None, "blank line"
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return None, f"malformed JSON: {exc}"
    if not isinstance(value, dict):
        return None, f"expected a JSON object, got a JSON {type(value).__name__}"
    return value, None


#: Keys a wrapped record's ``_wrapper`` text leaves out (its request and response bodies).
WRAPPER_BODIES = ("request", "response")


#: Most lines parsed per Python pass of the check: a batch the engine hands the UDF
#: (it is elementwise, so usually a morsel) that is larger is parsed in slices, so the
#: Python strings of at most one slice exist alongside the frame.
CHECK_CHUNK = 50_000


def _check_batch(s: pl.Series, wrapper: bool = False) -> pl.Series:
    """:func:`_check_chunk` over ``s`` in slices of :data:`CHECK_CHUNK` lines, so the
    Python objects of at most one slice are alive at a time."""
    if s.len() <= CHECK_CHUNK:
        return _check_chunk(s, wrapper)
    return pl.concat([_check_chunk(s.slice(i, CHECK_CHUNK), wrapper) for i in range(0, s.len(), CHECK_CHUNK)])


def _check_chunk(s: pl.Series, wrapper: bool = False) -> pl.Series:
    """Parse each line once with orjson (:func:`parse_object`): a struct of ``error``
    (str, null for a JSON object), the top-level ``keys`` (list[str]), for a wrapped
    record the ``response`` / ``request`` objects re-serialized (str JSON, so later
    steps parse the small body, not the whole line again), ``body_keys`` (list[str],
    the wrapped response's top-level keys, else the line's), and with ``wrapper``
    the ``wrapper`` field: the line's object without :data:`WRAPPER_BODIES`, as JSON
    text, for a wrapped record (null otherwise).

    Built column by column (a Series of one dict per row converts far slower), with
    the cyclic garbage collector paused: the parsed lines hold no cycles and are freed
    by reference counting, while the containers they allocate would otherwise trigger
    many collection passes (a third of the check's time on 100k body lines)."""
    # Key lists: each distinct list of keys once (most lines of a file share a few),
    # a row holds its list's number; the lists are built natively by a gather (a list
    # of Python lists per row converts about 20x slower, JSON texts of them ~2x).
    errors: list[str | None] = []
    keys: list[int | None] = []
    responses: list[str | None] = []
    requests: list[str | None] = []
    body_keys: list[int | None] = []
    wrappers: list[str | None] = []
    key_sets: dict[tuple[str, ...], int] = {}
    dumps = orjson.dumps
    with gc_paused():
        for line in s.to_list():
            value, error = parse_object(line)
            if error is not None:
                errors.append(error)
                keys.append(None)
                responses.append(None)
                requests.append(None)
                body_keys.append(None)
                wrappers.append(None)
                continue
            response, request = value.get("response"), value.get("request")
            wrapped = isinstance(response, dict)
            errors.append(None)
            keys.append(key_sets.setdefault(tuple(value), len(key_sets)))
            responses.append(dumps(response).decode() if wrapped else None)
            requests.append(dumps(request).decode() if isinstance(request, dict) else None)
            body_keys.append(key_sets.setdefault(tuple(response), len(key_sets)) if wrapped else keys[-1])
            if wrapper:
                wrappers.append(dumps({k: v for k, v in value.items() if k not in WRAPPER_BODIES}).decode() if wrapped else None)
    key_lists = pl.Series("k", [list(k) for k in key_sets], dtype=pl.List(pl.String))

    def lists(name: str, numbers: list[int | None]) -> pl.Series:
        return key_lists.gather(pl.Series(numbers, dtype=pl.UInt32)).rename(name)

    columns = [
        pl.Series("error", errors, dtype=pl.String),
        lists("keys", keys),
        pl.Series("response", responses, dtype=pl.String),
        pl.Series("request", requests, dtype=pl.String),
        lists("body_keys", body_keys),
    ]
    if wrapper:
        columns.append(pl.Series("wrapper", wrappers, dtype=pl.String))
    return pl.DataFrame(columns).to_struct(s.name)


def read_checked_lines(path: str, data: bytes | None = None, wrapper: bool = False) -> pl.DataFrame:
    """Read a JSON-lines file into one row per line and check each line.

    Input: a path (or the bytes of stdin with ``data``). Output DataFrame columns:
    ``_raw`` (str, the line), ``source_line`` (i64, 1-based), ``_error`` (str, null
    when the line is a JSON object), ``_keys`` (list[str], its top-level keys),
    ``_wrapped_response`` / ``_wrapped_request`` (str JSON of the line's
    ``response`` / ``request`` objects, null when absent), ``_body_keys`` (list[str],
    top-level keys of the response body: the wrapped one, else the line's).
    With ``wrapper=True`` also ``_wrapper`` (str JSON of a wrapped record's object
    without its ``request`` / ``response``, null for a line that is not wrapped): the
    small text to read the wrapper's other keys from without parsing the bodies again.
    A ``\\r`` before the newline is removed. Errors: none (bad lines are flagged).
    """
    source = data if data is not None else path
    lf = pl.scan_lines(source, name=RAW, row_index_name="source_line", row_index_offset=1)
    dtype = pl.Struct({**CHECK_DTYPE.to_schema(), "wrapper": pl.String}) if wrapper else CHECK_DTYPE
    # Per line, so elementwise: the engine hands it batches as they are read.
    checked = pl.col(RAW).map_batches(lambda s: _check_batch(s, wrapper), return_dtype=dtype, is_elementwise=True)
    names = {"_check_error": "_error", "_check_keys": "_keys", "_check_response": "_wrapped_response", "_check_request": "_wrapped_request", "_check_body_keys": "_body_keys"}
    if wrapper:
        names["_check_wrapper"] = "_wrapper"
    return (
        lf.with_columns(pl.col("source_line").cast(pl.Int64), pl.col(RAW).str.strip_suffix("\r"))
        .with_columns(checked.alias("_check"))
        .unnest("_check", separator="_")
        .rename(names)
        .collect()
    )


def line_problems(df: pl.DataFrame, path: str) -> pl.DataFrame:
    """Problem rows (problems.PROBLEM_SCHEMA) for blank and malformed lines of ``df``."""
    return df.filter(pl.col("_error").is_not_null()).select(
        pl.lit(path).alias("source_file"),
        "source_line",
        pl.when(pl.col("_error") == "blank line").then(pl.lit(BLANK)).otherwise(pl.lit(MALFORMED_JSON)).alias("kind"),
        pl.col("_error").alias("reason"),
    )


def all_keys(df: pl.DataFrame) -> list[str]:
    """Union of top-level keys over the valid lines, in first-seen order."""
    return df.get_column("_keys").explode().drop_nulls().unique(maintain_order=True).to_list()


def jp(expr: pl.Expr | str, path: str | pl.Expr) -> pl.Expr:
    """JSONPath match on a JSON-text column: the first match as text, else null.

    Strings come back unquoted, numbers as their decimal text, objects/arrays as
    compact JSON text. Invalid JSON or a missing path gives null (never an error).
    """
    e = pl.col(expr) if isinstance(expr, str) else expr
    return e.str.json_path_match(path)


def key_path(key: str) -> str:
    """JSONPath selecting top-level ``key`` (bracket form, safe for any key)."""
    return "$[" + orjson.dumps(key).decode() + "]"


def _decode_or_bisect(s: pl.Series, dtype: pl.DataType) -> pl.Series:
    try:
        return s.str.json_decode(dtype)
    except Exception:  # noqa: BLE001 - any decode failure isolates the bad rows
        if s.len() == 1:
            return pl.Series(s.name, [None], dtype=dtype)
        mid = s.len() // 2
        return pl.concat([_decode_or_bisect(s[:mid], dtype), _decode_or_bisect(s[mid:], dtype)])


def robust_decode(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Decode JSON text to a fixed ``dtype``; a row that does not fit becomes null.

    The whole batch is decoded natively; only when it fails is the batch split in
    halves until the offending rows are isolated (O(bad rows x log n) decodes), so
    one odd record never fails a file. Scalars of another JSON type are coerced to
    String where the dtype says String.
    """
    return expr.map_batches(lambda s: _decode_or_bisect(s, dtype), return_dtype=dtype)


def to_json_lines(data: bytes, path: str = "<input>", partial: bool = False) -> bytes:
    """A JSON array of records, or JSON values one after another (pretty-printed,
    as the OTel Python ConsoleSpanExporter writes them), as JSON lines.

    Input: the file's bytes; ``partial=True`` for a head cut off by the sniff
    window (the complete records it holds are returned). Output: one compact
    JSON value per line, in file order, so record N is "line" N for every later
    step and in problem reports. Raises InputFormatError naming ``path`` and the
    position when the (whole) text is not JSON.
    """
    from ..errors import InputFormatError

    text = data.decode("utf-8", errors="replace").lstrip("\ufeff").lstrip()
    if text.startswith("[") and not partial:
        try:
            values = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise InputFormatError(f"{path}: a JSON array that does not parse: {exc}") from None
    else:
        values = _concatenated(text, path, partial)
    return b"\n".join(orjson.dumps(v) for v in values) + b"\n"


def _concatenated(text: str, path: str, partial: bool) -> list:
    """JSON values one after another (whitespace between), via json.raw_decode.

    ``partial``: a truncated last value ends the list instead of raising (used
    when only the head of a file is sniffed: the records inside a truncated
    array are recovered from the array's opening).
    """
    import json

    from ..errors import InputFormatError

    dec = json.JSONDecoder()
    out: list = []
    pos, n = 0, len(text)
    if partial and text.startswith("["):
        # Records inside an array cut off by the sniff window.
        pos = 1
        while pos < n:
            while pos < n and text[pos] in " \t\r\n,":
                pos += 1
            if pos >= n or text[pos] == "]":
                break
            try:
                value, pos = dec.raw_decode(text, pos)
            except json.JSONDecodeError:
                break
            out.append(value)
        return out
    while pos < n:
        while pos < n and text[pos] in " \t\r\n":
            pos += 1
        if pos >= n:
            break
        try:
            value, pos = dec.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            if partial:
                break
            raise InputFormatError(f"{path}: not JSON at character {exc.pos} (line {exc.lineno}): {exc.msg}; expected JSON lines, a JSON array or JSON objects one after another") from None
        out.append(value)
    return out


def pick(expr: pl.Expr, fields: dict[str, tuple[str, ...]]) -> pl.Expr:
    """Several fields of each JSON line in one orjson parse (``map_batches``).

    Input: ``expr`` (str, one JSON object per row); ``fields``: output name ->
    key path (``("metadata", "user_api_key_alias")``). Output: a struct of String
    fields: a string value as is, a number / bool as its JSON text, an object or
    array as compact JSON text, null when the path is missing, null or the line
    is not JSON (never an error). The same values as :func:`jsonl.jp` gives, at
    one parse per line instead of one per field.
    """
    dtype = pl.Struct({name: pl.String for name in fields})
    items = list(fields.items())

    def batch(s: pl.Series) -> pl.Series:
        columns: list[list[str | None]] = [[] for _ in items]
        for line in s.to_list():
            try:
                value = orjson.loads(line) if line else None
            except orjson.JSONDecodeError:
                value = None
            for column, (_, path) in zip(columns, items):
                v = value
                for key in path:
                    v = v.get(key) if isinstance(v, dict) else None
                column.append(v if v is None or isinstance(v, str) else orjson.dumps(v).decode())
        frame = pl.DataFrame({name: col for (name, _), col in zip(items, columns)}, schema={name: pl.String for name, _ in items})
        return frame.to_struct(s.name)

    return expr.map_batches(batch, return_dtype=dtype)


def to_int(expr: pl.Expr) -> pl.Expr:
    """A number, or its JSON / text form (``"256"``, ``256``, ``"197.0"``) -> Int64;
    anything else (``Infinity``, words, surrounding spaces) -> null. Never an error."""
    return expr.cast(pl.Float64, strict=False).cast(pl.Int64, strict=False)


# ---- one parse for many fields: pyarrow's JSON reader with a fixed schema --------------

#: A JSONPath :func:`simple_path` translates: ``$`` then ``.key``, ``[N]`` and ``[-1:]`` steps only.
_SIMPLE_PATH = re.compile(r"\$((\.[A-Za-z_][A-Za-z0-9_]*)|(\[[0-9]+\])|(\[-1:\]))*")
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[([0-9]+|-1:)\]")

#: Rows per piece when a batch does not fit as a whole: the pieces that fail are
#: split once more into rows of :data:`STRICT_ROWS_FINE`; rows of a piece that still
#: fails are left null (their caller reads them the slow, lenient way).
STRICT_ROWS_COARSE = 4096
STRICT_ROWS_FINE = 64


def simple_path(path: str) -> tuple[str | int, ...] | None:
    """The steps of a JSONPath made only of ``.key``, ``[N]`` and ``[-1:]`` (the last
    element, step -1: ``"$.messages[-1:].role"`` -> ``("messages", -1, "role")``;
    ``"$.choices[0].text"`` -> ``("choices", 0, "text")``); None for any other path
    (filters, other slices, quoted keys), which only :func:`jp` reads. jp gives the
    first match, so ``[-1:].role`` is the last element's role, null when the array is
    empty or that element has none, as :func:`field_at` gives."""
    if not _SIMPLE_PATH.fullmatch(path):
        return None
    return tuple(key if key else (-1 if index == "-1:" else int(index)) for key, index in _STEP.findall(path))


def path_dtype(paths: dict[tuple[str | int, ...], pl.DataType]) -> pl.Struct:
    """The nested Struct / List dtype holding each path (steps of :func:`simple_path`)
    with its leaf dtype: ``{("choices", 0, "text"): String}`` ->
    ``Struct{choices: List(Struct{text: String})}``. Raises ValueError when two paths
    disagree on a node (one ends where another goes on, or one indexes a key)."""

    def build(entries: list[tuple[tuple[str | int, ...], pl.DataType]]) -> pl.DataType:
        leaves = [dtype for steps, dtype in entries if not steps]
        inner = [(steps, dtype) for steps, dtype in entries if steps]
        if leaves:
            if inner or any(d != leaves[0] for d in leaves):
                raise ValueError(f"paths disagree on a node: {entries}")
            return leaves[0]
        if all(isinstance(steps[0], int) for steps, _ in inner):
            return pl.List(build([(steps[1:], dtype) for steps, dtype in inner]))
        if any(isinstance(steps[0], int) for steps, _ in inner):
            raise ValueError(f"paths disagree on a node: {entries}")
        keys = list(dict.fromkeys(steps[0] for steps, _ in inner))
        return pl.Struct({k: build([(steps[1:], dtype) for steps, dtype in inner if steps[0] == k]) for k in keys})

    dtype = build(list(paths.items()))
    if not isinstance(dtype, pl.Struct):
        raise ValueError("paths must start with a key")
    return dtype


def field_at(expr: pl.Expr, steps: tuple[str | int, ...]) -> pl.Expr:
    """The value at ``steps`` (of :func:`simple_path`) in a column decoded with
    :func:`path_dtype`: null when any step is missing or an index is past the end,
    as :func:`jp` gives for a missing path."""
    for step in steps:
        expr = expr.list.get(step, null_on_oob=True) if isinstance(step, int) else expr.struct.field(step)
    return expr


def _arrow_type(dtype: pl.DataType):
    """pyarrow type of a Polars dtype for the JSON reader (which converts to
    ``string`` and ``list``, not their ``large_`` forms)."""
    import pyarrow as pa

    if isinstance(dtype, pl.Struct):
        return pa.struct([(f.name, _arrow_type(f.dtype)) for f in dtype.fields])
    if isinstance(dtype, pl.List):
        return pa.list_(_arrow_type(dtype.inner))
    simple = {pl.String: pa.string(), pl.Float64: pa.float64(), pl.Boolean: pa.bool_(), pl.Int64: pa.int64()}
    return simple[dtype.base_type()]


def _strict_piece(s: pl.Series, dtype: pl.Struct, options) -> pl.Series | None:
    """``s`` decoded by pyarrow, or None when any row does not fit the schema exactly."""
    import pyarrow as pa
    import pyarrow.json as pj

    lines = s.to_frame("t").select(pl.concat_str(pl.col("t"), pl.lit("\n"))).to_series().rechunk().to_arrow()
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    # The texts' bytes, one after another, each ending in "\n": the data buffer of
    # the (large) string array between its first and last offset, without a copy.
    _, offsets, data = lines.buffers()
    bounds = pa.Array.from_buffers(pa.int64(), len(lines) + 1, [None, offsets], offset=lines.offset)
    start, end = bounds[0].as_py(), bounds[-1].as_py()
    data = data.slice(start, end - start)
    try:
        table = pj.read_json(pa.BufferReader(data), parse_options=options)
    except pa.ArrowException:  # any refusal: the rows go the lenient way
        return None
    if table.num_rows != s.len():
        return None
    return pl.from_arrow(table).to_struct(s.name).cast(dtype)


def _strict_batch(s: pl.Series, dtype: pl.Struct) -> pl.Series:
    """One batch of :func:`strict_decode`: the whole batch in one read, else its pieces."""
    import pyarrow as pa
    import pyarrow.json as pj

    if s.len() == 0:
        return pl.Series(s.name, [], dtype=dtype)
    schema = pa.schema([(f.name, _arrow_type(f.dtype)) for f in dtype.fields])
    options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    # One JSON object per line for the reader: a text with a line break in it (a
    # pretty-printed body) or a blank one is not given to it, and stays null.
    usable = s.is_not_null() & ~s.str.contains_any(["\n", "\r"]) & s.str.contains(r"\S")
    all_usable = usable.all()
    texts = s if all_usable else pl.select(pl.when(usable).then(pl.lit(s)).otherwise(pl.lit("{}"))).to_series().rename(s.name)
    whole = _strict_piece(texts, dtype, options)
    if whole is None:
        pieces = []
        for i in range(0, texts.len(), STRICT_ROWS_COARSE):
            coarse = texts.slice(i, STRICT_ROWS_COARSE)
            got = _strict_piece(coarse, dtype, options)
            if got is None:
                fine = [texts.slice(j, STRICT_ROWS_FINE) for j in range(i, i + coarse.len(), STRICT_ROWS_FINE)]
                decoded = [(f, _strict_piece(f, dtype, options)) for f in fine]
                got = pl.concat([d if d is not None else pl.Series(s.name, [None] * f.len(), dtype=dtype) for f, d in decoded])
            pieces.append(got)
        whole = pl.concat(pieces) if pieces else pl.Series(s.name, [], dtype=dtype)
    if all_usable:
        return whole
    return pl.select(pl.when(pl.lit(usable)).then(pl.lit(whole))).to_series().rename(s.name)


def strict_decode(expr: pl.Expr, dtype: pl.Struct) -> pl.Expr:
    """Decode JSON object texts to ``dtype`` with pyarrow's JSON reader (one native,
    multi-threaded parse per batch, several times faster than many :func:`jp` or a
    Polars ``json_decode``), or null for a row that does not fit it EXACTLY.

    Input: ``expr`` (str, one JSON object per row). ``dtype``: a Struct of String,
    Float64, Int64, Boolean, List and Struct fields (e.g. from :func:`path_dtype`);
    keys the dtype does not name are ignored. Output: struct of ``dtype``; null for
    a null, blank or multi-line text and for a row whose values are not exactly of
    the declared JSON types (a number where a string is declared, a string where an
    object is, a duplicate key...): pyarrow rejects those where :func:`jp` and
    :func:`robust_decode` coerce, so a caller reads the null rows the lenient way
    and gets the same values as before. A batch that does not fit as a whole is
    retried in pieces (:data:`STRICT_ROWS_COARSE`, then :data:`STRICT_ROWS_FINE`
    rows), so one odd row leaves at most its fine piece to the slow way. Where a
    row fits, a value equals what :func:`jp` gives for its path (a string as is; a
    number as the same f64 that :func:`to_int`'s cast of jp's text gives). One
    difference on text that is not JSON: pyarrow reads ``NaN`` / ``Infinity`` as a
    number, where jp gives null for every path of that text; the body readers give
    it bodies the line check re-serialized with orjson, bodies their detection read
    with jp, or bodies built from stream events. Errors: none.
    """
    return expr.map_batches(lambda s: _strict_batch(s, dtype), return_dtype=dtype, is_elementwise=True)
