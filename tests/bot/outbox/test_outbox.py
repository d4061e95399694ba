"""The outbox against a real SMTP server (STARTTLS + AUTH) and a real Dovecot for Sent."""

from __future__ import annotations

import socket
import threading
from dataclasses import replace
from datetime import date

import pytest

from bot.models import TASK_OPEN, Task
from bot.outbox.message import Draft
from bot.outbox.models import MAIL_FAILED, MAIL_SENT
from bot.outbox.service import OutreachLog, SendRequest
from bot.outbox.smtp import AUTH, CONNECTION, REFUSED, TIMEOUT, UNCERTAIN, SendError
from tests.bot.builders import member
from tests.smtp_server import REFUSED_DOMAIN

pytestmark = pytest.mark.imap


def _request(key: str = "k1", to: str = "ann@customer.example", **kw) -> SendRequest:
    draft = Draft(
        to=to,
        to_name="Ann Lee",
        subject="Re: Where is my box?",
        text="Hi Ann,\n\nIt ships tomorrow.\n\n.\nDana",
        in_reply_to="<orig-1@customer.example>",
        references=("<first@customer.example>",),
    )
    return SendRequest(key=key, user="U1", draft=draft, **kw)


def _customer_with_task(repos, clock) -> Task:
    repos.subscribers.put(member("cus_ann", email="ann@customer.example", name="Ann Lee"))
    task = Task(
        id="t1ann",
        key="cus_ann:checkin_30",
        kind="checkin_30",
        subscriber_id="cus_ann",
        due=date(2026, 6, 15),
        created_at=clock.now(),
    )
    repos.tasks.create(task)
    return task


def test_a_reply_arrives_threaded_is_filed_in_sent_and_logged(
    make_outbox, smtp_server, sent_dovecot, repos, clock
):
    task = _customer_with_task(repos, clock)
    before = smtp_server.count()
    result = make_outbox().send(
        _request(subscriber_id="cus_ann", log=OutreachLog(target="cus_ann"))
    )

    ((msg, meta),) = smtp_server.wait_for(before)
    assert meta["mail_from"] == "care@example.com"
    assert meta["rcpt_tos"] == ["ann@customer.example"]
    assert meta["login"] == "care@example.com"
    assert msg["Message-ID"] == result.record.message_id
    assert msg["In-Reply-To"] == "<orig-1@customer.example>"
    assert msg["References"] == "<first@customer.example> <orig-1@customer.example>"
    assert msg["Subject"] == "Re: Where is my box?"
    assert str(msg["To"]) == "Ann Lee <ann@customer.example>"
    assert (
        msg.get_content().replace("\r\n", "\n").rstrip("\n")
        == "Hi Ann,\n\nIt ships tomorrow.\n\n.\nDana"
    )

    assert result.record.status == MAIL_SENT and not result.warnings
    assert result.record.sent_folder == "Sent"
    with sent_dovecot.client() as conn:
        conn.select("Sent", readonly=True)
        _, found = conn.uid("SEARCH", "HEADER", "Message-ID", f'"{result.record.message_id}"')
        assert len(found[0].split()) == 1

    (logged,) = repos.outreach.for_subscriber("cus_ann")
    assert (logged.channel, logged.outcome, logged.task_id) == ("email", "reached", task.id)
    assert repos.tasks.require(task.id).status == TASK_OPEN  # logged, left open
    assert repos.sent.get("k1").outreach_id == logged.id


def test_a_retry_or_a_double_click_sends_once(make_outbox, smtp_server, repos, clock):
    _customer_with_task(repos, clock)
    outbox = make_outbox()
    before = smtp_server.count()
    request = _request("double", subscriber_id="cus_ann", log=OutreachLog(target="cus_ann"))
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(outbox.send(request))) for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    again = outbox.send(request)

    assert len(smtp_server.wait_for(before)) == 1
    assert smtp_server.count() == before + 1
    assert sorted(r.already_sent for r in [*results, again]) == [False, True, True, True]
    assert len(repos.outreach.for_subscriber("cus_ann")) == 1
    assert len({r.record.message_id for r in [*results, again]}) == 1


def test_a_refused_login_says_what_to_fix_and_sends_nothing(
    make_outbox, smtp_settings, smtp_server, repos
):
    before = smtp_server.count()
    outbox = make_outbox(replace(smtp_settings, password="wrong"))
    with pytest.raises(SendError) as err:
        outbox.send(_request("auth"))
    assert err.value.kind == AUTH
    assert "SMTP_USER" in str(err.value) and "app password" in str(err.value)
    assert repos.sent.get("auth").status == MAIL_FAILED
    assert smtp_server.count() == before

    first_id = repos.sent.get("auth").message_id
    fixed = make_outbox()  # the password is fixed: the same message (same Message-ID) goes out once
    fixed.send(_request("auth"))
    fixed.send(_request("auth"))
    ((msg, _),) = smtp_server.wait_for(before)
    assert msg["Message-ID"] == first_id
    assert smtp_server.count() == before + 1


def test_a_refused_recipient_is_named(make_outbox, smtp_server, repos):
    before = smtp_server.count()
    with pytest.raises(SendError) as err:
        make_outbox().send(_request("refused", to=f"nobody@{REFUSED_DOMAIN}"))
    assert err.value.kind == REFUSED
    assert f"nobody@{REFUSED_DOMAIN}" in str(err.value) and "550" in str(err.value)
    assert smtp_server.count() == before


def test_a_silent_server_times_out_and_an_unreachable_one_is_named(make_outbox, smtp_settings):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        with pytest.raises(SendError) as err:
            make_outbox(replace(smtp_settings, port=port, timeout=0.5)).send(_request("silent"))
    assert err.value.kind == TIMEOUT and not err.value.maybe_sent
    assert "did not answer in 0.5 s" in str(err.value)
    with pytest.raises(SendError) as err:
        make_outbox(replace(smtp_settings, port=port)).send(_request("closed"))
    assert err.value.kind == CONNECTION and f":{port}" in str(err.value)


def test_implicit_tls_sends_too(make_outbox, smtp_settings, smtp_server):
    before = smtp_server.count()
    ssl_settings = replace(smtp_settings, port=smtp_server.tls_port, security="ssl")
    make_outbox(ssl_settings).send(_request("implicit"))
    assert len(smtp_server.wait_for(before)) == 1


def test_a_crash_mid_send_is_never_sent_again(make_outbox, smtp_server, repos, clock):
    from bot.outbox.models import MAIL_SENDING, SentMail

    repos.sent.put(
        SentMail(key="crashed", message_id="<x@example.com>", status=MAIL_SENDING, to="a@b.example",
                 subject="s", by="U1", created_at=clock.now())
    )  # fmt: skip
    before = smtp_server.count()
    with pytest.raises(SendError) as err:
        make_outbox().send(_request("crashed"))
    assert err.value.kind == UNCERTAIN and "Sent folder" in str(err.value)
    assert smtp_server.count() == before


def test_the_copy_failing_still_reports_the_mail_as_sent(make_outbox, mailbox, smtp_server, repos):
    before = smtp_server.count()
    result = make_outbox(imap=replace(mailbox, password="wrong")).send(_request("nocopy"))
    assert len(smtp_server.wait_for(before)) == 1
    assert result.record.status == MAIL_SENT
    assert result.warnings and "no copy was saved in Sent" in result.warnings[0]
