"""Grounded per-turn prompts, structured answers and the check that flags invented facts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from earmark.core.grounded_prompts import (
    ACTION_ITEMS_SCHEMA,
    GROUNDING_SYSTEM,
    LOCAL_REPEAT_PENALTY,
    ActionItem,
    answer_context,
    checked_answer,
    drop_invented,
    is_local_model,
    parse_items,
    render_answer,
    session_messages,
    turn_llm_gateway,
    turn_request,
    with_speaker_names,
)
from earmark.core.grounding import check_answer, mentions, normalise_text
from earmark.core.prompts import Prompt, PromptError, load_prompts
from earmark.core.protocol import StreamingParams

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "answers" / "meeting_turns.json"
PRINTING = ("Gutenberg's press came around 1450 in Mainz, and within fifty years there were "
            "printing shops in more than two hundred European cities.")
LAUNCH = ("Okay, so the launch is moving from March 3rd to March 10th because the payment "
          "provider needs another week to certify us. Lee, can you update the landing page "
          "with the new date by Friday?")
BUDGET = ("We're at 82 percent of the quarterly budget with three weeks left, mostly because "
          "the cloud bill jumped to 14,500 dollars in May.")


def builtins() -> dict[str, Prompt]:
    return {p.id: p for p in load_prompts(REPO / "resources" / "prompts")}


def fixture_turns() -> list[tuple[dict, dict]]:
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return [(m, t) for m in data["meetings"] for t in m["turns"]]


def flagged(answer: str, transcript: str, context: str = "") -> list[str]:
    return [s.text for s in check_answer(answer, transcript, context).invented]


# --- the check: what small models made up --------------------------------------------------


def test_the_invented_pandemic_is_flagged_and_unrelated():
    answer = "Here is a detailed summary of the discussion of the recent 2018-36 pandemic."
    grounding = check_answer(answer, PRINTING, "Provide a brief summary of the transcript.")
    assert [s.text for s in grounding.invented] == ["2018-36"]
    assert grounding.unrelated and not grounding.ok
    assert grounding.note() == ("May be invented: “2018-36”. "
                                "This answer seems unrelated to the turn.")


def test_action_items_that_invent_facts_about_printing_history():
    answer = ("1. Research the history of printing in China by 2023.\n"
              "2. Contact John Smith at the Library of Congress.\n"
              "3. Visit Mainz to see the press.")
    assert flagged(answer, PRINTING) == ["China", "2023", "John Smith", "Library of Congress"]


def test_smollm2_answers_that_garbled_the_turn():
    gutenberg = ("The Gutenberg Bible, a groundbreaking text. It was printed on movable type "
                 "made by Johannes Brahms' company in 1453 at Mainz's Gutenberg Press.")
    assert flagged(gutenberg, PRINTING) == ["Gutenberg Bible", "Johannes Brahms", "1453"]
    assert flagged("The cloud bill jumped to $14.50 million in May.", BUDGET) == [
        "$14.50 million"]
    assert flagged("The Gutenberg press appeared in the 14th century.", PRINTING) == ["14th"]
    pricing = "On pricing, we agreed on 12 dollars a month for the basic plan and 29 for pro."
    assert flagged("12 dollars for basic and 39.05% of our budget for pro.", pricing) == [
        "39.05%"]
    assert flagged("Jonas is asking for 950 euros.", "Jonas is asking for 95,000 euros.") == [
        "950"]


def test_numbers_dates_and_times_match_however_they_are_written():
    transcript = ("Submit it before five p.m. on friday; we had 1,200 sign-ups, fifteen "
                  "percent came back, three teams, within fifty years, two hundred cities, "
                  "the 15th, at noon, 2:10 in the morning, 1.5 million users, five grand")
    answer = ("Submit by 5:00 PM on Friday (17:00): 1200 sign-ups, 15% returned, 3 teams, "
              "50 years, 200 cities, the fifteenth, 12 pm, 2:10 AM, 1.5 million users.")
    assert flagged(answer, transcript) == []
    assert flagged("Submit by Thursday at 6 pm; 1,300 sign-ups, 16%.", transcript) == [
        "Thursday", "6 pm", "1,300", "16%"]
    assert flagged("They will meet tomorrow.", "They will meet next week.") == ["tomorrow"]


def test_a_faithful_answer_is_not_flagged():
    answer = ("The launch moves from March 3rd to March 10th because the payment provider "
              "needs another week; Lee will update the landing page by Friday.")
    grounding = check_answer(answer, LAUNCH)
    assert grounding.ok and grounding.overlap > 0.8


def test_every_fixture_turn_backs_itself():
    """An answer that only repeats its turn is never flagged, whatever the turn holds."""
    for _, turn in fixture_turns():
        grounding = check_answer(turn["text"], turn["text"])
        assert grounding.ok, (turn["text"], grounding)


def test_words_of_the_prompt_and_the_speakers_are_not_invented():
    prompt = builtins()["action_items"]
    context = answer_context(prompt, {"A": "Dana", "B": "Lee"})
    assert "Dana" in context and GROUNDING_SYSTEM not in context
    answer = "• Dana: send the slides\nAction Items reviewed by the Owner."
    assert flagged(answer, "I'll send the slides.", context) == []
    assert flagged(answer, "I'll send the slides.") == ["Dana"]


def test_capitalised_words_that_are_not_names():
    transcript = "we should review the budget on monday and ask finance"
    for answer in ("Review the budget on Monday.", "OK, I will ask Finance on Monday.",
                   "Summary: The team will review the budget.",
                   "1. Review the budget\n2. Ask finance", "Discussed the budget. Monday."):
        assert flagged(answer, transcript) == [], answer
    assert flagged("Dana's team will review the budget.", transcript) == ["Dana's"]
    assert flagged("John Smith will review the budget.", transcript) == ["John Smith"]


def test_list_numbers_and_vague_number_words_are_not_numbers():
    transcript = "Ask the design team for a banner and update the page."
    answer = "1. Ask the design team for a banner.\n2. Update the page, one of the first tasks."
    assert flagged(answer, transcript) == []


def test_nothing_to_note_is_fine():
    for answer in ("Nothing to note.", "nothing to note", "  \"Nothing to note.\"  ", ""):
        grounding = check_answer(answer, PRINTING)
        assert grounding.ok and grounding.nothing and grounding.note() == ""


def test_an_answer_about_something_else_is_unrelated():
    transcript = "Okay, thanks everyone, talk to you next week."
    answer = ("I'm glad to have you all here today. I'll be happy to answer any questions, "
              "provide guidance and support in a non-judgmental way.")
    assert check_answer(answer, transcript).unrelated
    summary = "Budget nearly spent: the cloud bill jumped in May."
    assert not check_answer(summary, BUDGET).unrelated
    assert not check_answer("Thanks, next week.", transcript).unrelated  # too short to judge


def test_facts_are_found_case_and_number_insensitively():
    answer = "They launch on march 10th; 1200 sign-ups and fifteen % returned, due 17:00."
    assert mentions(answer, "March 10") and mentions(answer, "1,200")
    assert mentions(answer, "15 percent") and mentions(answer, "5 pm")
    assert mentions(answer, ["postmortem", "march"]) and not mentions(answer, "March 3")
    assert not mentions("item 12", "1") and normalise_text("Two hundred and fifty") == "250"


def test_every_fixture_fact_is_in_its_turn():
    for _, turn in fixture_turns():
        for fact in turn["summary"] + turn["action_items"]:
            alternatives = [fact] if isinstance(fact, str) else fact
            assert any(mentions(turn["text"], a) for a in alternatives), (fact, turn["text"])


# --- requests ------------------------------------------------------------------------------


def test_the_summary_request_for_the_bundled_model():
    prompt = builtins()["summary"]
    speakers = {"A": "Dana", "B": "Lee", "C": ""}
    request = turn_request(prompt, "smollm2-135m", max_tokens=256, speakers=speakers)
    system, user = request["messages"]
    assert system == {"role": "system", "content": GROUNDING_SYSTEM}  # no names to echo
    cloud = turn_request(prompt, "claude-sonnet-4-6", speakers=speakers)["messages"][0]
    assert cloud["content"].endswith("People in this conversation: Dana, Lee.")
    assert user == {"role": "user", "content": prompt.turn_template}
    assert "{{turn}}" in user["content"]
    assert (request["max_tokens"], request["stop"], request["temperature"]) == (96, ["\n\n"], 0)
    assert request["repeat_penalty"] == LOCAL_REPEAT_PENALTY
    assert "response_format" not in request


def test_a_cloud_model_gets_no_llama_cpp_settings_and_its_own_limit():
    prompt = builtins()["summary"]
    request = turn_request(prompt, "claude-sonnet-4-6")
    assert "repeat_penalty" not in request and request["max_tokens"] == 96
    assert turn_request(Prompt("p", "P", "Q: {{turn}}"), "claude-sonnet-4-6",
                        max_tokens=4000)["max_tokens"] == 4000
    assert turn_request(Prompt("p", "P", "Q: {{turn}}", max_tokens=9000), "x",
                        max_tokens=256)["max_tokens"] == 256
    assert is_local_model("gguf:qwen2.5-1.5b") and not is_local_model("ollama/llama3")


def test_action_items_ask_for_json_with_a_schema():
    prompt = builtins()["action_items"]
    cloud = turn_request(prompt, "claude-sonnet-4-6")["response_format"]
    assert cloud == {"type": "json_schema",
                     "json_schema": {"name": "action_items", "schema": ACTION_ITEMS_SCHEMA}}
    local = turn_request(prompt, "smollm2-135m")
    schema = local["response_format"]["json_schema"]["schema"]
    item = schema["properties"]["items"]["items"]["properties"]
    assert schema["properties"]["items"]["maxItems"] == 5
    assert item["task"]["maxLength"] == 120
    assert item["owner"]["anyOf"][0]["pattern"].startswith("^[A-Z]")
    assert item["due"]["anyOf"][1] == {"type": "null"}
    assert "null when the transcript does not say" in local["messages"][0]["content"]


def test_the_local_schema_compiles_to_a_llama_cpp_grammar():
    grammar = pytest.importorskip("llama_cpp.llama_grammar")
    local = turn_request(builtins()["action_items"], "smollm2-135m")
    gbnf = grammar.json_schema_to_gbnf(json.dumps(local["response_format"]["json_schema"]
                                                  ["schema"]))
    assert "owner" in gbnf and "null" in gbnf


def test_the_engine_hands_llama_cpp_the_schema_stop_and_penalty():
    pytest.importorskip("llama_cpp")
    from earmark.engine.llm.providers.llama_cpp import GGUFModel, LlamaCppProvider

    provider = LlamaCppProvider(GGUFModel("smollm2-135m", Path("x.gguf"), "x", "x"),
                                host=None, n_threads=1, n_ctx=2048)  # type: ignore[arg-type]
    config = turn_llm_gateway(builtins()["action_items"], "smollm2-135m", max_tokens=256)
    request = {**config.extra, "model": config.model, "messages": config.render("hi"),
               "max_tokens": config.max_tokens}
    args = provider._arguments(request)
    assert args["response_format"]["type"] == "json_object"
    assert args["response_format"]["schema"]["required"] == ["items"]
    assert args["repeat_penalty"] == LOCAL_REPEAT_PENALTY and args["temperature"] == 0
    assert args["max_tokens"] == 200


def test_the_config_travels_in_the_query_string():
    config = turn_llm_gateway(builtins()["summary"], "smollm2-135m", max_tokens=256,
                              speakers={"A": "Dana"})
    decoded = StreamingParams.from_query(StreamingParams(llm_gateway=config).to_query())
    assert decoded.llm_gateway == config
    assert decoded.llm_gateway.extra["stop"] == ["\n\n"]
    rendered = decoded.llm_gateway.render("We ship Friday.")
    assert '"We ship Friday."' in rendered[-1]["content"]


def test_speaker_names_reach_the_engine_as_names_and_the_service_as_its_system_message():
    prompt = builtins()["summary"]
    local = turn_llm_gateway(prompt, "smollm2-135m", max_tokens=256)
    named = with_speaker_names(with_speaker_names(local, prompt, {"": "You"}, embedded=True),
                               prompt, {"A": "Dana"}, embedded=True)
    assert named.extra["speaker_names"] == {"": "You", "A": "Dana"}
    unnamed = with_speaker_names(named, prompt, {}, embedded=True)  # the name was taken back
    assert unnamed.extra["speaker_names"] == {"": "You"}
    assert named.messages == local.messages  # the small model is not handed a list of names
    cloud = turn_llm_gateway(prompt, "claude-sonnet-4-6", max_tokens=256)
    told = with_speaker_names(cloud, prompt, {"A": "Dana", "B": "Lee"}, embedded=False)
    assert "speaker_names" not in told.extra
    assert told.messages[0].role == "system" and "Dana, Lee" in told.messages[0].content
    assert told.messages[1:] == tuple(m for m in cloud.messages if m.role != "system")


def test_the_whole_session_request_is_grounded_prose():
    prompt = builtins()["action_items"]
    system, user = session_messages(prompt, "Dana: I'll send the slides.", {"A": "Dana"})
    assert system["content"].startswith(GROUNDING_SYSTEM) and "Dana" in system["content"]
    assert user["content"].startswith("Generate a set of action items")
    assert user["content"].endswith("Transcript:\nDana: I'll send the slides.")


def test_the_built_in_prompts():
    prompts = builtins()
    assert list(prompts) == ["summary", "analysis", "takeaway", "action_items"]
    assert prompts["action_items"].response_schema == ACTION_ITEMS_SCHEMA
    assert all(p.grounded and p.max_tokens for p in prompts.values())
    assert prompts["summary"].stop == ("\n\n",)


def test_prompt_files_keep_the_new_fields_and_plain_ones_stay_short():
    prompt = Prompt.from_dict({"id": "x", "name": "X", "turn_template": "{{turn}}",
                               "stop": "END", "max_tokens": 50, "grounded": False,
                               "response_schema": {"type": "object"}})
    assert (prompt.stop, prompt.max_tokens, prompt.grounded) == (("END",), 50, False)
    assert Prompt.from_dict(json.loads(json.dumps(prompt.to_dict()))) == prompt
    assert set(Prompt("p", "P", "{{turn}}").to_dict()) == {
        "id", "name", "turn_template", "session_template", "system", "language"}
    for bad in ({"stop": [1]}, {"max_tokens": -1}, {"max_tokens": True},
                {"response_schema": "x"}, {"grounded": "yes"}):
        with pytest.raises(PromptError):
            Prompt.from_dict({"id": "x", "name": "X", "turn_template": "{{turn}}", **bad})


# --- answers -------------------------------------------------------------------------------


def test_structured_answers_become_readable_lines():
    answer = json.dumps({"items": [
        {"task": "send the slides", "owner": "Dana", "due": "Friday"},
        {"task": "book the room", "owner": None, "due": "null"},
        {"task": "book the room", "owner": "N/A", "due": None},
        {"task": "  ", "owner": "Lee", "due": None}]})
    assert render_answer(answer) == "• Dana: send the slides (due Friday)\n• book the room"
    assert render_answer('{"items": []}') == "Nothing to note."
    assert render_answer('```json\n[{"task": "call Tom", "owner": "Priya"}]\n```') == \
        "• Priya: call Tom"


def test_malformed_json_is_salvaged_or_shown_as_it_came():
    trailing = '{ "items": [ {"task": "read chapter four", "owner": null, "due": null}]} | x'
    assert render_answer(trailing) == "• read chapter four"
    cut = ('{"items": [{"task": "update the page", "owner": "Lee", "due": "Friday"}, '
           '{"task": "write the ban')
    assert render_answer(cut) == "• Lee: update the page (due Friday)"
    broken = '{"items": [ "task" : oops'
    assert render_answer(broken) == broken
    assert render_answer("  Plain prose answer.  ") == "Plain prose answer."
    assert parse_items("no json here {at all}") is None


def test_invented_owners_and_dates_can_be_dropped():
    items = [ActionItem("update the landing page", "Lee", "2018-03-04T09:57:56Z"),
             ActionItem("update the landing page", "John Smith", "Friday"),
             ActionItem("add_to_list", "Dana", None)]
    assert drop_invented(items, LAUNCH) == [
        ActionItem("update the landing page", "Lee", None),
        ActionItem("update the landing page", None, "Friday")]


def test_a_checked_answer_is_rendered_then_checked():
    prompt = builtins()["action_items"]
    answer = json.dumps({"items": [{"task": "update the landing page", "owner": "Lee",
                                    "due": "Friday 5 pm"}]})
    shown, grounding = checked_answer(answer, LAUNCH, prompt, {"A": "Dana", "B": "Lee"})
    assert shown == "• Lee: update the landing page (due Friday 5 pm)"
    assert [s.text for s in grounding.invented] == ["5 pm"]
    tidied, grounding = checked_answer(answer, LAUNCH, prompt, tidy=True)
    assert tidied == "• Lee: update the landing page" and grounding.ok


def test_a_title_goes_with_the_name_it_belongs_to():
    """"Dr. Stella" is flagged as one name, not "Dr" or a bare "Stella"; a title alone
    invents nobody."""
    flagged = check_answer("Dr. Stella Ruiz will call Mr. Lee.", "Paul will call.")
    assert [s.text for s in flagged.invented] == ["Dr. Stella Ruiz", "Mr. Lee"]
    assert not check_answer("Dr. Stella will call.", "Stella said she would call.").invented
