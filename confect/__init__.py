"""confect: Convex's programming model on the effects runtime."""
