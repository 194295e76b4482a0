"""The analysis controller: the map-reduce of a transcript longer than the model's context,
streaming, saving, cancelling and failing, against the Gateway replay server."""

from __future__ import annotations

from earmark.controllers.analysis import AnalysisController, AnalysisJob, LLMService
from earmark.core.grounded_prompts import GROUNDING_SYSTEM
from earmark.core.prompts import Prompt
from tests.analysis.gateway_replay import KEY

PROMPT = Prompt(id="summary", name="Brief summary",
                turn_template="Summarise.\n\nTranscript: {{turn}}",
                session_template="Provide a brief summary.\n\nTranscript: {{transcript}}",
                language="French")
TRANSCRIPT = "\n".join(f"Speaker {i % 2}: we discussed item {i} of the release plan at length "
                       f"and agreed on owner number {i}." for i in range(40))


def make(gateway, model: str, saved: list, transcript: str = TRANSCRIPT,
         fallbacks: tuple[str, ...] = ()) -> tuple[AnalysisController, AnalysisJob]:
    controller = AnalysisController()
    job = AnalysisJob(transcript, PROMPT, model,
                      LLMService(gateway.url, KEY, "Gateway replay", fallbacks),
                      title="Weekly sync", save=saved.append)
    return controller, job


def test_a_long_transcript_is_summarised_in_parts_then_combined(qtbot, qloop, gateway):
    saved: list = []
    controller, job = make(gateway, "tiny-context", saved)
    progress: list[str] = []
    deltas: list[str] = []
    controller.progress.connect(progress.append)
    controller.delta.connect(deltas.append)
    with qtbot.waitSignal(controller.finished, timeout=10_000) as done:
        assert controller.start(job)
    analysis = done.args[0]
    bodies = gateway.bodies
    maps, final = bodies[:-1], bodies[-1]
    assert len(maps) >= 3  # 3.6k characters do not fit a 700-token context
    assert all("This is part" in b["messages"][-1]["content"] for b in maps)
    assert all(b["stream"] and b["max_tokens"] <= 96 for b in maps)
    # every line of the transcript went into exactly one part, in order
    sent = "\n".join(b["messages"][-1]["content"].split(":\n", 1)[1] for b in maps)
    assert sent.replace("\n", " ").split() == TRANSCRIPT.replace("\n", " ").split()
    # the reduce step asks the prompt's own question of the parts' summaries
    question = final["messages"][-1]["content"]
    assert question.startswith("Provide a brief summary.")
    assert "Part 1 summary." in question and f"Part {len(maps)} summary." in question
    assert final["messages"][0]["role"] == "system"
    assert final["messages"][0]["content"].startswith(GROUNDING_SYSTEM)
    assert final["messages"][0]["content"].endswith("Answer in French.")
    assert any("summarising part 2 of" in p for p in progress)
    assert "".join(deltas) == analysis.text == "Decisions: ship on Friday. Owner: Dana."
    assert (analysis.model, analysis.prompt) == ("tiny-context", "Brief summary")
    assert saved == [analysis]


def test_a_short_transcript_goes_whole_with_the_fallbacks(qtbot, qloop, gateway):
    saved: list = []
    controller, job = make(gateway, "fails-at-runtime", saved, "We ship on Friday.",
                           fallbacks=("gpt-5-mini", "claude-sonnet-4-6"))
    with qtbot.waitSignal(controller.finished, timeout=10_000) as done:
        controller.start(job)
    assert len(gateway.bodies) == 1
    body = gateway.bodies[0]
    assert body["messages"][-1]["content"].endswith("Transcript: We ship on Friday.")
    assert body["fallbacks"] == [{"model": "gpt-5-mini"}, {"model": "claude-sonnet-4-6"}]
    assert done.args[0].model == "gpt-5-mini"  # who actually answered is what is saved


def test_cancel_stops_it_and_saves_nothing(qtbot, qloop, gateway):
    saved: list = []
    controller, job = make(gateway, "slow", saved, "We ship on Friday.")
    with qtbot.waitSignal(controller.started, timeout=5000):
        controller.start(job)
    qtbot.wait(200)
    assert controller.running
    with qtbot.waitSignal(controller.cancelled, timeout=5000):
        controller.cancel()
    qtbot.waitUntil(lambda: not controller.running, timeout=2000)
    assert saved == []


def test_a_failure_is_a_sentence_and_nothing_is_saved(qtbot, qloop, gateway):
    saved: list = []
    controller, job = make(gateway, "no-access", saved, "We ship on Friday.")
    with qtbot.waitSignal(controller.failed, timeout=10_000) as failed:
        controller.start(job)
    assert "Your account cannot use “no-access”" in failed.args[0]
    assert saved == []


def test_without_a_running_loop_it_says_so(qtbot):
    controller = AnalysisController()
    failures: list[str] = []
    controller.failed.connect(failures.append)
    job = AnalysisJob("x", PROMPT, "m", LLMService("http://127.0.0.1:9", "", "none"))
    assert controller.start(job) is False
    assert "event loop is not running" in failures[0]
