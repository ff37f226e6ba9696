"""The app's own services, provided to every call."""

from effects import Layer

from .digest import Summarizer, SummarizerService

layer = Layer.succeed(Summarizer, SummarizerService())
