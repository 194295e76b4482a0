"""How many threads the engine's native libraries may use.

Three pools share two cores on the machines Earmark targets: CTranslate2's OpenMP pool (the
Whisper kernels), numpy's OpenBLAS pool and onnxruntime's (the VAD, sized in faster-whisper).
Left alone, the first two take one thread per core each and spin between calls.
"""

from __future__ import annotations

import os


def default_cpu_threads() -> int:
    return min(4, os.cpu_count() or 1)


def limit_openmp_threads(cpu_threads: int) -> None:
    """Size the OpenMP pool that CTranslate2's oneDNN kernels use to `cpu_threads`: it
    otherwise has one thread per core whatever CTranslate2 is told, and `--cpu-threads 1`
    would not mean one. Only takes effect before ctranslate2 is first imported; a value the
    user set wins."""
    os.environ.setdefault("OMP_NUM_THREADS", str(cpu_threads or default_cpu_threads()))


def limit_blas_threads() -> None:
    """Run numpy's BLAS on the calling thread. Its only engine work is the mel filterbank of
    each decode (a small matrix product), yet its pool of one thread per core spun after every
    call: 25 % of the engine's CPU time under `perf` while streaming speech. One thread took
    the engine from 0.46 to 0.37 CPU seconds per audio second (multispeaker file, 2 cores,
    `--cpu-threads 1`; 0.35 at the default of two)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")
