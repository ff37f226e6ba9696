"""An app whose modules import its generated refs, services and documents at module level
(`confect codegen` wrote its `_generated/`, committed beside it), nested modules too."""
