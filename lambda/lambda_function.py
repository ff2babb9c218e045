"""AWS Lambda entry point: `lambda_function.handler`."""

from skill.alexa.app import handler

__all__ = ["handler"]
