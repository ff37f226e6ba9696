"""A small app reading the deployment's environment variables with `effects.Config`, in
every kind of function, for the tests of `confect env` and `confect.runtime.environment`."""
