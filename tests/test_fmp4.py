"""Joining ffmpeg's fMP4 segments: every fragment kept in order, the per-segment index dropped, and
segments this reader cannot move safely refused."""

from __future__ import annotations

import pytest

from audiostream.media.encoder import HlsEncoder
from audiostream.media.fmp4 import NotJoinable, boxes, join_segments

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


def fragments(segment: bytes) -> list[tuple[int, int, int]]:
    """(mfhd sequence number, tfdt decode time, duration in timescale units) of each fragment."""
    found = []
    for kind, moof in boxes(segment):
        if kind != "moof":
            continue
        children = dict(boxes(moof[8:]))
        sequence = int.from_bytes(children["mfhd"][12:16], "big")
        traf = dict(boxes(children["traf"][8:]))
        tfdt = traf["tfdt"]
        decode_time = int.from_bytes(tfdt[12:20] if tfdt[8] == 1 else tfdt[12:16], "big")
        tfhd, trun = traf["tfhd"], traf["trun"]
        tfhd_flags, trun_flags = int.from_bytes(tfhd[9:12], "big"), int.from_bytes(trun[9:12], "big")
        count = int.from_bytes(trun[12:16], "big")
        if trun_flags & 0x100:  # each sample's duration in the run
            at = 16 + (4 if trun_flags & 0x01 else 0) + (4 if trun_flags & 0x04 else 0)
            per_sample = 4 * bin(trun_flags & 0xF00).count("1")
            duration = sum(
                int.from_bytes(trun[at + i * per_sample : at + i * per_sample + 4], "big") for i in range(count)
            )
        else:  # the track fragment's default
            assert tfhd_flags & 0x08, "a default sample duration"
            default_at = 16 + (8 if tfhd_flags & 0x01 else 0) + (4 if tfhd_flags & 0x02 else 0)
            duration = count * int.from_bytes(tfhd[default_at : default_at + 4], "big")
        found.append((sequence, decode_time, duration))
    return found


def test_a_joined_segment_keeps_the_stream_timeline_and_promises_no_index(parts):
    _, bodies = parts
    joined = join_segments(bodies)
    found = fragments(joined)
    assert len(found) == len(bodies) and found == [fragment for body in bodies for fragment in fragments(body)]
    for (sequence, start, duration), (next_sequence, next_start, _) in zip(found, found[1:], strict=False):
        assert next_sequence == sequence + 1 and next_start == start + duration  # no gap, no overlap
    assert b"msix" in dict(boxes(bodies[0]))["styp"] and b"msix" not in dict(boxes(joined))["styp"]


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
