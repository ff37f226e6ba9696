"""The app the benchmarks serve and call: one table, a lookup by index, an insert, an action
doing both (benchmarks/ts/benchapp is the same app in Confect TS)."""
