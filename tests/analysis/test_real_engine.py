"""The analysis against the embedded engine's real `POST /v1/chat/completions` (SSE) and
`GET /v1/models`, answered by the bundled SmolLM2-135M. Answers are kept tiny (max_tokens)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import earmark.engine.llm as llm
from earmark.controllers.analysis import AnalysisController, AnalysisJob, LLMService
from earmark.core.llm import LLMCallError, LLMErrorKind, chat_body
from earmark.core.prompts import Prompt
from earmark.engine.runner import EngineRunner
from earmark.workers.llm_client import ChatClient
from tests.support.engines import running_engine

PROMPT = Prompt(id="takeaway", name="Main take-away", turn_template="{{turn}}",
                session_template="What is the main take-away?\n\nTranscript: {{transcript}}")


@pytest.fixture(scope="module")
def engine() -> Iterator[EngineRunner]:
    with running_engine(llm_model=llm.SMOLLM2_ID) as runner:
        yield runner


def test_a_streamed_answer_and_the_context_length(run, engine):
    client = ChatClient(engine.http_url, engine.token)
    deltas: list[str] = []
    body = chat_body(llm.SMOLLM2_ID, [{"role": "user", "content": "Say hello."}],
                     max_tokens=12)

    async def go():
        try:
            return (await client.context_length(llm.SMOLLM2_ID),
                    await client.chat(body, on_delta=deltas.append))
        finally:
            await client.close()

    context, completion = run(go(), timeout=60)
    assert context and context >= 512
    assert completion.text.strip() and "".join(deltas) == completion.text
    assert len(deltas) > 1  # it really streamed
    assert completion.finish_reason in ("stop", "length")


def test_the_engine_refuses_a_wrong_token_and_answers_a_cloud_model_locally(run, engine):
    async def ask(client: ChatClient, model: str):
        try:
            return await client.chat(chat_body(model, [{"role": "user", "content": "Hi"}],
                                               max_tokens=4))
        finally:
            await client.close()

    with pytest.raises(LLMCallError) as auth:
        run(ask(ChatClient(engine.http_url, "not-the-token"), llm.SMOLLM2_ID), timeout=30)
    assert auth.value.kind == LLMErrorKind.AUTH and auth.value.status == 401
    # offline, a cloud model id is answered by the local model, and the answer says so
    answered = run(ask(ChatClient(engine.http_url, engine.token), "claude-sonnet-4-6"),
                   timeout=60)
    assert answered.model == llm.SMOLLM2_ID and answered.text.strip()


def test_a_whole_session_analysis_from_the_local_model(qtbot, qloop, engine):
    saved: list = []
    controller = AnalysisController()
    deltas: list[str] = []
    controller.delta.connect(deltas.append)
    job = AnalysisJob("We need to ship the release on Friday.\nDana owns the release notes.",
                      PROMPT, llm.SMOLLM2_ID,
                      LLMService(engine.http_url, engine.token, "embedded engine"),
                      max_tokens=24, save=saved.append)
    with qtbot.waitSignal(controller.finished, timeout=60_000) as done:
        assert controller.start(job)
    analysis = done.args[0]
    assert analysis.text.strip() and analysis.text == "".join(deltas)
    assert analysis.model == llm.SMOLLM2_ID and saved == [analysis]
