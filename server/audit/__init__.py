"""The audit trail: an AuditEvent (R4, after IHE Basic Audit Log Patterns) for every interaction.

``events`` builds the AuditEvent resources (who, what, when, from where, outcome);
``trail`` stores them: inside the unit of work for writes, batched in the background for reads.
"""
