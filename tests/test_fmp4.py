"""Joining ffmpeg's fMP4 segments: every fragment kept in order, the per-segment index dropped, and
segments this reader cannot move safely refused."""

from __future__ import annotations

import pytest

from audiostream.encoder import HlsEncoder
from audiostream.fmp4 import NotJoinable, boxes, join_segments

from support.audio import probe_hls


@pytest.fixture(scope="module")
def parts(tmp_path_factory) -> tuple[bytes, list[bytes]]:
    encoder = HlsEncoder(tmp_path_factory.mktemp("parts"), 8000, part_seconds=1)
    encoder.start()
    encoder.write(bytes(range(256)) * (8000 * 2 * 3 // 256))  # three seconds of a sawtooth
    encoder.close()
    bodies = [encoder.part_path(part).read_bytes() for part in encoder.finished_parts()]
    return encoder.init_path.read_bytes(), bodies


def test_joined_segments_hold_every_fragment_and_decode_to_the_same_audio(parts):
    init, bodies = parts
    assert [kind for kind, _ in boxes(bodies[0])] == ["styp", "sidx", "moof", "mdat"]
    joined = join_segments(bodies)
    assert [kind for kind, _ in boxes(joined)] == ["styp"] + ["moof", "mdat"] * len(bodies)
    apart, together = probe_hls(init, bodies), probe_hls(init, [joined])
    assert together["decoded_duration"] == pytest.approx(apart["decoded_duration"], abs=0.001)
    assert together["decoded_duration"] == pytest.approx(3.0, abs=0.05)
    assert join_segments(bodies[:1]) == bodies[0]


def test_a_fragment_addressed_from_the_file_start_is_refused(parts):
    _, bodies = parts
    moof_at = bodies[1].index(b"moof") - 4
    tfhd_flags = bodies[1].index(b"tfhd", moof_at) + 5  # after the type: version (1 byte), then 3 flag bytes
    damaged = bytearray(bodies[1])
    damaged[tfhd_flags + 2] |= 0x01  # base-data-offset-present
    with pytest.raises(NotJoinable, match="file's start"):
        join_segments([bodies[0], bytes(damaged)])


def test_a_cut_segment_is_refused(parts):
    _, bodies = parts
    with pytest.raises(NotJoinable):
        join_segments([bodies[0], bodies[1][:-10]])
