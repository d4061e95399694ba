"""Slack's Block Kit limits as constants, and a checker that says what a payload breaks.

Builders keep within these limits by construction; `check_message` lets tests (and the fake
Slack server) prove it for every output. Numbers are from Slack's Block Kit reference and
`../shared/slack-contract/README.md`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

MAX_BLOCKS_MESSAGE = 50
MAX_BLOCKS_VIEW = 100  # modals and the Home tab
MAX_MESSAGE_TEXT = 40_000  # Slack truncates the fallback `text` past this
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OPTIONS = 100
MAX_PLACEHOLDER = 150
MAX_INPUT_LABEL = 2000
MAX_INPUT_HINT = 2000
MAX_ID = 255  # action_id, block_id, callback_id
MAX_MODAL_TITLE = 24
MAX_MODAL_BUTTON = 24  # submit / close
MAX_PRIVATE_METADATA = 3000
MAX_TEXT_OBJECT = 3000  # any other text object (context elements, confirm dialogs)

SURFACES = ("message", "modal", "home")


def check_message(payload: Any, surface: str = "message") -> None:
    """Raise if a message, modal or Home view breaks a Block Kit limit.

    Args:
        payload: a list of blocks, a message dict (`text`, `blocks`) or a view dict.
        surface: "message", "modal" or "home" (views are detected from `type` too).

    Raises:
        ValueError: listing every problem found, with the path to it (e.g.
            `blocks[3].text.text: 3012 chars > 3000`).
    """
    if surface not in SURFACES:
        raise ValueError(f"surface must be one of {SURFACES}, not {surface!r}")
    problems: list[str] = []
    if isinstance(payload, Mapping):
        blocks = payload.get("blocks", [])
        kind = payload.get("type")
        if kind in ("modal", "home"):
            surface = kind
            _check_view(payload, problems)
        text = payload.get("text")
        if text is not None and (not isinstance(text, str) or len(text) > MAX_MESSAGE_TEXT):
            problems.append(f"text: must be a string of at most {MAX_MESSAGE_TEXT} chars")
        if surface == "message" and not blocks and not text:
            problems.append("message has neither text nor blocks")
    elif isinstance(payload, Sequence) and not isinstance(payload, str):
        blocks = payload
    else:
        raise ValueError(f"expected blocks or a message/view dict, got {type(payload).__name__}")
    max_blocks = MAX_BLOCKS_MESSAGE if surface == "message" else MAX_BLOCKS_VIEW
    if len(blocks) > max_blocks:
        problems.append(f"blocks: {len(blocks)} blocks > {max_blocks} allowed in a {surface}")
    seen_block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        path = f"blocks[{i}]"
        if not isinstance(block, Mapping) or "type" not in block:
            problems.append(f"{path}: not a block (no type)")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            _check_id(block_id, f"{path}.block_id", problems)
            if block_id in seen_block_ids:
                problems.append(f"{path}.block_id: {block_id!r} repeated in one {surface}")
            seen_block_ids.add(block_id)
        _check_block(block, path, surface, problems)
    if problems:
        raise ValueError("Block Kit limits exceeded:\n  " + "\n  ".join(problems))


def _check_view(view: Mapping[str, Any], problems: list[str]) -> None:
    if view["type"] == "modal":
        _check_text(view.get("title"), "title", MAX_MODAL_TITLE, problems, plain=True)
        for key in ("submit", "close"):
            if key in view:
                _check_text(view[key], key, MAX_MODAL_BUTTON, problems, plain=True)
    if "callback_id" in view:
        _check_id(view["callback_id"], "callback_id", problems)
    meta = view.get("private_metadata")
    if meta is not None and len(meta) > MAX_PRIVATE_METADATA:
        problems.append(f"private_metadata: {len(meta)} chars > {MAX_PRIVATE_METADATA}")


def _check_block(block: Mapping[str, Any], path: str, surface: str, problems: list[str]) -> None:
    kind = block["type"]
    if kind == "section":
        if "text" not in block and "fields" not in block:
            problems.append(f"{path}: a section needs text or fields")
        if "text" in block:
            _check_text(block["text"], f"{path}.text", MAX_SECTION_TEXT, problems)
        fields = block.get("fields", [])
        if len(fields) > MAX_FIELDS:
            problems.append(f"{path}.fields: {len(fields)} fields > {MAX_FIELDS}")
        for j, field in enumerate(fields):
            _check_text(field, f"{path}.fields[{j}]", MAX_FIELD_TEXT, problems)
        if "accessory" in block:
            _check_element(block["accessory"], f"{path}.accessory", problems)
    elif kind == "header":
        _check_text(block.get("text"), f"{path}.text", MAX_HEADER_TEXT, problems, plain=True)
    elif kind == "context":
        elements = block.get("elements", [])
        if not elements or len(elements) > MAX_CONTEXT_ELEMENTS:
            problems.append(f"{path}.elements: {len(elements)} (1 to {MAX_CONTEXT_ELEMENTS})")
        for j, element in enumerate(elements):
            if element.get("type") in ("mrkdwn", "plain_text"):
                _check_text(element, f"{path}.elements[{j}]", MAX_TEXT_OBJECT, problems)
    elif kind == "actions":
        elements = block.get("elements", [])
        if not elements or len(elements) > MAX_ACTIONS_ELEMENTS:
            problems.append(f"{path}.elements: {len(elements)} (1 to {MAX_ACTIONS_ELEMENTS})")
        _check_elements(elements, f"{path}.elements", problems)
    elif kind == "input":
        if surface == "message":
            problems.append(f"{path}: input blocks belong in modals")
        _check_text(block.get("label"), f"{path}.label", MAX_INPUT_LABEL, problems, plain=True)
        if "hint" in block:
            _check_text(block["hint"], f"{path}.hint", MAX_INPUT_HINT, problems, plain=True)
        _check_element(block.get("element", {}), f"{path}.element", problems)
    elif kind not in ("divider", "image", "rich_text", "file", "video"):
        problems.append(f"{path}: unknown block type {kind!r}")


def _check_elements(elements: Sequence[Mapping[str, Any]], path: str, problems: list[str]) -> None:
    action_ids: set[str] = set()
    for j, element in enumerate(elements):
        _check_element(element, f"{path}[{j}]", problems)
        action_id = element.get("action_id")
        if action_id is not None:
            if action_id in action_ids:
                problems.append(f"{path}[{j}].action_id: {action_id!r} repeated in one block")
            action_ids.add(action_id)


def _check_element(element: Mapping[str, Any], path: str, problems: list[str]) -> None:
    if "action_id" in element:
        _check_id(element["action_id"], f"{path}.action_id", problems)
    kind = element.get("type")
    if kind == "button":
        _check_text(element.get("text"), f"{path}.text", MAX_BUTTON_TEXT, problems, plain=True)
        value = element.get("value")
        if value is not None and len(value) > MAX_BUTTON_VALUE:
            problems.append(f"{path}.value: {len(value)} chars > {MAX_BUTTON_VALUE}")
    if "placeholder" in element:
        _check_text(element["placeholder"], f"{path}.placeholder", MAX_PLACEHOLDER, problems)
    options = list(element.get("options", []))
    if kind in ("static_select", "overflow", "radio_buttons", "checkboxes") and not options:
        problems.append(f"{path}.options: a {kind} needs at least one option")
    if len(options) > MAX_OPTIONS:
        problems.append(f"{path}.options: {len(options)} > {MAX_OPTIONS}")
    if "initial_option" in element:
        options.append(element["initial_option"])
    for k, option in enumerate(options):
        _check_text(option.get("text"), f"{path}.options[{k}].text", MAX_OPTION_TEXT, problems)
        value = option.get("value", "")
        if not value or len(value) > MAX_OPTION_VALUE:
            problems.append(f"{path}.options[{k}].value: 1 to {MAX_OPTION_VALUE} chars")
    if "max_length" in element and element["max_length"] > MAX_SECTION_TEXT:
        problems.append(f"{path}.max_length: {element['max_length']} > {MAX_SECTION_TEXT}")


def _check_text(
    obj: Any, path: str, limit: int, problems: list[str], *, plain: bool = False
) -> None:
    if not isinstance(obj, Mapping) or obj.get("type") not in ("plain_text", "mrkdwn"):
        problems.append(f"{path}: not a text object")
        return
    if plain and obj["type"] != "plain_text":
        problems.append(f"{path}: must be plain_text")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        problems.append(f"{path}: empty text (Slack refuses it)")
    elif len(text) > limit:
        problems.append(f"{path}: {len(text)} chars > {limit}")


def _check_id(value: Any, path: str, problems: list[str]) -> None:
    if not isinstance(value, str) or not value or len(value) > MAX_ID:
        problems.append(f"{path}: ids must be 1 to {MAX_ID} chars")


def walk_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a nested payload with its path, e.g. ("blocks[0].text.text", "...")."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from walk_strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, Sequence):
        for i, item in enumerate(value):
            yield from walk_strings(item, f"{path}[{i}]")
