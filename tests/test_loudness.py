"""The leveller's loudness arithmetic against an independent meter (ffmpeg's ebur128 filter), its
limiter's two promises, and every engine's published stream at the target loudness and under the peak."""

import math
import subprocess

import numpy as np
import pytest

from audiostream.generation.invocation import generate
from audiostream.media.loudness import CEILING_DBTP, LoudnessLeveller, block_powers, integrated_loudness, limited

from support.loudness_meter import loudness_of_file, loudness_of_pcm
from support.paths import read_text
from support.published_stream import download_stream
from support.sessions import started

PARAGRAPH = read_text("the_baker.txt")
TARGET_LUFS = -16.0  # settings.speech.loudness_lufs by default
CEILING = 10 ** (CEILING_DBTP / 20)


def espeak_pcm(text: str, rate: int) -> bytes:
    """espeak-ng's speech of ``text`` as 16-bit mono PCM, resampled by ffmpeg if ``rate`` is not its own."""
    wav = subprocess.run(["espeak-ng", "-v", "en", "--stdout"], input=text.encode(), capture_output=True, check=True)
    return subprocess.run(
        ["ffmpeg", "-v", "error", "-i", "pipe:0", "-ac", "1", "-ar", str(rate), "-f", "s16le", "pipe:1"],
        input=wav.stdout,
        capture_output=True,
        check=True,
    ).stdout


def floats(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0


def pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1.0, 32767 / 32768) * 32768.0).round().astype("<i2").tobytes()


def ours(samples: np.ndarray, rate: int) -> float:
    return integrated_loudness(block_powers(samples, rate))


def sine(rate: int, dbfs: float, seconds: float = 5.0, frequency: float = 1000.0) -> np.ndarray:
    return 10 ** (dbfs / 20) * np.sin(2 * np.pi * frequency * np.arange(int(seconds * rate)) / rate)


@pytest.mark.parametrize("rate", [22050, 24000])
def test_our_loudness_of_speech_agrees_with_ffmpeg(rate):
    pcm = espeak_pcm(PARAGRAPH, rate)
    mine, meter = ours(floats(pcm), rate), loudness_of_pcm(pcm, rate).integrated_lufs
    print(f"\nespeak-ng at {rate} Hz: ours {mine:.2f} LUFS, ffmpeg {meter:.1f} LUFS")
    assert mine == pytest.approx(meter, abs=0.3)


@pytest.mark.parametrize("rate", [22050, 24000, 44100])
def test_a_1_khz_sine_reads_as_bs_1770_says(rate):
    # BS.1770: a 0 dBFS 1 kHz sine reads -3.01 LUFS (K-weighting is +0.69 dB at 1 kHz, offset -0.691).
    assert ours(sine(rate, 0.0), rate) == pytest.approx(-3.01, abs=0.05)
    quiet = sine(rate, -20.0)
    mine, meter = ours(quiet, rate), loudness_of_pcm(pcm16(quiet), rate).integrated_lufs
    print(f"\n1 kHz at -20 dBFS, {rate} Hz: ours {mine:.2f} LUFS, ffmpeg {meter:.1f} LUFS")
    assert mine == pytest.approx(-23.01, abs=0.05)
    assert mine == pytest.approx(meter, abs=0.3)


def test_silence_and_near_silence_have_no_loudness():
    assert integrated_loudness(block_powers(np.zeros(24000), 24000)) == -math.inf
    assert integrated_loudness(block_powers(sine(24000, -80.0), 24000)) == -math.inf  # under the -70 LUFS gate
    assert block_powers(np.zeros(0), 24000).size == 0


def limiter_inputs(rate: int) -> dict[str, np.ndarray]:
    """Signals that reach far over the ceiling in every way a piece can."""
    random = np.random.default_rng(1770)
    speech = floats(espeak_pcm(PARAGRAPH, rate))
    spikes = sine(rate, -12.0, seconds=2.0)
    spikes[random.integers(0, spikes.size, 40)] = random.choice([-1.0, 1.0], 40) * random.uniform(0.8, 4.0, 40)
    width = int(0.010 * rate)
    at_block_edges = np.zeros(20 * width)
    at_block_edges[width - 1 :: width] = 2.0  # the last sample of each 10 ms block
    at_block_edges[width::width] = -3.0  # and the first of the next
    return {
        "speech 12 dB too loud": speech * 4.0,
        "speech at 3 dB too loud": speech * CEILING / np.abs(speech).max() * 10 ** (3 / 20),
        "noise of rising level": random.normal(0, 1, rate) * np.linspace(0.01, 2.0, rate),
        "a sine with spikes": spikes,
        "peaks at the block edges": at_block_edges,
        "a square wave at full scale": np.sign(sine(rate, 0.0, seconds=0.5, frequency=110.0)),
        "one sample": np.array([-1.5]),
        "shorter than a block": np.array([0.1, 0.9, -0.95, 0.2]),
    }


@pytest.mark.parametrize("dtype", [np.float64, np.float32])  # the leveller works in single precision
@pytest.mark.parametrize("rate", [22050, 24000])
def test_the_limiter_holds_the_ceiling_and_never_raises_a_sample(rate, dtype):
    rounding = 1 + 4 * np.finfo(dtype).eps
    for name, signal in limiter_inputs(rate).items():
        samples = signal.astype(dtype)
        out = limited(samples, rate)
        assert out.shape == samples.shape and out.dtype == dtype, name
        assert np.abs(out).max() <= CEILING * rounding, name
        assert np.all(np.abs(out) <= np.abs(samples) * rounding), name
        assert np.all(np.sign(out) == np.sign(samples)), name  # a gain, never an inversion


def test_the_limiter_leaves_audio_under_the_ceiling_alone():
    samples = sine(24000, CEILING_DBTP - 0.01, seconds=1.0)
    assert limited(samples, 24000) is samples


@pytest.mark.parametrize("rate", [22050, 24000])
def test_the_leveller_raises_a_quiet_piece_to_the_target(rate):
    quiet = pcm16(floats(espeak_pcm(PARAGRAPH, rate)) * 10 ** (-20 / 20))  # 20 dB down: near -40 LUFS
    before = loudness_of_pcm(quiet, rate)
    levelled = LoudnessLeveller(rate, TARGET_LUFS).level(quiet)
    after = loudness_of_pcm(levelled, rate)
    peak = np.abs(floats(levelled)).max()
    print(
        f"\nleveller at {rate} Hz: {before.integrated_lufs:.1f} LUFS in, {after.integrated_lufs:.1f} LUFS out,"
        f" sample peak {20 * math.log10(peak):.2f} dBFS, true peak {after.true_peak_dbtp:.1f} dBTP"
    )
    assert after.integrated_lufs == pytest.approx(TARGET_LUFS, abs=0.5)
    assert peak <= CEILING + 0.5 / 32768  # the limiter's ceiling, to the rounding of the last bit
    assert after.true_peak_dbtp <= CEILING_DBTP + 0.2  # between the samples too, as ffmpeg measures it


ENGINES = ["espeak", "hibari", "gtts"]  # gtts against the loopback server speaking its protocol
TEXTS = ["the_baker.txt", "the_grandmother.txt"]


@pytest.mark.parametrize("name", TEXTS)
@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_stream_is_at_the_target_loudness_under_the_true_peak_limit(
    engine, name, settings, sessions, media, tmp_path, request
):
    if engine == "gtts":
        request.getfixturevalue("google")
    event = started(settings, sessions, media, read_text(name), engine=engine)
    assert generate(event)["outcome"] == "SUCCESS"
    playlist, path = download_stream(settings, event["session_id"], tmp_path)
    assert playlist.is_endlist
    stream = loudness_of_file(path)  # ffmpeg's HLS demuxer plays the playlist, as a player would
    print(f"\n{engine}, {name}: {stream.integrated_lufs:.1f} LUFS, true peak {stream.true_peak_dbtp:.1f} dBTP")
    assert stream.integrated_lufs == pytest.approx(TARGET_LUFS, abs=1.5)
    assert stream.true_peak_dbtp < -1.0


def test_numpy_multiplies_on_one_thread_beside_the_engine():
    # OpenBLAS spreads every product over all cores and leaves its threads spinning: the leveller
    # would take the cores the engine and ffmpeg need.
    from threadpoolctl import threadpool_info

    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas and all(pool["num_threads"] == 1 for pool in blas)
