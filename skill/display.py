"""Echo Show visuals: an APL document for what the coach is saying, only where APL exists."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ask_sdk_model.interfaces.alexa.presentation.apl import RenderDocumentDirective

APL_INTERFACE = "Alexa.Presentation.APL"
TOKEN = "coach"


def supports_apl(envelope: Any) -> bool:
    try:
        interfaces = envelope.context.system.device.supported_interfaces
    except AttributeError:
        return False
    return getattr(interfaces, "alexa_presentation_apl", None) is not None


def directive(envelope: Any, screen: dict[str, Any]) -> RenderDocumentDirective | None:
    """The document for a coach screen, or None on devices without a screen."""
    if not supports_apl(envelope):
        return None
    # Imported here: the APL models are large, and most requests come from screenless speakers.
    from ask_sdk_model.interfaces.alexa.presentation.apl import RenderDocumentDirective

    return RenderDocumentDirective(token=TOKEN, document=document(), datasources={"screen": screen})


def document() -> dict[str, Any]:
    return {
        "type": "APL",
        "version": "2023.3",
        "mainTemplate": {
            "parameters": ["screen"],
            "items": [
                {
                    "type": "Container",
                    "width": "100vw",
                    "height": "100vh",
                    "items": [
                        {"type": "Text", "text": "${screen.title}"},
                        {"type": "Text", "text": "${screen.text}"},
                    ],
                }
            ],
        },
    }
