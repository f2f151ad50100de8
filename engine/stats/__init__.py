"""Statistics engine: group sequential boundaries and exact binomial stopping rules."""
