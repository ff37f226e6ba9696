"""The adversarial suite: what an attacker sends and what a bad day does, kept answered.

Generated wire values and malformed requests at every decoder (HTTP bodies, WebSocket
frames, stored JSON), and a bank whose total must survive concurrent clients and a
server killed with SIGKILL (see docs/security.md for what the server promises).
"""
