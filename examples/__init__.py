"""Runnable examples: the simulated SRE agent (``examples.sre_agent``) and the demo (``examples.demo``)."""
