"""Is an LLM's answer backed by the transcript it answers? Pure text heuristics, no model.

`check_answer` flags what a small model tends to make up: names (capitalised words that neither
the transcript nor the context contain), numbers, dates, times, amounts and percentages that do
not occur in the transcript ("3" and "three", "Friday" and "friday", "5 pm" and "5:00",
"14,500" and "14500" are the same), and answers that share almost no content words with the
turn ("unrelated"). "Nothing to note." is always fine. `mentions` tells whether an answer
states a fact, with the same normalisation (bench/answers.py scores fact recall with it).

Precision first: a word at the start of a sentence is only judged when it is part of a longer
capitalised sequence or reads as a label ("Dana: …", "Dana's …"), and the context (the prompt's
own text, the speakers' names) counts as evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

NOTHING_TO_NOTE = "Nothing to note."
UNRELATED_BELOW = 0.2  # share of the answer's content words found in the turn
MIN_CONTENT_WORDS = 3  # shorter answers are not judged unrelated

# --- vocabularies ------------------------------------------------------------------------


def _split(words: str) -> tuple[str, ...]:
    return tuple(words.split())


STOP_WORDS = frozenset(_split("""
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing done down during each either else
ever every few for from further had has have having he her here hers herself him himself his
how however i if in into is it its itself just least less let like may me might mine more
most much must my myself neither no nor not now of off on once only or other others our ours
ourselves out over own per perhaps quite rather really same shall she should so some such than
that the their theirs them themselves then there these they this those though through thus to
too under until up upon us very was we well were what when where whether which while who whom
whose why will with within without would yes yet you your yours yourself yourselves
i'm i'll i've i'd we're we'll we've it's that's there's let's don't doesn't isn't aren't won't
can't didn't wasn't weren't okay ok oh um uh hmm yeah sure thanks thank please everyone someone
anyone something anything nothing everything one ones get got go going gone make made take
took say said says think thought know want wants need needs
"""))

# Capitalised words any answer may use without the transcript saying them.
COMMON_CAPS = frozenset(_split("""
i ok okay am pm a.m p.m tbd n/a asap eod fyi faq q&a json null none nothing note notes summary
action actions item items task tasks owner owners due date dates next step steps key point
points main takeaway take-away takeaways decision decisions follow-up follow up overview
conclusion answer answers question questions response reply suggested suggestion analysis
improvement improvements area areas quote quotes speaker speakers transcript meeting topic
topics discussion agenda update updates status here there this that these those they we you
he she it however also additionally overall unknown unassigned
"""))

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
MONTH_ABBREVIATIONS = {m[:3]: m for m in MONTHS if m != "may"} | {"sept": "september"}
RELATIVE_DAYS = ("today", "tonight", "tomorrow", "yesterday")

UNITS = {w: i for i, w in enumerate(_split(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"))}
TENS = {w: 10 * (i + 2) for i, w in enumerate(_split(
    "twenty thirty forty fifty sixty seventy eighty ninety"))}
SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
ORDINALS = {w: i + 1 for i, w in enumerate(_split(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth"))}
ORDINALS |= {w: 10 * (i + 2) for i, w in enumerate(_split(
    "twentieth thirtieth fortieth fiftieth sixtieth seventieth eightieth ninetieth"))}
NUMBER_WORDS = {**UNITS, **TENS, **ORDINALS, "dozen": 12}
# Number words an answer uses without meaning a number ("one of them", "first, …").
VAGUE_NUMBER_WORDS = frozenset({"one", "first", "second", "zero"})
SCALE_SUFFIXES = {"k": 1_000, "m": 1_000_000, "bn": 1_000_000_000, **SCALES}
TIME_WORDS = {"noon": (0, 0), "midday": (0, 0), "midnight": (0, 0)}  # 12-hour clock

# --- tokens ------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_](?:[^\W_]|[&/]|['’.-](?=[^\W\d_]))*")
_NUMBER = re.compile(
    r"(?<![\w.,])(?:(?P<cur>[$€£¥])\s?)?(?P<num>\d+(?:[.,:/-]\d+)*)(?P<ord>st|nd|rd|th)?"
    r"(?:\s?(?P<scale>k|m|bn|hundred|thousand|million|billion)\b)?"
    r"(?:\s?(?P<pct>%|percent\b|per cent\b))?"
    r"(?:\s?(?P<ampm>[ap]\.?m\.?)(?![a-z]))?", re.IGNORECASE)
_AMPM_AFTER = re.compile(r"\s?([ap])\.?m\.?(?![a-z])|\s?o['’]clock", re.IGNORECASE)
_NAME_JOINER = re.compile(r" (?:(?:of|de|da|del|der|van|von|du|la|le) )?")
HONORIFICS = frozenset({"mr", "mrs", "ms", "mx", "dr", "prof", "sir", "dame", "miss", "madam"})
_NOTHING = re.compile(r"^\W*nothing (?:to note|noteworthy|relevant)\W*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Span:
    """Part of an answer that the transcript does not back."""

    start: int
    end: int
    text: str
    kind: str  # "name", "number", "amount", "percent", "date", "time"


@dataclass(frozen=True, slots=True)
class Grounding:
    """What `check_answer` found. `invented` spans index the answer text it was given."""

    invented: tuple[Span, ...] = ()
    overlap: float = 1.0  # share of the answer's content words that the turn contains
    unrelated: bool = False
    nothing: bool = False  # the answer says there is nothing to note

    @property
    def ok(self) -> bool:
        return not self.invented and not self.unrelated

    def note(self) -> str:
        """One line for an answer card; '' when nothing is suspicious."""
        parts = []
        if self.invented:
            shown = list(dict.fromkeys(s.text for s in self.invented))
            parts.append("May be invented: " + ", ".join(f"“{t}”" for t in shown[:6]) + ".")
        if self.unrelated:
            parts.append("This answer seems unrelated to the turn.")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class _Number:
    start: int
    end: int
    kind: str
    parts: tuple[frozenset[float], ...]  # each part must occur (any value of the set)
    time: tuple[int, int] | None = None


@dataclass
class _Evidence:
    words: set[str] = field(default_factory=set)
    numbers: set[float] = field(default_factory=set)
    times: set[tuple[int, int]] = field(default_factory=set)

    @classmethod
    def of(cls, texts: Iterable[str]) -> _Evidence:
        evidence = cls()
        for text in texts:
            evidence.words.update(_variants_of_all(_words(text)))
            for number in numbers_in(text, vague=True):
                for part in number.parts:
                    evidence.numbers.update(part)
                if number.time is not None:
                    evidence.times.add(number.time)
        return evidence

    def has_word(self, word: str) -> bool:
        return any(v in self.words for v in _variants(word))

    def has_number(self, number: _Number) -> bool:
        if number.time is not None:
            hour, minute = number.time
            if (hour, minute) in self.times:
                return True
            return minute == 0 and bool({hour, hour + 12} & self.numbers)
        return all(part & self.numbers for part in number.parts)


# --- the check ---------------------------------------------------------------------------


def check_answer(answer_text: str, transcript_text: str, context_text: str = "") -> Grounding:
    """Spans of `answer_text` that neither `transcript_text` nor `context_text` (the prompt's
    own words, the speakers' names, earlier turns) back, and whether the answer shares
    almost no content words with the transcript."""
    answer = answer_text.strip()
    if not answer or _NOTHING.match(answer):
        return Grounding(nothing=True)
    evidence = _Evidence.of([transcript_text, context_text])
    spans = [*invented_numbers(answer_text, evidence), *invented_dates(answer_text, evidence),
             *invented_names(answer_text, evidence)]
    spans.sort(key=lambda s: s.start)
    overlap, count = content_overlap(answer_text, transcript_text, context_text)
    return Grounding(invented=tuple(_without_overlaps(spans)), overlap=overlap,
                     unrelated=count >= MIN_CONTENT_WORDS and overlap < UNRELATED_BELOW)


def invented_numbers(answer: str, evidence: _Evidence) -> list[Span]:
    return [Span(n.start, n.end, answer[n.start:n.end], n.kind)
            for n in numbers_in(answer) if not evidence.has_number(n)]


def invented_dates(answer: str, evidence: _Evidence) -> list[Span]:
    """Weekdays, months (capitalised) and today/tomorrow/… that the evidence lacks."""
    spans = []
    for match in _WORD.finditer(answer):
        word = match.group().lower()
        base = word[:-1] if word.endswith("s") and word[:-1] in WEEKDAYS else word
        is_date = base in WEEKDAYS or base in RELATIVE_DAYS or (
            base in MONTHS and match.group()[0].isupper()
            and not (base == "may" and _at_sentence_start(answer, match.start())))
        if is_date and not evidence.has_word(base):
            spans.append(Span(match.start(), match.end(), match.group(), "date"))
    return spans


def invented_names(answer: str, evidence: _Evidence) -> list[Span]:
    """Capitalised sequences whose words the evidence lacks (see the module's docstring)."""
    spans = []
    for words in _capitalised_runs(answer):
        first = words[0]
        if _at_sentence_start(answer, first.start()) and not _reads_as_label(answer, words[-1]):
            words = words[1:]  # capitalised for its place: "Contact John Smith", "Review"
        candidates = [m for m in words if _is_name_candidate(m.group())]
        if any(not evidence.has_word(m.group()) for m in candidates):
            start, end = candidates[0].start(), candidates[-1].end()
            first = words.index(candidates[0])
            if first and _is_honorific(words[first - 1].group()):
                start = words[first - 1].start()  # "Dr. Stella", not "Stella"
            spans.append(Span(start, end, answer[start:end], "name"))
    return spans


def content_overlap(answer: str, transcript: str, context: str = "") -> tuple[float, int]:
    """(share of the answer's content words that the transcript has, how many content words
    the answer has). Words only the context has (the prompt's) do not count."""
    turn = {_stem(w) for w in _content_words(transcript)}
    prompt_only = {_stem(w) for w in _content_words(context)} - turn
    own = {_stem(w) for w in _content_words(answer)} - prompt_only
    if not own:
        return 1.0, 0
    return len(own & turn) / len(own), len(own)


def unsupported_words(text: str, evidence_text: str) -> list[str]:
    """The words of `text` (not stop words) that `evidence_text` lacks."""
    evidence = _Evidence.of([evidence_text])
    return [w for w in _words(text) if w not in STOP_WORDS and not evidence.has_word(w)]


# --- facts (bench/answers.py) --------------------------------------------------------------


def normalise_text(text: str) -> str:
    """Lower case, digits for number words, no thousands separators, "percent" for "%",
    "5 00" for "5 pm" and "5:00 p.m.", "10" for "10th", spaces for punctuation."""
    out, last = [], 0
    for number in numbers_in(text, vague=True):
        out.append(text[last:number.start])
        out.append(f" {_number_words(number, text)} ")
        last = number.end
    out.append(text[last:])
    flat = re.sub(r"[^\w%]+", " ", "".join(out).lower().replace("%", " percent "))
    return " ".join(flat.split())


def mentions(answer: str, fact: str | Sequence[str]) -> bool:
    """Whether `answer` states `fact` (or one of its alternatives), normalised both sides."""
    alternatives = [fact] if isinstance(fact, str) else list(fact)
    haystack = f" {normalise_text(answer)} "
    return any(f" {normalise_text(a)} " in haystack for a in alternatives if a.strip())


# --- numbers -------------------------------------------------------------------------------


def numbers_in(text: str, *, vague: bool = False) -> list[_Number]:
    """Every number, amount, percentage and time in `text`, digits or words. List
    enumerators ("1." at a line's start) are skipped; so are "one", "first", … unless
    `vague` (which the evidence side uses)."""
    found = [n for m in _NUMBER.finditer(text) if (n := _digit_number(m, text)) is not None]
    taken = [(n.start, n.end) for n in found]
    for number in _word_numbers(text, vague):
        if not any(s < number.end and number.start < e for s, e in taken):
            found.append(number)
    for match in re.finditer(r"\b(noon|midday|midnight)\b", text, re.IGNORECASE):
        found.append(_Number(match.start(), match.end(), "time", (),
                             TIME_WORDS[match.group().lower()]))
    return sorted(found, key=lambda n: n.start)


def _digit_number(match: re.Match[str], text: str) -> _Number | None:
    raw = match.group("num")
    if _is_enumerator(text, match.start("num"), match.end("num")):
        return None
    kind = "percent" if match.group("pct") else "amount" if (
        match.group("cur") or match.group("scale")) else "number"
    time = _clock_time(raw, match.group("ampm"))
    if time is not None:
        return _Number(match.start(), match.end(), "time", (), time)
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?", raw):
        values = _scaled(float(raw.replace(",", "")), match.group("scale"))
        return _Number(match.start(), match.end(), kind, (values,))
    parts = tuple(frozenset({float(p)}) for p in re.split(r"[.,:/-]", raw) if p)
    return _Number(match.start(), match.end(), kind, parts)


def _clock_time(raw: str, ampm: str | None) -> tuple[int, int] | None:
    clock = re.fullmatch(r"(\d{1,2})[:.](\d{2})", raw)
    if clock and int(clock.group(1)) < 24 and int(clock.group(2)) < 60 and (
            ampm or ":" in raw):
        return _twelve_hour(int(clock.group(1)), int(clock.group(2)))
    if ampm and re.fullmatch(r"\d{1,2}", raw) and 0 < int(raw) <= 12:
        return _twelve_hour(int(raw), 0)
    return None


def _twelve_hour(hour: int, minute: int) -> tuple[int, int]:
    return hour % 12, minute


def _scaled(value: float, scale: str | None) -> frozenset[float]:
    """An amount with a scale ("1.5 million", "5k") is its scaled value; the bare number
    also stands for itself."""
    if not scale:
        return frozenset({value})
    return frozenset({value * SCALE_SUFFIXES[scale.lower()]})


def _word_numbers(text: str, vague: bool) -> list[_Number]:
    numbers = []
    for run in _number_word_runs(text):
        words = [m.group().lower() for m in run]
        if not vague and len(words) == 1 and words[0] in VAGUE_NUMBER_WORDS:
            continue
        start, end = run[0].start(), run[-1].end()
        value = _value_of(words)
        after = _AMPM_AFTER.match(text, end)
        if after and value is not None and 0 < value <= 12:
            numbers.append(_Number(start, after.end(), "time", (), _twelve_hour(int(value), 0)))
            continue
        pct = re.match(r"\s?(%|percent\b|per cent\b)", text[end:], re.IGNORECASE)
        kind = "percent" if pct else "number"
        if value is not None:
            numbers.append(_Number(start, end + (pct.end() if pct else 0), kind,
                                   (frozenset({float(value)}),)))
    return numbers


def _number_word_runs(text: str) -> list[list[re.Match[str]]]:
    """Runs of number words ("two hundred and fifty", "twenty-five"), "a"/"and" inside."""
    runs: list[list[re.Match[str]]] = []
    current: list[re.Match[str]] = []
    pending: list[re.Match[str]] = []
    for match in re.finditer(r"[A-Za-z]+", text):
        word = match.group().lower()
        gap = text[(pending or current or [match])[-1].end():match.start()]
        if current and (gap.strip(" -") or "\n" in gap):
            runs.append(current)
            current, pending = [], []
        if word in NUMBER_WORDS or word in SCALES:
            if current and not _can_follow(current[-1].group().lower(), word):
                runs.append(current)
                current = []
            current.append(match)
            pending = []
        elif word in ("and", "a") and current:
            pending.append(match)
        elif current:
            runs.append(current)
            current, pending = [], []
    if current:
        runs.append(current)
    return runs


def _can_follow(previous: str, word: str) -> bool:
    """Whether `word` continues a number after `previous`: "twenty five", "five hundred",
    "twenty-first", "two thousand", but not "one second" or "three four"."""
    if previous in SCALES:
        return word not in SCALES or SCALES[word] > SCALES[previous]
    if previous in TENS:
        return word in SCALES or 0 < UNITS.get(word, 0) < 10 or 0 < ORDINALS.get(word, 0) < 10
    if previous in UNITS:
        return word in SCALES or word == "dozen"
    return False


def _value_of(words: list[str]) -> int | None:
    total = current = 0
    for word in words:
        if word in SCALES:
            if word == "hundred":
                current = (current or 1) * 100
            else:
                total += (current or 1) * SCALES[word]
                current = 0
        elif word == "dozen":
            current = (current or 1) * 12
        else:
            current += NUMBER_WORDS[word]
    return total + current


def _number_words(number: _Number, text: str) -> str:
    """A number in the words `normalise_text` compares: digits, "percent", "5 00"."""
    if number.time is not None:
        hour, minute = number.time
        return f"{hour or 12} {minute:02d}"
    digits = " ".join(_plain(min(part)) for part in number.parts)
    return f"{digits} percent" if number.kind == "percent" else digits


def _plain(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _is_enumerator(text: str, start: int, end: int) -> bool:
    """ "1." or "2)" opening a line of a list."""
    line_start = text.rfind("\n", 0, start) + 1
    return not text[line_start:start].strip(" \t*#-•") and text[end:end + 1] in (".", ")") \
        and not text[end + 1:end + 2].isdigit()


# --- names ---------------------------------------------------------------------------------


def _capitalised_runs(text: str) -> list[list[re.Match[str]]]:
    """Runs of capitalised words separated by single spaces ("Library of Congress")."""
    runs: list[list[re.Match[str]]] = []
    for match in _WORD.finditer(text):
        if not match.group()[0].isupper():
            continue
        if runs and _joins(runs[-1][-1].group(), text[runs[-1][-1].end():match.start()]):
            runs[-1].append(match)
        else:
            runs.append([match])
    return runs


def _joins(previous: str, between: str) -> bool:
    """Whether the text between two capitalised words keeps them in one name: a space, a
    particle ("Library of Congress"), or the period of a title ("Dr. Stella")."""
    return bool(_NAME_JOINER.fullmatch(between)) or \
        (between in (". ", ".") and _is_honorific(previous))


def _is_honorific(word: str) -> bool:
    return word.lower().rstrip(".") in HONORIFICS


def _is_name_candidate(word: str) -> bool:
    lower = _strip_possessive(word.lower())
    return len(lower) > 1 and lower.rstrip("s") not in WEEKDAYS and not any(
        lower in words for words in (STOP_WORDS, HONORIFICS, COMMON_CAPS, WEEKDAYS, MONTHS,
                                     RELATIVE_DAYS, NUMBER_WORDS, SCALES, TIME_WORDS,
                                     MONTH_ABBREVIATIONS))


def _at_sentence_start(text: str, index: int) -> bool:
    before = text[:index].rstrip(" \t\"'“‘([*_#>•-")
    before = re.sub(r"(?:^|\n)\s*\d+[.)]$", "\n", before)  # "1. Dana …"
    return not before or before[-1] in ".!?:;\n"


def _reads_as_label(text: str, last: re.Match[str]) -> bool:
    """ "Dana: …", "Dana's …", "Dana will …": a sentence-start word used as a name."""
    if re.search(r"['’]s$", last.group()):
        return True
    return bool(re.match(r"(?::|['’]s\b|\s+(?:will|should|needs|agreed|asked|said)\b)",
                         text[last.end():]))


# --- words ---------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return [m.group().lower() for m in _WORD.finditer(text)]


def _strip_possessive(word: str) -> str:
    return re.sub(r"['’]s?$", "", word)


def _variants(word: str) -> set[str]:
    """A word's spellings that count as the same word: case, possessive, plural, hyphens."""
    base = _strip_possessive(word.lower().strip(".-'’"))
    found = {base, base.replace("-", ""), base.replace("’", "'")}
    if base.endswith("ies"):
        found.add(base[:-3] + "y")
    if base.endswith("es"):
        found.add(base[:-2])
    if base.endswith("s"):
        found.add(base[:-1])
    return found


def _variants_of_all(words: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for word in words:
        out |= _variants(word)
        out.update(p for p in re.split(r"[-/]", word) if p)
    return out


def _content_words(text: str) -> list[str]:
    return [w for w in (_strip_possessive(w) for w in _words(text))
            if len(w) > 2 and w not in STOP_WORDS and w not in NUMBER_WORDS]


def _stem(word: str) -> str:
    """Crude but even-handed: the first five letters ("printing", "printers" → "print")."""
    return word.replace("-", "")[:5]


def _without_overlaps(spans: list[Span]) -> list[Span]:
    kept: list[Span] = []
    for span in spans:
        if kept and span.start < kept[-1].end:
            continue
        kept.append(span)
    return kept
