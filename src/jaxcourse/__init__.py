"""Helpers shared by the JAX course notebooks, exercises and tools."""

__version__ = "0.1.0"
