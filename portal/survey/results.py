"""The survey's arithmetic, pure: a statement's tally, its shares, its spread, whether
the team's majority misreads it, the order the results page shows statements in, and
the comparison of two rounds. Plain values in and out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

AGREE = "agree"
DISAGREE = "disagree"
UNSURE = "unsure"
CHOICES = (AGREE, DISAGREE, UNSURE)

# Spread at or above this: a third of the team or more answered otherwise than the
# largest group (4 against 2 in a team of 6).
SPLIT_AT = 1 / 3
# An anonymous round shows its results only once this many people answered: with two,
# each would read the other's answers by taking away their own.
ANONYMOUS_MIN_RESPONDENTS = 3


@dataclass(frozen=True)
class Tally:
    agree: int = 0
    disagree: int = 0
    unsure: int = 0

    @classmethod
    def of(cls, choices: Iterable[str]) -> Tally:
        counts = dict.fromkeys(CHOICES, 0)
        for choice in choices:
            counts[choice] += 1
        return cls(**counts)

    @property
    def total(self) -> int:
        return self.agree + self.disagree + self.unsure

    def count(self, choice: str) -> int:
        return getattr(self, choice)

    def share(self, choice: str) -> float | None:
        """The fraction of answers that were `choice`; None with no answer."""
        return self.count(choice) / self.total if self.total else None

    @property
    def shares(self) -> dict[str, float | None]:
        return {choice: self.share(choice) for choice in CHOICES}

    @property
    def spread(self) -> float | None:
        """How split the answers are: 1 − the largest share. 0 when everyone gave the
        same answer, 0.5 when the team splits in two halves, at most 2/3 (an even
        three-way split). None with no answer."""
        if not self.total:
            return None
        return 1 - max(self.count(choice) for choice in CHOICES) / self.total

    @property
    def leading(self) -> tuple[str, ...]:
        """The answer (or the answers, on a tie) given most often; () with none."""
        if not self.total:
            return ()
        most = max(self.count(choice) for choice in CHOICES)
        return tuple(choice for choice in CHOICES if self.count(choice) == most)


def misread(tally: Tally, expected: str) -> bool:
    """True when the statement has an expected answer and the team's majority does not
    give it: another answer is given more often, or as often (no clear majority)."""
    return bool(expected) and tally.total > 0 and tally.leading != (expected,)


def split(tally: Tally) -> bool:
    spread = tally.spread
    return spread is not None and spread >= SPLIT_AT - 1e-9


@dataclass(frozen=True)
class StatementResult:
    """A statement's results in one round. `key` links it across rounds (its statement's
    id, or its text when the statement is gone)."""

    key: object
    text: str
    expected: str
    position: int
    tally: Tally

    @property
    def misread(self) -> bool:
        return misread(self.tally, self.expected)

    @property
    def split(self) -> bool:
        return split(self.tally)

    @property
    def expected_share(self) -> float | None:
        return self.tally.share(self.expected) if self.expected else None


def attention_order(results: Iterable[StatementResult]) -> list[StatementResult]:
    """Misunderstandings first: statements whose majority misreads them (fewest expected
    answers first), then by spread (most split first), then as the list orders them."""

    def key(result: StatementResult):
        spread = result.tally.spread
        return (
            not result.misread,
            result.expected_share if result.misread else 0.0,
            -(spread or 0.0),
            result.position,
        )

    return sorted(results, key=key)


def results_withheld(*, anonymous: bool, respondents: int) -> bool:
    return anonymous and respondents < ANONYMOUS_MIN_RESPONDENTS


@dataclass(frozen=True)
class ComparedStatement:
    """One statement in two rounds: `before` and `after` are None where a round did not
    ask it."""

    text: str
    expected: str
    before: StatementResult | None
    after: StatementResult | None

    def change(self, choice: str) -> float | None:
        """The change of `choice`'s share from the earlier round to the later one."""
        if self.before is None or self.after is None:
            return None
        old, new = self.before.tally.share(choice), self.after.tally.share(choice)
        return None if old is None or new is None else new - old

    @property
    def spread_change(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        old, new = self.before.tally.spread, self.after.tally.spread
        return None if old is None or new is None else new - old

    @property
    def changes(self) -> dict[str, float | None]:
        return {choice: self.change(choice) for choice in CHOICES}


def compare(
    before: Sequence[StatementResult], after: Sequence[StatementResult]
) -> list[ComparedStatement]:
    """Every statement of either round, matched by key, in the later round's attention
    order, then the ones only the earlier round asked."""
    earlier = {result.key: result for result in before}
    rows = []
    for result in attention_order(after):
        old = earlier.pop(result.key, None)
        rows.append(ComparedStatement(result.text, result.expected, old, result))
    for result in sorted(earlier.values(), key=lambda r: r.position):
        rows.append(ComparedStatement(result.text, result.expected, result, None))
    return rows
