"""Two synthetic flat exports (written for the project) with a slow-burn regression.

The story of issue 5: prompt v2 goes out at DEPLOY. On route ``invoice-extract`` the
responses cut by the token cap mid-JSON go from 1.5% to 4.5% (3x), so JSON validity
slips 3 points, while the provider's max_tokens (``length``) rate stays under 5% on
every route and overall. The other routes do not change. Rows are flat-table JSON
lines with canonical column names plus ``prompt_version`` (trace-formats.md, table
format).

``write_exports(dir)`` -> (baseline.jsonl, candidate.jsonl, both.jsonl).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson

#: When prompt v2 went out: baseline rows are the three days before, candidate the three after.
DEPLOY = datetime(2026, 3, 5, tzinfo=timezone.utc)
#: Rows per route and side.
ROWS = {"invoice-extract": 1200, "support-chat": 800, "summarize": 600}
#: Truncated-JSON rate on invoice-extract: baseline, candidate.
TRUNCATED_JSON = (0.015, 0.045)

_VENDORS = ["Acme GmbH", "Globex Ltd", "Initech Inc.", "Umbrella BV", "Hooli LLC"]
_CHAT = [
    "Your order shipped on Tuesday and should arrive within three business days. You can follow it from the Orders page.",
    "I have reset the password link; it is valid for 30 minutes. If it expires, request a new one from the sign-in page.",
    "Refunds go back to the original payment method within 5-7 business days after the return is scanned.",
    "The premium plan includes priority support and up to ten seats. You can upgrade from Settings > Billing at any time.",
]
_SUMMARY = [
    "The report finds that onboarding time fell by 18% after the checklist change, mostly in the second week. "
    "Support tickets about billing stayed flat. The authors recommend keeping the checklist and revisiting the pricing page.",
    "Q3 revenue grew 4% quarter over quarter, driven by renewals in the mid-market segment. Churn ticked up in "
    "small accounts. The board asked for a retention plan by the next meeting.",
]


def _invoice(rng: random.Random) -> str:
    lines = [{"sku": f"SKU-{rng.randint(1000, 9999)}", "qty": rng.randint(1, 9), "unit_price": round(rng.uniform(3, 400), 2)} for _ in range(rng.randint(2, 6))]
    doc = {
        "vendor": rng.choice(_VENDORS),
        "invoice_number": f"INV-{rng.randint(10000, 99999)}",
        "currency": "EUR",
        "line_items": lines,
        "total": round(sum(x["qty"] * x["unit_price"] for x in lines), 2),
    }
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode()


def _rows(side: str, rng: random.Random) -> list[dict]:
    start = DEPLOY - timedelta(days=3) if side == "baseline" else DEPLOY
    version = "v1" if side == "baseline" else "v2"
    cut_rate = TRUNCATED_JSON[0] if side == "baseline" else TRUNCATED_JSON[1]
    rows = []
    for route, n in ROWS.items():
        n_cut = round(n * cut_rate) if route == "invoice-extract" else 0
        for i in range(n):
            ts = start + timedelta(seconds=rng.randrange(3 * 86400))
            row = {
                "trace_id": f"{rng.getrandbits(128):032x}",
                "span_id": f"{rng.getrandbits(64):016x}",
                "timestamp": ts.isoformat(),
                "route": route,
                "provider": "openai",
                "model": "gpt-4o-mini-2024-07-18",
                "prompt_version": version,
                "max_tokens": 1024,
            }
            if route == "invoice-extract":
                text = _invoice(rng)
                row["expects_json"] = True
                if i < n_cut:  # cut by the token cap, mid-JSON
                    text = text[: rng.randint(len(text) // 3, len(text) - 5)]
                    row.update(provider_stop_reason="length", output_tokens=1024)
                else:
                    row.update(provider_stop_reason="stop", output_tokens=len(text) // 4)
            else:
                text = rng.choice(_CHAT if route == "support-chat" else _SUMMARY)
                # A steady 2% of support-chat hits the cap on both sides (the provider's
                # length rate that trips nothing).
                if route == "support-chat" and i % 50 == 0:
                    text = text[: len(text) // 2]
                    row.update(provider_stop_reason="length", output_tokens=1024)
                else:
                    row.update(provider_stop_reason="stop", output_tokens=len(text) // 4)
            row["output_text"] = text
            rows.append(row)
    rows.sort(key=lambda r: r["timestamp"])
    return rows


def write_exports(directory: Path, seed: int = 5) -> tuple[Path, Path, Path]:
    """Write baseline.jsonl, candidate.jsonl and both.jsonl (the two concatenated,
    time-ordered) into ``directory``; return their paths."""
    rng = random.Random(seed)
    base, cand = _rows("baseline", rng), _rows("candidate", rng)
    paths = []
    for name, rows in (("baseline", base), ("candidate", cand), ("both", base + cand)):
        path = directory / f"{name}.jsonl"
        path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
        paths.append(path)
    return paths[0], paths[1], paths[2]


if __name__ == "__main__":  # python tests/regression_data.py DIR (the README's examples)
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    out.mkdir(parents=True, exist_ok=True)
    for written in write_exports(out):
        print(written)
