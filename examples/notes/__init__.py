"""notes: a small complete confect app (schema, queries, mutations with auth, an action
that schedules a job, full-text search). Serve it with `confect dev examples/notes`."""
