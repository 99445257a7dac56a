"""Turning traces into lessons: step notes with RFC references, the step table, saved
traces, and the committed diagram set."""
