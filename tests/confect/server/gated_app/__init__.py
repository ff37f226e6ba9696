"""A test app whose functions tell the test they run, over a Unix socket (the gate), and
whose gated mutation waits there for the test's go-ahead before it writes."""
