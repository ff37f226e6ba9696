"""Settings for the whole suite."""

from hypothesis import settings

# No per-example deadline: the machines are shared, and a slow example is not a failure
# (the suite asserts behaviour, never timing).
settings.register_profile("confect", deadline=None)
settings.load_profile("confect")
