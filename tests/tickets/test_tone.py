"""Tone on a hand-labelled set of customer messages: every angry one is caught; accuracy is printed."""

from __future__ import annotations

import pytest

from ownership.tone import NEGATIVE_THRESHOLD, score_tone

from .tone_samples import LABELLED


def test_labelled_set_catches_every_angry_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert len(LABELLED) >= 20 and sum(angry for _, angry in LABELLED) >= 10
    rows = []
    correct = 0
    missed = []
    for text, angry in LABELLED:
        tone = score_tone(text)
        flagged = tone.clearly_negative
        correct += flagged == angry
        if angry and not flagged:
            missed.append((tone.score, text))
        rows.append(
            f"  {'ok  ' if flagged == angry else 'MISS'} {tone.score:+.3f} "
            f"{'angry' if angry else 'calm '} {', '.join(tone.words) or '-':<32} {text[:60]}"
        )
    accuracy = correct / len(LABELLED)
    false_alarms = sum(1 for text, angry in LABELLED if not angry and score_tone(text).clearly_negative)
    with capsys.disabled():
        print(
            f"\ntone: {correct}/{len(LABELLED)} correct, accuracy {accuracy:.0%}, threshold {NEGATIVE_THRESHOLD}, "
            f"{false_alarms} false alarm(s) on calm messages"
        )
        print("\n".join(rows))
    assert missed == [], f"angry messages not caught: {missed}"
    assert accuracy >= 0.85


def test_tone_names_the_words_that_drove_it() -> None:
    angry = score_tone("This is useless and I'm furious, the outage cost us a day.")
    assert angry.clearly_negative and angry.score <= -0.5
    assert {"useless", "furious", "outage"} <= set(angry.words)
    assert angry.words[0] == "furious"  # strongest first
    assert "furious" in angry.reason() and f"{angry.score:+.2f}" in angry.reason()
    calm = score_tone("Could you send me the invoice for October?")
    assert not calm.clearly_negative and calm.words == ()
    happy = score_tone("Thanks, that fixed it, great work!")
    assert happy.score > 0.5 and "great" in happy.words
    assert score_tone("").score == 0.0
