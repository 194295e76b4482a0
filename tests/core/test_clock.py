"""Times as the window shows them: hours only when there are any."""

from earmark.core.clock import format_clock, format_duration


def test_a_position_has_two_digit_minutes():
    assert [format_clock(ms) for ms in (None, 0, 42_900, 725_000, 3_723_000)] == [
        "", "00:00", "00:42", "12:05", "1:02:03"]


def test_a_length_has_no_leading_zero():
    assert [format_duration(ms) for ms in (0, 42_900, 725_000, 3_723_000, -5)] == [
        "0:00", "0:42", "12:05", "1:02:03", "0:00"]
