"""The machinery behind `effects`' public modules: not API (import from `effects`).

core: `Effect` and the nodes its methods build; primitives: the operations that evaluate
themselves, and their frames; constructors: effects from generator functions, thunks and
awaitables; fiber: the fiber and the interpreter loop; scheduler: who runs a resumed fiber.
"""
