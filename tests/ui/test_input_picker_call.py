"""The input picker offers a call for each system-audio monitor: the default microphone as
"You" and that output as the other side."""

from earmark.ui.input_picker import InputPicker
from earmark.workers.audio_inputs import AudioInput, InputKind

BUILT_IN = AudioInput("pa:ALSA:Built-in", "Built-in", InputKind.DEVICE, True, "Built-in", "ALSA")
MONITOR = AudioInput("pulse:speakers.monitor", "System audio (Speakers)", InputKind.SYSTEM_AUDIO,
                     pulse_source="speakers.monitor")


def test_a_call_is_offered_for_each_monitor_and_keeps_both_inputs(qtbot):
    picker = InputPicker()
    qtbot.addWidget(picker)
    picker.set_devices([BUILT_IN, MONITOR])
    items = [picker.itemText(i) for i in range(picker.count())]
    assert "Call: microphone + System audio (Speakers)" in items
    picker.select_key("call:" + MONITOR.key)
    assert picker.selected_device() == BUILT_IN
    assert picker.selected_call_audio() == MONITOR
    assert not picker.is_unplugged()


def test_a_call_whose_output_went_away_is_shown_unplugged(qtbot):
    picker = InputPicker()
    qtbot.addWidget(picker)
    picker.set_devices([BUILT_IN, MONITOR])
    picker.select_key("call:" + MONITOR.key)
    picker.set_devices([BUILT_IN])
    assert picker.is_unplugged()
    assert picker.selected_call_audio() is None
    assert "(not connected)" in picker.currentText()


def test_a_plain_input_is_not_a_call(qtbot):
    picker = InputPicker()
    qtbot.addWidget(picker)
    picker.set_devices([BUILT_IN, MONITOR])
    picker.select_key(MONITOR.key)
    assert picker.selected_call_audio() is None
    assert picker.selected_device() == MONITOR
