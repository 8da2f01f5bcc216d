"""Invented text banks for the synthetic sample data (no real model output is copied)."""

from __future__ import annotations

import random

SUPPORT = [
    "Your order shipped yesterday from our Tilburg warehouse.",
    "Tracking updates can take up to 24 hours to appear after dispatch.",
    "You can change the delivery address until the parcel reaches the local depot.",
    "Refunds go back to the original payment method within five business days.",
    "If the item arrived damaged, please upload a photo in the Returns section.",
    "Gift cards cannot be exchanged for cash, but they never expire.",
    "Your plan renews on the 14th of every month unless you cancel before then.",
    "To reset your password, open the sign-in page and choose Forgot password.",
    "We have added a note to your account so the next agent sees this history.",
    "Express shipping is available for addresses inside the mainland only.",
    "The discount code applies to full-price items and excludes bundles.",
    "Two-factor authentication can be turned on under Settings, then Security.",
    "Invoices for business accounts are listed under Billing, then Documents.",
    "Our support desk is open from 08:00 to 20:00 on weekdays.",
    "A replacement unit has been reserved and will ship once the return is scanned.",
    "You will receive a confirmation email as soon as the change is processed.",
    "Loyalty points are credited seven days after delivery.",
    "Orders placed before 15:00 usually leave the warehouse the same day.",
]
SUMMARY = [
    "The committee approved the revised budget for the northern depot.",
    "Customer churn fell for the third consecutive quarter.",
    "The pilot with two regional clinics will continue until the autumn.",
    "Hiring for the data team is paused until the reorganisation is complete.",
    "The vendor agreed to cut lead times from six weeks to four.",
    "Most complaints in the survey concerned slow responses on weekends.",
    "The migration to the new ticketing system finished two days early.",
    "Energy costs at the plant rose by eleven percent compared with last year.",
    "The board asked for a risk review before the next funding round.",
    "Revenue from the subscription tier grew faster than the forecast.",
    "The article argues that smaller cities benefit most from remote work.",
    "Three of the five proposed features were moved to the next release.",
    "Safety incidents on the night shift dropped after the new rota started.",
    "The report recommends consolidating the two billing platforms.",
    "Marketing will test shorter onboarding emails in the spring.",
    "The legal team flagged two clauses that need a second review.",
]
WEATHER = [
    "Right now it is {t} degrees and {c} in {city}.",
    "Expect {c} skies in {city} for the rest of the afternoon.",
    "The wind in {city} is light, around {w} km/h from the west.",
    "Tomorrow in {city} should stay close to {t} degrees.",
    "There is a small chance of showers in {city} after sunset.",
    "Humidity in {city} is moderate, so it will feel close to the actual temperature.",
]
CONDITIONS = ["clear", "cloudy", "partly cloudy", "rainy", "foggy", "snowy", "windy"]
CITIES = ["Oslo", "Lisbon", "Nairobi", "Quito", "Osaka", "Tallinn", "Perth", "Porto", "Lima", "Gdansk"]
VENDORS = ["Nordlys Trading AS", "Kestrel Supplies", "Blue Alder GmbH", "Maple & Vine Ltd", "Sundsvall Tools AB"]
ITEMS = ["Oak shelving unit", "Desk lamp", "Printer paper (box)", "Toner cartridge", "Office chair", "USB-C hub"]
CODE = [
    ("bash", "curl -H \"Authorization: Bearer $TOKEN\" https://api.example.com/v2/orders/1182"),
    ("python", "import requests\n\nresp = requests.get(url, timeout=10)\nresp.raise_for_status()\nprint(resp.json())"),
    ("json", "{\n  \"notifications\": {\n    \"email\": true,\n    \"sms\": false\n  }\n}"),
]
SOFT_REFUSALS = [
    "I'm sorry, but I can't help with that request.",
    "I can't assist with creating that. If you're struggling, I would recommend speaking to a professional.",
    "I'm sorry, but I can't share details about another customer's account.",
    "I'm unable to help with changing prices on an order that has already shipped.",
    "Unfortunately, I can't provide legal advice about this contract.",
]
NOT_REFUSAL = (
    "I'm sorry to hear that your order was late! Here is how to get a refund: open Orders, choose the "
    "late order, select Report a problem and pick Late delivery. The refund is issued automatically."
)
CONTEXT_PAUSE = "I'll search the current carrier notices before answering."


def sentences(rng: random.Random, bank: list[str], n: int) -> str:
    return " ".join(rng.sample(bank, k=min(n, len(bank))))


def weather_line(rng: random.Random, city: str) -> str:
    tpl = rng.choice(WEATHER)
    return tpl.format(t=rng.randint(-5, 31), c=rng.choice(CONDITIONS), city=city, w=rng.randint(3, 40))


def clean_answer(rng: random.Random, route: str) -> str:
    """A complete answer of varied length and style for a text route."""
    bank = SUMMARY if route == "summarize" else SUPPORT
    style = rng.choices(
        ["one", "few", "paras", "list", "code", "number", "verdict", "exclaim"],
        weights=[14, 26, 16, 16, 8, 7, 5, 8],
    )[0]
    if route == "summarize" and style == "code":
        style = "list"
    if style == "one":
        return rng.choice(bank)
    if style == "few":
        return sentences(rng, bank, rng.randint(2, 4))
    if style == "paras":
        return "\n\n".join(sentences(rng, bank, rng.randint(2, 4)) for _ in range(rng.randint(2, 4)))
    if style == "list":
        head = "Key points:" if route == "summarize" else "Here is what you can do:"
        marker = rng.choice(["-", "*", "1."])
        items = rng.sample(bank, k=rng.randint(3, 5))
        lines = [f"{i + 1}. {s}" if marker == "1." else f"{marker} {s}" for i, s in enumerate(items)]
        return head + "\n\n" + "\n".join(lines)
    if style == "code":
        lang, code = rng.choice(CODE)
        return f"{rng.choice(bank)} For example:\n\n```{lang}\n{code}\n```\n\nLet me know if that works for you."
    if style == "number":
        if route == "summarize":
            return f"{rng.choice(bank)} Number of action items: {rng.randint(2, 19)}"
        return f"{rng.choice(bank)}\n\nOpen tickets on your account: {rng.randint(1, 9)}"
    if style == "verdict":
        return rng.choice(["APPROVE", "REJECT", "ESCALATE"])
    quote = rng.choice(["Welcome back!", "Thanks for your patience!", "Your order is on its way!"])
    return f'{rng.choice(bank)} The banner on your account page will now say "{quote}"'


def weather_answer(rng: random.Random, city: str) -> str:
    n = rng.randint(1, 3)
    return " ".join(weather_line(rng, city) for _ in range(n))


def invoice(rng: random.Random) -> dict:
    items = []
    for _ in range(rng.randint(1, 4)):
        q, p = rng.randint(1, 12), round(rng.uniform(3, 400), 2)
        items.append({"description": rng.choice(ITEMS), "quantity": q, "unit_price": p})
    total = round(sum(i["quantity"] * i["unit_price"] for i in items), 2)
    return {
        "invoice_number": f"INV-{rng.randint(1000, 9999)}",
        "vendor": rng.choice(VENDORS),
        "issue_date": f"2026-0{rng.randint(1, 3)}-{rng.randint(10, 28)}",
        "currency": rng.choice(["EUR", "NOK", "SEK", "GBP"]),
        "line_items": items,
        "total": total,
    }


def long_text(rng: random.Random, route: str, min_chars: int) -> str:
    """Plain prose at least ``min_chars`` long (for truncations)."""
    bank = SUMMARY if route == "summarize" else SUPPORT
    out, pool = "", []
    while len(out) < min_chars:
        if not pool:
            pool = rng.sample(bank, k=len(bank))
        out += (" " if out else "") + pool.pop()
    return out


def cut_mid(rng: random.Random, text: str, mode: str) -> str:
    """Cut ``text`` mid-sentence: after 'and'/'the'/'of', or inside a word ('word')."""
    lo = len(text) // 3
    if mode in ("and", "the", "of"):
        i = text.rfind(f" {mode} ", lo)
        if i >= 0 and i >= lo:
            return text[: i + len(mode) + 1]
        tail = {"and": ", and", "the": " Please also check the", "of": " Most of"}[mode]
        return text.rstrip(".") + tail if mode == "and" else text + tail
    # mid-word: find a word of >= 7 letters after lo and keep its first half
    words = [(j, w) for j, w in enumerate(text.split(" ")) if len(w.strip(".,")) >= 7]
    later = [x for x in words if len(" ".join(text.split(" ")[: x[0]])) >= lo] or words
    j, w = later[0] if later else (0, text)
    head = " ".join(text.split(" ")[:j])
    return (head + " " if head else "") + w[: max(3, len(w) // 2)]
