from earmark.core.speech_coverage import SpeechCoverage


def test_speech_no_turn_holds_is_found_and_small_noises_are_not():
    coverage = SpeechCoverage()
    coverage.heard(0, 1000, 0.95)  # turn 1's speech
    coverage.heard(1000, 2000, 0.2)  # a pause
    coverage.heard(5000, 6000, 0.97)  # speech that got no words
    coverage.heard(6000, 7000, 0.98)
    coverage.heard(9000, 9500, 0.99)  # a cough
    turns = [(100, 900)]
    assert coverage.uncovered(turns) == [(5000, 6000), (6000, 7000), (9000, 9500)]
    assert coverage.uncovered([*turns, (5200, 6800)]) == []  # a turn holds it after all
    coverage = SpeechCoverage()
    coverage.heard(9000, 9500, 0.99)
    assert coverage.uncovered([]) == []  # half a second is not worth an alarm
