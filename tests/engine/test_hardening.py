"""The engine's server against bad and hostile clients: out-of-range values, garbage after
Terminate, too many sessions, frozen and idle connections, a flood of idle sockets, log spam,
web pages and rebound host names, tokens in URLs."""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import resource
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import websocket

from earmark.engine.access import host_allowed, origin_allowed
from earmark.engine.cli import build_parser
from earmark.engine.limits import default_max_sessions, raise_open_file_limit
from earmark.engine.log_limits import RateLimitFilter, install_rate_limit
from earmark.engine.resources import SpeechResources
from earmark.engine.runner import EngineOptions, EngineRunner
from tests.engine.engine_support import EchoLLM, Session, assert_well_formed, pcm16, silence

SPEECH = "cmu_arctic/cmu_arctic_us_aew_a0001.wav"  # "... the danger trail ..."


class BorrowedResources:
    """The session engine's loaded model, lent to an engine with other limits: nothing is
    loaded again, and stopping the borrower leaves the owner's thread pools alone."""

    def __init__(self, owner: SpeechResources) -> None:
        self._owner = owner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._owner, name)

    async def load(self) -> None:
        return None

    def close(self) -> None:
        return None


@contextlib.contextmanager
def own_engine(engine: EngineRunner, llm: EchoLLM, **options: Any) -> Iterator[EngineRunner]:
    runner = EngineRunner(EngineOptions(port=0, **options), llm_service=llm)
    runner.resources = BorrowedResources(engine.resources)  # type: ignore[assignment]
    runner.start()
    assert runner.wait_listening(10), runner.start_error
    try:
        yield runner
    finally:
        runner.stop()


def _error_then_close(session: Session, code: int) -> str:
    assert session.wait_closed(10) == code
    errors = session.of_type("Error")
    assert len(errors) == 1 and errors[0]["error_code"] == code, session.messages
    assert_well_formed(session.messages)
    return errors[0]["error"]


def _begins(runner: EngineRunner, **kwargs: Any) -> Session:
    s = Session.open(runner.ws_url, runner.token, **kwargs)
    s.wait_for(lambda m: m["type"] == "Begin", 5)
    return s


def _raw_http(port: int, request: bytes, timeout: float = 5.0) -> bytes:
    """Send `request` as is and read until the server closes (or `timeout`)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        return _read_to_eof(sock, timeout)


def _read_to_eof(sock: socket.socket, timeout: float) -> bytes:
    """All bytes until the peer closes; TimeoutError if it has not within `timeout`."""
    deadline = time.monotonic() + timeout
    data = b""
    while True:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        except TimeoutError:
            raise TimeoutError(f"still open after {timeout} s; got {data[:200]!r}") from None
        if not chunk:
            return data
        data += chunk


def _get(port: int, path: str, headers: dict[str, str]) -> tuple[int, str]:
    """A GET with exactly these headers (Host included: http.client's is skipped)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.putrequest("GET", path, skip_host="Host" in headers)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


# --- out-of-range values ---------------------------------------------------------------------

@pytest.mark.parametrize(("name", "value"), [
    ("vad_threshold", "2"),
    ("min_turn_silence", "-5"),
    ("end_of_turn_confidence_threshold", "nan"),
    ("vad_threshold", "1e999"),
    ("max_turn_silence", "1.5e400"),  # int(float(...)) overflows
    ("sample_rate", "1000000"),
    ("inactivity_timeout", "-1"),
    ("max_speakers", "11"),
    ("interruption_delay", "inf"),  # a parameter the engine does not use is checked too
])
def test_out_of_range_connection_values_close_3006(engine: EngineRunner, name: str, value: str):
    s = Session.open(engine.ws_url, engine.token, {"sample_rate": 16000, name: value})
    reason = _error_then_close(s, 3006)
    assert name in reason and reason.startswith("Invalid Message")
    assert name in s.close_reason
    assert not s.of_type("Begin")


@pytest.mark.parametrize("text", [
    '{"type":"UpdateConfiguration","max_turn_silence":1e999}',
    '{"type":"UpdateConfiguration","min_turn_silence":1e999}',
    '{"type":"UpdateConfiguration","vad_threshold":NaN}',
    '{"type":"UpdateConfiguration","end_of_turn_confidence_threshold":-Infinity}',
    '{"type":"UpdateConfiguration","vad_threshold":2}',
    '{"type":"UpdateConfiguration","min_turn_silence":-5}',
    '{"type":"UpdateConfiguration","interruption_delay":5000}',
    '{"type":"UpdateConfiguration","keyterms_prompt":' + json.dumps(["w"] * 101) + "}",
    '{"type":"UpdateConfiguration","x":' + "[" * 5000 + "]" * 5000 + "}",  # nested too deep
])
def test_out_of_range_update_closes_3006(engine: EngineRunner, text: str):
    s = _begins(engine)
    s.send_audio(silence(300))
    s.send_json(text)
    reason = _error_then_close(s, 3006)
    assert reason.startswith(("Invalid Message", "Invalid JSON"))


def test_in_range_values_are_served(engine: EngineRunner):
    s = _begins(engine, params={"sample_rate": 16000, "vad_threshold": "0.5",
                                "min_turn_silence": "160", "max_turn_silence": "2000",
                                "end_of_turn_confidence_threshold": "0.7"})
    s.send_json({"type": "UpdateConfiguration", "max_turn_silence": 3000.0,
                 "vad_threshold": 0, "end_of_turn_confidence_threshold": 1})
    s.send_audio(silence(300))
    assert s.terminate() == 1000
    assert not s.of_type("Error")


# --- garbage after Terminate ------------------------------------------------------------------

def test_garbage_after_terminate_still_gets_the_last_turn_and_termination(engine: EngineRunner):
    s = _begins(engine)
    s.send_audio(pcm16(SPEECH), chunk_ms=200)
    s.send_json({"type": "Terminate"})
    for junk in ("{not json", '{"type": "Bogus"}', '["a list"]', '{"type":"KeepAlive"}'):
        s.send_json(junk)
    s.ws.send_binary(silence(100))
    assert s.wait_closed(30) == 1000
    assert "danger trail" in s.final_text()
    assert s.messages[-1]["type"] == "Termination"
    assert not s.of_type("Error")
    assert_well_formed(s.messages)


# --- the session cap ------------------------------------------------------------------------

def test_the_session_over_the_cap_is_closed_3009_at_once(engine: EngineRunner, echo_llm: EchoLLM):
    with own_engine(engine, echo_llm, max_sessions=2) as runner:
        first, second = _begins(runner), _begins(runner)
        started = time.monotonic()
        third = Session.open(runner.ws_url, runner.token)
        reason = _error_then_close(third, 3009)
        assert time.monotonic() - started < 2
        assert "too many concurrent sessions" in reason.lower()
        assert "too many concurrent sessions" in third.close_reason.lower()
        assert not third.of_type("Begin")
        assert first.terminate() == 1000  # a slot frees when a session ends
        fourth = _begins(runner)
        assert second.terminate() == 1000 and fourth.terminate() == 1000


def test_the_cli_passes_the_cap_and_the_allowed_origins():
    args = build_parser().parse_args(["--max-sessions", "3", "--allowed-origin", "https://a.b",
                                      "--allowed-origin", "http://localhost:3000"])
    assert (args.max_sessions, args.allowed_origin) == (3, ["https://a.b",
                                                            "http://localhost:3000"])
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--max-sessions", "-1"])


def test_default_session_cap_follows_the_cores():
    assert default_max_sessions(1) == 4 and default_max_sessions(2) == 4
    assert default_max_sessions(8) == 16
    assert EngineOptions().server_limits().max_sessions == default_max_sessions()
    assert EngineOptions(max_sessions=3).server_limits().max_sessions == 3


# --- frozen and idle clients --------------------------------------------------------------------

def _frozen_websocket(runner: EngineRunner) -> socket.socket:
    """A websocket upgraded by hand that then never reads or answers anything."""
    sock = socket.create_connection(("127.0.0.1", runner.port), timeout=5)
    sock.sendall(
        f"GET /v3/ws?sample_rate=16000 HTTP/1.1\r\nHost: 127.0.0.1:{runner.port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        f"Authorization: {runner.token}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def test_a_client_that_stops_answering_pings_is_dropped(engine: EngineRunner,
                                                        echo_llm: EchoLLM):
    with own_engine(engine, echo_llm, heartbeat_s=0.4, max_sessions=1) as runner:
        frozen = _frozen_websocket(runner)
        started = time.monotonic()
        with frozen:
            time.sleep(1.0)  # pinged, no pong: dropped after 0.4 + 0.2 s
            _read_to_eof(frozen, 3)  # Begin, pings, then the end of the connection
        assert time.monotonic() - started < 3
        # the frozen client's slot is free again; a live client answers pings and stays
        live = _begins(runner)
        time.sleep(1.5)
        assert not live.closed
        assert live.terminate() == 1000


def test_connections_without_a_request_are_closed(engine: EngineRunner, echo_llm: EchoLLM):
    with own_engine(engine, echo_llm, request_timeout_s=0.5, keepalive_timeout_s=0.5) as runner:
        silent = socket.create_connection(("127.0.0.1", runner.port))
        slow = socket.create_connection(("127.0.0.1", runner.port))
        slow.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
        kept = socket.create_connection(("127.0.0.1", runner.port))
        kept.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # keep-alive
        started = time.monotonic()
        with silent, slow, kept:
            assert _read_to_eof(silent, 4) == b""
            assert _read_to_eof(slow, 4) == b""
            assert _read_to_eof(kept, 4).startswith(b"HTTP/1.1 200")
        assert time.monotonic() - started < 4
        assert _get(runner.port, "/health", {})[0] == 200  # a prompt client is served


@pytest.fixture
def low_open_file_limit() -> Iterator[int]:
    """The soft RLIMIT_NOFILE at a desktop's usual 1,024 (restored afterwards)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2600:
        pytest.skip(f"the hard open-file limit ({hard}) is below what the test needs")
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
    yield hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_1100_idle_sockets_do_not_lock_out_a_client(engine: EngineRunner, echo_llm: EchoLLM,
                                                    low_open_file_limit: int):
    with own_engine(engine, echo_llm, request_timeout_s=60) as runner:
        raised = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        assert raised > 1024 * 2 + 200  # both ends of 1,100 sockets live in this process
        idle: list[socket.socket] = []
        try:
            for _ in range(1100):
                idle.append(socket.create_connection(("127.0.0.1", runner.port), timeout=10))
            s = _begins(runner)
            s.send_audio(silence(300))
            assert s.terminate() == 1000
            assert _get(runner.port, "/health", {})[0] == 200
        finally:
            for sock in idle:
                sock.close()


def test_the_open_file_limit_is_raised_to_the_hard_limit(low_open_file_limit: int):
    old, new = raise_open_file_limit()
    assert old == 1024 and new > 1024
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == new
    assert raise_open_file_limit() == (new, new)


# --- the log cannot be flooded -----------------------------------------------------------------

class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def limited() -> Iterator[tuple[logging.Logger, list[str], _Clock]]:
    clock = _Clock()
    logger = logging.getLogger("earmark.engine.test-flood")
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logger.filters.clear()  # an engine started earlier may have put its own there
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addFilter(RateLimitFilter(burst=5, window_s=60, clock=clock))
    yield logger, lines, clock
    logger.removeHandler(handler)
    logger.filters.clear()
    logger.propagate = True


def test_repeated_records_are_rate_limited_then_summarised(limited):
    logger, lines, clock = limited
    for i in range(1000):
        logger.error("accept failed: %s", f"EMFILE #{i}")
    logger.error("another problem")
    assert lines[:5] == [f"accept failed: EMFILE #{i}" for i in range(5)]
    assert lines[5:] == ["another problem"]
    clock.now += 61
    logger.error("accept failed: %s", "EMFILE again")
    assert lines[-2] == "suppressed 995 similar messages in 60 s: accept failed: %s"
    assert lines[-1] == "accept failed: EMFILE again"


def test_preformatted_records_with_addresses_count_as_similar(limited):
    logger, lines, clock = limited
    for i in range(50):
        logger.error(f"socket.accept() out of system resource\nsocket: <fd={i}, 0x{i:x}>")
    assert len(lines) == 5
    clock.now += 61
    logger.info("a quiet minute later")  # the next record reports what was held back
    assert lines[-2].startswith("suppressed 45 similar messages")
    assert lines[-1] == "a quiet minute later"


def test_the_rate_limit_is_installed_on_engine_asyncio_and_aiohttp_loggers(engine: EngineRunner):
    for name in ("asyncio", "aiohttp.server", "aiohttp.access", "aiohttp.web",
                 "earmark.engine.server", "earmark.engine.stream"):
        filters = logging.getLogger(name).filters
        assert sum(isinstance(f, RateLimitFilter) for f in filters) == 1, name
    install_rate_limit()  # again: still one each
    assert sum(isinstance(f, RateLimitFilter) for f in logging.getLogger("asyncio").filters) == 1


# --- web pages, rebound names, tokens in URLs ---------------------------------------------------

@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://localhost:3000"])
def test_a_web_page_cannot_open_a_websocket(engine: EngineRunner, origin: str):
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(f"{engine.ws_url}?sample_rate=16000", timeout=5,
                                    header={"Authorization": engine.token}, origin=origin)
    assert refused.value.status_code == 403


def test_allowed_origins_and_programs_without_origin_connect(engine: EngineRunner,
                                                            echo_llm: EchoLLM):
    with own_engine(engine, echo_llm, allowed_origins=("https://app.example",)) as runner:
        for options in ({"origin": "https://app.example"}, {"suppress_origin": True}):
            ws = websocket.create_connection(f"{runner.ws_url}?sample_rate=16000", timeout=5,
                                             header={"Authorization": runner.token},
                                             **options)
            assert json.loads(ws.recv())["type"] == "Begin"
            ws.send(json.dumps({"type": "Terminate"}))
            ws.close()


@pytest.mark.parametrize("path", ["/health", "/v1/models", "/v3/ws?sample_rate=16000"])
def test_a_rebound_host_name_is_refused(engine: EngineRunner, path: str):
    status, _ = _get(engine.port, path, {"Host": f"evil.example:{engine.port}",
                                         "Authorization": engine.token})
    assert status == 403


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "LOCALHOST:{port}",
                                  "127.0.0.1:{port}", "[::1]:{port}"])
def test_loopback_host_names_are_served(engine: EngineRunner, host: str):
    status, body = _get(engine.port, "/health", {"Host": host.format(port=engine.port)})
    assert status == 200 and json.loads(body) == {"status": "ready"}


def test_http_routes_take_the_token_from_the_header_only(engine: EngineRunner):
    port, token = engine.port, engine.token
    assert _get(port, f"/v1/models?token={token}", {})[0] == 401
    assert _get(port, "/v1/models", {})[0] == 401
    status, body = _get(port, "/v1/models", {"Authorization": token})
    assert status == 200 and json.loads(body)["data"]
    assert _get(port, "/v1/models", {"Authorization": f"Bearer {token}"})[0] == 200
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    body = json.dumps({"model": "echo", "messages": [{"role": "user", "content": "hi"}]})
    conn.request("POST", f"/v1/chat/completions?token={token}", body,
                 {"Content-Type": "application/json"})
    assert conn.getresponse().status == 401
    conn.close()


def test_health_reveals_only_the_status(engine: EngineRunner):
    for path in ("/health", "/v3/ws/health", f"/health?token={engine.token}"):
        status, body = _get(engine.port, path, {})
        assert status == 200 and json.loads(body) == {"status": "ready"}


@pytest.mark.parametrize(("host", "local_ip", "allowed"), [
    ("127.0.0.1:8765", "127.0.0.1", True),
    ("localhost.", "127.0.0.1", True),
    ("[::1]:8765", "::1", True),
    ("192.168.1.5:8765", "192.168.1.5", True),  # bound to all interfaces, reached by its IP
    ("192.168.1.5:8765", "::ffff:192.168.1.5", True),
    ("192.168.1.6", "192.168.1.5", False),
    ("evil.example", "127.0.0.1", False),
    ("localhost.evil.example", "127.0.0.1", False),
    ("[::1", "::1", False),
    ("127.0.0.1:port", "127.0.0.1", False),
    (None, "127.0.0.1", True),  # HTTP/1.0 or a raw program: not a browser
])
def test_host_names_that_mean_this_engine(host: str | None, local_ip: str, allowed: bool):
    assert host_allowed(host, local_ip) is allowed


@pytest.mark.parametrize(("origin", "allowed"), [
    (None, True),
    ("http://127.0.0.1:8765", True),  # websocket-client's default: the engine's own origin
    ("https://app.example/", True),
    ("HTTPS://APP.EXAMPLE", True),
    ("http://127.0.0.1:8766", False),
    ("http://127.0.0.1:8765/page", False),
    ("https://app.example.evil", False),
    ("null", False),
    ("file://", False),
])
def test_origins_that_may_connect(origin: str | None, allowed: bool):
    assert origin_allowed(origin, ["https://app.example"], "127.0.0.1:8765") is allowed
