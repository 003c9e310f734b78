"""Audio to HLS: the playlists and every media file's name, one ffmpeg encoder per session (and the
next session's, started ahead), the PCM feed into it, loudness levelling, fMP4 joining and the file
to keep. Knows nothing of S3, DynamoDB or HTTP."""
