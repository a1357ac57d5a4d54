"""A generic BPMN runtime on SpiffWorkflow: definitions, instances, projections, timers.

Nothing in this package knows about hotlines or Flask; the domain (``workflows``) and the web
app (``webapp``) build on it.
"""
