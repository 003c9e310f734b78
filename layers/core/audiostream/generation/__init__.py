"""One session's generation, what the generate function runs: claim the session, speak it into the
encoder, publish segments then playlists, record progress, notice a cancel, keep to the audio
budget, and end in one clear state; plus the recovery of sessions whose invocation died."""
