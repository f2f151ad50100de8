"""Dosage forms as CDISC controlled terminology (SDTM codelist C66726, Pharmaceutical Dosage Form).

The protocol states a dosage form in its own words (`form "Transdermal patch"`). The SDTM TS
parameter DOSFRM and the USDM administrable product need the CT term: `dose_form` finds it by
the submission value, the preferred term, or a common English phrasing of it. A form that
matches no term is left as the protocol wrote it (the codelist is extensible, but a code that
is not in it would be invented).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class DoseForm:
    code: str  # NCI concept code
    submission: str  # SDTM submission value, e.g. "PATCH"
    preferred: str  # CT preferred term, e.g. "Patch Dosage Form"


# (code, submission value, preferred term): the common forms of C66726 (CDISC CT 2026-03-27).
_TERMS = [
    ("C42998", "TABLET", "Tablet Dosage Form"),
    ("C42931", "TABLET, FILM COATED", "Film Coated Tablet Dosage Form"),
    ("C42927", "TABLET, EXTENDED RELEASE", "Extended Release Tablet Dosage Form"),
    ("C42893", "TABLET, CHEWABLE", "Chewable Tablet Dosage Form"),
    ("C42999", "TABLET, ORALLY DISINTEGRATING", "Orally Disintegrating Tablet Dosage Form"),
    ("C25158", "CAPSULE", "Capsule Dosage Form"),
    ("C42916", "CAPSULE, EXTENDED RELEASE", "Extended Release Capsule Dosage Form"),
    ("C42946", "INJECTION", "Injectable Dosage Form"),
    ("C42945", "INJECTION, SOLUTION", "Injectable Solution Dosage Form"),
    ("C42899", "INJECTION, SOLUTION, CONCENTRATE", "Concentrated Injectable Solution Dosage Form"),
    ("C42995", "INJECTION, SUSPENSION", "Injectable Suspension Dosage Form"),
    ("C42914", "INJECTION, EMULSION", "Emulsion for Injection Dosage Form"),
    ("C42974", "INJECTION, POWDER, FOR SOLUTION", "Powder for Injectable Solution Dosage Form"),
    (
        "C42957",
        "INJECTION, POWDER, LYOPHILIZED, FOR SOLUTION",
        "Lyophilized Powder for Injectable Solution Dosage Form",
    ),
    ("C42986", "SOLUTION", "Solution Dosage Form"),
    ("C60992", "SOLUTION/ DROPS", "Drop Solution Dosage Form"),
    ("C42994", "SUSPENSION", "Suspension Dosage Form"),
    ("C42913", "EMULSION", "Emulsion Dosage Form"),
    ("C42968", "PATCH", "Patch Dosage Form"),
    ("C42923", "PATCH, EXTENDED RELEASE", "Extended Release Patch Dosage Form"),
    ("C28944", "CREAM", "Cream Dosage Form"),
    ("C42966", "OINTMENT", "Ointment Dosage Form"),
    ("C42934", "GEL", "Gel Dosage Form"),
    ("C29167", "LOTION", "Lotion Dosage Form"),
    ("C42989", "SPRAY", "Spray Dosage Form"),
    ("C42962", "SPRAY, METERED", "Metered Spray Dosage Form"),
    ("C42887", "AEROSOL", "Aerosol Dosage Form"),
    ("C42960", "AEROSOL, METERED", "Metered Aerosol Dosage Form"),
    ("C42944", "INHALANT", "Inhalant Dosage Form"),
    ("C42972", "POWDER", "Powder Dosage Form"),
    ("C42973", "POWDER, FOR SOLUTION", "Powder for Solution Dosage Form"),
    ("C42975", "POWDER, FOR SUSPENSION", "Powder for Suspension Dosage Form"),
    ("C42961", "POWDER, METERED", "Metered Powder Dosage Form"),
    ("C42938", "GRANULE", "Granule Dosage Form"),
    ("C42993", "SUPPOSITORY", "Suppository Dosage Form"),
    ("C42942", "IMPLANT", "Implant Dosage Form"),
    ("C42996", "SYRUP", "Syrup Dosage Form"),
    ("C42912", "ELIXIR", "Elixir Dosage Form"),
    ("C42932", "FILM", "Film Dosage Form"),
    ("C42955", "LOZENGE", "Lozenge Dosage Form"),
    ("C42953", "LIQUID", "Liquid Dosage Form"),
    ("C42967", "PASTE", "Paste Dosage Form"),
    ("C42933", "GAS", "Gas Dosage Form"),
    ("C47916", "KIT", "Kit Dosage Form"),
    ("C60988", "RING", "Ring Dosage Form"),
    ("C47915", "INTRAUTERINE DEVICE", "Intrauterine Device Dosage Form"),
]

# How protocols commonly word a form that the CT names differently.
_PHRASES = {
    "transdermal patch": "PATCH",
    "transdermal system": "PATCH",
    "transdermal therapeutic system": "PATCH",
    "film coated tablet": "TABLET, FILM COATED",
    "extended release tablet": "TABLET, EXTENDED RELEASE",
    "prolonged release tablet": "TABLET, EXTENDED RELEASE",
    "chewable tablet": "TABLET, CHEWABLE",
    "orally disintegrating tablet": "TABLET, ORALLY DISINTEGRATING",
    "hard capsule": "CAPSULE",
    "soft capsule": "CAPSULE",
    "extended release capsule": "CAPSULE, EXTENDED RELEASE",
    "injectable": "INJECTION",
    "solution for injection": "INJECTION, SOLUTION",
    "injectable solution": "INJECTION, SOLUTION",
    "solution for infusion": "INJECTION, SOLUTION",
    "concentrate for solution for infusion": "INJECTION, SOLUTION, CONCENTRATE",
    "suspension for injection": "INJECTION, SUSPENSION",
    "injectable suspension": "INJECTION, SUSPENSION",
    "emulsion for injection": "INJECTION, EMULSION",
    "powder for solution for injection": "INJECTION, POWDER, FOR SOLUTION",
    "powder for solution for infusion": "INJECTION, POWDER, FOR SOLUTION",
    "lyophilized powder for solution for injection": "INJECTION, POWDER, LYOPHILIZED, FOR SOLUTION",
    "oral solution": "SOLUTION",
    "oral suspension": "SUSPENSION",
    "eye drops": "SOLUTION/ DROPS",
    "drops": "SOLUTION/ DROPS",
    "nasal spray": "SPRAY",
    "metered dose inhaler": "AEROSOL, METERED",
    "inhalation powder": "POWDER, METERED",
    "vaginal ring": "RING",
}


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[-_]", " ", text.lower())).strip()


_BY_KEY: dict[str, DoseForm] = {}
for _code, _sub, _pt in _TERMS:
    _form = DoseForm(_code, _sub, _pt)
    for _key in (_sub, _pt, _pt.removesuffix(" Dosage Form")):
        _BY_KEY.setdefault(_norm(_key), _form)
for _phrase, _sub in _PHRASES.items():
    _BY_KEY.setdefault(_norm(_phrase), _BY_KEY[_norm(_sub)])


def dose_form(text: str | None) -> DoseForm | None:
    """The CT term of a dosage form in the protocol's words, or None when none fits."""
    if not text:
        return None
    key = _norm(text)
    if key in _BY_KEY:
        return _BY_KEY[key]
    # "Transdermal patch, 50 cm2": the form before any qualifier
    head = _norm(re.split(r"[,(;]", text, maxsplit=1)[0])
    return _BY_KEY.get(head)
