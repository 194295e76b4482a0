"""The raw websocket-client sample of AssemblyAI's "streaming + LLM Gateway" tutorial
(shared/reference/assemblyai-tutorial-streaming-llm-gateway.txt), kept as written except:
the endpoint and key are parameters, `FileStream` (a WAV file, 50 ms reads) stands in for the
PyAudio microphone, and the end of the file takes the place of Ctrl+C. It prints what the
tutorial prints; the test reads that output."""

# ruff: noqa: SIM115
from __future__ import annotations

import json
import threading
import time
import wave
from datetime import datetime
from urllib.parse import urlencode

import websocket

# --- Configuration ---
YOUR_API_KEY = "<YOUR_API_KEY>"  # set by run()

# LLM Gateway Configuration
PROMPT = "Provide a brief summary of the transcript.\n\nTranscript: {{turn}}"
LLM_GATEWAY_CONFIG = {
    "model": "claude-sonnet-4-6",
    "messages": [
        {"role": "user", "content": PROMPT}
    ],
    "max_tokens": 4000
}
CONNECTION_PARAMS = {
    "sample_rate": 16000,
    "format_turns": True,  # Request formatted final transcripts
    "speech_model": "u3-rt-pro",  # USM 3 Pro model
    "llm_gateway": json.dumps(LLM_GATEWAY_CONFIG)  # LLM Gateway configuration
}
API_ENDPOINT_BASE_URL = "wss://streaming.assemblyai.com/v3/ws"  # set by run()
API_ENDPOINT = f"{API_ENDPOINT_BASE_URL}?{urlencode(CONNECTION_PARAMS)}"

# Audio Configuration
FRAMES_PER_BUFFER = 800  # 50ms of audio (0.05s * 16000Hz)
SAMPLE_RATE = CONNECTION_PARAMS["sample_rate"]
CHANNELS = 1

# Global variables for audio stream and websocket
audio = None
stream = None
ws_app = None
audio_thread = None
stop_event = threading.Event()  # To signal the audio thread to stop

# WAV recording variables
recorded_frames = []  # Store audio frames for WAV file
recording_lock = threading.Lock()  # Thread-safe access to recorded_frames


class FileStream:
    """What the sample needs of a PyAudio input stream, reading a WAV file at `pace` x
    real time; raises at the end like a closed stream."""

    def __init__(self, path: str, pace: float) -> None:
        self._wav = wave.open(path, "rb")
        self._pace = pace
        self._t0 = time.monotonic()
        self._sent = 0.0
        self.finished = threading.Event()

    def read(self, frames: int, exception_on_overflow: bool = True) -> bytes:
        data = self._wav.readframes(frames)
        if not data:
            self.finished.set()
            raise OSError("end of file")
        self._sent += frames / SAMPLE_RATE
        delay = self._t0 + self._sent / self._pace - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        return data

    def is_active(self) -> bool:
        return not self.finished.is_set()

    def stop_stream(self) -> None:
        pass

    def close(self) -> None:
        self._wav.close()


def save_wav_file():
    """Save recorded audio frames to a WAV file."""
    if not recorded_frames:
        print("No audio data recorded.")
        return

    # Generate filename with timestamp
    timestamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    filename = f"recorded_audio_{timestamp}.wav"

    try:
        with wave.open(filename, 'wb') as wf:
            wf.setnchannels(CHANNELS)
            wf.setsampwidth(2)  # 16-bit = 2 bytes
            wf.setframerate(SAMPLE_RATE)

            # Write all recorded frames
            with recording_lock:
                wf.writeframes(b''.join(recorded_frames))

        print(f"Audio saved to: {filename}")
        print(f"Duration: {len(recorded_frames) * FRAMES_PER_BUFFER / SAMPLE_RATE:.2f} seconds")

    except Exception as e:
        print(f"Error saving WAV file: {e}")


# --- WebSocket Event Handlers ---

def on_open(ws):
    """Called when the WebSocket connection is established."""
    print("WebSocket connection opened.")
    print(f"Connected to: {API_ENDPOINT_BASE_URL}")

    # Start sending audio data in a separate thread
    def stream_audio():
        global stream
        print("Starting audio streaming...")
        while not stop_event.is_set():
            try:
                audio_data = stream.read(FRAMES_PER_BUFFER, exception_on_overflow=False)

                # Store audio data for WAV recording
                with recording_lock:
                    recorded_frames.append(audio_data)

                # Send audio data as binary message
                ws.send(audio_data, websocket.ABNF.OPCODE_BINARY)
            except Exception as e:
                print(f"Error streaming audio: {e}")
                # If stream read fails, likely means it's closed, stop the loop
                break
        print("Audio streaming stopped.")

    global audio_thread
    audio_thread = threading.Thread(target=stream_audio)
    audio_thread.daemon = (
        True  # Allow main thread to exit even if this thread is running
    )
    audio_thread.start()


def on_message(ws, message):
    try:
        data = json.loads(message)
        msg_type = data.get('type')

        if msg_type == "Begin":
            session_id = data.get('id')
            expires_at = data.get('expires_at')  # noqa: F841
            print(f"Session started: {session_id}")
        elif msg_type == "Turn":
            end_of_turn = data.get('end_of_turn', False)
            if end_of_turn:
                transcript = data.get('transcript', '')
                print(f"\nTranscript:\n{transcript}\n")
        elif msg_type == "LLMGatewayResponse":
            # Extract the LLM response content
            llm_data = data.get('data', {})
            llm_content = llm_data.get("choices", [{}])[0].get("message", {}).get("content", "")
            print(f"LLM Response:\n{llm_content}\n")
        elif msg_type == "Termination":
            audio_duration = data.get('audio_duration_seconds', 0)
            session_duration = data.get('session_duration_seconds', 0)  # noqa: F841
            print(f"Session terminated: {audio_duration} seconds of audio processed")
    except json.JSONDecodeError as e:
        print(f"Error decoding message: {e}")
    except Exception as e:
        print(f"Error handling message: {e}")


def on_error(ws, error):
    """Called when a WebSocket error occurs."""
    print(f"\nWebSocket Error: {error}")
    # Attempt to signal stop on error
    stop_event.set()


def on_close(ws, close_status_code, close_msg):
    """Called when the WebSocket connection is closed."""
    print(f"\nWebSocket Disconnected: Status={close_status_code}, Msg={close_msg}")

    # Save recorded audio to WAV file
    save_wav_file()

    # Ensure audio resources are released
    global stream, audio
    stop_event.set()  # Signal audio thread just in case it's still running

    if stream:
        if stream.is_active():
            stream.stop_stream()
        stream.close()
        stream = None
    if audio:
        audio.terminate()
        audio = None
    # Try to join the audio thread to ensure clean exit
    if audio_thread and audio_thread.is_alive():
        audio_thread.join(timeout=1.0)


# --- Main Execution ---
def run(base_url: str, api_key: str, wav_path: str, pace: float = 2.0):
    global audio, stream, ws_app, API_ENDPOINT_BASE_URL, API_ENDPOINT, YOUR_API_KEY
    API_ENDPOINT_BASE_URL = base_url
    API_ENDPOINT = f"{API_ENDPOINT_BASE_URL}?{urlencode(CONNECTION_PARAMS)}"
    YOUR_API_KEY = api_key
    stop_event.clear()
    recorded_frames.clear()

    # Open the "microphone" stream
    stream = FileStream(wav_path, pace)
    print("Microphone stream opened successfully.")

    # Create WebSocketApp
    ws_app = websocket.WebSocketApp(
        API_ENDPOINT,
        header={"Authorization": YOUR_API_KEY},
        on_open=on_open,
        on_message=on_message,
        on_error=on_error,
        on_close=on_close,
    )

    # Run WebSocketApp in a separate thread to allow main thread to catch KeyboardInterrupt
    ws_thread = threading.Thread(target=ws_app.run_forever)
    ws_thread.daemon = True
    ws_thread.start()

    file_stream = stream
    # Keep main thread alive until the file ends (the tutorial: until Ctrl+C)
    while ws_thread.is_alive() and not file_stream.finished.wait(0.1):
        pass
    print("\nCtrl+C received. Stopping...")
    stop_event.set()  # Signal audio thread to stop

    # Send termination message to the server
    if ws_app and ws_app.sock and ws_app.sock.connected:
        try:
            terminate_message = {"type": "Terminate"}
            print(f"Sending termination message: {json.dumps(terminate_message)}")
            ws_app.send(json.dumps(terminate_message))
            # Give a moment for messages to process before forceful close
            # (the tutorial sleeps 5 s; the server closes as soon as it is done)
            ws_thread.join(5)
        except Exception as e:
            print(f"Error sending termination message: {e}")

    # Close the WebSocket connection (will trigger on_close)
    if ws_app:
        ws_app.close()

    # Wait for WebSocket thread to finish
    ws_thread.join(timeout=2.0)
    print("Cleanup complete. Exiting.")
