"""Bundled outreach templates: every kind renders for any customer, safely, within the modal."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.blocks.limits import MAX_SECTION_TEXT
from bot.models import Event, Risk, RiskReason, Subscriber
from bot.outreach.fields import FIELD_NAMES, customer_fields
from bot.outreach.templates import (
    BUNDLED,
    MAX_SUBJECT,
    TEMPLATE_KINDS,
    TemplateProblem,
    Templates,
)
from tests.bot.builders import TODAY, event, member

HOSTILE = [
    "Ann\r\nBcc: victim@example.com",
    "{{ 7*7 }} {% raw %}x{% endraw %} {{ self.__init__.__globals__ }}",
    "<script>alert(1)</script><b>Bold</b> & <!channel>",
    "=?utf-8?q?Subject=0D=0ABcc:_x@y?=",
    "\x00\x1b[31mred\u2028line\u0085",
    "x" * 5000,
]
EVERY_RISK = Risk(
    score=95,
    band="high",
    reasons=[
        RiskReason(rule, 10, f"internal text {rule} score 95")
        for rule in (
            "payment_failed",
            "past_due",
            "skips",
            "nps_detractor",
            "support_contacts",
            "no_order",
            "paused",
            "downgrade",
        )
    ],
)


def blank_customer() -> Subscriber:
    return Subscriber(id="cus_blank")


def hostile_customer(text: str) -> tuple[Subscriber, list[Event]]:
    sub = member("cus_h", name=text, email="h@example.com", last_order=TODAY)
    sub.subscriptions[0].plan = text
    sub.subscriptions[0].currency = text[:3]
    sub.subscriptions[0].current_period_end = TODAY + timedelta(days=3)
    events = [
        event("cus_h", "support_contact", TODAY - timedelta(days=2)),
        event("cus_h", "nps", TODAY - timedelta(days=1), 2),
    ]
    events = [_with_note(e, text) for e in events]
    return sub, events


def _with_note(e: Event, note: str) -> Event:
    return Event(
        id=e.id, subscriber_id=e.subscriber_id, type=e.type, at=e.at, value=e.value, note=note
    )


def check_draft(subject: str, body: str) -> None:
    assert subject and "\n" not in subject and "\r" not in subject
    assert len(subject) <= MAX_SUBJECT
    assert 0 < len(body) <= MAX_SECTION_TEXT
    assert "None" not in subject + body


@pytest.mark.parametrize("kind", TEMPLATE_KINDS)
def test_every_bundled_template_renders_for_a_customer_with_every_field_missing(kind: str) -> None:
    fields = customer_fields(blank_customer(), [], None, TODAY)

    draft = Templates().render(kind, fields)

    check_draft(draft.subject, draft.body)
    assert draft.body.startswith("Hi there,")
    assert draft.source == BUNDLED / f"{kind}.txt"
    assert "  " not in draft.subject and not draft.subject.endswith(" ")


@pytest.mark.parametrize("kind", TEMPLATE_KINDS)
@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_every_bundled_template_keeps_hostile_values_as_inert_text(kind: str, text: str) -> None:
    sub, events = hostile_customer(text)
    fields = customer_fields(sub, events, EVERY_RISK, TODAY, signature=text)

    draft = Templates().render(kind, fields)

    check_draft(draft.subject, draft.body)
    assert "49" not in draft.body  # "{{ 7*7 }}" in a name is never evaluated
    if "{{" in text:
        assert "{{ 7*7 }}" in draft.body  # ... but kept as the text it is
    assert "Bcc:" not in draft.subject.split("Bcc:")[0]  # one line: no header of its own
    assert "\x00" not in draft.body and "\x1b" not in draft.body and "\u2028" not in draft.body
    assert "score" not in draft.body and "95" not in draft.body  # reasons, never the score


def test_hostile_html_is_escaped_in_the_html_part_and_literal_in_the_text() -> None:
    sub, events = hostile_customer(HOSTILE[2])
    templates = Templates()
    draft = templates.render("churn_risk", customer_fields(sub, events, EVERY_RISK, TODAY))

    html = templates.html(draft.body + "\n\nP.S. <img src=x onerror=alert(1)>")

    assert html is not None
    assert "<script>" in draft.body  # plain text: shown as typed
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img" not in html and "&lt;img src=x" in html
    assert html.count("<p>") >= 3


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(TEMPLATE_KINDS),
    values=st.dictionaries(st.sampled_from(FIELD_NAMES), st.text(max_size=400)),
)
def test_any_field_values_render_within_the_modal(kind: str, values: dict[str, str]) -> None:
    fields = customer_fields(blank_customer(), [], None, TODAY)
    fields.update({k: v for k, v in values.items() if k != "reasons"})
    draft = Templates().render(kind, fields)
    assert len(draft.subject) <= MAX_SUBJECT and "\n" not in draft.subject
    assert len(draft.body) <= MAX_SECTION_TEXT


def test_the_teams_folder_overrides_a_kind_and_the_bundled_ones_fill_the_rest(
    tmp_path: Path,
) -> None:
    (tmp_path / "checkin_30.txt").write_text("Subject: Hey {{ first_name or 'you' }}\n\nOurs.\n")
    templates = Templates(tmp_path)
    fields = customer_fields(member("cus_1", name="Ann Lee"), [], None, TODAY)

    ours = templates.render("checkin_30", fields)
    bundled = templates.render("checkin_90", fields)

    assert (ours.subject, ours.body) == ("Hey Ann", "Ours.")
    assert bundled.source == BUNDLED / "checkin_90.txt"


def test_an_edited_template_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "onboarding.txt"
    path.write_text("Subject: One\n\nBody one")
    templates = Templates(tmp_path)
    fields = customer_fields(blank_customer(), [], None, TODAY)
    assert templates.render("onboarding", fields).subject == "One"

    path.write_text("Subject: Two\n\nBody two")
    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)

    assert templates.render("onboarding", fields).subject == "Two"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("Subject: Hi {{ frist_name }}\n\nx", "frist_name"),
        ("Hi there\n\nno subject line", "first line must be 'Subject: ...'"),
        ("Subject: x\n\n{% for %}", "onboarding.txt"),
        ("Subject: x\n\n{{ ''.__class__.__mro__ }}", "onboarding.txt"),
    ],
)
def test_a_broken_team_template_names_the_file_and_the_problem(
    tmp_path: Path, source: str, message: str
) -> None:
    (tmp_path / "onboarding.txt").write_text(source)

    with pytest.raises(TemplateProblem, match=message.replace("(", r"\(").replace(".", r"\.")):
        Templates(tmp_path).render("onboarding", customer_fields(blank_customer(), [], None, TODAY))


def test_the_sandbox_bounds_a_runaway_loop(tmp_path: Path) -> None:
    (tmp_path / "onboarding.txt").write_text(
        "Subject: x\n\n{% for i in range(10**9) %}{{ i }}{% endfor %}"
    )
    with pytest.raises(TemplateProblem, match="Range too big"):
        Templates(tmp_path).render("onboarding", customer_fields(blank_customer(), [], None, TODAY))


def test_an_unknown_kind_is_refused_with_the_known_kinds() -> None:
    with pytest.raises(TemplateProblem, match="checkin_30"):
        Templates().render("newsletter", {})
