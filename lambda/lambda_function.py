"""AWS Lambda entry point: `lambda_function.handler`."""

from skill.app import handler

__all__ = ["handler"]
