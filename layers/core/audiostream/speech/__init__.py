"""Text to audio: cutting text into chunks and sentences, expanding a prompt with a language model
(read ahead while the voice speaks), the TTS engines behind one interface, and the captions timed
on the audio they make. Knows nothing of storage or HTTP."""
