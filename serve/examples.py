"""Demo examples: the seed article, and short invented articles written so that each shows one stance
(agree, disagree, discuss, unrelated) toward its claim. The people, places and companies are fictional."""
from __future__ import annotations

from dataclasses import dataclass

from model.resolve import REPO_ROOT

SEED_ARTICLE = REPO_ROOT / "seeds" / "000_552402bfee337202.txt"


@dataclass(frozen=True)
class DemoExample:
    """One row of the demo's example table; ``stance`` is what the claim is written to show."""

    article: str
    claims: str
    stance: str
    headline: str = ""
    summary_mode: str = "extractive"

    def as_inputs(self) -> list[str]:
        """Values in the order of the demo's input components: article, headline, claims, summary mode."""
        return [self.article, self.headline, self.claims, self.summary_mode]


def seed_article() -> str:
    return SEED_ARTICLE.read_text(encoding="utf-8")


AGREE = DemoExample(
    article=(
        "City council approves protected bike lanes on Main Street\n\n"
        "The Riverton city council voted 7-2 on Tuesday to build protected bike lanes along Main Street. "
        "Construction will begin in March and is expected to take six months. "
        "Mayor Ana Ortiz said the lanes would make the busy road safer for cyclists and pedestrians. "
        "The project will cost $4.2 million, paid mostly by a state transport grant."
    ),
    claims="Riverton will build protected bike lanes on Main Street",
    stance="agree",
)

DISAGREE = DemoExample(
    article=(
        "Carmaker denies plans to close its Leeds plant\n\n"
        "Northway Motors on Thursday rejected reports that it will shut its factory in Leeds. "
        "\"The plant is not closing, and no jobs are being cut,\" a company spokeswoman said. "
        "She called the reports, which appeared in two newspapers on Wednesday, false. "
        "The factory employs 2,300 people and will start building a new electric van next year."
    ),
    claims="Northway Motors will close its Leeds plant and cut 2,300 jobs",
    stance="disagree",
)

DISCUSS = DemoExample(
    article=(
        "Coast guard looks into reports of an oil spill off Port Alder\n\n"
        "Coast guard officials are investigating reports that a cargo ship released oil near Port Alder last weekend. "
        "Local fishermen said they saw a dark slick spreading behind a passing vessel on Saturday night. "
        "The shipping company has not commented. "
        "Investigators took water samples on Monday and said results would be known within a week. "
        "It is not yet clear whether the oil came from a ship at all."
    ),
    claims="A cargo ship dumped oil off Port Alder",
    stance="discuss",
)

UNRELATED = DemoExample(
    article=(
        "Harbour City win the national basketball final\n\n"
        "Harbour City beat Eastfield 88-79 on Sunday to win their first national basketball title in twelve years. "
        "Guard Sam Okafor scored 31 points, including five three-pointers in the last quarter. "
        "Thousands of fans gathered outside the arena to celebrate."
    ),
    claims="The central bank raised interest rates by half a point",
    stance="unrelated",
)

STANCE_EXAMPLES: tuple[DemoExample, ...] = (AGREE, DISAGREE, DISCUSS, UNRELATED)


def demo_examples() -> list[list[str]]:
    """The seed (its headline is the claim) followed by one example per stance."""
    seed = DemoExample(article=seed_article(), claims="", stance="")
    return [seed.as_inputs()] + [example.as_inputs() for example in STANCE_EXAMPLES]
