"""libespeak-ng through ctypes: the speech the espeak-ng program makes, with where espeak places each word.

Every synthesis loads a fresh copy of the library and unloads it afterwards. The library keeps state
from one synthesis to the next (the phase of its pitch flutter and waveform, the C library's random
numbers for breathy and Klatt voices), so a copy used twice speaks the same text with other bytes; the
program starts afresh each time, and so does a fresh copy: the bytes are the program's. Loading costs a
fraction of starting the program. (Each unload loses a few kilobytes that libespeak-ng never frees:
its voice list's index and an unused audio device object.)

The library is one set of globals, so one synthesis at a time in a process (``_LOCK``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
import time
from dataclasses import dataclass
from functools import cache

_LOCK = threading.Lock()

_SYNCHRONOUS = 0x0001  # ENOUTPUT_MODE_SYNCHRONOUS: the callback gets the audio, no sound device
_POS_CHARACTER = 1
# espeakCHARS_UTF8 | espeakENDPAUSE, as `espeak-ng -b 1` asks, without espeakPHONEMES (which reads
# "[[...]]" as phoneme codes) and espeakSSML: the text is always read as text, never as markup.
_FLAGS = 0x0001 | 0x1000
_EVENT_WORD = 1
_EVENT_SAMPLERATE = 8
_ENS_SPEECH_STOPPED = 0x10000EFF


class _Event(ctypes.Structure):  # espeak_EVENT, 40 bytes on x86-64
    class _Id(ctypes.Union):
        _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # in characters (code points), the first is 1
        ("length", ctypes.c_int),  # of the word, in characters
        ("audio_position", ctypes.c_int),  # milliseconds: ``sample`` rounded down
        ("sample", ctypes.c_int),  # samples since the start of this espeak_ng_Synthesize call
        ("user_data", ctypes.c_void_p),
        ("id", _Id),
    ]


class _VoiceSelector(ctypes.Structure):  # espeak_VOICE
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))

_libc = ctypes.CDLL(None)
_libc.dlclose.argtypes = [ctypes.c_void_p]


class LibraryError(Exception):
    """The library cannot be used here (the message is for the log)."""


class VoiceNotFound(Exception):
    pass


class TimedOut(Exception):
    pass


@dataclass(frozen=True)
class Word:
    """A word event: where espeak says a word of the text begins, in characters and in samples."""

    position: int  # characters into the text, from 0
    length: int  # characters
    sample: int  # samples into the PCM


@dataclass(frozen=True)
class Synthesis:
    pcm: bytes
    sample_rate: int
    words: tuple[Word, ...]  # in the order espeak reported them


@cache
def find_library(name: str) -> str | None:
    return ctypes.util.find_library(name)


def synthesize(library: str, text: str, voice: str, timeout: float) -> Synthesis:
    """Speak ``text`` as `espeak-ng -v <voice> -b 1` does with it on stdin: a line at a time, each line
    one call of the library, so that a line break is the pause it is in the program."""
    pcm: list[bytes] = []
    words: list[Word] = []
    rate = 0
    failure: list[BaseException] = []
    line_start, line_sample = 0, 0  # where the line being spoken starts, in characters and samples

    def heard(wav: ctypes._Pointer[ctypes.c_short], count: int, events: ctypes._Pointer[_Event]) -> int:
        nonlocal rate
        try:
            index = 0
            while events[index].type:
                event = events[index]
                if event.type == _EVENT_WORD:
                    words.append(Word(line_start + event.text_position - 1, event.length, line_sample + event.sample))
                elif event.type == _EVENT_SAMPLERATE:
                    rate = event.id.number
                index += 1
            if wav and count > 0:  # type: ignore[truthy-bool]  # a NULL pointer is false; typeshed omits __bool__
                pcm.append(ctypes.string_at(wav, count * 2))
            return 1 if time.monotonic() > deadline else 0
        except BaseException as error:  # noqa: B036 - raised again once the library has stopped
            failure.append(error)
            return 1

    callback = _Callback(heard)
    with _LOCK:
        deadline = time.monotonic() + timeout
        lib = _load(library)
        try:
            _start(lib, voice, callback)
            for line in _lines(text):
                line_sample = sum(len(piece) for piece in pcm) // 2
                encoded = line.encode()
                status = lib.espeak_ng_Synthesize(encoded, len(encoded) + 1, 0, _POS_CHARACTER, 0, _FLAGS, None, None)
                if failure:
                    raise failure[0]
                if time.monotonic() > deadline:
                    raise TimedOut
                if status not in (0, _ENS_SPEECH_STOPPED):
                    raise LibraryError(f"espeak_ng_Synthesize: {_message(lib, status)}")
                line_start += len(line)
        finally:
            lib.espeak_ng_Terminate()
            _libc.dlclose(lib._handle)
    return Synthesis(b"".join(pcm), rate, tuple(words))


def _lines(text: str) -> list[str]:
    # The program reads stdin with fgets: each line with its "\n", the last one without if it has none.
    # (fgets also cuts a line of more than 999 bytes; the library speaks it whole.)
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])


def _load(library: str) -> ctypes.CDLL:
    try:
        shared = ctypes.CDLL(library, mode=os.RTLD_NOLOAD | os.RTLD_LAZY)
    except OSError:
        pass
    else:
        # Loaded by other code of this process: it would not unload, so it could not start afresh.
        _libc.dlclose(shared._handle)
        raise LibraryError(f"{library} is already loaded by other code in this process")
    try:
        lib = ctypes.CDLL(library)
    except OSError as error:
        raise LibraryError(str(error)) from error
    try:
        lib.espeak_ng_InitializePath.argtypes = [ctypes.c_char_p]
        lib.espeak_ng_Initialize.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
        lib.espeak_ng_ClearErrorContext.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
        lib.espeak_ng_InitializeOutput.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p]
        lib.espeak_SetSynthCallback.argtypes = [_Callback]
        lib.espeak_ng_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_ng_SetVoiceByProperties.argtypes = [ctypes.POINTER(_VoiceSelector)]
        lib.espeak_ng_Synthesize.argtypes = [
            *(ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint),
            *(ctypes.c_void_p, ctypes.c_void_p),
        ]
        lib.espeak_ng_GetStatusCodeMessage.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]
    except AttributeError as error:  # not libespeak-ng, or older than 1.49
        _libc.dlclose(lib._handle)
        raise LibraryError(str(error)) from error
    return lib


def _start(lib: ctypes.CDLL, voice: str, callback: ctypes._CFunctionType) -> None:  # a _Callback
    """What the program does before it reads the text: the data, the output, the voice."""
    lib.espeak_ng_InitializePath(None)
    context = ctypes.c_void_p()
    status = lib.espeak_ng_Initialize(ctypes.byref(context))
    if status:
        lib.espeak_ng_ClearErrorContext(ctypes.byref(context))
        raise LibraryError(f"espeak_ng_Initialize: {_message(lib, status)}")
    if status := lib.espeak_ng_InitializeOutput(_SYNCHRONOUS, 0, None):
        raise LibraryError(f"espeak_ng_InitializeOutput: {_message(lib, status)}")
    lib.espeak_SetSynthCallback(callback)
    # The program's process starts with the C library's random numbers unseeded, which is seed 1.
    _libc.srand(1)
    name = voice.encode()
    if lib.espeak_ng_SetVoiceByName(name):
        selector = _VoiceSelector(languages=name)
        if lib.espeak_ng_SetVoiceByProperties(ctypes.byref(selector)):
            raise VoiceNotFound(voice)


def _message(lib: ctypes.CDLL, status: int) -> str:
    buffer = ctypes.create_string_buffer(512)
    lib.espeak_ng_GetStatusCodeMessage(status, buffer, len(buffer))
    return buffer.value.decode(errors="replace")
