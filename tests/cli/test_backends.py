"""``neurodeploy backends`` lists every registered backend with its capabilities."""

from __future__ import annotations

import json

import pytest

from neurodeploy.backend import registered_backends
from neurodeploy.cli import main


def test_lists_every_backend_with_what_it_runs(capsys):
    with pytest.raises(SystemExit) as info:
        main(["backends", "--json"])
    assert info.value.code == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert set(rows) == set(registered_backends())
    assert rows["float"]["available"] and "float models" in rows["float"]["runs"]
    assert rows["lava"]["profiles"] == ["loihi2"] and rows["lava"]["exports"]
    assert rows["spinnaker2"]["deploys"] and not rows["lava"]["deploys"]
    assert not rows["lava-loihi2"]["available"]
    assert "lava-loihi" in rows["lava-loihi2"]["unavailable_reason"]


def test_text_has_one_line_per_backend(capsys):
    with pytest.raises(SystemExit):
        main(["backends"])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(registered_backends())
