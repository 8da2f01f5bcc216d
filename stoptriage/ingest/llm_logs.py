"""The ``llm`` CLI's SQLite log database, logs.db (trace-formats.md §9).

Format ``llm-logs`` reads both layouts, and both at once in a database upgraded
to 0.32 (the upgrade keeps the legacy table read-only; new calls go to the new
tables only; an id present in both is read once, from the new tables):

* ≤0.31: one ``responses`` row per call, with ``tool_calls`` (calls the model
  made), ``tool_results`` (results fed into that call), ``tool_responses`` +
  ``tools`` (tool definitions) and ``conversations``.
* 0.32+: one ``turns`` row per call; its output is the chain of ``messages``
  from ``tip_message_hash`` back to (not including) ``parent_message_hash``, whose
  assistant ``parts`` hold the text (``type`` text) and the tool calls (``type``
  tool_call: ``tool_name`` and ``payload.arguments``); a ``tool_result`` part in
  the parent message means the call followed a tool result; ``turn_tools`` +
  ``tools`` give the tool definitions, ``threads`` the conversation.

The database is read with stdlib sqlite3 (SQL does the joins and walks the
message chain) into Polars with fixed dtypes. ``response_json`` is the plugin's
own record of the provider's answer, parsed with :func:`bodies.extract` when it
is a provider body (OpenAI plugin without streaming: ``chat.completion``;
llm-anthropic: the Message; llm-gemini: the list of streamed chunks, of which
the last, carrying ``finishReason``, is read). The OpenAI plugin's default
streamed record, ``combine_chunks()`` = ``{content, role, finish_reason, usage,
id, object, model}``, is no provider body: its stop value is the top-level
``finish_reason``. Any other or missing ``response_json`` still gives a row
(text, tokens, tool calls are in the database) with a null stop value.

Column sources: ``output_text`` the ``response`` column (legacy) or the output
text parts (0.32) — the full text as the user saw it, prefill included (a
streamed body holds only its last chunk); ``tool_calls`` the tool tables, else
the body's; ``output_tokens`` the ``output_tokens`` column, else the body's;
``max_tokens`` ``options_json`` ``max_tokens`` / ``max_output_tokens`` /
``max_completion_tokens``; ``expects_json`` ``schema_id`` set or
``options_json.json_object``; ``model`` ``resolved_model`` > the body's model
(the response's own, taxonomy.md §1) > llm's ``model`` id; ``provider`` the model id's known prefix (``anthropic/claude-...``) >
the body's API provider > ``openai`` for the combined-chunks record > a guess
from the model name (claude, gemini, gpt/o-series, mistral) > null;
``timestamp`` ``datetime_utc`` (naive, UTC); ``trace_id`` the conversation /
thread id, ``span_id`` the response / turn id; ``route`` null (the logs have
none; §11), with ``conversation_name``, ``conversation_id`` and ``llm_model``
(llm's model id) passed through. ``source_line`` is the row's SQLite ``rowid``
in its table, and ``llm_table`` ("responses" or "turns") says which table.

Not read (problem rows): a turn with an ``error`` (``error_body``); a
``response_json`` that is an HTTP error body or whose parts do not decode.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import polars as pl

from ..errors import InputFileError
from ..schema import TOOL_CALL, TOOL_SCHEMA
from . import bodies
from .embedded import body_problems, record_problems
from .jsonl import jp, to_int
from .problems import ERROR_BODY, PROBLEM_SCHEMA
from .responses import parse_timestamp
from .source import SQLITE, Format, Source

S = pl.String
I64 = pl.Int64

LEGACY_TABLES = frozenset({"responses", "conversations"})
NEW_TABLES = frozenset({"turns", "messages", "parts"})

#: Model id prefixes (``prefix/model``) that name the provider.
KNOWN_PREFIXES = (
    "anthropic", "openai", "gemini", "vertex", "mistral", "openrouter", "groq", "bedrock", "ollama",
    "cohere", "deepseek", "xai", "perplexity", "together", "fireworks", "cerebras", "azure",
)  # fmt: skip

#: Columns of the per-call frame both layouts are read into (name -> dtype).
CALL_COLUMNS: dict[str, pl.DataType] = {
    "source_line": I64,
    "llm_table": S,
    "id": S,
    "llm_model": S,
    "resolved_model": S,
    "options_json": S,
    "response": S,
    "response_json": S,
    "conversation_id": S,
    "conversation_name": S,
    "datetime_utc": S,
    "output_tokens": I64,
    "schema_id": S,
    "error": S,
}


def is_llm_logs(tables: set[str]) -> bool:
    """logs.db: ``responses`` + ``conversations`` (≤0.31) or ``turns`` + ``messages``
    + ``parts`` (0.32+) (trace-formats.md §9)."""
    return LEGACY_TABLES <= tables or NEW_TABLES <= tables


def _connect(src: Source) -> sqlite3.Connection:
    """Read-only connection to the file, or an in-memory copy of stdin's bytes."""
    try:
        if src.data is not None:
            con = sqlite3.connect(":memory:")
            con.deserialize(src.data)
            return con
        return sqlite3.connect(Path(src.path).resolve().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise InputFileError(f"{src.path}: cannot open the SQLite database ({exc})") from None


def _query(con: sqlite3.Connection, sql: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Run ``sql`` (whose columns are CAST to the SQL types matching ``schema``)
    into a DataFrame with exactly that schema (never inferred from the data)."""
    df = pl.read_database(sql, con, schema_overrides=schema)
    return df.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])


def _cast(cols: set[str], table: str, name: str, sql_type: str) -> str:
    """``cast(table.name as sql_type)``, or a typed NULL when the column is absent."""
    src = f'{table}."{name}"' if name in cols else "null"
    return f"cast({src} as {sql_type})"


def _column(cols: set[str], table: str, name: str, sql_type: str, alias: str) -> str:
    """:func:`_cast` ``as alias``."""
    return f'{_cast(cols, table, name, sql_type)} as "{alias}"'


def _table_columns(con: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in con.execute(f'pragma table_info("{table}")')}


_SQL_TYPE = {S: "text", I64: "integer"}


def _calls_sql(table: str, cols: set[str], renames: dict[str, str], joined: dict[str, str], joins: str) -> str:
    """SELECT of :data:`CALL_COLUMNS` from ``table``: a call column is read from the
    column of the same name (or its ``renames`` entry) when ``table`` has it, from
    the SQL expression of ``joined`` (a joined table's column), else NULL."""
    parts = [f"{table}.rowid as source_line", f"'{table}' as llm_table"]
    for name, dtype in CALL_COLUMNS.items():
        if name in ("source_line", "llm_table"):
            continue
        if name in joined:
            parts.append(f'cast({joined[name]} as {_SQL_TYPE[dtype]}) as "{name}"')
        else:
            parts.append(_column(cols, table, renames.get(name, name), _SQL_TYPE[dtype], name))
    return f"select {', '.join(parts)} from {table} {joins}"


def _legacy(con: sqlite3.Connection, tables: set[str]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """≤0.31 tables -> (calls, tool calls, after-tool ids, tool schemas); see :func:`_frames`."""
    cols = _table_columns(con, "responses")
    conv = "conversations" in tables
    sql = _calls_sql(
        "responses",
        cols,
        {"llm_model": "model"},
        {"conversation_name": "conversations.name"} if conv else {},
        "left join conversations on conversations.id = responses.conversation_id" if conv else "",
    )
    calls = _query(con, sql, CALL_COLUMNS)
    calls = calls.with_columns(pl.col("datetime_utc").pipe(_utc))
    tool_calls = _empty_calls()
    if "tool_calls" in tables:
        tool_calls = _query(
            con,
            "select cast(response_id as text) as id, cast(id as integer) as _order, cast(name as text) as name, cast(arguments as text) as arguments from tool_calls",
            {"id": S, "_order": I64, "name": S, "arguments": S},
        )
    after = pl.DataFrame(schema={"id": S})
    if "tool_results" in tables:
        after = _query(con, "select distinct cast(response_id as text) as id from tool_results", {"id": S})
    schemas = _empty_schemas()
    if {"tool_responses", "tools"} <= tables:
        schemas = _query(
            con,
            "select cast(tr.response_id as text) as id, cast(t.id as integer) as _order, cast(t.name as text) as name, cast(t.input_schema as text) as schema "
            "from tool_responses tr join tools t on t.id = tr.tool_id",
            {"id": S, "_order": I64, "name": S, "schema": S},
        )
    return calls.with_columns(pl.lit(None, dtype=S).alias("_parts_text")), tool_calls, after, schemas


def _empty_calls() -> pl.DataFrame:
    return pl.DataFrame(schema={"id": S, "_order": I64, "name": S, "arguments": S})


def _empty_schemas() -> pl.DataFrame:
    return pl.DataFrame(schema={"id": S, "_order": I64, "name": S, "schema": S})


def _utc(expr: pl.Expr) -> pl.Expr:
    """``datetime_utc`` text (naive ISO, UTC) -> datetime[us, UTC]; parsed per table
    so one table's format does not decide another's."""
    return parse_timestamp(expr).alias("_timestamp")


#: Output parts of every turn: walk from the tip message up to (not including)
#: the parent message (llm's own turn_search derivation), keep assistant parts.
_OUTPUT_PARTS_SQL = """
with recursive chain(turn_id, hash, depth) as (
    select t.id, t.tip_message_hash, 0 from turns t
     where t.tip_message_hash is not null
       and (t.parent_message_hash is null or t.tip_message_hash != t.parent_message_hash)
    union all
    select c.turn_id, m.parent_hash, c.depth + 1
      from chain c join messages m on m.hash = c.hash join turns t on t.id = c.turn_id
     where m.parent_hash is not null and c.depth < 100000
       and (t.parent_message_hash is null or m.parent_hash != t.parent_message_hash)
)
select cast(c.turn_id as text) as id, cast(c.depth as integer) as depth, cast(p.position as integer) as position,
       cast(p.type as text) as type, {tool_name} as tool_name, {text} as text, {payload} as payload
  from chain c join messages m on m.hash = c.hash join parts p on p.message_hash = c.hash
 where m.role = 'assistant' and p.type in ('text', 'tool_call')
"""

_PART_SCHEMA = {"id": S, "depth": I64, "position": I64, "type": S, "tool_name": S, "text": S, "payload": S}


def _turns(con: sqlite3.Connection, tables: set[str]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """0.32+ tables -> (calls, tool calls, after-tool ids, tool schemas); see :func:`_frames`."""
    cols = _table_columns(con, "turns")
    threads = "threads" in tables
    sql = _calls_sql(
        "turns",
        cols,
        {"llm_model": "model", "conversation_id": "thread_id"},
        {"conversation_name": "threads.name"} if threads else {},
        "left join threads on threads.id = turns.thread_id" if threads else "",
    )
    calls = _query(con, sql, CALL_COLUMNS).with_columns(pl.col("datetime_utc").pipe(_utc))
    pcols = _table_columns(con, "parts")
    part_sql = _OUTPUT_PARTS_SQL.format(**{name: _cast(pcols, "p", name, "text") for name in ("tool_name", "text", "payload")})
    parts = _query(con, part_sql, _PART_SCHEMA).sort("id", "depth", "position", descending=[False, True, False])
    text = (
        parts.filter(pl.col("type") == "text")
        .group_by("id", maintain_order=True)
        .agg(pl.coalesce(pl.col("text"), jp("payload", "$.text")).str.join("").alias("_parts_text"))
    )
    calls = calls.join(text, on="id", how="left")
    tool_calls = (
        parts.with_row_index("_order")
        .filter(pl.col("type") == "tool_call")
        .select("id", pl.col("_order").cast(I64), pl.coalesce(pl.col("tool_name"), jp("payload", "$.name")).alias("name"), jp("payload", "$.arguments").alias("arguments"))
    )
    after = _query(
        con,
        "select cast(t.id as text) as id from turns t join messages m on m.hash = t.parent_message_hash "
        "where m.role = 'tool' or exists (select 1 from parts p where p.message_hash = t.parent_message_hash and p.type = 'tool_result')",
        {"id": S},
    )
    schemas = _empty_schemas()
    if {"turn_tools", "tools"} <= tables:
        schemas = _query(
            con,
            "select cast(tt.turn_id as text) as id, cast(t.id as integer) as _order, cast(t.name as text) as name, cast(t.input_schema as text) as schema "
            "from turn_tools tt join tools t on t.id = tt.tool_id",
            {"id": S, "_order": I64, "name": S, "schema": S},
        )
    return calls, tool_calls, after, schemas


def _frames(con: sqlite3.Connection) -> pl.DataFrame:
    """One row per call of both layouts (legacy first), with ``_tool_calls``,
    ``_tool_schemas`` (lists, empty when none) and ``_after`` (bool) joined on
    (``llm_table``, ``id``). A legacy row whose id is also a turn is dropped."""
    tables = {r[0] for r in con.execute("select name from sqlite_master where type in ('table', 'view')")}
    readers = [("responses", _legacy)] if "responses" in tables else []
    readers += [("turns", _turns)] if NEW_TABLES <= tables else []
    calls, tool_calls, after, schemas = [], [], [], []
    for table, reader in readers:
        c, t, a, s = reader(con, tables)
        calls.append(c)
        tool_calls.append(t.with_columns(pl.lit(table).alias("llm_table")))
        after.append(a.with_columns(pl.lit(table).alias("llm_table")))
        schemas.append(s.with_columns(pl.lit(table).alias("llm_table")))
    key = ["llm_table", "id"]
    frame = pl.concat(calls, how="diagonal_relaxed")
    if len(readers) == 2:
        turns = frame.filter(pl.col("llm_table") == "turns")
        legacy = frame.filter(pl.col("llm_table") == "responses").join(turns.select("id"), on="id", how="anti", maintain_order="left")
        frame = pl.concat([legacy, turns])
    calls_list = (
        pl.concat(tool_calls).sort(*key, "_order").group_by(key, maintain_order=True).agg(pl.struct("name", "arguments").alias("_tool_calls"))
    )
    schema_list = (
        pl.concat(schemas).sort(*key, "_order").group_by(key, maintain_order=True).agg(pl.struct("name", "schema").alias("_tool_schemas"))
    )
    after_ids = pl.concat(after).unique().with_columns(pl.lit(True).alias("_after"))
    return (
        frame.join(calls_list, on=key, how="left", maintain_order="left")
        .join(schema_list, on=key, how="left", maintain_order="left")
        .join(after_ids, on=key, how="left", maintain_order="left")
        .with_columns(
            pl.col("_tool_calls").fill_null(pl.lit([], dtype=pl.List(TOOL_CALL))).cast(pl.List(TOOL_CALL)),
            pl.col("_tool_schemas").fill_null(pl.lit([], dtype=pl.List(TOOL_SCHEMA))).cast(pl.List(TOOL_SCHEMA)),
            pl.col("_after").fill_null(False),
        )
    )


def _provider(model_id: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(provider named by a known ``prefix/`` of llm's model id, provider guessed from the name)."""
    prefix = model_id.str.extract(r"^([A-Za-z0-9_-]+)/", 1).str.to_lowercase()
    named = pl.when(prefix.is_in(list(KNOWN_PREFIXES))).then(prefix)
    low = model_id.str.to_lowercase()
    guess = (
        pl.when(low.str.contains("claude"))
        .then(pl.lit("anthropic"))
        .when(low.str.contains("gemini|gemma"))
        .then(pl.lit("gemini"))
        .when(low.str.contains(r"^(?:gpt-|o\d|chatgpt)|/(?:gpt-|o\d)"))
        .then(pl.lit("openai"))
        .when(low.str.contains("mistral|mixtral|codestral"))
        .then(pl.lit("mistral"))
    )
    return named, guess


def read(src: Source) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """Read an llm logs.db (either layout, or both).

    Input: a Source (``sqlite`` container; ``src.data`` = the database's bytes
    for stdin). Output: (LazyFrame of canonical columns plus ``provider_api``
    (null when ``response_json`` is not a provider body), ``response_id``,
    ``llm_table``, ``llm_model``, ``conversation_id``, ``conversation_name``;
    problems with problems.PROBLEM_SCHEMA). Rows: legacy rows first, each table
    in rowid order. Raises InputFileError when the file cannot be opened as
    SQLite.
    """
    con = _connect(src)
    try:
        calls = _frames(con)
    finally:
        con.close()
    rj = pl.col("response_json")
    df = calls.rename({"output_tokens": "_db_output_tokens", "response": "_db_response"}).with_row_index("_rid").with_columns(
        # llm-gemini keeps the list of streamed chunks: the last one has finishReason.
        pl.when(rj.str.strip_chars_start().str.starts_with("[")).then(jp(rj, "$[-1:]")).otherwise(rj).alias("_body"),
        pl.lit(None, dtype=S).alias("_req"),
        pl.when(pl.col("error").str.strip_chars() != "")
        .then(pl.concat_str([pl.lit("failed call ("), pl.col("llm_table"), pl.lit(" table): "), pl.col("error").str.slice(0, 300)]))
        .alias("_problem"),
        pl.lit(ERROR_BODY).alias("_problem_kind"),
    )
    problems = [record_problems(df, src.path)]
    good = df.filter(pl.col("_problem").is_null()).drop("_problem", "_problem_kind", "error")
    extracted = bodies.extract(good.lazy()).collect()
    problems.append(body_problems(extracted.filter(pl.col("_api") != bodies.UNKNOWN), src.path))
    rows = extracted.filter(pl.col("_shape_error").is_null() & (pl.col("_api") != bodies.ERROR)).sort("_rid")
    body = pl.col("_body")
    combined = (pl.col("_api") == bodies.UNKNOWN) & ((jp(body, "$.object") == "chat.completion.chunk") | jp(body, "$.finish_reason").is_not_null())
    options = pl.col("options_json")
    cap = pl.coalesce([to_int(jp(options, f"$.{k}")) for k in ("max_tokens", "max_output_tokens", "max_completion_tokens")] + [pl.col("max_tokens")])
    named, guess = _provider(pl.col("llm_model"))
    rows = rows.with_columns(
        pl.when(pl.col("_api") != bodies.UNKNOWN).then(pl.col("_api")).alias("provider_api"),
        pl.when(combined).then(jp(body, "$.finish_reason")).otherwise(pl.col("provider_stop_reason")).alias("provider_stop_reason"),
        pl.coalesce(pl.col("response_id"), pl.when(combined).then(jp(body, "$.id"))).alias("response_id"),
        pl.coalesce("resolved_model", "model", pl.when(combined).then(jp(body, "$.model")), "llm_model").alias("model"),
        pl.coalesce(named, pl.col("provider"), pl.when(combined).then(pl.lit("openai")), guess).alias("provider"),
        pl.coalesce("_db_response", "_parts_text", "output_text", pl.lit("")).alias("output_text"),
        pl.when(pl.col("_tool_calls").list.len() > 0).then("_tool_calls").otherwise("tool_calls").alias("tool_calls"),
        pl.when(pl.col("_tool_schemas").list.len() > 0).then("_tool_schemas").otherwise("tool_schemas").alias("tool_schemas"),
        pl.coalesce("_db_output_tokens", "output_tokens", pl.when(combined).then(to_int(jp(body, "$.usage.completion_tokens")))).alias("output_tokens"),
        pl.when(cap > 0).then(cap).alias("max_tokens"),
        (pl.col("schema_id").is_not_null() | (jp(options, "$.json_object") == "true").fill_null(False)).alias("expects_json"),
        pl.col("_after").alias("after_tool_result"),
        pl.coalesce("_timestamp", "timestamp").alias("timestamp"),
        pl.col("conversation_id").alias("trace_id"),
        pl.col("id").alias("span_id"),
        pl.lit(None, dtype=S).alias("route"),
        pl.lit(None, dtype=S).alias("normalized_by"),
        pl.lit(src.path).alias("source_file"),
    )
    drop = ["_rid", "_api", "_body", "_req", "_shape_error", "id", "resolved_model", "options_json", "response_json", "datetime_utc", "schema_id",
            "_db_output_tokens", "_db_response", "_parts_text", "_tool_calls", "_tool_schemas", "_after", "_timestamp"]  # fmt: skip
    rows = rows.drop([c for c in drop if c in rows.columns])
    return rows.lazy(), pl.concat([p.cast(PROBLEM_SCHEMA) for p in problems], how="vertical")


FORMATS = [
    Format(
        "llm-logs",
        "the llm CLI's logs.db: SQLite with responses + conversations (<=0.31) and/or turns + messages + parts (0.32+)",
        read,
        containers=(SQLITE,),
        sqlite=is_llm_logs,
    ),
]
