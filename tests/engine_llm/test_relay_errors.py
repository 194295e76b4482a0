"""A per-turn answer that failed still carries one choice, so AssemblyAI's tutorial handler
(`data.get("choices", [{}])[0]...`) reads '' instead of raising IndexError, and `error`, so
Earmark's app shows why."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from earmark.core.protocol import LLMGatewayConfig, LLMGatewayResponse
from earmark.core.turns import TurnAnswer
from earmark.engine.llm import LLMError
from earmark.engine.llm_relay import LLMRelay

CONFIG = LLMGatewayConfig.from_dict(
    {"model": "claude-sonnet-4-6", "messages": [{"role": "user", "content": "{{turn}}"}]})


class Failing:
    """An LLM service whose every call ends as `outcome` says."""

    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome

    async def complete(self, request: dict[str, Any]) -> Any:
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


def answer_of(service: Any) -> LLMGatewayResponse:
    async def scenario() -> list[LLMGatewayResponse]:
        sent: list[LLMGatewayResponse] = []

        async def send(message: LLMGatewayResponse) -> None:
            sent.append(message)

        relay = LLMRelay(service, CONFIG, send)
        relay.submit(3, "What did we decide?")
        await relay.drain(5)
        return sent

    (answer,) = asyncio.run(scenario())
    # What a client receives: the message as JSON, parsed back.
    return LLMGatewayResponse.from_dict(answer.to_dict())


@pytest.mark.parametrize(
    ("service", "code", "message"),
    [
        (Failing(LLMError(503, "the model process died")), 503, "the model process died"),
        (Failing(RuntimeError("boom")), 500, "boom"),
        (None, 503, "no LLM service is available in this engine"),
        (Failing(["not", "an", "object"]), 500, "the LLM service returned no response object"),
        (Failing({"request_id": "r1", "choices": []}), 502, "the LLM service returned no choices"),
    ],
)
def test_a_failed_answer_has_one_empty_choice_and_the_error(
    service: Any, code: int, message: str
) -> None:
    answer = answer_of(service)
    data = answer.data
    assert data["error"] == {"message": message, "code": code}
    (choice,) = data["choices"]
    assert choice == {"index": 0, "message": {"role": "assistant", "content": ""},
                      "finish_reason": "error"}
    # The tutorial's handler, verbatim: no IndexError, nothing printed.
    assert data.get("choices", [{}])[0].get("message", {}).get("content", "") == ""
    # Earmark's app: the turn's card shows the error.
    assert answer.error == message and answer.content == ""
    turn = TurnAnswer.from_message(answer)
    assert (turn.turn_order, turn.text, turn.error) == (3, "", message)


def test_an_answer_with_choices_is_passed_through_unchanged() -> None:
    data = {"request_id": "r2", "model": "claude-sonnet-4-6",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Ship Friday."},
                         "finish_reason": "stop"}]}
    answer = answer_of(Failing(data))
    assert answer.data == data and answer.error is None and answer.content == "Ship Friday."
