"""One test (or a pair: fires / stays quiet) per signal of taxonomy.md §2, on realistic text."""

from __future__ import annotations

import polars as pl

from conftest import classify_rows, one, stop

COMPLETE = "To rotate the key, open Settings, choose API keys and click Rotate. The old key stops working after 24 hours."


# 1. trailing completeness --------------------------------------------------------

def test_output_tail_is_last_32_chars_after_trimming():
    row = stop(COMPLETE + "\n\n  ")
    assert row["output_tail"] == COMPLETE[-32:]
    assert len(row["output_tail"]) == 32


def test_ends_terminal_on_sentence_quote_paren_fence_and_emoji():
    for text in [COMPLETE, 'She said "we ship on Friday!"', "(see the docs)", "```python\nprint('hi')\n```", "Enjoy your trip 🎉"]:
        row = stop(text)
        assert row["ends_terminal"], text
        assert not row["truncated"], text


def test_mid_word_on_a_prose_line_is_truncated():
    row = stop("The migration copies every table to the new cluster and then verifies the row counts against the sou")
    assert row["ends_mid_word"] and row["truncated"]
    assert row["derived_stop"] == "truncated"
    assert row["alerts"] == ["silent_truncation"]


def test_bare_number_verdict_and_list_item_endings_are_complete():
    # Real complete answers end like this (taxonomy.md §2 "Real data, seen").
    for text in ["The total is 1,284", "APPROVE", "Steps:\n1. Open the console\n2. Click Deploy", "Answer: 42"]:
        row = stop(text)
        assert row["ends_mid_word"], text
        assert not row["truncated"], text
        assert row["derived_stop"] == "complete", text


def test_continuation_word_ending():
    row = stop("Your refund was approved and the money will arrive in three to five days because")
    assert row["ends_continuation_word"] and row["ending_class"] == "continuation_word"
    assert row["truncated"]


def test_continuation_word_list_is_not_fooled_by_a_closer():
    row = stop("Pick the one you like and.")
    assert not row["ends_continuation_word"]


def test_open_punctuation_ending_is_truncated():
    row = stop("Here are the three options you asked for:")
    assert row["ends_open_punctuation"] and row["truncated"]


def test_unclosed_code_fence():
    row = stop("Use this script:\n\n```bash\nfor f in *.log; do\n  gzip \"$f\"\ndone")
    assert row["unclosed_code_fence"] and row["truncated"]
    assert not stop("Run:\n```\nmake test\n```")["unclosed_code_fence"]


def test_bracket_imbalance_counts_json_brackets():
    row = stop('{"invoice": "INV-2291", "lines": [{"sku": "A-1", "qty": 2}')
    assert row["bracket_imbalance"]
    assert not stop('{"invoice": "INV-2291", "lines": []}')["bracket_imbalance"]


# 2. structured output ------------------------------------------------------------

def test_json_valid_when_json_expected():
    good = stop('{"total": 112.5, "currency": "EUR"}', expects_json=True)
    bad = stop('{"total": 112.5, "currency": "EUR"', expects_json=True)
    assert good["json_valid"] is True and good["json_error"] is None
    assert bad["json_valid"] is False and "line 1" in bad["json_error"]


def test_json_inside_a_fence_is_parsed():
    row = stop('```json\n{"status": "ok", "items": [1, 2, 3]}\n```')
    assert row["json_valid"] is True


def test_json_not_applicable_to_prose_and_placeholders():
    assert stop(COMPLETE)["json_valid"] is None
    assert stop("{ADDRESS} is the capital of {ADDRESS}.")["json_valid"] is None


def test_invalid_json_under_stop_is_invalid_json_class():
    row = stop('{"total": 112.5, "currency": EUR}', expects_json=True)
    assert row["derived_stop"] == "invalid_json"


def test_tool_args_valid_parse_and_schema():
    schema = '{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}'
    ok = one({"provider_stop_reason": "tool_calls", "output_text": "", "tool_calls": [{"name": "get_weather", "arguments": '{"city": "Oslo"}'}], "tool_schemas": [{"name": "get_weather", "schema": schema}]})
    missing = one({"provider_stop_reason": "tool_calls", "output_text": "", "tool_calls": [{"name": "get_weather", "arguments": '{"town": "Oslo"}'}], "tool_schemas": [{"name": "get_weather", "schema": schema}]})
    cut = one({"provider_stop_reason": "tool_calls", "output_text": "", "tool_calls": [{"name": "get_weather", "arguments": '{"city": "Os'}]})
    assert ok["tool_args_valid"] is True and ok["derived_stop"] == "tool_call"
    assert missing["tool_args_valid"] is False and "'city' is a required property" in missing["tool_args_error"]
    assert cut["tool_args_valid"] is False and cut["derived_stop"] == "tool_call_malformed"
    assert cut["alerts"] == ["malformed_tool_args"]
    assert stop(COMPLETE)["tool_args_valid"] is None


# 3. soft refusal ------------------------------------------------------------------

def test_refusal_at_the_opening():
    row = stop("I'm sorry, but I can't help with creating fake reviews.")
    assert row["refusal_hit"] and row["refusal_phrase"] == "i'm sorry, but"
    assert row["refusal_score"] == 1.0
    assert row["derived_stop"] == "refusal"


def test_sorry_to_hear_is_not_a_refusal():
    row = stop("I'm sorry to hear that your order arrived late! Here is how to get a refund: open Orders, choose the order and click Request refund.")
    assert not row["refusal_hit"] and row["refusal_phrase"] is None


def test_curly_apostrophe_matches():
    assert stop("I can’t assist with that request.")["refusal_hit"]


def test_limitation_mentioned_deep_in_a_long_answer_is_not_a_refusal():
    long = ("Kubernetes schedules pods onto nodes based on resource requests. " * 12) + "I can't provide cluster-specific numbers without your metrics, but the defaults above are a good start."
    row = stop(long)
    assert not row["refusal_hit"]


def test_refusal_window_starts_after_leading_whitespace_and_ends_at_the_head():
    # The opening is counted from the first non-space character, however long the
    # indent (a 300-newline preamble still refuses); case does not matter; a phrase
    # past REFUSAL_HEAD characters is not found at all (no phrase, score 0).
    row = stop("\n" * 300 + "I'M SORRY, BUT I CAN'T HELP WITH THAT.")
    assert row["refusal_hit"] and row["refusal_phrase"] == "i'm sorry, but"
    later = stop("Here is the summary you asked for. " * 15 + "I can't verify the last figure.")
    assert later["refusal_score"] == 0.5 and later["refusal_phrase"] == "i can't"
    beyond = stop("Here is the summary you asked for. " * 20 + "I can't verify the last figure.")
    assert beyond["refusal_score"] == 0.0 and beyond["refusal_phrase"] is None


# 4. length vs route ---------------------------------------------------------------

def _route_rows(n: int, short_text: str) -> list[dict]:
    rows = [
        {"provider_stop_reason": "stop", "route": "support", "output_text": COMPLETE, "output_tokens": 180 + (i % 7) * 15}
        for i in range(n)
    ]
    rows.append({"provider_stop_reason": "stop", "route": "support", "output_text": short_text, "output_tokens": 4})
    return rows


def test_length_z_and_below_p5_on_a_route():
    df = classify_rows(_route_rows(40, "Done."))
    last = df.row(-1, named=True)
    assert last["below_p5"] is True and last["length_z"] < -2
    assert last["derived_stop"] == "short_outlier"
    assert df["below_p5"].head(40).sum() <= 2


def test_length_signals_null_for_small_routes():
    df = classify_rows(_route_rows(5, "Done."))
    assert df["length_z"].is_null().all() and df["below_p5"].is_null().all()


def test_soft_refusal_rule_needs_short_and_refusal():
    df = classify_rows(_route_rows(40, "I'm sorry, but I can't help with that."))
    assert df.row(-1, named=True)["alerts"] == ["soft_refusal"]


# 5. ending class over time is a column; 6. token cap ----------------------------------

def test_at_token_cap_marks_truncation_even_with_a_clean_ending():
    row = one({"provider_stop_reason": "length", "output_text": COMPLETE, "output_tokens": 256, "max_tokens": 256})
    assert row["at_token_cap"] is True and row["truncated"]
    assert row["derived_stop"] == "truncated" and not row["disagrees"]
    assert stop(COMPLETE, output_tokens=40, max_tokens=256)["at_token_cap"] is False
    assert stop(COMPLETE)["at_token_cap"] is None


# empty / near-empty / tool calls ------------------------------------------------------

def test_empty_after_tool_result():
    row = one({"provider": "anthropic", "provider_stop_reason": "end_turn", "output_text": "", "output_tokens": 2, "after_tool_result": True})
    assert row["empty"] and row["near_empty"]
    assert row["derived_stop"] == "empty" and row["disagrees"]
    assert row["alerts"] == ["empty_after_tool_result"]


def test_hidden_tool_call_under_stop():
    row = one({"provider_stop_reason": "stop", "output_text": "", "tool_calls": [{"name": "lookup_order", "arguments": '{"id": "A-17"}'}]})
    assert row["stop_reason"] == "stop" and row["tool_calls_present"]
    assert row["derived_stop"] == "tool_call" and row["disagrees"]
    assert row["alerts"] == ["hidden_tool_call"]


def test_phantom_tool_use():
    row = one({"provider": "anthropic", "provider_stop_reason": "tool_use", "output_text": "Let me check the weather."})
    assert row["phantom_tool_use"] and row["disagrees"]


def test_provider_refusal_field_is_derived_refusal_and_flagged():
    row = one({"provider_stop_reason": "stop", "output_text": "", "provider_refusal": "I can't help with that."})
    assert row["derived_stop"] == "empty"  # empty outranks refusal (taxonomy.md §3)
    assert "refusal_flagged" in row["alerts"]
    row = one({"provider_stop_reason": "stop", "output_text": "Here is a safer alternative.", "provider_refusal": "I can't share that."})
    assert row["derived_stop"] == "refusal"


def test_pause_expects_anything_and_alerts():
    row = one({"provider": "anthropic", "provider_stop_reason": "pause_turn", "output_text": "Searching"})
    assert row["expected_derived"] == "any" and not row["disagrees"]
    assert row["alerts"] == ["unhandled_pause_turn"]


def test_truncated_json_rule():
    row = one({"provider_stop_reason": "length", "output_text": '{"items": [{"sku": "A-1"}, {"sku": "B', "expects_json": True, "output_tokens": 64, "max_tokens": 64})
    assert row["json_valid"] is False and row["derived_stop"] == "truncated"
    assert row["alerts"] == ["truncated_json"]


def test_every_signal_column_is_present():
    from stoptriage.taxonomy import SIGNAL_COLUMNS

    df = classify_rows([{"provider_stop_reason": "stop", "output_text": COMPLETE}])
    assert [c for c in SIGNAL_COLUMNS if c not in df.columns] == []
    assert df.schema["derived_stop"] == pl.Enum(list(__import__("stoptriage").schema.DERIVED_STOP))


def test_number_at_the_end_of_a_prose_line_is_complete():
    row = stop("Summary of the call: the team agreed to move the launch and the number of action items is 17")
    assert row["ends_mid_word"] and not row["truncated"]


def test_json_fence_followed_by_prose_parses_the_fence_only():
    row = stop('```json\n{"status": "ok"}\n```\n\nThe status field says the job finished.')
    assert row["json_valid"] is True
    cut = stop('```json\n{"status": "ok", "items": [1, 2')
    assert cut["json_valid"] is False and cut["truncated"]
