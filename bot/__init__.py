"""careerbot's Slack app, CLI and answer pipeline. Knows Slack and words, not vectors."""

__version__ = "0.1.0"
