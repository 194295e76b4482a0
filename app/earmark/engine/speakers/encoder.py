"""The GE2E voice encoder (resemblyzer 0.1.4's `pretrained.pt`, Apache-2.0; see NOTICE) as an
ONNX graph run by onnxruntime: 40 mel bands -> 3-layer LSTM (256) -> linear 256 -> ReLU ->
L2-normalised 256-d embedding of each 1.6 s partial. An utterance's embedding is the
normalised mean of its partials' embeddings, as in resemblyzer's `embed_utterance`.

scripts/convert_speaker_model.py made the file from the checkpoint and checked it against
resemblyzer (torch); torch is not needed here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .frontend import partial_mels

MODEL_PATH = Path(__file__).with_name("ge2e_voice_encoder.onnx")
EMBEDDING_SIZE = 256
REFERENCE_RATE = 1.3  # resemblyzer's partials per second


class VoiceEncoder:
    """One onnxruntime session, shared by every session of the engine (`run` is
    thread-safe). One intra-op thread: the engine's pools decide the parallelism."""

    def __init__(self, path: Path = MODEL_PATH, threads: int = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(path), options,
                                             providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name

    def embed_partials(self, mels: np.ndarray) -> np.ndarray:
        """(n, frames, 40) mel partials -> (n, 256) unit-length embeddings."""
        out = self._session.run(None, {self._input: np.ascontiguousarray(mels, np.float32)})[0]
        return np.nan_to_num(out)  # a partial whose ReLU output is all zero

    def embed_utterance(self, wav: np.ndarray, rate: float = REFERENCE_RATE,
                        min_coverage: float = 0.75) -> np.ndarray:
        """The unit-length embedding of 16 kHz float audio (already volume-normalised)."""
        return mean_embedding(self.embed_partials(partial_mels(wav, rate, min_coverage)))


def mean_embedding(embeddings: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """The normalised (weighted) mean of unit embeddings (n, d) -> (d,)."""
    mean = np.average(embeddings, axis=0, weights=weights)
    norm = float(np.linalg.norm(mean))
    return (mean / norm if norm > 0 else mean).astype(np.float32)

