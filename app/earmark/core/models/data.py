"""The vetted downloadable models, as data: every file pinned by URL, size and SHA-256.

Sizes and SHA-256 values are Hugging Face's LFS metadata (the `oid` of each large file) and, for
the small Git-tracked files of the Whisper folders, the SHA-256 of their bytes at the pinned
revision. None were computed on this machine (it has no internet): each was found published in
at least two independent public manifests that pin the same file (`evidence` says so). An
entry whose values could not be found carries `"verified": False` and the reason; the
downloader refuses such an entry.

`memory_bytes` is an estimate of the RAM the model needs while it runs (weights, plus the
llama.cpp KV cache at the engine's 4,096-token context, plus working buffers; for Whisper,
CTranslate2 int8 on the CPU), not a measurement. `speed` is relative, on a 2-core laptop CPU.
Machine classes: the last class whose minimums a machine meets is its class.
"""

from __future__ import annotations

from typing import Any

HF = "https://huggingface.co"

_APACHE = {"licence": "Apache-2.0",
           "licence_url": "https://www.apache.org/licenses/LICENSE-2.0"}
_LLAMA32 = {"licence": "Llama 3.2 Community License",
            "licence_url": "https://huggingface.co/meta-llama/Llama-3.2-1B-Instruct/blob/main/"
                           "LICENSE.txt"}
_MIT_WHISPER = {"licence": "MIT",
                "licence_url": "https://github.com/openai/whisper/blob/main/LICENSE"}

_TWO_SOURCES = ("Size and SHA-256 (LFS oid) agree in two or more independent public manifests "
                "that pin this file at this revision.")
_TWO_SOURCES_MAIN = ("Size and SHA-256 (LFS oid) agree in two or more independent public "
                     "manifests that pin this file; its revision was not published with them, "
                     "so the URL follows `main` and the hash check guards against a re-upload.")
_WHISPER_SOURCES = ("Every file's size and SHA-256 agree in two or more independent public "
                    "manifests that pin this repository at this revision (model.bin: the LFS "
                    "oid; the small files: the SHA-256 of their bytes).")

MACHINE_CLASSES: list[dict[str, Any]] = [
    {"id": "low", "label": "Under 8 GB of memory or fewer than 4 cores",
     "min_memory_bytes": 0, "min_cores": 1},
    {"id": "mid", "label": "8 GB of memory and 4 cores or more",
     "min_memory_bytes": 7_000_000_000, "min_cores": 4},
    {"id": "high", "label": "16 GB of memory and 8 cores or more",
     "min_memory_bytes": 15_000_000_000, "min_cores": 8},
]

ANSWER_MODELS: list[dict[str, Any]] = [
    {
        "id": "qwen2.5-0.5b-instruct-q4_k_m",
        "label": "Qwen2.5 0.5B Instruct (Q4_K_M)",
        "kind": "answer", "format": "gguf",
        "source_page": f"{HF}/Qwen/Qwen2.5-0.5B-Instruct-GGUF",
        "revision": "9217f5db79a29953eb74d5343926648285ec7e67",
        "files": [{
            "name": "qwen2.5-0.5b-instruct-q4_k_m.gguf",
            "url": f"{HF}/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/"
                   "9217f5db79a29953eb74d5343926648285ec7e67/qwen2.5-0.5b-instruct-q4_k_m.gguf",
            "size": 491_400_032,
            "sha256": "74a4da8c9fdbcd15bd1f6d01d621410d31c6fc00986f5eb687824e7b93d7a9db",
        }],
        **_APACHE,
        "memory_bytes": 1_000_000_000, "speed": "fast", "languages": ["multilingual"],
        "recommended": {"low": True, "mid": False, "high": False},
        "verified": True, "evidence": _TWO_SOURCES,
    },
    {
        "id": "qwen2.5-1.5b-instruct-q4_k_m",
        "label": "Qwen2.5 1.5B Instruct (Q4_K_M)",
        "kind": "answer", "format": "gguf",
        "source_page": f"{HF}/Qwen/Qwen2.5-1.5B-Instruct-GGUF",
        "revision": "91cad51170dc346986eccefdc2dd33a9da36ead9",
        "files": [{
            "name": "qwen2.5-1.5b-instruct-q4_k_m.gguf",
            "url": f"{HF}/Qwen/Qwen2.5-1.5B-Instruct-GGUF/resolve/"
                   "91cad51170dc346986eccefdc2dd33a9da36ead9/qwen2.5-1.5b-instruct-q4_k_m.gguf",
            "size": 1_117_320_736,
            "sha256": "6a1a2eb6d15622bf3c96857206351ba97e1af16c30d7a74ee38970e434e9407e",
        }],
        **_APACHE,
        "memory_bytes": 1_800_000_000, "speed": "medium", "languages": ["multilingual"],
        "recommended": {"low": False, "mid": True, "high": True},
        "verified": True, "evidence": _TWO_SOURCES,
    },
    {
        "id": "qwen2.5-3b-instruct-q4_k_m",
        "label": "Qwen2.5 3B Instruct (Q4_K_M)",
        "kind": "answer", "format": "gguf",
        "source_page": f"{HF}/Qwen/Qwen2.5-3B-Instruct-GGUF",
        "revision": "7dabda4d13d513e3e842b20f0d435c732f172cbe",
        "files": [{
            "name": "qwen2.5-3b-instruct-q4_k_m.gguf",
            "url": f"{HF}/Qwen/Qwen2.5-3B-Instruct-GGUF/resolve/"
                   "7dabda4d13d513e3e842b20f0d435c732f172cbe/qwen2.5-3b-instruct-q4_k_m.gguf",
            "size": 2_104_932_768,
            "sha256": "626b4a6678b86442240e33df819e00132d3ba7dddfe1cdc4fbb18e0a9615c62d",
        }],
        "licence": "Qwen Research License (non-commercial)",
        "licence_url": f"{HF}/Qwen/Qwen2.5-3B-Instruct-GGUF/blob/main/LICENSE",
        "memory_bytes": 3_000_000_000, "speed": "slow", "languages": ["multilingual"],
        # Not recommended anywhere: unlike the other Qwen2.5 sizes it is not Apache-2.0.
        "recommended": {"low": False, "mid": False, "high": False},
        "verified": True, "evidence": _TWO_SOURCES,
        "notes": "The Qwen Research License allows non-commercial use only.",
    },
    {
        "id": "llama-3.2-1b-instruct-q4_k_m",
        "label": "Llama 3.2 1B Instruct (Q4_K_M)",
        "kind": "answer", "format": "gguf",
        "source_page": f"{HF}/bartowski/Llama-3.2-1B-Instruct-GGUF",
        "revision": "067b946cf014b7c697f3654f621d577a3e3afd1c",
        "files": [{
            "name": "Llama-3.2-1B-Instruct-Q4_K_M.gguf",
            "url": f"{HF}/bartowski/Llama-3.2-1B-Instruct-GGUF/resolve/"
                   "067b946cf014b7c697f3654f621d577a3e3afd1c/Llama-3.2-1B-Instruct-Q4_K_M.gguf",
            "size": 807_694_464,
            "sha256": "6f85a640a97cf2bf5b8e764087b1e83da0fdb51d7c9fab7d0fece9385611df83",
        }],
        **_LLAMA32,
        "memory_bytes": 1_500_000_000, "speed": "fast", "languages": ["multilingual"],
        "recommended": {"low": True, "mid": True, "high": False},
        "verified": True, "evidence": _TWO_SOURCES,
    },
    {
        "id": "llama-3.2-3b-instruct-q4_k_m",
        "label": "Llama 3.2 3B Instruct (Q4_K_M)",
        "kind": "answer", "format": "gguf",
        "source_page": f"{HF}/bartowski/Llama-3.2-3B-Instruct-GGUF",
        "revision": "main",
        "files": [{
            "name": "Llama-3.2-3B-Instruct-Q4_K_M.gguf",
            "url": f"{HF}/bartowski/Llama-3.2-3B-Instruct-GGUF/resolve/main/"
                   "Llama-3.2-3B-Instruct-Q4_K_M.gguf",
            "size": 2_019_377_696,
            "sha256": "6c1a2b41161032677be168d354123594c0e6e67d2b9227c84f296ad037c728ff",
        }],
        **_LLAMA32,
        "memory_bytes": 3_200_000_000, "speed": "slow", "languages": ["multilingual"],
        "recommended": {"low": False, "mid": False, "high": True},
        "verified": True, "evidence": _TWO_SOURCES_MAIN,
    },
    {
        "id": "smollm2-1.7b-instruct-q4_k_m",
        "label": "SmolLM2 1.7B Instruct (Q4_K_M)",
        "kind": "answer", "format": "gguf",
        "source_page": f"{HF}/bartowski/SmolLM2-1.7B-Instruct-GGUF",
        "revision": "main",
        "files": [{
            "name": "SmolLM2-1.7B-Instruct-Q4_K_M.gguf",
            "url": f"{HF}/bartowski/SmolLM2-1.7B-Instruct-GGUF/resolve/main/"
                   "SmolLM2-1.7B-Instruct-Q4_K_M.gguf",
            "size": 1_055_609_824,
            "sha256": "77665ea4815999596525c636fbeb56ba8b080b46ae85efef4f0d986a139834d7",
        }],
        **_APACHE,
        "memory_bytes": 2_200_000_000, "speed": "medium", "languages": ["en"],
        "recommended": {"low": False, "mid": True, "high": False},
        "verified": True, "evidence": _TWO_SOURCES_MAIN,
    },
]


def _whisper_files(repo: str, revision: str, files: list[tuple[str, int, str]]
                   ) -> list[dict[str, Any]]:
    """The catalogue rows of one CTranslate2 Whisper folder, every file pinned at `revision`."""
    return [{"name": name, "url": f"{HF}/{repo}/resolve/{revision}/{name}", "size": size,
             "sha256": sha256} for name, size, sha256 in files]


_TOKENIZER_MULTI = ("tokenizer.json", 2_203_239,
                    "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab")
_VOCABULARY_MULTI = ("vocabulary.txt", 459_861,
                     "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913")
_TOKENIZER_EN = ("tokenizer.json", 2_128_466,
                 "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df")
_VOCABULARY_EN = ("vocabulary.txt", 422_309,
                  "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf")

SPEECH_MODELS: list[dict[str, Any]] = [
    {
        "id": "faster-whisper-base",
        "label": "Whisper base (multilingual)",
        "kind": "speech", "format": "ctranslate2-whisper",
        "source_page": f"{HF}/Systran/faster-whisper-base",
        "revision": "ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66",
        "files": _whisper_files("Systran/faster-whisper-base",
                                "ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66", [
            ("config.json", 2_309,
             "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
            ("model.bin", 145_217_532,
             "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"),
            _TOKENIZER_MULTI, _VOCABULARY_MULTI]),
        **_MIT_WHISPER,
        "memory_bytes": 500_000_000, "speed": "fast", "languages": ["multilingual"],
        "recommended": {"low": True, "mid": False, "high": False},
        "verified": True, "evidence": _WHISPER_SOURCES,
    },
    {
        "id": "faster-whisper-base.en",
        "label": "Whisper base.en (English)",
        "kind": "speech", "format": "ctranslate2-whisper",
        "source_page": f"{HF}/Systran/faster-whisper-base.en",
        "revision": "3d3d5dee26484f91867d81cb899cfcf72b96be6c",
        "files": _whisper_files("Systran/faster-whisper-base.en",
                                "3d3d5dee26484f91867d81cb899cfcf72b96be6c", [
            ("config.json", 2_227,
             "f3bc3821e9fc76a27bae538e11ae5b677dcdd352b4600429ce7951d398569aeb"),
            ("model.bin", 145_216_508,
             "2a166925539a16005f14ff328359f9b9adb9dc4fb631bb3b227526862e93e2ef"),
            _TOKENIZER_EN, _VOCABULARY_EN]),
        **_MIT_WHISPER,
        "memory_bytes": 500_000_000, "speed": "fast", "languages": ["en"],
        "recommended": {"low": True, "mid": False, "high": False},
        "verified": True, "evidence": _WHISPER_SOURCES,
    },
    {
        "id": "faster-whisper-small",
        "label": "Whisper small (multilingual)",
        "kind": "speech", "format": "ctranslate2-whisper",
        "source_page": f"{HF}/Systran/faster-whisper-small",
        "revision": "536b0662742c02347bc0e980a01041f333bce120",
        "files": _whisper_files("Systran/faster-whisper-small",
                                "536b0662742c02347bc0e980a01041f333bce120", [
            ("config.json", 2_370,
             "b55496ac7940a7ae47d2c01eab40edfd8701feec1229d9cce3b40014383fb828"),
            ("model.bin", 483_546_902,
             "3e305921506d8872816023e4c273e75d2419fb89b24da97b4fe7bce14170d671"),
            _TOKENIZER_MULTI, _VOCABULARY_MULTI]),
        **_MIT_WHISPER,
        "memory_bytes": 1_000_000_000, "speed": "medium", "languages": ["multilingual"],
        "recommended": {"low": False, "mid": True, "high": True},
        "verified": True, "evidence": _WHISPER_SOURCES,
    },
    {
        "id": "faster-whisper-small.en",
        "label": "Whisper small.en (English)",
        "kind": "speech", "format": "ctranslate2-whisper",
        "source_page": f"{HF}/Systran/faster-whisper-small.en",
        "revision": "d1d751a5f8271d482d14ca55d9e2deeebbae577f",
        "files": _whisper_files("Systran/faster-whisper-small.en",
                                "d1d751a5f8271d482d14ca55d9e2deeebbae577f", [
            ("config.json", 2_657,
             "666a9605530ac1f61fa8177f3702b4dacec9966749e42610839fcc32661d5fae"),
            ("model.bin", 483_545_366,
             "62b2a45b05ee59acb4a5341b33ee35e041395d378d418a18acfe4c9e768ee37a"),
            _TOKENIZER_EN, _VOCABULARY_EN]),
        **_MIT_WHISPER,
        "memory_bytes": 1_000_000_000, "speed": "medium", "languages": ["en"],
        "recommended": {"low": False, "mid": True, "high": False},
        "verified": True, "evidence": _WHISPER_SOURCES,
    },
    {
        "id": "faster-distil-whisper-large-v3",
        "label": "Distil-Whisper large-v3 (English)",
        "kind": "speech", "format": "ctranslate2-whisper",
        "source_page": f"{HF}/Systran/faster-distil-whisper-large-v3",
        "revision": "c3058b475261292e64a0412df1d2681c06260fab",
        "files": _whisper_files("Systran/faster-distil-whisper-large-v3",
                                "c3058b475261292e64a0412df1d2681c06260fab", [
            ("config.json", 2_690,
             "90c55f775cc4e0bb17293d0bf12f96557a486f20dea886fabd8e6075a3588b21"),
            ("model.bin", 1_512_927_867,
             "b79368e19b6623813609431a6e5ee309a71506701ebc49fd7820e692dec7c5f5"),
            ("preprocessor_config.json", 340,
             "7ccc62c6f2765af1f3b46c00c9b5894426835a05021c8b9c01eecb6dfb542711"),
            ("tokenizer.json", 2_480_617,
             "6d8cbd7cd0d8d5815e478dac67b85a26bbe77c1f5e0c6d76d1ce2abc0e5f21ca"),
            ("vocabulary.json", 1_068_114,
             "c69260f2ab26d659b7c398f9a2b2b48ed0df16c3b47d7326782fd9cba71690c1")]),
        **_MIT_WHISPER,
        "memory_bytes": 2_500_000_000, "speed": "slow", "languages": ["en"],
        "recommended": {"low": False, "mid": False, "high": True},
        "verified": True, "evidence": _WHISPER_SOURCES,
    },
]

CATALOG: dict[str, Any] = {
    "version": 1,
    "machine_classes": MACHINE_CLASSES,
    "models": ANSWER_MODELS + SPEECH_MODELS,
}
