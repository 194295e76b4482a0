"""Sessions on disk: crash-safe recording, recovery, the library, search and exports.

Pure Python (no Qt). The on-disk format is documented in FORMAT.md next to this file.

    store = SessionStore()                    # or SessionStore(root)
    store.recover_interrupted()               # at launch
    recorder = store.create(SessionMeta(title="Weekly sync", engine=..., ...))
    recorder.write_audio(pcm)                 # audio thread, never raises
    recorder.add_turn(TurnRecord(...)); recorder.add_answer(AnswerRecord(...))
    recorder.finish()
    export(store.load(recorder.folder), "md", path)
"""

from .errors import (
    DamagedSessionError,
    ExportFormatError,
    SessionBusyError,
    SessionError,
    SessionNotFoundError,
    StorageError,
)
from .export import ExportFormat, export, export_text, from_json, render
from .library import SessionSummary
from .paths import default_sessions_root, folder_name, safe_title
from .recorder import SessionRecorder
from .records import (
    SCHEMA_VERSION,
    Analysis,
    AnswerRecord,
    SavedSession,
    SessionData,
    SessionMeta,
    SessionStatus,
    TurnRecord,
    WordRecord,
)
from .recovery import RecoveryReport
from .search import SearchHit
from .store import SessionStore

__all__ = [
    "SCHEMA_VERSION",
    "Analysis",
    "AnswerRecord",
    "DamagedSessionError",
    "ExportFormat",
    "ExportFormatError",
    "RecoveryReport",
    "SavedSession",
    "SearchHit",
    "SessionBusyError",
    "SessionData",
    "SessionError",
    "SessionMeta",
    "SessionNotFoundError",
    "SessionRecorder",
    "SessionStatus",
    "SessionStore",
    "SessionSummary",
    "StorageError",
    "TurnRecord",
    "WordRecord",
    "default_sessions_root",
    "export",
    "export_text",
    "folder_name",
    "from_json",
    "render",
    "safe_title",
]
