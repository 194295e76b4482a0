"""The AssemblyAI Universal Streaming v3 protocol, shared by the client and the embedded engine."""

from .closes import CloseCode, describe_close, is_error, worth_retrying
from .continuation import Timeline, TurnNumbers
from .endpoints import Endpoint, Region, cloud_endpoint, local_endpoint
from .messages import (
    Begin,
    ClientMessage,
    ForceEndpoint,
    Heartbeat,
    KeepAlive,
    LLMGatewayResponse,
    ProtocolError,
    ServerError,
    ServerMessage,
    ServerWarning,
    Silence,
    SpeakerRevision,
    SpeechStarted,
    Terminate,
    Termination,
    Turn,
    UnknownMessage,
    UpdateConfiguration,
    Word,
    parse_client_message,
    parse_server_message,
    to_json,
)
from .params import (
    SPEAKER_NAMES,
    TURN_PLACEHOLDER,
    ChatMessage,
    LLMGatewayConfig,
    StreamingParams,
)

__all__ = [
    "SPEAKER_NAMES", "TURN_PLACEHOLDER", "Begin", "ChatMessage", "ClientMessage", "CloseCode",
    "Endpoint",
    "ForceEndpoint", "Heartbeat", "KeepAlive", "LLMGatewayConfig", "LLMGatewayResponse",
    "ProtocolError",
    "Region", "ServerError", "ServerMessage", "ServerWarning", "Silence", "SpeakerRevision",
    "SpeechStarted", "StreamingParams", "Terminate", "Termination", "Timeline", "Turn",
    "TurnNumbers", "UnknownMessage",
    "UpdateConfiguration", "Word", "cloud_endpoint", "describe_close", "is_error",
    "local_endpoint", "parse_client_message", "parse_server_message", "to_json",
    "worth_retrying",
]
