"""Convert resemblyzer's GE2E voice encoder to the ONNX file the engine ships, and check it.

Resemblyzer 0.1.4 (PyPI, Apache-2.0) ships `pretrained.pt`: a 3-layer LSTM (hidden 256) over
40 mel bands, a linear 256 -> 256, ReLU and L2 normalisation. This script reads that checkpoint
with torch, writes the same network as an ONNX graph (three ONNX `LSTM` nodes, `Gemm`, `Relu`,
`LpNormalization`) to app/earmark/engine/speakers/ge2e_voice_encoder.onnx, and then checks,
on real speech from shared/speech:

* the engine's numpy front end (speakers/frontend.py) against librosa's mel spectrogram;
* the ONNX partial embeddings against the torch model's, on the same mels;
* the engine's utterance embeddings (numpy front end + ONNX) against resemblyzer's
  `embed_utterance`, on the same preprocessed audio (resemblyzer's `preprocess_wav`): cosine;
* the time per audio second of torch, onnxruntime and a numpy LSTM (one thread each), and the
  sizes of the ONNX file and of the same weights as a numpy .npz.

torch, resemblyzer, librosa and webrtcvad are needed here only, never by Earmark: run it in a
throwaway environment, made by the script itself with --make-venv (torch 2.13.0's wheel lies
on the build machines' disk; pip finds it):

    .venv/bin/python scripts/convert_speaker_model.py --make-venv /tmp/spkconv
    /tmp/spkconv/bin/python scripts/convert_speaker_model.py --check-only   # checks only
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SPEECH = REPO.parent / "shared" / "speech"
OUTPUT = REPO / "app" / "earmark" / "engine" / "speakers" / "ge2e_voice_encoder.onnx"
PACKAGES = ["resemblyzer==0.1.4", "torch==2.13.0", "librosa==0.11.0", "webrtcvad==2.0.10",
            "onnx==1.23.2", "onnxruntime==1.32.0", "soundfile", "setuptools<81"]
HIDDEN, LAYERS, N_MELS = 256, 3, 40
CHECK_FILES = ["misc/jfk.wav", "ami/ES2011a.Headset-0-40s-46s.wav", "vctk/p225_001.wav",
               "vctk/p226_001.wav", "cmu_arctic/cmu_arctic_us_aew_a0001.wav",
               "librispeech/test-clean/1221-135766-0001.wav"]
# torch stores an LSTM's gates as (input, forget, cell, output); ONNX as (input, output,
# forget, cell).
GATE_ORDER = (0, 3, 1, 2)

sys.path.insert(0, str(REPO / "app"))


def make_venv(path: Path, argv: list[str]) -> int:
    """Create the throwaway environment and run this script again inside it."""
    python = path / "bin" / "python"
    if not python.exists():
        subprocess.run(["python3.11", "-m", "venv", str(path)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *PACKAGES], check=True)
    rest = [a for i, a in enumerate(argv) if a != "--make-venv"
            and (i == 0 or argv[i - 1] != "--make-venv")]
    return subprocess.run([str(python), str(Path(__file__).resolve()), *rest]).returncode


# --- the conversion --------------------------------------------------------------------------


def load_state() -> dict[str, np.ndarray]:
    import resemblyzer
    import torch

    path = Path(resemblyzer.__file__).with_name("pretrained.pt")
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    return {k: v.numpy() for k, v in checkpoint["model_state"].items()
            if k.startswith(("lstm.", "linear."))}


def gates_to_onnx(weights: np.ndarray) -> np.ndarray:
    blocks = np.split(weights, 4, axis=0)
    return np.concatenate([blocks[i] for i in GATE_ORDER], axis=0)


def build_onnx(state: dict[str, np.ndarray]) -> Any:
    from onnx import TensorProto, helper, numpy_helper

    inits = []
    nodes = [helper.make_node("Transpose", ["mels"], ["x0"], perm=[1, 0, 2])]
    for layer in range(LAYERS):
        w = gates_to_onnx(state[f"lstm.weight_ih_l{layer}"])[None]
        r = gates_to_onnx(state[f"lstm.weight_hh_l{layer}"])[None]
        b = np.concatenate([gates_to_onnx(state[f"lstm.bias_ih_l{layer}"]),
                            gates_to_onnx(state[f"lstm.bias_hh_l{layer}"])])[None]
        for name, value in (("W", w), ("R", r), ("B", b)):
            inits.append(numpy_helper.from_array(value.astype(np.float32), f"{name}{layer}"))
        last = layer == LAYERS - 1
        outputs = ["", "h_last"] if last else [f"y{layer}"]
        nodes.append(helper.make_node("LSTM", [f"x{layer}", f"W{layer}", f"R{layer}",
                                               f"B{layer}"], outputs, hidden_size=HIDDEN))
        if not last:  # (T, 1, B, H) -> (T, B, H)
            nodes.append(helper.make_node("Squeeze", [f"y{layer}", "axis1"], [f"x{layer + 1}"]))
    inits += [numpy_helper.from_array(np.array([1], np.int64), "axis1"),
              numpy_helper.from_array(np.array([0], np.int64), "axis0"),
              numpy_helper.from_array(state["linear.weight"].astype(np.float32), "linear_w"),
              numpy_helper.from_array(state["linear.bias"].astype(np.float32), "linear_b")]
    nodes += [helper.make_node("Squeeze", ["h_last", "axis0"], ["hidden"]),
              helper.make_node("Gemm", ["hidden", "linear_w", "linear_b"], ["linear"], transB=1),
              helper.make_node("Relu", ["linear"], ["relu"]),
              helper.make_node("LpNormalization", ["relu"], ["embeddings"], axis=1, p=2)]
    graph = helper.make_graph(
        nodes, "ge2e_voice_encoder",
        [helper.make_tensor_value_info("mels", TensorProto.FLOAT, ["batch", "frames", N_MELS])],
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", HIDDEN])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="earmark scripts/convert_speaker_model.py")
    model.ir_version = 8
    model.doc_string = ("GE2E speaker encoder from resemblyzer 0.1.4 pretrained.pt "
                        "(Apache-2.0, Resemble AI / Corentin Jemine); input: mel power "
                        "spectrogram, 40 bands, 10 ms hop")
    return model


def convert(output: Path) -> dict[str, np.ndarray]:
    import onnx

    state = load_state()
    model = build_onnx(state)
    onnx.checker.check_model(model)
    output.write_bytes(model.SerializeToString())
    digest = hashlib.sha256(output.read_bytes()).hexdigest()[:16]
    print(f"wrote {output.relative_to(REPO)}: {output.stat().st_size / 1e6:.2f} MB, "
          f"sha256 {digest}…")
    return state


# --- the checks ------------------------------------------------------------------------------


def check_clips() -> list[tuple[str, np.ndarray]]:
    """Real speech: the turns of the multispeaker file and a few single files."""
    import json

    import soundfile as sf

    clips = []
    for seg in sorted((SPEECH / "multispeaker").glob("*.segments.json")):
        audio, _ = sf.read(seg.with_name(seg.name.replace(".segments.json", ".wav")),
                           dtype="float32")
        for i, s in enumerate(json.loads(seg.read_text())):
            clips.append((f"{seg.name.split('_')[0]}#{i}",
                          audio[int(s["start"] * 16000):int(s["end"] * 16000)]))
    for name in CHECK_FILES:
        if (SPEECH / name).exists():
            clips.append((name, sf.read(SPEECH / name, dtype="float32")[0]))
    return clips


def check(state: dict[str, np.ndarray], output: Path) -> None:
    import librosa
    import torch
    from resemblyzer import VoiceEncoder as Reference
    from resemblyzer import preprocess_wav

    from earmark.engine.speakers.encoder import REFERENCE_RATE, VoiceEncoder
    from earmark.engine.speakers.frontend import mel_spectrogram, partial_mels

    torch.set_num_threads(1)
    reference = Reference(device="cpu", verbose=False)
    ours = VoiceEncoder(output)
    clips = check_clips()
    mel_err, partial_err, cos_err = [], [], []
    for _, wav in clips:
        wav = preprocess_wav(wav)
        ref_mel = librosa.feature.melspectrogram(y=wav, sr=16000, n_fft=400, hop_length=160,
                                                 n_mels=40).T
        mel_err.append(float(np.abs(mel_spectrogram(wav) - ref_mel).max() / ref_mel.max()))
        mels = partial_mels(wav, REFERENCE_RATE)
        with torch.no_grad():
            ref_partials = reference(torch.from_numpy(mels)).numpy()
        partial_err.append(float(np.abs(ours.embed_partials(mels) - ref_partials).max()))
        a, b = reference.embed_utterance(wav), ours.embed_utterance(wav)
        cos_err.append(abs(1.0 - float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))))
    print(f"checked on {len(clips)} clips of real speech "
          f"({sum(len(w) for _, w in clips) / 16000:.0f} s):")
    print(f"  mel spectrogram vs librosa: max |diff| / max = {max(mel_err):.2e}")
    print(f"  partial embeddings, ONNX vs torch (same mels): max |diff| = {max(partial_err):.2e}")
    print(f"  utterance embeddings vs resemblyzer.embed_utterance: |1 - cosine| max "
          f"{max(cos_err):.2e}, mean {np.mean(cos_err):.2e}")
    same_vs_cross(ours, clips)
    timings(state, ours, reference, clips, output)


def same_vs_cross(encoder: Any, clips: list[tuple[str, np.ndarray]]) -> None:
    """Cosine distances between the multispeaker file's turns: same speaker vs the other."""
    from earmark.engine.speakers.frontend import normalise_volume

    turns = [(n, w) for n, w in clips if "#" in n]
    if not turns:
        return
    emb = np.stack([encoder.embed_utterance(normalise_volume(w)) for _, w in turns])
    dist = 1.0 - emb @ emb.T
    speaker = np.array([int(n.split("#")[1]) % 2 for n, _ in turns])  # the file alternates
    same = speaker[:, None] == speaker[None, :]
    off = ~np.eye(len(turns), dtype=bool)
    print(f"  cosine distance between the multispeaker file's turns: same speaker "
          f"{dist[same & off].mean():.3f} (max {dist[same & off].max():.3f}), other speaker "
          f"{dist[~same].mean():.3f} (min {dist[~same].min():.3f})")


def numpy_lstm_embed(state: dict[str, np.ndarray], mels: np.ndarray) -> np.ndarray:
    """The same network in numpy (the alternative to ONNX that was measured)."""
    x = mels.transpose(1, 0, 2)  # (T, B, F)
    for layer in range(LAYERS):
        w_ih, w_hh = state[f"lstm.weight_ih_l{layer}"], state[f"lstm.weight_hh_l{layer}"]
        bias = state[f"lstm.bias_ih_l{layer}"] + state[f"lstm.bias_hh_l{layer}"]
        gates_in = x @ w_ih.T + bias  # every step's input projection at once
        h = np.zeros((x.shape[1], HIDDEN), np.float32)
        c = np.zeros_like(h)
        out = np.empty((x.shape[0], x.shape[1], HIDDEN), np.float32)
        w_hh_t = np.ascontiguousarray(w_hh.T)
        for t in range(x.shape[0]):
            g = gates_in[t] + h @ w_hh_t
            i, f, cell, o = np.split(g, 4, axis=1)
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(cell)
            h = _sigmoid(o) * np.tanh(c)
            out[t] = h
        x = out
    z = np.maximum(0.0, h @ state["linear.weight"].T + state["linear.bias"])
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


def timings(state: dict[str, np.ndarray], ours: Any, reference: Any,
            clips: list[tuple[str, np.ndarray]], output: Path) -> None:
    import tempfile

    import torch
    from threadpoolctl import threadpool_limits

    from earmark.engine.speakers.frontend import partial_mels

    wav = np.concatenate([w for n, w in clips if "#" in n] or [w for _, w in clips])
    seconds = len(wav) / 16000
    for rate in (1.3, 0.625):
        mels = np.concatenate([partial_mels(wav[i:i + 80000], rate)
                               for i in range(0, len(wav), 80000)])  # 5 s turns
        with threadpool_limits(1):
            np_err = np.abs(numpy_lstm_embed(state, mels[:4]) - ours.embed_partials(mels[:4]))
            runs = {"onnxruntime": lambda m=mels: ours.embed_partials(m),
                    "torch": lambda m=mels: _torch_run(reference, torch, m),
                    "numpy": lambda m=mels: numpy_lstm_embed(state, m)}
            took = {name: _best_of(fn) for name, fn in runs.items()}
        print(f"  model time per audio second, {rate} partials/s, 5 s turns, one thread: "
              + ", ".join(f"{k} {v / seconds * 1000:.1f} ms" for k, v in took.items())
              + f" (numpy vs ONNX max |diff| {np_err.max():.1e})")
    with tempfile.TemporaryDirectory() as tmp:
        npz = Path(tmp) / "weights.npz"
        np.savez(npz, **state)
        print(f"  sizes: ONNX {output.stat().st_size / 1e6:.2f} MB, numpy .npz "
              f"{npz.stat().st_size / 1e6:.2f} MB")


def _torch_run(reference: Any, torch: Any, mels: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return reference(torch.from_numpy(mels)).numpy()


def _best_of(fn: Any, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--make-venv", type=Path, help="create this environment and run in it")
    p.add_argument("--check-only", action="store_true", help="check the shipped file")
    p.add_argument("--output", type=Path, default=OUTPUT)
    args = p.parse_args(argv)
    if args.make_venv is not None:
        return make_venv(args.make_venv, argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    state = load_state() if args.check_only else convert(args.output)
    check(state, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
