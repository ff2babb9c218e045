"""The skill when no skill ID is configured: it refuses every request, safely.

Without a skill ID, ask-sdk checks nothing, so the function would answer any skill's requests (and
read and write the table for them). Lambda always has one (template.yaml passes the SkillId
parameter as SKILL_ID); only local development runs without, and says so: SKILL_LOCAL=1 (make
chat, the tests, the bench).

A refused request is logged (its type only, never what was said) and answered with a short apology
that ends the session, so whoever asked is not left in silence. The store is never touched.
"""

from __future__ import annotations

import logging
import os

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import CustomSkillBuilder
from ask_sdk_model import Response

from skill.alexa.handlers import SILENT_REQUESTS
from skill.core import content

log = logging.getLogger(__name__)

#: The switch for local development: set to 1, the skill runs without a skill ID.
LOCAL_DEVELOPMENT = "SKILL_LOCAL"

NOT_CONFIGURED = (
    "SKILL_ID is not set: refusing every request. Set SKILL_ID to the skill's ID (template.yaml "
    f"does), or {LOCAL_DEVELOPMENT}=1 for local development only."
)


def local_development() -> bool:
    return os.environ.get(LOCAL_DEVELOPMENT) == "1"


class RefuseEverything(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return True

    def handle(self, handler_input: HandlerInput) -> Response:
        request = handler_input.request_envelope.request
        kind = getattr(request, "object_type", None)
        log.error("refused a %s: %s", kind, NOT_CONFIGURED)
        if kind in SILENT_REQUESTS:
            return handler_input.response_builder.response
        say = content.prompts(getattr(request, "locale", None)).say
        builder = handler_input.response_builder.speak(f"<speak>{say('error.general')}</speak>")
        return builder.set_should_end_session(True).response


def refusing_skill() -> CustomSkill:
    log.error(NOT_CONFIGURED)
    builder = CustomSkillBuilder()  # no store: a refused request reads and writes nothing
    builder.add_request_handler(RefuseEverything())
    return builder.create()
