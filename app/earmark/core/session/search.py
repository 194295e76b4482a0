"""Find text across every session's transcript and LLM answers. A turn is searched as it is
read, "Dana: we ship on Friday", so a speaker's name finds what they said."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import StorageError
from .library import SessionSummary
from .paths import LLM_FILE, TRANSCRIPT_FILE
from .speakers import speaker_name

SNIPPET_CONTEXT = 60  # characters shown on each side of the match


@dataclass(frozen=True, slots=True)
class SearchHit:
    """`snippet[match_start:match_end]` is the matched text (for highlighting)."""

    session: SessionSummary
    turn_order: int
    source: str  # "transcript" or "answer"
    snippet: str
    match_start: int
    match_end: int


def make_snippet(text: str, start: int, end: int,
                 context: int = SNIPPET_CONTEXT) -> tuple[str, int, int]:
    """The match with up to `context` characters around it, cut at spaces, on one line."""
    left = max(0, start - context)
    right = min(len(text), end + context)
    if left > 0:
        space = text.find(" ", left, start)
        left = space + 1 if space != -1 else left
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space != -1 else right
    prefix = "…" if left > 0 else ""
    suffix = "…" if right < len(text) else ""
    snippet = prefix + text[left:right].replace("\n", " ") + suffix
    return snippet, len(prefix) + start - left, len(prefix) + end - left


def _turn_text(record: dict, names: dict[str, str]) -> str | None:
    text, label = record.get("text"), record.get("speaker")
    if not isinstance(text, str):
        return None
    name = speaker_name(label, names) if isinstance(label, str) else None
    return f"{name}: {text}" if name else text


def _records(path: Path, needle: str, raw_filter: bool) -> list[dict]:
    """The file's JSON objects, or none at all when the raw text cannot contain `needle`."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StorageError.from_os_error(exc, "Cannot read", path) from exc
    if raw_filter and needle not in text.lower():
        return []
    records = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def search_sessions(summaries: list[SessionSummary], query: str,
                    limit: int = 500) -> list[SearchHit]:
    """Case-insensitive substring search, in the order of `summaries`, then turn order; at most
    one hit per turn and source. Damaged lines and unreadable files are skipped."""
    query = query.strip()
    if not query:
        return []
    pattern = re.compile(re.escape(query), re.IGNORECASE)
    needle = query.lower()
    # The raw line is JSON: quotes, backslashes and control characters appear escaped there.
    raw_filter = json.dumps(query, ensure_ascii=False)[1:-1] == query
    hits: list[SearchHit] = []
    for summary in summaries:
        found: list[SearchHit] = []
        names = dict(summary.speakers)
        for name, source, key in ((TRANSCRIPT_FILE, "transcript", "text"),
                                  (LLM_FILE, "answer", "answer")):
            # a name is in session.json, "Speaker A" nowhere: the raw text cannot rule them out
            quick = raw_filter and not (source == "transcript" and _may_name(needle, names))
            try:
                records = _records(summary.folder / name, needle, quick)
            except StorageError:
                continue
            if source == "transcript":  # the last line of a turn_order is its revision
                records = list({r.get("turn_order"): r for r in records}.values())
            seen: set[int] = set()
            for record in records:
                turn_order = record.get("turn_order")
                text = _turn_text(record, names) if source == "transcript" else record.get(key)
                if not isinstance(turn_order, int) or not isinstance(text, str):
                    continue
                if turn_order in seen:
                    continue
                match = pattern.search(text)
                if match is None:
                    continue
                seen.add(turn_order)
                snippet, start, end = make_snippet(text, match.start(), match.end())
                found.append(SearchHit(summary, turn_order, source, snippet, start, end))
        found.sort(key=lambda h: (h.turn_order, h.source != "transcript"))
        hits.extend(found)
        if len(hits) >= limit:
            return hits[:limit]
    return hits


def _may_name(needle: str, names: dict[str, str]) -> bool:
    """The query may match a speaker as the transcript reads them."""
    return any(needle in name.lower() for name in names.values()) \
        or "speaker" in needle or needle in "unknown speaker" or needle in "you"
