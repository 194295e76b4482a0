"""Speaker labels (`speaker_labels=true`): the voice encoder on real speech, and live sessions of
the real engine over the 2-speaker file of tests/fixtures/speech."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from assemblyai.streaming.v3.models import SpeakerRevisionEvent, TurnEvent

from earmark.core.protocol import SpeakerRevision, StreamingParams, parse_server_message
from earmark.engine.runner import EngineRunner
from earmark.engine.speakers import VoiceEncoder
from earmark.engine.speakers.clustering import (
    THRESHOLD,
    OnlineClusters,
    label_name,
    match_labels,
    recluster,
)
from earmark.engine.speakers.frontend import (
    HOP,
    N_MELS,
    PARTIAL_FRAMES,
    SAMPLE_RATE,
    hz_to_mel,
    mel_spectrogram,
    partial_mels,
)
from earmark.engine.speakers.live import revision_interval_ms
from earmark.engine.speakers.session import SessionSpeakers
from tests.engine.engine_support import (
    Session,
    assert_well_formed,
    pcm16,
    pcm_to_float,
    silence,
    speech,
)

TWO_SPEAKERS = "multispeaker/ms01_2spk_alternating_ls-test-other.wav"
ARCTIC_1 = "cmu_arctic/cmu_arctic_us_aew_a0001.wav"
ARCTIC_3 = "cmu_arctic/cmu_arctic_us_aew_a0003.wav"
CLEAN_1 = "librispeech/test-clean/1221-135766-0002.wav"
LABELS = {"sample_rate": 16000, "format_turns": "true", "speaker_labels": "true"}


def segments() -> list[dict[str, Any]]:
    return json.loads(speech(TWO_SPEAKERS).with_suffix(".segments.json").read_text())


def first_turns(count: int) -> tuple[bytes, list[dict[str, Any]]]:
    """The 2-speaker file's first `count` turns (and the pause after them)."""
    kept = segments()[:count]
    end = kept[-1]["end"] + 0.5
    return pcm16(TWO_SPEAKERS)[: int(end * SAMPLE_RATE) * 2] + silence(1500), kept


def speaker_error(messages: list[dict[str, Any]], truth: list[dict[str, Any]],
                  revised: bool = False) -> float:
    """Duration-weighted share of the true turns' time (10 ms grid) under a final turn whose
    label is not its speaker's, the labels matched to the two speakers the best way round; with
    `revised`, after applying the SpeakerRevisions."""
    labelled = {}
    for m in messages:
        if m.get("type") == "Turn" and m["end_of_turn"] and m["words"]:
            labelled[m["turn_order"]] = (m["words"][0]["start"], m["words"][-1]["end"],
                                         m["speaker_label"])
        elif m.get("type") == "SpeakerRevision" and revised:
            for r in m["revisions"]:
                start, end, _ = labelled[r["turn_order"]]
                labelled[r["turn_order"]] = (start, end, r["speaker_label"])
    grid: dict[int, str] = {}
    for start, end, label in labelled.values():
        grid.update((i, label) for i in range(start // 10, end // 10))
    pairs = [(seg["speaker"], grid[i]) for seg in truth
             for i in range(int(seg["start"] * 100), int(seg["end"] * 100)) if i in grid]
    speakers = sorted({s for s, _ in pairs})
    labels = sorted({h for _, h in pairs})
    best = 0
    for flip in (False, True):
        mapping = dict(zip(speakers, labels[::-1] if flip else labels, strict=False))
        best = max(best, sum(mapping.get(s) == h for s, h in pairs))
    return 1 - best / len(pairs)


# --- the voice encoder on real speech ------------------------------------------------------


def test_the_mel_front_end_puts_a_tone_in_its_band():
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    mel = mel_spectrogram((0.1 * np.sin(2 * np.pi * 1500 * t)).astype(np.float32))
    assert mel.shape == (1 + SAMPLE_RATE // HOP, N_MELS) and mel.dtype == np.float32
    centres = np.linspace(hz_to_mel(0.0), hz_to_mel(8000.0), N_MELS + 2)[1:-1]
    expected = int(np.argmin(np.abs(centres - hz_to_mel(1500.0))))
    assert abs(int(np.argmax(mel[50])) - expected) <= 1
    partials = partial_mels(np.zeros(SAMPLE_RATE * 3, np.float32), rate=1.3)
    assert partials.shape[1:] == (PARTIAL_FRAMES, N_MELS) and len(partials) >= 2


def test_turns_of_one_speaker_are_closer_than_turns_of_two():
    audio = pcm_to_float(pcm16(TWO_SPEAKERS))
    turns = segments()
    speakers = SessionSpeakers(VoiceEncoder())
    emb = np.stack([speakers.embed(audio[int(s["start"] * SAMPLE_RATE):
                                         int(s["end"] * SAMPLE_RATE)]) for s in turns])
    assert emb.shape == (len(turns), 256)
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    who = np.array([s["speaker"] for s in turns])
    same = (who[:, None] == who[None, :]) & ~np.eye(len(who), dtype=bool)
    distance = 1.0 - emb @ emb.T
    assert distance[same].max() < THRESHOLD < distance[who[:, None] != who[None, :]].min()
    assert recluster(emb, np.ones(len(turns))) == [0 if w == who[0] else 1 for w in who]


# --- live sessions -------------------------------------------------------------------------


def test_a_live_session_labels_the_two_speakers(engine: EngineRunner):
    pcm = pcm16(TWO_SPEAKERS) + silence(1500)
    s = Session.open(engine.ws_url, engine.token, LABELS)
    s.send_audio(pcm, chunk_ms=100, pace=8.0)
    assert s.terminate(120) == 1000
    assert_well_formed(s.messages)
    assert s.messages[0]["configuration"]["speaker_labels"] is True
    finals = s.finals()
    assert len(finals) >= 2 * len(segments()) * 0.8  # unformatted and formatted, most turns
    for turn in finals:
        assert turn["speaker_label"] in ("A", "B"), turn
        assert {w["speaker"] for w in turn["words"]} <= {turn["speaker_label"]}
    assert {t["speaker_label"] for t in finals} == {"A", "B"}
    assert all("speaker_label" not in t for t in s.of_type("Turn") if not t["end_of_turn"])
    assert speaker_error(s.messages, segments()) <= 0.10
    assert speaker_error(s.messages, segments(), revised=True) <= 0.10
    assert s.messages[-1]["type"] == "Termination"


def test_max_speakers_1_gives_one_label(engine: EngineRunner):
    pcm, _ = first_turns(4)
    s = Session.open(engine.ws_url, engine.token, {**LABELS, "max_speakers": "1"})
    s.send_audio(pcm, chunk_ms=100)
    assert s.terminate(60) == 1000
    finals = s.finals()
    assert len(finals) >= 6
    assert {t["speaker_label"] for t in finals} == {"A"}
    assert not s.of_type("SpeakerRevision")


def test_without_speaker_labels_no_label_is_sent(engine: EngineRunner):
    pcm, _ = first_turns(4)
    s = Session.open(engine.ws_url, engine.token, {"sample_rate": 16000, "format_turns": "true"})
    s.send_audio(pcm, chunk_ms=100)
    assert s.terminate(60) == 1000
    assert len(s.finals()) >= 6
    assert s.messages[0]["configuration"].get("speaker_labels") is None  # unset
    for turn in s.of_type("Turn"):
        assert "speaker_label" not in turn
        assert all("speaker" not in w for w in turn["words"])
    assert not s.of_type("SpeakerRevision")


class _DesignedEncoder:
    """Stands in for the voice encoder: every partial of the n-th turn it embeds gets the n-th
    vector. Turn 0 is `a`; turn 1 lies within THRESHOLD of `a` (so it first joins A) but nearer
    the voice `b` of every later turn, which clustering all turns again moves it to."""

    def __init__(self) -> None:
        def at(degrees: float) -> np.ndarray:
            v = np.zeros(256, np.float32)
            v[0], v[1] = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
            return v

        self.vectors = [at(0), at(40)]
        self.later = at(70)
        self.calls = 0

    def embed_partials(self, mels: np.ndarray) -> np.ndarray:
        vector = self.vectors[self.calls] if self.calls < len(self.vectors) else self.later
        self.calls += 1
        return np.repeat(vector[None], len(mels), axis=0)


def test_a_speaker_revision_before_termination_parses_as_the_app_reads_it(
        engine: EngineRunner, monkeypatch: pytest.MonkeyPatch):
    designed = _DesignedEncoder()
    monkeypatch.setattr(engine.resources, "voice_encoder", lambda: designed)
    gap = silence(1500)
    pcm = gap.join(pcm16(f) for f in (ARCTIC_1, ARCTIC_3, CLEAN_1, ARCTIC_1, ARCTIC_3)) + gap
    s = Session.open(engine.ws_url, engine.token, LABELS)
    s.send_audio(pcm, chunk_ms=100)
    assert s.terminate(60) == 1000
    formatted = {t["turn_order"]: t for t in s.finals(True)}
    assert [formatted[o]["speaker_label"] for o in sorted(formatted)][:3] == ["A", "A", "B"]
    revisions = s.of_type("SpeakerRevision")
    assert len(revisions) == 1
    kinds = [m["type"] for m in s.messages]
    assert kinds.index("SpeakerRevision") == len(kinds) - 2  # right before Termination
    message = parse_server_message(json.dumps(revisions[0]))
    assert isinstance(message, SpeakerRevision)
    [revision] = message.revisions
    assert (revision.turn_order, revision.speaker_label) == (1, "B")
    sent = formatted[1]["words"]
    assert [(w.text, w.start, w.end, w.confidence, w.word_is_final) for w in revision.words] == [
        (w["text"], w["start"], w["end"], w["confidence"], w["word_is_final"]) for w in sent]
    assert {w.speaker for w in revision.words} == {"B"}
    assert all(set(w) >= {"text", "start", "end", "confidence", "word_is_final", "speaker"}
               for w in revisions[0]["revisions"][0]["words"])
    # The official Python SDK reads both too.
    assert SpeakerRevisionEvent.model_validate(revisions[0]).revisions[0].speaker_label == "B"
    assert TurnEvent.model_validate(formatted[1]).speaker_label == "A"


# --- small parts ---------------------------------------------------------------------------


def test_labels_are_named_as_the_cloud_names_them():
    assert [label_name(i) for i in (0, 1, 25, 26, 27)] == ["A", "B", "Z", "AA", "AB"]


def _voices(*degrees: float) -> np.ndarray:
    radians = np.radians(degrees)
    return np.stack([np.cos(radians), np.sin(radians)], axis=1)


def test_max_speakers_merges_extra_voices_into_the_nearest():
    voices = _voices(0, 90, 80, 5)
    online = OnlineClusters(THRESHOLD, max_speakers=2)
    assert [online.assign(v, 1.0) for v in voices] == [0, 1, 1, 0]
    uncapped = OnlineClusters(THRESHOLD)
    assert [uncapped.assign(v, 1.0) for v in _voices(0, 90, 180, 5)] == [0, 1, 2, 0]
    assert recluster(voices, np.ones(4)) == [0, 1, 1, 0]
    assert recluster(voices, np.ones(4), max_speakers=1) == [0, 0, 0, 0]
    assert recluster(_voices(0, 50, 100), np.ones(3)) == [0, 1, 2]


def test_short_turns_never_start_a_speaker():
    online = OnlineClusters(THRESHOLD)
    assert online.assign(_voices(0)[0], 1.0, may_start=False) == -1
    assert online.assign(_voices(0)[0], 1.0) == 0
    assert online.assign(_voices(10)[0], 0.5, may_start=False) == 0
    assert online.assign(_voices(90)[0], 0.5, may_start=False) == -1


def test_new_groups_keep_the_labels_they_share_most_speech_with():
    # Old labels A A B B; the new grouping moves turn 1 to B's group: A keeps turn 0.
    assert match_labels([0, 0, 1, 1], [5, 7, 7, 7], [3.0, 1.0, 2.0, 2.0], issued=2) == [0, 1, 1, 1]
    # A group no old label fits gets a label never given out before (C, not a reused one).
    assert match_labels([0, 0, 1, 1], [0, 0, 1, 2], [1.0] * 4, issued=2) == [0, 0, 1, 2]
    assert match_labels([0, 0, -1], [0, 0, 1], [1.0] * 3, issued=3) == [0, 0, 3]


@pytest.mark.parametrize(("raw", "expected"), [(None, 0), ("0", 0), ("1000", 120_000),
                                               ("200000", 200_000), ("86400000", 300_000)])
def test_the_revision_interval_is_clamped_as_the_service_clamps_it(raw, expected):
    unknown = {} if raw is None else {"speaker_labels_revision_interval_ms": raw}
    assert revision_interval_ms(StreamingParams(unknown=unknown)) == expected
