"""An app as the deployment sees it: its functions, crons, HTTP routes and auth providers, and loading it."""
