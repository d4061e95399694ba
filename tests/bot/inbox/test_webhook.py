"""The inbound webhook's HMAC-SHA256 signature check."""

from __future__ import annotations

import hashlib
import hmac

from bot.inbox.webhook import MAX_BODY, check_request, sign, verify_signature
from tests.bot.inbox.mail import make_email

SECRET = "whsec-test-secret"


def test_signed_body_verifies():
    body = make_email()
    header = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()

    assert sign(body, SECRET) == header
    assert verify_signature(body, header, SECRET)


def test_upper_case_hex_and_spaces_are_accepted():
    body = make_email()

    assert verify_signature(
        body, "  " + sign(body, SECRET).upper().replace("SHA256", "sha256"), SECRET
    )


def test_unsigned_request_is_refused():
    assert not verify_signature(make_email(), "", SECRET)


def test_signature_with_another_secret_is_refused():
    body = make_email()

    assert not verify_signature(body, sign(body, "another-secret"), SECRET)


def test_changed_body_is_refused():
    body = make_email(body="Please refund me")

    assert not verify_signature(body.replace(b"refund", b"charge"), sign(body, SECRET), SECRET)


def test_signature_without_the_scheme_prefix_is_refused():
    body = make_email()

    assert not verify_signature(body, sign(body, SECRET).removeprefix("sha256="), SECRET)
    assert not verify_signature(body, "sha256=not-hex-ÿ", SECRET)


def test_empty_secret_never_verifies():
    body = make_email()

    assert not verify_signature(body, sign(body, ""), "")


def test_size_limit_is_ten_megabytes():
    assert MAX_BODY == 10 * 1024 * 1024


def test_request_checks_give_the_status_and_what_to_fix():
    body = make_email()
    big = b"x" * (MAX_BODY + 1)

    assert check_request(body, sign(body, SECRET), SECRET) is None
    unsigned = check_request(body, "", SECRET)
    assert unsigned[0] == 401 and "X-Care-Signature" in unsigned[1]
    assert check_request(body, sign(body, "x"), SECRET)[0] == 401
    unconfigured = check_request(body, sign(body, ""), "")
    assert unconfigured[0] == 401 and "INBOX_WEBHOOK_SECRET" in unconfigured[1]
    assert check_request(big, sign(big, SECRET), SECRET)[0] == 413
