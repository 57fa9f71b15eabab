"""The shared kernel: errors, calendar months, money, HTTP and API plumbing, shared template
filters. It has no models and imports nothing from the apps above it (docs/layout.md)."""
