"""Benchmarks of the voicebot components."""
