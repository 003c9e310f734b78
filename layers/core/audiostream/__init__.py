"""audiostream: a prompt in, speech out as an HLS stream that plays while it is still being made.

The package is the code every Lambda function shares (the core layer). It is layered; a module may
import only from its own subpackage and from the layers below it (``tests/test_structure.py``):

- the base: ``config`` (the validated settings), ``observability`` (logs, traces, metrics),
  ``errors`` (the errors whose messages users may read), ``aws`` (the one place boto3 clients are
  made, lazily, so tests and the dev stack can redirect them) and ``workers`` (the one base of the
  threads a session's run starts, and their owner's list);
- ``media/``: audio to HLS (playlists and every media file name, the encoder, fMP4, loudness);
- ``speech/``: text to audio (chunking, the language model, the engines, captions);
- ``store/``: what is kept (the sessions table, the media bucket, the content cache);
- ``generation/``: one session's run, from claim to its final state (the generate function);
- ``api/``: what the HTTP functions answer (start, status, cancel, the engine catalog).

``docs/architecture.md`` maps every module.
"""
