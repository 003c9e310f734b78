"""Every engine's stream at the same loudness, without holding any audio back.

Engines differ by 10 dB and more (hibari speaks at about -27 LUFS, espeak-ng near -20). A look-ahead
normaliser would hold seconds of audio back before the first segment; instead each piece of PCM an
engine hands over, which the pipeline holds whole anyway, is measured and levelled before it goes to
the encoder:

- **Loudness** is measured as EBU R128 / ITU-R BS.1770 defines it: K-weighted mean square over 400 ms
  blocks every 100 ms, gated at -70 LUFS and then 10 LU below the mean. The blocks of every piece so
  far are kept, so the gain follows the session's integrated loudness: set by the first piece, then
  steadier with every piece, and held once 30 s are measured. A gain change is ramped over 10 ms
  at the start of a piece.
- **Peaks** are held below a true peak of -3.5 dBTP (4x oversampled, as BS.1770 measures it: between
  two samples of 22 kHz speech the signal peaks up to 2 dB above both) by a limiter that sees the
  whole piece: the gain each sample needs is spread over its 5 ms block and the blocks beside it,
  in straight lines, so it never jumps. The AAC encoder's own overshoot (up to about 2 dB at 64
  kbit/s) is what the margin below -1 dBTP leaves room for; the tests measure the encoded stream.
  What the limiter takes off the loudness is given back, measured by the energy it took.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from threadpoolctl import threadpool_limits

# The true-peak filter is one small matrix product per piece. numpy's OpenBLAS would split it over
# every core and then keep its threads spinning, taking the cores the engine and ffmpeg run on (the
# neural voice slowed by a third beside it); one thread does the product in a few milliseconds.
threadpool_limits(limits=1, user_api="blas")

# True peak after the limiter; the AAC encoder adds up to about 2 dB at 64 kbit/s.
CEILING_DBTP = -3.5
_BLOCK_SECONDS, _HOP_SECONDS = 0.4, 0.1
_ABSOLUTE_GATE_LUFS, _RELATIVE_GATE_LU = -70.0, -10.0
_RAMP_SECONDS, _LIMITER_SECONDS = 0.010, 0.005
_MAX_GAIN_DB = 30.0  # a near-silent piece is not raised into hiss
_LIMITER_LOSS_TO_REPAY = 10 ** (-0.1 / 10)  # 0.1 dB
_MAX_BOOST = 2.0  # what the limiter's loss may be repaid with, at most (6 dB)
# A voice keeps its loudness: once this much of a session is measured, its gain is held, and the
# pieces after it cost only the limiter.
_MEASURED_SECONDS = 30.0


def _biquad_response(
    b: tuple[float, float, float], a: tuple[float, float, float], frequencies: np.ndarray, rate: int
) -> np.ndarray:
    z = np.exp(-2j * np.pi * frequencies / rate)
    return (b[0] + b[1] * z + b[2] * z * z) / (a[0] + a[1] * z + a[2] * z * z)


@lru_cache(maxsize=32)
def _k_weighting_gains(size: int, rate: int) -> np.ndarray:
    """|H| at the bins of a real transform of ``size`` points (sizes are powers of two: few of them)."""
    gains = np.sqrt(k_weighting(np.fft.rfftfreq(size, 1 / rate), rate)).astype(np.float32)
    gains.flags.writeable = False
    return gains


def k_weighting(frequencies: np.ndarray, rate: int) -> np.ndarray:
    """|H(f)|^2 of BS.1770's K-weighting (a high shelf, then a high pass) at ``rate``, from the
    filters' analogue definitions (as libebur128 derives them for any rate)."""
    k = math.tan(math.pi * 1681.974450955533 / rate)
    q = 0.7071752369554196
    vh = 10 ** (3.999843853973347 / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = _biquad_response(
        ((vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0),
        (1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0),
        frequencies,
        rate,
    )
    k = math.tan(math.pi * 38.13547087602444 / rate)
    q = 0.5003270373238773
    a0 = 1 + k / q + k * k
    high_pass = _biquad_response(
        (1.0, -2.0, 1.0), (1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0), frequencies, rate
    )
    power: np.ndarray = np.abs(shelf * high_pass) ** 2  # numpy types arithmetic on a bare ndarray as Any
    return power


def block_powers(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mean square of the K-weighted signal in each 400 ms block (100 ms apart); a piece shorter than
    one block is one block."""
    if samples.size == 0:
        return np.zeros(0)
    # Filtered in the frequency domain; the padding holds the high pass's decay, so nothing wraps
    # round, and a power of two keeps the transform fast (an odd length can be ten times slower).
    size = 1 << (samples.size + rate // 4 - 1).bit_length()
    spectrum = np.fft.rfft(samples.astype(np.float32, copy=False), size)  # single precision: twice as fast
    weighted = np.fft.irfft(spectrum * _k_weighting_gains(size, rate), size)[: samples.size].astype(np.float64)
    block, hop = int(_BLOCK_SECONDS * rate), int(_HOP_SECONDS * rate)
    if samples.size < block:
        return np.array([np.mean(weighted**2)])
    energy = np.concatenate(([0.0], np.cumsum(weighted**2)))
    starts = np.arange(0, samples.size - block + 1, hop)
    return (energy[starts + block] - energy[starts]) / block


def _lufs(power: float) -> float:
    return -0.691 + 10 * math.log10(power) if power > 0 else -math.inf


def integrated_loudness(powers: np.ndarray) -> float:
    """BS.1770's gated loudness of these blocks, in LUFS (-inf for silence)."""
    above_absolute = powers[powers > 10 ** ((_ABSOLUTE_GATE_LUFS + 0.691) / 10)]
    if above_absolute.size == 0:
        return -math.inf
    relative_gate = 10 ** ((_lufs(float(above_absolute.mean())) + _RELATIVE_GATE_LU + 0.691) / 10)
    gated = above_absolute[above_absolute > relative_gate]
    return _lufs(float(gated.mean()))


# 4x oversampling, the way BS.1770 measures a true peak: a Hann-windowed sinc over 24 samples gives
# the signal at a quarter, a half and three quarters of the way to the next sample (a shorter one
# misses a peak by a decibel where a neural vocoder leaves energy near the Nyquist frequency).
_HALF_TAPS = 12
_TAPS = np.arange(-_HALF_TAPS + 1, _HALF_TAPS + 1)
_DISTANCES = np.array([0.25, 0.5, 0.75])[:, None] - _TAPS[None, :]
_BETWEEN_SAMPLES = (np.sinc(_DISTANCES) * np.cos(np.pi * _DISTANCES / (2 * _HALF_TAPS + 1)) ** 2).T.astype(np.float32)


def true_peaks(samples: np.ndarray, from_level: float) -> np.ndarray:
    """|sample|, raised where the signal between it and a neighbour peaks higher (for the samples
    above ``from_level``: between two samples far below it the signal cannot reach it)."""
    peaks = np.abs(samples)
    near = np.flatnonzero(peaks[:-1] > from_level)
    if near.size:
        windows = sliding_window_view(np.pad(samples, (_HALF_TAPS - 1, _HALF_TAPS)), _TAPS.size)[near]
        between = np.abs(windows @ _BETWEEN_SAMPLES).max(axis=1)
        peaks[near] = np.maximum(peaks[near], between)
        peaks[near + 1] = np.maximum(peaks[near + 1], between)
    return peaks


CEILING = 10 ** (CEILING_DBTP / 20)


def limited(samples: np.ndarray, rate: int, ceiling: float = CEILING, peaks: np.ndarray | None = None) -> np.ndarray:
    """``samples`` with every true peak above ``ceiling`` brought down smoothly, nothing else changed;
    ``peaks``, if given, are the samples' true peaks (a caller that scales a piece scales its peaks)."""
    if samples.size == 0:
        return samples
    if peaks is None:
        peaks = true_peaks(samples, ceiling / 4)
    if peaks.max() <= ceiling:
        return samples
    width = max(1, int(_LIMITER_SECONDS * rate))
    blocks = -(-samples.size // width)
    need = np.ones(blocks * width, dtype=samples.dtype)
    need[: samples.size] = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    lowest = need.reshape(blocks, width).min(axis=1)
    # Each 5 ms block gets the lowest gain it or a neighbour needs, and the gain runs in straight
    # lines between block centres: both ends of every line are at most what each sample under it needs.
    held = np.minimum(lowest, np.minimum(np.r_[1.0, lowest[:-1]], np.r_[lowest[1:], 1.0]))
    # Only the blocks whose line does not stay at 1 need computing (most of a piece does).
    touched = np.flatnonzero(held < 1.0)
    touched = np.unique(np.concatenate((touched - 1, touched, touched + 1)).clip(0, blocks - 1))
    positions = (touched[:, None] * width + np.arange(width)[None, :]).ravel()
    positions = positions[positions < samples.size]
    out = samples.copy()
    centres = np.arange(blocks) * width + (width - 1) / 2
    out[positions] *= np.interp(positions, centres, held).astype(samples.dtype)
    return out


class LoudnessLeveller:
    """Levels the pieces of one session's PCM, in the order they are spoken."""

    def __init__(self, sample_rate: int, target_lufs: float):
        self.sample_rate = sample_rate
        self.target_lufs = target_lufs
        self._powers: list[np.ndarray] = []
        self._measured = 0  # samples measured so far
        self._gain: float | None = None

    def level(self, pcm: bytes) -> bytes:
        """16-bit mono PCM in, the same levelled out."""
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / np.float32(32768.0)
        if samples.size == 0:
            return pcm
        previous = self._gain
        if self._measured < _MEASURED_SECONDS * self.sample_rate:
            self._powers.append(block_powers(samples, self.sample_rate))
            self._measured += samples.size
            loudness = integrated_loudness(np.concatenate(self._powers))
            if math.isfinite(loudness):
                self._gain = 10 ** (min(self.target_lufs - loudness, _MAX_GAIN_DB) / 20)
        gain = self._gain if self._gain is not None else 1.0
        gains = np.full(samples.size, gain, dtype=np.float32)
        if previous is not None and previous != gain:
            ramp = min(samples.size, int(_RAMP_SECONDS * self.sample_rate))
            gains[:ramp] = np.linspace(previous, gain, ramp, endpoint=False)
        wanted = samples * gains
        # True peaks once, from low enough that the boosts below cannot lift a sample they skipped
        # over the ceiling: scaling the piece scales them.
        peaks = true_peaks(wanted, CEILING / (4 * _MAX_BOOST))
        out = limited(wanted, self.sample_rate, peaks=peaks)
        # What the limiter took off the peaks it took off the loudness too: give it back, as measured
        # by the energy the piece lost (the limiter then holds the new peaks). Three rounds bring
        # peaky speech (espeak-ng's) within about 0.5 LU of the target.
        boost = 1.0
        for _ in range(3):
            lost = _energy_ratio(out, wanted)
            if lost >= _LIMITER_LOSS_TO_REPAY:
                break
            boost = min(_MAX_BOOST, boost / math.sqrt(lost))
            out = limited(wanted * np.float32(boost), self.sample_rate, peaks=peaks * np.float32(boost))
        levelled: bytes = (np.clip(out, -1.0, 32767 / 32768) * 32768.0).round().astype("<i2").tobytes()
        return levelled


def _energy_ratio(after: np.ndarray, before: np.ndarray) -> float:
    energy = float(np.dot(before, before))
    return float(np.dot(after, after)) / energy if energy > 0 else 1.0
