"""The knowledge layer: documents in, cited passages out. Knows nothing about Slack."""
