"""Named alert rules: combinations of the provider's stop_reason and derived signals.

Each rule is a boolean ``pl.Expr`` over classified columns, with a remediation hint
(taxonomy.md §4, from the seed articles) and the rows it can fire on (``eligible``,
the denominator of its rate). ``alerts`` is the list of rule names that fire on a
row; thresholds per route are reports/alerts.py's job. :data:`HINTS` gives the
remediation per derived class and per normalized stop reason, for reports that
name a class rather than a rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Rule:
    """A named per-row rule: ``when`` is a bool expression; ``hint`` says what to do;
    ``eligible`` (bool expression) marks the rows the rule could fire on, described
    by ``eligible_rows`` (the denominator of its rate per group); ``label`` names
    what it catches in a few words for sentences ("3x more length-and-invalid-JSON")."""

    name: str
    when: pl.Expr
    hint: str
    condition: str
    eligible: pl.Expr
    eligible_rows: str
    label: str


def _sr(*values: str) -> pl.Expr:
    # is_in on the Enum itself (or on text, for a frame read back from CSV): casting
    # the Enum to String first cost 50x more (issue 6).
    return pl.col("stop_reason").is_in(list(values))


def _every_row() -> pl.Expr:
    # A column expression, so that it sums to the group size in a group-by (pl.lit(True) sums to 1).
    return pl.col("stop_reason").is_null() | pl.col("stop_reason").is_not_null()


#: A refusal counts as "short" for soft_refusal when the route has no length
#: distribution and the answer is under this many characters.
SHORT_REFUSAL_CHARS = 400


def rules() -> list[Rule]:
    """The rules of taxonomy.md §4, in table order."""
    json_bad = pl.col("json_valid").not_().fill_null(False)
    return [
        Rule(
            "truncated_json",
            _sr("length", "context_window") & json_bad,
            "the JSON was cut by the token cap: continue the response or raise max_tokens (a blind retry hits the same cap)",
            "stop_reason length/context_window and JSON expected or present and invalid",
            pl.col("json_valid").is_not_null(),
            "rows where JSON is expected or present",
            "length-and-invalid-JSON",
        ),
        Rule(
            "silent_truncation",
            _sr("stop") & pl.col("truncated"),
            "a clean stop with a cut-looking ending: check for client-side timeouts, stream cut-offs and stop sequences; treat as incomplete",
            "stop_reason stop and a truncated-looking ending",
            _sr("stop"),
            "rows with stop_reason stop",
            "cut-looking text under a clean stop",
        ),
        Rule(
            "soft_refusal",
            _sr("stop")
            & pl.col("refusal_hit")
            & pl.coalesce(pl.col("below_p5"), pl.col("output_chars") < SHORT_REFUSAL_CHARS),
            "a model-written refusal under a clean stop: do not retry on the same model; rephrase or route elsewhere",
            "stop_reason stop, short for the route (below_p5; < 400 chars when the route is too small), refusal fingerprint",
            _sr("stop"),
            "rows with stop_reason stop",
            "short refusals under a clean stop",
        ),
        Rule(
            "hidden_tool_call",
            _sr("stop", "stop_sequence") & (pl.col("tool_call_count") > 0),
            "tool calls under a stop reason: the loop owes a tool result; read tool calls from the content, not the stop reason",
            "stop_reason stop with tool calls present",
            _sr("stop", "stop_sequence"),
            "rows with stop_reason stop or stop_sequence",
            "tool calls under a stop reason",
        ),
        Rule(
            "malformed_tool_args",
            _sr("tool_call") & pl.col("tool_args_valid").not_().fill_null(False),
            "tool arguments do not parse or do not match the tool schema: retry with a repair prompt or simplify the schema",
            "stop_reason tool_call and arguments invalid",
            _sr("tool_call"),
            "rows with stop_reason tool_call",
            "unparseable tool arguments",
        ),
        Rule(
            "empty_after_tool_result",
            _sr("stop") & pl.col("after_tool_result").fill_null(False) & pl.coalesce(pl.col("near_empty"), pl.col("empty")),
            "empty reply after a tool result: do not add text after tool_result blocks; send the turn again",
            "stop_reason stop, 0-3 output tokens (or empty when tokens are unknown) after a tool result",
            pl.col("after_tool_result").fill_null(False),
            "rows answering a tool result",
            "empty replies after a tool result",
        ),
        Rule(
            "unhandled_pause_turn",
            _sr("pause"),
            "the server paused the turn: resend the assistant content to continue",
            "stop_reason pause (rate per route)",
            _every_row(),
            "all rows",
            "unhandled pause_turn",
        ),
        Rule(
            "refusal_flagged",
            _sr("refusal", "content_filter") | pl.col("provider_refusal").is_not_null(),
            "a provider refusal or filter: surface it to the user; do not retry on the same model",
            "provider refusal / content_filter (stop_detail carries the category)",
            _every_row(),
            "all rows",
            "provider refusals and filters",
        ),
    ]


def alerts() -> pl.Expr:
    """``alerts`` (list[str]): names of the rules that fire on the row, in table order
    (an empty list when none fires).

    Each rule sets one bit of a small integer; the list is looked up by that integer
    in a literal table of every subset of rule names (2^8 lists). The same answer as
    ``concat_list([when(rule).then(name), ...]).list.drop_nulls()``, which built and
    filtered a list on every row: 2 s against 0.014 s for 1M rows (issue 6 profile).
    """
    all_rules = rules()
    names = [r.name for r in all_rules]
    table = pl.Series("alerts", [[n for j, n in enumerate(names) if m >> j & 1] for m in range(1 << len(names))], dtype=pl.List(pl.String))
    mask = pl.sum_horizontal([r.when.fill_null(False).cast(pl.UInt32) * (1 << j) for j, r in enumerate(all_rules)])
    return pl.lit(table).gather(mask)


#: Remediation per derived class, per normalized stop reason and for the disagreement
#: rate, for reports that name a class rather than a rule (taxonomy.md §4:
#: max_tokens -> continue or raise the cap; context window -> shrink the input;
#: refusal -> do not retry on the same model; tool_use -> the loop owes a tool
#: result; content_filter -> surface to the user; pause_turn -> resend to continue).
HINTS: dict[str, dict[str, str]] = {
    "derived": {
        "empty": "an empty reply: after a tool result, do not add text after tool_result blocks; otherwise send the turn again",
        "tool_call_malformed": "tool arguments do not parse or match the schema: retry with a repair prompt or simplify the schema",
        "tool_call": "the model asked for a tool: the loop owes a tool result",
        "truncated": "the text looks cut: continue the response or raise max_tokens; under a clean stop check timeouts and stop sequences",
        "invalid_json": "the JSON does not parse: use structured outputs or a repair step; if it was cut, continue or raise max_tokens",
        "refusal": "a refusal: do not retry on the same model; rephrase or route elsewhere",
        "short_outlier": "far shorter than the route usually answers: read a few (stoptriage examples) before trusting them",
        "complete": "",
    },
    "stop_reason": {
        "length": "the token cap was hit: continue the response or raise max_tokens (a blind retry hits the same cap)",
        "context_window": "the context window is full: shrink the input or use a longer-context model",
        "tool_call": "the loop owes a tool result",
        "pause": "the server paused the turn: resend the assistant content to continue",
        "refusal": "a provider refusal: do not retry on the same model; route elsewhere",
        "content_filter": "a content filter fired: surface it to the user; do not retry on the same model",
        "malformed_output": "the provider could not parse the model's output: retry with a repair prompt or simplify the schema",
        "error": "the provider reported an error: check the provider's status and retry with backoff",
    },
    "disagree": {
        "disagrees": "read the disagreeing rows (stoptriage examples --disagree) and the pairs behind them (stoptriage diff)",
    },
}


def hints() -> dict[str, str]:
    """Rule name -> remediation hint."""
    return {r.name: r.hint for r in rules()}
