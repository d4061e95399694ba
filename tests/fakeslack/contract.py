"""Slack's own method descriptions (../shared/slack-contract/methods/*.json), loaded for the fake.

Each file names the method's required arguments and the error codes Slack answers it with. The fake
answers only with those codes (or Slack's generic ones), so that a bot tested against it handles the
errors real Slack sends.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# ../shared beside the checkout: tests/fakeslack/contract.py -> parents[3] is the checkout's parent.
SHARED = Path(__file__).resolve().parents[3] / "shared"
CONTRACT_DIR = SHARED / "slack-contract"
METHODS_DIR = CONTRACT_DIR / "methods"
MANIFEST_SCHEMA = CONTRACT_DIR / "manifest.schema.1.0.0.json"
# Descriptions of methods the shared folder lacks (files.*UploadExternal), same format.
EXTRA_METHODS_DIR = Path(__file__).with_name("methods")

# Errors any Web API method may answer with, whatever its own description lists.
GENERIC_ERRORS = frozenset(
    {
        "not_authed",
        "invalid_auth",
        "invalid_arguments",
        "invalid_blocks",
        "ratelimited",
        "fatal_error",
        "internal_error",
        "request_timeout",
        "unknown_method",
    }
)

# Arguments every method takes: the token, and team_id, which slack_sdk sends on every call of
# a client Bolt built for a request (org-wide apps name the workspace with it).
GLOBAL_ARGS = frozenset({"token", "team_id"})

# For a missing required argument, the method's own error that fits best (first listed wins);
# a method without any of them answers invalid_arguments, as Slack does.
MISSING_ARG_ERRORS: dict[str, tuple[str, ...]] = {
    "channel": ("channel_not_found",),
    "ts": ("message_not_found", "thread_not_found"),
    "message_ts": ("message_not_found",),
    "timestamp": ("no_item_specified", "bad_timestamp"),
    "name": ("invalid_name",),
    "user": ("user_not_found", "user_not_in_channel"),
    "email": ("users_not_found",),
    "usergroup": ("no_such_subteam",),
}


@dataclass(frozen=True)
class MethodSpec:
    """What Slack's description says about one Web API method.

    Attributes:
        name: The method, e.g. ``chat.postMessage``.
        http_method: ``GET`` or ``POST`` as documented (Slack accepts both for most methods).
        required: Mandatory arguments, without ``token`` (it travels in the header).
        known_args: Every argument the method documents, plus ``GLOBAL_ARGS``.
        errors: The method's own error codes.
        rate_tier: ``t2``...``t5``; ``t5`` for chat.postMessage means about 1 per second per channel.
    """

    name: str
    http_method: str
    required: tuple[str, ...]
    known_args: frozenset[str]
    errors: frozenset[str]
    rate_tier: str

    def allows(self, error: str) -> bool:
        """True when Slack may answer this method with ``error``."""
        return error in self.errors or error in GENERIC_ERRORS

    def missing_arg_error(self, arg: str) -> str:
        """The error code Slack gives when ``arg`` is missing from a call to this method."""
        for candidate in MISSING_ARG_ERRORS.get(arg, ()):
            if candidate in self.errors:
                return candidate
        return "invalid_arguments"


def _spec(path: Path) -> MethodSpec:
    doc = json.loads(path.read_text(encoding="utf-8"))
    args = doc.get("args") or {}
    required = tuple(a for a in args.get("required", []) if a != "token")
    return MethodSpec(
        name=path.name.removesuffix(".json"),
        http_method=doc.get("http_method", "POST"),
        required=required,
        known_args=frozenset(args.get("properties", {})) | GLOBAL_ARGS,
        errors=frozenset(doc.get("errors") or {}),
        rate_tier=str(doc.get("rate_limits", "")),
    )


@cache
def load_contract(directory: Path = METHODS_DIR) -> dict[str, MethodSpec]:
    """Load every ``<method>.json`` in ``directory``.

    Args:
        directory: The folder of method descriptions (default: the shared slack-contract).

    Returns:
        Method name -> its spec.

    Raises:
        FileNotFoundError: When the folder is missing, saying where ../shared was expected.
    """
    if not directory.is_dir():
        raise FileNotFoundError(
            f"Slack's method descriptions are not at {directory}: the tests expect the shared "
            "material (slack-contract/) in ../shared beside the checkout."
        )
    return {spec.name: spec for spec in map(_spec, sorted(directory.glob("*.json")))}


def load_full_contract() -> dict[str, MethodSpec]:
    """The shared descriptions, plus those kept in tests/fakeslack/methods for methods the shared
    folder lacks (a shared description of the same method wins)."""
    extra = {spec.name: spec for spec in map(_spec, sorted(EXTRA_METHODS_DIR.glob("*.json")))}
    return {**extra, **load_contract(METHODS_DIR)}
