"""Every shipped model's resolved_config.toml is a config `newslens train --config` reads in full: the README tells
users to pass it back to repeat a shipped run."""
import argparse
import json

import pytest

from model.resolve import SHIPPED_WEIGHTS
from training.options import build_dataclass, read_config_file

FOLDERS = sorted(p.parent for p in SHIPPED_WEIGHTS.glob("*/resolved_config.toml"))


def _section_and_class(task: str):
    from training.abstractive import AbstractiveTrainConfig
    from training.event import EventTrainConfig
    from training.stance import StanceTrainConfig
    from training.summary import SummaryTrainConfig

    return {"stance": ("stance", StanceTrainConfig), "event": ("event", EventTrainConfig),
            "summary-extractive": ("summary", SummaryTrainConfig),
            "summary-abstractive": ("abstractive", AbstractiveTrainConfig)}[task]


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_a_shipped_resolved_config_holds_the_table_its_trainer_reads(folder):
    from training.loop import LoopConfig

    task = json.loads((folder / "config.json").read_text())["task"]
    section, cls = _section_and_class(task)
    tables = read_config_file(folder / "resolved_config.toml")
    assert set(tables) == {"loop", section}, f"{folder}: tables {sorted(tables)}, the trainer reads [{section}]"
    build_dataclass(LoopConfig, argparse.Namespace(), tables["loop"])
    build_dataclass(cls, argparse.Namespace(), tables[section])


def test_every_shipped_model_has_a_resolved_config():
    assert {f.name for f in FOLDERS} == {p.parent.name for p in SHIPPED_WEIGHTS.glob("*/config.json")}
