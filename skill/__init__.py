"""Bedside Back Coach: an Alexa skill that leads in-bed stretches for morning lower-back pain."""
