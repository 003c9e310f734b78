import m3u8

from audiostream.media.hls import Segment, parse_segments, render_playlist


def parse(text: str) -> m3u8.M3U8:
    return m3u8.loads(text)


def test_the_empty_playlist_is_a_valid_open_event_playlist():
    playlist = parse(render_playlist([], target=2, ended=False))
    assert playlist.playlist_type == "event"
    assert playlist.segments == []
    assert not playlist.is_endlist
    assert playlist.target_duration == 2
    assert playlist.start.time_offset == 0 and playlist.start.precise == "YES"


def test_a_growing_playlist_names_its_segments_with_the_init_map_and_stays_open():
    segments = [Segment("audio_000.m4s", 2.020136), Segment("audio_001.m4s", 1.996916)]
    playlist = parse(render_playlist(segments, target=2, ended=False))
    assert [segment.uri for segment in playlist.segments] == ["audio_000.m4s", "audio_001.m4s"]
    assert [segment.duration for segment in playlist.segments] == [2.020136, 1.996916]
    assert playlist.segment_map[0].uri == "init.mp4"
    assert playlist.version == 7
    assert playlist.media_sequence == 0
    assert not playlist.is_endlist


def test_an_ended_playlist_carries_endlist():
    text = render_playlist([Segment("audio_000.m4s", 1.5)], target=2, ended=True)
    assert parse(text).is_endlist
    assert text.rstrip().endswith("#EXT-X-ENDLIST")


def test_segments_are_read_back_from_a_playlist_in_order():
    segments = [Segment(f"audio_{i:03d}.m4s", 2.0 - i / 10) for i in range(3)]
    assert parse_segments(render_playlist(segments, 2, ended=True)) == segments
