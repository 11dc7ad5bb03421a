"""Precision and recall of the abusive-text classifier on the labelled examples in tests/abuse/.

    .venv/bin/python bench/abuse.py [--show]

Goals (issue 15): recall >= 0.9 on abusive messages, false positives <= 5% on angry-but-fair complaints.
`--show` lists the messages it gets wrong. Not a timing benchmark.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ownership.abuse import classify_abuse

SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "abuse"


def examples(name: str) -> list[str]:
    lines = (SAMPLES / name).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


@dataclass(frozen=True)
class Score:
    abusive: int
    fair: int
    missed: list[str]  # abusive, not flagged
    false_alarms: list[str]  # fair, flagged

    @property
    def recall(self) -> float:
        return (self.abusive - len(self.missed)) / self.abusive

    @property
    def false_positive_rate(self) -> float:
        return len(self.false_alarms) / self.fair

    @property
    def precision(self) -> float:
        caught = self.abusive - len(self.missed)
        return caught / (caught + len(self.false_alarms)) if caught else 0.0


def measure() -> Score:
    abusive, fair = examples("abusive.txt"), examples("fair.txt")
    missed = [t for t in abusive if classify_abuse(t) is None]
    alarms = [t for t in fair if classify_abuse(t) is not None]
    return Score(len(abusive), len(fair), missed, alarms)


def main() -> None:
    score = measure()
    print(f"abusive examples: {score.abusive}, angry-but-fair examples: {score.fair}")
    print(f"recall on abusive: {score.recall:.3f} (goal >= 0.90), missed {len(score.missed)}")
    rate = score.false_positive_rate
    print(f"false positives on angry-but-fair: {rate:.3f} (goal <= 0.05), {len(score.false_alarms)}")
    print(f"precision: {score.precision:.3f}")
    if "--show" in sys.argv:
        for text in score.missed:
            print(f"  missed: {text}")
        for text in score.false_alarms:
            print(f"  false alarm: {text}")


if __name__ == "__main__":
    main()
