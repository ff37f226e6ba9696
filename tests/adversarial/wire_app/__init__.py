"""An app that hands values back: what the decoder tests send values through."""
