"""How long SSML takes to say, measured with a real synthesiser (espeak-ng in SSML mode, -m).

espeak-ng's voice is not Alexa's: use these seconds to calibrate estimates and to check that
silences land where they should, not as Alexa's exact timing.

Quirks of espeak-ng 1.51 with -m, found by measuring, and what `prepare` does about each:
- It needs no <speak> root; unknown tags (amazon:effect, amazon:emotion, amazon:domain, w, voice,
  lang, audio, foo:bar) are ignored and their text spoken, with no error. We still drop the tags
  that could switch voice or language (voice, lang) and everything espeak does not time, keeping
  speak, p, s, prosody, emphasis, say-as, sub, phoneme. <audio> is not timed at all.
- <break time="1.5s"/> (a fraction of a second unit) and time="5" (no unit) are silently ignored:
  times are rewritten in whole milliseconds.
- Adjacent breaks are not added up: "<break time='3s'/><break time='4s'/>" lasts 4 s, and two
  chained 10 s breaks last 10 s. Runs of breaks are merged into one break of their sum (espeak has
  no 10 s cap).
- A break before the first word is dropped (0 s of leading silence): its time is added to the
  measurement instead.
- A break inside <prosody rate="..."> other than 100% is stretched (5 s at rate 50% lasts about
  14 s), whereas Alexa's breaks are absolute; sentence ends (<s>, ".") inside slow prosody are
  stretched too. So <prosody> is moved inward to wrap each run of words only. The -s
  words-per-minute option (`rate=`) does not stretch breaks.
- <emphasis> and <s>/<p> add a little time of their own, as Alexa's do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import wave
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

from tests.support.ssml import break_ms

INSTALL_HINT = (
    "espeak-ng is not installed: run `make setup` (scripts/apt-packages.sh), or"
    " `sudo apt-get install -y espeak-ng sox`"
)
_KEPT_TAGS = frozenset({"speak", "p", "s", "prosody", "emphasis", "say-as", "sub", "phoneme"})


def available() -> bool:
    """Whether espeak-ng is on PATH."""
    return shutil.which("espeak-ng") is not None


def ensure_available() -> None:
    """In a test: fail when espeak-ng is missing under CI=true, skip elsewhere."""
    import pytest

    if available():
        return
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(INSTALL_HINT)
    pytest.skip(INSTALL_HINT)


def prepare(ssml: str) -> tuple[str, float]:
    """(SSML that espeak-ng times faithfully, seconds of leading silence to add to its time).

    Raises ValueError if the SSML is not well-formed XML.
    """
    out: list[str] = []
    prosody: list[dict[str, str]] = []  # attributes of the <prosody> elements now open
    words: list[str] = []  # text not yet written out
    state = {"pending_ms": 0.0, "leading_ms": 0.0, "spoken": False}

    def open_tag(name: str, attrs: dict[str, str]) -> str:
        return f"<{name}" + "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items()) + ">"

    def flush_break() -> None:
        ms, state["pending_ms"] = state["pending_ms"], 0.0
        if not ms:
            return
        if state["spoken"]:
            out.append(f'<break time="{round(ms)}ms"/>')
        else:
            state["leading_ms"] += ms

    def flush_words() -> None:
        data = "".join(words)
        words.clear()
        if not data.strip():
            out.append(escape(data))
            return
        flush_break()
        state["spoken"] = True
        # Prosody wraps each run of words, never a break (espeak would stretch the break) and
        # never an <s> or <p> (closing and reopening those adds sentence pauses).
        attrs = {k: v for level in prosody for k, v in level.items()}
        text = escape(data)
        out.append(f"{open_tag('prosody', attrs)}{text}</prosody>" if attrs else text)

    def start(name: str, attrs: dict[str, str]) -> None:
        flush_words()
        if name == "break":
            if "time" in attrs:
                state["pending_ms"] += break_ms(attrs["time"]) or 0.0
            elif "strength" in attrs:
                flush_break()
                out.append(f"<break strength={quoteattr(attrs['strength'])}/>")
        elif name == "prosody":
            prosody.append(attrs)
        elif name in _KEPT_TAGS:
            out.append(open_tag(name, attrs))

    def end(name: str) -> None:
        flush_words()
        if name == "prosody":
            prosody.pop()
        elif name in _KEPT_TAGS and name != "break":
            if name == "speak":
                flush_break()  # a trailing break is heard, as silence before the mic opens
            out.append(f"</{name}>")

    source = ssml.strip()
    if not source.startswith("<speak"):
        source = f"<speak>{source}</speak>"
    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = words.append
    try:
        parser.Parse(source.encode("utf-8"), True)
    except expat.ExpatError as err:
        raise ValueError(f"SSML is not well-formed XML ({err}): {ssml[:80]!r}") from err
    flush_break()
    return "".join(out), state["leading_ms"] / 1000


def wav_seconds(path: str) -> float:
    """Duration of a WAV file, from its header (faster than `soxi -D`, same answer)."""
    with wave.open(path, "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def spoken_seconds(ssml: str, voice: str = "en-us", rate: int | None = None) -> float:
    """Seconds espeak-ng takes to say `ssml`, breaks included. `rate` is words per minute (-s)."""
    if not available():
        raise FileNotFoundError(INSTALL_HINT)
    prepared, leading = prepare(ssml)
    with tempfile.TemporaryDirectory(prefix="espeak-") as tmp:
        wav_path = os.path.join(tmp, "speech.wav")
        args = ["espeak-ng", "-m", "-v", voice, "-w", wav_path]
        if rate is not None:
            args += ["-s", str(rate)]
        result = subprocess.run(
            args, input=prepared, capture_output=True, text=True, timeout=60, check=False
        )
        if result.returncode != 0 or not os.path.exists(wav_path):
            raise RuntimeError(f"espeak-ng failed ({result.returncode}): {result.stderr.strip()}")
        return leading + wav_seconds(wav_path)
