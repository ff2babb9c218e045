"""AWS Lambda entry point: `lambda_function.handler`.

Logger levels are set here, explicitly, rather than left to whatever the runtime starts with: the
skill's own operational logs (refusals, storage failures, unusable requests) at INFO, everything
else (ask-sdk, boto3, urllib3) at WARNING. Neither carries what people say: the skill never logs
user text unless an operator turns that on (and then only minimised).

Without SKILL_ID the handler refuses every request (skill.alexa.refusal); template.yaml sets it.
"""

import logging

from skill.alexa.app import handler

# Lambda's runtime gives the root logger a handler that writes to CloudWatch; anywhere else
# (a clean interpreter running the built artifact) give it one, or nothing below WARNING shows.
_root = logging.getLogger()
if not _root.handlers:
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
_root.setLevel(logging.WARNING)
logging.getLogger("skill").setLevel(logging.INFO)

__all__ = ["handler"]
