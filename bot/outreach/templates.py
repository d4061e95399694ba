"""Outreach drafts from the team's templates, rendered by Jinja2 in a sandbox.

A template is one file per kind (`onboarding.txt`, `checkin_30.txt`, ..., `failed_payment.txt`):
its first line is `Subject: ...`, then a blank line, then the body, plain text. Templates come
from the team's folder (`[outreach] templates_dir` in care.toml) and, for a kind it lacks, from
the bundled `templates/`. An optional `layout.html` turns the (possibly edited) body into the
email's HTML part; it is autoescaped, so no customer or manager text becomes markup.

Templates are the team's code, customer data is not: values are plain strings rendered in a
`SandboxedEnvironment` (no attribute tricks, bounded `range`), never rendered again, so a name
containing "{{ 7*7 }}" stays text. A field the template does not know (a typo) raises
`TemplateProblem` naming the file and line (StrictUndefined); a field of ours we do not know for
this customer is "" (see `bot.outreach.fields`), never "None".
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from bot.models import TASK_KINDS
from bot.outreach.fields import clean

BUNDLED = Path(__file__).resolve().parents[2] / "templates"
TEMPLATE_KINDS = (*TASK_KINDS, "failed_payment")
SUFFIX = ".txt"
LAYOUT = "layout.html"
MAX_SUBJECT = 150  # the modal's subject input holds this much
MAX_BODY = 3000  # a plain_text_input holds at most 3000 characters
MAX_TEMPLATE_BYTES = 64_000


class TemplateProblem(Exception):
    """A template is missing or does not render; the message names the file and what to fix."""


@dataclass(frozen=True)
class Draft:
    """A rendered email: one-line subject, plain-text body, and the template it came from."""

    kind: str
    subject: str
    body: str
    source: Path


def _finalize(value: Any) -> Any:
    return "" if value is None else value


def _environment(autoescape: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=autoescape,
        finalize=_finalize,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


class Templates:
    """The team's templates over the bundled ones; compiled once per file change.

    Thread-safe: listener threads render concurrently.
    """

    def __init__(self, team_dir: Path | None = None, bundled: Path = BUNDLED) -> None:
        self.folders = [d for d in (team_dir, bundled) if d is not None]
        self._text = _environment(autoescape=False)
        self._html = _environment(autoescape=True)
        self._cache: dict[tuple[Path, int], Any] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any) -> Templates:
        """The templates named by `settings.outreach.templates_dir` (relative to care.toml)."""
        folder = settings.outreach.templates_dir
        if not folder:
            return cls()
        path = Path(folder).expanduser()
        if not path.is_absolute():
            path = Path(settings.config_path).resolve().parent / path
        return cls(path)

    def path(self, name: str) -> Path | None:
        """The file for `name` (e.g. "checkin_30.txt"): the team's, else the bundled one."""
        for folder in self.folders:
            candidate = folder / name
            if candidate.is_file():
                return candidate
        return None

    def render(self, kind: str, fields: Mapping[str, Any]) -> Draft:
        """The draft for `kind` filled from `fields`.

        Raises:
            TemplateProblem: no template for the kind, or it does not render.
        """
        if kind not in TEMPLATE_KINDS:
            raise TemplateProblem(f"No template kind {kind!r}; kinds: {', '.join(TEMPLATE_KINDS)}")
        path = self.path(kind + SUFFIX)
        if path is None:
            raise TemplateProblem(
                f"No template {kind}{SUFFIX} in {' or '.join(str(f) for f in self.folders)}"
            )
        subject_t, body_t = self._compiled(path)
        try:
            subject = clean(subject_t.render(fields), MAX_SUBJECT)
            body = _tidy(body_t.render(fields))
        except (TemplateError, ArithmeticError, LookupError, TypeError, ValueError) as exc:
            # a team's template is code: whatever it raises is a problem in that file
            raise TemplateProblem(f"{path}: {exc}") from exc
        if len(body) > MAX_BODY:
            body = body[: MAX_BODY - 1].rstrip() + "…"
        return Draft(kind, subject, body, path)

    def html(self, body: str) -> str | None:
        """The HTML part for a plain body through `layout.html` (autoescaped); None without one.

        Raises:
            TemplateProblem: the layout does not render.
        """
        path = self.path(LAYOUT)
        if path is None:
            return None
        template = self._compiled(path, whole=True)
        paragraphs = [p.splitlines() for p in body.replace("\r\n", "\n").split("\n\n") if p.strip()]
        try:
            return str(template.render(paragraphs=paragraphs))
        except (TemplateError, ArithmeticError, LookupError, TypeError, ValueError) as exc:
            raise TemplateProblem(f"{path}: {exc}") from exc

    def _compiled(self, path: Path, whole: bool = False) -> Any:
        stat = path.stat()
        key = (path, stat.st_mtime_ns)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        if stat.st_size > MAX_TEMPLATE_BYTES:
            raise TemplateProblem(f"{path} is over {MAX_TEMPLATE_BYTES // 1000} KB; keep it short")
        source = path.read_text(encoding="utf-8")
        try:
            if whole:
                compiled: Any = self._html.from_string(source)
            else:
                subject, body = _split(source, path)
                compiled = (self._text.from_string(subject), self._text.from_string(body))
        except TemplateError as exc:
            raise TemplateProblem(f"{path}: {exc}") from exc
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if k[0] != path}
            self._cache[key] = compiled
        return compiled


def _split(source: str, path: Path) -> tuple[str, str]:
    head, _, body = source.lstrip("\ufeff").partition("\n")
    name, sep, subject = head.partition(":")
    if not sep or name.strip().lower() != "subject":
        raise TemplateProblem(f"{path}: the first line must be 'Subject: ...'")
    return subject.strip(), body.lstrip("\r\n")


def _tidy(body: str) -> str:
    """Trailing spaces off each line, at most one blank line in a row, no blank ends."""
    lines = [line.rstrip() for line in body.replace("\r\n", "\n").split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip("\n")
