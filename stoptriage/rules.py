"""Named alert rules: combinations of the provider's stop_reason and derived signals.

Each rule is a boolean ``pl.Expr`` over classified columns, with a remediation hint
(taxonomy.md §4, from the seed articles). ``alerts`` is the list of rule names that
fire on a row. Rate thresholds per route are the ``alerts`` command's job (a later
issue); here every rule is evaluated per row.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Rule:
    """A named per-row rule: ``when`` is a bool expression; ``hint`` says what to do."""

    name: str
    when: pl.Expr
    hint: str
    condition: str


def _sr(*values: str) -> pl.Expr:
    return pl.col("stop_reason").cast(pl.String).is_in(list(values))


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
        ),
        Rule(
            "silent_truncation",
            _sr("stop") & pl.col("truncated"),
            "a clean stop with a cut-looking ending: check for client-side timeouts, stream cut-offs and stop sequences; treat as incomplete",
            "stop_reason stop and a truncated-looking ending",
        ),
        Rule(
            "soft_refusal",
            _sr("stop")
            & pl.col("refusal_hit")
            & pl.coalesce(pl.col("below_p5"), pl.col("output_chars") < SHORT_REFUSAL_CHARS),
            "a model-written refusal under a clean stop: do not retry on the same model; rephrase or route elsewhere",
            "stop_reason stop, short for the route (below_p5; < 400 chars when the route is too small), refusal fingerprint",
        ),
        Rule(
            "hidden_tool_call",
            _sr("stop", "stop_sequence") & (pl.col("tool_call_count") > 0),
            "tool calls under a stop reason: the loop owes a tool result; read tool calls from the content, not the stop reason",
            "stop_reason stop with tool calls present",
        ),
        Rule(
            "malformed_tool_args",
            _sr("tool_call") & pl.col("tool_args_valid").not_().fill_null(False),
            "tool arguments do not parse or do not match the tool schema: retry with a repair prompt or simplify the schema",
            "stop_reason tool_call and arguments invalid",
        ),
        Rule(
            "empty_after_tool_result",
            _sr("stop") & pl.col("after_tool_result").fill_null(False) & pl.coalesce(pl.col("near_empty"), pl.col("empty")),
            "empty reply after a tool result: do not add text after tool_result blocks; send the turn again",
            "stop_reason stop, 0-3 output tokens (or empty when tokens are unknown) after a tool result",
        ),
        Rule(
            "unhandled_pause_turn",
            _sr("pause"),
            "the server paused the turn: resend the assistant content to continue",
            "stop_reason pause (rate per route)",
        ),
        Rule(
            "refusal_flagged",
            _sr("refusal", "content_filter") | pl.col("provider_refusal").is_not_null(),
            "a provider refusal or filter: surface it to the user; do not retry on the same model",
            "provider refusal / content_filter (stop_detail carries the category)",
        ),
    ]


def alerts() -> pl.Expr:
    """``alerts`` (list[str]): names of the rules that fire on the row, in table order."""
    names = [pl.when(r.when.fill_null(False)).then(pl.lit(r.name)) for r in rules()]
    return pl.concat_list(names).list.drop_nulls()


def hints() -> dict[str, str]:
    """Rule name -> remediation hint."""
    return {r.name: r.hint for r in rules()}
