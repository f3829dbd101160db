"""hotfire: acquisition, durable recording, live view and analysis for rocket-engine test stands."""

__version__ = "0.1.0"
