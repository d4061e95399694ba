"""Damage a stored document in place, as a crash, an old bug or a hand edit would leave it.

Tests that prove a view survives a record it cannot show write the bad document straight into
the data directory's JSON files (the bot stopped), then start the bot on them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def edit_stored(
    data: Path,
    folder: str,
    record_id: str,
    edit: Callable[[dict[str, Any]], None] | None = None,
    **changes: Any,
) -> tuple[Path, str]:
    """Change the document with `id` `record_id` among the `folder` files: set `changes`
    (None removes a field), then call `edit` on it. Returns its file and doc id."""
    for path in sorted(data.glob(f"{folder}*.json")) + sorted(data.glob(f"{folder}/*.json")):
        tables = json.loads(path.read_text())
        for doc_id, doc in tables["_default"].items():
            if doc.get("id") == record_id:
                for name, value in changes.items():
                    if value is None:
                        doc.pop(name, None)
                    else:
                        doc[name] = value
                if edit is not None:
                    edit(doc)
                path.write_text(json.dumps(tables))
                return path, doc_id
    raise AssertionError(f"{record_id} not found under {folder}")
