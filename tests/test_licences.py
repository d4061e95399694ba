"""The licence the project states holds: a LICENSE file, and no copyleft-only runtime dependency.

The runtime closure is read from the installed metadata: this project's own requirements
(without extras), then theirs, recursively. A dependency whose every stated licence is
GPL, LGPL or AGPL would make the MIT licence in pyproject.toml untrue for the bot as shipped.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
COPYLEFT = re.compile(r"\b(?:A|L)?GPL|GNU (?:AFFERO |LESSER |LIBRARY )?GENERAL PUBLIC", re.I)


def runtime_closure() -> dict[str, metadata.Distribution]:
    found: dict[str, metadata.Distribution] = {}
    todo = ["proactive-care"]
    while todo:
        name = canonicalize_name(todo.pop())
        if name in found:
            continue
        dist = metadata.distribution(name)
        found[name] = dist
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return found


def licences(dist: metadata.Distribution) -> list[str]:
    """Every licence statement of a distribution: expression, License field, classifiers."""
    meta = dist.metadata
    stated = [meta.get("License-Expression") or "", (meta.get("License") or "")[:2000]]
    stated += [c for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    return [s for s in stated if s.strip() and s.strip().upper() != "UNKNOWN"]


def copyleft_only(statements: list[str]) -> bool:
    """True when there are statements and each one is GPL-family with no permissive OR."""
    if not statements:
        return False
    for statement in statements:
        alternatives = re.split(r"\s+OR\s+", statement) if len(statement) < 200 else [statement]
        if any(not COPYLEFT.search(alt) for alt in alternatives):
            return False
    return True


def test_licence_file_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    text = (ROOT / "LICENSE").read_text()

    assert project["license"] == {"text": "MIT"}
    assert text.startswith("MIT License")
    assert "Copyright (c) 2026 Proactive Care contributors" in text


def test_no_runtime_dependency_is_gpl_lgpl_or_agpl_only():
    closure = runtime_closure()
    offending = {
        name: licences(dist)
        for name, dist in closure.items()
        if name != "proactive-care" and copyleft_only(licences(dist))
    }

    assert {"slack-bolt", "inscriptis", "lxml", "jinja2"} <= set(closure)  # the walk found the tree
    assert offending == {}


def test_every_runtime_dependency_states_a_licence():
    unstated = [n for n, d in runtime_closure().items() if not licences(d)]
    assert unstated == []


def test_the_check_recognises_copyleft_and_dual_licences():
    assert copyleft_only(["GPL-3.0-or-later"])
    assert copyleft_only(["LGPL-2.1-only", "License :: OSI Approved :: GNU Lesser General Public"])
    assert copyleft_only(["AGPL-3.0"])
    assert not copyleft_only(["GPL-2.0-or-later OR MIT"])
    assert not copyleft_only(["MPL-2.0", "License :: OSI Approved :: Mozilla Public License 2.0"])
    assert not copyleft_only(["Apache-2.0"])
