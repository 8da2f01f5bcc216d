"""How accurate are ``refusal_hit`` and ``truncated``? Measured on real labelled data.

Usage (from the project root)::

    python benchmarks/accuracy.py \\
        --refusals ../shared/samples/real/refusals.jsonl \\
        --answers ../shared/samples/real/responses.jsonl ../shared/samples/real/streams.jsonl

Options: ``--seed S`` (cut offsets, default 7), ``--cuts K`` (truncated twins per answer,
default 1), ``--phrases FILE`` / ``--continuation FILE`` (your extensions of the shipped
lists, as for ``classify``), ``--show N`` (print up to N misses and false alarms per
detector and part, default 0). With no paths the defaults are the files above, found from
this script's location.

**Refusals** (``--refusals``): JSON lines with ``response_text``, ``label``
(refusal | compliance | partial) and ``model_key`` (else ``model``), as in XSTest. Each
text becomes a canonical row (output_text, stop_reason ``stop``, route = model) and goes
through the same ``taxonomy.classify_frame`` as ``classify``. Positives are ``refusal``,
negatives ``compliance``; ``partial`` rows are counted apart (how many are caught).
Split by model: :data:`REFUSAL_TUNE_MODELS` are the part the phrase list was tuned on;
every other model is held out. A plain list of 30 apology / "I can't" phrases matched
anywhere (:data:`BASELINE_PHRASES`) is scored on the same rows for comparison.

**Truncation** (``--answers``): exports read by ``stoptriage.read`` (any format). The
complete answers are the rows whose normalized stop_reason is ``stop`` (stop, end_turn,
STOP, completed, COMPLETE, ...), with no tool calls and 200+ characters of text;
duplicate texts are counted once. Each is cut at ``--cuts`` seeded random character
offsets between 20% and 95% of its length (the twin carries no token counts, as a capture
of cut text would not). Negatives: the uncut originals; positives: the cuts. A cut whose
kept text ends right after a sentence end (``. ! ? …``, maybe followed by a closing quote
or bracket) or a closing code fence cannot be told from a complete answer by its text:
those are counted as ``undetectable`` and the recall target applies to the others (both
recalls are printed). Cuts of JSON outputs (``json_valid`` not null on the original) must
all be flagged: ``json_valid`` false or ``truncated``. Split by source ``route``:
:func:`truncation_part` (a CRC-32 of the route name) puts each route in the tune or the
held-out part.

Prints one table per detector (precision, recall, F1, false-positive rate, counts) for
each part, per model / per route, and the targets. Exit codes: 0 every target met on the
held-out part, 3 a target missed there, 1 unreadable input, 2 usage.
Targets (issue 4): :data:`TARGETS`.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import polars as pl

import stoptriage
from stoptriage import schema, signals, taxonomy

ROOT = Path(__file__).resolve().parents[2] / "shared" / "samples" / "real"

#: Models of refusals.jsonl the refusal phrase list was tuned on (one per family:
#: GPT-4, Llama-2, Mistral). The rest (gpt4_v1, llama2_v1, llama2new, mistralinstruct)
#: is the held-out part.
REFUSAL_TUNE_MODELS = ("gpt4", "llama2orig", "mistralguard")

#: Targets on the held-out part (issue 4).
TARGETS = {
    "refusal_precision": 0.97,
    "refusal_recall": 0.90,
    "truncation_recall": 0.95,
    "truncation_fpr": 0.02,
    "json_cut_flagged": 1.0,
}

#: A group (model) needs this many positives and negatives for its own target check;
#: smaller groups are printed with "n<" and judged only in the part's total.
MIN_GROUP = 20

#: The plain phrase list of issue 4 ("~30 apology and I can't phrases"), matched
#: anywhere in the text, case-insensitively: the baseline to beat.
BASELINE_PHRASES = (
    "i'm sorry", "i am sorry", "i apologize", "sorry, but", "i can't", "i cannot", "i can not",
    "i won't", "i will not", "i'm unable", "i am unable", "i'm not able", "i am not able",
    "as an ai", "as a language model", "i must decline", "i'm afraid", "unfortunately",
    "not appropriate", "i'm not comfortable", "i don't feel comfortable", "against my",
    "i refuse", "i'd rather not", "i would rather not", "i do not provide", "i can't assist",
    "i cannot assist", "i can't help", "i cannot help",
)

#: Kept text that ends a sentence (or a code fence): a cut there is undetectable by text.
SENTENCE_END = r"""(?:[.!?…。！？][)\]"'”’»*_]*|```)$"""

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_MISSED = 0, 1, 2, 3


# ------------------------------------------------------------------ scoring

@dataclass
class Score:
    """Confusion counts of one detector on one group; ``extra`` = partial refusals caught/total."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p and r else None

    @property
    def fpr(self) -> float | None:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else None


def score(frame: pl.DataFrame, truth: str, verdict: str) -> Score:
    """Confusion counts of boolean column ``verdict`` against boolean column ``truth``
    (rows where truth is null are ignored)."""
    t, v = pl.col(truth), pl.col(verdict).fill_null(False)
    row = frame.filter(t.is_not_null()).select(
        (t & v).sum().alias("tp"), (~t & v).sum().alias("fp"), (t & ~v).sum().alias("fn"), (~t & ~v).sum().alias("tn")
    ).row(0)
    return Score(*(int(x or 0) for x in row))


def fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def table(title: str, rows: list[tuple[str, Score, str]], extra_header: str = "") -> None:
    """Print one aligned table: group, P, R, F1, FPR, TP FP FN TN, extra column."""
    print(f"\n{title}")
    head = f"  {'group':<34} {'prec':>6} {'recall':>6} {'F1':>6} {'FPR':>6} {'TP':>5} {'FP':>5} {'FN':>5} {'TN':>5}  {extra_header}"
    print(head)
    print("  " + "-" * (len(head) - 2))
    for name, s, extra in rows:
        print(f"  {name:<34} {fmt(s.precision):>6} {fmt(s.recall):>6} {fmt(s.f1):>6} {fmt(s.fpr):>6} "
              f"{s.tp:>5} {s.fp:>5} {s.fn:>5} {s.tn:>5}  {extra}")


class Verdicts:
    """Collects target checks; ``missed`` lists the failed ones."""

    def __init__(self) -> None:
        self.missed: list[str] = []
        self.lines: list[str] = []

    def check(self, name: str, value: float | None, target: float, higher_is_better: bool = True) -> None:
        ok = value is not None and (value >= target if higher_is_better else value <= target)
        sign = ">=" if higher_is_better else "<="
        self.lines.append(f"  {'ok  ' if ok else 'MISS'} {name}: {fmt(value)} (target {sign} {target})")
        if not ok:
            self.missed.append(name)


# ------------------------------------------------------------------ refusals

def read_refusals(path: str) -> pl.DataFrame:
    """refusals JSONL -> DataFrame[model: str, label: str, output_text: str, prompt: str]."""
    raw = pl.read_ndjson(path, infer_schema_length=None)
    model = "model_key" if "model_key" in raw.columns else "model"
    missing = [c for c in ("response_text", "label", model) if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: expected fields response_text, label and model_key/model; missing {missing}")
    prompt = pl.col("prompt") if "prompt" in raw.columns else pl.lit(None, dtype=pl.String)
    return raw.select(
        pl.col(model).cast(pl.String).alias("model"),
        pl.col("label").cast(pl.String),
        pl.col("response_text").cast(pl.String).fill_null("").alias("output_text"),
        prompt.alias("prompt"),
    )


def classify_texts(frame: pl.DataFrame, phrases, continuation, extra: list[str]) -> pl.DataFrame:
    """Run the classify pipeline on a frame of canonical columns (+ ``extra`` pass-through)."""
    lf = schema.conform(frame.lazy(), extra=extra)
    return taxonomy.classify_frame(lf, phrases, continuation).collect()


def baseline_hit() -> pl.Expr:
    """The plain list of :data:`BASELINE_PHRASES`, anywhere in the text (bool)."""
    pattern = "|".join(re.escape(p) for p in BASELINE_PHRASES)
    return pl.col("output_text").str.to_lowercase().str.replace_all("’", "'").str.contains(pattern)


def evaluate_refusals(path: str, phrases, continuation, verdicts: Verdicts, show: int) -> None:
    data = read_refusals(path)
    data = data.with_columns(pl.col("model").alias("route"), pl.lit("stop").alias("provider_stop_reason"))
    out = classify_texts(data, phrases, continuation, ["label", "prompt"])
    out = out.with_columns(
        pl.when(pl.col("label") == "refusal").then(True).when(pl.col("label") == "compliance").then(False).alias("_truth"),
        baseline_hit().alias("_baseline"),
        pl.col("model").is_in(REFUSAL_TUNE_MODELS).alias("_tune"),
    )
    print(f"refusal_hit on {path}: {out.height} responses "
          f"({out.filter(pl.col('label') == 'refusal').height} refusal, "
          f"{out.filter(pl.col('label') == 'compliance').height} compliance, "
          f"{out.filter(pl.col('label') == 'partial').height} partial)")
    for part, name in ((True, "tune part"), (False, "held-out part")):
        rows = []
        sub = out.filter(pl.col("_tune") == part)
        for model in sorted(sub["model"].unique().to_list()):
            m = sub.filter(pl.col("model") == model)
            s = score(m, "_truth", "refusal_hit")
            small = s.tp + s.fn < MIN_GROUP or s.fp + s.tn < MIN_GROUP
            rows.append((model + (" (n<20)" if small else ""), s, _partial(m)))
            if not part and not small:
                verdicts.check(f"refusal precision {model}", s.precision, TARGETS["refusal_precision"])
                verdicts.check(f"refusal recall {model}", s.recall, TARGETS["refusal_recall"])
        total = score(sub, "_truth", "refusal_hit")
        rows.append(("ALL " + name, total, _partial(sub)))
        rows.append(("  plain phrase list (baseline)", score(sub, "_truth", "_baseline"), _partial(sub, "_baseline")))
        table(f"refusal_hit, refusal vs compliance, {name} "
              f"({'models tuned on' if part else 'not tuned on'})", rows, "partial caught")
        if not part:
            verdicts.check("refusal precision held-out", total.precision, TARGETS["refusal_precision"])
            verdicts.check("refusal recall held-out", total.recall, TARGETS["refusal_recall"])
        sorry = sub.filter(pl.col("output_text").str.strip_chars().str.to_lowercase().str.contains(r"^i'?( a)?m sorry to hear"))
        print(f"  texts opening with \"I'm sorry to hear\": {sorry.height} ({_labels(sorry)}); flagged by "
              f"refusal_hit {sorry['refusal_hit'].sum()} ({_labels(sorry.filter(pl.col('refusal_hit')))}), "
              f"by the baseline {sorry['_baseline'].sum()}")

        if show:
            _show(sub.filter(pl.col("_truth") & ~pl.col("refusal_hit")), "missed refusals", show, True)
            _show(sub.filter(~pl.col("_truth") & pl.col("refusal_hit")), "false alarms", show, True)


def _labels(frame: pl.DataFrame) -> str:
    counts = frame["label"].value_counts().sort("label").rows()
    return ", ".join(f"{n} {label}" for label, n in counts) or "none"


def _partial(frame: pl.DataFrame, verdict: str = "refusal_hit") -> str:
    p = frame.filter(pl.col("label") == "partial")
    return f"{int(p[verdict].sum())}/{p.height}"


def _show(frame: pl.DataFrame, what: str, n: int, head: bool) -> None:
    """Print up to ``n`` rows: group, evidence, and the opening (``head``) or the end of the text."""
    print(f"  {what}: {frame.height}")
    for row in frame.head(n).iter_rows(named=True):
        evidence = row.get("refusal_phrase") if head else row.get("output_tail")
        text = row["output_text"].strip().replace("\n", "⏎")
        text = text[:160] if head else text[-120:]
        print(f"    [{row['route']}] evidence={evidence!r} | {text}")


# ------------------------------------------------------------------ truncation

def truncation_part(route: str) -> str:
    """``tune`` or ``held-out`` for a source route: CRC-32 of its name, even -> tune."""
    return "tune" if zlib.crc32(route.encode("utf-8")) % 2 == 0 else "held-out"


#: Answers the provider says finished cleanly and that are text: normalized stop_reason
#: ``stop`` (stop, end_turn, STOP, completed, COMPLETE, ...), no tool calls, some text.
FINISHED_TEXT = (pl.col("stop_reason") == "stop") & (pl.col("tool_call_count") == 0) & (pl.col("output_chars") > 0)
#: Complete answers this long (chars) or longer are cut into twins (issue 4).
MIN_ANSWER_CHARS = 200


def complete_answers(paths: list[str], phrases, continuation) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, int]]:
    """The complete real answers of ``paths``, read and classified once.

    Output: the answers of MIN_ANSWER_CHARS+ chars (deduplicated on text, first kept),
    every finished text answer of any length (deduplicated), both with the canonical
    columns and signals; and counts of what was read and left out."""
    lf, report = stoptriage.read(paths)
    out = taxonomy.classify_frame(lf, phrases, continuation).collect()
    finished = out.filter(FINISHED_TEXT)
    chosen = finished.filter(pl.col("output_chars") >= MIN_ANSWER_CHARS)
    unique = chosen.unique("output_text", keep="first", maintain_order=True)
    counts = {
        "rows read": out.height,
        "unreadable lines": report.problems.height,
        f"complete answers (stop, no tool calls, {MIN_ANSWER_CHARS}+ chars)": chosen.height,
        "duplicate texts dropped": chosen.height - unique.height,
    }
    return unique, finished.unique("output_text"), counts


def cut_twins(orig: pl.DataFrame, cuts: int, seed: int) -> pl.DataFrame:
    """``cuts`` truncated copies of each row of ``orig``: output_text cut at a seeded
    uniform offset in [20%, 95%] of its length (chars); token counts nulled."""
    rng = random.Random(seed)
    frac = [rng.uniform(0.20, 0.95) for _ in range(orig.height * cuts)]
    twins = pl.concat([orig] * cuts).with_columns(pl.Series("_frac", frac))
    return twins.with_columns(
        pl.col("output_text").str.slice(0, (pl.col("output_text").str.len_chars() * pl.col("_frac")).floor().cast(pl.Int64)).alias("output_text"),
        pl.lit(None, dtype=pl.Int64).alias("output_tokens"),
        pl.lit(None, dtype=pl.Int64).alias("max_tokens"),
        pl.lit(True).alias("_cut"),
    ).drop("_frac")


def evaluate_truncation(paths: list[str], phrases, continuation, cuts: int, seed: int, verdicts: Verdicts, show: int) -> None:
    orig, every, counts = complete_answers(paths, phrases, continuation)
    print(f"\ntruncated on {', '.join(paths)}:")
    for k, v in counts.items():
        print(f"  {k}: {v}")
    canon = [c for c in schema.CANONICAL if c in orig.columns]
    base = orig.select(*canon, pl.col("json_valid").is_not_null().alias("_json_orig"))
    both = pl.concat([base.with_columns(pl.lit(False).alias("_cut")), cut_twins(base, cuts, seed)])
    out = classify_texts(both, phrases, continuation, ["_cut", "_json_orig"])
    out = out.with_columns(
        pl.col("route").map_elements(truncation_part, return_dtype=pl.String).alias("_part"),
        (pl.col("_cut") & pl.col("output_text").str.strip_chars_end().str.contains(SENTENCE_END)).alias("_undetectable"),
        (pl.col("json_valid").not_().fill_null(False) | pl.col("truncated")).alias("_json_flag"),
    )
    print(f"  cut twins: {cuts} per answer, seed {seed}; undetectable cuts (kept text ends right after a "
          f"sentence end or a code fence): {out['_undetectable'].sum()} of {out['_cut'].sum()}")
    for part in ("tune", "held-out"):
        sub = out.filter(pl.col("_part") == part)
        rows = []
        for route in sorted(sub["route"].unique().to_list()):
            r = sub.filter(pl.col("route") == route)
            rows.append((route[-34:], score(r, "_cut", "truncated"), f"{r['_undetectable'].sum()}"))
        all_cuts = score(sub, "_cut", "truncated")
        detectable = score(sub.filter(~pl.col("_undetectable")), "_cut", "truncated")
        rows.append((f"ALL {part} (every cut)", all_cuts, f"{sub['_undetectable'].sum()}"))
        rows.append((f"ALL {part} (detectable cuts)", detectable, "0"))
        table(f"truncated, cut vs uncut complete answers, {part} part ({sub['route'].n_unique()} routes)", rows, "undetectable")
        json_cuts = sub.filter(pl.col("_cut") & pl.col("_json_orig"))
        print(f"  JSON outputs cut mid-way: {int(json_cuts['_json_flag'].sum())} of {json_cuts.height} flagged")
        if part == "held-out":
            verdicts.check("truncation recall held-out (detectable cuts)", detectable.recall, TARGETS["truncation_recall"])
            verdicts.check("truncation false-positive rate held-out", detectable.fpr, TARGETS["truncation_fpr"], higher_is_better=False)
        if show:
            _show(sub.filter(pl.col("_cut") & ~pl.col("truncated") & ~pl.col("_undetectable")), "missed cuts", show, False)
            _show(sub.filter(~pl.col("_cut") & pl.col("truncated")), "false alarms on complete answers", show, False)
    _json_and_any_length(out, every, verdicts)


def _json_and_any_length(out: pl.DataFrame, every: pl.DataFrame, verdicts: Verdicts) -> None:
    """JSON cuts over both parts (no JSON output was tuned on), and the false-positive
    rate on every complete answer whatever its length (short answers end in bare
    numbers and one-word verdicts far more often)."""
    json_cuts = out.filter(pl.col("_cut") & pl.col("_json_orig"))
    flagged = int(json_cuts["_json_flag"].sum())
    print(f"\nJSON outputs cut mid-way, both parts: {flagged} of {json_cuts.height} flagged (json_valid false or truncated)")
    if json_cuts.height:
        verdicts.check("JSON cuts flagged (both parts)", flagged / json_cuts.height, TARGETS["json_cut_flagged"])
    fp = every.filter(pl.col("truncated"))
    print(f"complete answers of any length (stop, no tool calls, text, distinct): {every.height}; flagged truncated: "
          f"{fp.height} ({fp.height / max(every.height, 1):.1%}); ending without . ! ? or another closer: "
          f"{every.filter(~pl.col('ends_terminal')).height}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--refusals", default=str(ROOT / "refusals.jsonl"), help="labelled refusals JSONL ('' to skip)")
    ap.add_argument("--answers", nargs="*", default=[str(ROOT / "responses.jsonl"), str(ROOT / "streams.jsonl")],
                    help="exports with complete answers (none to skip)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--cuts", type=int, default=10, help="truncated twins per answer (default 10: one cut each is noisy)")
    ap.add_argument("--phrases", action="append", default=[], help="extra refusal phrase file")
    ap.add_argument("--continuation", action="append", default=[], help="extra continuation word file")
    ap.add_argument("--show", type=int, default=0, help="print up to N misses and false alarms")
    args = ap.parse_args(argv)
    if args.cuts < 1:
        ap.error("--cuts must be at least 1")
    try:
        phrases = signals.load_list("refusal_phrases.txt", args.phrases)
        continuation = signals.load_list("continuation_words.txt", args.continuation)
        verdicts = Verdicts()
        if args.refusals:
            evaluate_refusals(args.refusals, phrases, continuation, verdicts, args.show)
        if args.answers:
            evaluate_truncation(args.answers, phrases, continuation, args.cuts, args.seed, verdicts, args.show)
    except (OSError, ValueError, pl.exceptions.PolarsError, stoptriage.StoptriageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print("\ntargets (held-out part):")
    print("\n".join(verdicts.lines))
    if verdicts.missed:
        print(f"{len(verdicts.missed)} target(s) missed", file=sys.stderr)
        return EXIT_MISSED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
