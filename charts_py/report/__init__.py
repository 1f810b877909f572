"""Reporting: what a drift run found, said to people and machines (text, JSON, Markdown, JUnit,
HTML, metrics, webhooks, the snapshot branch). It reads a `drift.model.Report`; it never reads a
cluster or git's desired state."""
