"""The fake keeps to Slack's method descriptions: every method served, only listed errors answered."""

from __future__ import annotations

import inspect
import re

import pytest

import tests.fakeslack.files  # noqa: F401  (registers the file upload handlers)
from tests.fakeslack.contract import load_full_contract
from tests.fakeslack.methods import HANDLERS

CONTRACT = load_full_contract()


def test_every_method_in_the_contract_is_served():
    served = set(HANDLERS) | {"apps.connections.open"}  # answered by the server itself
    assert set(CONTRACT) - served == set()
    assert set(HANDLERS) - set(CONTRACT) == set(), "a handler for a method Slack does not describe"


@pytest.mark.parametrize("name", sorted(HANDLERS))
def test_each_handler_raises_only_errors_its_method_lists(name):
    source = inspect.getsource(HANDLERS[name])
    codes = set(re.findall(r'SlackError\(\s*"([a-z_]+)"', source))
    assert {c for c in codes if not CONTRACT[name].allows(c)} == set()


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_missing_required_arguments_map_to_errors_the_method_lists(name):
    spec = CONTRACT[name]
    assert all(spec.allows(spec.missing_arg_error(arg)) for arg in spec.required)


def test_required_arguments_come_from_the_descriptions():
    assert CONTRACT["chat.postMessage"].required == ("channel",)
    assert set(CONTRACT["chat.update"].required) == {"channel", "ts"}
    assert CONTRACT["chat.update"].missing_arg_error("ts") == "message_not_found"
    assert CONTRACT["views.publish"].missing_arg_error("user_id") == "invalid_arguments"
