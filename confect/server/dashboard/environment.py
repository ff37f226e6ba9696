"""The dashboard's environment variables: every variable of the deployment, and changes to
them made as `confect env` and Convex's admin endpoint make them (all in one commit, or
none when one breaks a rule, refused with the rule's code)."""

from __future__ import annotations

from confect.runtime.deployment import Deployment
from confect.runtime.environment import EnvVarChange
from confect.server.dashboard.messages import (
    Done,
    EnvironmentChanges,
    EnvironmentResponse,
    EnvironmentVariable,
)
from confect.server.environment_api import apply_changes


def variables(deployment: Deployment) -> EnvironmentResponse:
    """The variables, by name."""
    listed = sorted(deployment.environment_variables().items())
    return EnvironmentResponse([EnvironmentVariable(name, value) for name, value in listed])


def change(deployment: Deployment, request: EnvironmentChanges) -> Done:
    """Set (a value) and unset (None) variables, together."""
    changes = [EnvVarChange(c.name, c.value) for c in request.changes]
    apply_changes(deployment, changes)
    return Done(len(changes))
