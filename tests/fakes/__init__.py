"""Local HTTP stand-ins for the outside world (Slack Web API, OpenAI-compatible server, Chroma server)."""
