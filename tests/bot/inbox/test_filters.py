"""Noise filters on real bounces, complaints and receipts, and on auto-replies written here."""

from __future__ import annotations

import pytest

from bot.inbox.filters import classify
from bot.inbox.parse import parse_email
from tests.bot.inbox.mail import make_email
from tests.conftest import SHARED

CORPUS = SHARED / "email-corpus"
FLANKER_BOUNCES = sorted((CORPUS / "flanker" / "bounce").glob("*.eml"))
# Failed recipients each real bounce names (no-mx.eml is a delay warning: nobody failed yet).
BOUNCED = {
    "broken-mime": ("info@example.net",),
    "delayed-broken": ("demo@example.com",),
    "delayed": ("foo@example.com",),
    "gmail-invalid-address": ("awfawfawfawfawfaw@someserverhere.com",),
    "gmail-no-dns": ("user@example.comm",),
    "mailbox-full": ("user@aol.com",),
    "no-mx": (),
    "office365": ("noname@example.com",),
    "zed": ("asdfasdfasdfasdfasdfasdfewrqertrtyrthsfgdfgadfqeadvxzvz@gmail.com",),
}


def kind_of(raw: bytes) -> str:
    return classify(parse_email(raw)).kind


@pytest.mark.parametrize("path", FLANKER_BOUNCES, ids=lambda p: p.stem)
def test_every_flanker_bounce_is_a_bounce_naming_the_failed_recipient(path):
    verdict = classify(parse_email(path.read_bytes()))

    assert verdict.kind == "bounce"
    assert verdict.bounced_addresses == BOUNCED[path.stem]


def test_the_corpus_bounce_list_is_complete():
    assert {p.stem for p in FLANKER_BOUNCES} == set(BOUNCED)


def test_delay_warning_says_delivery_is_still_being_retried():
    verdict = classify(parse_email((CORPUS / "flanker/bounce/no-mx.eml").read_bytes()))

    assert "delayed" in verdict.reason


def test_cpython_dsn_is_a_bounce_for_the_quota_recipient():
    verdict = classify(parse_email((CORPUS / "cpython/msg_16.txt").read_bytes()))

    assert verdict.kind == "bounce"
    assert verdict.bounced_addresses == ("jangel1@cougar.noc.ucla.edu",)


@pytest.mark.parametrize("name", ["aol", "yahoo"])
def test_arf_reports_are_complaints(name):
    assert kind_of((CORPUS / "flanker/complaints" / f"{name}.eml").read_bytes()) == "complaint"


def test_disposition_notification_is_a_read_receipt():
    assert kind_of((CORPUS / "flanker/disposition-notification.eml").read_bytes()) == "read_receipt"


@pytest.mark.parametrize(
    "path", sorted((CORPUS / "talon-replies").glob("*.eml")), ids=lambda p: p.stem
)
def test_real_replies_are_human(path):
    assert kind_of(path.read_bytes()) == "human"


@pytest.mark.parametrize(
    "name", ["8bitmime", "bilingual-simple", "enclosed", "russian-attachment-yahoo", "attached-pdf"]
)
def test_real_personal_mail_is_human(name):
    assert kind_of((CORPUS / "flanker" / f"{name}.eml").read_bytes()) == "human"


def test_outlook_automatic_reply_is_an_auto_reply():
    raw = make_email(
        subject="Automatic reply: Your June box",
        body="I am out of the office until June 22 with limited access to email.",
        headers={"X-MS-Exchange-Inbox-Rules-Loop": "ann@example.com"},
    )

    verdict = classify(parse_email(raw))

    assert verdict.kind == "auto_reply"
    assert "Automatic reply" in verdict.reason


@pytest.mark.parametrize(
    "subject",
    [
        "Out of Office: Your June box",
        "Auto-Reply: Re: order 1234",
        "Abwesenheitsnotiz: Ihre Bestellung",
        "Réponse automatique : votre box",
        "AutoReply",
    ],
)
def test_typical_out_of_office_subjects_are_auto_replies(subject):
    assert kind_of(make_email(subject=subject, body="Away until Monday.")) == "auto_reply"


def test_rfc3834_auto_submitted_is_an_auto_reply_unless_no():
    replied = make_email(subject="Re: Your box", headers={"Auto-Submitted": "auto-replied"})
    generated = make_email(subject="Your receipt", headers={"Auto-Submitted": "auto-generated"})
    human = make_email(subject="Re: Your box", headers={"Auto-Submitted": "no"})

    assert kind_of(replied) == "auto_reply"
    assert kind_of(generated) == "auto_reply"
    assert kind_of(human) == "human"


@pytest.mark.parametrize("header", ["X-Autoreply", "X-Autorespond"])
def test_autoreply_headers_are_auto_replies(header):
    assert kind_of(make_email(subject="Re: hello", headers={header: "yes"})) == "auto_reply"


@pytest.mark.parametrize(
    ("precedence", "kind"),
    [
        ("bulk", "auto_reply"),
        ("junk", "auto_reply"),
        ("auto_reply", "auto_reply"),
        ("list", "mailing_list"),
    ],
)
def test_precedence_header(precedence, kind):
    assert kind_of(make_email(headers={"Precedence": precedence})) == kind


def test_mailing_lists_and_newsletters_are_filtered():
    listed = make_email(headers={"List-Id": "Coffee lovers <coffee.lists.example.com>"})
    newsletter = make_email(headers={"List-Unsubscribe": "<mailto:unsub@news.example.com>"})

    assert kind_of(listed) == "mailing_list"
    assert kind_of(newsletter) == "mailing_list"


def test_mailer_daemon_sender_is_a_bounce_even_without_a_report():
    raw = make_email(
        subject="failure notice",
        sender="MAILER-DAEMON@mx.example.net",
        body="Sorry, I couldn't deliver to <gone@example.org>: mailbox unavailable.\n\n"
        "--- Below this line is a copy of the message.\n\nFrom: support@shop.example\n",
    )

    verdict = classify(parse_email(raw))

    assert verdict.kind == "bounce"
    assert verdict.bounced_addresses == ("gone@example.org",)


def test_empty_return_path_alone_is_treated_as_a_delivery_report():
    raw = make_email(subject="Notice", headers={"Return-Path": "<>"})

    assert kind_of(raw) == "bounce"


def test_human_mail_that_mentions_offices_and_lists_stays_human():
    raw = make_email(
        subject="Question about my office coffee subscription",
        body="Can you add me to the list for the new roast? I'm out of office coffee!",
    )

    assert kind_of(raw) == "human"
