"""Shared JSON-lines machinery: read lines, check them, pull fields out robustly.

Real exports are heterogeneous, so nothing here infers a schema from the file:
each line is kept as text, checked with orjson (the only per-row Python, via
``map_batches``), and fields are pulled out with Polars' JSONPath matcher, which
returns null for a missing path or a value of another shape instead of failing
the whole file. Arrays are decoded with a fixed, minimal dtype through
:func:`robust_decode`, which isolates any row that does not fit.
"""

from __future__ import annotations

import orjson
import polars as pl

from .problems import BLANK, MALFORMED_JSON

RAW = "_raw"


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


def _check_line(line: str | None) -> dict:
    """Parse one line with orjson: error, top-level keys, and for a wrapped record
    the ``response`` / ``request`` objects re-serialized (so later steps parse the
    small body, not the whole line again) with the body's own top-level keys."""
    value, error = parse_object(line)
    if error is not None:
        return {"error": error}
    response, request = value.get("response"), value.get("request")
    body = response if isinstance(response, dict) else value
    return {
        "keys": list(value),
        "response": orjson.dumps(response).decode() if isinstance(response, dict) else None,
        "request": orjson.dumps(request).decode() if isinstance(request, dict) else None,
        "body_keys": list(body),
    }


def _check_batch(s: pl.Series) -> pl.Series:
    return pl.Series([_check_line(x) for x in s.to_list()], dtype=CHECK_DTYPE)


def read_checked_lines(path: str, data: bytes | None = None) -> pl.DataFrame:
    """Read a JSON-lines file into one row per line and check each line.

    Input: a path (or the bytes of stdin with ``data``). Output DataFrame columns:
    ``_raw`` (str, the line), ``source_line`` (i64, 1-based), ``_error`` (str, null
    when the line is a JSON object), ``_keys`` (list[str], its top-level keys),
    ``_wrapped_response`` / ``_wrapped_request`` (str JSON of the line's
    ``response`` / ``request`` objects, null when absent), ``_body_keys`` (list[str],
    top-level keys of the response body: the wrapped one, else the line's).
    A ``\\r`` before the newline is removed. Errors: none (bad lines are flagged).
    """
    source = data if data is not None else path
    lf = pl.scan_lines(source, name=RAW, row_index_name="source_line", row_index_offset=1)
    checked = pl.col(RAW).map_batches(_check_batch, return_dtype=CHECK_DTYPE)
    return (
        lf.with_columns(pl.col("source_line").cast(pl.Int64), pl.col(RAW).str.strip_suffix("\r"))
        .with_columns(checked.alias("_check"))
        .unnest("_check", separator="_")
        .rename({"_check_error": "_error", "_check_keys": "_keys", "_check_response": "_wrapped_response", "_check_request": "_wrapped_request", "_check_body_keys": "_body_keys"})
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
