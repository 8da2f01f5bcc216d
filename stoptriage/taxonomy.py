"""derived_stop, the expected class per normalized stop reason, and disagreement.

:func:`classify_frame` is the whole per-row pipeline on a canonical LazyFrame:
normalize -> signals -> verdicts -> derived_stop -> expected_derived -> disagrees
-> alerts. Source: taxonomy.md §3 (precedence, expectations) and §4 (rules).
"""

from __future__ import annotations

import polars as pl

from . import normalize, rules, signals
from .schema import DERIVED_STOP_ENUM

#: Expected derived class(es) per normalized stop_reason (taxonomy.md §3). "any" =
#: every class is fine (pause: a continuation is owed). Stop reasons not listed
#: (error, aborted, other, unknown) have no expectation: expected_derived is null
#: and disagrees is false. malformed_output expects the derived twins of a
#: malformed output (our extension; taxonomy.md names no class for it).
EXPECTED: dict[str, str] = {
    "stop": "complete",
    "stop_sequence": "complete",
    "length": "truncated",
    "context_window": "truncated",
    "tool_call": "tool_call",
    "refusal": "refusal|empty",
    "content_filter": "refusal|empty",
    "pause": "any",
    "malformed_output": "tool_call_malformed|invalid_json",
}

#: Output columns added by classification, in order (taxonomy.md §5).
SIGNAL_COLUMNS = [
    "stop_reason",
    "output_chars",
    "tool_call_count",
    "output_tail",
    "ends_terminal",
    "ends_mid_word",
    "ends_continuation_word",
    "ends_open_punctuation",
    "ending_class",
    "unclosed_code_fence",
    "bracket_imbalance",
    "json_valid",
    "json_error",
    "tool_args_valid",
    "tool_args_error",
    "refusal_phrase",
    "refusal_score",
    "length_z",
    "below_p5",
    "at_token_cap",
    "empty",
    "near_empty",
    "tool_calls_present",
    "phantom_tool_use",
    "truncation_cue",
    "truncated",
    "refusal_hit",
    "derived_stop",
    "expected_derived",
    "disagrees",
    "alerts",
]


def derived_stop() -> pl.Expr:
    """``derived_stop`` (Enum schema.DERIVED_STOP): first match of
    empty > tool_call_malformed > tool_call > truncated > invalid_json > refusal >
    short_outlier > complete. ``refusal`` includes a provider-declared refusal
    (provider_refusal). ``short_outlier`` = below_p5 and length_z <= -2."""
    c = pl.col

    def lit(name: str) -> pl.Expr:
        # Enum-typed labels: the column is built from codes, not text cast after.
        return pl.lit(name, dtype=DERIVED_STOP_ENUM)

    label = (
        pl.when(c("empty")).then(lit("empty"))
        .when(c("tool_calls_present") & c("tool_args_valid").not_().fill_null(False)).then(lit("tool_call_malformed"))
        .when(c("tool_calls_present")).then(lit("tool_call"))
        .when(c("truncated")).then(lit("truncated"))
        .when(c("json_valid").not_().fill_null(False)).then(lit("invalid_json"))
        .when(c("refusal_hit") | c("provider_refusal").is_not_null()).then(lit("refusal"))
        .when(c("below_p5").fill_null(False) & (c("length_z") <= signals.SHORT_OUTLIER_Z).fill_null(False)).then(lit("short_outlier"))
        .otherwise(lit("complete"))
    )
    return label


#: ``expected_derived`` values, an Enum in alphabetical order (so it sorts as its text would).
EXPECTED_DERIVED = pl.Enum(sorted(set(EXPECTED.values())))


def expected_derived() -> pl.Expr:
    """``expected_derived`` (Enum :data:`EXPECTED_DERIVED`, null when the stop reason
    sets no expectation): alternatives joined by ``|``, or ``any``."""
    # Compared as the Enum (or String) it is: a cast to String per row costs more
    # than the comparisons (issue 6).
    sr = pl.col("stop_reason")
    expr = pl.lit(None, dtype=EXPECTED_DERIVED)
    for reason, expected in reversed(EXPECTED.items()):
        expr = pl.when(sr == reason).then(pl.lit(expected, dtype=EXPECTED_DERIVED)).otherwise(expr)
    return expr


def disagrees() -> pl.Expr:
    """``disagrees`` (bool): derived_stop is not among expected_derived's classes.
    False when there is no expectation or it is ``any``."""
    # One is_in per stop reason, built from EXPECTED, instead of splitting
    # expected_derived on every row (the same answer, without a list per row).
    sr, derived = pl.col("stop_reason"), pl.col("derived_stop")
    expr = pl.lit(False)
    for reason, expected in reversed(EXPECTED.items()):
        if expected != "any":
            expr = pl.when(sr == reason).then(~derived.is_in(expected.split("|"))).otherwise(expr)
    return expr


def classify_frame(
    lf: pl.LazyFrame,
    phrases: tuple[str, ...] | None = None,
    continuation: tuple[str, ...] | None = None,
) -> pl.LazyFrame:
    """Add every signal, verdict and label to a canonical LazyFrame.

    Input: schema.CANONICAL columns (plus any pass-through columns). ``phrases`` /
    ``continuation``: the refusal and continuation lists (default: the shipped ones).
    Output: the input columns plus :data:`SIGNAL_COLUMNS` and the helper-free
    evidence; row order kept. Each map_batches UDF runs in its own with_columns
    (performance-notes.md item 3).
    """
    phrases = phrases if phrases is not None else signals.load_list("refusal_phrases.txt")
    continuation = continuation if continuation is not None else signals.load_list("continuation_words.txt")
    lf = normalize.add_stop_reason(lf)
    lf = lf.with_columns(
        pl.col("output_text").str.len_chars().alias("output_chars"),
        pl.col("tool_calls").list.len().fill_null(0).alias("tool_call_count"),
        signals.trimmed_tail().alias("_tail"),
        signals.json_text().alias("_json_text"),
        signals.refusal_head(phrases).alias("_refusal_head"),
    )
    lf = lf.with_columns(signals.refusal_match(phrases, pl.col("_refusal_head")).alias("_refusal"))
    lf = lf.with_columns(
        signals.json_candidate().alias("_json_candidate"),
        signals.output_tail().alias("output_tail"),
        signals.ends_terminal().alias("ends_terminal"),
        signals.ends_mid_word().alias("ends_mid_word"),
        signals.ends_continuation_word(continuation).alias("ends_continuation_word"),
        signals.ends_open_punctuation().alias("ends_open_punctuation"),
        signals.last_line().alias("_last_line"),
        signals.unclosed_code_fence().alias("unclosed_code_fence"),
        signals.bracket_imbalance().alias("bracket_imbalance"),
        pl.col("_refusal").struct.field("phrase").alias("refusal_phrase"),
        pl.col("_refusal").struct.field("pos").alias("_refusal_pos"),
        pl.col("_refusal").struct.field("answered").alias("_refusal_answered"),
        signals.at_token_cap().alias("at_token_cap"),
        signals.is_empty().alias("empty"),
        signals.near_empty().alias("near_empty"),
        (pl.col("tool_call_count") > 0).alias("tool_calls_present"),
        signals.phantom_tool_use().alias("phantom_tool_use"),
    )
    lf = lf.with_columns(**signals.cue_inputs())
    lf = lf.with_columns(
        signals.ending_class().alias("ending_class"),
        signals.refusal_score().alias("refusal_score"),
        signals.open_markup().alias("_open_markup"),
        signals.dangling_structure().alias("_dangling_structure"),
        signals.cut_list_item().alias("_cut_list_item"),
        signals.cut_mid_sentence().alias("_cut_mid_sentence"),
    )
    lf = signals.add_length_signals(lf)
    lf = lf.with_columns(signals.json_check().alias("_json"))
    lf = lf.with_columns(signals.tool_args_check().alias("_tool_args"))
    lf = lf.with_columns(
        pl.col("_json").struct.field("valid").alias("json_valid"),
        pl.col("_json").struct.field("error").alias("json_error"),
        pl.col("_tool_args").struct.field("valid").alias("tool_args_valid"),
        pl.col("_tool_args").struct.field("error").alias("tool_args_error"),
        signals.refusal_hit().alias("refusal_hit"),
    )
    lf = lf.with_columns(signals.truncation_cue().alias("truncation_cue"))
    lf = lf.with_columns(signals.truncated().alias("truncated"))
    lf = lf.with_columns(derived_stop().alias("derived_stop"), expected_derived().alias("expected_derived"))
    lf = lf.with_columns(disagrees().alias("disagrees"), rules.alerts().alias("alerts"))
    return lf.drop("_tail", "_json_text", "_json_candidate", "_refusal_head", "_refusal", "_refusal_pos", "_refusal_answered", "_last_line", "_open_markup", "_dangling_structure", "_cut_list_item", "_cut_mid_sentence", *signals.cue_inputs(), "_json", "_tool_args")
