"""The catalog: teams, services and status-page components that everything else refers to."""
