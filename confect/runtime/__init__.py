"""Running functions: transactions, execution with its conflict retries, per-call layers, jobs, the deployment."""
