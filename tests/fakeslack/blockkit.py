"""Block Kit limits Slack enforces, checked by the fake on every message and view.

Each check returns a list of problems written for a person (``blocks[3].text: 3012 characters,
the limit is 3000``); an empty list means Slack would accept the blocks. The limits are those in
../shared/slack-contract/README.md plus Slack's documented per-element ones.
"""

from __future__ import annotations

from typing import Any

MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MAX_ID = 255
MAX_VIEW_TITLE = 24
MAX_PRIVATE_METADATA = 3000
MAX_LABEL = 2000
MAX_PLACEHOLDER = 150
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OPTIONS = 100
MAX_ACTIONS_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_MESSAGE_TEXT = 40_000

BLOCK_TYPES = frozenset(
    {
        "actions",
        "call",
        "context",
        "context_actions",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "table",
        "video",
    }
)
SELECTS = frozenset(
    {
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
    }
)
ELEMENT_TYPES = SELECTS | {
    "button",
    "checkboxes",
    "datepicker",
    "datetimepicker",
    "email_text_input",
    "feedback_buttons",
    "file_input",
    "icon_button",
    "image",
    "number_input",
    "overflow",
    "plain_text_input",
    "radio_buttons",
    "rich_text_input",
    "timepicker",
    "url_text_input",
    "workflow_button",
}


def _text(obj: Any, where: str, limit: int, *, plain_only: bool = False) -> list[str]:
    """A text object: ``{"type": "plain_text"|"mrkdwn", "text": "..."}``, 1..limit characters."""
    if not isinstance(obj, dict):
        return [f"{where}: must be a text object, got {type(obj).__name__}"]
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    problems = []
    if obj.get("type") not in allowed:
        problems.append(f"{where}.type: {obj.get('type')!r}, must be {' or '.join(allowed)}")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        problems.append(f"{where}.text: must be a non-empty string")
    elif len(text) > limit:
        problems.append(f"{where}.text: {len(text)} characters, the limit is {limit}")
    return problems


def _max_len(value: Any, where: str, limit: int) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, str):
        return [f"{where}: must be a string"]
    return [f"{where}: {len(value)} characters, the limit is {limit}"] if len(value) > limit else []


def _options(options: Any, where: str, limit: int) -> list[str]:
    if not isinstance(options, list) or not options:
        return [f"{where}: must be a non-empty list"]
    problems = (
        [f"{where}: {len(options)} options, the limit is {limit}"] if len(options) > limit else []
    )
    for i, opt in enumerate(options):
        w = f"{where}[{i}]"
        if not isinstance(opt, dict):
            problems.append(f"{w}: must be an option object")
            continue
        problems += _text(opt.get("text"), f"{w}.text", MAX_OPTION_TEXT)
        problems += _max_len(opt.get("value"), f"{w}.value", MAX_OPTION_VALUE)
    return problems


def check_element(el: Any, where: str) -> list[str]:
    """Check one interactive or context element (button, select, input...)."""
    if not isinstance(el, dict):
        return [f"{where}: must be an object"]
    kind = el.get("type")
    if kind not in ELEMENT_TYPES:
        return [f"{where}.type: unknown element type {kind!r}"]
    problems = _max_len(el.get("action_id"), f"{where}.action_id", MAX_ID)
    if "placeholder" in el:
        problems += _text(
            el["placeholder"], f"{where}.placeholder", MAX_PLACEHOLDER, plain_only=True
        )
    if kind == "button":
        problems += _text(el.get("text"), f"{where}.text", MAX_BUTTON_TEXT, plain_only=True)
        problems += _max_len(el.get("value"), f"{where}.value", MAX_BUTTON_VALUE)
        problems += _max_len(el.get("url"), f"{where}.url", MAX_URL)
        if el.get("style") not in (None, "primary", "danger"):
            problems.append(f"{where}.style: {el['style']!r}, must be primary or danger")
    elif kind == "image":
        if not el.get("image_url") and not el.get("slack_file"):
            problems.append(f"{where}: image needs image_url or slack_file")
        problems += _max_len(el.get("alt_text") or None, f"{where}.alt_text", MAX_LABEL)
    elif kind in ("static_select", "multi_static_select"):
        if "option_groups" not in el:
            problems += _options(el.get("options"), f"{where}.options", MAX_OPTIONS)
    elif kind == "overflow":
        problems += _options(el.get("options"), f"{where}.options", 5)
    elif kind in ("radio_buttons", "checkboxes"):
        problems += _options(el.get("options"), f"{where}.options", 10)
    elif kind == "plain_text_input":
        max_length = el.get("max_length")
        if max_length is not None and not (isinstance(max_length, int) and 0 < max_length <= 3000):
            problems.append(f"{where}.max_length: {max_length!r}, must be 1..3000")
    return problems


def _check_block(block: Any, where: str) -> list[str]:
    if not isinstance(block, dict):
        return [f"{where}: must be an object"]
    kind = block.get("type")
    if kind not in BLOCK_TYPES:
        return [f"{where}.type: unknown block type {kind!r}"]
    problems = _max_len(block.get("block_id"), f"{where}.block_id", MAX_ID)
    if kind == "section":
        if "text" not in block and "fields" not in block:
            problems.append(f"{where}: a section needs text or fields")
        if "text" in block:
            problems += _text(block["text"], f"{where}.text", MAX_SECTION_TEXT)
        fields = block.get("fields", [])
        if len(fields) > MAX_FIELDS:
            problems.append(f"{where}.fields: {len(fields)} fields, the limit is {MAX_FIELDS}")
        for i, field in enumerate(fields):
            problems += _text(field, f"{where}.fields[{i}]", MAX_FIELD_TEXT)
        if "accessory" in block:
            problems += check_element(block["accessory"], f"{where}.accessory")
    elif kind == "header":
        problems += _text(block.get("text"), f"{where}.text", MAX_HEADER, plain_only=True)
    elif kind == "actions":
        problems += _elements(block.get("elements"), where, MAX_ACTIONS_ELEMENTS)
    elif kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            return problems + [f"{where}.elements: must be a non-empty list"]
        if len(elements) > MAX_CONTEXT_ELEMENTS:
            problems.append(
                f"{where}.elements: {len(elements)}, the limit is {MAX_CONTEXT_ELEMENTS}"
            )
        for i, el in enumerate(elements):
            w = f"{where}.elements[{i}]"
            is_text = isinstance(el, dict) and el.get("type") in ("plain_text", "mrkdwn")
            problems += _text(el, w, MAX_SECTION_TEXT) if is_text else check_element(el, w)
    elif kind == "input":
        problems += _text(block.get("label"), f"{where}.label", MAX_LABEL, plain_only=True)
        if "hint" in block:
            problems += _text(block["hint"], f"{where}.hint", MAX_LABEL, plain_only=True)
        if "element" not in block:
            problems.append(f"{where}: an input block needs an element")
        else:
            problems += check_element(block["element"], f"{where}.element")
    elif kind == "image":
        problems += check_element({**block, "type": "image"}, where)
    return problems


def _elements(elements: Any, where: str, limit: int) -> list[str]:
    if not isinstance(elements, list) or not elements:
        return [f"{where}.elements: must be a non-empty list"]
    problems = []
    if len(elements) > limit:
        problems.append(f"{where}.elements: {len(elements)} elements, the limit is {limit}")
    seen: set[str] = set()
    for i, el in enumerate(elements):
        problems += check_element(el, f"{where}.elements[{i}]")
        action_id = el.get("action_id") if isinstance(el, dict) else None
        if action_id is not None and action_id in seen:
            problems.append(f"{where}.elements[{i}].action_id: {action_id!r} repeated in one block")
        if action_id is not None:
            seen.add(action_id)
    return problems


def check_blocks(blocks: Any, *, surface: str = "message") -> list[str]:
    """Check a list of blocks for one surface.

    Args:
        blocks: The ``blocks`` argument, already decoded from JSON.
        surface: ``message`` (50 blocks at most), ``modal`` or ``home`` (100).

    Returns:
        The problems found; empty when Slack would accept the blocks.
    """
    if not isinstance(blocks, list):
        return [f"blocks: must be a list, got {type(blocks).__name__}"]
    limit = MAX_BLOCKS[surface]
    problems = []
    if len(blocks) > limit:
        problems.append(f"blocks: {len(blocks)} blocks, the limit in a {surface} is {limit}")
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        problems += _check_block(block, f"blocks[{i}]")
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if block_id is not None and block_id in seen:
            problems.append(f"blocks[{i}].block_id: {block_id!r} used twice")
        if block_id is not None:
            seen.add(block_id)
    return problems


def check_view(view: Any) -> list[str]:
    """Check a modal or Home tab view (views.open/push/update/publish).

    Args:
        view: The decoded ``view`` argument.

    Returns:
        The problems found; empty when Slack would accept the view.
    """
    if not isinstance(view, dict):
        return [f"view: must be an object, got {type(view).__name__}"]
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return [f"view.type: {kind!r}, must be modal or home"]
    problems = check_blocks(view.get("blocks"), surface=kind)
    problems += _max_len(
        view.get("private_metadata"), "view.private_metadata", MAX_PRIVATE_METADATA
    )
    problems += _max_len(view.get("callback_id"), "view.callback_id", MAX_ID)
    problems += _max_len(view.get("external_id"), "view.external_id", MAX_ID)
    if kind == "modal":
        problems += _text(view.get("title"), "view.title", MAX_VIEW_TITLE, plain_only=True)
        for key in ("submit", "close"):
            if key in view:
                problems += _text(view[key], f"view.{key}", MAX_VIEW_TITLE, plain_only=True)
        blocks = view.get("blocks") if isinstance(view.get("blocks"), list) else []
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        if has_input and "submit" not in view:
            problems.append("view.submit: a modal with input blocks needs a submit button")
    return problems
