"""A model the user added (or downloaded) to the models folder is served by the engine as it
starts, and the app picks it over the demo model."""

from __future__ import annotations

import asyncio
import shutil

from earmark.core.catalog import default_answer_model
from earmark.core.models import add_local_gguf, models_dir
from earmark.engine.llm.providers.llama_cpp import bundled_smollm2_path
from earmark.engine.runner import default_llm_service


def test_an_added_gguf_is_served_and_chosen_over_the_demo(tmp_path, monkeypatch):
    monkeypatch.setenv("EARMARK_MODELS_DIR", str(tmp_path / "models"))
    copy = tmp_path / "my-meeting-model.gguf"
    shutil.copyfile(bundled_smollm2_path(), copy)
    model = add_local_gguf(models_dir(), copy)
    assert model.engine_model_id == "gguf:my-meeting-model"

    async def scenario() -> tuple[list[str], str]:
        service = default_llm_service(None)
        try:
            ids = [m["id"] for m in await service.list_models()]
            data = await service.complete({
                "model": model.engine_model_id, "max_tokens": 8, "temperature": 0,
                "messages": [{"role": "user", "content": "Say hello."}]})
            return ids, data["choices"][0]["message"]["content"]
        finally:
            await service.close()

    ids, answer = asyncio.run(scenario())
    assert "gguf:my-meeting-model" in ids and answer.strip()
    assert default_answer_model(ids) == "gguf:my-meeting-model"
