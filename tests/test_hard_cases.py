"""Hard cases found while measuring refusal_hit and truncated on real data (issue 4).

Each text is a short, real-shaped example written for the project (not copied from the
labelled sets). benchmarks/accuracy.py measures the detectors at scale; these pin the
behaviour each rule exists for, in both directions.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import one, stop
from stoptriage import signals


# ---------------------------------------------------------------- soft refusals

@pytest.mark.parametrize(
    "text, phrase",
    [
        ("Sorry, but I can't assist with that.", "sorry, but"),
        ("I cannot provide instructions for disabling a smoke detector in a rental flat.", "i cannot"),
        ("I'm not able to help with tracking someone's location without their consent.", "i'm not able to"),
        ("It is not appropriate to speculate about a private person's health. Everyone deserves privacy.", "it is not appropriate"),
        ("I am an AI language model and do not condone harming animals. If your neighbour's dog worries you, talk to them first.", "i am an ai language model and"),
        ("I apologize, but I won't write a message meant to frighten your coworker.", "i apologize, but"),
    ],
)
def test_sentence_initial_refusals_are_caught(text, phrase):
    row = stop(text)
    assert row["refusal_hit"], text
    assert row["refusal_phrase"] == phrase
    assert row["derived_stop"] == "refusal"


@pytest.mark.parametrize(
    "text",
    [
        "I'm sorry to hear that your flight was cancelled. You can rebook for free: open My Trips, pick the flight and choose Change.",
        "I'm so sorry to hear about your cat. Losing a pet is hard; many vets offer grief resources, and talking to friends helps.",
        "I can't stress enough how important backups are. Here's a simple plan: copy to an external drive weekly and to the cloud daily.",
        "I can't help but notice the loop never ends. Move the increment inside the while block and it will terminate.",
        "I cannot guarantee the exchange rate tomorrow, but today 1 EUR buys about 1.08 USD at the mid-market rate.",
    ],
)
def test_empathy_and_idioms_are_not_refusals(text):
    row = stop(text)
    assert not row["refusal_hit"], text
    assert row["refusal_phrase"] is None


def test_decline_followed_by_an_answer_is_not_a_refusal():
    text = ("I can't give legal advice, but here's how small-claims court usually works: you file a claim, "
            "pay a fee of about $50 and get a hearing date within two months.")
    row = stop(text)
    assert not row["refusal_hit"] and row["refusal_score"] == 0.0
    # Same decline without the answer: a refusal.
    assert stop("I can't give legal advice. Please consult a lawyer in your area.")["refusal_hit"]


def test_premise_correction_is_not_a_refusal():
    text = ("I apologize, but the question doesn't make sense: a refrigerator has no passport, so it cannot "
            "be denied a visa. Visas are issued to people.")
    assert not stop(text)["refusal_hit"]


def test_quoted_refusal_inside_a_story_is_not_a_refusal():
    story = (
        "The rain had not stopped for three days when Mara finally reached the lighthouse. The keeper, an old man "
        "with salt in his beard, listened to her plan to sail north before the storm broke. He shook his head slowly "
        "and poured two cups of tea. \"I'm sorry, but I can't let you take the boat,\" he said at last. \"The sea "
        "has taken enough from this village.\" Mara looked at the dark water and understood that he was right."
    )
    row = stop(story)
    assert not row["refusal_hit"]
    # The same line at the opening is a refusal: position is the evidence.
    assert stop("I'm sorry, but I can't let you take the boat.")["refusal_hit"]


def test_phrase_groups_expand():
    assert signals.expand("i {can't|won't} {help|go}") == ["i can't help", "i can't go", "i won't help", "i won't go"]
    assert signals.expand("!sorry to hear") == ["!sorry to hear"]


def test_user_phrase_file_extends_the_list(tmp_path):
    extra = tmp_path / "mine.txt"
    extra.write_text("# our assistant's house style\nthat request is outside what i {can|may} do\n", encoding="utf-8")
    phrases = signals.load_list("refusal_phrases.txt", [extra])
    assert "that request is outside what i may do" in phrases
    row = one({"provider_stop_reason": "stop", "output_text": "That request is outside what I may do."}, phrases)
    assert row["refusal_hit"] and row["refusal_phrase"] == "that request is outside what i may do"


# ---------------------------------------------------------------- truncation: complete answers

@pytest.mark.parametrize(
    "text",
    [
        "I added up the invoices from March. The total is 1,284",
        "The pull request fixes the race in the cache and adds a test for it.\n\nVerdict: APPROVE",
        "Here is the plan we agreed on.\n\nAPPROVE",
        'The crowd went silent, then someone at the back shouted "Encore!"',
        "Thanks for the quick turnaround on the contract.\n\nBest regards,\nJohn Smith",
        "You can read the full migration guide here: https://docs.example.com/migrate/v2",
        "Shopping list for the weekend:\n- 2 kg potatoes\n- 1 bunch of parsley\n- olive oil",
        "Steps:\n1. Open the console\n2. Click Deploy",
        "To list the files, run:\n\n```bash\nls -la /var/log\n```",
        "Here is the query:\n\n```sql\nSELECT id, name FROM users WHERE active\n```\n\nIt returns active users only.",
        'Why did the function stop calling itself? It finally reached its base case (get it?',
        "| city | population |\n|------|------------|\n| Oslo | 709,000 |",
    ],
)
def test_complete_answers_without_a_period_are_not_truncated(text):
    row = stop(text)
    assert not row["truncated"], (text, row["truncation_cue"])
    assert row["truncation_cue"] is None


# ---------------------------------------------------------------- truncation: cut answers

@pytest.mark.parametrize(
    "text, cue",
    [
        ("The migration copies every table to the new cluster and then checks the row coun", "cut_mid_sentence"),
        ("Restart the worker after the deploy. Then watch the queue depth for ten minu", "cut_mid_sentence"),
        ("To set up the project:\n\n1. Clone the repository.\n2. Install the dependencies.\n3. Copy the example config to", "continuation_word"),
        ("To set up the project:\n\n1. Clone the repository.\n2. Install the dependencies.\n3. Copy the example confi", "cut_list_item"),
        ("Key points:\n\n- **Latency:** p99 dropped from 900 ms to 310 ms.\n- **Cost:** down 12%.\n- **Relia", "open_markup"),
        ("Here is the script:\n\n```python\nimport os\nfor name in os.listdir('.'):\n    print(na", "unclosed_code_fence"),
        ("Here is the result:\n\n| region | p99 |\n|--------|-----|\n| eu-west | 310 |\n| us-ea", "dangling_structure"),
        ("The release went well.\n\n## Next steps", "dangling_structure"),
        ("We measured three things (latency, cost and the error rat", "open_markup"),
        ('He opened the letter and read: "Dear Anna, I am writing to tell you that the hou', "open_markup"),
        ("A recursive dream, an endless loop,\nA method of coding that makes minds swoop,\nInt", "cut_mid_sentence"),
        # A greeting higher up is not a sign-off: the exemption is for the text's last lines only.
        ("Hi Anna,\nThanks\nfor sending the report, it covers the outage well and the timeline is clear on every poi", "cut_mid_sentence"),
    ],
)
def test_cut_answers_are_truncated(text, cue):
    row = stop(text)
    assert row["truncated"], text
    assert row["truncation_cue"] == cue
    assert row["derived_stop"] == "truncated"
    assert row["alerts"] == ["silent_truncation"]


def test_json_cut_midway_is_flagged():
    full = '{"order_id": "A-1042", "items": [{"sku": "KB-01", "qty": 2}, {"sku": "MS-07", "qty": 1}], "total": 119.5}'
    for cut in (40, 60, 90):
        row = one({"provider_stop_reason": "stop", "output_text": full[:cut], "expects_json": True})
        assert row["json_valid"] is False or row["truncated"], full[:cut]
    assert stop(full)["json_valid"] is True and not stop(full)["truncated"]


def test_truncation_cue_is_in_the_output_contract():
    from stoptriage.taxonomy import SIGNAL_COLUMNS

    assert SIGNAL_COLUMNS.index("truncation_cue") == SIGNAL_COLUMNS.index("truncated") - 1
    assert set(signals.TRUNCATION_CUES) >= {"cut_mid_sentence", "cut_list_item", "open_markup", "dangling_structure"}


def test_closed_vocabulary_columns_are_enums_that_sort_as_their_text():
    """stop_reason, derived_stop, ending_class, truncation_cue and expected_derived are
    Enums (README output table); the last three in alphabetical order, so a sort by
    them orders rows as a sort of their text did."""
    import polars as pl

    import stoptriage
    from conftest import SAMPLES

    res = stoptriage.classify([SAMPLES / "responses.jsonl"])
    df = res.frame.select(stoptriage.output_columns(res.frame)).collect()
    for name in ("stop_reason", "derived_stop", "ending_class", "truncation_cue", "expected_derived"):
        assert isinstance(df.schema[name], pl.Enum), name
    for name in ("ending_class", "truncation_cue", "expected_derived"):
        categories = df.schema[name].categories.to_list()
        assert categories == sorted(categories), name
        assert df[name].drop_nulls().n_unique() >= 2, name
        by_enum = df.sort(name, "source_line")["source_line"].to_list()
        by_text = df.sort(pl.col(name).cast(pl.String), "source_line")["source_line"].to_list()
        assert by_enum == by_text, name
    assert set(signals.ENDING_CLASS.categories) == {"closer", "continuation_word", "open_punctuation", "mid_word", "none"}
    assert set(signals.TRUNCATION_CUE.categories) == set(signals.TRUNCATION_CUES)
    # The reports keep giving the three stop labels as text.
    report = stoptriage.diff(res.frame, ["route"]).collect()
    quoted = stoptriage.examples(res.frame, by=["route"], disagree=True)
    for frame in (report, quoted.frame):
        assert [frame.schema[c] for c in ("stop_reason", "derived_stop", "expected_derived")] == [pl.String] * 3


# ---------------------------------------------------------------- the harness itself

def test_accuracy_harness_scores_and_exits(tmp_path):
    """benchmarks/accuracy.py on a tiny labelled file: counts are right, a missed target exits 3."""
    import orjson

    rows = [
        {"model_key": "m", "label": "refusal", "response_text": "Sorry, but I can't help with that."},
        {"model_key": "m", "label": "refusal", "response_text": "Here is a poem about the sea."},
        {"model_key": "m", "label": "compliance", "response_text": "Paris is the capital of France."},
        {"model_key": "m", "label": "partial", "response_text": "I can't do all of it. I cannot share names."},
    ]
    path = tmp_path / "labels.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in rows) + b"\n")
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "accuracy.py"
    res = subprocess.run([sys.executable, str(script), "--refusals", str(path), "--answers"], capture_output=True, text=True)
    assert res.returncode == 3, res.stderr
    line = next(x for x in res.stdout.splitlines() if x.strip().startswith("ALL held-out part"))
    # TP 1, FP 0, FN 1, TN 1 -> precision 1.000, recall 0.500; the partial is caught.
    assert "1.000  0.500" in line and line.rstrip().endswith("1/1")
    assert "MISS refusal recall held-out" in res.stdout
