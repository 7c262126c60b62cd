"""memman: persistent, event-sourced memory for LLM agents."""

__version__ = "0.1.0"
