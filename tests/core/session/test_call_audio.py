"""A call's recordings are played as one: the microphone and the other side, mixed."""

import wave

import numpy as np

from earmark.core.session.call_audio import open_session_audio


def write(path, samples):
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(np.asarray(samples, dtype="<i2").tobytes())


def test_the_other_side_is_mixed_in_from_where_playback_starts(tmp_path):
    write(tmp_path / "audio.wav", [100] * 10)
    write(tmp_path / "system.wav", [30000] * 6 + [7] * 8)
    audio = open_session_audio(tmp_path / "audio.wav")
    assert audio.getnframes() == 14  # the longer of the two
    audio.setpos(4)
    mixed = np.frombuffer(audio.readframes(100), dtype="<i2")
    assert list(mixed) == [30100, 30100, 107, 107, 107, 107, 7, 7, 7, 7]
    audio.setpos(0)
    assert np.frombuffer(audio.readframes(1), dtype="<i2")[0] == 30100
    audio.close()


def test_loud_sides_are_clipped_not_wrapped_and_a_session_without_a_call_plays_as_is(tmp_path):
    write(tmp_path / "audio.wav", [30000, -30000])
    write(tmp_path / "system.wav", [30000, -30000])
    mixed = open_session_audio(tmp_path / "audio.wav")
    assert list(np.frombuffer(mixed.readframes(2), dtype="<i2")) == [32767, -32768]
    (tmp_path / "system.wav").unlink()
    alone = open_session_audio(tmp_path / "audio.wav")
    assert isinstance(alone, wave.Wave_read)
    alone.close()
