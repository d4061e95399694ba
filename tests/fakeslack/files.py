"""File uploads as slack_sdk's `files_upload_v2` makes them, in three steps:

1. `files.getUploadURLExternal(filename, length)` answers an `upload_url` and a `file_id`;
2. the client POSTs the file's bytes to that URL (served by the fake under `/upload/<id>`);
3. `files.completeUploadExternal(files=[{id, title}], channel_id, thread_ts, initial_comment)`
   shares the uploaded files: a message with `files` appears in the channel or thread.

The fake checks what Slack checks: a length that matches the bytes sent, a file id that was
issued and uploaded, completed once, a channel the bot is in, a thread that exists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tests.fakeslack.methods import channel_arg, method
from tests.fakeslack.state import SlackError, Workspace

MAX_ALT_TEXT = 1000


@dataclass
class Upload:
    id: str
    filename: str
    length: int
    alt_txt: str = ""
    data: bytes | None = None
    title: str = ""
    shared: list[dict[str, str]] = field(default_factory=list)  # [{"channel", "ts"}]


class Uploads:
    """The uploads of one fake workspace, by file id."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.files: dict[str, Upload] = {}

    def receive(self, file_id: str, data: bytes) -> tuple[int, str]:
        upload = self.files.get(file_id)
        if upload is None:
            return 404, "no such upload"
        if upload.data is not None:
            return 400, "already uploaded"
        if len(data) != upload.length:
            return 400, f"length {len(data)} is not the {upload.length} announced"
        upload.data = data
        return 200, f"OK - {len(data)}"


def _uploads(ws: Workspace) -> Uploads:
    uploads: Uploads = ws.uploads  # type: ignore[attr-defined]
    return uploads


@method("files.getUploadURLExternal")
def files_get_upload_url_external(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    try:
        length = int(args["length"])
    except (TypeError, ValueError):
        raise SlackError(
            "invalid_arguments", "length must be a whole number", violation=True
        ) from None
    if length <= 0:
        raise SlackError("missing_argument", "length must be more than 0", violation=True)
    alt = str(args.get("alt_txt") or "")
    if len(alt) > MAX_ALT_TEXT:
        raise SlackError("alt_txt_too_large", f"alt_txt has {len(alt)} characters", violation=True)
    uploads = _uploads(ws)
    file_id = ws.new_id("F")
    uploads.files[file_id] = Upload(file_id, str(args["filename"]), length, alt)
    return {"upload_url": f"{uploads.base_url}/upload/{file_id}", "file_id": file_id}


@method("files.completeUploadExternal")
def files_complete_upload_external(ws: Workspace, args: dict[str, Any]) -> dict[str, Any]:
    raw = args["files"]
    try:
        items = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise SlackError("invalid_arguments", "files is not JSON", violation=True) from None
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise SlackError("invalid_arguments", "files must be a list of {id, title}", violation=True)
    uploads = _uploads(ws)
    chosen = []
    for item in items:
        upload = uploads.files.get(str(item.get("id")))
        if upload is None or upload.data is None or upload.shared:
            raise SlackError(
                "file_not_found", f"{item.get('id')}: not issued, not uploaded or completed twice"
            )
        upload.title = str(item.get("title") or upload.filename)
        chosen.append(upload)
    if args.get("channel_id"):
        try:
            channel_id = channel_arg(ws, {"channel": args["channel_id"]})
        except SlackError as exc:
            code = (
                "invalid_channel"
                if exc.code == "channel_not_found"
                else "posting_to_channel_denied"
            )
            raise SlackError(code, exc.detail) from None
        content: dict[str, Any] = {
            "files": [{"id": u.id, "name": u.filename, "title": u.title} for u in chosen],
            "upload": True,
        }
        if args.get("initial_comment"):
            content["text"] = str(args["initial_comment"])
        msg = ws.post(channel_id, ws.bot_user_id, content, thread_ts=args.get("thread_ts") or None)
        for upload in chosen:
            upload.shared.append({"channel": channel_id, "ts": msg["ts"]})
    else:
        for upload in chosen:
            upload.shared.append({"channel": "", "ts": ""})  # private to the bot
    return {"files": [{"id": u.id, "title": u.title} for u in chosen]}
