"""Offline tone of what customers write: vaderSentiment's lexicon model, plus the words that drove the score.

No network, no model download: the lexicon ships inside the vaderSentiment package. A message is *clearly
negative* when VADER's compound score is at or below `NEGATIVE_THRESHOLD` (chosen on the labelled set in
tests/tickets/tone_samples.py). It favours recall: missing an angry customer costs more than a false alarm,
which an agent clears with `ticket mood <id> neutral`. Plain bug reports ("the import failed with an error")
score mildly negative, so fault words are damped in `SUPPORT_LEXICON`; some still cross the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

NEGATIVE_THRESHOLD = -0.2
MAX_TEXT = 5000
# Support-desk words VADER's general lexicon does not know (valence on VADER's -4..+4 scale).
SUPPORT_LEXICON = {
    "outage": -2.0,
    "refund": -1.2,
    "escalate": -1.5,
    "escalating": -1.5,
    "unusable": -2.5,
    "downtime": -1.8,
    "unresponsive": -1.8,
    "churn": -1.5,
    "lawyer": -1.5,
    "lawyers": -1.5,
    "kidding": -1.5,  # "are you kidding me?" at a help desk is never a joke
    "support": 0.0,  # a noun here ("your support team"), not praise
    # Words that describe a fault rather than a feeling: every bug report has them, angry or not.
    "error": -0.4,
    "errors": -0.4,
    "problem": -0.4,
    "problems": -0.4,
    "failed": -0.6,
    "fails": -0.6,
    "wrong": -0.6,
    "bug": -0.3,
}
WORD = re.compile(r"[a-z][a-z'\-]*")


@dataclass(frozen=True)
class Tone:
    score: float  # VADER compound score, -1 (very negative) .. +1 (very positive)
    words: tuple[str, ...]  # the words that pulled the score the way it went, strongest first

    @property
    def clearly_negative(self) -> bool:
        return self.score <= NEGATIVE_THRESHOLD

    def reason(self) -> str:
        words = ", ".join(self.words) if self.words else "no single word"
        return f"customer message scored {self.score:+.2f} (driven by: {words})"


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update(SUPPORT_LEXICON)
    return analyzer


def score_tone(text: str) -> Tone:
    """Score a customer's message. Pure and offline; the same text always gets the same answer."""
    text = (text or "")[:MAX_TEXT]
    analyzer = _analyzer()
    score = float(analyzer.polarity_scores(text)["compound"])
    valences: dict[str, float] = {}
    for word in WORD.findall(text.lower()):
        valence = analyzer.lexicon.get(word.strip("'-"))
        if valence is not None:
            valences[word.strip("'-")] = valence
    if score < 0:
        drivers = sorted((w for w, v in valences.items() if v < 0), key=lambda w: valences[w])
    elif score > 0:
        drivers = sorted((w for w, v in valences.items() if v > 0), key=lambda w: -valences[w])
    else:
        drivers = []
    return Tone(round(score, 4), tuple(drivers[:5]))
