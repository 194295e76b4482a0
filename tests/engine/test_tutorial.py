"""The tutorial's raw websocket-client sample, URL changed, a file instead of the microphone."""

from __future__ import annotations

import re

from earmark.engine.runner import EngineRunner
from tests.engine import tutorial_client
from tests.engine.engine_support import reference, speech, wer


def test_tutorial_raw_websocket_sample(engine: EngineRunner, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the sample saves the audio it sent next to it
    wav = speech("misc/jfk.wav")
    tutorial_client.run(engine.ws_url, engine.token, str(wav), pace=3.0)
    out = capsys.readouterr().out

    assert re.search(r"Session started: [0-9a-f-]{36}", out), out
    transcripts = re.findall(r"\nTranscript:\n(.*)\n", out)
    assert transcripts, out
    assert wer(reference("misc/jfk.wav"), " ".join(transcripts[1::2])) < 0.25, transcripts
    answers = re.findall(r"LLM Response:\necho: Provide a brief summary of the transcript.\n\n"
                         r"Transcript: (.*)\n", out)
    assert answers, out
    assert re.search(r"Session terminated: 1[01] seconds of audio processed", out), out
    assert "WebSocket Disconnected: Status=1000" in out
    assert "Error handling message" not in out and "Error decoding" not in out
    # websocket-client reports the server's normal close through on_error; nothing else.
    assert re.findall(r"WebSocket Error: (.*)", out) in ([], ["Connection closed normally "
                                                              "(code 1000)"]), out
    assert list(tmp_path.glob("recorded_audio_*.wav"))
