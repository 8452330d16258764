"""cxsim: agent-based simulation of customer loyalty under company policies."""

__version__ = "0.1.0"
