"""Measured, not counted: latency with a clock, device peaks, and the latency result schema."""
