"""Drive a running skill web endpoint the way Alexa would, with virtual-alexa and the real model.

    with VirtualAlexa("interaction_model/interactionModels/custom/en-US.json",
                      "http://127.0.0.1:5000/") as alexa:
        reply = alexa.launch()                  # the skill's whole response envelope
        reply = alexa.utter("start my stretches")
        alexa.last_request                      # the request virtual-alexa sent for that turn

One node process per VirtualAlexa keeps the session: session attributes returned by the skill
are sent back on the next request, as Alexa does.

virtual-alexa 0.7.8 behaviour worth knowing:
- Utterances match the sample utterances exactly (case and punctuation ignored); no match raises
  VirtualAlexaError("Unable to match utterance: …"): there is no FallbackIntent.
- Slot values are passed through as said: "hold for five seconds" gives an AMAZON.NUMBER slot
  the value "five" (Alexa would send "5"), and "twenty five" does not match at all. Say digits
  ("hold for 25 seconds") or use intend() with the value Alexa would send.
- An utterance containing ask/tell/open/launch/"talk to" anywhere, even inside a word ("basket",
  "retell"), becomes a LaunchRequest, and "exit" becomes a SessionEndedRequest. `utter` refuses
  such text unless allow_launch=True; use launch(), intend() or end() instead.
- LaunchRequest carries no session attributes. A response without shouldEndSession keeps
  virtual-alexa's session open (a real Echo Show would keep it open with the mic closed); a
  response with shouldEndSession true ends it, and the next request starts a new session.
- No deviceId, apiEndpoint or apiAccessToken is sent unless `device_id` is given; with it,
  apiEndpoint is Amazon's real URL unless `api_endpoint` is given. No signature headers are sent.
- The applicationId is random unless `application_id` is given: pass the skill's ID when the
  skill checks it.
- Of the built-in slot types only AMAZON.NUMBER is known; every other one hears any words, so
  "at {time}" would hear "at night my back hurts". The driver registers the types in
  `slot_types` (by default AMAZON.TIME with tools.resolver.TIME_PATTERN, the times Alexa's type
  hears) as virtual-alexa registers AMAZON.NUMBER: words the pattern does not match do not fill
  the slot. Their values still arrive as said ("ten pm", where Alexa sends "22:00").
- `match(texts)` asks what utter() would resolve, for a whole batch in one round trip, without
  sending anything (and without utter()'s launch-word rule): the intent and slots, or None.
  `VirtualAlexa.matcher(model)` needs no running skill for that.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.support import REPO_ROOT, JsonLineProcess, NodeWorkerError
from tools.resolver import TYPED_BUILT_INS

_DRIVER = REPO_ROOT / "tests" / "support" / "virtual_alexa_driver.js"
_LAUNCH_WORDS = re.compile(r"(ask|open|launch|talk to|tell)", re.IGNORECASE)  # virtual-alexa's


class VirtualAlexaError(Exception):
    """virtual-alexa refused the turn, or the skill endpoint failed; `request` is what was sent."""

    def __init__(self, message: str, request: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.request = request


class VirtualAlexa:
    def __init__(
        self,
        model_path: str | Path,
        skill_url: str,
        locale: str = "en-US",
        device_id: str | None = None,
        api_endpoint: str | None = None,
        user_id: str | None = None,
        *,
        application_id: str | None = None,
        slot_types: dict[str, str] | None = None,
        timeout: float = 15.0,
    ) -> None:
        model = Path(model_path).resolve()
        if not model.is_file():
            raise FileNotFoundError(f"interaction model not found: {model}")
        config = {
            "model": str(model),
            "url": skill_url,
            "locale": locale,
            "deviceId": device_id,
            "apiEndpoint": api_endpoint,
            "userId": user_id,
            "applicationId": application_id,
            "slotTypes": TYPED_BUILT_INS if slot_types is None else slot_types,
        }
        self.timeout = timeout
        self.last_request: dict[str, Any] | None = None
        self._node = JsonLineProcess(_DRIVER, [json.dumps(config)], package="virtual-alexa")

    def _call(self, op: str, **fields: Any) -> dict[str, Any]:
        try:
            reply = self._node.request({"op": op, **fields}, timeout=self.timeout)
        except NodeWorkerError as err:
            self.last_request = err.reply.get("request")
            raise VirtualAlexaError(str(err), self.last_request) from None
        if op != "session":
            self.last_request = reply.get("request")
        return reply["response"]

    @classmethod
    def matcher(cls, model_path: str | Path, locale: str = "en-US") -> VirtualAlexa:
        """A virtual-alexa for `match` only: its skill URL is a closed loopback port."""
        return cls(model_path, "http://127.0.0.1:9/", locale)

    def match(self, texts: list[str]) -> list[dict[str, Any] | None]:
        """{"intent", "slots"} for each text as utter() would resolve it, or None for no match."""
        if not texts:
            return []
        reply = self._node.request({"op": "match", "texts": list(texts)},
                                   timeout=self.timeout + len(texts) / 50)
        return list(reply["response"])

    def launch(self) -> dict[str, Any]:
        """Send a LaunchRequest ("Alexa, open …"); returns the skill's response envelope."""
        return self._call("launch")

    def utter(self, text: str, *, allow_launch: bool = False) -> dict[str, Any]:
        """Say `text`: virtual-alexa resolves it to an intent and slots with the model."""
        if text.strip().lower() == "exit":
            message = "virtual-alexa turns 'exit' into a SessionEndedRequest: use end()"
            raise VirtualAlexaError(message)
        launch_word = _LAUNCH_WORDS.search(text)
        if launch_word and not allow_launch:
            raise VirtualAlexaError(
                f"virtual-alexa would send {text!r} as a LaunchRequest because it contains"
                f" {launch_word.group(0)!r} (even inside a word): use launch() or intend(), or"
                " pass allow_launch=True"
            )
        return self._call("utter", text=text)

    def intend(self, name: str, slots: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send an IntentRequest for `name` with these slot values, bypassing utterance matching."""
        values = {k: str(v) for k, v in (slots or {}).items()}
        return self._call("intend", name=name, slots=values or None)

    def end(
        self, reason: str = "USER_INITIATED", error: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Send a SessionEndedRequest (reason USER_INITIATED, ERROR or EXCEEDED_MAX_REPROMPTS)."""
        return self._call("end", reason=reason, error=error)

    def session(self) -> dict[str, Any]:
        """virtual-alexa's view of the session: {"active", "id", "attributes"}."""
        return self._call("session")

    def close(self) -> None:
        self._node.close()

    def __enter__(self) -> VirtualAlexa:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
